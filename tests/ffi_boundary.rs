//! The C ABI's boundary, driven through the `rlib` by calling the `extern "C"`
//! exports directly (`shared/spec/ffi-conventions.md` §1–§7).
//!
//! * `panic_returns_err_panic_and_poisons_only_that_handle`,
//!   `panics_with_non_string_payloads_are_caught_too`: a clock injected into a core
//!   queue panics on demand; the call returns `ASYNCOP_ERR_PANIC`, the process lives,
//!   the message is `internal panic: …`, the handle is poisoned (close still works),
//!   other handles are not, and the panicking write was rolled back.
//! * `a_call_made_while_the_caller_unwinds_does_not_poison_the_handle`: a call that
//!   does not panic, made from a `Drop` while the *caller* unwinds, must not poison.
//! * `closing_a_queue_races_calls_on_other_threads`,
//!   `freeing_a_lease_races_renewals_on_other_threads`: every racing call gives OK or
//!   `ASYNCOP_ERR_CLOSED_HANDLE`, every call started after the close the latter;
//!   `closing_a_queue_wakes_blocked_poll_and_wait_for`.
//! * `handles_are_validated`: NULL, forged, foreign-typed, freed and reused handles;
//!   `forged_handles_with_high_bits_set_are_invalid` (top byte set: must not be
//!   taken for an inherited handle), `a_slot_is_retired_before_its_generation_wraps`.
//! * `last_error_semantics`: cleared per call, set on every failure, thread-local,
//!   snprintf-like with cuts on UTF-8 boundaries, untouched by the static getters.
//! * `status_table_matches_the_spec_and_the_header`, `core_errors_map_to_their_codes`.
//! * `buffers_strings_and_payloads`: the `(buf, cap, *out_len)` convention.
//! * `forked_child_gets_forked_and_opens_its_own_queue`: `fork()` from a test.
//! * `complete_many_reports_per_lease_and_whole_call_failures`,
//!   `a_panic_in_complete_many_poisons_the_listed_leases`: the batch complete's
//!   `out_results` and messages (BUSY, per-lease LEASE_LOST, a closed queue).
//! * `versions_match_cargo_and_the_header`.
//!
//! Fork and threads. libtest runs these tests on several threads, and after `fork()`
//! only the forking thread exists in the child: any lock another thread held at that
//! moment (SQLite's global mutexes, the handle registry, a `Store` mutex) stays held
//! forever, and a child that touches it hangs. The child here opens a queue, so it
//! needs SQLite. Every test of this file therefore holds `FORK_GUARD` for reading for
//! its whole run and the fork test holds it for writing: when it forks, no other
//! test of this binary (a separate process from the other test files) is inside
//! asyncop or SQLite, and the threads it spawns have all been joined. glibc's
//! `malloc` is fork-safe (its arena locks are taken around `fork`), so the child may
//! allocate; it prints nothing (libtest's main thread may hold the stdout lock),
//! catches any panic, reports through a pipe and always leaves with `_exit`. The
//! parent waits with a deadline and kills a hung child, so a regression fails the
//! test instead of hanging it. This works under the default multi-threaded harness
//! and with `--test-threads=1` alike.
//!
//! Handle tokens are opaque to C; a few tests still decode the slot (the low 32 bits,
//! see `src/ffi/handles.rs`) to prove that a stale token stays closed after its slot
//! was reused.

mod support;

use asyncop::ffi::asyncop_status::*;
use asyncop::ffi::lease::*;
use asyncop::ffi::operation::*;
use asyncop::ffi::options::*;
use asyncop::ffi::queue::*;
use asyncop::ffi::spec::*;
use asyncop::ffi::*;
use asyncop::{Clock, Durability, Options, Queue};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{CStr, CString};
use std::io::Read;
use std::os::fd::FromRawFd;
use std::path::Path;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Barrier, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread;
use std::time::{Duration, Instant};
use support::{T0, TempDir};

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

/// Shared by every test, exclusive for the fork test (see the module docs).
static FORK_GUARD: RwLock<()> = RwLock::new(());

fn shared() -> RwLockReadGuard<'static, ()> {
    FORK_GUARD.read().unwrap_or_else(PoisonError::into_inner)
}

fn exclusive() -> RwLockWriteGuard<'static, ()> {
    FORK_GUARD.write().unwrap_or_else(PoisonError::into_inner)
}

const TYPE: i32 = 100;
const RESTRICTED: i32 = 9;

/// The current thread's last error message, read with a size query first.
fn last_error() -> String {
    let n = unsafe { asyncop_last_error_message(null_mut(), 0) };
    let mut buf = vec![0xAAu8; n + 1];
    let m = unsafe { asyncop_last_error_message(buf.as_mut_ptr().cast(), buf.len()) };
    assert_eq!(m, n, "the message changed between two reads");
    assert_eq!(buf[n], 0, "no NUL after the message");
    buf.truncate(n);
    String::from_utf8(buf).expect("the last error message is UTF-8")
}

/// Checks a status and the last error that goes with it: empty after OK, set
/// after anything else. Returns the message.
#[track_caller]
fn check(rc: asyncop_status, want: asyncop_status) -> String {
    let msg = last_error();
    assert_eq!(rc, want, "last error: {msg:?}");
    if rc == ASYNCOP_OK {
        assert!(msg.is_empty(), "OK left a last error: {msg:?}");
    } else {
        assert!(!msg.is_empty(), "{rc:?} without a last error message");
    }
    msg
}

fn c_path(path: &Path) -> CString {
    CString::new(path.to_str().expect("UTF-8 temp path")).expect("no NUL in the path")
}

/// Opens a queue through the C ABI with `synchronous=NORMAL` (these tests are
/// about the boundary, not power loss) and `tweak` applied to the options.
fn open_queue_with(path: &Path, tweak: impl FnOnce(*mut asyncop_options)) -> *mut asyncop_queue {
    let mut options = null_mut();
    check(unsafe { asyncop_options_new(&mut options) }, ASYNCOP_OK);
    check(
        unsafe { asyncop_options_set_durability(options, ASYNCOP_DURABILITY_NORMAL) },
        ASYNCOP_OK,
    );
    tweak(options);
    let mut q = null_mut();
    let path = c_path(path);
    check(
        unsafe { asyncop_queue_open(path.as_ptr(), options, &mut q) },
        ASYNCOP_OK,
    );
    check(unsafe { asyncop_options_free(options) }, ASYNCOP_OK);
    assert!(!q.is_null());
    q
}

fn open_queue(path: &Path) -> *mut asyncop_queue {
    open_queue_with(path, |_| {})
}

/// A core queue on `clock`, for tests that inject one.
fn core_queue(path: &Path, clock: Arc<dyn Clock>) -> Queue {
    Queue::open(
        path,
        Options {
            sqlite: asyncop::SqliteOptions {
                durability: Durability::Normal,
                ..asyncop::SqliteOptions::default()
            },
            clock,
            ..Options::default()
        },
    )
    .expect("open a core queue")
}

fn submit_rc(
    q: *const asyncop_queue,
    name: &CStr,
    operation_type: i32,
    out: &mut i64,
) -> asyncop_status {
    unsafe {
        asyncop_queue_submit(
            q,
            name.as_ptr(),
            operation_type,
            null(),
            0,
            null(),
            ASYNCOP_TIME_NONE,
            null(),
            out,
        )
    }
}

fn submit_typed(q: *const asyncop_queue, name: &str, operation_type: i32) -> i64 {
    let name = CString::new(name).unwrap();
    let mut id = 0;
    check(submit_rc(q, &name, operation_type, &mut id), ASYNCOP_OK);
    assert!(id > 0);
    id
}

fn submit(q: *const asyncop_queue, name: &str) -> i64 {
    submit_typed(q, name, TYPE)
}

fn retrieve(q: *const asyncop_queue, id: i64) -> *mut asyncop_operation {
    let mut op = null_mut();
    check(
        unsafe { asyncop_queue_retrieve(q, id, &mut op) },
        ASYNCOP_OK,
    );
    op
}

fn poll_rc(
    q: *const asyncop_queue,
    leases: &mut [*mut asyncop_lease],
    n: &mut usize,
) -> asyncop_status {
    unsafe {
        asyncop_queue_poll(
            q,
            c"ffi-test-host".as_ptr(),
            null(),
            0,
            0,
            leases.as_mut_ptr(),
            leases.len(),
            n,
        )
    }
}

/// Claims one operation; panics when nothing is claimable.
fn poll_one(q: *const asyncop_queue) -> *mut asyncop_lease {
    let mut leases = [null_mut(); 1];
    let mut n = 0;
    check(poll_rc(q, &mut leases, &mut n), ASYNCOP_OK);
    assert_eq!(n, 1, "nothing was claimable");
    leases[0]
}

fn query_all_rc(q: *const asyncop_queue, out: &mut *mut asyncop_operation_list) -> asyncop_status {
    unsafe {
        asyncop_queue_query(
            q,
            ASYNCOP_ANY,
            ASYNCOP_ANY,
            ASYNCOP_ANY,
            null(),
            null(),
            ASYNCOP_TIME_NONE,
            0,
            -1,
            0,
            out,
        )
    }
}

/// Ids of every operation in the file.
fn all_ids(q: *const asyncop_queue) -> Vec<i64> {
    let mut list = null_mut();
    check(query_all_rc(q, &mut list), ASYNCOP_OK);
    let mut n = 0;
    check(
        unsafe { asyncop_operation_list_count(list, &mut n) },
        ASYNCOP_OK,
    );
    let ids = (0..n)
        .map(|i| {
            let mut op = null_mut();
            check(
                unsafe { asyncop_operation_list_get(list, i, &mut op) },
                ASYNCOP_OK,
            );
            let id = op_id(op);
            check(unsafe { asyncop_operation_free(op) }, ASYNCOP_OK);
            id
        })
        .collect();
    check(unsafe { asyncop_operation_list_free(list) }, ASYNCOP_OK);
    ids
}

fn op_id(op: *const asyncop_operation) -> i64 {
    let mut id = 0;
    check(unsafe { asyncop_operation_id(op, &mut id) }, ASYNCOP_OK);
    id
}

