//! The statements of one row: read by id, insert, the compare-and-set
//! updates (user and host) and delete.

use crate::error::Result;
use crate::lease::LeaseKey;
use crate::operation::Operation;
use crate::store::NewOperation;
use crate::transition::{State, Status};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::sync::LazyLock;

pub(crate) const COLUMNS: &str = "id, name, operation_type, state, status, data, dependency_token, \
    postpone_until, host_id, lease_expires_at, lock_token, retry_count, error_code, message, \
    friendly_message, created_on, modified_on, started_on, completed_on, execution_time_span, \
    recurrence_pattern, recurrence_start, correlation_id, is_waiting_for_event, progress, \
    progress_text, output";

pub(crate) fn operation_from_row(row: &Row<'_>) -> rusqlite::Result<Operation> {
    let bad = |col: usize, v: i64| {
        let what = if col == 3 { "state" } else { "status" };
        rusqlite::Error::FromSqlConversionFailure(
            col,
            rusqlite::types::Type::Integer,
            format!("invalid {what} code {v}").into(),
        )
    };
    let state: i64 = row.get(3)?;
    let status: i64 = row.get(4)?;
    Ok(Operation {
        id: row.get(0)?,
        name: row.get(1)?,
        operation_type: row.get(2)?,
        state: State::from_code(state).ok_or_else(|| bad(3, state))?,
        status: Status::from_code(status).ok_or_else(|| bad(4, status))?,
        data: row.get(5)?,
        dependency_token: row.get(6)?,
        postpone_until: row.get(7)?,
        host_id: row.get(8)?,
        lease_expires_at: row.get(9)?,
        lock_token: row.get(10)?,
        retry_count: row.get(11)?,
        error_code: row.get(12)?,
        message: row.get(13)?,
        friendly_message: row.get(14)?,
        created_on: row.get(15)?,
        modified_on: row.get(16)?,
        started_on: row.get(17)?,
        completed_on: row.get(18)?,
        execution_time_span: row.get(19)?,
        recurrence_pattern: row.get(20)?,
        recurrence_start: row.get(21)?,
        correlation_id: row.get(22)?,
        is_waiting_for_event: row.get(23)?,
        progress: row.get(24)?,
        progress_text: row.get(25)?,
        output: row.get(26)?,
    })
}

/// One row by id.
pub fn get(conn: &Connection, id: i64) -> Result<Option<Operation>> {
    // Built once: every host outcome and user action runs it.
    static SQL: LazyLock<String> =
        LazyLock::new(|| format!("SELECT {COLUMNS} FROM operation WHERE id = ?1"));
    let mut stmt = conn.prepare_cached(&SQL)?;
    Ok(stmt.query_row([id], operation_from_row).optional()?)
}

/// Inserts a new operation as `transition::submit` decided it; returns its id.
///
/// Ids are never reused (§5): the new id is above every id in the table and
/// above every id ever deleted (`operation_mark`, raised only by deletes), so
/// a submit writes no sequence page (schema version 4).
pub fn insert(conn: &Connection, row: &NewOperation<'_>) -> Result<i64> {
    let spec = row.spec;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO operation (id, name, operation_type, state, status, data, dependency_token, \
         postpone_until, correlation_id, created_on, modified_on, recurrence_pattern, \
         recurrence_start) \
         VALUES ((SELECT max(coalesce((SELECT max(id) FROM operation), 0), \
                             (SELECT value FROM operation_mark WHERE key = 'deleted_id_max')) + 1), \
                 ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11)",
    )?;
    stmt.execute(params![
        spec.name,
        spec.operation_type,
        row.status.state().code(),
        row.status.code(),
        spec.data,
        spec.token(),
        row.postpone_until,
        spec.correlation_id,
        row.now,
        row.recurrence.map(|(pattern, _)| pattern),
        row.recurrence.map(|(_, start)| start),
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Writes `next` over the row if it still has the (state, status) of `cur`,
/// and, for a host outcome, the lock token of `key`: the compare-and-set of
/// every move. Returns false when the row changed or is gone.
pub fn update(
    conn: &Connection,
    key: Option<LeaseKey>,
    cur: &Operation,
    next: &Operation,
) -> Result<bool> {
    // One statement for both: `id = ?1` finds the row by its key, so the
    // token condition is a filter on one row whichever way it is bound.
    let mut stmt = conn.prepare_cached(
        "UPDATE operation SET state = ?2, status = ?3, postpone_until = ?4, host_id = ?5, \
         lease_expires_at = ?6, retry_count = ?7, error_code = ?8, message = ?9, \
         friendly_message = ?10, modified_on = ?11, completed_on = ?12, \
         execution_time_span = ?13 \
         WHERE id = ?1 AND state = ?14 AND status = ?15 \
           AND (?16 IS NULL OR lock_token = ?16)",
    )?;
    let n = stmt.execute(params![
        cur.id,
        next.state.code(),
        next.status.code(),
        next.postpone_until,
        next.host_id,
        next.lease_expires_at,
        next.retry_count,
        next.error_code,
        next.message,
        next.friendly_message,
        next.modified_on,
        next.completed_on,
        next.execution_time_span,
        cur.state.code(),
        cur.status.code(),
        key.map(|k| k.lock_token),
    ])?;
    Ok(n == 1)
}

/// Writes a new recurrence pattern if the row still has the (state, status) of `cur`.
pub fn update_recurrence(
    conn: &Connection,
    cur: &Operation,
    pattern: &str,
    now: i64,
) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "UPDATE operation SET recurrence_pattern = ?2, modified_on = ?3 \
         WHERE id = ?1 AND state = ?4 AND status = ?5",
    )?;
    let n = stmt.execute(params![
        cur.id,
        pattern,
        now,
        cur.state.code(),
        cur.status.code(),
    ])?;
    Ok(n == 1)
}

/// Deletes the row if it still has the (state, status) of `cur`.
pub fn delete(conn: &Connection, cur: &Operation) -> Result<bool> {
    let mut stmt =
        conn.prepare_cached("DELETE FROM operation WHERE id = ?1 AND state = ?2 AND status = ?3")?;
    let deleted = stmt.execute(params![cur.id, cur.state.code(), cur.status.code()])? == 1;
    if deleted {
        super::cleanup::delete_attempts(conn, cur.id)?;
    }
    Ok(deleted)
}
