//! The writer queue across processes: a side lock file `<db>-lock` that
//! writers take before `BEGIN IMMEDIATE` and release after the transaction ends.
//!
//! Without it, processes that write in a tight loop (workers draining a queue)
//! meet only in SQLite's write lock, which cannot be waited for: a loser sleeps
//! in the busy handler while the lock sits free, and adding processes made a
//! drain slower. With it, waiters sleep in the kernel and the one that ends its
//! transaction wakes the waiters at once.
//!
//! * **Ownership** is a POSIX record lock (`F_SETLK`, write lock on byte 8):
//!   it belongs to the process, so the kernel drops it when the holder dies
//!   (even by SIGKILL), and a forked child never inherits it. Only this module
//!   opens the file, so no other close of ours can drop it early (two stores of
//!   one file in one process share the process's lock: only the queueing
//!   between them is lost, SQLite's lock still orders them).
//! * **Waiting** is a futex on the first 4 bytes of the file, mapped shared: a
//!   release bumps that generation and wakes every waiter, which then retry the
//!   record lock: whichever runs first takes it (what `flock` does on Linux; a
//!   wake of one waiter left the lock idle until that one process was scheduled,
//!   measured 10–25% slower with 8 processes on a loaded 2-core machine). The
//!   futex wait has a timeout, so the busy timeout still holds, and a holder
//!   that died without waking anybody costs a waiter at most one `SLICE`.
//!   Bytes 4..8 count the waiters, so that an uncontended release makes no
//!   wake call.
//! * **It is only a queue.** SQLite's own lock stays the authority: older
//!   asyncop versions (and other SQLite programs) that do not take the side
//!   lock are still safe, they merely do not queue. A writer that cannot get
//!   the side lock within the busy timeout goes on without it, and an unusable
//!   lock file (cannot be created, opened or mapped) means no side lock at all.
//! * Readers never take it.
//! * **Shared syncs.** At `Durability::Full` a writer commits without an fsync
//!   while it holds the lock, numbers its commit (bytes 16..24), and makes it
//!   durable after releasing the lock (`wal_sync`): whoever syncs the WAL
//!   records the last commit number it covered (bytes 24..32), so a process
//!   whose commit is already covered skips its own fsync. The sync itself is
//!   serialised by a second record lock (byte 9), blocking: released by the
//!   kernel if its holder dies, so nobody waits for a dead syncer.
//!
//! Off Linux there is no futex: waiters poll the record lock with short sleeps.

use std::fs::File;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The file's size: the futex generation (bytes 0..4), the waiter count
/// (bytes 4..8), the locked bytes (8: writer, 9: syncer), the last commit
/// number (16..24) and the last commit number known durable (24..32).
/// Files of 16 bytes (made before shared syncs) are grown; never shrunk.
const FILE_LEN: u64 = 32;
/// The byte whose record lock is the writer's.
const LOCK_BYTE: i64 = 8;
/// The byte whose record lock is the syncer's.
const SYNC_BYTE: i64 = 9;
/// The longest single sleep of a waiter before it retries the record lock:
/// bounds what a holder that died without waking anybody costs.
const SLICE: Duration = Duration::from_millis(10);

/// The path of the side lock of the database at `db`.
pub(crate) fn lock_path(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push("-lock");
    PathBuf::from(s)
}

/// What the side lock did (for tests and the benchmark).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriterLockStats {
    /// Transactions that held the side lock.
    pub taken: u64,
    /// Of those, transactions that had to wait for it (another process held it).
    pub waited: u64,
    /// Transactions that gave up waiting within the busy timeout and went on
    /// without it.
    pub timed_out: u64,
}

/// The open side lock of one store.
pub(super) struct WriterLock {
    file: File,
    /// The shared mapping of the file's first `FILE_LEN` bytes.
    map: *mut u8,
    taken: AtomicU64,
    waited: AtomicU64,
    timed_out: AtomicU64,
}

// SAFETY: `map` points at a shared mapping that lives as long as `self` and is
// only ever accessed through atomics.
unsafe impl Send for WriterLock {}
// SAFETY: as above.
unsafe impl Sync for WriterLock {}

