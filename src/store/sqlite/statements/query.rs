//! The statements of the System Jobs views: filtered queries, counts, and
//! the integrity check.

use super::rows::{COLUMNS, operation_from_row};
use crate::error::{Error, Result};
use crate::operation::{CountRow, Filter, Operation, prefix_end};
use crate::transition::{State, Status};
use rusqlite::Connection;

/// Rows matching `filter` in ascending id (§11).
pub fn query(conn: &Connection, filter: &Filter) -> Result<Vec<Operation>> {
    let (sql, args) = query_sql(filter);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), operation_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The rows above `operation_mark.named_to`, whose names are not yet in
/// `operation_by_name` (at most `NAME_TAIL` of them).
const NAME_TAIL_ROWS: &str =
    "SELECT id FROM operation WHERE id > (SELECT value FROM operation_mark WHERE key = 'named_to')";

/// The statement of `query` for `filter` and its arguments (also for the
/// store's plan tests).
///
/// State and status are written into the text (a handful of statements):
/// SQLite uses a partial index (`WHERE state = 0`, …) only for a literal.
/// Names are looked up in `operation_by_name` plus the few rows not yet
/// folded into it (schema version 4): O(log n + NAME_TAIL).
pub fn query_sql(filter: &Filter) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut sql = format!("SELECT {COLUMNS} FROM operation WHERE 1 = 1");
    let mut args: Vec<Value> = Vec::new();
    let mut push = |clause: &str, v: Value| {
        args.push(v);
        sql.push_str(&format!(" AND {clause} ?{}", args.len()));
    };
    if let Some(s) = filter.state {
        push("state =", Value::Integer(s.code().into()));
    }
    if let Some(s) = filter.status {
        push("status =", Value::Integer(s.code().into()));
    }
    if let Some(t) = filter.operation_type {
        push("operation_type =", Value::Integer(t.into()));
    }
    if let Some(t) = &filter.dependency_token {
        push("dependency_token =", Value::Text(t.clone()));
    }
    if let Some(c) = &filter.correlation_id {
        push("correlation_id =", Value::Text(c.clone()));
    }
    if let Some(t) = filter.completed_before {
        push("completed_on <", Value::Integer(t));
    }
    if let Some(a) = filter.after_id {
        push("id >", Value::Integer(a));
    }
    // The literal terms the partial indexes need, beside the bound ones.
    let literal_state = filter
        .state
        .map(|s| s.code())
        .or_else(|| filter.status.map(|s| s.state().code()));
    if let Some(s) = literal_state {
        sql.push_str(&format!(" AND state = {s}"));
    }
    // Name terms, each applied to the name index and to the unfolded tail.
    let mut name_terms: Vec<String> = Vec::new();
    let mut name_arg = |clause: &str, v: Value, terms: &mut Vec<String>| {
        args.push(v);
        terms.push(format!("name {clause} ?{}", args.len()));
    };
    if let Some(n) = &filter.name {
        name_arg("=", Value::Text(n.clone()), &mut name_terms);
    }
    // A prefix is a range of the name index (BINARY collation: UTF-8 byte
    // order, which is code point order), never a LIKE scan.
    if let Some(p) = filter.name_prefix.as_deref().filter(|p| !p.is_empty()) {
        name_arg(">=", Value::Text(p.to_owned()), &mut name_terms);
        if let Some(end) = prefix_end(p) {
            name_arg("<", Value::Text(end), &mut name_terms);
        }
    }
    if !name_terms.is_empty() {
        let terms = name_terms.join(" AND ");
        sql.push_str(&format!(
            " AND {terms} AND id IN (SELECT id FROM operation_by_name WHERE {terms} \
             UNION ALL {NAME_TAIL_ROWS} AND {terms})"
        ));
    }
    sql.push_str(" ORDER BY id");
    // LIMIT -1 is SQLite's "no limit".
    let limit = filter.limit.map_or(-1, i64::from);
    let offset = filter.offset.map_or(0, i64::from);
    sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
    (sql, args)
}

/// The statement of `counts` (also for the store's cost tests).
pub const COUNTS_SQL: &str = "SELECT state, status, operation_type, n FROM operation_count \
     WHERE n > 0 ORDER BY state, status, operation_type";

/// Non-empty (state, status, operation_type) groups with their sizes, sorted
/// by those keys: the counters the triggers keep (schema version 4), O(groups).
pub fn counts(conn: &Connection) -> Result<Vec<CountRow>> {
    let mut stmt = conn.prepare_cached(COUNTS_SQL)?;
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
            // Filled in by `Queue::counts` from `held_types` in the same snapshot.
            held: false,
        });
    }
    Ok(out)
}

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
