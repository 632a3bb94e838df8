//! SQLite store only (schema version 4, issue 15 item 4): counted costs, no
//! timing.
//!
//! * WAL pages per submit / claim / complete stay within 3.2 / 4.2 / 4.1
//!   (frames counted by the growth of the `-wal` file with checkpoints off,
//!   the method of examples/wal_frames.rs).
//! * `counts()` is O(groups), and name, name-prefix and state queries are
//!   O(log n): SQLite's virtual-machine steps of each statement on a file of
//!   1,000 and one of 100,000 rows (1,000,000 for counts) are equal within a
//!   small factor, and the plans search an index or table, never scan.
//! * Ids are never reused after the newest rows are deleted or everything is
//!   purged, whichever connection (process) deleted them.

mod support;

use asyncop::store::sqlite::{NAME_TAIL, testing};
use asyncop::{Durability, Filter, OperationSpec, Options, PollOptions, Queue, State};
use rusqlite::{Connection, StatementStatus, params};
use std::path::{Path, PathBuf};
use support::{NORMAL_TYPE, TempDir};

const CALLS: usize = 1000;

fn wal_len(db: &Path) -> u64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(PathBuf::from(wal)).map_or(0, |m| m.len())
}

#[test]
fn wal_pages_per_submit_claim_and_complete_are_within_the_targets() {
    let dir = TempDir::new("wal-pages");
    let path = dir.file("q.db");
    let options = Options {
        sqlite: asyncop::SqliteOptions {
            durability: Durability::Normal,
            ..asyncop::SqliteOptions::default()
        },
        ..Options::default()
    };
    let queue = Queue::open(&path, options).unwrap();
    testing::write(&queue, |c| {
        Ok(c.execute_batch("PRAGMA wal_autocheckpoint = 0")?)
    })
    .unwrap();
    let page: i64 = testing::read(&queue, |c| {
        Ok(c.query_row("PRAGMA page_size", [], |r| r.get(0))?)
    })
    .unwrap();
    let frame = (page + 24) as f64;
    let specs: Vec<_> = (0..2000)
        .map(|i| OperationSpec::new(format!("pre-{i}"), NORMAL_TYPE).data([7u8; 100]))
        .collect();
    queue.submit_many(&specs).unwrap();

    let per_call = |step: &mut dyn FnMut(usize)| {
        let before = wal_len(&path);
        for i in 0..CALLS {
            step(i);
        }
        (wal_len(&path) - before) as f64 / frame / CALLS as f64
    };
    let submit = per_call(&mut |i| {
        let spec = OperationSpec::new(format!("op-{i}"), NORMAL_TYPE).data([7u8; 100]);
        queue.submit(&spec).unwrap();
    });
    let mut leases = Vec::new();
    let claim = per_call(&mut |_| {
        let lease = queue.poll("host", &PollOptions::default()).unwrap();
        assert_eq!(lease.len(), 1);
        leases.extend(lease);
    });
    let complete = per_call(&mut |i| {
        queue.complete(leases[i].key()).unwrap();
    });
    println!("WAL pages per call: submit {submit:.3}, claim {claim:.3}, complete {complete:.3}");
    assert!(submit <= 3.2, "submit writes {submit:.2} pages");
    assert!(claim <= 4.2, "claim writes {claim:.2} pages");
    assert!(complete <= 4.1, "complete writes {complete:.2} pages");
}

/// A file with `completed` Completed rows (built in one statement), then 5
/// Ready "report-…" rows and 3 paused ones through the API.
fn file_with(dir: &TempDir, completed: i64) -> PathBuf {
    let path = dir.file("q.db");
    let queue = Queue::open(&path, Options::default()).unwrap();
    let mut conn = Connection::open(&path).unwrap();
    // A test file: no fsync, and a cache that holds the growing b-trees.
    conn.execute_batch("PRAGMA synchronous = OFF; PRAGMA cache_size = -65536")
        .unwrap();
    let tx = conn.transaction().unwrap();
    tx.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) \
         INSERT INTO operation (name, operation_type, state, status, data, created_on, \
         modified_on, completed_on) \
         SELECT printf('done-%08d', i), 100 + i % 3, 3, 30, x'', i, i, i FROM n",
        params![completed],
    )
    .unwrap();
    tx.commit().unwrap();
    for i in 0..5 {
        queue
            .submit(&OperationSpec::new(format!("report-{i}"), NORMAL_TYPE))
            .unwrap();
    }
    for i in 0..3 {
        let spec = OperationSpec::new(format!("later-{i}"), NORMAL_TYPE).postpone_until(i64::MAX);
        queue.submit(&spec).unwrap();
    }
    queue.close();
    path
}

/// (rows, VM steps, plan) of one statement on the file.
fn run(path: &Path, sql: &str, args: Vec<rusqlite::types::Value>) -> (usize, i32, String) {
    let conn = Connection::open(path).unwrap();
    let plan: Vec<String> = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap()
        .query_map(rusqlite::params_from_iter(args.clone()), |r| r.get(3))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut stmt = conn.prepare(sql).unwrap();
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, i64>(0))
        .unwrap()
        .count();
    (
        rows,
        stmt.get_status(StatementStatus::VmStep),
        plan.join("\n"),
    )
}

fn query(path: &Path, filter: &Filter) -> (usize, i32, String) {
    let (sql, args) = testing::query_sql(&Connection::open(path).unwrap(), filter).unwrap();
    run(path, &sql, args)
}

