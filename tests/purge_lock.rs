//! The purge's write-lock hold (§10, issue 13 item 2): a purge of many
//! Completed rows runs beside a worker that submits, claims and completes on
//! another handle (as another process would), and the worker's latency per
//! call is measured: the longest is what the purge's batches held it up. The
//! distribution is printed (`--nocapture`); the bound asserted is generous.
//!
//! CI size: 100,000 rows on SQLite and 30,000 on PostgreSQL (when
//! `ASYNCOP_TEST_POSTGRES` is set). The full million is `#[ignore]`d:
//! `cargo test --release --test purge_lock -- --ignored --nocapture`.

mod support;

use asyncop::{OperationSpec, Options, PollOptions, Queue};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::Store;

const DAY_MS: i64 = 86_400_000;
/// The generous bound on one worker call while the purge runs.
const BOUND: Duration = Duration::from_millis(250);

/// `rows` Succeeded rows completed 31 days and more ago, with raw SQL.
fn fill(store: Store, q: &Queue, rows: u64) {
    let old = q.now() - 31 * DAY_MS;
    let sql = match store {
        Store::Sqlite => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
             INSERT INTO operation (name, operation_type, state, status, data, created_on, \
                 modified_on, started_on, completed_on) \
             SELECT 'old', 100, 3, 30, x'', {old} - i, {old} - i, {old} - i, {old} - i FROM n"
        ),
        Store::Postgres => format!(
            "INSERT INTO operation (name, operation_type, state, status, data, created_on, \
                 modified_on, started_on, completed_on) \
             SELECT 'old', 100, 3, 30, ''::bytea, {old} - i, {old} - i, {old} - i, {old} - i \
             FROM generate_series(1, {rows}) AS i; ANALYZE operation"
        ),
    };
    asyncop::testing::execute_batch(q, &sql).unwrap();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn lock_hold(store: Store, rows: u64) {
    let target = store.fresh("purge-lock");
    // Polls do not purge here: the purge measured is the one call below.
    let options = || Options {
        cleanup_enabled: Some(false),
        ..Options::default()
    };
    let q = target.open(options()).unwrap();
    let started = Instant::now();
    fill(store, &q, rows);
    let filled = started.elapsed();
    let worker_q = target.open(options()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut latencies = Vec::new();
            let timed = |latencies: &mut Vec<Duration>, f: &mut dyn FnMut()| {
                let t = Instant::now();
                f();
                latencies.push(t.elapsed());
            };
            let mut done = 0u64;
            while !stop.load(Ordering::Acquire) {
                timed(&mut latencies, &mut || {
                    worker_q.submit(&OperationSpec::new("new", 7)).unwrap();
                });
                let mut leases = Vec::new();
                timed(&mut latencies, &mut || {
                    leases = worker_q.poll("worker", &PollOptions::default()).unwrap();
                });
                for lease in leases {
                    timed(&mut latencies, &mut || {
                        worker_q.complete(lease.key()).unwrap();
                    });
                    done += 1;
                }
            }
            (latencies, done)
        })
    };
    // Let the worker start before the purge does.
    std::thread::sleep(Duration::from_millis(50));
    let purge_started = Instant::now();
    let deleted = q.purge(q.now()).unwrap();
    let purge_took = purge_started.elapsed();
    std::thread::sleep(Duration::from_millis(20));
    stop.store(true, Ordering::Release);
    let (mut latencies, done) = worker.join().unwrap();
    latencies.sort();
    let batches = rows.div_ceil(u64::from(asyncop::queue::PURGE_BATCH));
    println!(
        "purge lock hold, {} store: {rows} rows filled in {filled:?}, purged in {purge_took:?} \
         ({batches} batches of {}, {:?} per batch on average); the worker completed {done} \
         operations meanwhile; its {} calls: p50 {:?}, p90 {:?}, p99 {:?}, p99.9 {:?}, max {:?}",
        store.name(),
        asyncop::queue::PURGE_BATCH,
        purge_took / u32::try_from(batches).unwrap(),
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        percentile(&latencies, 0.999),
        latencies.last().copied().unwrap_or_default(),
    );
    assert_eq!(deleted, rows);
    assert!(done > 0, "the worker made progress during the purge");
    let worst = latencies.last().copied().unwrap_or_default();
    assert!(
        worst < BOUND,
        "a worker call waited {worst:?} during the purge"
    );
}

#[test]
fn sqlite_purge_beside_a_worker() {
    lock_hold(Store::Sqlite, 100_000);
}

#[test]
fn postgres_purge_beside_a_worker() {
    if std::env::var_os("ASYNCOP_TEST_POSTGRES").is_none() {
        eprintln!("ASYNCOP_TEST_POSTGRES is not set: the PostgreSQL variant is skipped");
        return;
    }
    lock_hold(Store::Postgres, 30_000);
}

#[test]
#[ignore = "full size: a million rows (run in release, see the module doc)"]
fn sqlite_purge_of_a_million_rows_beside_a_worker() {
    lock_hold(Store::Sqlite, 1_000_000);
}

#[test]
#[ignore = "full size: a million rows (run in release, see the module doc)"]
fn postgres_purge_of_a_million_rows_beside_a_worker() {
    lock_hold(Store::Postgres, 1_000_000);
}
