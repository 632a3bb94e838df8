//! Fork safety for processes that fork while asyncop is in use (Python's
//! `multiprocessing` does by default on Linux).
//!
//! 1. **No fork inside SQLite.** A mutex that another thread holds at fork time
//!    stays locked forever in the child; SQLite has such mutexes (per file, per
//!    shared-memory node), so a child's first SQLite call could hang. Every use
//!    of SQLite holds [`gate`] shared; a `pthread_atfork` prepare hook takes it
//!    exclusively, so `fork()` waits until no thread is inside SQLite, and both
//!    sides release it afterwards. (std's futex-based `RwLock` is used because
//!    releasing it in the child needs no user-space lock, only a futex wake.)
//! 2. **The child's locks are real.** SQLite keeps per-process lock bookkeeping
//!    per file; a child inherits the parent's, so its new connections believe
//!    they already hold the database's SHARED lock and the `-shm` dead-man
//!    switch, while the OS gives a child none of its parent's locks. Another
//!    process could then delete the WAL on its last close, or truncate the
//!    `-shm` file, under the child. [`pin_inherited_locks`] takes those two
//!    read locks for real, on descriptors kept open until the child exits.
//!
//! Connections inherited from the parent are never used nor closed in the
//! child (see `Store::abandon` and the C ABI's fork epochs).

use std::cell::RefCell;
use std::os::unix::io::IntoRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Once, RwLock, RwLockReadGuard, RwLockWriteGuard};

static GATE: RwLock<()> = RwLock::new(());
static HOOKS: Once = Once::new();
/// Set in a child of a fork (and its descendants).
static FORKED_CHILD: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// The exclusive hold taken by the prepare hook, released by the parent or
    /// child hook; all three run on the thread that calls fork().
    static HELD: RefCell<Option<RwLockWriteGuard<'static, ()>>> = const { RefCell::new(None) };
}

extern "C" fn prepare() {
    let guard = GATE.write().unwrap_or_else(|p| p.into_inner());
    let _ = HELD.try_with(|h| *h.borrow_mut() = Some(guard));
}

extern "C" fn parent() {
    let _ = HELD.try_with(|h| drop(h.borrow_mut().take()));
}

extern "C" fn child() {
    FORKED_CHILD.store(true, Ordering::SeqCst);
    let _ = HELD.try_with(|h| drop(h.borrow_mut().take()));
}

/// Held (shared) by every piece of code that calls into SQLite. Never nest it:
/// a pending fork would make the inner acquisition wait for the outer one.
pub(crate) fn gate() -> RwLockReadGuard<'static, ()> {
    HOOKS.call_once(|| {
        // SAFETY: the hooks only take and release `GATE` and set an atomic.
        // If registration fails (ENOMEM), fork safety is off; nothing else breaks.
        unsafe {
            libc::pthread_atfork(Some(prepare), Some(parent), Some(child));
        }
    });
    // A panic while holding a read guard does not poison a std RwLock; a
    // poisoned write guard cannot happen (the hooks do not panic).
    GATE.read().unwrap_or_else(|p| p.into_inner())
}

/// Whether this process is a (descendant) child of a fork made while asyncop was loaded.
pub(crate) fn is_forked_child() -> bool {
    FORKED_CHILD.load(Ordering::SeqCst)
}

/// SQLite's lock offsets (os_unix.c): the SHARED lock range of the database
/// file and the dead-man-switch byte of the `-shm` file.
const SHARED_FIRST: i64 = 0x4000_0000 + 2;
const SHARED_SIZE: i64 = 510;
const SHM_DMS: i64 = (22 + 8) * 4 + 8;

/// Files (device, inode) whose locks this process already pinned.
static PINNED: std::sync::Mutex<Vec<(u64, u64)>> = std::sync::Mutex::new(Vec::new());

fn read_lock(path: &Path, start: i64, len: i64) {
    let Ok(file) = std::fs::File::open(path) else {
        return;
    };
    let lock = libc::flock {
        l_type: libc::F_RDLCK as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: start,
        l_len: len,
        l_pid: 0,
    };
    // SAFETY: a valid descriptor and a fully initialised flock.
    let rc = unsafe {
        libc::fcntl(
            std::os::unix::io::AsRawFd::as_raw_fd(&file),
            libc::F_SETLK,
            &lock,
        )
    };
    if rc == 0 {
        // Closing any descriptor of a file drops all of the process's locks on
        // it: this one stays open until the process exits.
        let _ = file.into_raw_fd();
    }
}

/// In a forked child, before it opens `path`: takes for real the read locks
/// that SQLite's inherited bookkeeping thinks this process holds. Best effort
/// (a lock another process holds exclusively at this instant is skipped); once
/// per file per process; a no-op outside forked children.
pub(crate) fn pin_inherited_locks(path: &Path) {
    if !is_forked_child() {
        return;
    }
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    let id = (
        std::os::unix::fs::MetadataExt::dev(&meta),
        std::os::unix::fs::MetadataExt::ino(&meta),
    );
    let mut pinned = PINNED.lock().unwrap_or_else(|p| p.into_inner());
    if pinned.contains(&id) {
        return;
    }
    pinned.push(id);
    read_lock(path, SHARED_FIRST, SHARED_SIZE);
    let mut shm = path.as_os_str().to_owned();
    shm.push("-shm");
    read_lock(Path::new(&shm), SHM_DMS, 1);
}
