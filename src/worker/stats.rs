//! The worker's counters of reported outcomes.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counts of what a worker reported so far (`Worker::stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Jobs completed (3/30), with or without output.
    pub completed: u64,
    /// Jobs failed for good by their handler (3/31).
    pub failed: u64,
    /// Jobs given back for a retry by their handler (or a panic, or a stop
    /// that was neither a pause nor a cancel).
    pub retried: u64,
    /// Jobs suspended by their handler (1/10).
    pub suspended: u64,
    /// Pauses (and postpones) acknowledged.
    pub paused: u64,
    /// Cancels acknowledged.
    pub canceled: u64,
    /// Jobs of a type without a handler, failed with 0x80044303
    /// (only with `claim_unhandled`).
    pub unrecognized: u64,
    /// Prefetched jobs given back without running (a stop that timed out).
    pub released: u64,
    /// Jobs whose handler ended the lease itself.
    pub handled: u64,
    /// Outcomes refused because the lease was lost (expired, claimed again).
    pub lease_lost: u64,
    /// Other failures: a poll, renewal or outcome the queue refused.
    pub errors: u64,
}

impl WorkerStats {
    /// Jobs whose run ended with an outcome (everything but `errors`).
    pub fn processed(&self) -> u64 {
        self.completed
            + self.failed
            + self.retried
            + self.suspended
            + self.paused
            + self.canceled
            + self.unrecognized
            + self.released
            + self.handled
            + self.lease_lost
    }
}

/// Which counter to bump.
#[derive(Debug, Clone, Copy)]
pub(super) enum Count {
    Completed,
    Failed,
    Retried,
    Suspended,
    Paused,
    Canceled,
    Unrecognized,
    Released,
    Handled,
    LeaseLost,
    Errors,
}

/// The live counters, shared by the worker's threads.
#[derive(Debug, Default)]
pub(super) struct Counters([AtomicU64; 11]);

impl Counters {
    pub(super) fn bump(&self, what: Count) {
        self.0[what as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn snapshot(&self) -> WorkerStats {
        let get = |c: Count| self.0[c as usize].load(Ordering::Relaxed);
        WorkerStats {
            completed: get(Count::Completed),
            failed: get(Count::Failed),
            retried: get(Count::Retried),
            suspended: get(Count::Suspended),
            paused: get(Count::Paused),
            canceled: get(Count::Canceled),
            unrecognized: get(Count::Unrecognized),
            released: get(Count::Released),
            handled: get(Count::Handled),
            lease_lost: get(Count::LeaseLost),
            errors: get(Count::Errors),
        }
    }
}
