//! The statements of the System Jobs views: filtered queries, counts, and
//! the integrity check.

use super::rows::{COLUMNS, operation_from_row};
use crate::error::{Error, Result};
use crate::operation::{CountRow, Filter, Operation, prefix_end};
use crate::transition::{State, Status};
use rusqlite::Connection;

/// Rows matching `filter` in ascending id (§11).
pub fn query(conn: &Connection, filter: &Filter) -> Result<Vec<Operation>> {
    let (sql, args) = query_sql(conn, filter)?;
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), operation_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The rows above `operation_mark.named_to`, whose names are not yet in
/// `operation_by_name` (at most `NAME_TAIL` of them).
const NAME_TAIL_ROWS: &str =
    "SELECT id FROM operation WHERE id > (SELECT value FROM operation_mark WHERE key = 'named_to')";

/// The statement of `query` for `filter` and its arguments (also for the
/// store's plan tests), read against `conn` (a Ready query needs the types
/// that have Ready rows).
///
/// State and status are written into the text (a handful of statements):
/// SQLite uses a partial index (`WHERE state = 1`, …) only for a literal.
/// Names are looked up in `operation_by_name` plus the few rows not yet
/// folded into it (schema version 4): O(log n + NAME_TAIL).
///
/// Ready rows have no index in id order (schema version 5): the unblocked
/// ones are in `operation_ready_type` by (type, id), the blocked ones in
/// `operation_ready_blocked`. A Ready query takes the first `offset + limit`
/// of each type (the types from `operation_count`, O(groups)) and of the
/// blocked rows, and merges them by id: O(types × (offset + limit)), never a
/// walk of every Ready row when a limit is given.
pub fn query_sql(
    conn: &Connection,
    filter: &Filter,
) -> Result<(String, Vec<rusqlite::types::Value>)> {
    let (terms, args, literal_state) = query_terms(filter);
    let limit = filter.limit.map_or(-1, i64::from);
    let offset = filter.offset.map_or(0, i64::from);
    let tail = format!("ORDER BY id LIMIT {limit} OFFSET {offset}");
    if literal_state != Some(State::Ready.code()) {
        let sql = format!("SELECT {COLUMNS} FROM operation WHERE 1 = 1{terms} {tail}");
        return Ok((sql, args));
    }
    let ready = State::Ready.code();
    let types = match filter.operation_type {
        Some(t) => vec![t],
        None => ready_types(conn)?,
    };
    // Each arm: the first `offset + limit` rows of one walk (all, with no limit).
    let each = if limit < 0 {
        -1
    } else {
        limit.saturating_add(offset)
    };
    let mut arms: Vec<String> = types
        .iter()
        .map(|t| {
            format!(
                "SELECT id FROM (SELECT id FROM operation INDEXED BY operation_ready_type \
                 WHERE operation_type = {t} AND state = {ready} AND blocked = 0{terms} \
                 ORDER BY id LIMIT {each})"
            )
        })
        .collect();
    arms.push(format!(
        "SELECT id FROM (SELECT id FROM operation INDEXED BY operation_ready_blocked \
         WHERE state = {ready} AND blocked = 1{terms} ORDER BY id LIMIT {each})"
    ));
    let sql = format!(
        "SELECT {COLUMNS} FROM operation WHERE id IN ({}) {tail}",
        arms.join(" UNION ALL ")
    );
    Ok((sql, args))
}

/// The operation types that have Ready rows (blocked or not), from the
/// group counters: O(groups).
fn ready_types(conn: &Connection) -> Result<Vec<i32>> {
    let mut stmt = conn.prepare_cached(
        "SELECT operation_type FROM operation_count WHERE state = ?1 AND n > 0 \
         ORDER BY operation_type",
    )?;
    let rows = stmt.query_map([State::Ready.code()], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<i32>>>()?)
}

/// The `AND …` terms of `filter` (bound arguments numbered ?1, ?2, … in
/// `args`, literal state and status), and the state written literally.
fn query_terms(filter: &Filter) -> (String, Vec<rusqlite::types::Value>, Option<u8>) {
    use rusqlite::types::Value;
    let mut sql = String::new();
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
    (sql, args, literal_state)
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
