//! The library's own metrics and event hooks (issue 14 §3): counters and
//! latency histograms kept per open queue (process-local atomics, shared by
//! every clone of a handle), their Prometheus rendering, and the callbacks
//! a host registers to hear about state changes.
//!
//! - this module: the counters and histograms, and their snapshot;
//! - `events`: the event records and the hook registry;
//! - `prometheus`: the text exposition format of a snapshot.

mod events;
mod prometheus;

pub(crate) use events::Hooks;
pub use events::{Event, EventHookId, EventKind};

use crate::transition::{Outcome, Status};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The upper bounds (seconds) of the latency histograms' buckets, from
/// 0.5 ms to 10 s; a last `+Inf` bucket holds everything.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The outcome labels of `MetricsSnapshot::outcomes`, in its order.
pub const OUTCOME_LABELS: [&str; 5] = ["succeeded", "failed", "canceled", "retried", "suspended"];

/// A latency histogram: one atomic count per bucket, a sum and a count.
#[derive(Debug, Default)]
struct Histogram {
    /// Non-cumulative counts; the last is the `+Inf` overflow.
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = LATENCY_BUCKETS
            .iter()
            .position(|&b| secs <= b)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = Vec::with_capacity(LATENCY_BUCKETS.len() + 1);
        let mut total = 0u64;
        for b in &self.buckets {
            total = total.saturating_add(b.load(Ordering::Relaxed));
            cumulative.push(total);
        }
        HistogramSnapshot {
            bounds: LATENCY_BUCKETS.to_vec(),
            cumulative,
            sum_seconds: self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9,
            count: self.count.load(Ordering::Relaxed),
        }
    }
}

/// A latency histogram as read by `Queue::metrics`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HistogramSnapshot {
    /// The buckets' upper bounds in seconds (`LATENCY_BUCKETS`).
    pub bounds: Vec<f64>,
    /// Cumulative counts: `cumulative[i]` observations took at most
    /// `bounds[i]`; the last entry (one more than `bounds`) is `+Inf`, the count.
    pub cumulative: Vec<u64>,
    /// The sum of all observations, in seconds.
    pub sum_seconds: f64,
    /// How many observations.
    pub count: u64,
}

/// The counters of one open queue (every clone of a handle shares them).
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    submitted: AtomicU64,
    claims: AtomicU64,
    outcomes: [AtomicU64; OUTCOME_LABELS.len()],
    user_actions: AtomicU64,
    recoveries: AtomicU64,
    poisoned: AtomicU64,
    purged: AtomicU64,
    claim_latency: Histogram,
    commit_latency: Histogram,
}

impl Metrics {
    pub(crate) fn submitted(&self, n: usize) {
        add(&self.submitted, n);
    }

    /// One claim transaction that took `took` and claimed `n` operations.
    pub(crate) fn claimed(&self, n: usize, took: Duration) {
        add(&self.claims, n);
        self.claim_latency.observe(took);
    }

    /// One host outcome committed in `took`, leaving `status`.
    pub(crate) fn outcome(&self, outcome: Outcome, status: Status, took: Duration) {
        add(&self.outcomes[outcome_index(outcome, status)], 1);
        self.commit_latency.observe(took);
    }

    pub(crate) fn user_action(&self) {
        add(&self.user_actions, 1);
    }

    pub(crate) fn maintenance(&self, recovered: usize, poisoned: usize) {
        add(&self.recoveries, recovered.saturating_add(poisoned));
        add(&self.poisoned, poisoned);
    }

