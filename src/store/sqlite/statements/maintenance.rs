//! The statements of maintenance and waiting polls: the look-ups of expired
//! leases and due postponed rows, the next due time, and whether a claim could
//! find work, each pinned to its partial index so that its cost does not grow
//! with the rows of other states.

use super::claims::{count_steps, eligible_sql, start_counting, walk};
use super::rows::{COLUMNS, operation_from_row};
use crate::error::Result;
use crate::maintenance::MAINTENANCE_BATCH;
use crate::operation::Operation;
use crate::transition;
use rusqlite::Connection;
use std::borrow::Cow;
use std::sync::LazyLock;

/// Locked rows whose lease expired at or before `?1` (§6.4), at most
/// `limit`, earliest expiry first. Like the other statements of maintenance,
/// pinned to its partial index: without statistics the planner prefers the
/// `(state, status, type)` index, which walks every row of the state (every
/// lease in flight) on every claim. The index is ordered by (expiry, id), so
/// the first `limit` rows are read and no more. The limit is written into the
/// text (see `claims::claim_sql`); maintenance uses one batch size.
pub fn expired_leases_sql(limit: u32) -> String {
    format!(
        "SELECT {COLUMNS} FROM operation INDEXED BY operation_lease \
         WHERE state = 2 AND lease_expires_at <= ?1 ORDER BY lease_expires_at, id LIMIT {limit}"
    )
}

/// The text of `sql(limit)`, built once for maintenance's own batch size
/// (every claim runs both look-ups; the text is the statement cache's key).
fn batch_sql(
    cache: &'static LazyLock<String>,
    sql: fn(u32) -> String,
    limit: u32,
) -> Cow<'static, str> {
    if limit == MAINTENANCE_BATCH {
        Cow::Borrowed(cache.as_str())
    } else {
        Cow::Owned(sql(limit))
    }
}

static EXPIRED_BATCH: LazyLock<String> = LazyLock::new(|| expired_leases_sql(MAINTENANCE_BATCH));
static DUE_BATCH: LazyLock<String> = LazyLock::new(|| due_postponed_sql(MAINTENANCE_BATCH));

/// Locked rows whose lease expired at or before `now` (§6.4), at most `limit`.
pub fn expired_leases(conn: &Connection, now: i64, limit: u32) -> Result<Vec<Operation>> {
    let mut stmt = conn.prepare_cached(&batch_sql(&EXPIRED_BATCH, expired_leases_sql, limit))?;
    let rows = stmt.query_map([now], operation_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Suspended rows whose `postpone_until` is due at `?1` (§6.4), at most
/// `limit`, in due-time order (then id), by their index.
pub fn due_postponed_sql(limit: u32) -> String {
    format!(
        "SELECT {COLUMNS} FROM operation INDEXED BY operation_postponed \
         WHERE state = 1 AND postpone_until IS NOT NULL AND postpone_until <= ?1 \
         ORDER BY postpone_until, id LIMIT {limit}"
    )
}

/// Suspended rows whose `postpone_until` is due (§6.4), at most `limit`.
pub fn due_postponed(conn: &Connection, now: i64, limit: u32) -> Result<Vec<Operation>> {
    let mut stmt = conn.prepare_cached(&batch_sql(&DUE_BATCH, due_postponed_sql, limit))?;
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
    start_counting();
    let ready = match eligible_sql(claimable, &walk(conn, types, 1)?, 1) {
        // A scalar subquery: its first id, NULL when none (the walk of every
        // type is an aggregate, which always gives a row).
        Some(sql) => format!("({sql}) IS NOT NULL"),
        None => "0".to_owned(),
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ready} \
             OR EXISTS (SELECT 1 FROM operation INDEXED BY operation_lease \
                        WHERE state = 2 AND lease_expires_at <= ?1) \
             OR EXISTS (SELECT 1 FROM operation INDEXED BY operation_postponed \
                        WHERE state = 1 AND postpone_until IS NOT NULL AND postpone_until <= ?1)"
    ))?;
    let found = stmt.query_row([now], |r| r.get(0))?;
    count_steps(&stmt);
    Ok(found)
}
