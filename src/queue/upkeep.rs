//! Upkeep and waiting: one maintenance pass on demand (§6.4), and waiting for an
//! operation to finish.

use super::Queue;
use crate::error::Result;
use crate::maintenance::{self, MaintenanceReport};
use crate::operation::Operation;
use crate::store::Store;
use crate::transition::State;
use std::time::{Duration, Instant};

/// How long a poll may spend after its claim on the maintenance backlog.
const POLL_MAINTENANCE_BUDGET: Duration = Duration::from_millis(20);

impl Queue {
    /// One maintenance pass (§6.4): recovery and promotion of everything
    /// due, in batches of at most `MAINTENANCE_BATCH` rows of each kind, each
    /// batch its own short transaction; returns what all batches did.
    pub fn run_maintenance(&self) -> Result<MaintenanceReport> {
        let store = self.open_store()?;
        let mut total = MaintenanceReport::default();
        loop {
            let (report, more_due) = self.maintenance_batch(store)?;
            total.add(&report);
            if !more_due {
                return Ok(total);
            }
        }
    }

    /// One maintenance batch in its own transaction, observed; also whether
    /// more may be due.
    fn maintenance_batch(&self, store: &dyn Store) -> Result<(MaintenanceReport, bool)> {
        let ((report, more_due), now) = store.write(|tx| {
            let now = self.now_in(tx)?;
            Ok((maintenance::run(tx, now, &self.inner.settings.retry)?, now))
        })?;
        self.observe_maintenance(&report, now);
        Ok((report, more_due))
    }

    /// After a poll whose claim left due work (its batch was full), more
    /// batches in transactions of their own for up to `POLL_MAINTENANCE_BUDGET`;
    /// the rest is left to the next claims. Errors are left for the next
    /// poll: the claim stands.
    pub(super) fn maintenance_after_poll(&self) {
        let store = self.store();
        let started = Instant::now();
        while started.elapsed() < POLL_MAINTENANCE_BUDGET {
            match self.maintenance_batch(store) {
                Ok((_, true)) => {}
                _ => return,
            }
        }
    }

    /// Waits until the operation is Completed or `timeout` passes, and returns
    /// its latest snapshot either way (check `state`). The SDK's "retrieve until
    /// state 3", without polling the store in a loop.
    pub fn wait_for(&self, id: i64, timeout: Duration) -> Result<Operation> {
        let store = self.open_store()?;
        let deadline = Instant::now() + timeout;
        loop {
            let mark = store.change_mark()?;
            let op = self.retrieve(id)?;
            if op.state == State::Completed || Instant::now() >= deadline {
                return Ok(op);
            }
            store.wait_change(mark, deadline)?;
        }
    }
}