impl std::fmt::Debug for WriterLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterLock")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl WriterLock {
    /// Opens (creating it with the database's permission bits if missing) the
    /// side lock of the database at `db`. `None` if it cannot be used: writers
    /// then meet in SQLite's lock alone, as before.
    pub(super) fn open(db: &Path) -> Option<WriterLock> {
        let mode = std::fs::metadata(db).ok()?.mode() & 0o777;
        let path = lock_path(db);
        let mut options = std::fs::OpenOptions::new();
        options
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NOCTTY);
        let file = match options.clone().create_new(true).mode(mode).open(&path) {
            Ok(file) => {
                // The umask may have taken bits away.
                file.set_permissions(std::fs::Permissions::from_mode(mode))
                    .ok()?;
                file
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => options.open(&path).ok()?,
            Err(_) => return None,
        };
        let meta = file.metadata().ok()?;
        if !meta.is_file() {
            return None;
        }
        // Never shrinks it: a mapped page past the end would fault.
        if meta.len() < FILE_LEN {
            file.set_len(FILE_LEN).ok()?;
        }
        // SAFETY: a valid descriptor of a regular file at least FILE_LEN long;
        // the mapping is unmapped in Drop.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                FILE_LEN as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return None;
        }
        Some(WriterLock {
            file,
            map: map.cast(),
            taken: AtomicU64::new(0),
            waited: AtomicU64::new(0),
            timed_out: AtomicU64::new(0),
        })
    }

    /// What the lock did so far.
    pub(super) fn stats(&self) -> WriterLockStats {
        WriterLockStats {
            taken: self.taken.load(Ordering::Relaxed),
            waited: self.waited.load(Ordering::Relaxed),
            timed_out: self.timed_out.load(Ordering::Relaxed),
        }
    }

    fn generation(&self) -> &AtomicU32 {
        // SAFETY: the mapping is FILE_LEN bytes, page aligned, alive while self is.
        unsafe { &*self.map.cast::<AtomicU32>() }
    }

    fn waiters(&self) -> &AtomicU32 {
        // SAFETY: as in `generation`, 4 bytes further.
        unsafe { &*self.map.add(4).cast::<AtomicU32>() }
    }

    /// The number of the last commit made under the lock.
    fn committed(&self) -> &AtomicU64 {
        // SAFETY: as in `generation`; offset 16 is 8-byte aligned.
        unsafe { &*self.map.add(16).cast::<AtomicU64>() }
    }

    /// The number of the last commit known to be durable.
    fn synced(&self) -> &AtomicU64 {
        // SAFETY: as in `committed`, 8 bytes further.
        unsafe { &*self.map.add(24).cast::<AtomicU64>() }
    }

    /// Makes the commit numbered `seq` (from `Held::note_commit`) durable:
    /// returns at once if a sync since covered it, otherwise waits for the
    /// sync in progress (if any), and runs `sync` itself only if that one did
    /// not cover it either. `Ok(true)` when this call ran `sync`.
    pub(super) fn await_synced(
        &self,
        seq: u64,
        sync: impl FnOnce() -> std::io::Result<()>,
    ) -> std::io::Result<bool> {
        if self.synced().load(Ordering::Acquire) >= seq {
            return Ok(false);
        }
        // Without the record lock the sync is still correct, only not shared.
        let locked = lock_blocking(&self.file, SYNC_BYTE);
        if locked && self.synced().load(Ordering::Acquire) >= seq {
            record_lock_at(&self.file, libc::F_UNLCK, SYNC_BYTE);
            return Ok(false);
        }
        // Read before the sync: every commit numbered up to here has written
        // its frames already (numbers are taken after COMMIT), so the sync
        // covers them all.
        let target = self.committed().load(Ordering::Acquire);
        let result = sync();
        if result.is_ok() {
            self.synced().fetch_max(target, Ordering::AcqRel);
        }
        if locked {
            record_lock_at(&self.file, libc::F_UNLCK, SYNC_BYTE);
        }
        result.map(|()| true)
    }

    /// Takes the lock, waiting up to `timeout`. `None` when it could not be
    /// had (timed out, or the record lock failed): the caller goes on without.
    pub(super) fn acquire(&self, timeout: Duration) -> Option<Held<'_>> {
        match self.try_lock() {
            Attempt::Taken => {
                self.taken.fetch_add(1, Ordering::Relaxed);
                return Some(Held(self));
            }
            Attempt::Failed => return None,
            Attempt::Busy => {}
        }
        let deadline = Instant::now() + timeout;
        loop {
            let now = Instant::now();
            if now >= deadline {
                self.timed_out.fetch_add(1, Ordering::Relaxed);
                return None;
            }
            // Counted and read before the retry: a release after that retry
            // changes the generation, so the wait below returns at once.
            self.waiters().fetch_add(1, Ordering::SeqCst);
            let seen = self.generation().load(Ordering::SeqCst);
            let attempt = self.try_lock();
            if matches!(attempt, Attempt::Busy) {
                self.wait(seen, (deadline - now).min(SLICE));
            }
            self.waiters().fetch_sub(1, Ordering::SeqCst);
            match attempt {
                Attempt::Taken => {}
                Attempt::Failed => return None,
                Attempt::Busy => match self.try_lock() {
                    Attempt::Taken => {}
                    Attempt::Failed => return None,
                    Attempt::Busy => continue,
                },
            }
            self.taken.fetch_add(1, Ordering::Relaxed);
            self.waited.fetch_add(1, Ordering::Relaxed);
            return Some(Held(self));
        }
    }

    fn try_lock(&self) -> Attempt {
        if record_lock(&self.file, libc::F_WRLCK) {
            return Attempt::Taken;
        }
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::EAGAIN | libc::EACCES | libc::EINTR) => Attempt::Busy,
            _ => Attempt::Failed,
        }
    }

    fn release(&self) {
        record_lock(&self.file, libc::F_UNLCK);
        self.generation().fetch_add(1, Ordering::SeqCst);
        if self.waiters().load(Ordering::SeqCst) > 0 {
            self.wake_all();
        }
    }

    /// Sleeps until the generation is no longer `seen`, a wake, or `limit`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn wait(&self, seen: u32, limit: Duration) {
        let ts = libc::timespec {
            tv_sec: limit.as_secs() as libc::time_t,
            tv_nsec: limit.subsec_nanos() as libc::c_long,
        };
        // SAFETY: the word is a live, aligned u32 of a shared mapping; a
        // shared (not private) futex, so that other processes' wakes reach it.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                self.generation().as_ptr(),
                libc::FUTEX_WAIT,
                seen,
                &ts as *const libc::timespec,
            );
        }
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn wake_all(&self) {
        // SAFETY: as in `wait`.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                self.generation().as_ptr(),
                libc::FUTEX_WAKE,
                i32::MAX,
            );
        }
    }

    /// No futex: a short sleep, then the caller retries.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn wait(&self, seen: u32, limit: Duration) {
        if self.generation().load(Ordering::SeqCst) == seen {
            std::thread::sleep(limit.min(Duration::from_micros(200)));
        }
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn wake_all(&self) {}
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `open`, unmapped once.
        unsafe { libc::munmap(self.map.cast(), FILE_LEN as usize) };
    }
}

