//! The file format: what makes a file ours, the schema and its migrations.
//!
//! A file is checked before anything may write to it, so that opening somebody
//! else's file (another SQLite database, a text file, random bytes, a truncated
//! file, a newer asyncop) fails and leaves it byte-for-byte untouched.

use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

mod schema_v4;
pub use schema_v4::NAME_TAIL;

/// `PRAGMA application_id`: "ASOP".
pub const APPLICATION_ID: i32 = 0x4153_4F50;

/// Schema version this library writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i32 = 5;

/// `MIGRATIONS[v - 1]` brings a file from version v - 1 to v. Append only.
const MIGRATIONS: [&str; 5] = [
    SCHEMA_V1,
    SCHEMA_V2,
    SCHEMA_V3,
    schema_v4::SCHEMA_V4,
    SCHEMA_V5,
];

/// Version 1. Recurrence (§8) and retention (§10) columns and settings are
/// already here so that adding those features needs no migration.
/// Version 2: one row per leadership (periodic work that one host at a time
/// does, such as retention), held until `expires_at` unless renewed.
const SCHEMA_V2: &str = r#"
CREATE TABLE leader (
    name       TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
"#;

/// Version 3: the life cycle's records (issue 13). A running attempt's
/// progress (0..=100) and text, a completed run's output, the history of
/// attempts that ended in an error (bounded per operation by the library),
/// and the operation types whose claims are held.
const SCHEMA_V3: &str = r#"
ALTER TABLE operation ADD COLUMN progress INTEGER CHECK (progress BETWEEN 0 AND 100);
ALTER TABLE operation ADD COLUMN progress_text TEXT;
ALTER TABLE operation ADD COLUMN output BLOB;

CREATE TABLE attempt (
    operation_id INTEGER NOT NULL,
    -- The attempt's lock token: one per claim, so one row per attempt.
    lock_token   INTEGER NOT NULL,
    started_on   INTEGER,
    ended_on     INTEGER NOT NULL,
    host_id      TEXT,
    -- How it ended: 'retry', 'failed' or 'expired' (the lease ran out).
    ending       TEXT    NOT NULL CHECK (ending IN ('retry', 'failed', 'expired')),
    error_code   INTEGER,
    message      TEXT,
    detail       TEXT,
    PRIMARY KEY (operation_id, lock_token)
) WITHOUT ROWID;

CREATE TABLE held_type (
    operation_type INTEGER PRIMARY KEY CHECK (operation_type > 0),
    held_on        INTEGER NOT NULL
) WITHOUT ROWID;
"#;

/// Version 5 (issue 15, `schema/schema_v5.sql`): claims that do not grow with what they skip.
/// `blocked` is 1 on an unfinished row with a dependency token while an
/// earlier unfinished row with that token exists (§7); the triggers there keep
/// it on every write, so only a token's head is ever 0 among its unfinished
/// rows. The Ready index holds only unblocked rows, by (type, id): a claim
/// merges the heads of the types it may take (§6.1, §6.7). Existing rows get
/// their flag computed here.
const SCHEMA_V5: &str = include_str!("schema/schema_v5.sql");

const SCHEMA_V1: &str = r#"
CREATE TABLE operation (
    -- AUTOINCREMENT: ids are never reused, not even after deletes (§5).
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    name                 TEXT    NOT NULL,
    operation_type       INTEGER NOT NULL CHECK (operation_type > 0),
    state                INTEGER NOT NULL CHECK (state BETWEEN 0 AND 3),
    status               INTEGER NOT NULL
                         CHECK (status IN (0, 10, 20, 21, 22, 30, 31, 32) AND state = status / 10),
    data                 BLOB    NOT NULL,
    dependency_token     TEXT,
    postpone_until       INTEGER,
    host_id              TEXT,
    lease_expires_at     INTEGER,
    lock_token           INTEGER NOT NULL DEFAULT 0,
    retry_count          INTEGER NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
    error_code           INTEGER,
    message              TEXT,
    friendly_message     TEXT,
    created_on           INTEGER NOT NULL,
    modified_on          INTEGER NOT NULL,
    started_on           INTEGER,
    completed_on         INTEGER,
    execution_time_span  INTEGER,
    recurrence_pattern   TEXT,
    recurrence_start     INTEGER,
    correlation_id       TEXT,
    is_waiting_for_event INTEGER NOT NULL DEFAULT 0 CHECK (is_waiting_for_event IN (0, 1)),
    -- host_id and lease_expires_at are non-null exactly while Locked (§5).
    CHECK ((state = 2) = (host_id IS NOT NULL)),
    CHECK ((state = 2) = (lease_expires_at IS NOT NULL))
);

-- The claim walks Ready rows in id order: O(log n) however many rows are Completed.
CREATE INDEX operation_ready ON operation (id) WHERE state = 0;
-- "Is an earlier unfinished operation with my token there?" (§7)
CREATE INDEX operation_dependency ON operation (dependency_token, id)
    WHERE state < 3 AND dependency_token IS NOT NULL;
-- Recovery of expired leases and promotion of due postponed rows (§6.4).
CREATE INDEX operation_lease ON operation (lease_expires_at) WHERE state = 2;
CREATE INDEX operation_postponed ON operation (postpone_until)
    WHERE state = 1 AND postpone_until IS NOT NULL;
-- Retention (§10) and completed_before queries.
CREATE INDEX operation_completed ON operation (completed_on) WHERE state = 3;
-- System Jobs views: counts per group, queries by state or name.
CREATE INDEX operation_group ON operation (state, status, operation_type);
CREATE INDEX operation_name ON operation (name);

-- Queue-wide settings, shared by every process that opens the file (§6.6).
CREATE TABLE setting (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

INSERT INTO setting (key, value) VALUES
    ('restricted_types', '9,16,18,19,20,22,24,25,27,31'),
    ('max_attempts', '4'),
    ('backoff_base_ms', '5000'),
    ('backoff_cap_ms', '3600000'),
    ('allow_delete_any', '0'),
    ('recurrence_updatable_types', ''),
    ('auto_delete_types', ''),
    ('cleanup_enabled', '1'),
    ('retention_succeeded_ms', '2592000000'),
    ('retention_failed_ms', '5184000000'),
    ('retention_canceled_ms', '5184000000'),
    ('last_purge_at', '0');
"#;

/// What the file at a path is, judged from its header alone.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// Missing or empty: we may create the schema.
    New,
    /// An SQLite file whose header names no application; it may be an empty
    /// database (ours, never initialised) or a foreign one. SQLite decides.
    Unmarked,
    /// An asyncop file (its header may lag behind the WAL; SQLite re-checks).
    Ours,
}

fn corrupt(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::Corrupt(format!("{}: {why}", path.display()))
}

/// Reads the SQLite header (and page 1's b-tree header) through `file`, a
/// descriptor of `path` that stays open (see `guard`), so nothing can write.
/// Whatever the header alone proves foreign is refused here, before SQLite
/// could create `-wal`/`-shm` files beside somebody else's file. `None`: this
/// process already has the file open, so it was judged ours then.
pub(crate) fn inspect(path: &Path, file: Option<&File>) -> Result<FileKind> {
    let Some(file) = file else {
        return Ok(FileKind::Ours);
    };
    match judge_header(path, file) {
        Err(Error::Corrupt(why)) => {
            // Another process may be writing page 1 (a checkpoint) as we read
            // it, and a read can see half of a write: a header that changes
            // under us is live, and SQLite, which sees the WAL, judges it.
            let first = read_header(file);
            std::thread::sleep(std::time::Duration::from_millis(2));
            if first.is_some() && first != read_header(file) {
                Ok(FileKind::Unmarked)
            } else {
                Err(Error::Corrupt(why))
            }
        }
        other => other,
    }
}

/// The first 108 bytes and the length, if the file has that many.
fn read_header(file: &File) -> Option<([u8; 108], u64)> {
    let len = file.metadata().ok()?.len();
    let mut header = [0u8; 108];
    file.read_exact_at(&mut header, 0).ok()?;
    Some((header, len))
}

fn judge_header(path: &Path, file: &File) -> Result<FileKind> {
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Error::Io(format!("{}: not a regular file", path.display())));
    }
    let len = meta.len();
    if len == 0 {
        return Ok(FileKind::New);
    }
    // 100 bytes of database header, then page 1's b-tree header (cell count at 103).
    let mut header = [0u8; 108];
    if len < 512 || file.read_exact_at(&mut header, 0).is_err() {
        return Err(corrupt(
            path,
            "not an SQLite database (shorter than one SQLite page)",
        ));
    }
    if &header[..16] != b"SQLite format 3\0" {
        return Err(corrupt(path, "not an SQLite database (no SQLite header)"));
    }
    let be32 = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65536u64,
        n if n >= 512 && n.is_power_of_two() => u64::from(n),
        n => {
            return Err(corrupt(
                path,
                format!("corrupt SQLite header (page size {n})"),
            ));
        }
    };
    // A non-empty WAL means the file may be live: a checkpoint in another
    // process writes page 1 (with the new page count) before the file has
    // grown, so size checks would misfire; SQLite itself judges such a file.
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal_live = std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0);
    // The in-header page count is valid when the change counter matches
    // "version-valid-for"; a WAL file may hold more pages, never fewer.
    let pages = u64::from(be32(28));
    if !wal_live && be32(24) == be32(92) && pages > 0 && len < pages * page_size {
        return Err(corrupt(
            path,
            format!(
                "truncated: {len} bytes where the header promises {}",
                pages * page_size
            ),
        ));
    }
    if !wal_live && len % page_size != 0 {
        return Err(corrupt(
            path,
            format!("truncated: {len} bytes is not a whole number of {page_size}-byte pages"),
        ));
    }
    let version = be32(60) as i32;
    match be32(68) as i32 {
        APPLICATION_ID if version > SCHEMA_VERSION => Err(newer_version(path, version)),
        APPLICATION_ID => Ok(FileKind::Ours),
        0 => {
            // A non-empty WAL may hold a schema the main file does not show yet:
            // then only SQLite can tell. Without one, page 1 is the whole truth.
            let schema_cells = u16::from_be_bytes([header[103], header[104]]);
            if wal_live || schema_cells == 0 {
                Ok(FileKind::Unmarked)
            } else {
                Err(foreign_unmarked(path))
            }
        }
        other => Err(corrupt(
            path,
            format!(
                "foreign SQLite database (application_id {other:#x}, asyncop's is {APPLICATION_ID:#x})"
            ),
        )),
    }
}

