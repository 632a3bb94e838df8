//! Hooks for the PostgreSQL store's own tests and tools (bulk set-ups with
//! raw SQL): not part of the supported API.

use super::PgStore;
use crate::error::{Error, Result};
use crate::queue::Queue;

/// The queue's PostgreSQL store, or `Internal` if it has another store.
pub fn store(queue: &Queue) -> Result<&PgStore> {
    queue
        .store()
        .as_any()
        .downcast_ref::<PgStore>()
        .ok_or_else(|| Error::Internal("the queue is not on the PostgreSQL store".into()))
}

impl PgStore {
    /// Runs `sql` (one or more statements, in the queue's schema) on a pooled
    /// connection, outside the library's transactions.
    pub(crate) fn execute_batch(&self, sql: &str) -> Result<()> {
        self.check_open()?;
        let mut conn = self.pool.checkout(|| self.is_open()).map_err(|f| f.error)?;
        let result = conn.client.batch_execute(sql);
        self.pool.checkin(conn, self.is_open());
        Ok(result?)
    }
}

/// Runs `sql` on the queue's PostgreSQL store (see `PgStore::execute_batch`).
pub fn execute_batch(queue: &Queue, sql: &str) -> Result<()> {
    store(queue)?.execute_batch(sql)
}

/// The text of the store's claim statement (for an `EXPLAIN` of it): up to
/// `max` operations, of the types in the array `$4` when `types`; `$1` is the
/// host, `$2` the lease's end and `$3` the time of the claim.
pub fn claim_sql(types: bool, max: u32) -> String {
    let from = crate::transition::claimable();
    let to = crate::transition::host::claim(from).map_or(from, |c| c.status);
    super::tx::claim_sql(from.state(), to, types, max, false)
}

/// The text of the store's `counts()` statement (for an `EXPLAIN` of it).
pub fn counts_sql() -> &'static str {
    super::tx::COUNTS
}
