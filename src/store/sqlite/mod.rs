//! The SQLite store: one file shared by the threads and processes of one
//! machine. Connections, schema and migrations (`schema`), the file's guard
//! against foreign closes (`guard`, `wal_identity`), group commit
//! (`group_commit`), the busy handler (`busy`), fork handling (`fork`), and the
//! statements, one file per command family (`statements`). `tx` implements the
//! storage interface's commands on a connection.
//!
//! Writes: every write goes through [`Store::write_dyn`](crate::store::Store::write_dyn), the one place
//! that holds the write connection: a group-commit writer that runs the writes
//! of concurrent threads together in one short `BEGIN IMMEDIATE` transaction,
//! a savepoint each. Reads: a small pool of connections, each read one
//! snapshot, never writing. Across processes the writers queue for SQLite's
//! write lock on a side lock (`writer_lock`, the file `<db>-lock`).

#[cfg(not(unix))]
compile_error!(
    "the SQLite store of asyncop supports Unix-like systems only (fork, flock, OFD locks)"
);

mod busy;
mod connection;
mod error;
mod fork;
mod group_commit;
mod guard;
mod options;
mod schema;
mod statements;
mod store_interface;
#[doc(hidden)]
pub mod testing;
mod tx;
mod wal_identity;
mod wal_sync;
mod write_tx;
mod writer_lock;
mod writer_stats;

pub use options::{
    ALLOWED_FILE_MODE, DEFAULT_FILE_MODE, Durability, SqliteOptions, check_file_mode,
};
pub use schema::{APPLICATION_ID, NAME_TAIL, SCHEMA_VERSION};
pub use writer_lock::WriterLockStats;
pub use writer_stats::WriterStats;

use super::ChangeMark;
use crate::error::{Error, Result};
use connection::{configure_sqlite, open_connection};
use group_commit::WriteKind;
use parking_lot::{Condvar, Mutex};
use rusqlite::{Connection, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tx::SqliteTx;

/// Wakes waiters (poll, wait_for) of this process when any write commits.
#[derive(Debug, Default)]
struct Notifier {
    generation: Mutex<u64>,
    changed: Condvar,
}

/// An open queue file.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    /// `path` as text, for `Store::target`.
    target: String,
    options: SqliteOptions,
    busy_timeout: Duration,
    writer: Mutex<Option<Connection>>,
    group: group_commit::GroupCommit,
    readers: Mutex<Vec<Connection>>,
    /// `PRAGMA data_version` is per connection: one dedicated connection sees
    /// every commit of every other connection, ours and other processes'.
    watcher: Mutex<Option<Connection>>,
    /// The last `data_version` read and when: waiters of one process share a
    /// reading taken within `CROSS_PROCESS_TICK / 2` instead of each asking SQLite.
    seen_version: Mutex<Option<(Instant, i64)>>,
    notifier: Notifier,
    closed: AtomicBool,
    /// The file in this process's registry of open files (`guard`); taken
    /// once, by the close that releases it.
    file: Mutex<Option<guard::FileId>>,
    wal: wal_identity::WalIdentity,
}

