//! SQLite store only: the limits at the C ABI, which opens a file by path: how many
//! operations one poll may claim (`ASYNCOP_POLL_MAX` = `MAX_POLL`), how large a
//! payload may be (`max_payload_bytes`, stored in the file), and which file modes
//! `file_mode` accepts. Each refusal is `InvalidArgument` / `ASYNCOP_ERR_INVALID_ARG`
//! and writes nothing. The same limits through `Queue`, for every store, are in the
//! conformance suite (`tests/conformance/cases/limits.rs`).
// These tests call the C ABI the way a C caller would, with arguments built just
// above each call; what makes each call sound is what the test is about, so the
// calls carry no SAFETY comments.
#![allow(clippy::undocumented_unsafe_blocks)]

mod support;

use asyncop::ffi::asyncop_status::{self, *};
use asyncop::ffi::options::*;
use asyncop::ffi::queue::*;
use asyncop::ffi::spec::*;
use asyncop::ffi::{ASYNCOP_DURABILITY_NORMAL, ASYNCOP_TIME_NONE, asyncop_last_error_message};
use asyncop::lease::MAX_POLL;
use asyncop::operation::MAX_PAYLOAD_BYTES_CEILING;
use asyncop::store::sqlite::{ALLOWED_FILE_MODE, check_file_mode};
use asyncop::{DEFAULT_FILE_MODE, Error, ManualClock, Options, Queue};
use std::ffi::CString;
use std::path::Path;
use std::ptr::{null, null_mut};
use support::{NORMAL_TYPE, T0, TempDir, options};

const KIB: u64 = 1024;

fn open_with(path: &Path, tweak: impl FnOnce(&mut Options)) -> Result<Queue, Error> {
    let mut o = options(&ManualClock::new(T0));
    tweak(&mut o);
    Queue::open(path, o)
}

