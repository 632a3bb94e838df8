//! The statements of hosts and maintenance: the claim, lease renewal, and the
//! look-ups of expired leases and due postponed rows, each pinned to its
//! partial index so that its cost does not grow with the rows of other states.

use super::statements::{COLUMNS, operation_from_row};
use crate::error::Result;
use crate::operation::Operation;
use crate::transition::Status;
use rusqlite::{Connection, OptionalExtension, params};
use std::sync::LazyLock;

/// A row claimed by `claim`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: i64,
    pub lock_token: i64,
    pub operation_type: i32,
    pub name: String,
    pub data: Vec<u8>,
    pub retry_count: i32,
    pub dependency_token: Option<String>,
    pub correlation_id: Option<String>,
}

/// The eligible operations (§6.1, §7): Ready rows that no earlier unfinished
/// operation with the same dependency token blocks, optionally only of `types`.
/// `INDEXED BY` pins the walk over the partial index of Ready rows in id order,
/// so the cost does not grow with Completed rows; with a type filter the
/// planner would otherwise sort every Ready row of those types.
fn eligible_sql(types: Option<&[i32]>) -> String {
    // Type lists are i32s, safe to inline; each distinct list is one cached statement.
    let type_filter = match types {
        Some(list) => {
            let items: Vec<String> = list.iter().map(i32::to_string).collect();
            format!("AND c.operation_type IN ({})", items.join(","))
        }
        None => String::new(),
    };
    format!(
        "SELECT c.id FROM operation AS c INDEXED BY operation_ready \
         WHERE c.state = 0 {type_filter} \
           AND (c.dependency_token IS NULL OR NOT EXISTS ( \
               SELECT 1 FROM operation AS p \
               WHERE p.dependency_token = c.dependency_token AND p.state < 3 AND p.id < c.id))"
    )
}

/// The claim statement (P3): moves the `max` oldest eligible operations (FIFO by
/// id) to 2/20 for host `?1` with lease expiry `?2` at time `?3`.
///
/// `max` is written into the text, not bound: SQLite re-prepares a statement on
/// every run when a bound parameter is a LIMIT (it may plan by its value), which
/// cost more than the claim itself. Hosts use one or two batch sizes, so the
/// statement cache holds them all.
///
/// One operation is picked with `id = (scalar subquery)`: `id IN (subquery)`
/// materialises the subquery in an ephemeral table, whose page cache SQLite
/// allocates and frees on every run (a 20-page block that, at the top of the
/// heap, made glibc trim and re-grow it each claim: W2 at half speed).
pub fn claim_sql(types: Option<&[i32]>, max: u32) -> String {
    let pick = if max == 1 { "=" } else { "IN" };
    format!(
        "UPDATE operation SET state = 2, status = 20, host_id = ?1, lease_expires_at = ?2, \
             lock_token = lock_token + 1, started_on = ?3, modified_on = ?3 \
         WHERE id {pick} ({} ORDER BY c.id LIMIT {max}) \
         RETURNING id, lock_token, operation_type, name, data, retry_count, dependency_token, \
             correlation_id",
        eligible_sql(types)
    )
}

/// Claims up to `max` eligible operations with [`claim_sql`], in FIFO order.
pub fn claim(
    conn: &Connection,
    host_id: &str,
    lease_expires_at: i64,
    now: i64,
    max: u32,
    types: Option<&[i32]>,
) -> Result<Vec<Claimed>> {
    let sql = claim_sql(types, max);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![host_id, lease_expires_at, now], |r| {
        Ok(Claimed {
            id: r.get(0)?,
            lock_token: r.get(1)?,
            operation_type: r.get(2)?,
            name: r.get(3)?,
            data: r.get(4)?,
            retry_count: r.get(5)?,
            dependency_token: r.get(6)?,
            correlation_id: r.get(7)?,
        })
    })?;
    let mut claimed = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    // RETURNING gives no order guarantee; hosts get FIFO order.
    claimed.sort_by_key(|c| c.id);
    Ok(claimed)
}

/// Pushes a live lease to `new_expiry`; returns the status the host must act on,
/// or `None` if the lease is not live (wrong token, expired, not Locked, gone).
pub fn renew(
    conn: &Connection,
    id: i64,
    lock_token: i64,
    now: i64,
    new_expiry: i64,
) -> Result<Option<Status>> {
    let mut stmt = conn.prepare_cached(
        "UPDATE operation SET lease_expires_at = ?4 \
         WHERE id = ?1 AND state = 2 AND lock_token = ?2 AND lease_expires_at > ?3 \
         RETURNING status",
    )?;
    let status: Option<i64> = stmt
        .query_row(params![id, lock_token, now, new_expiry], |r| r.get(0))
        .optional()?;
    Ok(status.and_then(Status::from_code))
}

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
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT EXISTS ({} LIMIT 1) \
             OR EXISTS (SELECT 1 FROM operation INDEXED BY operation_lease \
                        WHERE state = 2 AND lease_expires_at <= ?1) \
             OR EXISTS (SELECT 1 FROM operation INDEXED BY operation_postponed \
                        WHERE state = 1 AND postpone_until IS NOT NULL AND postpone_until <= ?1)",
        eligible_sql(types)
    ))?;
    Ok(stmt.query_row([now], |r| r.get(0))?)
}
