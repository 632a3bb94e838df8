//! Detects a WAL deleted or replaced under this process.
//!
//! While any connection of ours is open, nobody following SQLite's locking can
//! delete the `-wal` file (and `guard` holds locks that a second SQLite library
//! in this process cannot drop). Something that ignores the locks can: a user's
//! `rm`, a copy over the file, a platform without OFD locks with another SQLite
//! library in the process. SQLite would then go on appending commits to a file
//! that no longer has a name, and every one of them would be lost at the next
//! open. So each write checks, after its commit, that the `-wal` path still
//! names the file that was there at open; if not, the call fails with `Io` and
//! the handle refuses everything after it, instead of acknowledging commits
//! that cannot survive.

use crate::error::{Error, Result};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug)]
pub(crate) struct WalIdentity {
    wal: PathBuf,
    /// (device, inode) of the `-wal` at open; `None` if it had none to see.
    id: Option<(u64, u64)>,
    lost: AtomicBool,
}

fn identity(wal: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(wal).ok().map(|m| (m.dev(), m.ino()))
}

impl WalIdentity {
    /// Records the `-wal` beside `db` as it is now (after a first read opened it).
    pub(crate) fn record(db: &Path) -> WalIdentity {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        let wal = PathBuf::from(wal);
        WalIdentity {
            id: identity(&wal),
            wal,
            lost: AtomicBool::new(false),
        }
    }

    fn error(&self) -> Error {
        Error::Io(format!(
            "{} was deleted or replaced while this process had the queue open \
             (another SQLite library or a program that ignores SQLite's locks?): \
             commits made through this handle since then may be lost; the handle \
             refuses further calls, reopen the queue",
            self.wal.display()
        ))
    }

    /// `Err` once a change was seen.
    pub(crate) fn ensure_intact(&self) -> Result<()> {
        if self.lost.load(Ordering::Acquire) {
            Err(self.error())
        } else {
            Ok(())
        }
    }

    /// After a commit: is the `-wal` still the file SQLite writes?
    pub(crate) fn check(&self) -> Result<()> {
        let Some(id) = self.id else {
            return Ok(());
        };
        if identity(&self.wal) == Some(id) {
            Ok(())
        } else {
            self.lost.store(true, Ordering::Release);
            Err(self.error())
        }
    }
}
