//! Helpers for tests that drive the C ABI through the `rlib` (`tests/ffi/`,
//! `tests/fork_safety.rs`): open and call through the `extern "C"` exports and
//! check each status together with its last error message.
// These tests call the C ABI the way a C caller would, with arguments built just
// above each call; what makes each call sound is what the test is about, so the
// calls carry no SAFETY comments.
#![allow(clippy::undocumented_unsafe_blocks)]

use asyncop::ffi::asyncop_status::*;
use asyncop::ffi::lease::*;
use asyncop::ffi::operation::*;
use asyncop::ffi::options::*;
use asyncop::ffi::queue::*;
use asyncop::ffi::*;
use asyncop::{Clock, Durability, Options, Queue};
use std::ffi::{CStr, CString};
use std::path::Path;
use std::ptr::{null, null_mut};
use std::sync::Arc;

pub const TYPE: i32 = 100;
pub const RESTRICTED: i32 = 9;

/// The current thread's last error message, read with a size query first.
pub fn last_error() -> String {
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
pub fn check(rc: asyncop_status, want: asyncop_status) -> String {
    let msg = last_error();
    assert_eq!(rc, want, "last error: {msg:?}");
    if rc == ASYNCOP_OK {
        assert!(msg.is_empty(), "OK left a last error: {msg:?}");
    } else {
        assert!(!msg.is_empty(), "{rc:?} without a last error message");
    }
    msg
}

pub fn c_path(path: &Path) -> CString {
    CString::new(path.to_str().expect("UTF-8 temp path")).expect("no NUL in the path")
}

/// Opens a queue through the C ABI with `synchronous=NORMAL` (these tests are
/// about the boundary, not power loss) and `tweak` applied to the options.
pub fn open_queue_with(
    path: &Path,
    tweak: impl FnOnce(*mut asyncop_options),
) -> *mut asyncop_queue {
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

pub fn open_queue(path: &Path) -> *mut asyncop_queue {
    open_queue_with(path, |_| {})
}

/// A core queue on `clock`, for tests that inject one.
pub fn core_queue(path: &Path, clock: Arc<dyn Clock>) -> Queue {
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

pub fn submit_rc(
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

pub fn submit_typed(q: *const asyncop_queue, name: &str, operation_type: i32) -> i64 {
    let name = CString::new(name).unwrap();
    let mut id = 0;
    check(submit_rc(q, &name, operation_type, &mut id), ASYNCOP_OK);
    assert!(id > 0);
    id
}

pub fn submit(q: *const asyncop_queue, name: &str) -> i64 {
    submit_typed(q, name, TYPE)
}

pub fn retrieve(q: *const asyncop_queue, id: i64) -> *mut asyncop_operation {
    let mut op = null_mut();
    check(
        unsafe { asyncop_queue_retrieve(q, id, &mut op) },
        ASYNCOP_OK,
    );
    op
}

pub fn poll_rc(
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
pub fn poll_one(q: *const asyncop_queue) -> *mut asyncop_lease {
    let mut leases = [null_mut(); 1];
    let mut n = 0;
    check(poll_rc(q, &mut leases, &mut n), ASYNCOP_OK);
    assert_eq!(n, 1, "nothing was claimable");
    leases[0]
}

pub fn query_all_rc(
    q: *const asyncop_queue,
    out: &mut *mut asyncop_operation_list,
) -> asyncop_status {
    unsafe {
        asyncop_queue_query(
            q,
            ASYNCOP_ANY,
            ASYNCOP_ANY,
            ASYNCOP_ANY,
            null(),
            null(),
            std::ptr::null(),
            std::ptr::null(),
            ASYNCOP_TIME_NONE,
            0,
            -1,
            0,
            out,
        )
    }
}

/// Ids of every operation in the file.
pub fn all_ids(q: *const asyncop_queue) -> Vec<i64> {
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

pub fn op_id(op: *const asyncop_operation) -> i64 {
    let mut id = 0;
    check(unsafe { asyncop_operation_id(op, &mut id) }, ASYNCOP_OK);
    id
}

pub fn op_name(op: *const asyncop_operation) -> String {
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

pub fn status_name(code: i32) -> String {
    let p = asyncop_status_name(code);
    assert!(!p.is_null());
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
}

/// The slot a token names (see `src/ffi/handles.rs`: `epoch:8 | tag:8 | generation:16 | slot:32`).
pub fn slot_of<T>(handle: *const T) -> u32 {
    handle.addr() as u32
}
