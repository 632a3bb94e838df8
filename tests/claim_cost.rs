//! SQLite store only: the cost is SQLite's virtual-machine step count.
//!
//! The claim must stay O(log n) however many Completed rows the table holds.
//! Checked without timing: SQLite counts the virtual-machine steps of a
//! statement, so the claim's work with 20 and with 60,000 Completed rows is compared
//! exactly, and its query plan must walk the partial index of Ready rows.

mod support;

use asyncop::{OperationSpec, Options, Queue};
use rusqlite::{Connection, StatementStatus, params};
use support::TempDir;

fn temp_queue(tag: &str) -> (TempDir, std::path::PathBuf, Queue) {
    let dir = TempDir::new(tag);
    let path = dir.file("q.db");
    let queue = Queue::open(&path, Options::default()).unwrap();
    (dir, path, queue)
}

/// Adds `n` Completed rows directly (fast), then 5 Ready ones through the API.
fn fill(path: &std::path::Path, queue: &Queue, completed: usize) {
    let mut conn = Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO operation (name, operation_type, state, status, data, created_on, \
                 modified_on, completed_on, dependency_token) VALUES ('done', 100, 3, 30, x'', 1, 1, 1, ?1)",
            )
            .unwrap();
        for i in 0..completed {
            insert.execute(params![format!("t{}", i % 7)]).unwrap();
        }
    }
    tx.commit().unwrap();
    for i in 0..5 {
        let spec = OperationSpec::new("ready", 100).dependency_token(format!("t{i}"));
        queue.submit(&spec).unwrap();
    }
}

/// (VM steps, scan steps) of one claim of 3 operations, run in a transaction that is rolled back.
fn claim_steps(path: &std::path::Path, types: Option<&[i32]>) -> (i32, i32) {
    let mut conn = Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    let mut stmt = tx
        .prepare(
            &asyncop::store::sqlite::testing::claim_sql(
                &asyncop::transition::ClaimMove::new("h", 0, 1),
                types,
                3,
            )
            .unwrap(),
        )
        .unwrap();
    let claimed = stmt
        .query_map(params!["host", 10_000, 1], |r| r.get::<_, i64>(0))
        .unwrap()
        .count();
    // An unfiltered claim statement takes one operation (more are claimed
    // by type, after a look for the types that have eligible rows).
    assert_eq!(claimed, if types.is_none() { 1 } else { 3 });
    // "Full scan" steps count the walk over the (partial) Ready index too, so
    // they are compared between the two tables rather than expected to be zero.
    (
        stmt.get_status(StatementStatus::VmStep),
        stmt.get_status(StatementStatus::FullscanStep),
    )
}

#[test]
fn claim_work_does_not_grow_with_completed_rows() {
    let (_small_dir, small_path, small) = temp_queue("claim-small");
    let (_large_dir, large_path, large) = temp_queue("claim-large");
    fill(&small_path, &small, 20);
    fill(&large_path, &large, 60_000);
    for types in [None, Some(&[100, 101][..])] {
        let few = claim_steps(&small_path, types);
        let many = claim_steps(&large_path, types);
        assert_eq!(
            few, many,
            "claim VM steps with 20 vs 60,000 completed rows (types {types:?})"
        );
    }
}

#[test]
fn claim_plan_walks_the_ready_index() {
    let (_dir, path, _queue) = temp_queue("claim-plan");
    let conn = Connection::open(&path).unwrap();
    for types in [None, Some(&[100][..])] {
        let sql = format!(
            "EXPLAIN QUERY PLAN {}",
            asyncop::store::sqlite::testing::claim_sql(
                &asyncop::transition::ClaimMove::new("h", 0, 1),
                types,
                1
            )
            .unwrap()
        );
        let mut stmt = conn.prepare(&sql).unwrap();
        let plan: Vec<String> = stmt
            .query_map(params!["h", 1, 1], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let text = plan.join("\n");
        assert!(text.contains("INDEX operation_ready_type"), "{text}");
        // No row is tested for its token: blocked rows are not in the index.
        assert!(!text.contains("operation_dependency"), "{text}");
        assert!(!text.contains("TEMP B-TREE"), "{text}");
    }
}

/// A cached claim statement runs as prepared: SQLite re-prepares a statement
/// whose bound parameters can change its plan (a bound LIMIT does), and a
/// re-prepare costs more than the claim.
#[test]
fn claim_statement_is_not_reprepared() {
    let (_dir, path, queue) = temp_queue("claim-reprepare");
    fill(&path, &queue, 10);
    let conn = Connection::open(&path).unwrap();
    for types in [None, Some(&[100][..])] {
        let sql = asyncop::store::sqlite::testing::claim_sql(
            &asyncop::transition::ClaimMove::new("h", 0, 1),
            types,
            1,
        )
        .unwrap();
        for round in 1..=3 {
            let tx = conn.unchecked_transaction().unwrap();
            let mut stmt = tx.prepare_cached(&sql).unwrap();
            let claimed = stmt
                .query_map(params!["host", 10_000, 1], |r| r.get::<_, i64>(0))
                .unwrap()
                .count();
            assert_eq!(claimed, 1);
            assert_eq!(
                stmt.get_status(StatementStatus::RePrepare),
                0,
                "claim {round} (types {types:?}) was re-prepared"
            );
            drop(stmt);
            tx.rollback().unwrap();
        }
    }
}

/// VM steps of one run of `sql` at time `now` (nothing is due at that time).
fn maintenance_steps(path: &std::path::Path, sql: &str, now: i64) -> i32 {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let rows = stmt.query_map([now], |_| Ok(())).unwrap().count();
    assert_eq!(rows, 0, "nothing is due");
    stmt.get_status(StatementStatus::VmStep)
}

/// Every claim first runs recovery and promotion (§6.4). Their work must not
/// grow with the leases in flight nor with the postponed rows that are not
/// due: they walk their own partial indexes from the due end.
#[test]
fn maintenance_work_does_not_grow_with_rows_in_flight() {
    let (_few_dir, few_path, few) = temp_queue("maint-few");
    let (_many_dir, many_path, many) = temp_queue("maint-many");
    for (queue, n) in [(&few, 3), (&many, 2000)] {
        let specs: Vec<_> = (0..2 * n)
            .map(|i| OperationSpec::new(format!("op{i}"), 1))
            .collect();
        let ids = queue.submit_many(&specs).unwrap();
        // n Locked (leases expire in 30 s) and n postponed far into the future.
        let claimed = queue
            .poll("host", &asyncop::PollOptions::default().max(n as u32))
            .unwrap();
        assert_eq!(claimed.len(), n);
        for &id in &ids[n..] {
            queue.postpone(id, queue.now() + 3_600_000).unwrap();
        }
    }
    let now = few.now();
    for sql in [
        asyncop::store::sqlite::testing::expired_leases_sql(100),
        asyncop::store::sqlite::testing::due_postponed_sql(100),
    ] {
        assert_eq!(
            maintenance_steps(&few_path, &sql, now),
            maintenance_steps(&many_path, &sql, now),
            "VM steps with 3 vs 2,000 rows in flight: {sql}"
        );
    }
}
