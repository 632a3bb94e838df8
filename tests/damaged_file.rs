//! SQLite store only: the damage is written into the file with rusqlite.
//!
//! Storage damage inside a file that opens: a stored row whose values cannot be what
//! the schema says (a NULL in a NOT NULL column, an invalid state code) is `Corrupt`
//! on every read path (`retrieve`, `query`, `counts`, `poll`), never `Internal`, and
//! `check_integrity` (`PRAGMA quick_check`) reports it; a healthy file checks `Ok`.
// These tests call the C ABI the way a C caller would, with arguments built just
// above each call; what makes each call sound is what the test is about, so the
// calls carry no SAFETY comments.
#![allow(clippy::undocumented_unsafe_blocks)]

mod support;

use asyncop::ffi::asyncop_status::*;
use asyncop::ffi::queue::*;
use asyncop::{Error, Filter, ManualClock, OperationSpec, PollOptions, Queue};
use std::ffi::CString;
use std::path::Path;
use std::ptr::null_mut;
use support::{NORMAL_TYPE, T0, TempDir, options};

fn open(path: &Path) -> Queue {
    Queue::open(path, options(&ManualClock::new(T0))).expect("the damaged file still opens")
}

/// A closed queue file with three Ready rows named `row-marker-<i>` (ids 1..=3),
/// fully checkpointed into the main file (no WAL left to replay).
fn build(path: &Path) -> Vec<i64> {
    let q = open(path);
    let ids = (1..=3)
        .map(|i| {
            q.submit(&OperationSpec::new(format!("row-marker-{i}"), NORMAL_TYPE).data(vec![7; 40]))
                .unwrap()
        })
        .collect::<Vec<_>>();
    q.close();
    drop(q);
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(conn);
    let wal = path.with_extension("db-wal");
    assert!(
        std::fs::metadata(&wal).map_or(0, |m| m.len()) == 0,
        "the WAL was not checkpointed"
    );
    ids
}

/// Sets the serial type of the `state` column of the row named `name` to 0 (NULL)
/// in its record header. A Ready row stores state 0 as serial type 8 (the constant
/// 0, no body bytes), so the body is unchanged: only that value becomes NULL.
fn null_the_state_of(path: &Path, name: &str) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = bytes
        .windows(name.len())
        .position(|w| w == name.as_bytes())
        .expect("the row's name is in the file");
    let name_serial = u8::try_from(13 + 2 * name.len()).unwrap();
    // The record header ends where the body (starting with `name`: the id is the
    // rowid, stored as NULL) begins: [len][0 id][name][type][state][status]...
    let start = (at.saturating_sub(100)..at)
        .find(|&p| {
            usize::from(bytes[p]) == at - p && bytes[p + 1] == 0 && bytes[p + 2] == name_serial
        })
        .expect("the record header before the name");
    let state = start + 4;
    assert_eq!(bytes[state], 8, "state 0 is stored as serial type 8");
    bytes[state] = 0;
    std::fs::write(path, bytes).unwrap();
}

fn expect_corrupt<T: std::fmt::Debug>(r: Result<T, Error>, what: &str, any_of: &[&str]) {
    match r {
        Err(Error::Corrupt(m)) => assert!(
            any_of.iter().any(|w| m.contains(w)),
            "{what}: message {m:?} names none of {any_of:?}"
        ),
        other => panic!("{what}: expected Corrupt, got {other:?}"),
    }
}

#[test]
fn a_healthy_file_checks_ok() {
    let dir = TempDir::new("integrity-ok");
    let path = dir.file("q.db");
    build(&path);
    let q = open(&path);
    q.check_integrity().unwrap();
    q.close();
    assert!(matches!(q.check_integrity(), Err(Error::Closed)));
}

#[test]
fn a_null_in_a_not_null_column_is_corrupt_on_every_read() {
    let dir = TempDir::new("null-state");
    let path = dir.file("q.db");
    let ids = build(&path);
    null_the_state_of(&path, "row-marker-2");
    let q = open(&path);
    // The undamaged rows still read.
    assert_eq!(q.retrieve(ids[0]).unwrap().name, "row-marker-1");
    expect_corrupt(q.retrieve(ids[1]), "retrieve", &["damaged"]);
    match q.retrieve(ids[1]) {
        Err(e @ Error::Corrupt(_)) => {
            let m = e.to_string();
            assert!(m.contains("state") && m.contains("Null"), "{m}");
            assert_eq!(e.name(), "Corrupt");
        }
        other => panic!("{other:?}"),
    }
    expect_corrupt(q.query(&Filter::default()), "query", &["damaged"]);
    // counts reads only the (state, status, type) index, which the damage missed.
    assert_eq!(q.counts().unwrap()[0].count, 3);
    expect_corrupt(q.check_integrity(), "check_integrity", &["state"]);
    // The C ABI gives the same code.
    let handle = asyncop::ffi::testing::queue_handle(q.clone());
    let mut op = null_mut();
    let rc = unsafe { asyncop_queue_retrieve(handle, ids[1], &mut op) };
    assert_eq!(rc, ASYNCOP_ERR_CORRUPT);
    assert!(op.is_null());
    assert_eq!(
        unsafe { asyncop_queue_check_integrity(handle) },
        ASYNCOP_ERR_CORRUPT
    );
    unsafe { asyncop_queue_close(handle) };
}

#[test]
fn invalid_stored_codes_are_corrupt() {
    let dir = TempDir::new("bad-codes");
    let path = dir.file("q.db");
    let ids = build(&path);
    // Written past the CHECK constraints, as damage would.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA ignore_check_constraints = 1; \
         UPDATE operation SET state = 7, status = 70 WHERE id = {}; \
         PRAGMA wal_checkpoint(TRUNCATE);",
        ids[2]
    ))
    .unwrap();
    drop(conn);
    let q = open(&path);
    expect_corrupt(q.retrieve(ids[2]), "retrieve", &["invalid state code 7"]);
    expect_corrupt(
        q.query(&Filter::default()),
        "query",
        &["invalid state code 7"],
    );
    expect_corrupt(q.counts(), "counts", &["7/70"]);
    expect_corrupt(q.check_integrity(), "check_integrity", &["CHECK"]);
    assert_eq!(q.retrieve(ids[0]).unwrap().name, "row-marker-1");
    // Polling reads only Ready rows: the damaged one is not claimable, the others are.
    let leases = q.poll("host", &PollOptions::default().max(10)).unwrap();
    assert_eq!(leases.len(), 2);
}

#[test]
fn c_check_integrity_reports_corrupt_with_the_report() {
    let dir = TempDir::new("c-integrity-corrupt");
    let path = dir.file("q.db");
    build(&path);
    null_the_state_of(&path, "row-marker-3");
    let p = CString::new(path.to_str().unwrap()).unwrap();
    let mut q = null_mut();
    assert_eq!(
        unsafe { asyncop_queue_open(p.as_ptr(), std::ptr::null(), &mut q) },
        ASYNCOP_OK
    );
    assert_eq!(
        unsafe { asyncop_queue_check_integrity(q) },
        ASYNCOP_ERR_CORRUPT
    );
    let n = unsafe { asyncop::ffi::asyncop_last_error_message(null_mut(), 0) };
    let mut buf = vec![0u8; n + 1];
    unsafe { asyncop::ffi::asyncop_last_error_message(buf.as_mut_ptr().cast(), buf.len()) };
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(msg.contains("integrity check failed"), "{msg}");
    unsafe { asyncop_queue_close(q) };
}
