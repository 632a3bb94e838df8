//! Stop signals (§6.3): a handler learns at once that a user paused or
//! canceled its operation, or that its lease was lost.

use super::Queue;
use crate::error::{Error, Result};
use crate::lease::LeaseKey;
use crate::operation;
use crate::stop::StopSignal;
use std::sync::Arc;

impl Queue {
    /// The stop signal of the lease `key`, claimed through this handle (or a
    /// clone): it is set, once, when the operation goes to Pausing (2/21,
    /// reason `Pause`: a pause or postpone) or Canceling (2/22, `Cancel`), or
    /// the lease is no longer held under its lock token (`LeaseLost`). The
    /// handle learns it through the change signal that wakes a waiting poll:
    /// within about a millisecond of the user's commit in this process, and
    /// within a few milliseconds from another process (SQLite: the next
    /// `CROSS_PROCESS_TICK`; PostgreSQL: the user action's `NOTIFY`), with no
    /// renewal and no write. The lease is watched from the first call until
    /// this handle reports its outcome (the signal then ends) or the signal's
    /// last clone is dropped; calling again returns the same signal.
    /// Then stop at a safe point and report `acknowledge_pause`,
    /// `acknowledge_cancel` (a renewal tells which is current) or nothing
    /// (lease lost). Errors: `Closed`, `InvalidArgument` (a bad id),
    /// `Internal` (the watch thread could not start).
    pub fn stop_signal(&self, key: LeaseKey) -> Result<StopSignal> {
        self.open_store()?;
        operation::check_id(key.id)?;
        let weak = Arc::downgrade(&self.inner.store);
        self.inner.stops.watch(weak, key)
    }

    /// How many leases this handle's stop watch watches now.
    pub fn watched_leases(&self) -> usize {
        self.inner.stops.watched()
    }

    /// Stops watching the lease `key` (its signal ends): for a host that
    /// gives up its lease handle. Reporting an outcome does this too.
    pub fn unwatch_stop(&self, key: LeaseKey) {
        self.inner.stops.finish(key);
    }

    /// Runs `write`, the outcome of lease `key`, with the lease's watch paused
    /// (the watch must not take this outcome's own row for a lost lease); the
    /// signal then ends, or (the write failed otherwise) is watched again.
    pub(super) fn outcome_of<T>(
        &self,
        key: LeaseKey,
        write: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        let paused = self.inner.stops.pause(key);
        let result = write();
        let ended = matches!(result, Ok(_) | Err(Error::LeaseLost { .. }));
        self.inner.stops.resume(key, paused, ended);
        result
    }
}