fn expect_invalid<T: std::fmt::Debug>(r: Result<T, Error>, any_of: &[&str]) -> String {
    match r {
        Err(Error::InvalidArgument(m)) => {
            for want in any_of {
                assert!(m.contains(want), "message {m:?} lacks {want:?}");
            }
            m
        }
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

// -- file mode --------------------------------------------------------------------

#[test]
fn file_modes_within_0660_that_include_0600_are_accepted() {
    assert_eq!(DEFAULT_FILE_MODE, 0o600);
    assert_eq!(ALLOWED_FILE_MODE, 0o660);
    for good in [0o600, 0o620, 0o640, 0o660] {
        check_file_mode(good).unwrap_or_else(|e| panic!("0o{good:o}: {e}"));
    }
    for bad in [
        0,
        0o400,
        0o200,
        0o644,
        0o664,
        0o666,
        0o700,
        0o606,
        0o4600,
        0o1600,
        0o460,
        u32::MAX,
    ] {
        expect_invalid(check_file_mode(bad), &["file_mode"]);
    }
    let dir = TempDir::new("file-mode");
    let path = dir.file("q.db");
    expect_invalid(open_with(&path, |o| o.sqlite.file_mode = 0o644), &["0o644"]);
    assert!(!path.exists(), "a refused open created the file");
}

// -- the C ABI ----------------------------------------------------------------------

fn last_error() -> String {
    let n = unsafe { asyncop_last_error_message(null_mut(), 0) };
    let mut buf = vec![0u8; n + 1];
    unsafe { asyncop_last_error_message(buf.as_mut_ptr().cast(), buf.len()) };
    buf.truncate(n);
    String::from_utf8(buf).unwrap()
}

fn check(rc: asyncop_status, want: asyncop_status) -> String {
    let msg = last_error();
    assert_eq!(rc, want, "last error: {msg}");
    msg
}

fn ffi_open(path: &Path, tweak: impl FnOnce(*mut asyncop_options)) -> *mut asyncop_queue {
    let mut o = null_mut();
    check(unsafe { asyncop_options_new(&mut o) }, ASYNCOP_OK);
    check(
        unsafe { asyncop_options_set_durability(o, ASYNCOP_DURABILITY_NORMAL) },
        ASYNCOP_OK,
    );
    tweak(o);
    let p = CString::new(path.to_str().unwrap()).unwrap();
    let mut q = null_mut();
    check(
        unsafe { asyncop_queue_open(p.as_ptr(), o, &mut q) },
        ASYNCOP_OK,
    );
    check(unsafe { asyncop_options_free(o) }, ASYNCOP_OK);
    q
}

fn ffi_submit(q: *const asyncop_queue, data: &[u8]) -> (asyncop_status, i64) {
    let mut id = -7;
    let rc = unsafe {
        asyncop_queue_submit(
            q,
            c"payload".as_ptr(),
            NORMAL_TYPE,
            data.as_ptr(),
            data.len(),
            null(),
            ASYNCOP_TIME_NONE,
            null(),
            &mut id,
        )
    };
    (rc, id)
}

fn ffi_total(q: *const asyncop_queue) -> usize {
    use asyncop::ffi::operation::*;
    let mut list = null_mut();
    let rc = unsafe {
        asyncop_queue_query(
            q,
            -1,
            -1,
            -1,
            null(),
            null(),
            std::ptr::null(),
            std::ptr::null(),
            ASYNCOP_TIME_NONE,
            0,
            -1,
            0,
            &mut list,
        )
    };
    check(rc, ASYNCOP_OK);
    let mut n = 0usize;
    check(
        unsafe { asyncop_operation_list_count(list, &mut n) },
        ASYNCOP_OK,
    );
    check(unsafe { asyncop_operation_list_free(list) }, ASYNCOP_OK);
    n
}

/// `asyncop_queue_poll` for host "host", no types, no wait, into `slots`,
/// claiming that `max` slots are there.
fn poll(
    q: *mut asyncop_queue,
    slots: &mut [*mut asyncop::ffi::asyncop_lease],
    max: usize,
    n: &mut usize,
) -> asyncop_status {
    unsafe {
        asyncop_queue_poll(
            q,
            c"host".as_ptr(),
            null(),
            0,
            0,
            slots.as_mut_ptr(),
            max,
            n,
        )
    }
}

#[test]
fn c_poll_refuses_max_above_asyncop_poll_max_before_touching_out_leases() {
    let dir = TempDir::new("c-poll-max");
    let q = ffi_open(&dir.file("q.db"), |_| {});
    let sentinel = 0x5a5a_usize as *mut asyncop::ffi::asyncop_lease;
    for max in [MAX_POLL as usize + 1, usize::MAX, 0] {
        let mut slots = [sentinel; 2];
        let mut n = 77usize;
        let msg = check(poll(q, &mut slots, max, &mut n), ASYNCOP_ERR_INVALID_ARG);
        assert!(msg.contains("max"), "{msg}");
        assert_eq!(slots, [sentinel; 2], "out_leases was written");
        assert_eq!(n, 77, "out_count was written");
    }
    let mut slots = vec![null_mut(); MAX_POLL as usize];
    let mut n = 77usize;
    let max = slots.len();
    check(poll(q, &mut slots, max, &mut n), ASYNCOP_OK);
    assert_eq!(n, 0);
    unsafe { asyncop_queue_close(q) };
}

#[test]
fn c_payload_limit_is_set_enforced_and_stored() {
    let dir = TempDir::new("c-payload");
    let path = dir.file("q.db");
    // Setter range: 1..=ASYNCOP_PAYLOAD_CEILING.
    let mut o = null_mut();
    check(unsafe { asyncop_options_new(&mut o) }, ASYNCOP_OK);
    for bad in [0, MAX_PAYLOAD_BYTES_CEILING + 1, u64::MAX] {
        let msg = check(
            unsafe { asyncop_options_set_max_payload_bytes(o, bad) },
            ASYNCOP_ERR_INVALID_ARG,
        );
        assert!(msg.contains("max_payload_bytes"), "{msg}");
    }
    for good in [1, MAX_PAYLOAD_BYTES_CEILING] {
        check(
            unsafe { asyncop_options_set_max_payload_bytes(o, good) },
            ASYNCOP_OK,
        );
    }
    check(unsafe { asyncop_options_free(o) }, ASYNCOP_OK);
    check(
        unsafe { asyncop_options_set_max_payload_bytes(null_mut(), KIB) },
        ASYNCOP_ERR_NULL_ARG,
    );

    let q = ffi_open(&path, |o| {
        check(
            unsafe { asyncop_options_set_max_payload_bytes(o, KIB) },
            ASYNCOP_OK,
        );
    });
    let (rc, id) = ffi_submit(q, &[1; 1024]);
    check(rc, ASYNCOP_OK);
    assert!(id > 0);
    let (rc, id) = ffi_submit(q, &[1; 1025]);
    let msg = check(rc, ASYNCOP_ERR_INVALID_ARG);
    assert!(msg.contains("1025") && msg.contains("1024"), "{msg}");
    assert_eq!(id, -7, "out_id written on failure");
    assert_eq!(ffi_total(q), 1);

    // submit_many with one oversized spec writes none.
    let mut specs = Vec::new();
    for len in [1usize, 1025, 2] {
        let mut s = null_mut();
        check(
            unsafe { asyncop_spec_new(c"batch".as_ptr(), NORMAL_TYPE, &mut s) },
            ASYNCOP_OK,
        );
        let data = vec![3u8; len];
        check(
            unsafe { asyncop_spec_set_data(s, data.as_ptr(), data.len()) },
            ASYNCOP_OK,
        );
        specs.push(s.cast_const());
    }
    let mut ids = [0i64; 3];
    let rc = unsafe { asyncop_queue_submit_many(q, specs.as_ptr(), specs.len(), ids.as_mut_ptr()) };
    let msg = check(rc, ASYNCOP_ERR_INVALID_ARG);
    assert!(msg.contains("spec 1") && msg.contains("1025"), "{msg}");
    assert_eq!(ids, [0; 3]);
    assert_eq!(ffi_total(q), 1);
    for s in specs {
        check(unsafe { asyncop_spec_free(s.cast_mut()) }, ASYNCOP_OK);
    }
    unsafe { asyncop_queue_close(q) };

    // The limit is in the file: a second handle with default options applies it.
    let q2 = ffi_open(&path, |_| {});
    check(ffi_submit(q2, &[1; 1025]).0, ASYNCOP_ERR_INVALID_ARG);
    check(ffi_submit(q2, &[1; 1024]).0, ASYNCOP_OK);
    assert_eq!(ffi_total(q2), 2);
    unsafe { asyncop_queue_close(q2) };
}

#[test]
fn c_file_mode_setter_checks_its_argument() {
    let mut o = null_mut();
    check(unsafe { asyncop_options_new(&mut o) }, ASYNCOP_OK);
    for good in [0o600, 0o620, 0o640, 0o660] {
        check(
            unsafe { asyncop_options_set_file_mode(o, good) },
            ASYNCOP_OK,
        );
    }
    for bad in [0, 0o400, 0o644, 0o666, 0o700, 0o4600, u32::MAX] {
        let msg = check(
            unsafe { asyncop_options_set_file_mode(o, bad) },
            ASYNCOP_ERR_INVALID_ARG,
        );
        assert!(msg.contains("file_mode"), "{msg}");
    }
    check(unsafe { asyncop_options_free(o) }, ASYNCOP_OK);
    check(
        unsafe { asyncop_options_set_file_mode(null_mut(), 0o600) },
        ASYNCOP_ERR_NULL_ARG,
    );
}

#[test]
fn c_check_integrity_of_a_healthy_file_is_ok() {
    let dir = TempDir::new("c-integrity");
    let q = ffi_open(&dir.file("q.db"), |_| {});
    check(ffi_submit(q, b"x").0, ASYNCOP_OK);
    check(unsafe { asyncop_queue_check_integrity(q) }, ASYNCOP_OK);
    check(
        unsafe { asyncop_queue_check_integrity(null()) },
        ASYNCOP_ERR_NULL_ARG,
    );
    unsafe { asyncop_queue_close(q) };
    check(
        unsafe { asyncop_queue_check_integrity(q) },
        ASYNCOP_ERR_CLOSED_HANDLE,
    );
}
