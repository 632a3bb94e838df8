//! The statements of hosts: the claim and lease renewal, pinned to the
//! partial index of Ready rows so that their cost does not grow with the rows
//! of other states.

use crate::error::Result;
use crate::store::{ClaimRequest, Claimed, Renewal};
use crate::transition::{ClaimMove, State, Status};
use rusqlite::{Connection, OptionalExtension, params};

/// The eligible operations (§6.1, §7): Ready rows that no earlier unfinished
/// operation with the same dependency token blocks and whose type is not
/// held (§6.7: one primary-key look-up in the small `held_type` table per row
/// the walk visits, no second walk), optionally only of `types`.
/// `INDEXED BY` pins the walk over the partial index of Ready rows in id order,
/// so the cost does not grow with Completed rows; with a type filter the
/// planner would otherwise sort every Ready row of those types.
/// `state` is the claimable state, written into the text: the partial index
/// `operation_ready` serves only a query that names its state literally.
pub(crate) fn eligible_sql(state: State, types: Option<&[i32]>) -> String {
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
         WHERE c.state = {state} {type_filter} \
           AND NOT EXISTS (SELECT 1 FROM held_type AS h WHERE h.operation_type = c.operation_type) \
           AND (c.dependency_token IS NULL OR NOT EXISTS ( \
               SELECT 1 FROM operation AS p \
               WHERE p.dependency_token = c.dependency_token AND p.state < {done} \
               AND p.id < c.id))",
        state = state.code(),
        done = State::Completed.code(),
    )
}

/// The claim statement (P3): moves the `max` oldest eligible operations (FIFO by
/// id) from `change.from` to `change.to` for host `?1` with lease expiry `?2`
/// at time `?3`, the next lock token, and `started_on` = `modified_on` = `?3`
/// (exactly `ClaimMove::apply`). The codes are written into the text; they
/// are constants of the model, so each (types, max) is one cached statement.
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
pub fn claim_sql(change: &ClaimMove, types: Option<&[i32]>, max: u32) -> String {
    let pick = if max == 1 { "=" } else { "IN" };
    format!(
        "UPDATE operation SET state = {state}, status = {status}, host_id = ?1, \
             lease_expires_at = ?2, lock_token = lock_token + 1, started_on = ?3, modified_on = ?3, \
             progress = NULL, progress_text = NULL \
         WHERE id {pick} ({eligible} ORDER BY c.id LIMIT {max}) \
         RETURNING id, lock_token, operation_type, name, data, retry_count, dependency_token, \
             correlation_id, lease_expires_at",
        state = change.to.state().code(),
        status = change.to.code(),
        eligible = eligible_sql(change.from.state(), types)
    )
}

/// Claims up to `request.max` eligible operations with [`claim_sql`], in FIFO order.
pub fn claim(conn: &Connection, request: &ClaimRequest<'_>) -> Result<Vec<Claimed>> {
    let change = request.change;
    let sql = claim_sql(change, request.types, request.max);
    let mut stmt = conn.prepare_cached(&sql)?;
    let args = params![change.host_id, change.lease_expires_at, change.now];
    let rows = stmt.query_map(args, |r| {
        Ok(Claimed {
            id: r.get(0)?,
            lock_token: r.get(1)?,
            operation_type: r.get(2)?,
            name: r.get(3)?,
            data: r.get(4)?,
            retry_count: r.get(5)?,
            dependency_token: r.get(6)?,
            correlation_id: r.get(7)?,
            lease_expires_at: r.get(8)?,
        })
    })?;
    let mut claimed = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    // RETURNING gives no order guarantee; hosts get FIFO order.
    claimed.sort_by_key(|c| c.id);
    Ok(claimed)
}

/// Pushes a held lease to `renewal.lease_expires_at`; returns the status the
/// host must act on, or `None` if the lease is not held. The condition is the
/// fencing rule of `lease::held` (Locked, same token, lease not expired).
pub fn renew(conn: &Connection, renewal: &Renewal) -> Result<Option<Status>> {
    let mut stmt = conn.prepare_cached(
        "UPDATE operation SET lease_expires_at = ?4 \
         WHERE id = ?1 AND state = 2 AND lock_token = ?2 AND lease_expires_at > ?3 \
         RETURNING status",
    )?;
    let key = renewal.key;
    let args = params![
        key.id,
        key.lock_token,
        renewal.now,
        renewal.lease_expires_at
    ];
    let status: Option<i64> = stmt.query_row(args, |r| r.get(0)).optional()?;
    Ok(status.and_then(Status::from_code))
}
