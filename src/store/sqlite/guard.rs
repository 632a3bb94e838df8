//! The descriptors and locks that keep a queue file safe while this process
//! has it open.
//!
//! SQLite's locks are POSIX record locks, which belong to the process and which
//! the kernel drops when the process closes *any* descriptor of the file. Two
//! consequences, both of which lost acknowledged submits:
//!
//! 1. **Our own second open.** Opening a file reads its header to refuse a
//!    foreign file before SQLite touches it. Had that read used a descriptor of
//!    its own and closed it, a second open in a process (two `Queue`s, or a
//!    `Queue` and a `Worker`) would drop the locks of the first; another
//!    process's SQLite could then checkpoint and delete the live WAL. So this
//!    module opens one descriptor per file per process, reads the header through
//!    it, and closes it only after every connection of ours to the file is closed.
//!    An open of a file this process already holds skips the header read.
//! 2. **A second SQLite library in the process** (Python's `sqlite3`, a system
//!    `libsqlite3`). Its connections do not see ours: on close it drops our
//!    locks, finds itself the last user of the file, checkpoints and deletes the
//!    WAL that our connections still write to. On Linux we therefore also hold
//!    *open file description* locks (`F_OFD_SETLK`), which no other descriptor's
//!    close can drop and which conflict with every POSIX lock, the same
//!    process's included: a read lock on the database's SHARED range (nobody can
//!    take the EXCLUSIVE lock needed to delete the WAL) and on the `-shm` file's
//!    dead-man-switch byte (nobody believes it is first and truncates the
//!    shared memory). They are released just before our last connection closes,
//!    so that close may still checkpoint and remove the WAL as usual.
//!
//! Opens are also serialised across processes with a `flock` on the database
//! file (independent of SQLite's record locks), so that a process never judges
//! the header of a file another process is creating.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// SQLite's lock offsets (os_unix.c): the SHARED range of the database file
/// and the dead-man-switch byte of the `-shm` file.
const SHARED_FIRST: i64 = 0x4000_0000 + 2;
const SHARED_SIZE: i64 = 510;
const SHM_DMS: i64 = (22 + 8) * 4 + 8;

/// A database file by device and inode: two paths may name one file.
pub(crate) type FileId = (u64, u64);

/// What this process holds on one database file.
#[derive(Debug)]
struct Held {
    /// Read and write descriptor of the database: header reads, the open lock,
    /// the OFD read lock on the SHARED range.
    db: File,
    /// Descriptor of `-shm` holding the OFD read lock on its DMS byte.
    shm: Option<File>,
    /// Descriptors opened while racing a rename of the path: never closed
    /// before `db` is, for the same reason.
    spare: Vec<File>,
    /// Open `Store`s of this process on the file.
    users: usize,
}

/// Every file this process has open through asyncop. Taken only under the
/// fork gate, so a fork never copies it locked.
static FILES: Mutex<Option<HashMap<FileId, Held>>> = Mutex::new(None);

fn files() -> MutexGuard<'static, Option<HashMap<FileId, Held>>> {
    FILES.lock().unwrap_or_else(|p| p.into_inner())
}

fn io(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Io(format!("{}: {what}", path.display()))
}

/// An open under way: holds the process-wide registry (opens and last closes
/// of one process are serialised) and, for a file this process does not hold
/// yet, its new descriptor with the cross-process open lock.
pub(crate) struct Opening {
    registry: MutexGuard<'static, Option<HashMap<FileId, Held>>>,
    path: PathBuf,
    state: OpeningState,
}

enum OpeningState {
    /// This process already holds the file: it is ours and open.
    Known(FileId),
    /// First open in this process.
    Fresh {
        id: FileId,
        db: File,
        /// We created the file (it did not exist): removed again if the open fails.
        created: bool,
    },
}

impl Opening {
    /// Starts opening `path` (absolute): refuses what is not a regular file,
    /// creates a missing file with `mode`, and waits up to `timeout` for the
    /// cross-process open lock.
    pub(crate) fn begin(path: &Path, mode: u32, timeout: Duration) -> Result<Opening> {
        // Refuse FIFOs, devices and directories before opening: open(2) of a
        // FIFO would block until a writer appears.
        match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => {
                return Err(io(path, "not a regular file"));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(path, e)),
        }
        let registry = files();
        let mut opening = Opening {
            registry,
            path: path.to_path_buf(),
            state: OpeningState::Known((0, 0)),
        };
        if let Ok(meta) = std::fs::metadata(path) {
            let id = (meta.dev(), meta.ino());
            if opening.map().contains_key(&id) {
                opening.state = OpeningState::Known(id);
                return Ok(opening);
            }
        }
        let deadline = Instant::now() + timeout;
        loop {
            let (db, created) = open_or_create(path, mode)?;
            let meta = db.metadata().map_err(|e| io(path, e))?;
            if !meta.is_file() {
                return Err(io(path, "not a regular file"));
            }
            let id = (meta.dev(), meta.ino());
            if let Some(held) = opening.map().get_mut(&id) {
                // The path was renamed onto a file we hold between the two looks:
                // keep the descriptor (closing it would drop our locks).
                held.spare.push(db);
                opening.state = OpeningState::Known(id);
                return Ok(opening);
            }
            lock_exclusive(
                &db,
                path,
                deadline.saturating_duration_since(Instant::now()),
            )?;
            // A process that created the file and then failed to open it removes
            // it again: if that happened while we waited, start over.
            if std::fs::metadata(path).is_ok_and(|m| (m.dev(), m.ino()) == id) {
                opening.state = OpeningState::Fresh { id, db, created };
                return Ok(opening);
            }
            unlock_exclusive(&db);
        }
    }

    fn map(&mut self) -> &mut HashMap<FileId, Held> {
        self.registry.get_or_insert_with(HashMap::new)
    }

    /// The descriptor to read the header through; `None` when this process
    /// already has the file open (it was judged ours then).
    pub(crate) fn header_source(&self) -> Option<&File> {
        match &self.state {
            OpeningState::Known(_) => None,
            OpeningState::Fresh { db, .. } => Some(db),
        }
    }

    /// The connections are open and the schema is in place: takes the guard
    /// locks (first open only), registers the file and releases the open lock.
    pub(crate) fn finish(mut self) -> Result<FileId> {
        let state = std::mem::replace(&mut self.state, OpeningState::Known((0, 0)));
        let id = match state {
            OpeningState::Known(id) => {
                if let Some(held) = self.map().get_mut(&id) {
                    held.users += 1;
                }
                id
            }
            OpeningState::Fresh { id, db, .. } => {
                let shm = guard_locks(&self.path, &db);
                unlock_exclusive(&db);
                self.map().insert(
                    id,
                    Held {
                        db,
                        shm,
                        spare: Vec::new(),
                        users: 1,
                    },
                );
                id
            }
        };
        Ok(id)
    }
}

