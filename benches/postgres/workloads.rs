//! The workloads of the PostgreSQL benchmark on asyncop's Rust API (the child
//! processes of W4 and of the latency cell are in `procs.rs`).

use crate::{Res, Sizes};
use asyncop::{Lease, LeaseKey, Options, PgOptions, PollOptions, Queue, Status};
use std::collections::HashSet;
use std::thread;
use std::time::{Duration, Instant};

pub(crate) use crate::procs::child_main;
use crate::procs::{run_latency, run_w4};

pub(crate) const PAYLOAD_LEN: usize = 100;
const OPERATION_TYPE: i32 = 100;
const THREADS: usize = 4;
pub(crate) const PROCESSES: usize = 4;
const BATCH: u32 = 100;
/// The submitter's pause between two latency samples: every implementation
/// keeps up at 20 ms, so the figure is the wake-up latency rather than the
/// backlog of a worker slower than the submitter.
pub(crate) const LATENCY_GAP: Duration = Duration::from_millis(20);
/// A waiting worker that sees no work for this long means the submitter died.
pub(crate) const LATENCY_POLL_WAIT: Duration = Duration::from_secs(10);
/// Lets the latency worker get into its waiting poll before the first submit.
pub(crate) const WORKER_SETTLE: Duration = Duration::from_millis(100);

/// The start of an exactly-once violation's message: `--cell` exits with 3 on it.
pub(crate) const VIOLATION: &str = "EXACTLY-ONCE VIOLATION";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Workload {
    W1,
    W2,
    W3,
    W4,
    W5,
    Latency,
}

impl Workload {
    pub(crate) const ALL: [Workload; 6] = [
        Workload::W1,
        Workload::W2,
        Workload::W3,
        Workload::W4,
        Workload::W5,
        Workload::Latency,
    ];