fn op_name(op: *const asyncop_operation) -> String {
    let mut len = 0;
    check(
        unsafe { asyncop_operation_name(op, null_mut(), 0, &mut len) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    let mut buf = vec![0u8; len + 1];
    check(
        unsafe { asyncop_operation_name(op, buf.as_mut_ptr().cast(), buf.len(), &mut len) },
        ASYNCOP_OK,
    );
    assert_eq!(buf[len], 0);
    buf.truncate(len);
    String::from_utf8(buf).unwrap()
}

fn status_name(code: i32) -> String {
    let p = asyncop_status_name(code);
    assert!(!p.is_null());
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
}

/// The slot a token names (see `src/ffi/handles.rs`: `epoch:8 | tag:8 | generation:16 | slot:32`).
fn slot_of<T>(handle: *const T) -> u32 {
    handle.addr() as u32
}

/// A clock that panics on demand, in several ways.
#[derive(Debug, Default)]
struct PanicClock {
    mode: AtomicU8,
}

const TICK: u8 = 0;
const PANIC_STRING: u8 = 1;
const PANIC_STR: u8 = 2;
const PANIC_I32: u8 = 3;
const PANIC_DROP_PANICS: u8 = 4;
const PANIC_MULTIBYTE: u8 = 5;

/// Text with 1-, 2-, 3- and 4-byte characters, for cuts on UTF-8 boundaries.
const MULTIBYTE: &str = "aé€😀ü-ÿ€😀";

/// A panic payload whose own `Drop` panics.
struct DropPanics;

impl Drop for DropPanics {
    fn drop(&mut self) {
        panic!("the panic payload's drop panics too");
    }
}

impl PanicClock {
    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }
}

impl Clock for PanicClock {
    fn now_ms(&self) -> i64 {
        match self.mode.load(Ordering::SeqCst) {
            PANIC_STRING => panic!("injected clock failure #{} ({})", 42, "boom"),
            PANIC_STR => panic!("injected clock failure (a &'static str)"),
            PANIC_I32 => std::panic::panic_any(4242_i32),
            PANIC_DROP_PANICS => std::panic::panic_any(DropPanics),
            PANIC_MULTIBYTE => panic!("{MULTIBYTE}"),
            _ => T0,
        }
    }
}

// ---------------------------------------------------------------------------
// 1. Panics
// ---------------------------------------------------------------------------

#[test]
fn panic_returns_err_panic_and_poisons_only_that_handle() {
    let _g = shared();
    let dir = TempDir::new("ffi-panic");
    let path = dir.file("queue.db");
    let clock = Arc::new(PanicClock::default());
    let core = core_queue(&path, clock.clone());
    let q = testing::queue_handle(core.clone());
    // Another handle on the same core queue, and one on its own connection.
    let sibling = testing::queue_handle(core);
    let other = open_queue(&path);

    let before = submit(q, "before the panic");
    let snapshot = retrieve(q, before);
    let lease_source = submit(q, "claimed before the panic");
    let lease = poll_one(q); // claims `before`, the oldest

    clock.set(PANIC_STRING);
    let mut id = -7;
    let msg = check(submit_rc(q, c"doomed", TYPE, &mut id), ASYNCOP_ERR_PANIC);
    assert!(msg.starts_with("internal panic:"), "{msg:?}");
    assert!(msg.contains("injected clock failure #42 (boom)"), "{msg:?}");
    assert_eq!(id, -7, "out_id written by a panicking call");

    // Poisoned, even once the clock works again.
    clock.set(TICK);
    let msg = check(submit_rc(q, c"after", TYPE, &mut id), ASYNCOP_ERR_PANIC);
    assert!(msg.contains("poisoned"), "{msg:?}");
    let mut now = 0;
    check(unsafe { asyncop_queue_now(q, &mut now) }, ASYNCOP_ERR_PANIC);
    let mut op = null_mut();
    check(
        unsafe { asyncop_queue_retrieve(q, before, &mut op) },
        ASYNCOP_ERR_PANIC,
    );
    assert!(op.is_null());
    let mut n = 0;
    let mut leases = [null_mut(); 1];
    check(poll_rc(q, &mut leases, &mut n), ASYNCOP_ERR_PANIC);

    // Other handles, even on the same core queue, and handles obtained from the
    // poisoned one before the panic, are not poisoned.
    check(unsafe { asyncop_queue_now(sibling, &mut now) }, ASYNCOP_OK);
    assert_eq!(now, T0);
    let sibling_id = submit(sibling, "sibling");
    let other_id = submit(other, "other");
    assert_eq!(op_id(snapshot), before);
    let mut lease_id = 0;
    check(
        unsafe { asyncop_lease_id(lease, &mut lease_id) },
        ASYNCOP_OK,
    );
    assert_eq!(lease_id, before);
    // The panicking submit was rolled back.
    assert_eq!(
        all_ids(other),
        vec![before, lease_source, sibling_id, other_id]
    );

    // Close still works on the poisoned handle, once.
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_ERR_CLOSED_HANDLE);
    check(
        unsafe { asyncop_queue_now(q, &mut now) },
        ASYNCOP_ERR_CLOSED_HANDLE,
    );

    check(unsafe { asyncop_lease_free(lease) }, ASYNCOP_OK);
    check(unsafe { asyncop_operation_free(snapshot) }, ASYNCOP_OK);
    check(unsafe { asyncop_queue_close(sibling) }, ASYNCOP_OK);
    assert_eq!(all_ids(other).len(), 4);
    check(unsafe { asyncop_queue_close(other) }, ASYNCOP_OK);
}

#[test]
fn panics_with_non_string_payloads_are_caught_too() {
    let _g = shared();
    let dir = TempDir::new("ffi-panic-payloads");
    let path = dir.file("queue.db");
    let clock = Arc::new(PanicClock::default());
    let core = core_queue(&path, clock.clone());

    // A fresh handle each time: the previous one is poisoned. (They share one
    // core queue, which the first close would close for all: close them last.)
    let mut poisoned = Vec::new();
    for (mode, expect_text) in [
        (PANIC_STR, Some("injected clock failure (a &'static str)")),
        (PANIC_I32, None),
        (PANIC_DROP_PANICS, None),
    ] {
        let q = testing::queue_handle(core.clone());
        poisoned.push(q);
        clock.set(mode);
        let mut now = 0;
        let msg = check(unsafe { asyncop_queue_now(q, &mut now) }, ASYNCOP_ERR_PANIC);
        clock.set(TICK);
        assert!(msg.starts_with("internal panic: "), "mode {mode}: {msg:?}");
        assert!(msg.len() > "internal panic: ".len(), "mode {mode}: {msg:?}");
        if let Some(text) = expect_text {
            assert_eq!(msg, format!("internal panic: {text}"));
        }
        check(unsafe { asyncop_queue_now(q, &mut now) }, ASYNCOP_ERR_PANIC);
    }

    // A panic in a lease call poisons the lease handle, not the queue's.
    let q = testing::queue_handle(core.clone());
    submit(q, "leased");
    let lease = poll_one(q);
    clock.set(PANIC_I32);
    let mut status = -1;
    check(
        unsafe { asyncop_lease_renew(lease, &mut status) },
        ASYNCOP_ERR_PANIC,
    );
    clock.set(TICK);
    assert_eq!(status, -1);
    check(
        unsafe { asyncop_lease_renew(lease, &mut status) },
        ASYNCOP_ERR_PANIC,
    );
    let mut id = 0;
    check(
        unsafe { asyncop_lease_id(lease, &mut id) },
        ASYNCOP_ERR_PANIC,
    );
    let mut now = 0;
    check(unsafe { asyncop_queue_now(q, &mut now) }, ASYNCOP_OK);
    check(unsafe { asyncop_lease_free(lease) }, ASYNCOP_OK);
    check(
        unsafe { asyncop_lease_free(lease) },
        ASYNCOP_ERR_CLOSED_HANDLE,
    );
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
    for q in poisoned {
        check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
    }
}

/// Calls into the library from its `Drop`, as a Rust host's guard object would.
struct CallsOnDrop {
    queue: *const asyncop_queue,
    result: Arc<Mutex<Option<asyncop_status>>>,
}

impl Drop for CallsOnDrop {
    fn drop(&mut self) {
        let mut now = 0;
        let rc = unsafe { asyncop_queue_now(self.queue, &mut now) };
        *self.result.lock().unwrap() = Some(rc);
    }
}

#[test]
fn a_call_made_while_the_caller_unwinds_does_not_poison_the_handle() {
    let _g = shared();
    let dir = TempDir::new("ffi-unwinding-caller");
    let q = open_queue(&dir.file("queue.db"));
    let result = Arc::new(Mutex::new(None));
    let guard = CallsOnDrop {
        queue: q,
        result: result.clone(),
    };
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _guard = guard;
        panic!("the caller's own panic, unrelated to asyncop");
    }));
    assert!(unwound.is_err());
    // The call made during the caller's unwinding succeeded...
    assert_eq!(*result.lock().unwrap(), Some(ASYNCOP_OK));
    // ...so the handle must not be poisoned: nothing panicked inside asyncop.
    let mut now = 0;
    let rc = unsafe { asyncop_queue_now(q, &mut now) };
    let msg = last_error();
    let _ = unsafe { asyncop_queue_close(q) };
    assert_eq!(
        rc, ASYNCOP_OK,
        "a call that returned OK while the caller was unwinding poisoned the handle: {msg:?}"
    );
}

// ---------------------------------------------------------------------------
// 2. Close racing calls
// ---------------------------------------------------------------------------

/// One call of a racing thread: OK or CLOSED_HANDLE, and CLOSED_HANDLE if it
/// started after the close returned. Handles it obtained are freed (always OK).
#[track_caller]
fn racing(rc: asyncop_status, started_after_close: bool, what: &str) {
    let msg = last_error();
    if started_after_close {
        assert_eq!(
            rc, ASYNCOP_ERR_CLOSED_HANDLE,
            "{what} after the close returned: {msg:?}"
        );
    } else {
        assert!(
            rc == ASYNCOP_OK || rc == ASYNCOP_ERR_CLOSED_HANDLE,
            "{what} racing the close returned {rc:?}: {msg:?}"
        );
    }
    assert_eq!(
        rc == ASYNCOP_OK,
        msg.is_empty(),
        "{what}: {rc:?} with {msg:?}"
    );
}

fn hammer_queue(qh: usize, seed: i64, closed: &AtomicBool, post_close_rounds: usize) -> usize {
    let q = qh as *const asyncop_queue;
    let mut after = 0;
    let mut calls = 0;
    while after < post_close_rounds {
        let a = closed.load(Ordering::SeqCst);
        let mut id = 0;
        let rc = unsafe {
            asyncop_queue_submit(
                q,
                c"racing".as_ptr(),
                TYPE,
                b"payload".as_ptr(),
                7,
                null(),
                ASYNCOP_TIME_NONE,
                null(),
                &mut id,
            )
        };
        racing(rc, a, "submit");

        let a = closed.load(Ordering::SeqCst);
        let mut op = null_mut();
        let rc = unsafe { asyncop_queue_retrieve(q, seed, &mut op) };
        racing(rc, a, "retrieve");
        if rc == ASYNCOP_OK {
            let a = closed.load(Ordering::SeqCst);
            let mut got = 0;
            let rc = unsafe { asyncop_operation_id(op, &mut got) };
            racing(rc, a, "operation_id");
            if rc == ASYNCOP_OK {
                assert_eq!(got, seed);
            }
            check(unsafe { asyncop_operation_free(op) }, ASYNCOP_OK);
        }

        let a = closed.load(Ordering::SeqCst);
        let mut leases = [null_mut(); 2];
        let mut n = 0;
        let rc = poll_rc(q, &mut leases, &mut n);
        racing(rc, a, "poll");
        if rc == ASYNCOP_OK {
            for lease in &leases[..n] {
                check(unsafe { asyncop_lease_free(*lease) }, ASYNCOP_OK);
            }
        }

        let a = closed.load(Ordering::SeqCst);
        let mut counts = null_mut();
        let rc = unsafe { asyncop_queue_counts(q, &mut counts) };
        racing(rc, a, "counts");
        if rc == ASYNCOP_OK {
            check(unsafe { asyncop_counts_free(counts) }, ASYNCOP_OK);
        }

        let a = closed.load(Ordering::SeqCst);
        let mut list = null_mut();
        let rc = query_all_rc(q, &mut list);
        racing(rc, a, "query");
        if rc == ASYNCOP_OK {
            check(unsafe { asyncop_operation_list_free(list) }, ASYNCOP_OK);
        }

        let a = closed.load(Ordering::SeqCst);
        let mut now = 0;
        racing(unsafe { asyncop_queue_now(q, &mut now) }, a, "now");

        let a = closed.load(Ordering::SeqCst);
        let (mut r, mut p, mut m) = (0, 0, 0);
        racing(
            unsafe { asyncop_queue_run_maintenance(q, &mut r, &mut p, &mut m) },
            a,
            "run_maintenance",
        );

        calls += 8;
        if a {
            after += 1;
        }
    }
    calls
}

