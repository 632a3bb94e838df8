//! Waiting for the write lock that another process holds.
//!
//! SQLite's own busy handler sleeps 1, 2, 5, 10, ... then 100 ms between tries.
//! Against a process that commits in a tight loop (a worker draining a queue),
//! a process that once lost the race then sleeps long and tries rarely, while
//! the lock is free only for microseconds between the other's transactions: it
//! can starve for seconds. This handler keeps every waiter in the race with
//! short jittered sleeps (50 µs growing to at most 1 ms), within the same
//! overall timeout.

use crate::error::{Error, Result};
use rusqlite::Connection;
use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::time::{Duration, Instant};

/// Installs the handler on `conn` with `timeout` as the total wait per lock attempt.
pub(super) fn install(conn: &Connection, timeout: Duration) -> Result<()> {
    // The timeout travels in the handler's context pointer: no allocation to
    // keep alive beside the connection.
    let ms = usize::try_from(timeout.as_millis()).unwrap_or(usize::MAX);
    // SAFETY: the handle is a live connection; `busy_wait` is a plain function
    // that never unwinds and reads its context only as an integer.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_busy_handler(conn.handle(), Some(busy_wait), ms as *mut c_void)
    };
    if rc == rusqlite::ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(Error::Internal(format!(
            "sqlite3_busy_handler failed ({rc})"
        )))
    }
}

thread_local! {
    /// When the current lock attempt of this thread started waiting.
    static STARTED: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Returns non-zero to make SQLite try again, zero to give up with SQLITE_BUSY.
/// `count` is the number of earlier calls for the same lock attempt.
unsafe extern "C" fn busy_wait(context: *mut c_void, count: c_int) -> c_int {
    let timeout = Duration::from_millis(context as usize as u64);
    let now = Instant::now();
    let started = if count == 0 {
        let _ = STARTED.try_with(|s| s.set(Some(now)));
        now
    } else {
        STARTED.try_with(Cell::get).ok().flatten().unwrap_or(now)
    };
    let waited = now.saturating_duration_since(started);
    if waited >= timeout {
        return 0;
    }
    let base_us: u64 = 50u64 << count.clamp(0, 4);
    let base = Duration::from_micros(base_us.min(1_000));
    let pause = (base + jitter(base, count)).min(timeout - waited);
    std::thread::sleep(pause);
    1
}

/// Up to half of `base`, varying per thread and per call, so that processes
/// that lost the same race do not retry in lockstep.
fn jitter(base: Duration, count: c_int) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut x = u64::from(nanos) ^ (u64::from(count.unsigned_abs()) << 32);
    // splitmix64 finaliser: cheap and well spread.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    let half = u64::try_from(base.as_nanos() / 2).unwrap_or(0).max(1);
    Duration::from_nanos(x % half)
}
