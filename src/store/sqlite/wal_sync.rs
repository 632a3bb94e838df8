//! Durable commits with the fsync outside the write lock, shared by every
//! thread and process that writes the queue.
//!
//! At `Durability::Full`, SQLite (`synchronous = FULL`) fsyncs the WAL inside
//! COMMIT, while the writer still holds the write lock: every other writer of
//! every process waits through that fsync, and processes that each commit one
//! job drained slower together than one alone. So the write connection runs at
//! `synchronous = NORMAL` (COMMIT only writes the WAL frames) and the store
//! syncs the WAL itself after the commit, once the write lock is free again,
//! before it answers any caller. What a caller is told stays what FULL
//! promises: a call that returned OK survives power loss.
//!
//! * A sync covers every frame written before it, whoever wrote them, so the
//!   side lock (`writer_lock`) numbers commits and records the last one a sync
//!   covered: a commit already covered skips its fsync, and a batch of commits
//!   by several processes shares one.
//! * The next writer commits while this one's fsync runs (the group commit
//!   hands its leadership on first).
//! * Until the sync, other connections may already read the commit; nothing is
//!   acknowledged to the caller that made it before it is durable, and a power
//!   loss in that window loses it like any unacknowledged call (the model's
//!   at-least-once rule covers work done on it).
//! * Checkpoints are unchanged: at NORMAL, SQLite still syncs the WAL before it
//!   copies it into the database and syncs the database after.
//! * `fdatasync`, not `fsync`: the bundled SQLite is built without
//!   `HAVE_FDATASYNC` and syncs the WAL with `fsync`, which also writes the
//!   file's times; the data (and the file's size when it grows) is what
//!   recovery needs.
//! * A failed sync leaves the file's durability unknown (the kernel may have
//!   dropped the dirty pages): the handle refuses every later call.

use super::writer_lock::{Held, WriterLock};
use crate::error::{Error, Result};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The WAL of one store, synced after its commits.
#[derive(Debug)]
pub(super) struct WalSync {
    wal: PathBuf,
    /// The `-wal` file, opened after SQLite created it; while our write
    /// connection is open nobody following SQLite's locks can delete it
    /// (`wal_identity` watches for anybody who does not).
    file: File,
    /// fsyncs this store made.
    syncs: AtomicU64,
    failed: AtomicBool,
}

/// The promise a commit made under the side lock needs kept.
pub(super) enum Pending {
    /// Numbered under the side lock: a sync by any process may cover it.
    Shared(u64),
    /// Made without the side lock: this store syncs it.
    Own,
}

impl WalSync {
    /// Opens the `-wal` beside `db` (it must exist: the store's first read
    /// made it) and syncs its directory once, which SQLite would otherwise do
    /// at the WAL's first FULL sync so that a new WAL's name survives a crash.
    pub(super) fn open(db: &Path) -> Result<WalSync> {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        let wal = PathBuf::from(wal);
        let io = |e: std::io::Error| Error::Io(format!("{}: {e}", wal.display()));
        let file = File::open(&wal).map_err(io)?;
        if let Some(dir) = wal.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| Error::Io(format!("{}: {e}", dir.display())))?;
        }
        Ok(WalSync {
            wal,
            file,
            syncs: AtomicU64::new(0),
            failed: AtomicBool::new(false),
        })
    }

    /// `Err` once a sync failed.
    pub(super) fn ensure_intact(&self) -> Result<()> {
        if self.failed.load(Ordering::Acquire) {
            Err(self.error("an earlier sync failed"))
        } else {
            Ok(())
        }
    }

    /// How many fsyncs this store made.
    pub(super) fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// Numbers a commit just made while `side` is held (`None`: made without
    /// the side lock).
    pub(super) fn note(side: Option<&Held<'_>>) -> Pending {
        match side {
            Some(held) => Pending::Shared(held.note_commit()),
            None => Pending::Own,
        }
    }

    /// Makes a commit durable, after the write lock was released.
    pub(super) fn settle(&self, pending: Pending, side: Option<&WriterLock>) -> Result<()> {
        let sync = || {
            self.syncs.fetch_add(1, Ordering::Relaxed);
            self.file.sync_data()
        };
        let result = match (pending, side) {
            (Pending::Shared(seq), Some(lock)) => lock.await_synced(seq, sync).map(|_| ()),
            _ => sync(),
        };
        result.map_err(|e| {
            self.failed.store(true, Ordering::Release);
            self.error(&format!("fsync failed: {e}"))
        })
    }

    fn error(&self, why: &str) -> Error {
        Error::Io(format!(
            "{}: {why}; the last commits may not survive a power loss, so the handle \
             refuses further calls: reopen the queue",
            self.wal.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::writer_lock::WriterLock;
    use std::cell::Cell;
    use std::time::Duration;

    fn lock_pair() -> (scratch::ScratchDir, WriterLock, WriterLock) {
        let dir = scratch::ScratchDir::new();
        let db = dir.0.join("queue.db");
        std::fs::write(&db, b"").unwrap();
        let a = WriterLock::open(&db).unwrap();
        let b = WriterLock::open(&db).unwrap();
        (dir, a, b)
    }

    /// A sync covers every commit numbered before it, whoever made it: the
    /// second writer's commit needs no fsync of its own; a later one does.
    #[test]
    fn a_sync_covers_the_commits_numbered_before_it() {
        let (_dir, a, b) = lock_pair();
        let wait = Duration::from_secs(1);
        let first = a.acquire(wait).unwrap().note_commit();
        let second = b.acquire(wait).unwrap().note_commit();
        assert_eq!(second, first + 1);
        let syncs = Cell::new(0);
        let sync = || {
            syncs.set(syncs.get() + 1);
            Ok(())
        };
        assert!(a.await_synced(first, sync).unwrap(), "the first syncs");
        assert!(!b.await_synced(second, sync).unwrap(), "covered by it");
        assert!(!a.await_synced(first, sync).unwrap());
        assert_eq!(syncs.get(), 1);
        let third = a.acquire(wait).unwrap().note_commit();
        assert!(b.await_synced(third, sync).unwrap(), "not covered yet");
        assert_eq!(syncs.get(), 2);
    }

    /// A failed sync covers nothing: the next caller syncs again.
    #[test]
    fn a_failed_sync_covers_nothing() {
        let (_dir, a, b) = lock_pair();
        let seq = a.acquire(Duration::from_secs(1)).unwrap().note_commit();
        let failing = || Err(std::io::Error::other("disk gone"));
        assert!(a.await_synced(seq, failing).is_err());
        assert!(b.await_synced(seq, || Ok(())).unwrap(), "synced again");
    }

    mod scratch {
        /// A directory removed on drop.
        pub struct ScratchDir(pub std::path::PathBuf);

        impl ScratchDir {
            pub fn new() -> ScratchDir {
                use std::sync::atomic::{AtomicU32, Ordering};
                static NEXT: AtomicU32 = AtomicU32::new(0);
                let path = std::env::temp_dir().join(format!(
                    "asyncop-wal-sync-{}-{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                ));
                std::fs::create_dir_all(&path).unwrap();
                ScratchDir(path)
            }
        }

        impl Drop for ScratchDir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }
}
