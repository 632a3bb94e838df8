//! The statements of hosts: the claim and lease renewal, pinned to the
//! partial index of eligible Ready rows so that their cost grows neither
//! with the rows of other states nor with the Ready rows they skip.

use crate::error::Result;
use crate::store::{ClaimRequest, Claimed, Renewal};
use crate::transition::{ClaimMove, State, Status};
use rusqlite::{Connection, OptionalExtension, StatementStatus, params};
use std::cell::Cell;

thread_local! {
    /// SQLite VM steps of the last claim on this thread (test hook).
    static CLAIM_VM_STEPS: Cell<i64> = const { Cell::new(0) };
}

/// The SQLite VM steps of the statements of the last claim (or waiting
/// poll's look, `may_have_work`) run on this thread:
/// the walk for the types to claim, and the claim itself.
pub fn last_claim_vm_steps() -> i64 {
    CLAIM_VM_STEPS.with(Cell::get)
}

/// Adds the VM steps `stmt` took since it was last counted.
pub(super) fn count_steps(stmt: &rusqlite::Statement<'_>) {
    let steps = i64::from(stmt.reset_status(StatementStatus::VmStep));
    CLAIM_VM_STEPS.with(|c| c.set(c.get() + steps));
}

/// Starts counting the VM steps of a claim (or waiting poll's look).
pub(super) fn start_counting() {
    CLAIM_VM_STEPS.with(|c| c.set(0));
}

/// Which eligible rows a claim walks (§6.1, §6.7). Eligible rows are the
/// Ready rows with `blocked = 0` (§7: the triggers of schema version 4 keep
/// the flag), so no row waiting behind a dependency token is ever visited.
/// They sit in one index, `operation_ready_type` on (type, id): a claim
/// takes the head of each type it may take and merges them by id, so rows of
/// other types and of held types (left out by type, never row by row) are
/// not visited either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Walk {
    /// Every type that has eligible rows and is not held, found by a
    /// skip-scan of the index (one seek per type) in the statement itself:
    /// one operation (`max` 1) in one statement.
    All,
    /// Only these types (sorted, none held). Empty: nothing to claim.
    Types(Vec<i32>),
}

