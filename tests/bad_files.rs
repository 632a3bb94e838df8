//! SQLite store only: the files are SQLite files made or damaged byte by byte.
//!
//! Opening files that are not usable asyncop queues (§12 Corrupt): each open fails with
//! `Error::Corrupt` and leaves the file byte-for-byte as it was (same length, same bytes,
//! same modification time, no journal or WAL left beside it). Also the files that must
//! open: a missing or empty file becomes a new queue, an existing queue reopens with its
//! data, and an unusable path gives an error, not a panic.

mod support;

use asyncop::{Error, Filter, ManualClock, Operation, OperationSpec, PollOptions, Queue, Report};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use support::{Mismatches, NORMAL_TYPE, T0, TempDir, options};

/// Everything about a file that an open must not change.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    bytes: Vec<u8>,
    len: u64,
    modified: SystemTime,
}

fn snapshot(path: &Path) -> Snapshot {
    let meta = std::fs::metadata(path).expect("file exists");
    Snapshot {
        bytes: std::fs::read(path).unwrap(),
        len: meta.len(),
        modified: meta.modified().unwrap(),
    }
}

/// Every file in `path`'s directory with its length.
fn directory(path: &Path) -> BTreeMap<String, u64> {
    std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let len = e.metadata().unwrap().len();
            (e.file_name().to_string_lossy().into_owned(), len)
        })
        .collect()
}

fn open(path: &Path) -> Result<Queue, Error> {
    Queue::open(path, options(&ManualClock::new(T0)))
}

/// Opens `path`, expects Corrupt, checks that the file did not change (bytes, length,
/// modification time), and that the message names the problem: it contains one of
/// `any_of` (case-insensitive). Returns the message.
fn expect_corrupt(path: &Path, any_of: &[&str]) -> String {
    let before = snapshot(path);
    let result = open(path);
    let after = snapshot(path);
    let message = match result {
        Err(e @ Error::Corrupt(_)) => e.to_string(),
        Err(e) => panic!("{}: expected Corrupt, got {e:?}", path.display()),
        Ok(_) => panic!("{}: opened an unusable file", path.display()),
    };
    assert_eq!(after.len, before.len, "length changed");
    assert!(
        after.bytes == before.bytes,
        "{}: bytes changed",
        path.display()
    );
    assert_eq!(after.modified, before.modified, "modification time changed");
    let lower = message.to_lowercase();
    assert!(
        any_of.iter().any(|w| lower.contains(&w.to_lowercase())),
        "message {message:?} names none of {any_of:?}"
    );
    // A second attempt fails the same way (the first left no state behind).
    assert!(matches!(open(path), Err(Error::Corrupt(_))));
    assert!(
        snapshot(path) == before,
        "the second attempt changed the file"
    );
    println!("{}: {message}", path.file_name().unwrap().to_string_lossy());
    message
}

const NOT_SQLITE: &[&str] = &["not an sqlite", "not a database", "sqlite header"];
const FOREIGN: &[&str] = &["foreign", "not an asyncop", "application_id", "schema"];

/// A foreign SQLite database with a table and some rows, in the given journal mode.
fn foreign_db(path: &Path, journal_mode: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mode: String = conn
        .query_row(&format!("PRAGMA journal_mode = {journal_mode}"), [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(mode.to_lowercase(), journal_mode.to_lowercase());
    conn.execute_batch(
        "CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         CREATE INDEX customer_name ON customer (name);",
    )
    .unwrap();
    for i in 0..200 {
        conn.execute(
            "INSERT INTO customer (name) VALUES (?1)",
            [format!("customer {i}")],
        )
        .unwrap();
    }
    conn.close().unwrap();
}

/// A real queue with `n` operations in several states and some payload.
fn real_queue(path: &Path, n: usize) -> Vec<Operation> {
    let clock = ManualClock::new(T0);
    let q = Queue::open(path, options(&clock)).unwrap();
    let specs: Vec<OperationSpec> = (0..n)
        .map(|i| {
            OperationSpec::new(
                format!("op {i}"),
                NORMAL_TYPE + i32::try_from(i % 3).unwrap(),
            )
            .data(vec![u8::try_from(i % 251).unwrap(); 200])
            .correlation_id(format!("c{i}"))
        })
        .collect();
    let ids = q.submit_many(&specs).unwrap();
    let leases = q
        .poll(
            "host",
            &PollOptions::default().max(u32::try_from(n / 2).unwrap()),
        )
        .unwrap();
    clock.advance(1_000);
    for (i, lease) in leases.iter().enumerate() {
        match i % 3 {
            0 => {
                q.complete(lease.key()).unwrap();
            }
            1 => {
                q.fail(lease.key(), Report::error(-2, "failed for the test"))
                    .unwrap();
            }
            _ => {}
        }
    }
    q.cancel(ids[n - 1]).unwrap();
    let all = q.query(&Filter::default()).unwrap();
    assert_eq!(all.len(), n);
    q.close();
    drop(q);
    all
}

fn assert_no_wal(path: &Path) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    for suffix in ["-wal", "-shm", "-journal"] {
        let side = path.with_file_name(format!("{name}{suffix}"));
        assert!(!side.exists(), "{} left behind", side.display());
    }
}

/// A foreign SQLite database (rollback journal) with a table and rows.
fn make_foreign(dir: &TempDir) -> PathBuf {
    let path = dir.file("customers.db");
    foreign_db(&path, "delete");
    path
}

/// The same, in WAL mode (its -wal is checkpointed away on close).
fn make_foreign_wal(dir: &TempDir) -> PathBuf {
    let path = dir.file("customers-wal.db");
    foreign_db(&path, "wal");
    assert_no_wal(&path);
    path
}

/// An SQLite database marked with another application's id.
fn make_foreign_application_id(dir: &TempDir) -> PathBuf {
    let path = dir.file("other-app.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA application_id = 0x12345678; CREATE TABLE t (x);")
        .unwrap();
    conn.close().unwrap();
    path
}

/// An SQLite database with no table, marked with another application's id.
fn make_empty_foreign_application_id(dir: &TempDir) -> PathBuf {
    let path = dir.file("empty-other-app.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA application_id = 0x12345678; VACUUM;")
        .unwrap();
    conn.close().unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() >= 100);
    path
}

