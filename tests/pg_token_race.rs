//! PostgreSQL store only: the `blocked` flags that the triggers of schema
//! version 4 keep stay right under concurrent hosts. Submitters, workers and a
//! canceller on their own handles (as separate hosts would be) work on a few
//! dependency tokens at once; every operation must end (no row is left
//! waiting behind a token whose earlier rows have all finished), and each
//! token's operations are claimed in id order.
//!
//! A smoke test: the races the triggers guard against (a submit or a cancel
//! landing while the token's head finishes) have windows of microseconds, and
//! this run does not reliably hit them (with the trigger's lock and re-check
//! removed it still passed 3 runs of 3); the reasoning is in schema.rs.
//!
//! Skipped (with a message) when `ASYNCOP_TEST_POSTGRES` is not set.

mod support;

use asyncop::{OperationSpec, Options, PollOptions, Queue};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::NORMAL_TYPE;

const TOKENS: usize = 3;
const PER_SUBMITTER: usize = 120;
const SUBMITTERS: usize = 2;
const WORKERS: usize = 3;

#[test]
fn blocked_flags_stay_right_under_concurrent_hosts() {
    let Ok(url) = std::env::var("ASYNCOP_TEST_POSTGRES") else {
        eprintln!("ASYNCOP_TEST_POSTGRES is not set: the PostgreSQL test is skipped");
        return;
    };
    let schema = format!("r{}_token_race", std::process::id());
    let target = format!("{url}?schema={schema}");
    let open = || Queue::open(&target, Options::default()).unwrap();
    open().close();
    // id -> token, and the order of claims (token, id).
    let tokens: Arc<Mutex<HashMap<i64, Option<String>>>> = Arc::default();
    let claims: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    let submitting_done = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    std::thread::scope(|s| {
        let submitters: Vec<_> = (0..SUBMITTERS)
            .map(|k| {
                let (q, tokens) = (open(), tokens.clone());
                s.spawn(move || {
                    for i in 0..PER_SUBMITTER {
                        let token = (i % 4 != 3).then(|| format!("t{}", (i + k) % TOKENS));
                        let mut spec = OperationSpec::new(format!("op{k}-{i}"), NORMAL_TYPE);
                        if let Some(t) = &token {
                            spec = spec.dependency_token(t.clone());
                        }
                        let id = q.submit(&spec).unwrap();
                        tokens.lock().unwrap().insert(id, token);
                    }
                    q.close();
                })
            })
            .collect();
        for w in 0..WORKERS {
            let (q, tokens, claims, stop) = (open(), tokens.clone(), claims.clone(), stop.clone());
            s.spawn(move || {
                let poll = PollOptions::default().max(1 + w as u32);
                while !stop.load(Ordering::Relaxed) {
                    let leases = q.poll(&format!("host{w}"), &poll).unwrap();
                    if leases.is_empty() {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    for lease in leases {
                        let token = tokens.lock().unwrap().get(&lease.id).cloned().flatten();
                        if let Some(t) = token.or(lease.dependency_token.clone()) {
                            claims.lock().unwrap().push((t, lease.id));
                        }
                        if q.complete(lease.key()).is_err() {
                            let _ = q.acknowledge_cancel(lease.key());
                        }
                    }
                }
                q.close();
            });
        }
        {
            let (q, tokens, done) = (open(), tokens.clone(), submitting_done.clone());
            s.spawn(move || {
                // Cancels every fifth tokened operation it sees, Ready or not.
                let mut n = 0u64;
                while !done.load(Ordering::Relaxed) {
                    let ids: Vec<i64> = tokens
                        .lock()
                        .unwrap()
                        .iter()
                        .filter(|(id, t)| t.is_some() && *id % 5 == 0)
                        .map(|(id, _)| *id)
                        .collect();
                    for id in ids {
                        let _ = q.cancel(id);
                        n += 1;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                eprintln!("cancel calls: {n}");
                q.close();
            });
        }
        for t in submitters {
            t.join().unwrap();
        }
        submitting_done.store(true, Ordering::Relaxed);
        // Every operation ends within the deadline: none waits forever.
        let q = open();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let unfinished: i64 = q
                .counts()
                .unwrap()
                .iter()
                .filter(|r| r.state.code() < 3)
                .map(|r| r.count)
                .sum();
            if unfinished == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{unfinished} operations never ended"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        stop.store(true, Ordering::Relaxed);
        q.close();
    });
    // Each token's operations were claimed in id order.
    let claims = claims.lock().unwrap();
    let mut last: HashMap<&str, i64> = HashMap::new();
    for (token, id) in claims.iter() {
        let prev = last.insert(token.as_str(), *id).unwrap_or(0);
        assert!(prev < *id, "token {token}: {id} claimed after {prev}");
    }
    assert_eq!(
        tokens.lock().unwrap().len(),
        SUBMITTERS * PER_SUBMITTER,
        "every submit returned"
    );
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .unwrap();
}
