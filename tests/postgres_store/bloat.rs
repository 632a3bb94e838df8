//! Renewals are the most frequent write of a long job, so they must not bloat
//! the table: no index covers `lease_expires_at` and pages keep free room
//! (`fillfactor = 80`), so PostgreSQL updates the row in place (HOT), without a
//! new entry in every index.

use super::*;
use asyncop::{OperationSpec, PollOptions};
use std::time::Instant;

#[test]
fn renewals_are_heap_only_updates() {
    let schema = fresh_schema("hot");
    let q = direct(&schema);
    let mut keys = Vec::new();
    for i in 0..10 {
        q.submit(&OperationSpec::new(format!("long-{i}"), 100))
            .unwrap();
    }
    for lease in q.poll("host-h", &PollOptions::default().max(10)).unwrap() {
        keys.push(lease.key());
    }
    assert_eq!(keys.len(), 10);
    let stats = |c: &mut postgres::Client| -> (i64, i64) {
        let row = c
            .query_one(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables \
                 WHERE schemaname = $1 AND relname = 'operation'",
                &[&schema],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    let mut c = sql();
    // A backend hands its statistics over when it exits: each phase closes its handle.
    let wait_for = |c: &mut postgres::Client, at_least: i64| -> (i64, i64) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            c.batch_execute("SELECT pg_stat_clear_snapshot()").unwrap();
            let s = stats(c);
            if s.0 >= at_least || Instant::now() > deadline {
                return s;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    q.close();
    let before = wait_for(&mut c, 10);
    const ROUNDS: i64 = 50;
    let q = direct(&schema);
    for _ in 0..ROUNDS {
        for key in &keys {
            q.renew(*key).unwrap();
        }
    }
    q.close();
    let after = wait_for(&mut c, before.0 + ROUNDS * 10);
    let (updates, hot) = (after.0 - before.0, after.1 - before.1);
    assert_eq!(updates, ROUNDS * 10, "one update per renewal");
    // Not all: a page full of versions that a concurrent transaction (another
    // test) may still see cannot be pruned, and the next version moves to a
    // new page. An indexed lease column would make it none (90% seen alone).
    assert!(
        hot * 100 >= updates * 75,
        "{hot} of {updates} renewals were HOT updates"
    );
}