/// The walk for a claim of up to `max` operations of `types` (`None`: any).
/// A claim of one operation of any type is one statement ([`Walk::All`]);
/// otherwise the held types are read here and left out of the list, and an
/// unfiltered claim first finds the types that have eligible rows.
pub(crate) fn walk(conn: &Connection, types: Option<&[i32]>, max: u32) -> Result<Walk> {
    if types.is_none() && max == 1 {
        return Ok(Walk::All);
    }
    let mut stmt = conn.prepare_cached("SELECT operation_type FROM held_type")?;
    let held = stmt
        .query_map([], |r| r.get::<_, i32>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    count_steps(&stmt);
    let mut list = match types {
        None => ready_types(conn)?,
        Some(list) => list.to_vec(),
    };
    list.sort_unstable();
    list.dedup();
    list.retain(|t| !held.contains(t));
    Ok(Walk::Types(list))
}

/// The skip-scan of `operation_ready_type`: a recursive CTE `ready_type(x)`
/// of the types that have eligible rows, one seek per type (and a last row
/// with NULL).
fn ready_types_cte(state: u8) -> String {
    format!(
        "WITH RECURSIVE ready_type(x) AS ( \
             SELECT (SELECT min(operation_type) FROM operation INDEXED BY operation_ready_type \
                     WHERE state = {state} AND blocked = 0) \
             UNION ALL \
             SELECT (SELECT min(operation_type) FROM operation INDEXED BY operation_ready_type \
                     WHERE state = {state} AND blocked = 0 AND operation_type > ready_type.x) \
             FROM ready_type WHERE ready_type.x IS NOT NULL)"
    )
}

/// The types with eligible rows, by the skip-scan: one seek per type.
fn ready_types(conn: &Connection) -> Result<Vec<i32>> {
    let claimable = crate::transition::claimable().state().code();
    let mut stmt = conn.prepare_cached(&format!(
        "{} SELECT x FROM ready_type WHERE x IS NOT NULL",
        ready_types_cte(claimable)
    ))?;
    let types = stmt
        .query_map([], |r| r.get::<_, i32>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    count_steps(&stmt);
    Ok(types)
}

/// The ids of the `max` oldest eligible operations of `walk` (§6.1, §7),
/// or `None` when the walk is empty ([`Walk::All`] gives one id, whatever
/// `max`). `state` is the claimable state, written into the text like the
/// types and `max`: the partial index serves only a query that names its
/// condition literally, and each distinct text is one cached statement (a
/// host uses one or two).
pub(crate) fn eligible_sql(state: State, walk: &Walk, max: u32) -> Option<String> {
    let state = state.code();
    let head = |t: &str, limit: u32| {
        format!(
            "SELECT c.id FROM operation AS c INDEXED BY operation_ready_type \
             WHERE c.operation_type = {t} AND c.state = {state} AND c.blocked = 0 \
             ORDER BY c.id LIMIT {limit}"
        )
    };
    match walk {
        Walk::All => Some(format!(
            "{} SELECT min(({})) FROM ready_type \
             WHERE ready_type.x IS NOT NULL AND NOT EXISTS ( \
                 SELECT 1 FROM held_type AS h WHERE h.operation_type = ready_type.x)",
            ready_types_cte(state),
            head("ready_type.x", 1)
        )),
        Walk::Types(list) => match list.as_slice() {
            [] => None,
            [t] => Some(head(&t.to_string(), max)),
            many => {
                let heads: Vec<String> = many
                    .iter()
                    .map(|t| format!("SELECT id FROM ({})", head(&t.to_string(), max)))
                    .collect();
                Some(format!(
                    "SELECT id FROM ({}) ORDER BY id LIMIT {max}",
                    heads.join(" UNION ALL ")
                ))
            }
        },
    }
}

/// The claim statement (P3): moves the `max` oldest eligible operations (FIFO by
/// id) of `types` (held types already left out, see `walk`; `None`: any
/// type not held, which takes one operation whatever `max`) from
/// `change.from` to `change.to` for host `?1` with lease expiry `?2` at time
/// `?3`, the next lock token, and `started_on` = `modified_on` = `?3`
/// (exactly `ClaimMove::apply`). `None` when `types` is empty. The codes are
/// written into the text; they are constants of the model, so each (types,
/// max) is one cached statement.
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
pub fn claim_sql(change: &ClaimMove, types: Option<&[i32]>, max: u32) -> Option<String> {
    let walk = match types {
        None => Walk::All,
        Some(list) => Walk::Types(list.to_vec()),
    };
    let pick = if max == 1 || walk == Walk::All {
        "="
    } else {
        "IN"
    };
    let eligible = eligible_sql(change.from.state(), &walk, max)?;
    Some(format!(
        "UPDATE operation SET state = {state}, status = {status}, host_id = ?1, \
             lease_expires_at = ?2, lock_token = lock_token + 1, started_on = ?3, modified_on = ?3, \
             progress = NULL, progress_text = NULL \
         WHERE id {pick} ({eligible}) \
         RETURNING id, lock_token, operation_type, name, data, retry_count, dependency_token, \
             correlation_id, lease_expires_at",
        state = change.to.state().code(),
        status = change.to.code(),
    ))
}

/// Claims up to `request.max` eligible operations with [`claim_sql`], in FIFO order.
pub fn claim(conn: &Connection, request: &ClaimRequest<'_>) -> Result<Vec<Claimed>> {
    start_counting();
    let types = match walk(conn, request.types, request.max)? {
        Walk::All => None,
        Walk::Types(list) => Some(list),
    };
    let Some(sql) = claim_sql(request.change, types.as_deref(), request.max) else {
        return Ok(Vec::new());
    };
    let change = request.change;
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
    count_steps(&stmt);
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
