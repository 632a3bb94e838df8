//! SQLite store only: the writer's own transaction count (`writer_stats`,
//! reached through `asyncop::store::sqlite::testing`) shows that
//! `complete_and_poll` is one commit where `complete_many` + `poll` are two,
//! and that a worker loop draining N jobs with it commits about N / batch
//! times instead of 2N.

mod support;

use asyncop::store::sqlite::testing::writer_stats;
use asyncop::{OperationSpec, PollOptions, Status};
use support::{Fixture, Store};

fn transactions(f: &Fixture) -> u64 {
    writer_stats(&f.q).unwrap().transactions
}

#[test]
fn one_combined_call_is_one_transaction() {
    let f = Fixture::new(Store::Sqlite, "cap-commits-one");
    let specs: Vec<_> = (0..4)
        .map(|i| OperationSpec::new(format!("c{i}"), 1))
        .collect();
    f.q.submit_many(&specs).unwrap();
    let first = f.q.poll("h", &PollOptions::default().max(2)).unwrap();
    let keys: Vec<_> = first.iter().map(|l| l.key()).collect();
    let before = transactions(&f);
    let (results, next) =
        f.q.complete_and_poll(&keys, "h", &PollOptions::default().max(2))
            .unwrap();
    assert_eq!(transactions(&f) - before, 1);
    assert_eq!(results, vec![Ok(Status::Succeeded); 2]);
    assert_eq!(next.len(), 2);
    let keys: Vec<_> = next.iter().map(|l| l.key()).collect();
    let before = transactions(&f);
    f.q.complete_many(&keys).unwrap();
    f.q.poll("h", &PollOptions::default().max(2)).unwrap();
    assert_eq!(transactions(&f) - before, 2);
}

#[test]
fn a_drain_with_one_job_per_claim_commits_once_per_job() {
    const JOBS: usize = 40;
    let f = Fixture::new(Store::Sqlite, "cap-commits-drain");
    let specs: Vec<_> = (0..JOBS)
        .map(|i| OperationSpec::new(format!("d{i}"), 1))
        .collect();
    f.q.submit_many(&specs).unwrap();
    let options = PollOptions::default();
    // The first poll also starts the hourly purge (its own transactions).
    let mut leases = f.q.poll("h", &options).unwrap();
    let before = transactions(&f);
    let mut done = 0;
    while !leases.is_empty() {
        let keys: Vec<_> = leases.iter().map(|l| l.key()).collect();
        let (results, next) = f.q.complete_and_poll(&keys, "h", &options).unwrap();
        done += results.iter().filter(|r| r.is_ok()).count();
        leases = next;
    }
    assert_eq!(done, JOBS);
    // One commit per job: its completion and the next claim.
    assert_eq!(transactions(&f) - before, JOBS as u64);
}
