//! The statements of an attempt's records: progress, a completed run's
//! output, and the attempt history (insert, trim, read, delete).

use crate::attempt::{Attempt, AttemptEnding, Progress};
use crate::error::Result;
use rusqlite::{Connection, params};

/// Writes the progress of row `id` (held by the caller).
pub fn set_progress(conn: &Connection, id: i64, progress: &Progress) -> Result<()> {
    let mut stmt = conn
        .prepare_cached("UPDATE operation SET progress = ?2, progress_text = ?3 WHERE id = ?1")?;
    stmt.execute(params![id, progress.percent, progress.text])?;
    Ok(())
}

/// Writes (or clears) the output of row `id`.
pub fn set_output(conn: &Connection, id: i64, output: Option<&[u8]>) -> Result<()> {
    let mut stmt = conn.prepare_cached("UPDATE operation SET output = ?2 WHERE id = ?1")?;
    stmt.execute(params![id, output])?;
    Ok(())
}

/// Inserts `attempt` (once per lock token) and deletes the operation's
/// attempts older than the newest `keep`.
pub fn record_attempt(conn: &Connection, attempt: &Attempt, keep: usize) -> Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO attempt (operation_id, lock_token, started_on, ended_on, host_id, ending, \
             error_code, message, detail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT (operation_id, lock_token) DO NOTHING",
    )?;
    insert.execute(params![
        attempt.operation_id,
        attempt.lock_token,
        attempt.started_on,
        attempt.ended_on,
        attempt.host_id,
        attempt.ending.name(),
        attempt.error_code,
        attempt.message,
        attempt.detail,
    ])?;
    let mut trim = conn.prepare_cached(
        "DELETE FROM attempt WHERE operation_id = ?1 AND lock_token <= ( \
             SELECT lock_token FROM attempt WHERE operation_id = ?1 \
             ORDER BY lock_token DESC LIMIT 1 OFFSET ?2)",
    )?;
    trim.execute(params![
        attempt.operation_id,
        i64::try_from(keep).unwrap_or(i64::MAX)
    ])?;
    Ok(())
}

/// The kept attempts of `operation_id`, oldest first.
pub fn attempts(conn: &Connection, operation_id: i64) -> Result<Vec<Attempt>> {
    let mut stmt = conn.prepare_cached(
        "SELECT operation_id, lock_token, started_on, ended_on, host_id, ending, error_code, \
             message, detail \
         FROM attempt WHERE operation_id = ?1 ORDER BY lock_token",
    )?;
    let rows = stmt.query_map([operation_id], |r| {
        let ending: String = r.get(5)?;
        let ending = AttemptEnding::from_name(&ending).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                5,
                rusqlite::types::Type::Text,
                format!("invalid attempt ending {ending:?}").into(),
            )
        })?;
        Ok(Attempt {
            operation_id: r.get(0)?,
            lock_token: r.get(1)?,
            started_on: r.get(2)?,
            ended_on: r.get(3)?,
            host_id: r.get(4)?,
            ending,
            error_code: r.get(6)?,
            message: r.get(7)?,
            detail: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