enum Attempt {
    Taken,
    /// Another process holds it.
    Busy,
    /// The record lock does not work here (e.g. a file system without locks).
    Failed,
}

/// The side lock, held until dropped.
pub(super) struct Held<'a>(&'a WriterLock);

impl Held<'_> {
    /// Numbers a commit just made under this lock, for `await_synced`.
    pub(super) fn note_commit(&self) -> u64 {
        // Only the holder writes it: a plain increment would do, but an
        // older holder that died mid-update must not matter either.
        self.0.committed().fetch_add(1, Ordering::AcqRel) + 1
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// Sets (`F_WRLCK`) or clears (`F_UNLCK`) this process's record lock on the
/// lock byte, without waiting.
fn record_lock(file: &File, kind: libc::c_int) -> bool {
    record_lock_at(file, kind, LOCK_BYTE)
}

/// `record_lock` on the byte `at`.
fn record_lock_at(file: &File, kind: libc::c_int, at: i64) -> bool {
    let lock = flock_of(kind, at);
    // SAFETY: a valid descriptor and a fully initialised flock.
    unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &lock) == 0 }
}

/// Takes this process's write record lock on the byte `at`, waiting for it in
/// the kernel; `false` if record locks do not work here.
fn lock_blocking(file: &File, at: i64) -> bool {
    let lock = flock_of(libc::F_WRLCK, at);
    loop {
        // SAFETY: a valid descriptor and a fully initialised flock.
        if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLKW, &lock) } == 0 {
            return true;
        }
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return false;
        }
    }
}

fn flock_of(kind: libc::c_int, at: i64) -> libc::flock {
    libc::flock {
        l_type: kind as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: at,
        l_len: 1,
        l_pid: 0,
    }
}

/// How many waiters the side lock of the database at `db` counts now (tests).
pub(super) fn waiting(db: &Path) -> Option<u32> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .open(lock_path(db))
        .ok()?;
    let mut bytes = [0u8; 8];
    std::os::unix::fs::FileExt::read_exact_at(&file, &mut bytes, 0).ok()?;
    Some(u32::from_ne_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]))
}