    pub(crate) fn parse(s: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == s)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::W1 => "W1",
            Workload::W2 => "W2",
            Workload::W3 => "W3",
            Workload::W4 => "W4",
            Workload::W5 => "W5",
            Workload::Latency => "latency-xproc",
        }
    }

    pub(crate) fn ops(self, s: &Sizes) -> usize {
        match self {
            Workload::W1 => s.w1,
            Workload::W2 => s.w2,
            Workload::W3 => s.w3,
            Workload::W4 => s.w4,
            Workload::W5 => s.w5,
            Workload::Latency => s.latency,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Value {
    OpsPerSec(f64),
    LatencyMs { p50: f64, p99: f64 },
}

impl Value {
    /// ops/s, or the p50 of a latency.
    pub(crate) fn primary(&self) -> f64 {
        match *self {
            Value::OpsPerSec(r) => r,
            Value::LatencyMs { p50, .. } => p50,
        }
    }

    pub(crate) fn p99(&self) -> f64 {
        match *self {
            Value::OpsPerSec(_) => f64::NAN,
            Value::LatencyMs { p99, .. } => p99,
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Value::OpsPerSec(r) => format!("{r:.0} ops/s"),
            Value::LatencyMs { p50, p99 } => format!("p50 {p50:.3} ms, p99 {p99:.3} ms"),
        }
    }
}

/// asyncop with its defaults (schema `asyncop`, a pool of 4 connections).
pub(crate) fn open(url: &str) -> Res<Queue> {
    let options = Options {
        postgres: PgOptions::default(),
        ..Options::default()
    };
    Ok(Queue::open(url, options)?)
}

pub(crate) fn spec(data: Vec<u8>) -> asyncop::OperationSpec {
    asyncop::OperationSpec::new("bench", OPERATION_TYPE).data(data)
}

/// One timed run of `workload` with `n` operations on the empty database `url`.
pub(crate) fn run(workload: Workload, url: &str, n: usize) -> Res<Value> {
    let queue = open(url)?;
    let value = match workload {
        Workload::W1 => run_w1(&queue, n),
        Workload::W2 => run_drain(&queue, n, 1),
        Workload::W3 => run_w3(&queue, n),
        Workload::W4 => run_w4(&queue, url, n),
        Workload::W5 => run_drain(&queue, n, BATCH),
        Workload::Latency => run_latency(&queue, url, n),
    };
    queue.close();
    value
}

pub(crate) fn rate(n: usize, elapsed: Duration) -> Value {
    Value::OpsPerSec(n as f64 / elapsed.as_secs_f64())
}

/// (operations, of which Succeeded, of which waiting in Ready).
fn tally(queue: &Queue) -> Res<(i64, i64, i64)> {
    let mut t = (0, 0, 0);
    for row in queue.counts()? {
        t.0 += row.count;
        match row.status {
            Status::Succeeded => t.1 += row.count,
            Status::WaitingForResources => t.2 += row.count,
            _ => {}
        }
    }
    Ok(t)
}

fn run_w1(queue: &Queue, n: usize) -> Res<Value> {
    let spec = spec(vec![7u8; PAYLOAD_LEN]);
    let mut ids = HashSet::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        ids.insert(queue.submit(&spec)?);
    }
    let elapsed = started.elapsed();
    let n64 = i64::try_from(n)?;
    let t = tally(queue)?;
    if ids.len() != n || t != (n64, 0, n64) {
        return Err(format!(
            "{VIOLATION}: submitted {n}: {} distinct ids, counts {t:?}",
            ids.len()
        )
        .into());
    }
    Ok(rate(n, elapsed))
}

/// Untimed: `n` operations in one transaction; their ids.
pub(crate) fn prefill(queue: &Queue, n: usize) -> Res<Vec<i64>> {
    Ok(queue.submit_many(&vec![spec(vec![7u8; PAYLOAD_LEN]); n])?)
}

/// The drain of one worker: poll(max) and complete what it got (one call per
/// lease with `max` 1, one `complete_many` otherwise) until a poll finds
/// nothing. Returns the handled leases' keys.
pub(crate) fn drain(queue: &Queue, host: &str, max: u32) -> Res<Vec<LeaseKey>> {
    let options = PollOptions::default().max(max);
    let mut handled = Vec::new();
    loop {
        let leases = queue.poll(host, &options)?;
        if leases.is_empty() {
            return Ok(handled);
        }
        let keys: Vec<LeaseKey> = leases.iter().map(Lease::key).collect();
        if max == 1 {
            for &key in &keys {
                expect_succeeded(queue.complete(key)?)?;
            }
        } else {
            for outcome in queue.complete_many(&keys)? {
                expect_succeeded(outcome?)?;
            }
        }
        handled.extend(keys);
    }
}

pub(crate) fn expect_succeeded(status: Status) -> Res<()> {
    if status == Status::Succeeded {
        Ok(())
    } else {
        Err(format!("complete returned {status:?}, not Succeeded").into())
    }
}

/// Exactly once: the handled ids are the submitted ones, each once, each at its
/// first claim (lock token 1), and the queue counts every one Succeeded.
pub(crate) fn check_drained(queue: &Queue, submitted: &[i64], handled: &[LeaseKey]) -> Res<()> {
    let want: HashSet<i64> = submitted.iter().copied().collect();
    let got: HashSet<i64> = handled.iter().map(|k| k.id).collect();
    let reclaimed = handled.iter().filter(|k| k.lock_token != 1).count();
    let n = i64::try_from(submitted.len())?;
    let t = tally(queue)?;
    if got != want || handled.len() != submitted.len() || reclaimed != 0 || t != (n, n, 0) {
        return Err(format!(
            "{VIOLATION}: lost or repeated work: {} submitted, {} handled ({} distinct, {} of them \
             submitted), {reclaimed} claimed more than once; counts {t:?}",
            submitted.len(),
            handled.len(),
            got.len(),
            got.intersection(&want).count()
        )
        .into());
    }
    Ok(())
}

/// W2 and W5: one worker in this thread.
fn run_drain(queue: &Queue, n: usize, max: u32) -> Res<Value> {
    let ids = prefill(queue, n)?;
    let started = Instant::now();
    let handled = drain(queue, "bench-0", max)?;
    let elapsed = started.elapsed();
    check_drained(queue, &ids, &handled)?;
    Ok(rate(n, elapsed))
}

fn run_w3(queue: &Queue, n: usize) -> Res<Value> {
    let ids = prefill(queue, n)?;
    let started = Instant::now();
    let handled = thread::scope(|s| -> Res<Vec<LeaseKey>> {
        let workers: Vec<_> = (0..THREADS)
            .map(|i| s.spawn(move || drain(queue, &format!("bench-{i}"), 1)))
            .collect();
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.join().map_err(|_| "a W3 worker panicked")??);
        }
        Ok(all)
    })?;
    let elapsed = started.elapsed();
    check_drained(queue, &ids, &handled)?;
    Ok(rate(n, elapsed))
}