#[test]
fn closing_a_queue_races_calls_on_other_threads() {
    let _g = shared();
    const WORKERS: usize = 4;
    for (round, delay_ms) in [0u64, 1, 5, 20].into_iter().enumerate() {
        let dir = TempDir::new(&format!("ffi-close-race-{round}"));
        let q = open_queue(&dir.file("queue.db"));
        let seed = submit(q, "seed");
        for i in 0..20 {
            submit(q, &format!("queued {i}"));
        }
        let qh = q as usize;
        let closed = AtomicBool::new(false);
        let barrier = Barrier::new(WORKERS + 2);
        let (calls, closes) = thread::scope(|s| {
            let workers: Vec<_> = (0..WORKERS)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        hammer_queue(qh, seed, &closed, 20)
                    })
                })
                .collect();
            // Two closers: exactly one close wins, the other sees a closed handle.
            let closers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        thread::sleep(Duration::from_millis(delay_ms));
                        let rc = unsafe { asyncop_queue_close(qh as *mut asyncop_queue) };
                        let msg = last_error();
                        closed.store(true, Ordering::SeqCst);
                        (rc, msg)
                    })
                })
                .collect();
            let closes: Vec<_> = closers.into_iter().map(|h| h.join().unwrap()).collect();
            let calls: usize = workers.into_iter().map(|h| h.join().unwrap()).sum();
            (calls, closes)
        });
        let oks = closes.iter().filter(|(rc, _)| *rc == ASYNCOP_OK).count();
        assert_eq!(oks, 1, "round {round}: closes {closes:?}");
        for (rc, msg) in &closes {
            assert!(
                *rc == ASYNCOP_OK || *rc == ASYNCOP_ERR_CLOSED_HANDLE,
                "round {round}: close returned {rc:?}: {msg:?}"
            );
        }
        assert!(calls > 0);
        // Everything is closed for good.
        let mut now = 0;
        check(
            unsafe { asyncop_queue_now(q, &mut now) },
            ASYNCOP_ERR_CLOSED_HANDLE,
        );
        check(unsafe { asyncop_queue_close(q) }, ASYNCOP_ERR_CLOSED_HANDLE);
        // The file is intact: a new handle sees the seed and the racing submits.
        let q2 = open_queue(&dir.file("queue.db"));
        let ids = all_ids(q2);
        assert!(ids.len() >= 21 && ids[0] == seed, "round {round}: {ids:?}");
        check(unsafe { asyncop_queue_close(q2) }, ASYNCOP_OK);
    }
}

#[test]
fn freeing_a_lease_races_renewals_on_other_threads() {
    let _g = shared();
    const RENEWERS: usize = 4;
    let dir = TempDir::new("ffi-lease-race");
    let q = open_queue(&dir.file("queue.db"));
    for (round, delay_ms) in [0u64, 1, 5, 20].into_iter().enumerate() {
        let id = submit(q, &format!("leased {round}"));
        let lease = poll_one(q);
        let lh = lease as usize;
        let freed = AtomicBool::new(false);
        let barrier = Barrier::new(RENEWERS + 2);
        let frees = thread::scope(|s| {
            for _ in 0..RENEWERS {
                s.spawn(|| {
                    barrier.wait();
                    let lease = lh as *const asyncop_lease;
                    let mut after = 0;
                    while after < 20 {
                        let a = freed.load(Ordering::SeqCst);
                        let mut status = -1;
                        let rc = unsafe { asyncop_lease_renew(lease, &mut status) };
                        racing(rc, a, "lease_renew");
                        if rc == ASYNCOP_OK {
                            assert_eq!(status, ASYNCOP_STATUS_IN_PROGRESS);
                        }
                        let a2 = freed.load(Ordering::SeqCst);
                        let mut got = 0;
                        let rc = unsafe { asyncop_lease_id(lease, &mut got) };
                        racing(rc, a2, "lease_id");
                        if rc == ASYNCOP_OK {
                            assert_eq!(got, id);
                        }
                        if a {
                            after += 1;
                        }
                    }
                });
            }
            let freers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        thread::sleep(Duration::from_millis(delay_ms));
                        let rc = unsafe { asyncop_lease_free(lh as *mut asyncop_lease) };
                        freed.store(true, Ordering::SeqCst);
                        rc
                    })
                })
                .collect();
            freers
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        });
        let mut frees = frees;
        frees.sort_by_key(|rc| *rc as i32);
        assert_eq!(
            frees,
            vec![ASYNCOP_OK, ASYNCOP_ERR_CLOSED_HANDLE],
            "round {round}"
        );
        let mut status = 0;
        check(
            unsafe { asyncop_lease_renew(lease, &mut status) },
            ASYNCOP_ERR_CLOSED_HANDLE,
        );
    }
    // The queue handle is unaffected.
    assert_eq!(all_ids(q).len(), 4);
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
}

/// A poll or wait_for blocked waiting for work returns CLOSED_HANDLE soon after
/// another thread closes the queue, not when its wait ends.
#[test]
fn closing_a_queue_wakes_blocked_poll_and_wait_for() {
    let _g = shared();
    let dir = TempDir::new("ffi-close-wakes");
    let q = open_queue(&dir.file("queue.db"));
    let id = submit(q, "never completes");
    let lease = poll_one(q); // nothing else is claimable now
    let qh = q as usize;
    let started = Instant::now();
    let (poll, wait) = thread::scope(|s| {
        let poll = s.spawn(move || {
            let mut leases = [null_mut(); 1];
            let mut n = 0;
            let rc = unsafe {
                asyncop_queue_poll(
                    qh as *const asyncop_queue,
                    c"blocked-host".as_ptr(),
                    null(),
                    0,
                    20_000,
                    leases.as_mut_ptr(),
                    1,
                    &mut n,
                )
            };
            (rc, last_error(), n)
        });
        let wait = s.spawn(move || {
            let mut op = null_mut();
            let rc =
                unsafe { asyncop_queue_wait_for(qh as *const asyncop_queue, id, 20_000, &mut op) };
            if rc == ASYNCOP_OK {
                let _ = unsafe { asyncop_operation_free(op) };
            }
            (rc, last_error())
        });
        thread::sleep(Duration::from_millis(100));
        check(
            unsafe { asyncop_queue_close(qh as *mut asyncop_queue) },
            ASYNCOP_OK,
        );
        (poll.join().unwrap(), wait.join().unwrap())
    });
    let elapsed = started.elapsed();
    assert_eq!(poll.0, ASYNCOP_ERR_CLOSED_HANDLE, "poll: {:?}", poll.1);
    assert_eq!(poll.2, 0);
    assert_eq!(wait.0, ASYNCOP_ERR_CLOSED_HANDLE, "wait_for: {:?}", wait.1);
    assert!(elapsed < Duration::from_secs(10), "woke after {elapsed:?}");
    check(unsafe { asyncop_lease_free(lease) }, ASYNCOP_OK);
}

// ---------------------------------------------------------------------------
// 3. Handle validation
// ---------------------------------------------------------------------------

