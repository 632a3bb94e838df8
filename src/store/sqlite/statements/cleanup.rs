//! The statements of clean-up (§10) and held types: a page of Completed rows
//! by the index of Completed rows, their deletion with their attempt history,
//! and the `held_type` rows that claims skip.

use crate::error::{Error, Result};
use crate::operation::HeldType;
use crate::store::{CompletedPage, CompletedRow};
use crate::transition::Status;
use rusqlite::{Connection, params};

/// A page of Completed rows older than `page.before`, after its cursor, in
/// (`completed_on`, `id`) order: one range of `operation_completed`, so a
/// purge never walks a row twice however many rows it keeps.
pub fn completed_page(conn: &Connection, page: &CompletedPage) -> Result<Vec<CompletedRow>> {
    // The limit is written into the text (see `claims::claim_sql`): one or
    // two batch sizes, one cached statement each.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, status, completed_on FROM operation INDEXED BY operation_completed \
         WHERE state = 3 AND completed_on < ?1 AND completed_on >= ?2 \
           AND (completed_on > ?2 OR id > ?3) \
         ORDER BY completed_on, id LIMIT {}",
        page.limit
    ))?;
    let (at, id) = page.after.unwrap_or((i64::MIN, i64::MIN));
    let rows = stmt.query_map(params![page.before, at, id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, status, completed_on) = row?;
        let status = Status::from_code(status)
            .ok_or_else(|| Error::Corrupt(format!("operation {id}: invalid status {status}")))?;
        out.push(CompletedRow {
            id,
            status,
            completed_on,
        });
    }
    Ok(out)
}

/// Deletes the attempt history of one operation.
pub fn delete_attempts(conn: &Connection, id: i64) -> Result<()> {
    let mut stmt = conn.prepare_cached("DELETE FROM attempt WHERE operation_id = ?1")?;
    stmt.execute([id])?;
    Ok(())
}

/// Deletes the rows `ids` that are Completed, and their attempt history.
pub fn delete_completed(conn: &Connection, ids: &[i64]) -> Result<usize> {
    let mut stmt = conn.prepare_cached("DELETE FROM operation WHERE id = ?1 AND state = 3")?;
    let mut deleted = 0;
    for &id in ids {
        if stmt.execute([id])? == 1 {
            delete_attempts(conn, id)?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// The held operation types, by type.
pub fn held_types(conn: &Connection) -> Result<Vec<HeldType>> {
    let mut stmt = conn
        .prepare_cached("SELECT operation_type, held_on FROM held_type ORDER BY operation_type")?;
    let rows = stmt.query_map([], |r| {
        Ok(HeldType {
            operation_type: r.get(0)?,
            held_on: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Holds a type; false when it was already held.
pub fn hold_type(conn: &Connection, operation_type: i32, now: i64) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO held_type (operation_type, held_on) VALUES (?1, ?2) \
         ON CONFLICT (operation_type) DO NOTHING",
    )?;
    Ok(stmt.execute(params![operation_type, now])? == 1)
}

/// Releases a type; false when it was not held.
pub fn release_type(conn: &Connection, operation_type: i32) -> Result<bool> {
    let mut stmt = conn.prepare_cached("DELETE FROM held_type WHERE operation_type = ?1")?;
    Ok(stmt.execute([operation_type])? == 1)
}