fn newer_version(path: &Path, version: i32) -> Error {
    corrupt(
        path,
        format!(
            "schema version {version} is newer than this library supports ({SCHEMA_VERSION}); upgrade asyncop"
        ),
    )
}

fn foreign_unmarked(path: &Path) -> Error {
    corrupt(
        path,
        "foreign SQLite database (it has tables but is not marked as asyncop's)",
    )
}

/// What SQLite's refusal to read `path` means: a file it cannot open or lock
/// (permissions, a directory where `-wal`/`-shm` cannot be created) is `Io`,
/// contention is `Busy`, anything else is a file it cannot make sense of.
fn sqlite_error(path: &Path, e: rusqlite::Error) -> Error {
    match Error::from(e) {
        Error::Io(m) => Error::Io(format!(
            "{}: {m} (can this process read and write the file and create files in its directory?)",
            path.display()
        )),
        Error::Busy => Error::Busy,
        Error::Corrupt(m) | Error::Internal(m) => corrupt(path, m),
        other => other,
    }
}

/// Asks SQLite, read-only, what the file holds (it sees the WAL, the header may not).
/// Returns the schema version to migrate from: 0 for an empty database.
pub(crate) fn check_readonly(path: &Path, kind: &FileKind) -> Result<i32> {
    if *kind == FileKind::New {
        return Ok(0);
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| sqlite_error(path, e))?;
    let inspect = || -> rusqlite::Result<(i32, i32, i64)> {
        let app: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
        let version: i32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let objects: i64 =
            conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
        Ok((app, version, objects))
    };
    let (app, version, objects) = inspect().map_err(|e| sqlite_error(path, e))?;
    match (app, version) {
        (0, _) if objects == 0 => Ok(0),
        (0, _) => Err(foreign_unmarked(path)),
        (APPLICATION_ID, v) if v > SCHEMA_VERSION => Err(newer_version(path, v)),
        (APPLICATION_ID, v) if v >= 1 => Ok(v),
        (APPLICATION_ID, v) => Err(corrupt(
            path,
            format!("asyncop file with invalid schema version {v}"),
        )),
        (other, _) => Err(corrupt(
            path,
            format!("foreign SQLite database (application_id {other:#x})"),
        )),
    }
}