fn within(small: i32, large: i32, factor: i32, what: &str) {
    println!("{what}: {small} VM steps at the small size, {large} at the large");
    assert!(
        large <= factor * small && small <= factor * large,
        "{what}: {small} vs {large} VM steps"
    );
}

#[test]
fn name_prefix_and_state_queries_do_not_grow_with_the_table() {
    let small_dir = TempDir::new("costs-1k");
    let large_dir = TempDir::new("costs-100k");
    // About 1,000 and 100,000 rows, multiples of NAME_TAIL so that both files
    // have the same unfolded tail (the 8 rows submitted last).
    let small = file_with(&small_dir, 8 * NAME_TAIL);
    let large = file_with(&large_dir, 391 * NAME_TAIL);
    let tail: i64 = Connection::open(&large)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM operation \
             WHERE id > (SELECT value FROM operation_mark WHERE key = 'named_to')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tail, 8);
    let cases = [
        (
            "name",
            Filter {
                name: Some("report-3".into()),
                ..Filter::default()
            },
            1,
        ),
        (
            "name prefix",
            Filter {
                name_prefix: Some("report-".into()),
                ..Filter::default()
            },
            5,
        ),
        (
            "state Ready",
            Filter {
                state: Some(State::Ready),
                limit: Some(10),
                ..Filter::default()
            },
            5,
        ),
        (
            "state Suspended",
            Filter {
                state: Some(State::Suspended),
                ..Filter::default()
            },
            3,
        ),
    ];
    for (what, filter, expected) in cases {
        let (rows_s, steps_s, plan_s) = query(&small, &filter);
        let (rows_l, steps_l, plan_l) = query(&large, &filter);
        assert_eq!((rows_s, rows_l), (expected, expected), "{what}");
        for plan in [plan_s, plan_l] {
            // A walk of a partial index (of the Ready rows, say) is fine, and
            // so is reading a subquery's own (bounded) result; a scan of a
            // whole table is not.
            let whole_scans = plan
                .lines()
                .filter(|l| {
                    l.contains("SCAN ") && !l.contains(" INDEX ") && !l.contains("SCAN (subquery")
                })
                .count();
            assert_eq!(whole_scans, 0, "{what} scans:\n{plan}");
        }
        within(steps_s, steps_l, 2, what);
    }
}

fn counts_steps(path: &Path) -> (usize, i32, String) {
    run(path, testing::COUNTS_SQL, Vec::new())
}

#[test]
fn counts_read_the_groups_not_the_rows() {
    let small_dir = TempDir::new("counts-1k");
    let large_dir = TempDir::new("counts-1m");
    let small = file_with(&small_dir, 1_000);
    let large = file_with(&large_dir, 1_000_000);
    let (groups_s, steps_s, _) = counts_steps(&small);
    let (groups_l, steps_l, plan) = counts_steps(&large);
    // Completed in 3 types, Ready and Suspended in one.
    assert_eq!((groups_s, groups_l), (5, 5));
    assert!(!plan.contains("operation "), "{plan}");
    within(steps_s, steps_l, 1, "counts");
    // And they agree with the rows.
    let queue = Queue::open(&large, Options::default()).unwrap();
    let counts = queue.counts().unwrap();
    let total: i64 = counts.iter().map(|c| c.count).sum();
    assert_eq!(total, 1_000_008);
}

#[test]
fn ids_are_never_reused_after_the_newest_rows_or_all_rows_are_deleted() {
    let dir = TempDir::new("ids-purged");
    let path = dir.file("q.db");
    let queue = Queue::open(&path, Options::default()).unwrap();
    let ids = queue
        .submit_many(
            &(0..300)
                .map(|i| OperationSpec::new(format!("a-{i}"), NORMAL_TYPE))
                .collect::<Vec<_>>(),
        )
        .unwrap();
    let newest = *ids.last().unwrap();
    // Another connection (as another process would) deletes the newest rows.
    let conn = Connection::open(&path).unwrap();
    conn.execute("DELETE FROM operation WHERE id > ?1", [newest - 10])
        .unwrap();
    let next = queue.submit(&OperationSpec::new("b", NORMAL_TYPE)).unwrap();
    assert!(next > newest, "id {next} reuses one up to {newest}");
    // Everything goes; the next id is still above every id handed out.
    conn.execute("DELETE FROM operation", []).unwrap();
    queue.close();
    let queue = Queue::open(&path, Options::default()).unwrap();
    let after = queue.submit(&OperationSpec::new("c", NORMAL_TYPE)).unwrap();
    assert!(after > next, "id {after} reuses one up to {next}");
    // Purge (§10) deletes the newest row too.
    queue.cancel(after).unwrap();
    assert_eq!(queue.purge(i64::MAX / 2).unwrap(), 1);
    let last = queue.submit(&OperationSpec::new("d", NORMAL_TYPE)).unwrap();
    assert!(last > after, "id {last} reuses one up to {after}");
    // The name table and the counters followed the deletes.
    let by_name: i64 = conn
        .query_row("SELECT count(*) FROM operation_by_name", [], |r| r.get(0))
        .unwrap();
    assert_eq!(by_name, 0);
    let counts = queue.counts().unwrap();
    assert_eq!(counts.iter().map(|c| c.count).sum::<i64>(), 1);
    assert_eq!(
        queue
            .query(&Filter {
                name_prefix: Some("a-".into()),
                ..Filter::default()
            })
            .unwrap()
            .len(),
        0
    );
}
