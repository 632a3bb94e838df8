//! SQLite store only: a queue file written by the previous schema version opens,
//! is brought to the current one, and keeps every row and setting.
//!
//! The old file is made by taking a current queue back to version 2 (dropping
//! what version 3 added), which is exactly what a version-2 library wrote.

mod support;

use asyncop::{ManualClock, OperationSpec, PollOptions, Queue, Status};
use support::{NORMAL_TYPE, T0, TempDir, options};

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
