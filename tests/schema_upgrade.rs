//! SQLite store only: a queue file written by a previous schema version opens,
//! is brought to the current one, and keeps every row and setting.
//!
//! The old file is made by writing that version's schema into an empty
//! database (`testing::create_schema_at`), which is exactly what that library
//! wrote, and its rows with that version's columns.

mod support;

use asyncop::store::sqlite::testing::create_schema_at;
use asyncop::{Filter, ManualClock, OperationSpec, PollOptions, Queue, State, Status};
use rusqlite::Connection;
use support::{NORMAL_TYPE, T0, TempDir, options};

#[test]
fn a_version_2_file_is_upgraded_with_its_rows_intact() {
    let dir = TempDir::new("upgrade-v2");
    let path = dir.file("v2.db");
    let clock = ManualClock::new(T0);
    let (done, queued) = {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        create_schema_at(&conn, 2).unwrap();
        conn.execute(
            "INSERT INTO operation (name, operation_type, state, status, data, lock_token, \
             created_on, modified_on, started_on, completed_on, execution_time_span) \
             VALUES ('done', ?1, 3, 30, x'64', 1, ?2, ?2, ?2, ?2, 0)",
            rusqlite::params![NORMAL_TYPE, T0],
        )
        .unwrap();
        let done = conn.last_insert_rowid();
        conn.execute(
            "INSERT INTO operation (name, operation_type, state, status, data, correlation_id, \
             created_on, modified_on) VALUES ('queued', ?1, 0, 0, x'', 'c', ?2, ?2)",
            rusqlite::params![NORMAL_TYPE, T0],
        )
        .unwrap();
        let queued = conn.last_insert_rowid();
        conn.close().unwrap();
        (done, queued)
    };

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

/// The columns of `operation` in schema version 3, in table order.
const V3_COLUMNS: &str = "id, name, operation_type, state, status, data, dependency_token, \
    postpone_until, host_id, lease_expires_at, lock_token, retry_count, error_code, message, \
    friendly_message, created_on, modified_on, started_on, completed_on, execution_time_span, \
    recurrence_pattern, recurrence_start, correlation_id, is_waiting_for_event, progress, \
    progress_text, output";

/// Every row of `operation` in id order, every column of version 3 as SQLite
/// stores it (version 5 adds `blocked`, checked by its own test).
fn all_rows(conn: &Connection) -> Vec<Vec<rusqlite::types::Value>> {
    let mut stmt = conn
        .prepare(&format!("SELECT {V3_COLUMNS} FROM operation ORDER BY id"))
        .unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| (0..n).map(|i| r.get(i)).collect())
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Version 4 rebuilds the table without AUTOINCREMENT: every row and column
/// stays, the counters and the name table are filled from the rows, and the
/// next id is above every id the old file ever handed out (its sqlite_sequence).
#[test]
fn a_version_3_file_is_upgraded_with_its_rows_counts_and_ids_intact() {
    let dir = TempDir::new("upgrade-v3");
    let path = dir.file("v3.db");
    let clock = ManualClock::new(T0);
    let (before, groups, handed_out) = {
        let mut conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        let tx = conn.transaction().unwrap();
        create_schema_at(&tx, 3).unwrap();
        tx.execute_batch(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
             INSERT INTO operation (name, operation_type, state, status, data, lock_token,
                 created_on, modified_on, started_on, completed_on, execution_time_span, output)
             SELECT printf('done-%03d', i), {NORMAL_TYPE}, 3, 30 + i % 2, randomblob(i % 7), 1,
                 i, i, i, i, 0, x'6f' FROM n;
             INSERT INTO operation (name, operation_type, state, status, data, postpone_until,
                 created_on, modified_on, progress, progress_text)
             VALUES ('later', 102, 1, 10, x'', {T0}, 1, 1, 40, 'partly');
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
             INSERT INTO operation (name, operation_type, state, status, data, dependency_token,
                 created_on, modified_on)
             SELECT printf('ready-%03d', i), 101, 0, 0, x'', 't' || (i % 3), i, i FROM n;
             INSERT INTO attempt (operation_id, lock_token, ended_on, ending)
             VALUES (1, 1, 1, 'retry');
             -- The newest rows go: sqlite_sequence then stays above max(id).
             DELETE FROM operation WHERE id > 296;"
        ))
        .unwrap();
        tx.commit().unwrap();
        let seq: i64 = conn
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'operation'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(seq, 301);
        let groups: Vec<(i64, i64, i64, i64)> = conn
            .prepare(
                "SELECT state, status, operation_type, count(*) FROM operation \
                 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        (all_rows(&conn), groups, seq)
    };
    assert_eq!(before.len(), 296);

    let q = Queue::open(&path, options(&clock)).unwrap();
    let counts: Vec<(i64, i64, i64, i64)> = q
        .counts()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c.state.code().into(),
                c.status.code().into(),
                c.operation_type.into(),
                c.count,
            )
        })
        .collect();
    assert_eq!(counts, groups);
    let named = |f: Filter| q.query(&f).unwrap().len();
    let by_name = |n: &str| Filter {
        name: Some(n.into()),
        ..Filter::default()
    };
    assert_eq!(named(by_name("ready-050")), 1);
    assert_eq!(named(by_name("ready-099")), 0); // deleted
    let prefix = Filter {
        name_prefix: Some("done-".into()),
        ..Filter::default()
    };
    assert_eq!(named(prefix), 200);
    let suspended = Filter {
        state: Some(State::Suspended),
        ..Filter::default()
    };
    assert_eq!(q.query(&suspended).unwrap()[0].name, "later");
    let next = q.submit(&OperationSpec::new("new", NORMAL_TYPE)).unwrap();
    assert_eq!(next, handed_out + 1);
    q.close();

    let conn = Connection::open(&path).unwrap();
    let version: i32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, asyncop::store::sqlite::SCHEMA_VERSION);
    let table_sql: String = conn
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'operation'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!table_sql.contains("AUTOINCREMENT"), "{table_sql}");
    conn.execute("DELETE FROM operation WHERE name = 'new'", [])
        .unwrap();
    assert_eq!(all_rows(&conn), before);
    let attempts: i64 = conn
        .query_row("SELECT count(*) FROM attempt", [], |r| r.get(0))
        .unwrap();
    assert_eq!(attempts, 1);
}