#[test]
fn handles_are_validated() {
    let _g = shared();
    let dir = TempDir::new("ffi-handles");
    let path = dir.file("queue.db");
    let q = open_queue(&path);
    let id = submit(q, "first");
    submit(q, "second");
    let op = retrieve(q, id);
    let lease = poll_one(q);
    let mut spec = null_mut();
    check(
        unsafe { asyncop_spec_new(c"spec".as_ptr(), TYPE, &mut spec) },
        ASYNCOP_OK,
    );
    let mut options = null_mut();
    check(unsafe { asyncop_options_new(&mut options) }, ASYNCOP_OK);

    // NULL where a handle is required.
    let mut out_op = null_mut();
    let msg = check(
        unsafe { asyncop_queue_retrieve(null(), id, &mut out_op) },
        ASYNCOP_ERR_NULL_ARG,
    );
    assert!(msg.contains("asyncop_queue"), "{msg:?}");
    let mut now = 0;
    check(
        unsafe { asyncop_queue_now(null(), &mut now) },
        ASYNCOP_ERR_NULL_ARG,
    );
    let mut status = 0;
    check(
        unsafe { asyncop_lease_renew(null(), &mut status) },
        ASYNCOP_ERR_NULL_ARG,
    );
    let mut got = 0;
    check(
        unsafe { asyncop_operation_id(null(), &mut got) },
        ASYNCOP_ERR_NULL_ARG,
    );
    check(
        unsafe { asyncop_spec_set_postpone_until(null_mut(), 5) },
        ASYNCOP_ERR_NULL_ARG,
    );

    // Forged values, never issued. (Casting an integer to a handle is what a
    // buggy C caller does; the library never dereferences it.)
    let tag_queue_unissued_slot = (3usize << 48) | 0x7fff_fff0;
    let tag_lease_unissued_slot = (7usize << 48) | 0x7fff_fff0;
    let real_pointer = (&raw const now).addr();
    for raw in [
        real_pointer,
        1usize,
        0x1234,
        tag_queue_unissued_slot,
        tag_lease_unissued_slot,
    ] {
        let forged = std::ptr::without_provenance_mut::<asyncop_queue>(raw);
        let msg = check(
            unsafe { asyncop_queue_retrieve(forged, id, &mut out_op) },
            ASYNCOP_ERR_INVALID_HANDLE,
        );
        assert!(msg.contains("not a"), "{raw:#x}: {msg:?}");
        assert!(out_op.is_null());
        check(
            unsafe { asyncop_queue_now(forged, &mut now) },
            ASYNCOP_ERR_INVALID_HANDLE,
        );
        check(
            unsafe { asyncop_lease_renew(forged.cast(), &mut status) },
            ASYNCOP_ERR_INVALID_HANDLE,
        );
        check(
            unsafe { asyncop_operation_id(forged.cast(), &mut got) },
            ASYNCOP_ERR_INVALID_HANDLE,
        );
        check(
            unsafe { asyncop_queue_close(forged) },
            ASYNCOP_ERR_INVALID_HANDLE,
        );
    }
    // A token of a live slot with a generation that was never issued.
    let future_generation =
        (q.addr() & !(0xFFFF << 32)) | ((((q.addr() >> 32) + 1) & 0xFFFF) << 32);
    check(
        unsafe {
            asyncop_queue_now(
                std::ptr::without_provenance::<asyncop_queue>(future_generation),
                &mut now,
            )
        },
        ASYNCOP_ERR_INVALID_HANDLE,
    );

    // A handle of another type where a queue (or lease, ...) is expected.
    check(
        unsafe { asyncop_queue_retrieve(lease.cast(), id, &mut out_op) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    check(
        unsafe { asyncop_queue_now(op.cast(), &mut now) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    check(
        unsafe { asyncop_lease_renew(q.cast(), &mut status) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    check(
        unsafe { asyncop_operation_id(lease.cast(), &mut got) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    check(
        unsafe { asyncop_options_set_max_attempts(spec.cast(), 3) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    check(
        unsafe { asyncop_spec_set_postpone_until(options.cast(), 5) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    // ...also to close/free, which must then leave the real object alone.
    check(
        unsafe { asyncop_queue_close(op.cast()) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    check(
        unsafe { asyncop_operation_free(lease.cast()) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    check(
        unsafe { asyncop_lease_free(q.cast()) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    check(
        unsafe { asyncop_spec_free(options.cast()) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    check(
        unsafe { asyncop_options_free(spec.cast()) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    assert_eq!(op_id(op), id);
    let mut lease_id = 0;
    check(
        unsafe { asyncop_lease_id(lease, &mut lease_id) },
        ASYNCOP_OK,
    );
    assert_eq!(lease_id, id);
    check(unsafe { asyncop_queue_now(q, &mut now) }, ASYNCOP_OK);
    check(
        unsafe { asyncop_spec_set_postpone_until(spec, 5) },
        ASYNCOP_OK,
    );
    check(
        unsafe { asyncop_options_set_max_attempts(options, 3) },
        ASYNCOP_OK,
    );

    // Closing NULL is a no-op for every close/free function.
    check(unsafe { asyncop_queue_close(null_mut()) }, ASYNCOP_OK);
    check(unsafe { asyncop_lease_free(null_mut()) }, ASYNCOP_OK);
    check(unsafe { asyncop_operation_free(null_mut()) }, ASYNCOP_OK);
    check(
        unsafe { asyncop_operation_list_free(null_mut()) },
        ASYNCOP_OK,
    );
    check(unsafe { asyncop_counts_free(null_mut()) }, ASYNCOP_OK);
    check(unsafe { asyncop_spec_free(null_mut()) }, ASYNCOP_OK);
    check(unsafe { asyncop_options_free(null_mut()) }, ASYNCOP_OK);

    // A freed spec stays closed once a new spec took its slot, and freeing the
    // stale token again must not free the new one. Other tests insert handles
    // concurrently, so retry until the new spec really got the slot.
    let mut reused = false;
    for _ in 0..1000 {
        let mut old = null_mut();
        check(
            unsafe { asyncop_spec_new(c"old".as_ptr(), TYPE, &mut old) },
            ASYNCOP_OK,
        );
        check(unsafe { asyncop_spec_free(old) }, ASYNCOP_OK);
        let mut new = null_mut();
        check(
            unsafe { asyncop_spec_new(c"new".as_ptr(), TYPE, &mut new) },
            ASYNCOP_OK,
        );
        if slot_of(new) != slot_of(old) {
            check(unsafe { asyncop_spec_free(new) }, ASYNCOP_OK);
            continue;
        }
        assert_ne!(new, old, "a reused slot must give a new token");
        let msg = check(
            unsafe { asyncop_spec_set_postpone_until(old, 5) },
            ASYNCOP_ERR_CLOSED_HANDLE,
        );
        assert!(msg.contains("closed"), "{msg:?}");
        check(unsafe { asyncop_spec_free(old) }, ASYNCOP_ERR_CLOSED_HANDLE);
        check(
            unsafe { asyncop_spec_set_postpone_until(new, 5) },
            ASYNCOP_OK,
        );
        check(unsafe { asyncop_spec_free(new) }, ASYNCOP_OK);
        reused = true;
        break;
    }
    assert!(reused, "no spec slot was reused in 1000 tries");

    // The same for queues: the stale queue token keeps failing, the new queue works.
    check(unsafe { asyncop_lease_free(lease) }, ASYNCOP_OK);
    check(unsafe { asyncop_operation_free(op) }, ASYNCOP_OK);
    let mut reused = false;
    let mut current = q;
    let path_c = c_path(&path);
    for _ in 0..100 {
        let old = current;
        check(unsafe { asyncop_queue_close(old) }, ASYNCOP_OK);
        // NULL options: an options handle would take the freed slot first.
        current = null_mut();
        check(
            unsafe { asyncop_queue_open(path_c.as_ptr(), null(), &mut current) },
            ASYNCOP_OK,
        );
        if slot_of(current) != slot_of(old) {
            continue;
        }
        check(
            unsafe { asyncop_queue_now(old, &mut now) },
            ASYNCOP_ERR_CLOSED_HANDLE,
        );
        check(
            unsafe { asyncop_queue_retrieve(old, id, &mut out_op) },
            ASYNCOP_ERR_CLOSED_HANDLE,
        );
        check(
            unsafe { asyncop_queue_close(old) },
            ASYNCOP_ERR_CLOSED_HANDLE,
        );
        let fresh = retrieve(current, id);
        assert_eq!(op_id(fresh), id);
        check(unsafe { asyncop_operation_free(fresh) }, ASYNCOP_OK);
        reused = true;
        break;
    }
    assert!(reused, "no queue slot was reused in 100 tries");

    // Double close / free.
    check(unsafe { asyncop_queue_close(current) }, ASYNCOP_OK);
    check(
        unsafe { asyncop_queue_close(current) },
        ASYNCOP_ERR_CLOSED_HANDLE,
    );
    check(unsafe { asyncop_spec_free(spec) }, ASYNCOP_OK);
    check(
        unsafe { asyncop_spec_free(spec) },
        ASYNCOP_ERR_CLOSED_HANDLE,
    );
    check(unsafe { asyncop_options_free(options) }, ASYNCOP_OK);
    check(
        unsafe { asyncop_options_free(options) },
        ASYNCOP_ERR_CLOSED_HANDLE,
    );
}

/// A slot is retired once its generation reaches the top of its 16 bits: a
/// wrapped generation would make an ancient token valid again.
#[test]
fn a_slot_is_retired_before_its_generation_wraps() {
    let _g = shared();
    let generation_of = |h: *mut asyncop_spec| (h.addr() >> 32) as u16;
    let mut last = None;
    let mut stale = Vec::new();
    // Free and recreate: the free list is LIFO, so one slot cycles through its
    // generations (other tests may take it now and then; that only costs time).
    for _ in 0..400_000 {
        let mut spec = null_mut();
        let rc = unsafe { asyncop_spec_new(c"cycle".as_ptr(), TYPE, &mut spec) };
        assert_eq!(rc, ASYNCOP_OK);
        let (slot, generation) = (slot_of(spec), generation_of(spec));
        if generation < 3 && stale.len() < 8 {
            stale.push(spec);
        }
        assert_eq!(unsafe { asyncop_spec_free(spec) }, ASYNCOP_OK);
        if generation == u16::MAX - 1 {
            last = Some((slot, spec));
            break;
        }
    }
    let (slot, spec) = last.expect("no slot reached generation 65534");
    // Its old tokens, the last one and the very first ones, all stay closed.
    check(
        unsafe { asyncop_spec_set_postpone_until(spec, 1) },
        ASYNCOP_ERR_CLOSED_HANDLE,
    );
    for old in stale.iter().filter(|h| slot_of(**h) == slot) {
        check(
            unsafe { asyncop_spec_set_postpone_until(*old, 1) },
            ASYNCOP_ERR_CLOSED_HANDLE,
        );
    }
    // And nobody gets the slot again.
    let fresh: Vec<_> = (0..64)
        .map(|_| {
            let mut h = null_mut();
            check(
                unsafe { asyncop_spec_new(c"after".as_ptr(), TYPE, &mut h) },
                ASYNCOP_OK,
            );
            h
        })
        .collect();
    assert!(
        fresh.iter().all(|h| slot_of(*h) != slot),
        "a retired slot was reused"
    );
    for h in fresh {
        check(unsafe { asyncop_spec_free(h) }, ASYNCOP_OK);
    }
}

/// Forged values whose top byte is not the current fork epoch (`usize::MAX`,
/// a pointer-like value, a real token with its top byte changed) were never
/// issued either: INVALID_HANDLE, like any other forged value. A close must not
/// report success for them.
#[test]
fn forged_handles_with_high_bits_set_are_invalid() {
    let _g = shared();
    let dir = TempDir::new("ffi-forged-high");
    let q = open_queue(&dir.file("queue.db"));
    let with_other_epoch = q.addr() ^ (0x5A << 56);
    let mut failures = Vec::new();
    for raw in [usize::MAX, 0xdead_beef_dead_beef, with_other_epoch] {
        let forged = std::ptr::without_provenance_mut::<asyncop_queue>(raw);
        let mut now = 0;
        let rc = unsafe { asyncop_queue_now(forged, &mut now) };
        let msg = last_error();
        if rc != ASYNCOP_ERR_INVALID_HANDLE {
            failures.push(format!("asyncop_queue_now({raw:#x}) = {rc:?}: {msg:?}"));
        }
        let rc = unsafe { asyncop_queue_close(forged) };
        if rc != ASYNCOP_ERR_INVALID_HANDLE {
            failures.push(format!("asyncop_queue_close({raw:#x}) = {rc:?}"));
        }
    }
    let mut now = 0;
    check(unsafe { asyncop_queue_now(q, &mut now) }, ASYNCOP_OK);
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------
// 4. Last error
// ---------------------------------------------------------------------------

/// The bytes `asyncop_last_error_message` must leave in a buffer of `cap`
/// bytes for `msg`: the longest prefix of at most `cap - 1` bytes that ends on
/// a character boundary, then a NUL, then the sentinel.
fn expected_copy(msg: &str, cap: usize, room: usize) -> Vec<u8> {
    let mut out = vec![0xAAu8; room];
    if cap > 0 {
        let n = (0..cap.min(msg.len() + 1))
            .rev()
            .find(|&n| msg.is_char_boundary(n))
            .unwrap();
        out[..n].copy_from_slice(&msg.as_bytes()[..n]);
        out[n] = 0;
    }
    out
}

#[track_caller]
fn check_snprintf(msg: &str) {
    assert_eq!(last_error(), msg);
    let room = msg.len() + 8;
    for cap in 0..=msg.len() + 2 {
        let mut buf = vec![0xAAu8; room];
        let n = unsafe { asyncop_last_error_message(buf.as_mut_ptr().cast(), cap) };
        assert_eq!(n, msg.len(), "cap {cap}: the full length");
        assert_eq!(buf, expected_copy(msg, cap, room), "cap {cap}");
        if cap > 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap();
            std::str::from_utf8(&buf[..end]).expect("cut on a UTF-8 boundary");
        }
    }
    assert_eq!(
        unsafe { asyncop_last_error_message(null_mut(), 0) },
        msg.len()
    );
    // NULL with a capacity is only a size query, too.
    assert_eq!(
        unsafe { asyncop_last_error_message(null_mut(), 16) },
        msg.len()
    );
}

#[test]
fn last_error_semantics() {
    let _g = shared();
    let dir = TempDir::new("ffi-last-error-é€😀");
    let path = dir.file("queue.db");
    let q = open_queue(&path);
    let mut now = 0;

    // Empty on a thread that never failed... (a fresh thread: this one may
    // have run other tests).
    thread::spawn(|| assert_eq!(unsafe { asyncop_last_error_message(null_mut(), 0) }, 0))
        .join()
        .unwrap();

    // Set on failure, cleared by the next successful call.
    let mut op = null_mut();
    let first = check(
        unsafe { asyncop_queue_retrieve(q, 0, &mut op) },
        ASYNCOP_ERR_INVALID_ARG,
    );
    check(unsafe { asyncop_queue_now(q, &mut now) }, ASYNCOP_OK);
    assert_eq!(unsafe { asyncop_last_error_message(null_mut(), 0) }, 0);
    let mut buf = [0xAAu8; 4];
    assert_eq!(
        unsafe { asyncop_last_error_message(buf.as_mut_ptr().cast(), buf.len()) },
        0
    );
    assert_eq!(buf, [0, 0xAA, 0xAA, 0xAA]);

    // Each failure replaces the previous message.
    let second = check(
        unsafe { asyncop_queue_retrieve(q, 999_999, &mut op) },
        ASYNCOP_ERR_NOT_FOUND,
    );
    assert_ne!(first, second);
    assert!(second.contains("999999"), "{second:?}");
    let third = check(
        unsafe { asyncop_queue_retrieve(null(), 1, &mut op) },
        ASYNCOP_ERR_NULL_ARG,
    );
    assert_ne!(third, second);

    // Reading it, the status and version getters leave it alone.
    let _ = asyncop_status_name(ASYNCOP_ERR_NOT_FOUND as i32);
    let _ = asyncop_status_name(12345);
    let _ = asyncop_status_hresult(ASYNCOP_ERR_CANNOT_CANCEL as i32);
    let _ = asyncop_status_hresult(777);
    let _ = asyncop_version();
    let _ = asyncop_abi_version();
    let _ = unsafe { asyncop_last_error_message(null_mut(), 0) };
    assert_eq!(last_error(), third);

    // Thread-local: another thread does not see this thread's failure, and
    // its own failure does not replace this thread's message.
    let qh = q as usize;
    let other = thread::spawn(move || {
        let empty = unsafe { asyncop_last_error_message(null_mut(), 0) };
        let mut op = null_mut();
        let rc = unsafe { asyncop_queue_retrieve(qh as *const asyncop_queue, -5, &mut op) };
        (empty, rc, last_error())
    })
    .join()
    .unwrap();
    assert_eq!(other.0, 0, "thread B saw thread A's message");
    assert_eq!(other.1, ASYNCOP_ERR_INVALID_ARG);
    assert!(other.2.contains("-5"), "{:?}", other.2);
    assert_eq!(
        last_error(),
        third,
        "thread B's failure changed thread A's message"
    );

    // Every failing call sets a message, including size queries.
    let lease_src = submit(q, "x");
    let got = retrieve(q, lease_src);
    let mut len = 0;
    let msg = check(
        unsafe { asyncop_operation_name(got, null_mut(), 0, &mut len) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert!(msg.contains("too small"), "{msg:?}");
    check(
        unsafe { asyncop_queue_set_state(q, lease_src, 7, ASYNCOP_STATUS_NONE) },
        ASYNCOP_ERR_OUT_OF_RANGE,
    );
    check(unsafe { asyncop_operation_free(got) }, ASYNCOP_OK);

    // snprintf behaviour on a message the library made from a non-ASCII path
    // (the temp dir's name has é, € and 😀)...
    let garbage = dir.file("not-a-queue.db");
    std::fs::write(&garbage, vec![b'x'; 4096]).unwrap();
    let garbage_c = c_path(&garbage);
    let mut q2 = null_mut();
    let corrupt = check(
        unsafe { asyncop_queue_open(garbage_c.as_ptr(), null(), &mut q2) },
        ASYNCOP_ERR_CORRUPT,
    );
    assert!(corrupt.contains("é€😀"), "{corrupt:?}");
    check_snprintf(&corrupt);

    // ...and on a panic message, with characters of every length.
    let clock = Arc::new(PanicClock::default());
    let panicky = testing::queue_handle(core_queue(&dir.file("panic.db"), clock.clone()));
    clock.set(PANIC_MULTIBYTE);
    let msg = check(
        unsafe { asyncop_queue_now(panicky, &mut now) },
        ASYNCOP_ERR_PANIC,
    );
    clock.set(TICK);
    assert_eq!(msg, format!("internal panic: {MULTIBYTE}"));
    check_snprintf(&msg);

    check(unsafe { asyncop_queue_close(panicky) }, ASYNCOP_OK);
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
}

// ---------------------------------------------------------------------------
// 5. Status codes
// ---------------------------------------------------------------------------

/// Every status code. `position` proves at compile time that the list is complete.
const ALL_CODES: [asyncop_status; 28] = [
    ASYNCOP_OK,
    ASYNCOP_ERR_INVALID_ARG,
    ASYNCOP_ERR_NULL_ARG,
    ASYNCOP_ERR_UTF8,
    ASYNCOP_ERR_OUT_OF_RANGE,
    ASYNCOP_ERR_BUFFER_TOO_SMALL,
    ASYNCOP_ERR_INVALID_HANDLE,
    ASYNCOP_ERR_CLOSED_HANDLE,
    ASYNCOP_ERR_NOT_FOUND,
    ASYNCOP_ERR_LEASE_LOST,
    ASYNCOP_ERR_BUSY,
    ASYNCOP_ERR_CORRUPT,
    ASYNCOP_ERR_INTERNAL,
    ASYNCOP_ERR_PANIC,
    ASYNCOP_ERR_FORKED,
    ASYNCOP_ERR_CALLBACK,
    ASYNCOP_ERR_IO,
    ASYNCOP_ERR_INVALID_STATE_CHANGE,
    ASYNCOP_ERR_INVALID_STATE_CHANGE_UNEXPECTED,
    ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE,
    ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY,
    ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED,
    ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING,
    ASYNCOP_ERR_CANNOT_UPDATE_RECURRING,
    ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED,
    ASYNCOP_ERR_TYPE_NOT_RECOGNIZED,
    ASYNCOP_ERR_CANNOT_CANCEL,
    ASYNCOP_ERR_CANNOT_PAUSE,
];

/// Exhaustive, without `_`: a new variant does not compile until it is listed.
fn position(s: asyncop_status) -> usize {
    match s {
        ASYNCOP_OK => 0,
        ASYNCOP_ERR_INVALID_ARG => 1,
        ASYNCOP_ERR_NULL_ARG => 2,
        ASYNCOP_ERR_UTF8 => 3,
        ASYNCOP_ERR_OUT_OF_RANGE => 4,
        ASYNCOP_ERR_BUFFER_TOO_SMALL => 5,
        ASYNCOP_ERR_INVALID_HANDLE => 6,
        ASYNCOP_ERR_CLOSED_HANDLE => 7,
        ASYNCOP_ERR_NOT_FOUND => 8,
        ASYNCOP_ERR_LEASE_LOST => 9,
        ASYNCOP_ERR_BUSY => 10,
        ASYNCOP_ERR_CORRUPT => 11,
        ASYNCOP_ERR_INTERNAL => 12,
        ASYNCOP_ERR_PANIC => 13,
        ASYNCOP_ERR_FORKED => 14,
        ASYNCOP_ERR_CALLBACK => 15,
        ASYNCOP_ERR_IO => 16,
        ASYNCOP_ERR_INVALID_STATE_CHANGE => 17,
        ASYNCOP_ERR_INVALID_STATE_CHANGE_UNEXPECTED => 18,
        ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE => 19,
        ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY => 20,
        ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED => 21,
        ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING => 22,
        ASYNCOP_ERR_CANNOT_UPDATE_RECURRING => 23,
        ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED => 24,
        ASYNCOP_ERR_TYPE_NOT_RECOGNIZED => 25,
        ASYNCOP_ERR_CANNOT_CANCEL => 26,
        ASYNCOP_ERR_CANNOT_PAUSE => 27,
    }
}

fn header_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/asyncop.h");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The enumerators of `enum asyncop_status` in the header: name → value.
fn header_status_enum() -> BTreeMap<String, i64> {
    let text = header_text();
    let start = text
        .find("enum asyncop_status")
        .expect("enum asyncop_status in the header");
    let body = &text[start..];
    let end = body.find("};").expect("end of enum asyncop_status");
    body[..end]
        .lines()
        .filter_map(|line| {
            let (name, value) = line.trim().trim_end_matches(',').split_once(" = ")?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}

#[test]
fn status_table_matches_the_spec_and_the_header() {
    let _g = shared();
    for (i, s) in ALL_CODES.iter().enumerate() {
        assert_eq!(position(*s), i, "ALL_CODES lists {s:?} out of place");
    }

    // Names: distinct, prefixed, equal to the Rust (and C) identifiers.
    let mut names = BTreeSet::new();
    let mut values = BTreeSet::new();
    for s in ALL_CODES {
        let name = status_name(s as i32);
        assert!(name.starts_with("ASYNCOP_"), "{name}");
        assert_eq!(name, format!("{s:?}"));
        assert!(names.insert(name.clone()), "duplicate name {name}");
        assert!(values.insert(s as i32), "duplicate value {}", s as i32);
        // HRESULT: the code itself for Dynamics refusals, 0 for our own codes.
        let h = asyncop_status_hresult(s as i32);
        if (s as i32) < 0 {
            assert_eq!(h, s as i32, "{name}");
        } else {
            assert_eq!(h, 0, "{name}");
        }
    }
    assert!(names.contains("ASYNCOP_OK"));

    // Unknown numbers.
    for unknown in [
        17,
        100,
        i32::MAX,
        -1,
        i32::MIN,
        0x8004_4164_u32 as i32, // AsyncOperationMissingId: InvalidArgument here
        0x8004_4161_u32 as i32,
    ] {
        assert_eq!(status_name(unknown), "unknown", "{unknown}");
        assert_eq!(asyncop_status_hresult(unknown), 0, "{unknown}");
    }

    // ffi-conventions.md §2, numbering table.
    let spec_table = [
        (0, "ASYNCOP_OK"),
        (1, "ASYNCOP_ERR_INVALID_ARG"),
        (2, "ASYNCOP_ERR_NULL_ARG"),
        (3, "ASYNCOP_ERR_UTF8"),
        (4, "ASYNCOP_ERR_OUT_OF_RANGE"),
        (5, "ASYNCOP_ERR_BUFFER_TOO_SMALL"),
        (6, "ASYNCOP_ERR_INVALID_HANDLE"),
        (7, "ASYNCOP_ERR_CLOSED_HANDLE"),
        (8, "ASYNCOP_ERR_NOT_FOUND"),
        (9, "ASYNCOP_ERR_LEASE_LOST"),
        (10, "ASYNCOP_ERR_BUSY"),
        (11, "ASYNCOP_ERR_CORRUPT"),
        (12, "ASYNCOP_ERR_INTERNAL"),
        (13, "ASYNCOP_ERR_PANIC"),
        (14, "ASYNCOP_ERR_FORKED"),
        (15, "ASYNCOP_ERR_CALLBACK"),
    ];
    for (code, name) in spec_table {
        assert_eq!(status_name(code), name);
    }
    // HRESULTs of operation-model.md §12.
    let hresults = [
        (ASYNCOP_ERR_INVALID_STATE_CHANGE, 0x8004_4162_u32),
        (ASYNCOP_ERR_INVALID_STATE_CHANGE_UNEXPECTED, 0x8004_4163),
        (ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE, 0x8004_4165),
        (ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY, 0x8004_4166),
        (ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED, 0x8004_4167),
        (ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING, 0x8004_4168),
        (ASYNCOP_ERR_CANNOT_UPDATE_RECURRING, 0x8004_4169),
        (ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED, 0x8004_416a),
        (ASYNCOP_ERR_TYPE_NOT_RECOGNIZED, 0x8004_4303),
        (ASYNCOP_ERR_CANNOT_CANCEL, 0x8004_4F00),
        (ASYNCOP_ERR_CANNOT_PAUSE, 0x8004_4F01),
    ];
    for (s, h) in hresults {
        assert_eq!(s as i32, h as i32, "{s:?}");
        assert_eq!(asyncop_status_hresult(s as i32), h as i32, "{s:?}");
    }
    assert_eq!(ASYNCOP_ERR_INVALID_STATE_CHANGE as i32, -2147204766);
    assert_eq!(
        ALL_CODES.iter().filter(|s| (**s as i32) < 0).count(),
        hresults.len()
    );
    // The core's own HRESULTs agree.
    assert_eq!(
        asyncop::error::TYPE_NOT_RECOGNIZED_HRESULT,
        ASYNCOP_ERR_TYPE_NOT_RECOGNIZED as i32
    );
    assert_eq!(
        asyncop::error::LEASE_LOST_CODE,
        ASYNCOP_ERR_LEASE_LOST as i32
    );

    // The header's enum is the same table.
    let header = header_status_enum();
    let rust: BTreeMap<String, i64> = ALL_CODES
        .iter()
        .map(|s| (format!("{s:?}"), i64::from(*s as i32)))
        .collect();
    assert_eq!(header, rust);
}

/// The code a core error must get (ffi-conventions.md §2 and operation-model.md
/// §12), and whether a real call can produce it. Exhaustive: a new core error
/// breaks this test until it is placed.
fn expected_code(e: &asyncop::Error) -> (asyncop_status, bool) {
    use asyncop::Error as E;
    match e {
        E::InvalidStateChange(_) => (ASYNCOP_ERR_INVALID_STATE_CHANGE, true),
        E::InvalidStateChangeUnexpected => (ASYNCOP_ERR_INVALID_STATE_CHANGE_UNEXPECTED, true),
        E::InvalidStateChangeToComplete(_) => (ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE, true),
        E::InvalidStateChangeToReady(_) => (ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY, true),
        E::InvalidStateChangeToSuspended(_) => {
            (ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED, true)
        }
        E::CannotDeleteUnlessCompleted => (ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED, true),
        E::CannotCancel => (ASYNCOP_ERR_CANNOT_CANCEL, true),
        E::CannotPause => (ASYNCOP_ERR_CANNOT_PAUSE, true),
        // Recurrence (§8) has no API yet: nothing raises these.
        E::CannotUpdateNonrecurring => (ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING, false),
        E::CannotUpdateRecurring => (ASYNCOP_ERR_CANNOT_UPDATE_RECURRING, false),
        E::NotFound { .. } => (ASYNCOP_ERR_NOT_FOUND, true),
        E::LeaseLost { .. } => (ASYNCOP_ERR_LEASE_LOST, true),
        E::InvalidArgument(_) => (ASYNCOP_ERR_INVALID_ARG, true),
        E::Busy => (ASYNCOP_ERR_BUSY, true),
        E::Corrupt(_) => (ASYNCOP_ERR_CORRUPT, true),
        E::Closed => (ASYNCOP_ERR_CLOSED_HANDLE, true),
        E::Io(_) => (ASYNCOP_ERR_IO, true),
        E::Internal(_) => (ASYNCOP_ERR_INTERNAL, true),
    }
}

/// Checks a status from a real call and records that its code was produced.
#[track_caller]
fn expect(produced: &mut BTreeSet<i32>, rc: asyncop_status, want: asyncop_status) {
    check(rc, want);
    produced.insert(want as i32);
}

/// Holds the write lock of the file at `path` on another thread (through a
/// core queue) for `hold`, or until the returned sender sends or drops. `sql`
/// runs in that transaction first. The receiver hears when the lock is held.
fn hold_write_lock(
    path: &Path,
    sql: String,
    hold: Duration,
) -> (
    std::sync::mpsc::Receiver<()>,
    std::sync::mpsc::Sender<()>,
    thread::JoinHandle<()>,
) {
    let core = core_queue(path, Arc::new(asyncop::SystemClock));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let handle = thread::spawn(move || {
        // `write` wants a `Send` closure (it may run on another thread): move
        // the receiver in rather than borrow it.
        asyncop::store::sqlite::testing::write(&core, move |conn| {
            if !sql.is_empty() {
                conn.execute_batch(&sql)?;
            }
            ready_tx.send(()).unwrap();
            let _ = release_rx.recv_timeout(hold);
            Ok(())
        })
        .expect("the blocking transaction");
        core.close();
    });
    (ready_rx, release_tx, handle)
}

#[test]
fn core_errors_map_to_their_codes() {
    let _g = shared();
    use asyncop::error::Refusal;
    let r = Refusal {
        state: 0,
        status: 0,
        target_state: 0,
    };
    let every_error = [
        asyncop::Error::InvalidStateChange(r),
        asyncop::Error::InvalidStateChangeUnexpected,
        asyncop::Error::InvalidStateChangeToComplete(r),
        asyncop::Error::InvalidStateChangeToReady(r),
        asyncop::Error::InvalidStateChangeToSuspended(r),
        asyncop::Error::CannotDeleteUnlessCompleted,
        asyncop::Error::CannotCancel,
        asyncop::Error::CannotPause,
        asyncop::Error::CannotUpdateNonrecurring,
        asyncop::Error::CannotUpdateRecurring,
        asyncop::Error::NotFound { id: 1 },
        asyncop::Error::LeaseLost {
            id: 1,
            lock_token: 1,
            detail: String::new(),
        },
        asyncop::Error::InvalidArgument(String::new()),
        asyncop::Error::Busy,
        asyncop::Error::Corrupt(String::new()),
        asyncop::Error::Closed,
        asyncop::Error::Io(String::new()),
        asyncop::Error::Internal(String::new()),
    ];
    // Every reachable core error is produced below; the codes must match.
    let mut produced: BTreeSet<i32> = BTreeSet::new();

    let dir = TempDir::new("ffi-core-errors");
    let path = dir.file("queue.db");
    let q = open_queue(&path);
    let mut op = null_mut();
    let ready = submit(q, "ready");

    expect(
        &mut produced,
        unsafe { asyncop_queue_set_state(q, ready, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_NONE) },
        ASYNCOP_ERR_INVALID_STATE_CHANGE,
    );
    expect(
        &mut produced,
        unsafe {
            asyncop_queue_set_state(q, ready, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED)
        },
        ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE,
    );
    expect(
        &mut produced,
        unsafe { asyncop_queue_resume(q, ready) },
        ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY,
    );
    expect(
        &mut produced,
        unsafe { asyncop_queue_pause(q, ready) },
        ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED,
    );
    expect(
        &mut produced,
        unsafe { asyncop_queue_delete(q, ready) },
        ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED,
    );
    let restricted = submit_typed(q, "restricted", RESTRICTED);
    expect(
        &mut produced,
        unsafe { asyncop_queue_cancel(q, restricted) },
        ASYNCOP_ERR_CANNOT_CANCEL,
    );
    expect(
        &mut produced,
        unsafe { asyncop_queue_pause(q, restricted) },
        ASYNCOP_ERR_CANNOT_PAUSE,
    );
    expect(
        &mut produced,
        unsafe { asyncop_queue_retrieve(q, 999_999, &mut op) },
        ASYNCOP_ERR_NOT_FOUND,
    );
    expect(
        &mut produced,
        unsafe { asyncop_queue_retrieve(q, 0, &mut op) },
        ASYNCOP_ERR_INVALID_ARG,
    );
    let long = CString::new("n".repeat(257)).unwrap();
    let mut id = 0;
    expect(
        &mut produced,
        submit_rc(q, &long, TYPE, &mut id),
        ASYNCOP_ERR_INVALID_ARG,
    );
    expect(
        &mut produced,
        submit_rc(q, c"type 0", 0, &mut id),
        ASYNCOP_ERR_INVALID_ARG,
    );

    // LeaseLost: a second outcome under the same lease.
    let lease = poll_one(q);
    let mut status = 0;
    check(
        unsafe { asyncop_lease_complete(lease, &mut status) },
        ASYNCOP_OK,
    );
    assert_eq!(status, ASYNCOP_STATUS_SUCCEEDED);
    expect(
        &mut produced,
        unsafe { asyncop_lease_complete(lease, &mut status) },
        ASYNCOP_ERR_LEASE_LOST,
    );
    check(unsafe { asyncop_lease_free(lease) }, ASYNCOP_OK);
    // Cancel of a Completed operation.
    expect(
        &mut produced,
        unsafe { asyncop_queue_cancel(q, ready) },
        ASYNCOP_ERR_INVALID_STATE_CHANGE,
    );

    // Busy: another connection holds the write lock past a 50 ms busy timeout.
    let impatient = open_queue_with(&path, |o| {
        check(
            unsafe { asyncop_options_set_busy_timeout_ms(o, 50) },
            ASYNCOP_OK,
        );
    });
    let (ready_rx, release, blocker) =
        hold_write_lock(&path, String::new(), Duration::from_secs(30));
    ready_rx.recv().unwrap();
    expect(
        &mut produced,
        submit_rc(impatient, c"blocked", TYPE, &mut id),
        ASYNCOP_ERR_BUSY,
    );
    release.send(()).unwrap();
    blocker.join().unwrap();
    check(unsafe { asyncop_queue_close(impatient) }, ASYNCOP_OK);

    // InvalidStateChangeUnexpected: the row changes between the action's
    // snapshot and its write. Another connection holds the write lock and
    // changes the row (uncommitted, so the snapshot still sees 0/0); the cancel
    // reads 0/0, waits for the lock, then finds 1/10. If the cancel's read came
    // too late (it then sees 1/10 and succeeds), try again.
    let mut unexpected = None;
    for attempt in 0..10 {
        let target = submit(q, &format!("target {attempt}"));
        let sql = format!("UPDATE operation SET state = 1, status = 10 WHERE id = {target}");
        // Released by its timeout: this thread is blocked in the cancel meanwhile.
        let (ready_rx, _release, blocker) = hold_write_lock(&path, sql, Duration::from_millis(300));
        ready_rx.recv().unwrap();
        let rc = unsafe { asyncop_queue_cancel(q, target) };
        let msg = last_error();
        blocker.join().unwrap();
        if rc == ASYNCOP_OK {
            continue;
        }
        unexpected = Some((rc, msg));
        break;
    }
    let (rc, msg) = unexpected.expect("no compare-and-set conflict in 10 attempts");
    assert_eq!(rc, ASYNCOP_ERR_INVALID_STATE_CHANGE_UNEXPECTED, "{msg:?}");
    assert!(msg.contains("changed by another process"), "{msg:?}");
    produced.insert(rc as i32);

    // Closed (the core's): the queue behind a live handle was closed elsewhere.
    let core = core_queue(&path, Arc::new(asyncop::SystemClock));
    let h = testing::queue_handle(core.clone());
    core.close();
    let msg = check(
        submit_rc(h, c"late", TYPE, &mut id),
        ASYNCOP_ERR_CLOSED_HANDLE,
    );
    assert!(msg.contains("closed"), "{msg:?}");
    produced.insert(ASYNCOP_ERR_CLOSED_HANDLE as i32);
    check(unsafe { asyncop_queue_close(h) }, ASYNCOP_OK);

    // Corrupt: not an SQLite file; left untouched.
    let garbage = dir.file("garbage.db");
    let bytes = b"this is not an SQLite database\n".repeat(200);
    std::fs::write(&garbage, &bytes).unwrap();
    let garbage_c = c_path(&garbage);
    let mut q2 = null_mut();
    expect(
        &mut produced,
        unsafe { asyncop_queue_open(garbage_c.as_ptr(), null(), &mut q2) },
        ASYNCOP_ERR_CORRUPT,
    );
    assert!(q2.is_null());
    assert_eq!(std::fs::read(&garbage).unwrap(), bytes);

    // Io: a missing directory.
    let missing = c_path(&dir.file("no-such-dir").join("queue.db"));
    expect(
        &mut produced,
        unsafe { asyncop_queue_open(missing.as_ptr(), null(), &mut q2) },
        ASYNCOP_ERR_IO,
    );

    // Internal: an unexpected SQLite failure (a trigger that aborts inserts).
    let broken = dir.file("broken.db");
    let qb = open_queue(&broken);
    let core = core_queue(&broken, Arc::new(asyncop::SystemClock));
    asyncop::store::sqlite::testing::write(&core, |conn| {
        conn.execute_batch(
            "CREATE TRIGGER ffi_test_boom BEFORE INSERT ON operation \
                 BEGIN SELECT RAISE(ABORT, 'boom from a test trigger'); END;",
        )?;
        Ok(())
    })
    .unwrap();
    core.close();
    expect(
        &mut produced,
        submit_rc(qb, c"refused", TYPE, &mut id),
        ASYNCOP_ERR_INTERNAL,
    );
    check(unsafe { asyncop_queue_close(qb) }, ASYNCOP_OK);

    for e in &every_error {
        let (code, reachable) = expected_code(e);
        // The core's own HRESULT, where it has one, is the code itself.
        match e.hresult() {
            Some(h) => assert_eq!(h, code as i32, "{e:?}"),
            None => assert!(code as i32 >= 0, "{e:?} has no HRESULT but {code:?}"),
        }
        if reachable {
            assert!(
                produced.contains(&(code as i32)),
                "{e:?} ({code:?}) was not produced"
            );
        }
    }
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
}

// ---------------------------------------------------------------------------
// 6. Buffers and strings
// ---------------------------------------------------------------------------

#[test]
fn buffers_strings_and_payloads() {
    let _g = shared();
    let dir = TempDir::new("ffi-buffers");
    let path = dir.file("queue.db");
    let q = open_queue(&path);
    let payload: &[u8] = &[0, 1, 2, 0, 0xFF, b'x'];
    let mut id = -3;

    // Payloads in: NULL data with len > 0 is refused, NULL with 0 is empty.
    let msg = check(
        unsafe {
            asyncop_queue_submit(
                q,
                c"n".as_ptr(),
                TYPE,
                null(),
                3,
                null(),
                ASYNCOP_TIME_NONE,
                null(),
                &mut id,
            )
        },
        ASYNCOP_ERR_NULL_ARG,
    );
    assert!(msg.contains("data"), "{msg:?}");
    assert_eq!(id, -3, "out_id written on failure");
    check(
        unsafe {
            asyncop_queue_submit(
                q,
                c"héllo".as_ptr(),
                TYPE,
                payload.as_ptr(),
                payload.len(),
                c"token".as_ptr(),
                ASYNCOP_TIME_NONE,
                null(),
                &mut id,
            )
        },
        ASYNCOP_OK,
    );
    let full = id;
    let mut empty_id = 0;
    check(submit_rc(q, c"", TYPE, &mut empty_id), ASYNCOP_OK);

    // Strings in: invalid UTF-8 and NULL.
    let bad = b"bad \xFF\xFE name\0";
    let bad = CStr::from_bytes_with_nul(bad).unwrap();
    let msg = check(submit_rc(q, bad, TYPE, &mut id), ASYNCOP_ERR_UTF8);
    assert!(msg.contains("name") && msg.contains("UTF-8"), "{msg:?}");
    check(
        unsafe {
            asyncop_queue_submit(
                q,
                c"ok".as_ptr(),
                TYPE,
                null(),
                0,
                null(),
                ASYNCOP_TIME_NONE,
                bad.as_ptr(),
                &mut id,
            )
        },
        ASYNCOP_ERR_UTF8,
    );
    check(
        unsafe {
            asyncop_queue_submit(
                q,
                null(),
                TYPE,
                null(),
                0,
                null(),
                ASYNCOP_TIME_NONE,
                null(),
                &mut id,
            )
        },
        ASYNCOP_ERR_NULL_ARG,
    );
    let mut q_bad = null_mut();
    check(
        unsafe { asyncop_queue_open(bad.as_ptr(), null(), &mut q_bad) },
        ASYNCOP_ERR_UTF8,
    );
    check(
        unsafe { asyncop_queue_open(null(), null(), &mut q_bad) },
        ASYNCOP_ERR_NULL_ARG,
    );
    assert!(q_bad.is_null());
    let mut spec = null_mut();
    check(
        unsafe { asyncop_spec_new(bad.as_ptr(), TYPE, &mut spec) },
        ASYNCOP_ERR_UTF8,
    );
    assert!(spec.is_null());
    assert_eq!(all_ids(q), vec![full, empty_id], "a refused submit wrote");

    let op = retrieve(q, full);
    let name = "héllo".as_bytes(); // 6 bytes
    // Text out: size query.
    let mut len = 99;
    check(
        unsafe { asyncop_operation_name(op, null_mut(), 0, &mut len) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert_eq!(len, name.len());
    // Too small (no room for the NUL): buffer untouched, out_len = needed.
    let mut buf = [0xAAu8; 16];
    len = 99;
    let msg = check(
        unsafe { asyncop_operation_name(op, buf.as_mut_ptr().cast(), name.len(), &mut len) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert!(msg.contains(&(name.len() + 1).to_string()), "{msg:?}");
    assert_eq!(len, name.len());
    assert_eq!(buf, [0xAA; 16], "a too small buffer was written");
    // Exact fit: text + NUL; the rest untouched.
    len = 99;
    check(
        unsafe { asyncop_operation_name(op, buf.as_mut_ptr().cast(), name.len() + 1, &mut len) },
        ASYNCOP_OK,
    );
    assert_eq!(len, name.len());
    assert_eq!(&buf[..name.len()], name);
    assert_eq!(buf[name.len()], 0);
    assert!(buf[name.len() + 1..].iter().all(|&b| b == 0xAA));
    // NULL out_len; NULL buf with a capacity.
    check(
        unsafe { asyncop_operation_name(op, buf.as_mut_ptr().cast(), buf.len(), null_mut()) },
        ASYNCOP_ERR_NULL_ARG,
    );
    len = 99;
    check(
        unsafe { asyncop_operation_name(op, null_mut(), 8, &mut len) },
        ASYNCOP_ERR_NULL_ARG,
    );
    assert_eq!(len, 99, "out_len written on NULL_ARG");

    // Bytes out: binary-safe, no NUL added.
    len = 99;
    check(
        unsafe { asyncop_operation_data(op, null_mut(), 0, &mut len) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert_eq!(len, payload.len());
    let mut data = [0xAAu8; 16];
    check(
        unsafe { asyncop_operation_data(op, data.as_mut_ptr(), payload.len() - 1, &mut len) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert_eq!(len, payload.len());
    assert_eq!(data, [0xAA; 16]);
    check(
        unsafe { asyncop_operation_data(op, data.as_mut_ptr(), payload.len(), &mut len) },
        ASYNCOP_OK,
    );
    assert_eq!(len, payload.len());
    assert_eq!(&data[..payload.len()], payload);
    assert!(data[payload.len()..].iter().all(|&b| b == 0xAA));

    // Optional text: present and absent.
    let mut present = -1;
    len = 99;
    check(
        unsafe { asyncop_operation_dependency_token(op, null_mut(), 0, &mut len, &mut present) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    // A size query also says whether the value is there.
    assert_eq!(
        (len, present),
        (5, 1),
        "out_present is written on BUFFER_TOO_SMALL too"
    );
    check(
        unsafe {
            asyncop_operation_dependency_token(
                op,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
                &mut present,
            )
        },
        ASYNCOP_OK,
    );
    assert_eq!((len, present), (5, 1));
    assert_eq!(&buf[..6], b"token\0");
    buf = [0xAA; 16];
    check(
        unsafe {
            asyncop_operation_correlation_id(
                op,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
                &mut present,
            )
        },
        ASYNCOP_OK,
    );
    assert_eq!((len, present), (0, 0));
    assert_eq!(buf[0], 0, "an absent text reads as \"\"");
    // A size query on an absent text says it is absent.
    present = -1;
    check(
        unsafe { asyncop_operation_correlation_id(op, null_mut(), 0, &mut len, &mut present) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert_eq!((len, present), (0, 0));
    check(
        unsafe {
            asyncop_operation_correlation_id(
                op,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
                null_mut(),
            )
        },
        ASYNCOP_ERR_NULL_ARG,
    );
    // Optional scalars.
    let mut until = 7;
    present = -1;
    check(
        unsafe { asyncop_operation_postpone_until(op, &mut until, &mut present) },
        ASYNCOP_OK,
    );
    assert_eq!((until, present), (0, 0));
    check(
        unsafe { asyncop_operation_postpone_until(op, &mut until, null_mut()) },
        ASYNCOP_ERR_NULL_ARG,
    );

    // An empty payload and an empty name: (NULL, 0) is enough for the data.
    let empty = retrieve(q, empty_id);
    len = 99;
    check(
        unsafe { asyncop_operation_data(empty, null_mut(), 0, &mut len) },
        ASYNCOP_OK,
    );
    assert_eq!(len, 0);
    len = 99;
    check(
        unsafe { asyncop_operation_name(empty, null_mut(), 0, &mut len) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert_eq!(len, 0, "an empty name still needs its NUL");
    buf = [0xAA; 16];
    check(
        unsafe { asyncop_operation_name(empty, buf.as_mut_ptr().cast(), 1, &mut len) },
        ASYNCOP_OK,
    );
    assert_eq!((len, buf[0], buf[1]), (0, 0, 0xAA));

    // The same convention on a lease.
    let lease = poll_one(q);
    check(
        unsafe { asyncop_lease_data(lease, null_mut(), 0, &mut len) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert_eq!(len, payload.len());
    check(
        unsafe { asyncop_lease_data(lease, data.as_mut_ptr(), data.len(), &mut len) },
        ASYNCOP_OK,
    );
    assert_eq!(&data[..len], payload);
    check(
        unsafe { asyncop_lease_host_id(lease, buf.as_mut_ptr().cast(), buf.len(), &mut len) },
        ASYNCOP_OK,
    );
    assert_eq!(&buf[..len + 1], b"ffi-test-host\0");
    check(
        unsafe {
            asyncop_lease_correlation_id(
                lease,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
                &mut present,
            )
        },
        ASYNCOP_OK,
    );
    assert_eq!(present, 0);

    // Specs: set_data with NULL and a length, and with (NULL, 0).
    check(
        unsafe { asyncop_spec_new(c"spec".as_ptr(), TYPE, &mut spec) },
        ASYNCOP_OK,
    );
    check(
        unsafe { asyncop_spec_set_data(spec, null(), 1) },
        ASYNCOP_ERR_NULL_ARG,
    );
    check(
        unsafe { asyncop_spec_set_data(spec, null(), 0) },
        ASYNCOP_OK,
    );
    check(
        unsafe { asyncop_spec_set_correlation_id(spec, bad.as_ptr()) },
        ASYNCOP_ERR_UTF8,
    );
    // submit_many: NULL array with a count, and a count of 0.
    let mut ids = [0i64; 1];
    check(
        unsafe { asyncop_queue_submit_many(q, null(), 1, ids.as_mut_ptr()) },
        ASYNCOP_ERR_NULL_ARG,
    );
    check(
        unsafe { asyncop_queue_submit_many(q, null(), 0, null_mut()) },
        ASYNCOP_OK,
    );
    let specs = [spec.cast_const()];
    check(
        unsafe { asyncop_queue_submit_many(q, specs.as_ptr(), 1, null_mut()) },
        ASYNCOP_ERR_NULL_ARG,
    );
    check(
        unsafe { asyncop_queue_submit_many(q, specs.as_ptr(), 1, ids.as_mut_ptr()) },
        ASYNCOP_OK,
    );
    assert!(ids[0] > empty_id);

    check(unsafe { asyncop_spec_free(spec) }, ASYNCOP_OK);
    check(unsafe { asyncop_lease_free(lease) }, ASYNCOP_OK);
    check(unsafe { asyncop_operation_free(empty) }, ASYNCOP_OK);
    check(unsafe { asyncop_operation_free(op) }, ASYNCOP_OK);
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
}

// ---------------------------------------------------------------------------
// 7. fork()
// ---------------------------------------------------------------------------

/// What the child reports, in order.
const CHILD_STEPS: [&str; 12] = [
    "retrieve on the inherited queue",
    "length of its last error message",
    "operation_id on an inherited snapshot",
    "submit on the inherited queue",
    "close of the inherited queue",
    "retrieve on the inherited queue after its close",
    "free of the inherited snapshot",
    "open of a new queue on the same file",
    "submit on the new queue",
    "id the child submitted",
    "retrieve on the new queue",
    "close of the new queue",
];

/// Runs in the forked child: no printing, no panics escaping, no exit of its own.
fn child_steps(q: usize, op: usize, path: &CStr) -> [i64; CHILD_STEPS.len()] {
    let q = q as *mut asyncop_queue;
    let op = op as *mut asyncop_operation;
    let mut out = [i64::MIN; CHILD_STEPS.len()];
    let mut got = null_mut();
    out[0] = unsafe { asyncop_queue_retrieve(q, 1, &mut got) } as i64;
    out[1] = unsafe { asyncop_last_error_message(null_mut(), 0) } as i64;
    let mut id = 0;
    out[2] = unsafe { asyncop_operation_id(op, &mut id) } as i64;
    out[3] = submit_rc(q, c"child via the parent's handle", TYPE, &mut id) as i64;
    out[4] = unsafe { asyncop_queue_close(q) } as i64;
    out[5] = unsafe { asyncop_queue_retrieve(q, 1, &mut got) } as i64;
    out[6] = unsafe { asyncop_operation_free(op) } as i64;
    let mut mine = null_mut();
    out[7] = unsafe { asyncop_queue_open(path.as_ptr(), null(), &mut mine) } as i64;
    if out[7] != ASYNCOP_OK as i64 {
        return out;
    }
    let mut new_id = 0;
    out[8] = submit_rc(mine, c"from the child", TYPE, &mut new_id) as i64;
    out[9] = new_id;
    out[10] = unsafe { asyncop_queue_retrieve(mine, new_id, &mut got) } as i64;
    if out[10] == ASYNCOP_OK as i64 {
        let _ = unsafe { asyncop_operation_free(got) };
    }
    out[11] = unsafe { asyncop_queue_close(mine) } as i64;
    out
}

fn expected_child(step: usize, value: i64) -> bool {
    let forked = ASYNCOP_ERR_FORKED as i64;
    let ok = ASYNCOP_OK as i64;
    match step {
        0 | 2 | 3 | 5 => value == forked,
        1 | 9 => value > 0,
        _ => value == ok,
    }
}

#[test]
fn forked_child_gets_forked_and_opens_its_own_queue() {
    // No other test of this binary runs while we fork (see the module docs).
    let _g = exclusive();
    let dir = TempDir::new("ffi-fork");
    let path = dir.file("queue.db");
    let path_c = c_path(&path);
    let q = open_queue(&path);
    let parent_id = submit(q, "from the parent");
    let op = retrieve(q, parent_id);

    let mut fds = [0 as libc::c_int; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (qh, oph) = (q as usize, op as usize);
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // The child: report through the pipe and the exit code, then _exit.
        unsafe { libc::close(fds[0]) };
        let report = std::panic::catch_unwind(|| child_steps(qh, oph, &path_c));
        let code = match &report {
            Ok(steps) => steps
                .iter()
                .enumerate()
                .position(|(i, v)| !expected_child(i, *v))
                .map_or(0, |i| i as i32 + 1),
            Err(_) => 100,
        };
        if let Ok(steps) = report {
            let mut bytes = [0u8; CHILD_STEPS.len() * 8];
            for (chunk, v) in bytes.chunks_exact_mut(8).zip(steps) {
                chunk.copy_from_slice(&v.to_ne_bytes());
            }
            let mut written = 0;
            while written < bytes.len() {
                let n = unsafe {
                    libc::write(
                        fds[1],
                        bytes[written..].as_ptr().cast(),
                        bytes.len() - written,
                    )
                };
                if n <= 0 {
                    break;
                }
                written += n as usize;
            }
        }
        unsafe { libc::_exit(code) };
    }

    // The parent.
    unsafe { libc::close(fds[1]) };
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut wstatus = 0;
    loop {
        let r = unsafe { libc::waitpid(pid, &mut wstatus, libc::WNOHANG) };
        assert!(r >= 0, "waitpid failed");
        if r == pid {
            break;
        }
        if Instant::now() > deadline {
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut wstatus, 0);
            }
            panic!("the forked child hung (a lock inherited across fork?)");
        }
        thread::sleep(Duration::from_millis(5));
    }
    let mut bytes = Vec::new();
    unsafe { std::fs::File::from_raw_fd(fds[0]) }
        .read_to_end(&mut bytes)
        .unwrap();
    assert!(
        libc::WIFEXITED(wstatus),
        "the child did not exit normally (status {wstatus:#x})"
    );
    let code = libc::WEXITSTATUS(wstatus);
    assert_ne!(code, 100, "the child panicked");
    assert_eq!(
        bytes.len(),
        CHILD_STEPS.len() * 8,
        "short report from the child (exit {code})"
    );
    let steps: Vec<i64> = bytes
        .chunks_exact(8)
        .map(|c| i64::from_ne_bytes(c.try_into().unwrap()))
        .collect();
    for (i, (what, value)) in CHILD_STEPS.iter().zip(&steps).enumerate() {
        let shown = i32::try_from(*value).map_or_else(
            |_| value.to_string(),
            |v| format!("{value} ({})", status_name(v)),
        );
        assert!(
            expected_child(i, *value),
            "child step {i}, {what}: got {shown}"
        );
    }
    assert_eq!(code, 0, "child exit code");
    let child_id = steps[9];

    // The parent's handles still work and see the child's operation.
    assert_eq!(op_id(op), parent_id);
    let child_op = retrieve(q, child_id);
    assert_eq!(op_name(child_op), "from the child");
    check(unsafe { asyncop_operation_free(child_op) }, ASYNCOP_OK);
    assert_eq!(all_ids(q), vec![parent_id, child_id]);
    let after = submit(q, "parent after the fork");
    assert!(after > child_id);
    check(unsafe { asyncop_operation_free(op) }, ASYNCOP_OK);
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
}

// ---------------------------------------------------------------------------
// 8. Versions
// ---------------------------------------------------------------------------

/// `#define NAME VALUE` lines of the header.
fn header_defines() -> BTreeMap<String, String> {
    header_text()
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("#define ")?;
            let (name, value) = rest.split_once(' ')?;
            Some((name.to_owned(), value.trim().to_owned()))
        })
        .collect()
}

/// Evaluates `(a * b + c * d + e)`: sums of products of integers.
fn eval_sum_of_products(expr: &str) -> i64 {
    let expr = expr.trim().trim_start_matches('(').trim_end_matches(')');
    expr.split('+')
        .map(|term| {
            term.split('*')
                .map(|f| {
                    f.trim()
                        .parse::<i64>()
                        .unwrap_or_else(|_| panic!("{expr:?}"))
                })
                .product::<i64>()
        })
        .sum()
}

#[test]
fn versions_match_cargo_and_the_header() {
    let _g = shared();
    let v = unsafe { CStr::from_ptr(asyncop_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    assert_eq!(asyncop_abi_version(), ASYNCOP_ABI_VERSION);

    let defines = header_defines();
    let get = |name: &str| {
        defines
            .get(name)
            .unwrap_or_else(|| panic!("#define {name} missing from include/asyncop.h"))
            .clone()
    };
    let major: i64 = env!("CARGO_PKG_VERSION_MAJOR").parse().unwrap();
    let minor: i64 = env!("CARGO_PKG_VERSION_MINOR").parse().unwrap();
    let patch: i64 = env!("CARGO_PKG_VERSION_PATCH").parse().unwrap();
    assert_eq!(get("ASYNCOP_VERSION_MAJOR").parse::<i64>().unwrap(), major);
    assert_eq!(get("ASYNCOP_VERSION_MINOR").parse::<i64>().unwrap(), minor);
    assert_eq!(get("ASYNCOP_VERSION_PATCH").parse::<i64>().unwrap(), patch);
    assert_eq!(
        eval_sum_of_products(&get("ASYNCOP_VERSION_NUMBER")),
        major * 10000 + minor * 100 + patch
    );
    assert_eq!(
        get("ASYNCOP_ABI_VERSION").parse::<u32>().unwrap(),
        ASYNCOP_ABI_VERSION
    );
    assert_eq!(eval_sum_of_products("(0 * 10000 + 1 * 100 + 0)"), 100);
    assert_eq!(eval_sum_of_products("(2 * 10000 + 13 * 100 + 7)"), 21307);
}

// ---------------------------------------------------------------------------
// Batch completion
// ---------------------------------------------------------------------------

/// State and status of one operation.
fn state_of(q: *const asyncop_queue, id: i64) -> (i32, i32) {
    let op = retrieve(q, id);
    let (mut state, mut status) = (-1, -1);
    check(
        unsafe { asyncop_operation_state(op, &mut state) },
        ASYNCOP_OK,
    );
    check(
        unsafe { asyncop_operation_status(op, &mut status) },
        ASYNCOP_OK,
    );
    check(unsafe { asyncop_operation_free(op) }, ASYNCOP_OK);
    (state, status)
}

fn lease_id(lease: *const asyncop_lease) -> i64 {
    let mut id = 0;
    check(unsafe { asyncop_lease_id(lease, &mut id) }, ASYNCOP_OK);
    id
}

/// `asyncop_lease_complete_many` on `leases`, with a results array that starts
/// out filled with -7 (no status has that number).
fn complete_many(leases: &[*mut asyncop_lease]) -> (asyncop_status, String, Vec<i32>) {
    let mut results = vec![-7_i32; leases.len()];
    let ptrs: Vec<*const asyncop_lease> = leases.iter().map(|&l| l.cast_const()).collect();
    let rc = unsafe {
        asyncop_lease_complete_many(
            ptrs.as_ptr(),
            ptrs.len(),
            results.as_mut_ptr().cast::<asyncop_status>(),
        )
    };
    (rc, last_error(), results)
}

#[test]
fn complete_many_reports_per_lease_and_whole_call_failures() {
    let _g = shared();
    let dir = TempDir::new("ffi-complete-many");
    let path = dir.file("queue.db");
    let q = open_queue_with(&path, |o| {
        check(
            unsafe { asyncop_options_set_busy_timeout_ms(o, 50) },
            ASYNCOP_OK,
        );
    });
    let ok = ASYNCOP_OK as i32;
    let lost = ASYNCOP_ERR_LEASE_LOST as i32;
    let ids: Vec<i64> = (0..4).map(|i| submit(q, &format!("op {i}"))).collect();
    let mut leases = [null_mut(); 4];
    let mut n = 0;
    check(poll_rc(q, &mut leases, &mut n), ASYNCOP_OK);
    assert_eq!(n, 4);

    // Busy: the whole call fails, every entry says so, nothing was written.
    let (ready_rx, release, blocker) =
        hold_write_lock(&path, String::new(), Duration::from_secs(30));
    ready_rx.recv().unwrap();
    let (rc, msg, results) = complete_many(&leases);
    release.send(()).unwrap();
    blocker.join().unwrap();
    assert_eq!(rc, ASYNCOP_ERR_BUSY, "{msg:?}");
    assert!(!msg.is_empty());
    assert_eq!(results, vec![ASYNCOP_ERR_BUSY as i32; 4]);
    for &id in &ids {
        assert_eq!(
            state_of(q, id),
            (ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS)
        );
    }

    // A lease completed alone first, and one listed twice: per-lease LEASE_LOST,
    // the others complete; the message counts them and explains the first.
    let mut status = 0;
    check(
        unsafe { asyncop_lease_complete(leases[1], &mut status) },
        ASYNCOP_OK,
    );
    let batch = [leases[0], leases[1], leases[2], leases[3], leases[2]];
    let (rc, msg, results) = complete_many(&batch);
    assert_eq!(rc, ASYNCOP_ERR_LEASE_LOST, "{msg:?}");
    assert_eq!(results, vec![ok, lost, ok, ok, lost]);
    assert!(
        msg.starts_with(
            "2 of 5 leases could not complete; first (index 1): lease lost on asyncoperation"
        ),
        "{msg:?}"
    );
    assert!(msg.contains(&ids[1].to_string()), "{msg:?}");
    for &id in &ids {
        assert_eq!(
            state_of(q, id),
            (ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED)
        );
    }

    // Every lease lost: still a per-lease answer (LEASE_LOST is never whole-call).
    let (rc, msg, results) = complete_many(&leases);
    assert_eq!(rc, ASYNCOP_ERR_LEASE_LOST);
    assert!(
        msg.starts_with("4 of 4 leases could not complete; first (index 0):"),
        "{msg:?}"
    );
    assert_eq!(results, vec![lost; 4]);

    // The queue closed: CLOSED_HANDLE names the first lease, fills every entry.
    let id = submit(q, "late");
    let late = poll_one(q);
    assert_eq!(lease_id(late), id);
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
    let (rc, msg, results) = complete_many(&[late, leases[0]]);
    assert_eq!(rc, ASYNCOP_ERR_CLOSED_HANDLE);
    assert!(msg.starts_with("leases[0]: "), "{msg:?}");
    assert!(msg.ends_with("; no lease was completed"), "{msg:?}");
    assert_eq!(results, vec![ASYNCOP_ERR_CLOSED_HANDLE as i32; 2]);
    let other = open_queue(&path);
    assert_eq!(
        state_of(other, id),
        (ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS)
    );

    // An impossible count: INVALID_ARG, out_results untouched.
    let mut results = [-7_i32; 1];
    let rc = unsafe {
        asyncop_lease_complete_many(
            [late.cast_const()].as_ptr(),
            usize::MAX,
            results.as_mut_ptr().cast::<asyncop_status>(),
        )
    };
    check(rc, ASYNCOP_ERR_INVALID_ARG);
    assert_eq!(results, [-7]);

    for l in leases.into_iter().chain([late]) {
        check(unsafe { asyncop_lease_free(l) }, ASYNCOP_OK);
    }
    check(unsafe { asyncop_queue_close(other) }, ASYNCOP_OK);
}

#[test]
fn a_panic_in_complete_many_poisons_the_listed_leases() {
    let _g = shared();
    let dir = TempDir::new("ffi-complete-many-panic");
    let path = dir.file("queue.db");
    let clock = Arc::new(PanicClock::default());
    let q = testing::queue_handle(core_queue(&path, clock.clone()));
    let a = submit(q, "a");
    let b = submit(q, "b");
    let c = submit(q, "c");
    let (la, lb, lc) = (poll_one(q), poll_one(q), poll_one(q));
    clock.set(PANIC_STR);
    let (rc, msg, _) = complete_many(&[la, lb]);
    clock.set(TICK);
    assert_eq!(rc, ASYNCOP_ERR_PANIC);
    assert!(msg.starts_with("internal panic:"), "{msg:?}");
    let mut id = 0;
    check(unsafe { asyncop_lease_id(la, &mut id) }, ASYNCOP_ERR_PANIC);
    check(unsafe { asyncop_lease_id(lb, &mut id) }, ASYNCOP_ERR_PANIC);
    // A lease not in the batch is not poisoned, and the batch was rolled back.
    assert_eq!(lease_id(lc), c);
    let other = open_queue(&path);
    for id in [a, b, c] {
        assert_eq!(
            state_of(other, id),
            (ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS)
        );
    }
    for l in [la, lb, lc] {
        check(unsafe { asyncop_lease_free(l) }, ASYNCOP_OK);
    }
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
    check(unsafe { asyncop_queue_close(other) }, ASYNCOP_OK);
}
