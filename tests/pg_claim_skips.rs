//! PostgreSQL store only: a claim's work does not grow with the Ready rows it
//! skips (issue 15, item 7, as `tests/claim_skips.rs` for SQLite). Counted,
//! not timed: the shared buffers (hits + reads) the claim statement touches,
//! from `EXPLAIN (ANALYZE, BUFFERS)` of the store's own statement text, with
//! 1,000 and with 100,000 skipped rows must be equal within 1.5×.
//!
//! Skipped rows: operations waiting behind a dependency token whose head is
//! running (§7), operations of another type under a type-filtered poll
//! (§6.1), and operations of a held type under an unfiltered poll (§6.7).
//!
//! Skipped (with a message) when `ASYNCOP_TEST_POSTGRES` is not set.

mod support;

use asyncop::store::postgres::testing;
use asyncop::{OperationSpec, Options, PollOptions, Queue};
use support::NORMAL_TYPE;
use support::pg::{sql, url_or_skip};

/// Inserts `n` Ready rows of `operation_type` with dependency token `token`
/// in one statement; the schema's trigger sets their `blocked` flags as for
/// any insert.
fn insert_ready(c: &mut postgres::Client, n: i64, operation_type: i32, token: Option<&str>) {
    c.execute(
        "INSERT INTO operation (name, operation_type, state, status, data, dependency_token, \
             created_on, modified_on) \
         SELECT 'skipped', $2, 0, 0, '', $3, 1, 1 FROM generate_series(1, $1::bigint) AS g",
        &[&n, &operation_type, &token],
    )
    .unwrap();
}

/// The shared buffers (hit + read) of the store's claim statement, run under
/// `EXPLAIN (ANALYZE, BUFFERS)` in a transaction that is rolled back, with
/// the plan for its arguments or (`generic`) the generic plan a prepared
/// statement switches to after five runs; the claim must take exactly one row.
fn claim_buffers(c: &mut postgres::Client, types: Option<&[i32]>, generic: bool) -> u64 {
    let text = testing::claim_sql(types.is_some(), 1);
    let mut tx = c.transaction().unwrap();
    let mode = if generic {
        "force_generic_plan"
    } else {
        "auto"
    };
    tx.batch_execute(&format!(
        "SET LOCAL plan_cache_mode = {mode}; DEALLOCATE ALL; PREPARE claim AS {text}"
    ))
    .unwrap();
    let args = match types {
        Some(t) => format!(
            "('host', 1, 0, '{{{}}}')",
            t.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
        ),
        None => "('host', 1, 0)".to_owned(),
    };
    let plan: Vec<String> = tx
        .query(
            &format!("EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) EXECUTE claim{args}"),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    tx.rollback().unwrap();
    let plan = plan.join("\n");
    // The top node (the UPDATE) counts the buffers of the whole statement.
    let top = plan.lines().next().unwrap_or_default();
    assert!(top.contains("rows=1 "), "the claim takes one row:\n{plan}");
    let buffers = plan
        .lines()
        .find(|l| l.trim_start().starts_with("Buffers: shared"))
        .unwrap_or_else(|| panic!("no buffer counts:\n{plan}"));
    let count = |key: &str| -> u64 {
        buffers
            .split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .map_or(0, |n| n.parse().unwrap())
    };
    count("hit=") + count("read=")
}

/// Sets up a queue where a claim must skip `skipped` rows of `case`, then
/// returns the buffers of the claim that finds the one eligible operation
/// (with the custom and with the generic plan).
fn claim_buffers_past(url: &str, case: &str, skipped: i64) -> (u64, u64) {
    let schema = support::pg::fresh_schema('s', &case.replace(' ', "_"));
    let queue = Queue::open(format!("{url}?schema={schema}"), Options::default()).unwrap();
    let mut c = sql(url, &schema);
    let mut types = None;
    match case {
        "token" => {
            let head = queue
                .submit(&OperationSpec::new("head", NORMAL_TYPE).dependency_token("t"))
                .unwrap();
            let lease = queue.poll("host", &PollOptions::default()).unwrap();
            assert_eq!(lease[0].id, head, "the head runs");
            insert_ready(&mut c, skipped, NORMAL_TYPE, Some("t"));
        }
        "other type" => {
            insert_ready(&mut c, skipped, NORMAL_TYPE + 1, None);
            types = Some(vec![NORMAL_TYPE]);
        }
        "held type" => {
            insert_ready(&mut c, skipped, NORMAL_TYPE + 2, None);
            queue.hold_type(NORMAL_TYPE + 2).unwrap();
        }
        other => panic!("unknown case {other}"),
    }
    let id = queue
        .submit(&OperationSpec::new("eligible", NORMAL_TYPE))
        .unwrap();
    c.batch_execute("ANALYZE operation").unwrap();
    // The first run sets hint bits and the like; the second is counted.
    claim_buffers(&mut c, types.as_deref(), false);
    let buffers = (
        claim_buffers(&mut c, types.as_deref(), false),
        claim_buffers(&mut c, types.as_deref(), true),
    );
    // And the store's claim takes that operation.
    let mut poll = PollOptions::default();
    if let Some(t) = types {
        poll = poll.operation_types(t);
    }
    let leases = queue.poll("host", &poll).unwrap();
    let ids: Vec<i64> = leases.iter().map(|l| l.id).collect();
    assert_eq!(ids, vec![id], "{case}: the eligible operation is claimed");
    queue.close();
    c.batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .unwrap();
    buffers
}

fn assert_flat(case: &str) {
    let Some(url) = url_or_skip() else { return };
    let (few, few_generic) = claim_buffers_past(&url, case, 1_000);
    let (many, many_generic) = claim_buffers_past(&url, case, 100_000);
    eprintln!(
        "{case}: claim shared buffers past 1,000: {few}, past 100,000: {many} \
         (generic plan: {few_generic}, {many_generic})"
    );
    for (plan, few, many) in [
        ("custom", few, many),
        ("generic", few_generic, many_generic),
    ] {
        assert!(few > 0, "{case}: buffers were counted");
        assert!(
            2 * many <= 3 * few && 2 * few <= 3 * many,
            "{case}, {plan} plan: claim buffers past 1,000 rows {few}, past 100,000 rows {many}"
        );
    }
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
