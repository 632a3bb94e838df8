//! Upkeep and waiting: one maintenance pass on demand (§6.4), and waiting for an
//! operation to finish.

use super::Queue;
use crate::error::Result;
use crate::maintenance::{self, MaintenanceReport};
use crate::operation::Operation;
use crate::transition::State;
use std::time::{Duration, Instant};

impl Queue {
    /// One maintenance pass (§6.4) in its own transaction.
    pub fn run_maintenance(&self) -> Result<MaintenanceReport> {
        let (report, now) = self.open_store()?.write(|tx| {
            let now = self.now_in(tx)?;
            Ok((maintenance::run(tx, now, &self.inner.settings.retry)?, now))
        })?;
        self.observe_maintenance(&report, now);
        Ok(report)
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