fn make_text(dir: &TempDir) -> PathBuf {
    let path = dir.file("notes.txt");
    let text = "These are my notes. They are not a queue.\n".repeat(20);
    std::fs::write(&path, text).unwrap();
    path
}

/// 4 KiB of deterministic pseudo-random bytes (xorshift64*).
fn make_random(dir: &TempDir) -> PathBuf {
    let path = dir.file("noise.bin");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect();
    std::fs::write(&path, &bytes).unwrap();
    path
}

fn make_short_text(dir: &TempDir) -> PathBuf {
    let path = dir.file("short.txt");
    std::fs::write(&path, b"hello").unwrap();
    path
}

/// The first 64 bytes of a real queue: a valid-looking start, cut short.
fn make_short_header(dir: &TempDir) -> PathBuf {
    let real = dir.file("source.db");
    real_queue(&real, 3);
    let head = std::fs::read(&real).unwrap()[..64].to_vec();
    std::fs::remove_file(&real).unwrap();
    let path = dir.file("cut.db");
    std::fs::write(&path, head).unwrap();
    path
}

/// A real queue of 2000 operations, closed (WAL checkpointed), cut to `len(full)`.
fn make_truncated(dir: &TempDir, len: impl FnOnce(usize) -> usize) -> PathBuf {
    let real = dir.file("source.db");
    real_queue(&real, 2_000);
    assert_no_wal(&real);
    let full = std::fs::read(&real).unwrap();
    std::fs::remove_file(&real).unwrap();
    assert!(
        full.len() > 400_000,
        "the queue holds data ({} bytes)",
        full.len()
    );
    let path = dir.file("truncated.db");
    std::fs::write(&path, &full[..len(full.len())]).unwrap();
    path
}

/// A real queue whose `user_version` says 99.
fn make_newer(dir: &TempDir) -> PathBuf {
    let path = dir.file("newer.db");
    real_queue(&path, 10);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA user_version = 99;").unwrap();
    conn.close().unwrap();
    assert_no_wal(&path);
    path
}

const TRUNCATED: &[&str] = &["truncated", "corrupt", "malformed"];

#[test]
fn another_sqlite_database_is_refused_untouched() {
    let dir = TempDir::new("foreign-db");
    expect_corrupt(&make_foreign(&dir), FOREIGN);
}

#[test]
fn another_sqlite_database_in_wal_mode_is_refused_untouched() {
    let dir = TempDir::new("foreign-wal");
    expect_corrupt(&make_foreign_wal(&dir), FOREIGN);
}

#[test]
fn a_database_with_a_foreign_application_id_is_refused_untouched() {
    let dir = TempDir::new("foreign-app-id");
    expect_corrupt(&make_foreign_application_id(&dir), FOREIGN);
    // Even an empty database marked as somebody else's is refused.
    expect_corrupt(&make_empty_foreign_application_id(&dir), FOREIGN);
}

#[test]
fn a_text_file_is_refused_untouched() {
    let dir = TempDir::new("text");
    expect_corrupt(&make_text(&dir), NOT_SQLITE);
}

