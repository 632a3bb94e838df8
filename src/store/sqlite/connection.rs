//! Opening one SQLite connection the way every connection of the store is
//! configured (busy handler, durability, statement cache), and the
//! process-wide SQLite settings.

use super::busy;
use super::options::{Durability, SqliteOptions};
use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// Process-wide SQLite settings, set once before SQLite is first used.
///
/// Page caches start empty instead of with SQLite's default block of 20 pages.
/// Every statement that needs an ephemeral table (`RETURNING`, `IN (subquery)`,
/// a sort) opens a page cache of its own and frees it at the end: with the
/// block, a claim allocated and freed ~85 KB each time, and when that block
/// sat at the top of the heap glibc trimmed and re-grew the heap on every claim
/// (page faults: W2 ran at half speed once the writer's cache had filled up).
///
/// `sqlite3_config` only works before SQLite is initialised; if something in
/// the process used this copy of SQLite first (an application linking the
/// same bundled SQLite), it refuses, and the default stays: slower, not wrong.
pub(super) fn configure_sqlite() {
    static CONFIGURED: std::sync::Once = std::sync::Once::new();
    CONFIGURED.call_once(|| {
        // SAFETY: SQLITE_CONFIG_PAGECACHE takes (void *buffer, int size, int n);
        // a NULL buffer with size 0 only sets the initial page count, n = 0.
        let _ = unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_PAGECACHE,
                std::ptr::null_mut::<std::ffi::c_void>(),
                0 as std::ffi::c_int,
                0 as std::ffi::c_int,
            )
        };
    });
}

pub(super) fn open_connection(
    path: &Path,
    options: &SqliteOptions,
    busy_timeout: Duration,
) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    // No SQLITE_OPEN_URI: a path is a path. "file:..." must not reach a file other
    // than the one `schema::inspect` checked.
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| Error::Io(format!("cannot open {}: {e}", path.display())))?;
    busy::install(&conn, busy_timeout)?;
    let sync = match options.durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", sync)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}
