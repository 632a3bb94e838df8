//! Clean-up (§10) and held types (§6.7) through the real store, on a
//! `ManualClock`: retention per status, "none", short batches, the hourly
//! purge after a poll (by the leader on a shared store), auto-delete on
//! success, and holding whole operation types.

mod auto_delete;
mod held;
mod retention;
mod schedule;

use super::store;
use crate::support;
use asyncop::{
    Error, Filter, OperationSpec, PollOptions, Queue, Report, Retention, State, Status,
};
use std::time::{Duration, Instant};
use support::{Fixture, NORMAL_TYPE, RESTRICTED_TYPE, T0};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// A Succeeded operation completed now.
fn succeeded(f: &Fixture, name: &str) -> i64 {
    let id = f.submit(name, NORMAL_TYPE);
    let lease = f.claim("h", id);
    f.q.complete(lease.key()).unwrap();
    id
}

/// A Failed operation completed now.
fn failed(f: &Fixture, name: &str) -> i64 {
    let id = f.submit(name, NORMAL_TYPE);
    let lease = f.claim("h", id);
    f.q.fail(lease.key(), Report::default()).unwrap();
    id
}

/// A Canceled operation completed now (canceled while Ready).
fn canceled(f: &Fixture, name: &str) -> i64 {
    let id = f.submit(name, NORMAL_TYPE);
    f.q.cancel(id).unwrap();
    id
}

fn exists(q: &Queue, id: i64) -> bool {
    match q.retrieve(id) {
        Ok(_) => true,
        Err(Error::NotFound { .. }) => false,
        Err(e) => panic!("retrieve {id}: {e}"),
    }
}

/// `n` more attempt rows of `id`, written with raw SQL (the same in both
/// stores), with lock tokens from 1001 so they never meet recorded ones.
fn add_attempts(q: &Queue, id: i64, n: i64) {
    for token in 1001..=1000 + n {
        asyncop::testing::execute_batch(
            q,
            &format!(
                "INSERT INTO attempt (operation_id, lock_token, ended_on, ending) \
                 VALUES ({id}, {token}, 0, 'failed')"
            ),
        )
        .unwrap();
    }
}

/// How many attempt rows `id` has, read with a scratch table (both stores).
fn attempts(q: &Queue, id: i64) -> i64 {
    let name = format!("n_{id}_{}", std::process::id());
    asyncop::testing::execute_batch(
        q,
        &format!(
            "CREATE TABLE {name} AS SELECT count(*) AS n FROM attempt WHERE operation_id = {id}; \
             INSERT INTO setting (key, value) SELECT '{name}', CAST(n AS TEXT) FROM {name}; \
             DROP TABLE {name}"
        ),
    )
    .unwrap();
    let n = asyncop::testing::read(q, |tx| tx.setting(&name)).unwrap();
    asyncop::testing::execute_batch(q, &format!("DELETE FROM setting WHERE key = '{name}'"))
        .unwrap();
    n.unwrap().parse().unwrap()
}

fn last_purge_at(q: &Queue) -> i64 {
    asyncop::testing::read(q, |tx| tx.setting("last_purge_at"))
        .unwrap()
        .unwrap()
        .parse()
        .unwrap()
}
