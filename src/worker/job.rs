//! What a handler receives ([`Job`]) and what it returns ([`JobOutcome`]).

use crate::lease::{Lease, LeaseKey, Report};
use crate::queue::Queue;
use crate::stop::StopSignal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// How a handler ended its job; the worker reports the matching outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Done (3/30 Succeeded), no output: completed with the thread's next
    /// claim, in one transaction (`Queue::complete_and_poll`).
    Succeeded,
    /// Done with an output (`Queue::complete_with_output`), written at once.
    /// An output the queue refuses (too long) completes the job without it.
    SucceededWithOutput(Vec<u8>),
    /// Try again later (`Queue::retry`): Ready again after the back-off, or
    /// Failed once the retry budget is spent.
    Retry(Report),
    /// Failed for good (`Queue::fail`, 3/31).
    Fail(Report),
    /// Suspended (`Queue::suspend`, 1/10) until a user resumes it.
    Suspend(Report),
    /// The handler stopped at a safe point because [`Job::stop_requested`]:
    /// a requested cancel is acknowledged (3/32), a requested pause or
    /// postpone too (1/10), anything else (lease lost, worker shutdown) is
    /// released for a retry.
    Stopped,
    /// The handler ended the lease itself (through the queue or a lease
    /// handle): the worker reports nothing more.
    Handled,
}

/// A claimed operation handed to a handler: the lease, its stop signal, and
/// whether the worker's stop timed out and asks its handlers to stop.
#[derive(Debug)]
pub struct Job {
    pub(super) lease: Lease,
    pub(super) signal: StopSignal,
    pub(super) queue: Queue,
    pub(super) shutdown: Arc<AtomicBool>,
    /// Claimed with an earlier job of the same poll: it waited its turn.
    pub(super) prefetched: bool,
}

impl Job {
    pub(super) fn new(queue: &Queue, lease: Lease, shutdown: Arc<AtomicBool>) -> Job {
        // Watched from the claim on, so a pause of a prefetched job is seen
        // before it starts. A watch that cannot start leaves a signal that is
        // never set: renewals still tell a pause or cancel to the worker.
        let signal = queue.stop_signal(lease.key()).unwrap_or_default();
        Job {
            lease,
            signal,
            queue: queue.clone(),
            shutdown,
            prefetched: false,
        }
    }

    /// The claimed operation (id, lock token, type, name, payload, attempt, ...).
    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    /// The lease's key, for the queue's host calls.
    pub fn key(&self) -> LeaseKey {
        self.lease.key()
    }

    /// The queue the job was claimed from.
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// The lease's stop signal (`Queue::stop_signal`): set at once when a
    /// user pauses, postpones or cancels the operation, or the lease is lost.
    pub fn stop_signal(&self) -> &StopSignal {
        &self.signal
    }

    /// Whether the worker's `stop` timed out and asks running handlers to stop.
    pub fn shutdown_requested(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Whether the handler should stop at its next safe point (and return
    /// [`JobOutcome::Stopped`]): its stop signal is set or the worker shuts down.
    pub fn stop_requested(&self) -> bool {
        self.signal.is_set() || self.shutdown_requested()
    }
}