#[test]
fn random_bytes_are_refused_untouched() {
    let dir = TempDir::new("random");
    expect_corrupt(&make_random(&dir), NOT_SQLITE);
}

#[test]
fn files_shorter_than_an_sqlite_header_are_refused_untouched() {
    let dir = TempDir::new("short");
    expect_corrupt(&make_short_text(&dir), NOT_SQLITE);
    expect_corrupt(
        &make_short_header(&dir),
        &[
            "not an sqlite",
            "not a database",
            "header",
            "truncated",
            "short",
        ],
    );
    let one = dir.file("one-byte.db");
    std::fs::write(&one, [0u8]).unwrap();
    expect_corrupt(&one, NOT_SQLITE);
}

#[test]
fn a_truncated_queue_is_refused_untouched() {
    let dir = TempDir::new("truncated-half");
    expect_corrupt(&make_truncated(&dir, |n| n / 2), TRUNCATED);
    // Cut at a length that is not a whole number of pages.
    let dir = TempDir::new("truncated-odd");
    expect_corrupt(&make_truncated(&dir, |n| n / 2 + 123), TRUNCATED);
}

#[test]
fn a_queue_of_a_newer_schema_version_is_refused_untouched() {
    let dir = TempDir::new("newer");
    let message = expect_corrupt(&make_newer(&dir), &["newer", "upgrade"]);
    assert!(message.contains("99"), "{message:?} names the version");
}

/// A refused open must not write anywhere: no `-wal`, `-shm` or `-journal` may appear
/// beside the refused file (for a foreign database they would be litter in somebody
/// else's directory, and the `-shm` is written to).
#[test]
fn refused_opens_leave_no_files_beside_the_file() {
    type Make = fn(&TempDir) -> PathBuf;
    let cases: [(&str, Make); 9] = [
        ("foreign", make_foreign),
        ("foreign-wal", make_foreign_wal),
        ("foreign-app-id", make_foreign_application_id),
        ("empty-foreign-app-id", make_empty_foreign_application_id),
        ("text", make_text),
        ("random", make_random),
        ("short", make_short_header),
        ("truncated", |d| make_truncated(d, |n| n / 2)),
        ("newer", make_newer),
    ];
    let mut m = Mismatches::new("refused opens");
    for (name, make) in cases {
        let dir = TempDir::new(&format!("no-litter-{name}"));
        let path = make(&dir);
        let before = directory(&path);
        let result = open(&path);
        let after = directory(&path);
        m.checked();
        if !matches!(result, Err(Error::Corrupt(_))) {
            m.push(format!(
                "  {name}: expected Corrupt, got {:?}",
                result.map(|_| ())
            ));
        }
        if after != before {
            m.push(format!(
                "  {name}: files beside it before {before:?}, after {after:?}"
            ));
        }
    }
    m.finish();
}

#[test]
fn missing_and_empty_files_become_new_queues() {
    let dir = TempDir::new("new-files");
    let missing = dir.file("missing.db");
    assert!(!missing.exists());
    let empty = dir.file("empty.db");
    std::fs::write(&empty, b"").unwrap();
    for path in [&missing, &empty] {
        let q = open(path).unwrap();
        assert!(q.query(&Filter::default()).unwrap().is_empty());
        let id = q.submit(&OperationSpec::new("first", NORMAL_TYPE)).unwrap();
        assert_eq!(q.retrieve(id).unwrap().name, "first");
        q.close();
        drop(q);
        let q = open(path).unwrap();
        assert_eq!(q.retrieve(id).unwrap().name, "first");
        let header = std::fs::read(path).unwrap();
        assert_eq!(&header[..16], b"SQLite format 3\0");
    }
}

#[test]
fn an_existing_queue_reopens_with_its_data() {
    let dir = TempDir::new("reopen");
    let path = dir.file("queue.db");
    let before = real_queue(&path, 50);
    let q = open(&path).unwrap();
    assert_eq!(q.query(&Filter::default()).unwrap(), before);
    // Reopening twice more, with handles open at once, changes nothing.
    let q2 = open(&path).unwrap();
    assert_eq!(q2.query(&Filter::default()).unwrap(), before);
    drop(q2);
    q.close();
}

#[test]
fn a_path_in_a_missing_directory_is_an_error_not_a_panic() {
    let dir = TempDir::new("no-dir");
    let parent = dir.file("does-not-exist");
    let path = parent.join("queue.db");
    let err = open(&path).expect_err("cannot create a file in a missing directory");
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    assert!(!err.to_string().is_empty());
    assert!(!parent.exists(), "the directory was created");
    // A directory where the file should be.
    let err = open(dir.path()).expect_err("a directory is not a queue file");
    assert!(matches!(err, Error::Io(_) | Error::Corrupt(_)), "{err:?}");
}