    pub(crate) fn purged(&self, n: u64) {
        self.purged.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> MetricsSnapshot {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        MetricsSnapshot {
            submitted: load(&self.submitted),
            claims: load(&self.claims),
            outcomes: std::array::from_fn(|i| load(&self.outcomes[i])),
            user_actions: load(&self.user_actions),
            recoveries: load(&self.recoveries),
            poisoned: load(&self.poisoned),
            purged: load(&self.purged),
            claim_seconds: self.claim_latency.snapshot(),
            commit_seconds: self.commit_latency.snapshot(),
        }
    }
}

fn add(counter: &AtomicU64, n: usize) {
    counter.fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
}

/// Where a reported outcome is counted in `OUTCOME_LABELS`: by the outcome,
/// except that one leaving 3/31 (a Retry whose budget is spent) is failed.
fn outcome_index(outcome: Outcome, status: Status) -> usize {
    match outcome {
        _ if status == Status::Failed => 1,
        Outcome::Succeeded => 0,
        Outcome::Failed => 1,
        Outcome::Canceled => 2,
        Outcome::Retry => 3,
        Outcome::Suspended => 4,
    }
}

/// The counters and histograms of one open queue since it was opened
/// (`Queue::metrics`): process-local, shared by every clone of the handle,
/// never reset. The Prometheus names are in `to_prometheus`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MetricsSnapshot {
    /// Operations submitted through this handle.
    pub submitted: u64,
    /// Operations claimed by polls of this handle.
    pub claims: u64,
    /// Host outcomes committed through this handle, in `OUTCOME_LABELS` order:
    /// succeeded, failed (a Retry whose budget is spent too), canceled,
    /// retried, suspended (a suspend or an acknowledged pause).
    pub outcomes: [u64; 5],
    /// User actions (cancel, pause, resume, postpone, delete, set_state) that changed a row.
    pub user_actions: u64,
    /// Expired leases returned by maintenance (recoveries), poisoned ones included.
    pub recoveries: u64,
    /// Expired leases whose retry budget was spent: 3/31 (poison protection).
    pub poisoned: u64,
    /// Completed operations deleted by purges of this handle.
    pub purged: u64,
    /// How long claim transactions took (maintenance included).
    pub claim_seconds: HistogramSnapshot,
    /// How long host outcome commits took.
    pub commit_seconds: HistogramSnapshot,
}

impl MetricsSnapshot {
    /// The count of one outcome label (`OUTCOME_LABELS`); 0 for another.
    pub fn outcome(&self, label: &str) -> u64 {
        OUTCOME_LABELS
            .iter()
            .position(|l| *l == label)
            .map_or(0, |i| self.outcomes[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them() {
        let m = Metrics::default();
        m.claimed(2, Duration::from_micros(300));
        m.claimed(1, Duration::from_millis(1));
        m.claimed(0, Duration::from_secs(2));
        m.claimed(0, Duration::from_secs(20));
        let s = m.snapshot().claim_seconds;
        assert_eq!(s.cumulative.len(), LATENCY_BUCKETS.len() + 1);
        assert_eq!(&s.cumulative[..3], &[1, 2, 2]);
        // 2 s is in the 2.5 s bucket (index 11); 20 s only in +Inf.
        assert_eq!(&s.cumulative[10..], &[2, 3, 3, 3, 4]);
        assert_eq!(s.count, 4);
        assert!((s.sum_seconds - 22.0013).abs() < 1e-9);
        assert_eq!(m.snapshot().claims, 3);
    }

    #[test]
    fn an_outcome_is_counted_by_what_was_reported_unless_it_failed() {
        let m = Metrics::default();
        let d = Duration::ZERO;
        m.outcome(Outcome::Succeeded, Status::Succeeded, d);
        m.outcome(Outcome::Succeeded, Status::Waiting, d); // a series' next run
        m.outcome(Outcome::Retry, Status::Waiting, d);
        m.outcome(Outcome::Retry, Status::Failed, d); // the budget is spent
        m.outcome(Outcome::Suspended, Status::Waiting, d);
        m.outcome(Outcome::Canceled, Status::Canceled, d);
        assert_eq!(m.snapshot().outcomes, [2, 1, 1, 1, 1]);
        assert_eq!(m.snapshot().commit_seconds.count, 6);
    }
}