impl Drop for Opening {
    fn drop(&mut self) {
        // A failed open: every connection made meanwhile is already closed
        // (declared after the `Opening`), so closing `db` drops no lock of ours.
        // The file we created is removed while we still hold the open lock, so
        // an opener waiting for it sees the path change and starts over.
        if let OpeningState::Fresh { db, created, .. } = &self.state {
            if *created && db.metadata().is_ok_and(|m| m.len() == 0) {
                let _ = std::fs::remove_file(&self.path);
            }
            unlock_exclusive(db);
        }
    }
}

/// Opens the database read-write, creating it with exactly `mode` if missing.
fn open_or_create(path: &Path, mode: u32) -> Result<(File, bool)> {
    let mut options = std::fs::OpenOptions::new();
    options
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    match options.clone().create_new(true).mode(mode).open(path) {
        Ok(file) => {
            // The umask may have taken bits away (0o660 under 022 is 0o640).
            file.set_permissions(std::fs::Permissions::from_mode(mode))
                .map_err(|e| io(path, e))?;
            Ok((file, true))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let file = options.open(path).map_err(|e| io(path, e))?;
            Ok((file, false))
        }
        Err(e) => Err(io(path, e)),
    }
}

fn lock_exclusive(db: &File, path: &Path, timeout: Duration) -> Result<()> {
    let started = Instant::now();
    loop {
        // SAFETY: a valid descriptor; flock has no memory arguments.
        if unsafe { libc::flock(db.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EWOULDBLOCK)
            && err.kind() != std::io::ErrorKind::Interrupted
        {
            return Err(io(path, format!("cannot lock the file: {err}")));
        }
        if started.elapsed() >= timeout {
            return Err(Error::Busy);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn unlock_exclusive(db: &File) {
    // SAFETY: a valid descriptor; flock has no memory arguments.
    unsafe { libc::flock(db.as_raw_fd(), libc::LOCK_UN) };
}

/// Takes the OFD read locks on the SHARED range of `db` and on the DMS byte of
/// `-shm`. Best effort: without them we are as safe as plain SQLite.
fn guard_locks(path: &Path, db: &File) -> Option<File> {
    ofd_lock(db, libc::F_RDLCK, SHARED_FIRST, SHARED_SIZE);
    let mut shm = path.as_os_str().to_owned();
    shm.push("-shm");
    let shm = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(PathBuf::from(shm))
        .ok()?;
    ofd_lock(&shm, libc::F_RDLCK, SHM_DMS, 1);
    Some(shm)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn ofd_lock(file: &File, kind: libc::c_int, start: i64, len: i64) -> bool {
    let lock = libc::flock {
        l_type: kind as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: start,
        l_len: len,
        l_pid: 0,
    };
    // SAFETY: a valid descriptor and a fully initialised flock; OFD locks need l_pid = 0.
    unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &lock) == 0 }
}

/// No open file description locks on this platform: the guard against a
/// second SQLite library in the process is Linux-only.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn ofd_lock(_file: &File, _kind: libc::c_int, _start: i64, _len: i64) -> bool {
    false
}

/// Closes one `Store` of the file: `close_connections` closes its connections.
/// The last `Store` of the process first takes the open lock (so no opener
/// reads the header during the final checkpoint) and releases the guard locks
/// (so SQLite's last close may checkpoint and delete the WAL), and closes the
/// descriptors only after the connections.
pub(crate) fn release(id: FileId, timeout: Duration, close_connections: impl FnOnce()) {
    let mut registry = files();
    let map = registry.get_or_insert_with(HashMap::new);
    let last = map.get(&id).is_some_and(|h| h.users <= 1);
    if !last {
        close_connections();
        if let Some(held) = map.get_mut(&id) {
            held.users -= 1;
        }
        return;
    }
    let Some(held) = map.remove(&id) else {
        close_connections();
        return;
    };
    // If the lock does not come in time, close anyway: closing must not fail.
    let locked = lock_exclusive(&held.db, Path::new(""), timeout).is_ok();
    ofd_lock(&held.db, libc::F_UNLCK, SHARED_FIRST, SHARED_SIZE);
    if let Some(shm) = &held.shm {
        ofd_lock(shm, libc::F_UNLCK, SHM_DMS, 1);
    }
    close_connections();
    if locked {
        unlock_exclusive(&held.db);
    }
    drop(held);
}
