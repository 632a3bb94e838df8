//! SQLite store only: a claim's work does not grow with the Ready rows it
//! skips (issue 15, item 7). Counted, not timed: SQLite's VM steps of the
//! claim's statements (the walk for the types to claim and the claim itself)
//! with 1,000 and with 100,000 skipped rows must be equal within 2×.
//!
//! Skipped rows: operations waiting behind a dependency token whose head is
//! running (§7), operations of another type under a type-filtered poll
//! (§6.1), and operations of a held type under an unfiltered poll (§6.7).

mod support;

use asyncop::store::sqlite::testing;
use asyncop::{ManualClock, OperationSpec, PollOptions, Queue};
use support::{NORMAL_TYPE, T0, TempDir, options};

/// Inserts `n` rows in one statement (a recursive CTE): Ready rows of
/// `operation_type` with dependency token `token`. The schema's triggers set
/// their `blocked` flags as for any insert.
fn insert_ready(queue: &Queue, n: usize, operation_type: i32, token: Option<&str>) {
    let token = token.map(str::to_owned);
    testing::write(queue, move |conn| {
        conn.execute(
            "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1) \
             INSERT INTO operation (name, operation_type, state, status, data, dependency_token, \
                 created_on, modified_on) \
             SELECT 'skipped', ?2, 0, 0, x'', ?3, ?4, ?4 FROM k",
            rusqlite::params![n as i64, operation_type, token, T0],
        )?;
        Ok(())
    })
    .unwrap();
}

/// The VM steps of one poll (no wait) that must claim exactly `expected`.
fn poll_steps(queue: &Queue, options: &PollOptions, expected: i64) -> i64 {
    let leases = queue.poll("host", options).unwrap();
    let ids: Vec<i64> = leases.iter().map(|l| l.id).collect();
    assert_eq!(ids, vec![expected]);
    testing::last_claim_vm_steps()
}

/// Sets up a queue where a claim must skip `skipped` rows of `case`, then
/// returns the VM steps of the claim that finds the one eligible operation.
fn claim_steps_past(case: &str, skipped: usize) -> i64 {
    let dir = TempDir::new(&format!("skips-{case}-{skipped}"));
    let clock = ManualClock::new(T0);
    let queue = Queue::open(dir.file("q.db"), options(&clock)).unwrap();
    let mut poll = PollOptions::default();
    match case {
        "token" => {
            let head = queue
                .submit(&OperationSpec::new("head", NORMAL_TYPE).dependency_token("t"))
                .unwrap();
            let lease = queue.poll("host", &PollOptions::default()).unwrap();
            assert_eq!(lease[0].id, head, "the head runs");
            insert_ready(&queue, skipped, NORMAL_TYPE, Some("t"));
        }
        "other type" => {
            insert_ready(&queue, skipped, NORMAL_TYPE + 1, None);
            poll = poll.operation_types(vec![NORMAL_TYPE]);
        }
        "held type" => {
            insert_ready(&queue, skipped, NORMAL_TYPE + 2, None);
            queue.hold_type(NORMAL_TYPE + 2).unwrap();
        }
        other => panic!("unknown case {other}"),
    }
    let id = queue
        .submit(&OperationSpec::new("eligible", NORMAL_TYPE))
        .unwrap();
    let steps = poll_steps(&queue, &poll, id);
    queue.close();
    steps
}

fn assert_flat(case: &str) {
    let few = claim_steps_past(case, 1_000);
    let many = claim_steps_past(case, 100_000);
    eprintln!("{case}: claim VM steps past 1,000: {few}, past 100,000: {many}");
    assert!(few > 0, "{case}: steps were counted");
    assert!(
        many <= 2 * few && few <= 2 * many,
        "{case}: claim VM steps past 1,000 rows {few}, past 100,000 rows {many}"
    );
}

#[test]
fn claims_past_operations_waiting_behind_a_token_do_not_grow() {
    assert_flat("token");
}

#[test]
fn type_filtered_claims_past_other_types_do_not_grow() {
    assert_flat("other type");
}

#[test]
fn claims_past_held_types_do_not_grow() {
    assert_flat("held type");
}

/// FIFO is kept across the per-type walks: a claim of several types merges
/// their heads by id.
#[test]
fn a_claim_of_several_types_merges_their_heads_by_id() {
    let dir = TempDir::new("skips-merge");
    let clock = ManualClock::new(T0);
    let queue = Queue::open(dir.file("q.db"), options(&clock)).unwrap();
    let types = [NORMAL_TYPE, NORMAL_TYPE + 1, NORMAL_TYPE + 2];
    let ids: Vec<i64> = (0..9)
        .map(|i| {
            queue
                .submit(&OperationSpec::new(format!("op{i}"), types[i % 3]))
                .unwrap()
        })
        .collect();
    queue.hold_type(NORMAL_TYPE + 2).unwrap();
    let claimed: Vec<i64> = queue
        .poll(
            "host",
            &PollOptions::default()
                .max(4)
                .operation_types(types.to_vec()),
        )
        .unwrap()
        .iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(claimed, vec![ids[0], ids[1], ids[3], ids[4]]);
    let claimed: Vec<i64> = queue
        .poll("host", &PollOptions::default().max(9))
        .unwrap()
        .iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(claimed, vec![ids[6], ids[7]]);
}
