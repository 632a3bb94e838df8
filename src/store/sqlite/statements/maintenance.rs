//! The statements of maintenance and waiting polls: the look-ups of expired
//! leases and due postponed rows, the next due time, and whether a claim could
//! find work, each pinned to its partial index so that its cost does not grow
//! with the rows of other states.

use super::claims::eligible_sql;
use super::rows::{COLUMNS, operation_from_row};
use crate::error::Result;
use crate::operation::Operation;
use crate::transition;
use rusqlite::Connection;
use std::sync::LazyLock;

/// Locked rows whose lease expired at or before `?1` (§6.4). Like the other
/// statements of maintenance, pinned to its partial index: without statistics
/// the planner prefers the `(state, status, type)` index, which walks every
/// row of the state (every lease in flight) on every claim.
pub fn expired_leases_sql() -> &'static str {
    // Built once: every claim runs it, and the text is the statement cache's key.
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {COLUMNS} FROM operation INDEXED BY operation_lease \
             WHERE state = 2 AND lease_expires_at <= ?1 ORDER BY id"
        )
    });
    &SQL
}

/// Locked rows whose lease expired at or before `now` (§6.4).
pub fn expired_leases(conn: &Connection, now: i64) -> Result<Vec<Operation>> {
    let mut stmt = conn.prepare_cached(expired_leases_sql())?;
    let rows = stmt.query_map([now], operation_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Suspended rows whose `postpone_until` is due at `?1` (§6.4), by their index.
pub fn due_postponed_sql() -> &'static str {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {COLUMNS} FROM operation INDEXED BY operation_postponed \
             WHERE state = 1 AND postpone_until IS NOT NULL AND postpone_until <= ?1 ORDER BY id"
        )
    });
    &SQL
}

/// Suspended rows whose `postpone_until` is due (§6.4).
pub fn due_postponed(conn: &Connection, now: i64) -> Result<Vec<Operation>> {
    let mut stmt = conn.prepare_cached(due_postponed_sql())?;
    let rows = stmt.query_map([now], operation_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The earliest time at which a lease expires or a postponed row becomes due:
/// when a waiting poll should look again even if nothing is committed.
pub fn next_due(conn: &Connection) -> Result<Option<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT min(t) FROM ( \
             SELECT min(postpone_until) AS t FROM operation INDEXED BY operation_postponed \
                 WHERE state = 1 AND postpone_until IS NOT NULL \
             UNION ALL SELECT min(lease_expires_at) FROM operation INDEXED BY operation_lease \
                 WHERE state = 2)",
    )?;
    Ok(stmt.query_row([], |r| r.get(0))?)
}

/// Whether a claim for `types` could find work now: an eligible operation, an
/// expired lease or a due postponed row. Lets a waiting poll skip the write
/// lock while nothing it could take is there (e.g. Ready rows blocked by their
/// dependency token, or of types it does not handle).
pub fn may_have_work(conn: &Connection, now: i64, types: Option<&[i32]>) -> Result<bool> {
    let claimable = transition::claimable().state();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT EXISTS ({} LIMIT 1) \
             OR EXISTS (SELECT 1 FROM operation INDEXED BY operation_lease \
                        WHERE state = 2 AND lease_expires_at <= ?1) \
             OR EXISTS (SELECT 1 FROM operation INDEXED BY operation_postponed \
                        WHERE state = 1 AND postpone_until IS NOT NULL AND postpone_until <= ?1)",
        eligible_sql(claimable, types)
    ))?;
    Ok(stmt.query_row([now], |r| r.get(0))?)
}
