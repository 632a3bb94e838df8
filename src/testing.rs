//! Hooks for the conformance suite: run commands of the storage interface
//! directly, to set up races a user cannot make happen on purpose (a stale
//! compare-and-set, recovery and a claim in one transaction). Not part of the
//! supported API; store-specific hooks live with each store
//! (`store::sqlite::testing`).

use crate::error::Result;
use crate::queue::Queue;
use crate::store::{ChangeMark, Read, Write};
use std::time::Instant;

/// Runs `f` in one write transaction of the queue's store.
pub fn write<T: Send>(queue: &Queue, f: impl FnMut(&dyn Write) -> Result<T> + Send) -> Result<T> {
    queue.store().write(f)
}

/// Runs `f` on one snapshot of the queue's store.
pub fn read<T>(queue: &Queue, f: impl FnMut(&dyn Read) -> Result<T>) -> Result<T> {
    queue.store().read(f)
}

/// Runs `sql` (one or more statements of the store's dialect) on the queue's
/// store outside the library's transactions: bulk set-ups for tests and
/// benchmarks (e.g. a million Completed rows from a recursive CTE).
pub fn execute_batch(queue: &Queue, sql: &str) -> Result<()> {
    let store = queue.store().as_any();
    if store.is::<crate::store::sqlite::SqliteStore>() {
        crate::store::sqlite::testing::write(queue, |conn| Ok(conn.execute_batch(sql)?))
    } else {
        crate::store::postgres::testing::execute_batch(queue, sql)
    }
}

/// Where the queue's store stands now (its change signal).
pub fn change_mark(queue: &Queue) -> Result<ChangeMark> {
    queue.store().change_mark()
}

/// Waits for a commit after `mark` until `deadline`; whether one was seen.
pub fn wait_change(queue: &Queue, mark: ChangeMark, deadline: Instant) -> Result<bool> {
    queue.store().wait_change(mark, deadline)
}
