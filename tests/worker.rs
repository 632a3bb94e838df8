//! The worker core (`asyncop::Worker`, the engine of the C ABI's
//! `asyncop_worker_*`) from Rust: jobs of two types from several threads,
//! each handler outcome, a handler that ends its lease itself, renewal past
//! the lease, a pause reaching a running handler, a stop that times out, and
//! the setup refusals. The C side has its own tests (tests/c/worker_*.c).

mod support;

use asyncop::lease::Report;
use asyncop::queue::Options;
use asyncop::{Error, Job, JobOutcome, OperationSpec, Queue, State, Status, Worker};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::TempDir;

fn open(dir: &TempDir, lease: Option<Duration>) -> Queue {
    let mut options = Options::default();
    if let Some(lease) = lease {
        options.lease = lease;
    }
    Queue::open(dir.path().join("q.db"), options).expect("open")
}

fn submit(q: &Queue, name: &str, operation_type: i32) -> i64 {
    q.submit(&OperationSpec::new(name, operation_type))
        .expect("submit")
}

fn worker(q: &Queue, threads: u32) -> Worker {
    let w = Worker::new(q, "rust-host", threads).expect("worker");
    w.set_poll_wait(Duration::from_millis(20))
        .expect("poll wait");
    w
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn status(q: &Queue, id: i64) -> (State, Status) {
    let op = q.retrieve(id).expect("retrieve");
    (op.state, op.status)
}

#[test]
fn two_types_from_several_threads_all_succeed() {
    let dir = TempDir::new("worker_two_types");
    let q = open(&dir, None);
    let calls = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let ids: Vec<i64> = (0..60).map(|i| submit(&q, "job", 1 + i % 2)).collect();
    let other = submit(&q, "nobody's", 9);
    let w = worker(&q, 3);
    for t in [1, 2] {
        let calls = calls.clone();
        let handler = Arc::new(move |job: &Job| {
            calls[(job.lease().operation_type - 1) as usize].fetch_add(1, Ordering::SeqCst);
            JobOutcome::Succeeded
        });
        w.register(t, handler).expect("register");
    }
    w.start().expect("start");
    wait_until("60 completions", || w.stats().completed == 60);
    assert!(w.stop(None));
    for id in ids {
        assert_eq!(status(&q, id), (State::Completed, Status::Succeeded));
    }
    assert_eq!(calls[0].load(Ordering::SeqCst), 30);
    assert_eq!(calls[1].load(Ordering::SeqCst), 30);
    assert_eq!(
        status(&q, other),
        (State::Ready, Status::WaitingForResources)
    );
    let stats = w.stats();
    assert_eq!((stats.processed(), stats.errors), (60, 0));
}

#[test]
fn each_outcome_is_reported() {
    let dir = TempDir::new("worker_outcomes");
    let q = open(&dir, None);
    let names = ["ok", "output", "retry", "fail", "suspend", "self", "panic"];
    let ids: Vec<i64> = names.iter().map(|n| submit(&q, n, 3)).collect();
    let w = worker(&q, 2);
    w.register(
        3,
        Arc::new(|job: &Job| match job.lease().name.as_str() {
            "ok" => JobOutcome::Succeeded,
            "output" => JobOutcome::SucceededWithOutput(b"out".to_vec()),
            "retry" => JobOutcome::Retry(Report::message("later")),
            "fail" => JobOutcome::Fail(Report::message("no")),
            "suspend" => JobOutcome::Suspend(Report::message("wait")),
            "self" => {
                job.queue().complete(job.key()).expect("complete");
                JobOutcome::Handled
            }
            _ => panic!("a handler panics"),
        }),
    )
    .expect("register");
    w.start().expect("start");
    wait_until("7 outcomes", || w.stats().processed() == 7);
    assert!(w.stop(Some(Duration::from_secs(10))));
    let s = w.stats();
    assert_eq!(
        (s.completed, s.retried, s.failed, s.suspended, s.handled),
        (2, 2, 1, 1, 1)
    );
    assert_eq!(status(&q, ids[0]), (State::Completed, Status::Succeeded));
    assert_eq!(
        q.retrieve(ids[1]).expect("retrieve").output.as_deref(),
        Some(&b"out"[..])
    );
    assert_eq!(q.retrieve(ids[2]).expect("retrieve").retry_count, 1);
    assert_eq!(status(&q, ids[3]), (State::Completed, Status::Failed));
    assert_eq!(status(&q, ids[4]), (State::Suspended, Status::Waiting));
    assert_eq!(status(&q, ids[5]), (State::Completed, Status::Succeeded));
    let panicked = q.retrieve(ids[6]).expect("retrieve");
    assert_eq!(panicked.retry_count, 1);
    assert!(
        panicked
            .message
            .as_deref()
            .unwrap_or("")
            .contains("panicked")
    );
}

#[test]
fn renewal_keeps_a_long_job_and_a_pause_reaches_it() {
    let dir = TempDir::new("worker_renewal");
    let q = open(&dir, Some(Duration::from_millis(300)));
    let thief = open(&dir, None);
    let long = submit(&q, "long", 5);
    let w = worker(&q, 2);
    w.set_prefetch(1).expect("prefetch");
    w.register(
        5,
        Arc::new(|job: &Job| {
            let until = Instant::now() + Duration::from_millis(900);
            while Instant::now() < until {
                if job.stop_requested() {
                    return JobOutcome::Stopped;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            if job.lease().name == "paused" {
                return JobOutcome::Fail(Report::message("the pause did not arrive"));
            }
            JobOutcome::Succeeded
        }),
    )
    .expect("register");
    w.start().expect("start");
    wait_until("the claim", || status(&q, long).0 == State::Locked);
    let until = Instant::now() + Duration::from_millis(800);
    while Instant::now() < until {
        let stolen = thief.poll("thief", &Default::default()).expect("poll");
        assert!(
            stolen.is_empty(),
            "the renewed lease was claimed by another host"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    wait_until("the success", || status(&q, long).1 == Status::Succeeded);
    assert_eq!(q.retrieve(long).expect("retrieve").retry_count, 0);

    let paused = submit(&q, "paused", 5);
    wait_until("the claim", || status(&q, paused).0 == State::Locked);
    thief.pause(paused).expect("pause");
    wait_until("the acknowledged pause", || {
        status(&q, paused) == (State::Suspended, Status::Waiting)
    });
    // The counter follows the acknowledgement's commit.
    wait_until("the paused counter", || w.stats().paused == 1);
    assert!(w.stop(None));
}

#[test]
fn a_stop_past_its_timeout_asks_handlers_to_stop() {
    let dir = TempDir::new("worker_stop_timeout");
    let q = open(&dir, None);
    let id = submit(&q, "until shutdown", 4);
    let w = worker(&q, 1);
    w.register(
        4,
        Arc::new(|job: &Job| {
            while !job.shutdown_requested() {
                std::thread::sleep(Duration::from_millis(5));
            }
            JobOutcome::Stopped
        }),
    )
    .expect("register");
    w.start().expect("start");
    wait_until("the claim", || status(&q, id).0 == State::Locked);
    assert!(!w.stop(Some(Duration::from_millis(50))));
    assert!(w.shutdown_requested());
    assert!(w.stop(None));
    assert_eq!(w.stats().retried, 1);
    assert_eq!(q.retrieve(id).expect("retrieve").retry_count, 1);
}

#[test]
fn setup_refusals() {
    let dir = TempDir::new("worker_refusals");
    let q = open(&dir, Some(Duration::from_secs(1)));
    let invalid =
        |r: Result<(), Error>| assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    assert!(Worker::new(&q, "", 1).is_err());
    assert!(Worker::new(&q, "h", 0).is_err());
    let w = worker(&q, 1);
    invalid(w.start()); // no handler
    invalid(w.set_prefetch(0));
    invalid(w.set_poll_wait(Duration::ZERO));
    w.register(1, Arc::new(|_: &Job| JobOutcome::Succeeded))
        .expect("register");
    w.set_renew_every(Duration::from_secs(1))
        .expect("renew_every");
    invalid(w.start()); // not below the lease
    w.set_renew_every(Duration::from_millis(300))
        .expect("renew_every");
    w.start().expect("start");
    invalid(w.start());
    invalid(w.register(2, Arc::new(|_: &Job| JobOutcome::Succeeded)));
    invalid(w.set_claim_unhandled(true));
    assert!(w.stop(Some(Duration::from_secs(10))));
}
