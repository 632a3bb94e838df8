//! Hooks for the SQLite store's own tests, benchmarks and tools (group
//! commit, statement plans, WAL frames): not part of the supported API.

use super::SqliteStore;
use super::writer_stats::WriterStats;
use crate::error::{Error, Result};
use crate::queue::Queue;
use rusqlite::Connection;

pub use super::statements::claims::{claim_sql, last_claim_vm_steps};
pub use super::statements::maintenance::{due_postponed_sql, expired_leases_sql};
pub use super::statements::query::{COUNTS_SQL, query_sql};

/// The queue's SQLite store, or `Internal` if it has another store.
pub fn store(queue: &Queue) -> Result<&SqliteStore> {
    queue
        .store()
        .as_any()
        .downcast_ref::<SqliteStore>()
        .ok_or_else(|| Error::Internal("the queue is not on the SQLite store".into()))
}

/// Runs `f` on the write connection inside the store's write path (group
/// commit), like every write of the library.
pub fn write<T: Send>(queue: &Queue, f: impl FnOnce(&Connection) -> Result<T> + Send) -> Result<T> {
    store(queue)?.write(f)
}

/// Runs `f` on the write connection as a progress report's write (see
/// `Store::write_progress_dyn`): the `synchronous` it sees tells how the
/// commit is synced.
pub fn write_progress<T: Send>(
    queue: &Queue,
    durable: bool,
    f: impl FnOnce(&Connection) -> Result<T> + Send,
) -> Result<T> {
    store(queue)?.write_as(super::group_commit::WriteKind::Progress { durable }, f)
}

/// Runs `f` on a pooled read connection, in one snapshot.
pub fn read<T>(queue: &Queue, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    store(queue)?.read(f)
}

/// Writes the schema of an older version into an empty database (with its
/// `application_id` and `user_version`), as that version wrote it.
pub fn create_schema_at(conn: &Connection, version: i32) -> Result<()> {
    super::schema::create_schema_at(conn, version)
}

/// How many transactions and commands the writer has committed.
pub fn writer_stats(queue: &Queue) -> Result<WriterStats> {
    Ok(store(queue)?.writer_stats())
}

/// What the writer queue across processes (the side lock) did.
pub fn writer_lock_stats(queue: &Queue) -> Result<super::WriterLockStats> {
    Ok(store(queue)?.writer_lock_stats())
}

/// Processes (threads) waiting for the side lock of the database at `db` now.
pub fn writer_lock_waiting(db: &std::path::Path) -> Option<u32> {
    super::writer_lock::waiting(db)
}

/// Starts the writer's longest write-lock hold (`WriterStats::longest_hold`)
/// again from zero, e.g. after a test's set-up.
pub fn reset_longest_hold(queue: &Queue) -> Result<()> {
    store(queue)?.reset_longest_hold();
    Ok(())
}

/// Writes queued behind the transaction under way (0 when idle).
pub fn writes_waiting(queue: &Queue) -> Result<usize> {
    Ok(store(queue)?.writes_waiting())
}

/// Installs the store's own busy handler (short jittered sleeps, `busy.rs`) on
/// a connection the store does not own, with `timeout` as the total wait per
/// lock attempt: the benchmark's raw-SQL limit waits for the write lock exactly
/// as asyncop's connections do.
pub fn install_busy_handler(conn: &Connection, timeout: std::time::Duration) -> Result<()> {
    super::busy::install(conn, timeout)
}
