//! Stopping a running handler at once (§6.3): a host learns that a user
//! paused or canceled one of its Locked operations (2/21, 2/22), or that its
//! lease was lost, through the same change signal that wakes a waiting poll,
//! not at its next renewal.
//!
//! - [`StopSignal`] (this module): what a handler blocks on or polls;
//! - `watch`: the per-handle `StopWatch`: the watched leases and the one
//!   background thread that reads their rows after each change.
//!
//! Get a signal with `Queue::stop_signal(lease.key())`.

mod watch;

pub use crate::transition::stop::StopReason;
pub(crate) use watch::StopWatch;

use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct SignalState {
    /// Set once, by the watch.
    reason: Option<StopReason>,
    /// The watch no longer watches the lease: this host reported its outcome,
    /// or the queue was closed. Wakes waiters; the reason stays as it was.
    ended: bool,
}

#[derive(Debug, Default)]
struct SignalShared {
    state: Mutex<SignalState>,
    changed: Condvar,
}

/// The stop signal of one lease: set (once) when the handler should stop at
/// its next safe point, with the reason. Clone it freely; every clone is the
/// same signal. `Send + Sync`.
#[derive(Debug, Clone, Default)]
pub struct StopSignal {
    shared: Arc<SignalShared>,
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<StopSignal>();
};

impl StopSignal {
    /// Why the handler should stop, once it should; `None` until then.
    pub fn reason(&self) -> Option<StopReason> {
        self.shared.state.lock().reason
    }

    /// Whether the handler should stop.
    pub fn is_set(&self) -> bool {
        self.reason().is_some()
    }

    /// Whether the lease is no longer watched (its outcome was reported
    /// through this handle, or the queue was closed): the signal will not be
    /// set any more.
    pub fn is_ended(&self) -> bool {
        self.shared.state.lock().ended
    }

    /// Blocks until the signal is set, the lease is no longer watched, or
    /// `timeout` passes; returns the reason if it is set.
    pub fn wait(&self, timeout: Duration) -> Option<StopReason> {
        let deadline = Instant::now().checked_add(timeout);
        let mut state = self.shared.state.lock();
        while state.reason.is_none() && !state.ended {
            match deadline {
                Some(d) => {
                    if self.shared.changed.wait_until(&mut state, d).timed_out() {
                        break;
                    }
                }
                None => self.shared.changed.wait(&mut state),
            }
        }
        state.reason
    }

    /// A signal that is ended already: for a lease whose outcome was reported.
    pub(crate) fn ended() -> StopSignal {
        let signal = StopSignal::default();
        signal.end();
        signal
    }

    /// Sets the signal; false if it was set already (it fires once) or ended.
    pub(crate) fn fire(&self, reason: StopReason) -> bool {
        let mut state = self.shared.state.lock();
        if state.reason.is_some() || state.ended {
            return false;
        }
        state.reason = Some(reason);
        self.shared.changed.notify_all();
        true
    }

    /// Marks the lease as no longer watched and wakes waiters.
    pub(crate) fn end(&self) {
        let mut state = self.shared.state.lock();
        state.ended = true;
        self.shared.changed.notify_all();
    }

    fn downgrade(&self) -> std::sync::Weak<SignalShared> {
        Arc::downgrade(&self.shared)
    }

    fn upgrade(weak: &std::sync::Weak<SignalShared>) -> Option<StopSignal> {
        weak.upgrade().map(|shared| StopSignal { shared })
    }
}
