//! SQLite store only: a query by name prefix reads a range of the name index
//! (§11, our addition), never a LIKE scan or a walk of the whole table. Checked
//! without timing: its plan must search `operation_by_name` by range (plus the
//! at most `NAME_TAIL` newest rows not yet folded into it, by id), and SQLite's
//! virtual-machine step count for it must not grow with rows outside the range.

mod support;

use asyncop::{Filter, OperationSpec, Options, Queue};
use rusqlite::{Connection, StatementStatus, params};
use support::TempDir;

fn prefix(p: &str) -> Filter {
    Filter {
        name_prefix: Some(p.into()),
        ..Filter::default()
    }
}

/// A queue with 5 "report-…" rows and `others` rows of other names.
fn queue_with(dir: &TempDir, others: usize) -> std::path::PathBuf {
    let path = dir.file("q.db");
    let queue = Queue::open(&path, Options::default()).unwrap();
    let mut conn = Connection::open(&path).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO operation (name, operation_type, state, status, data, created_on, \
                 modified_on) VALUES (?1, 100, 0, 0, x'', 1, 1)",
            )
            .unwrap();
        for i in 0..others {
            // Names on both sides of the range, and ones sharing most of the prefix.
            let name = match i % 3 {
                0 => format!("alpha-{i}"),
                1 => format!("reporx-{i}"),
                _ => format!("zulu-{i}"),
            };
            insert.execute(params![name]).unwrap();
        }
    }
    tx.commit().unwrap();
    for i in 0..5 {
        queue
            .submit(&OperationSpec::new(format!("report-{i}"), 100))
            .unwrap();
    }
    path
}

/// (rows, VM steps) of the prefix query's statement.
fn run(path: &std::path::Path, filter: &Filter) -> (usize, i32) {
    let conn = Connection::open(path).unwrap();
    let (sql, args) = asyncop::store::sqlite::testing::query_sql(&conn, filter).unwrap();
    let mut stmt = conn.prepare(&sql).unwrap();
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, i64>(0))
        .unwrap()
        .count();
    (rows, stmt.get_status(StatementStatus::VmStep))
}

#[test]
fn a_name_prefix_searches_a_range_of_the_name_index() {
    let dir = TempDir::new("query-plan");
    let path = queue_with(&dir, 30);
    let conn = Connection::open(&path).unwrap();
    // (A prefix of U+10FFFF only has no upper end, so it is a one-sided range
    // that the planner may trade for the id order; it still matches exactly.)
    for filter in [prefix("report-"), prefix("rep%_"), prefix("é\u{10FFFF}")] {
        let (sql, args) = asyncop::store::sqlite::testing::query_sql(&conn, &filter).unwrap();
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let plan: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let text = plan.join("\n");
        assert!(
            text.contains("SEARCH operation_by_name USING PRIMARY KEY (name>?"),
            "{filter:?}: {text}"
        );
        assert!(!text.contains("SCAN operation"), "{filter:?}: {text}");
        assert!(!sql.contains("LIKE"), "{sql}");
    }
}

#[test]
fn prefix_query_work_does_not_grow_with_other_names() {
    let small_dir = TempDir::new("query-small");
    let large_dir = TempDir::new("query-large");
    let small = queue_with(&small_dir, 30);
    let large = queue_with(&large_dir, 30_000);
    let (few_rows, few_steps) = run(&small, &prefix("report-"));
    let (many_rows, many_steps) = run(&large, &prefix("report-"));
    assert_eq!((few_rows, many_rows), (5, 5));
    // The unfolded tail (at most NAME_TAIL rows, read by id) differs between
    // the two files, so the counts are equal within that, not exactly.
    assert!(
        many_steps <= 2 * few_steps && few_steps <= 2 * many_steps,
        "VM steps of a prefix query with 30 vs 30,000 other names: {few_steps} vs {many_steps}"
    );
}
