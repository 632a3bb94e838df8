//! SQLite store only: a queue file written by the previous schema version opens,
//! is brought to the current one, and keeps every row and setting.
//!
//! The old file is made by taking a current queue back to an older version
//! (dropping what the later versions added), which is exactly what the older
//! library wrote.

mod support;

use asyncop::{ManualClock, OperationSpec, PollOptions, Queue, Status};
use support::{NORMAL_TYPE, T0, TempDir, options};

/// Takes a version-4 file back to version 3: the `blocked` flag, its
/// triggers and the Ready index of unblocked rows go, the Ready index of
/// version 1 comes back.
const UNDO_V4: &str = "
    DROP TRIGGER operation_token_insert;
    DROP TRIGGER operation_token_state;
    DROP TRIGGER operation_token_delete;
    DROP INDEX operation_ready_type;
    ALTER TABLE operation DROP COLUMN blocked;
    CREATE INDEX operation_ready ON operation (id) WHERE state = 0;
    PRAGMA user_version = 3;";

/// A version-3 file whose Ready rows wait behind dependency tokens gets each
/// unfinished row's `blocked` flag computed by the upgrade, and claims then
/// follow the tokens (§7).
#[test]
fn a_version_3_file_gets_the_blocked_flags_of_its_rows() {
    let dir = TempDir::new("upgrade-v3");
    let path = dir.file("v3.db");
    let clock = ManualClock::new(T0);
    let spec = |name: &str, token: Option<&str>| {
        let s = OperationSpec::new(name, NORMAL_TYPE);
        match token {
            Some(t) => s.dependency_token(t),
            None => s,
        }
    };
    let (ids, head) = {
        let q = Queue::open(&path, options(&clock)).unwrap();
        let mut ids = Vec::new();
        for (name, token) in [
            ("a", Some("t")),
            ("b", Some("t")),
            ("c", Some("t")),
            ("d", None),
            ("e", Some("u")),
            ("done", Some("v")),
            ("after-done", Some("v")),
        ] {
            ids.push(q.submit(&spec(name, token)).unwrap());
        }
        // "done" completes (its successor is then the head of "v"), "a" runs.
        let a = q
            .poll("host", &PollOptions::default())
            .unwrap()
            .pop()
            .unwrap();
        assert_eq!(a.id, ids[0]);
        q.cancel(ids[5]).unwrap();
        q.close();
        (ids, a)
    };
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(UNDO_V4).unwrap();
    }

    let q = Queue::open(&path, options(&clock)).unwrap();
    let flags: Vec<(i64, i64)> = {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let mut stmt = conn
            .prepare("SELECT id, blocked FROM operation ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let blocked: Vec<i64> = flags.iter().filter(|f| f.1 == 1).map(|f| f.0).collect();
    assert_eq!(blocked, vec![ids[1], ids[2]], "flags {flags:?}");
    // Eligible: d, e, after-done (b and c wait behind the running a).
    let claimed: Vec<i64> = q
        .poll("host", &PollOptions::default().max(10))
        .unwrap()
        .iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(claimed, vec![ids[3], ids[4], ids[6]]);
    // a completes: b, and only b, becomes claimable.
    q.complete(head.key()).unwrap();
    let claimed: Vec<i64> = q
        .poll("host", &PollOptions::default().max(10))
        .unwrap()
        .iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(claimed, vec![ids[1]]);
}

#[test]
fn a_version_2_file_is_upgraded_with_its_rows_intact() {
    let dir = TempDir::new("upgrade-v2");
    let path = dir.file("v2.db");
    let clock = ManualClock::new(T0);
    let (done, queued) = {
        let q = Queue::open(&path, options(&clock)).unwrap();
        let done = q
            .submit(&OperationSpec::new("done", NORMAL_TYPE).data(b"d".to_vec()))
            .unwrap();
        let queued = q
            .submit(&OperationSpec::new("queued", NORMAL_TYPE).correlation_id("c"))
            .unwrap();
        let lease = q
            .poll("host", &PollOptions::default())
            .unwrap()
            .pop()
            .unwrap();
        assert_eq!(lease.id, done);
        q.complete(lease.key()).unwrap();
        q.close();
        (done, queued)
    };
    let before = {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(UNDO_V4).unwrap();
        conn.execute_batch(
            "ALTER TABLE operation DROP COLUMN progress;
             ALTER TABLE operation DROP COLUMN progress_text;
             ALTER TABLE operation DROP COLUMN output;
             DROP TABLE attempt;
             DROP TABLE held_type;
             PRAGMA user_version = 2;",
        )
        .unwrap();
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM operation", [], |r| r.get(0))
            .unwrap();
        conn.close().unwrap();
        rows
    };
    assert_eq!(before, 2);

    let q = Queue::open(&path, options(&clock)).unwrap();
    let d = q.retrieve(done).unwrap();
    assert_eq!(
        (d.status, d.data.as_slice()),
        (Status::Succeeded, &b"d"[..])
    );
    assert_eq!((d.progress, d.progress_text, d.output), (None, None, None));
    let r = q.retrieve(queued).unwrap();
    assert_eq!(r.status, Status::WaitingForResources);
    assert_eq!(r.correlation_id.as_deref(), Some("c"));
    // The upgraded queue works: the queued one is claimed and completed.
    let lease = q
        .poll("host", &PollOptions::default())
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(lease.id, queued);
    q.complete(lease.key()).unwrap();
    q.close();

    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, asyncop::store::sqlite::SCHEMA_VERSION);
    for table in ["attempt", "held_type"] {
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "{table}");
    }
}
