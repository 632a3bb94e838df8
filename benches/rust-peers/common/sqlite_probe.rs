//! Included (`#[path]`) by the peers built on rusqlite, whose own connections the benchmark
//! cannot reach through their APIs: an SQLite auto-extension sees every connection this
//! process opens, records it, and can set `PRAGMA synchronous` on it, so that the
//! `synchronous` each cell reports is read back from the connection that committed rather
//! than assumed. Compiled against the peer's own rusqlite (and so its own SQLite).

// Each peer uses the parts it needs.
#![allow(dead_code)]

use rusqlite::{Connection, ffi};
use std::os::raw::{c_char, c_int};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Every connection opened since [`install`], in order (as addresses).
static OPENED: Mutex<Vec<usize>> = Mutex::new(Vec::new());
/// The `PRAGMA synchronous` level to set on each new connection; negative: none.
static SET_SYNCHRONOUS: AtomicI32 = AtomicI32::new(-1);

/// Runs inside `sqlite3_open_v2` for each new connection.
unsafe extern "C" fn on_open(
    db: *mut ffi::sqlite3,
    _err: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    if let Ok(mut opened) = OPENED.lock() {
        opened.push(db as usize);
    }
    let level = SET_SYNCHRONOUS.load(Ordering::SeqCst);
    if level >= 0 {
        let sql = format!("PRAGMA synchronous = {level}\0");
        // SAFETY: `db` is the connection being opened, valid for this call; the SQL is a
        // NUL-terminated string that outlives the call; no callback, no error message out.
        return unsafe {
            ffi::sqlite3_exec(
                db,
                sql.as_ptr().cast(),
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
    }
    ffi::SQLITE_OK
}

/// Registers the auto-extension; `synchronous`: the level to set on every connection opened
/// from now on (1 NORMAL, 2 FULL), or `None` to leave the peer's own setting.
pub fn install(synchronous: Option<i32>) -> Res<()> {
    SET_SYNCHRONOUS.store(synchronous.unwrap_or(-1), Ordering::SeqCst);
    let entry: unsafe extern "C" fn(
        *mut ffi::sqlite3,
        *mut *mut c_char,
        *const ffi::sqlite3_api_routines,
    ) -> c_int = on_open;
    // SAFETY: libsqlite3-sys versions differ only in the constness of the error-message
    // pointer (`*mut *mut c_char` / `*mut *const c_char`), which `on_open` never touches:
    // the two function pointer types have the same ABI. The target type is whichever this
    // version declares, so it cannot be written down (and with some versions it is the same
    // type): hence the `allow`s.
    #[allow(clippy::useless_transmute, clippy::missing_transmute_annotations)]
    let rc = unsafe { ffi::sqlite3_auto_extension(Some(std::mem::transmute(entry))) };
    if rc != ffi::SQLITE_OK {
        return Err(format!("sqlite3_auto_extension failed: {rc}").into());
    }
    Ok(())
}

/// `PRAGMA synchronous` of the `n`-th connection opened since [`install`] (0: the first),
/// which must still be open (its owner, the peer, is alive).
pub fn synchronous_of(n: usize) -> Res<i64> {
    let db = *OPENED
        .lock()
        .map_err(|_| "poisoned")?
        .get(n)
        .ok_or_else(|| format!("no connection #{n} was opened"))?;
    // SAFETY: the handle belongs to a connection the peer still holds open; `from_handle`
    // does not close it on drop; SQLite serialises calls on one connection (threadsafe build).
    let conn = unsafe { Connection::from_handle(db as *mut ffi::sqlite3)? };
    Ok(conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?)
}

/// The SQLite library version this peer runs on.
pub fn sqlite_version() -> &'static str {
    rusqlite::version()
}

/// `PRAGMA synchronous` of every connection opened since [`install`] that is still open.
/// Call it while the peer's connections are alive.
pub fn synchronous_of_all() -> Res<Vec<i64>> {
    let n = OPENED.lock().map_err(|_| "poisoned")?.len();
    (0..n).map(synchronous_of).collect()
}

/// Sets `PRAGMA synchronous` on the `n`-th connection opened (for an untimed prefill at OFF,
/// put back before the measured phase).
pub fn set_synchronous(n: usize, level: i64) -> Res<()> {
    let db = *OPENED
        .lock()
        .map_err(|_| "poisoned")?
        .get(n)
        .ok_or_else(|| format!("no connection #{n} was opened"))?;
    // SAFETY: as in `synchronous_of`.
    let conn = unsafe { Connection::from_handle(db as *mut ffi::sqlite3)? };
    conn.pragma_update(None, "synchronous", level)?;
    Ok(())
}
