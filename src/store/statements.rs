//! The statements of rows and settings: insert, read, query, count, the
//! compare-and-set update and delete, the integrity check. Each takes the
//! connection of a `Store::write` or `Store::read` closure (claims: `claims`).

use crate::error::{Error, Result};
use crate::operation::{CountRow, Filter, Operation, OperationSpec};
use crate::transition::{Change, PostponeUntil, RetryCount, State, Status};
use rusqlite::{Connection, OptionalExtension, Row, params};

pub(super) const COLUMNS: &str = "id, name, operation_type, state, status, data, dependency_token, \
    postpone_until, host_id, lease_expires_at, lock_token, retry_count, error_code, message, \
    friendly_message, created_on, modified_on, started_on, completed_on, execution_time_span, \
    recurrence_pattern, recurrence_start, correlation_id, is_waiting_for_event";

pub(super) fn operation_from_row(row: &Row<'_>) -> rusqlite::Result<Operation> {
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
    })
}

/// One row by id.
pub fn get(conn: &Connection, id: i64) -> Result<Option<Operation>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM operation WHERE id = ?1"))?;
    Ok(stmt.query_row([id], operation_from_row).optional()?)
}

/// Inserts a new operation (P1/P2); returns its id.
pub fn insert(conn: &Connection, spec: &OperationSpec, now: i64) -> Result<i64> {
    let (status, pu) = match spec.postpone_until {
        Some(t) if t > now => (Status::Waiting, Some(t)),
        _ => (Status::WaitingForResources, None),
    };
    let mut stmt = conn.prepare_cached(
        "INSERT INTO operation (name, operation_type, state, status, data, dependency_token, \
         postpone_until, correlation_id, created_on, modified_on) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
    )?;
    stmt.execute(params![
        spec.name,
        spec.operation_type,
        status.state().code(),
        status.code(),
        spec.data,
        spec.token(),
        pu,
        spec.correlation_id,
        now
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Fields a host outcome or the library writes with a move (§5: a report
/// replaces all three; absent values become null).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorFields {
    pub error_code: Option<i32>,
    pub message: Option<String>,
    pub friendly_message: Option<String>,
}

/// The row after `change`, with the effects the states imply (§3): leaving
/// Locked clears the host and lease and measures the attempt; entering
/// Completed stamps `completed_on`.
pub fn next_row(
    cur: &Operation,
    change: &Change,
    now: i64,
    errors: Option<&ErrorFields>,
) -> Operation {
    let mut next = cur.clone();
    next.status = change.status;
    next.state = change.status.state();
    match change.postpone_until {
        PostponeUntil::Keep => {}
        PostponeUntil::Clear => next.postpone_until = None,
        PostponeUntil::Set(t) => next.postpone_until = Some(t),
    }
    match change.retry_count {
        RetryCount::Keep => {}
        RetryCount::Increment => next.retry_count = cur.retry_count.saturating_add(1),
        RetryCount::Reset => next.retry_count = 0,
    }
    if cur.state == State::Locked && next.state != State::Locked {
        next.host_id = None;
        next.lease_expires_at = None;
        next.execution_time_span = cur.started_on.map(|s| now.saturating_sub(s).max(0));
    }
    if next.state == State::Completed && cur.state != State::Completed {
        next.completed_on = Some(now);
    }
    if let Some(e) = errors {
        next.error_code = e.error_code;
        next.message = e.message.clone();
        next.friendly_message = e.friendly_message.clone();
    }
    next.modified_on = now;
    next
}

/// Writes `next` over the row if it still has the (state, status) of `cur`:
/// the compare-and-set of every move. Returns false when the row changed or is gone.
pub fn update(conn: &Connection, cur: &Operation, next: &Operation) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "UPDATE operation SET state = ?2, status = ?3, postpone_until = ?4, host_id = ?5, \
         lease_expires_at = ?6, retry_count = ?7, error_code = ?8, message = ?9, \
         friendly_message = ?10, modified_on = ?11, completed_on = ?12, execution_time_span = ?13 \
         WHERE id = ?1 AND state = ?14 AND status = ?15",
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
    ])?;
    Ok(n == 1)
}

/// Deletes the row if it still has the (state, status) of `cur`.
pub fn delete(conn: &Connection, cur: &Operation) -> Result<bool> {
    let mut stmt =
        conn.prepare_cached("DELETE FROM operation WHERE id = ?1 AND state = ?2 AND status = ?3")?;
    Ok(stmt.execute(params![cur.id, cur.state.code(), cur.status.code()])? == 1)
}

/// Rows matching `filter` in ascending id (§11).
pub fn query(conn: &Connection, filter: &Filter) -> Result<Vec<Operation>> {
    let mut sql = format!("SELECT {COLUMNS} FROM operation WHERE 1 = 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let mut push = |clause: &str, v: rusqlite::types::Value| {
        args.push(v);
        sql.push_str(&format!(" AND {clause} ?{}", args.len()));
    };
    use rusqlite::types::Value;
    if let Some(s) = filter.state {
        push("state =", Value::Integer(s.code().into()));
    }
    if let Some(s) = filter.status {
        push("status =", Value::Integer(s.code().into()));
    }
    if let Some(t) = filter.operation_type {
        push("operation_type =", Value::Integer(t.into()));
    }
    if let Some(n) = &filter.name {
        push("name =", Value::Text(n.clone()));
    }
    if let Some(t) = &filter.dependency_token {
        push("dependency_token =", Value::Text(t.clone()));
    }
    if let Some(t) = filter.completed_before {
        push("completed_on <", Value::Integer(t));
    }
    if let Some(a) = filter.after_id {
        push("id >", Value::Integer(a));
    }
    sql.push_str(" ORDER BY id");
    // LIMIT -1 is SQLite's "no limit".
    let limit = filter.limit.map_or(-1, i64::from);
    let offset = filter.offset.map_or(0, i64::from);
    sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), operation_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Non-empty (state, status, operation_type) groups with their sizes, sorted by those keys.
pub fn counts(conn: &Connection) -> Result<Vec<CountRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT state, status, operation_type, count(*) FROM operation \
         GROUP BY state, status, operation_type ORDER BY state, status, operation_type",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i32>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (state, status, operation_type, count) = row?;
        let (Some(state), Some(status)) = (State::from_code(state), Status::from_code(status))
        else {
            return Err(Error::Corrupt(format!(
                "invalid stored codes {state}/{status}"
            )));
        };
        out.push(CountRow {
            state,
            status,
            operation_type,
            count,
        });
    }
    Ok(out)
}

/// One queue-wide setting as stored (§6.6).
/// Lines of a failed `quick_check` kept in the error message.
const QUICK_CHECK_LINES: usize = 10;

/// `PRAGMA quick_check`: `Ok(())` when SQLite reports "ok", else `Corrupt`
/// with the first lines of its report.
pub fn quick_check(conn: &Connection) -> Result<()> {
    let mut stmt = conn.prepare(&format!("PRAGMA quick_check({QUICK_CHECK_LINES})"))?;
    let lines = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    if lines.len() == 1 && lines[0] == "ok" {
        return Ok(());
    }
    Err(Error::Corrupt(format!(
        "integrity check failed: {}",
        lines.join("; ")
    )))
}

pub fn setting(conn: &Connection, key: &str) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached("SELECT value FROM setting WHERE key = ?1")?;
    Ok(stmt.query_row([key], |r| r.get(0)).optional()?)
}

pub fn set_setting(conn: &Connection, key: &str, value: &str) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO setting (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?;
    stmt.execute(params![key, value])?;
    Ok(())
}
