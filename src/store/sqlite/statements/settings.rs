//! The statements of the queue-wide settings (§6.6) and the leadership rows.

use crate::error::Result;
use crate::store::Lead;
use rusqlite::{Connection, OptionalExtension, params};

/// One queue-wide setting as stored, `None` when absent.
pub fn setting(conn: &Connection, key: &str) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached("SELECT value FROM setting WHERE key = ?1")?;
    Ok(stmt.query_row([key], |r| r.get(0)).optional()?)
}

/// Writes one queue-wide setting (insert or replace).
pub fn set_setting(conn: &Connection, key: &str, value: &str) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO setting (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?;
    stmt.execute(params![key, value])?;
    Ok(())
}

/// Takes or keeps a leadership (see `Write::lead`): one statement, so a bid
/// either finds the row free or expired and takes it, or leaves it.
pub fn lead(conn: &Connection, lead: &Lead<'_>) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO leader (name, holder, expires_at) VALUES (?1, ?2, ?3 + ?4) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
             expires_at = excluded.expires_at \
         WHERE leader.holder = excluded.holder OR leader.expires_at <= ?3",
    )?;
    Ok(stmt.execute(params![lead.name, lead.holder, lead.now, lead.ttl_ms])? == 1)
}

/// Gives up a leadership that `holder` holds.
pub fn resign(conn: &Connection, name: &str, holder: &str) -> Result<()> {
    let mut stmt = conn.prepare_cached("DELETE FROM leader WHERE name = ?1 AND holder = ?2")?;
    stmt.execute(params![name, holder])?;
    Ok(())
}