impl SqliteStore {
    /// Opens or creates an asyncop file. A file that is not ours is refused
    /// before any write could touch it. A write that cannot get the write lock
    /// within `busy_timeout` gives `Busy`.
    pub fn open(
        path: impl AsRef<Path>,
        options: SqliteOptions,
        busy_timeout: Duration,
    ) -> Result<SqliteStore> {
        check_file_mode(options.file_mode)?;
        configure_sqlite();
        let _gate = fork::gate();
        let path = path.as_ref().to_path_buf();
        if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" {
            return Err(Error::InvalidArgument(
                "a queue needs a file path (an in-memory or temporary database cannot be shared)"
                    .into(),
            ));
        }
        // Absolute, so that SQLite (built with URI filenames on) can never read
        // "file:..." as a URI naming some other file than the one inspected here.
        let path = std::path::absolute(&path)
            .map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
        // Declared first so that it is dropped last: a failed open closes its
        // connections before the descriptor that guards them.
        let opening = guard::Opening::begin(&path, options.file_mode, busy_timeout)?;
        let kind = schema::inspect(&path, opening.header_source())?;
        fork::pin_inherited_locks(&path);
        let version = schema::check_readonly(&path, &kind)?;
        let mut writer = open_connection(&path, &options, busy_timeout)?;
        if version < SCHEMA_VERSION {
            // WAL lets readers and one writer work at once, across processes.
            let mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(Error::Internal(format!(
                    "could not enable WAL (journal_mode = {mode})"
                )));
            }
            schema::migrate(&mut writer)?;
        }
        // A first read opens the WAL and `-shm`, whose lock `finish` guards.
        let _: i32 = writer.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let watcher = open_connection(&path, &options, busy_timeout)?;
        let file = opening.finish()?;
        let wal = wal_identity::WalIdentity::record(&path);
        let side = writer_lock::WriterLock::open(&path);
        // FULL's fsync moves out of COMMIT, after the write lock (`wal_sync`).
        let wal_sync = if options.durability == Durability::Full {
            let sync = wal_sync::WalSync::open(&path)?;
            writer.pragma_update(None, "synchronous", "NORMAL")?;
            Some(sync)
        } else {
            None
        };
        Ok(SqliteStore {
            target: path.display().to_string(),
            path,
            options,
            busy_timeout,
            writer: Mutex::new(Some(writer)),
            group: group_commit::GroupCommit::new(wal_sync, side, busy_timeout),
            readers: Mutex::new(Vec::new()),
            watcher: Mutex::new(Some(watcher)),
            seen_version: Mutex::new(None),
            notifier: Notifier::default(),
            closed: AtomicBool::new(false),
            file: Mutex::new(Some(file)),
            wal,
        })
    }

    /// The file's absolute path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether `close` or `abandon` ran.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Closes every connection; later calls give `Closed`. Calls in flight finish first
    /// (they hold the connection's lock).
    pub fn close(&self) {
        let _gate = fork::gate();
        self.closed.store(true, Ordering::Release);
        let close_connections = || {
            drop(self.writer.lock().take());
            drop(self.watcher.lock().take());
            self.readers.lock().clear();
        };
        match self.file.lock().take() {
            Some(file) => guard::release(file, self.busy_timeout, close_connections),
            None => close_connections(),
        }
        self.notify();
    }

    /// Like `close`, but leaks the connections instead of closing them: for a
    /// forked child, where closing an inherited connection can damage the
    /// parent's file (SQLite "How to corrupt", §2.6).
    pub fn abandon(&self) {
        self.closed.store(true, Ordering::Release);
        if let Some(c) = self.writer.lock().take() {
            std::mem::forget(c);
        }
        if let Some(c) = self.watcher.lock().take() {
            std::mem::forget(c);
        }
        for c in self.readers.lock().drain(..) {
            std::mem::forget(c);
        }
        // The registry entry stays: this process's descriptors of the file must
        // outlive the leaked connections.
        self.file.lock().take();
    }

    /// The single write path: `f` runs inside a `BEGIN IMMEDIATE` transaction
    /// (in its own savepoint when the transaction is shared with other
    /// threads' writes) and its result is returned once that transaction has
    /// committed. An `Err` from `f` (or a panic, resumed on this thread) undoes
    /// exactly what `f` did. `f` may run on another thread of this process
    /// (the group's leader), hence `Send`.
    pub(crate) fn write<T: Send>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send,
    ) -> Result<T> {
        self.write_as(WriteKind::Normal, f)
    }

    /// `write` for a write of `kind` (a progress report wakes no waiter and
    /// may commit without its own sync).
    pub(crate) fn write_as<T: Send>(
        &self,
        kind: WriteKind,
        f: impl FnOnce(&Connection) -> Result<T> + Send,
    ) -> Result<T> {
        let _gate = fork::gate();
        if self.is_closed() {
            return Err(Error::Closed);
        }
        self.wal.ensure_intact()?;
        self.group.ensure_intact()?;
        let value = self.group.write(
            &self.writer,
            kind,
            |end| {
                // Only real changes wake waiters: an empty claim must not wake its own poller.
                if end.changed {
                    self.notify();
                }
            },
            f,
        )?;
        // A close of this handle that ran meanwhile removes the WAL itself (the
        // last close of the file checkpoints and deletes it; `close` marks the
        // store closed first): that is not a foreign deletion, and this commit
        // landed before it.
        match self.wal.check() {
            Err(_) if self.is_closed() => {}
            other => other?,
        }
        Ok(value)
    }

    /// How many transactions and commands the writer has committed.
    pub fn writer_stats(&self) -> WriterStats {
        self.group.stats()
    }

    /// What the writer queue across processes (the side lock `<db>-lock`) did.
    pub fn writer_lock_stats(&self) -> WriterLockStats {
        self.group.side_lock_stats()
    }

    /// Starts `WriterStats::longest_hold` again from zero.
    #[doc(hidden)]
    pub fn reset_longest_hold(&self) {
        self.group.reset_longest_hold();
    }

    /// Writes queued behind the transaction under way (0 when idle).
    pub fn writes_waiting(&self) -> usize {
        self.group.waiting()
    }

    /// Runs `f` on one consistent snapshot (a read transaction) of a pooled connection.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let _gate = fork::gate();
        if self.is_closed() {
            return Err(Error::Closed);
        }
        self.wal.ensure_intact()?;
        self.group.ensure_intact()?;
        let pooled = self.readers.lock().pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => {
                let c = open_connection(&self.path, &self.options, self.busy_timeout)?;
                c.pragma_update(None, "query_only", true)?;
                c
            }
        };
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let value = f(&tx)?;
            tx.finish()?;
            Ok(value)
        })();
        if !self.is_closed() {
            self.readers.lock().push(conn);
        }
        result
    }

    fn notify(&self) {
        let mut generation = self.notifier.generation.lock();
        *generation = generation.wrapping_add(1);
        self.notifier.changed.notify_all();
    }

    /// Where the file stands now; pass it to `wait_change`.
    pub fn change_mark(&self) -> Result<ChangeMark> {
        let generation = *self.notifier.generation.lock();
        Ok(ChangeMark {
            local: generation,
            external: self.data_version()?,
        })
    }

    fn data_version(&self) -> Result<i64> {
        // A reading a little old is safe: it can only make a waiter look once
        // more, never miss a change (the waiter compares against its mark).
        if let Some((at, version)) = *self.seen_version.lock()
            && at.elapsed() < CROSS_PROCESS_TICK / 2
        {
            return Ok(version);
        }
        let _gate = fork::gate();
        let guard = self.watcher.lock();
        let conn = guard.as_ref().ok_or(Error::Closed)?;
        let version = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        *self.seen_version.lock() = Some((Instant::now(), version));
        Ok(version)
    }

    /// Blocks until the file changed after `mark` or `deadline` passes. A write
    /// of this process wakes it at once; another process's within `CROSS_PROCESS_TICK`.
    /// Returns whether a change was seen.
    pub fn wait_change(&self, mark: ChangeMark, deadline: Instant) -> Result<bool> {
        loop {
            {
                let mut generation = self.notifier.generation.lock();
                if *generation != mark.local {
                    return Ok(true);
                }
                let now = Instant::now();
                if now >= deadline {
                    return Ok(false);
                }
                let until = deadline.min(now + CROSS_PROCESS_TICK);
                self.notifier.changed.wait_until(&mut generation, until);
                if *generation != mark.local {
                    return Ok(true);
                }
            }
            if self.is_closed() {
                return Err(Error::Closed);
            }
            if self.data_version()? != mark.external {
                return Ok(true);
            }
        }
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Closing a connection calls into SQLite: not while a fork is under way.
        let _gate = fork::gate();
        let file = self.file.get_mut().take();
        let mut close_connections = || {
            drop(self.writer.get_mut().take());
            drop(self.watcher.get_mut().take());
            self.readers.get_mut().clear();
        };
        match file {
            Some(file) => guard::release(file, self.busy_timeout, close_connections),
            None => close_connections(),
        }
    }
}

/// How often a waiter looks for commits of other processes: a cheap
/// `PRAGMA data_version` (a read of the WAL index in shared memory), shared by
/// all waiters of a process, so a submit in one process starts in another
/// within about a millisecond.
pub const CROSS_PROCESS_TICK: Duration = Duration::from_millis(1);
