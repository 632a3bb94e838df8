//! The write transaction of the group-commit writer: it runs its statements
//! through the statement cache and undoes itself on drop (also when a leader
//! unwinds).

use crate::error::Result;
use rusqlite::Connection;

/// A write transaction begun and ended with cached statements (rusqlite's
/// `Transaction` parses `BEGIN`/`COMMIT` text on every use: a few µs per
/// write). Rolled back on drop unless committed, also when a leader unwinds.
pub(super) struct WriteTx<'c> {
    pub(super) conn: &'c Connection,
}

impl<'c> WriteTx<'c> {
    pub(super) fn begin(conn: &'c Connection) -> Result<WriteTx<'c>> {
        run_sql(conn, "BEGIN IMMEDIATE")?;
        Ok(WriteTx { conn })
    }

    pub(super) fn commit(self) -> Result<()> {
        run_sql(self.conn, "COMMIT")
        // On failure `self` drops here and rolls back what SQLite left open.
    }
}

impl Drop for WriteTx<'_> {
    fn drop(&mut self) {
        // After a successful COMMIT (or an error that ended the transaction)
        // the connection is back in autocommit mode: nothing to undo.
        if !self.conn.is_autocommit() {
            let _ = run_sql(self.conn, "ROLLBACK");
        }
    }
}

pub(super) fn run_sql(conn: &Connection, sql: &str) -> Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}