/// Writes the schema of an older `version` (1..=SCHEMA_VERSION) into an empty
/// database, exactly as that version of the library did: for upgrade tests.
pub(crate) fn create_schema_at(conn: &Connection, version: i32) -> Result<()> {
    let upto = usize::try_from(version)
        .ok()
        .filter(|v| (1..=MIGRATIONS.len()).contains(v))
        .ok_or_else(|| Error::InvalidArgument(format!("no schema version {version}")))?;
    for sql in &MIGRATIONS[..upto] {
        conn.execute_batch(sql)?;
    }
    conn.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {version};"
    ))?;
    Ok(())
}

/// Creates or migrates the schema inside one write transaction. Re-reads the
/// version under the write lock: two processes may race to create a new file.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let app: i32 = tx.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let version: i32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if app != 0 && app != APPLICATION_ID {
        return Err(Error::Corrupt(format!(
            "foreign SQLite database (application_id {app:#x})"
        )));
    }
    if version > SCHEMA_VERSION {
        return Err(Error::Corrupt(format!(
            "schema version {version} is newer than this library supports ({SCHEMA_VERSION})"
        )));
    }
    if version == SCHEMA_VERSION {
        return Ok(()); // another process finished first; dropping `tx` rolls back nothing
    }
    for (from, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.execute_batch(sql).map_err(|e| {
            Error::Internal(format!(
                "migration to schema version {} failed: {e}",
                from + 1
            ))
        })?;
    }
    // Both pragmas write page 1 inside this transaction: a crash leaves all or nothing.
    tx.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};"
    ))?;
    tx.commit()?;
    Ok(())
}
