//! PostgreSQL store only: `counts()` costs O(groups), not O(rows) (issue 15,
//! item 8, as `tests/page_costs.rs` for SQLite). Counted, not timed: the
//! shared buffers (hits + reads) of the store's counts statement, from
//! `EXPLAIN (ANALYZE, BUFFERS)`, with 1,000 and with 100,000 rows in the same
//! groups must be equal within 1.5×. And the counts are right: equal to a
//! `GROUP BY` of the rows after submits, claims, completions and deletes, with
//! changes pending and after they are folded.
//!
//! Skipped (with a message) when `ASYNCOP_TEST_POSTGRES` is not set.

mod support;

use asyncop::store::postgres::testing;
use asyncop::{OperationSpec, Options, PollOptions, Queue};
use support::NORMAL_TYPE;
use support::pg::{sql, url_or_skip};

/// Inserts `n` rows in each of three groups (Ready of two types, Succeeded of
/// one), one statement per group, as a bulk load would.
fn insert_rows(c: &mut postgres::Client, n: i64) {
    for (operation_type, state, status) in [
        (NORMAL_TYPE, 0, 0),
        (NORMAL_TYPE + 1, 0, 0),
        (NORMAL_TYPE, 3, 30),
    ] {
        c.execute(
            "INSERT INTO operation (name, operation_type, state, status, data, created_on, \
                 modified_on) \
             SELECT 'bulk', $2, $3, $4, '', 1, 1 FROM generate_series(1, $1::bigint) AS g",
            &[&n, &operation_type, &state, &status],
        )
        .unwrap();
    }
}

/// (status, type, count) by `GROUP BY` over the rows.
fn counted_rows(c: &mut postgres::Client) -> Vec<(i32, i32, i64)> {
    c.query(
        "SELECT status, operation_type, count(*) FROM operation \
         GROUP BY status, operation_type ORDER BY status, operation_type",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

/// (status, type, count) by the store's `counts()`.
fn counted_by_store(queue: &Queue) -> Vec<(i32, i32, i64)> {
    queue
        .counts()
        .unwrap()
        .iter()
        .map(|r| (i32::from(r.status.code()), r.operation_type, r.count))
        .collect()
}

/// The shared buffers (hit + read) of the counts statement.
fn counts_buffers(c: &mut postgres::Client) -> u64 {
    let plan: Vec<String> = c
        .query(
            &format!(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) {}",
                testing::counts_sql()
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let plan = plan.join("\n");
    let Some(buffers) = plan
        .lines()
        .find(|l| l.trim_start().starts_with("Buffers: shared"))
    else {
        return 0;
    };
    let count = |key: &str| -> u64 {
        buffers
            .split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .map_or(0, |n| n.parse().unwrap())
    };
    count("hit=") + count("read=")
}

/// The counts statement's buffers with `n` rows in each of three groups,
/// after checking the counts against the rows.
fn buffers_at(url: &str, n: i64) -> u64 {
    let schema = support::pg::fresh_schema('c', &format!("counts_{n}"));
    let queue = Queue::open(format!("{url}?schema={schema}"), Options::default()).unwrap();
    let mut c = sql(url, &schema);
    insert_rows(&mut c, n);
    // Moves through the store: a claim, a completion, a delete.
    let id = queue
        .submit(&OperationSpec::new("moved", NORMAL_TYPE + 2))
        .unwrap();
    let poll = PollOptions::default().operation_types(vec![NORMAL_TYPE + 2]);
    let lease = queue.poll("host", &poll).unwrap().pop().unwrap();
    assert_eq!(lease.id, id);
    queue.complete(lease.key()).unwrap();
    c.execute(
        "DELETE FROM operation WHERE id = (SELECT min(id) FROM operation WHERE state = 3)",
        &[],
    )
    .unwrap();
    assert_eq!(counted_by_store(&queue), counted_rows(&mut c), "pending");
    c.batch_execute("SELECT operation_count_fold()").unwrap();
    let pending: i64 = c
        .query_one("SELECT count(*) FROM operation_count_change", &[])
        .unwrap()
        .get(0);
    assert_eq!(pending, 0, "the fold took every change");
    assert_eq!(counted_by_store(&queue), counted_rows(&mut c), "folded");
    // The cost is counted with changes pending, as a reader usually finds it.
    insert_rows(&mut c, 1);
    c.batch_execute("ANALYZE operation_count, operation_count_change")
        .unwrap();
    counts_buffers(&mut c);
    let buffers = counts_buffers(&mut c);
    queue.close();
    c.batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .unwrap();
    buffers
}

#[test]
fn counts_read_the_groups_not_the_rows() {
    let Some(url) = url_or_skip() else { return };
    let few = buffers_at(&url, 1_000);
    let many = buffers_at(&url, 100_000);
    eprintln!("counts() shared buffers at 3 x 1,000 rows: {few}, at 3 x 100,000: {many}");
    assert!(few > 0, "buffers were counted");
    assert!(
        2 * many <= 3 * few && 2 * few <= 3 * many,
        "counts() buffers at 1,000 rows {few}, at 100,000 rows {many}"
    );
}