/// A version-3 file whose Ready rows wait behind dependency tokens gets each
/// unfinished row's `blocked` flag computed by the upgrade (version 5), and
/// claims then follow the tokens (§7).
#[test]
fn a_version_3_file_gets_the_blocked_flags_of_its_rows() {
    let dir = TempDir::new("upgrade-v3-blocked");
    let path = dir.file("v3.db");
    let clock = ManualClock::new(T0);
    {
        let mut conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        let tx = conn.transaction().unwrap();
        create_schema_at(&tx, 3).unwrap();
        // 1 "a" (token t) runs for host "host"; 2 "b" and 3 "c" (t) wait behind
        // it; 4 "d" has no token; 5 "e" is the head of u; 6 "done" (v) was
        // canceled, so 7 "after-done" is the head of v.
        let far = T0 + 3_600_000;
        tx.execute_batch(&format!(
            "INSERT INTO operation (id, name, operation_type, state, status, data,
                 dependency_token, host_id, lease_expires_at, lock_token, started_on,
                 created_on, modified_on)
             VALUES (1, 'a', {NORMAL_TYPE}, 2, 20, x'', 't', 'host', {far}, 1, {T0}, {T0}, {T0});
             INSERT INTO operation (id, name, operation_type, state, status, data,
                 dependency_token, created_on, modified_on)
             VALUES (2, 'b', {NORMAL_TYPE}, 0, 0, x'', 't', {T0}, {T0}),
                    (3, 'c', {NORMAL_TYPE}, 0, 0, x'', 't', {T0}, {T0}),
                    (4, 'd', {NORMAL_TYPE}, 0, 0, x'', NULL, {T0}, {T0}),
                    (5, 'e', {NORMAL_TYPE}, 0, 0, x'', 'u', {T0}, {T0}),
                    (7, 'after-done', {NORMAL_TYPE}, 0, 0, x'', 'v', {T0}, {T0});
             INSERT INTO operation (id, name, operation_type, state, status, data,
                 dependency_token, created_on, modified_on, completed_on)
             VALUES (6, 'done', {NORMAL_TYPE}, 3, 32, x'', 'v', {T0}, {T0}, {T0});"
        ))
        .unwrap();
        tx.commit().unwrap();
    }

    let q = Queue::open(&path, options(&clock)).unwrap();
    let blocked: Vec<i64> = {
        let conn = Connection::open(&path).unwrap();
        let mut stmt = conn
            .prepare("SELECT id FROM operation WHERE blocked = 1 ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(blocked, vec![2, 3]);
    // Eligible: d, e, after-done (b and c wait behind the running a).
    let ids = |leases: Vec<asyncop::Lease>| leases.iter().map(|l| l.id).collect::<Vec<_>>();
    let max10 = PollOptions::default().max(10);
    assert_eq!(ids(q.poll("host", &max10).unwrap()), vec![4, 5, 7]);
    // a completes: b, and only b, becomes claimable.
    let a = asyncop::LeaseKey {
        id: 1,
        lock_token: 1,
    };
    assert_eq!(q.complete(a).unwrap(), Status::Succeeded);
    assert_eq!(ids(q.poll("host", &max10).unwrap()), vec![2]);
}
