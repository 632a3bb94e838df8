//! The state a running worker's threads share: its fixed settings, the
//! claimed jobs waiting their turn, the leases to renew, the counters and
//! the stop flags.

use super::job::Job;
use super::registry::Registry;
use super::stats::{Count, Counters};
use crate::lease::LeaseKey;
use crate::queue::Queue;
use parking_lot::{Condvar, Mutex};
use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

thread_local! {
    /// The id of the worker whose thread this is (0: none).
    static CURRENT_WORKER: Cell<u64> = const { Cell::new(0) };
}

/// Marks the calling thread as one of worker `id`'s threads.
pub(super) fn enter_worker_thread(id: u64) {
    CURRENT_WORKER.with(|c| c.set(id));
}

/// Whether the calling thread is one of worker `id`'s threads.
pub(super) fn on_worker_thread(id: u64) -> bool {
    CURRENT_WORKER.with(|c| c.get() == id)
}

/// The claimed jobs not started yet and the handler threads' bookkeeping.
#[derive(Default)]
pub(super) struct Turns {
    /// Claimed, not started; any idle thread takes the next.
    pub(super) queued: VecDeque<Job>,
    /// One thread waits in a claim; the others wait on `turns_changed`.
    pub(super) claim_waiting: bool,
    /// Handler threads still running.
    pub(super) alive: u32,
}

/// A lease the renewal thread renews.
pub(super) struct Renewal {
    pub(super) key: LeaseKey,
    pub(super) next: Instant,
}

pub(super) struct Shared {
    pub(super) id: u64,
    pub(super) queue: Queue,
    pub(super) host_id: String,
    pub(super) poll_wait: Duration,
    pub(super) renew_every: Duration,
    pub(super) prefetch: u32,
    /// The types to claim (`None`: all, with `claim_unhandled`).
    pub(super) types: Option<Vec<i32>>,
    pub(super) handlers: Registry,
    /// No new claims: set by `stop`.
    pub(super) stopping: AtomicBool,
    /// `stop` timed out: running handlers are asked to stop.
    pub(super) shutdown: Arc<AtomicBool>,
    pub(super) turns: Mutex<Turns>,
    pub(super) turns_changed: Condvar,
    /// Leases of claimed jobs, by operation id, until their outcome.
    pub(super) active: Mutex<HashMap<i64, Renewal>>,
    pub(super) renewer_wake: Condvar,
    pub(super) counters: Counters,
}

impl Shared {
    pub(super) fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    pub(super) fn count(&self, what: Count) {
        self.counters.bump(what);
    }

    /// Renews `job`'s lease from now on, until `forget`.
    pub(super) fn track(&self, job: &Job) {
        let renewal = Renewal {
            key: job.key(),
            next: Instant::now() + self.renew_every,
        };
        self.active.lock().insert(job.lease.id, renewal);
    }

    /// The job's lease is ended (or given up): no more renewals or watching.
    pub(super) fn forget(&self, job: &Job) {
        self.active.lock().remove(&job.lease.id);
        self.queue.unwatch_stop(job.key());
    }

    /// Asks every thread to stop claiming and wakes the idle ones.
    pub(super) fn request_stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _turns = self.turns.lock();
        self.turns_changed.notify_all();
    }

    /// Waits until no handler thread runs or `deadline` passes; true if none runs.
    pub(super) fn wait_threads(&self, deadline: Option<Instant>) -> bool {
        let mut turns = self.turns.lock();
        while turns.alive > 0 {
            match deadline {
                Some(d) => {
                    if self.turns_changed.wait_until(&mut turns, d).timed_out() {
                        return turns.alive == 0;
                    }
                }
                None => self.turns_changed.wait(&mut turns),
            }
        }
        true
    }

    /// Wakes the renewal thread (to end once the handler threads ended).
    pub(super) fn wake_renewer(&self) {
        let _active = self.active.lock();
        self.renewer_wake.notify_all();
    }
}
