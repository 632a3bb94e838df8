//! Stop signals (§6.3): a pause, postpone or cancel of a running operation, or
//! the loss of its lease, reaches the handler through the change signal, not at
//! the next renewal. Time rules on the ManualClock; real time only for the
//! waits on the signal, each with a bound.

use super::*;
use asyncop::store::LeaseState;
use asyncop::{StopReason, StopSignal};

/// Far more than a stop takes: the tests assert behaviour, not speed.
const BOUND: Duration = Duration::from_secs(5);

fn watched(f: &Fixture, name: &str) -> (Lease, StopSignal) {
    let id = f.submit(name, NORMAL_TYPE);
    let lease = f.claim("h", id);
    let signal = f.q.stop_signal(lease.key()).unwrap();
    (lease, signal)
}

use asyncop::Lease;

#[test]
fn lease_states_reads_status_and_token_of_many_rows_in_one_read() {
    let f = Fixture::new(store(), "stop-lease-states");
    let ready = f.submit("ready", NORMAL_TYPE);
    let running = f.submit("running", NORMAL_TYPE);
    let canceling = f.submit("canceling", NORMAL_TYPE);
    let a = f.claim("h", ready);
    let b = f.claim("h", running);
    let c = f.claim("h", canceling);
    f.q.complete(a.key()).unwrap();
    f.q.cancel(canceling).unwrap();
    let states = asyncop::testing::read(&f.q, |tx| {
        tx.lease_states(&[canceling, 999_999, ready, running])
    })
    .unwrap();
    assert_eq!(
        states,
        vec![
            LeaseState {
                id: ready,
                status: Status::Succeeded,
                lock_token: a.lock_token
            },
            LeaseState {
                id: running,
                status: Status::InProgress,
                lock_token: b.lock_token
            },
            LeaseState {
                id: canceling,
                status: Status::Canceling,
                lock_token: c.lock_token
            },
        ]
    );
    let none = asyncop::testing::read(&f.q, |tx| tx.lease_states(&[])).unwrap();
    assert!(none.is_empty());
}

#[test]
fn a_cancel_sets_the_signal_with_reason_cancel_and_the_host_acknowledges_it() {
    let f = Fixture::new(store(), "stop-cancel");
    let (lease, signal) = watched(&f, "job");
    assert!(!signal.is_set());
    assert_eq!(signal.wait(Duration::from_millis(30)), None, "nothing asked yet");
    f.q.cancel(lease.id).unwrap();
    assert_eq!(signal.wait(BOUND), Some(StopReason::Cancel));
    assert!(signal.is_set());
    assert_eq!(signal.reason(), Some(StopReason::Cancel));
    assert_eq!(f.q.watched_leases(), 0, "a fired lease is no longer watched");
    assert_eq!(f.q.acknowledge_cancel(lease.key()), Ok(Status::Canceled));
    assert_eq!(pair(&f.get(lease.id)), (State::Completed, Status::Canceled));
}

#[test]
fn a_pause_or_a_postpone_sets_the_signal_with_reason_pause() {
    let f = Fixture::new(store(), "stop-pause");
    let (paused, pause_signal) = watched(&f, "paused");
    let (postponed, postpone_signal) = watched(&f, "postponed");
    f.q.pause(paused.id).unwrap();
    assert_eq!(pause_signal.wait(BOUND), Some(StopReason::Pause));
    f.q.postpone(postponed.id, T0 + 60_000).unwrap();
    assert_eq!(postpone_signal.wait(BOUND), Some(StopReason::Pause));
    assert_eq!(f.q.acknowledge_pause(paused.key()), Ok(Status::Waiting));
    assert_eq!(f.q.acknowledge_pause(postponed.key()), Ok(Status::Waiting));
    assert_eq!(f.get(postponed.id).postpone_until, Some(T0 + 60_000));
    assert_eq!(f.get(paused.id).postpone_until, None);
}

#[test]
fn a_cancel_through_another_handle_reaches_the_signal() {
    let f = Fixture::new(store(), "stop-other-handle");
    let other = f.reopen(|_| {});
    let (lease, signal) = watched(&f, "job");
    other.cancel(lease.id).unwrap();
    assert_eq!(signal.wait(BOUND), Some(StopReason::Cancel));
}

#[test]
fn an_expired_lease_taken_by_another_host_sets_lease_lost() {
    let f = Fixture::new(store(), "stop-lease-lost");
    let (lease, signal) = watched(&f, "job");
    f.advance(LEASE_MS + 1);
    // The next claim recovers the expired lease (§6.4) and claims it again.
    let again = f.poll("other").expect("claimed again");
    assert_eq!(again.id, lease.id);
    assert_eq!(signal.wait(BOUND), Some(StopReason::LeaseLost));
    // The new holder's signal is not set by the old one's loss.
    let fresh = f.q.stop_signal(again.key()).unwrap();
    assert_eq!(fresh.wait(Duration::from_millis(50)), None);
    f.q.cancel(again.id).unwrap();
    assert_eq!(fresh.wait(BOUND), Some(StopReason::Cancel));
}

#[test]
fn a_deleted_row_sets_lease_lost() {
    let f = Fixture::new(store(), "stop-deleted");
    let (lease, signal) = watched(&f, "job");
    asyncop::testing::write(&f.q, |tx| {
        let row = tx.get(lease.id)?.expect("row");
        tx.delete(&row)
    })
    .unwrap();
    assert_eq!(signal.wait(BOUND), Some(StopReason::LeaseLost));
}

#[test]
fn other_writes_and_renewals_do_not_set_the_signal() {
    let f = Fixture::new(store(), "stop-quiet");
    let (lease, signal) = watched(&f, "job");
    let other = f.submit("other", NORMAL_TYPE);
    f.q.cancel(other).unwrap();
    assert_eq!(f.q.renew(lease.key()), Ok(Status::InProgress));
    assert_eq!(signal.wait(Duration::from_millis(100)), None);
    assert!(!signal.is_set());
    assert_eq!(f.q.watched_leases(), 1);
}

#[test]
fn the_signal_fires_once_with_the_first_reason() {
    let f = Fixture::new(store(), "stop-once");
    let (lease, signal) = watched(&f, "job");
    let clone = signal.clone();
    f.q.pause(lease.id).unwrap();
    assert_eq!(signal.wait(BOUND), Some(StopReason::Pause));
    f.q.cancel(lease.id).unwrap();
    assert_eq!(f.q.renew(lease.key()), Ok(Status::Canceling), "the renewal tells the latest");
    assert_eq!(clone.reason(), Some(StopReason::Pause));
}

#[test]
fn the_same_key_gives_the_same_signal_and_an_outcome_ends_it() {
    let f = Fixture::new(store(), "stop-same");
    let (lease, signal) = watched(&f, "job");
    let again = f.q.stop_signal(lease.key()).unwrap();
    assert_eq!(f.q.watched_leases(), 1);
    assert_eq!(f.q.complete(lease.key()), Ok(Status::Succeeded));
    assert!(again.is_ended() && signal.is_ended());
    assert_eq!(f.q.watched_leases(), 0);
    let started = Instant::now();
    assert_eq!(signal.wait(BOUND), None);
    assert!(started.elapsed() < Duration::from_secs(1), "an ended signal does not block");
    assert!(!signal.is_set(), "completion is not a stop");
}

#[test]
fn an_outcome_through_the_handle_is_never_taken_for_a_lost_lease() {
    let f = Fixture::new(store(), "stop-own-outcome");
    for i in 0..30 {
        let (lease, signal) = watched(&f, &format!("job-{i}"));
        // Lets the watch read the lease once and wait for the next change:
        // the outcome's own commit, whose row must not read as a lost lease.
        assert_eq!(signal.wait(Duration::from_millis(5)), None);
        let outcome = if i % 2 == 0 {
            f.q.complete(lease.key())
        } else {
            f.q.fail(lease.key(), Report::message("no"))
        };
        assert!(outcome.is_ok(), "{outcome:?}");
        assert_eq!(signal.wait(BOUND), None, "round {i}");
        assert!(signal.is_ended());
    }
    assert_eq!(f.q.watched_leases(), 0);
}

#[test]
fn a_batch_completion_ends_every_signal() {
    let f = Fixture::new(store(), "stop-batch");
    let (a, sa) = watched(&f, "a");
    let (b, sb) = watched(&f, "b");
    let results = f.q.complete_many(&[a.key(), b.key()]).unwrap();
    assert_eq!(results, vec![Ok(Status::Succeeded), Ok(Status::Succeeded)]);
    assert!(sa.is_ended() && sb.is_ended());
    assert_eq!(f.q.watched_leases(), 0);
}

#[test]
fn a_dropped_signal_is_no_longer_watched_and_close_ends_the_rest() {
    let f = Fixture::new(store(), "stop-close");
    let (_lease, signal) = watched(&f, "job");
    let (dropped, dropped_signal) = watched(&f, "dropped");
    drop(dropped_signal);
    f.q.cancel(dropped.id).unwrap();
    // The watch reads after the cancel and forgets the dropped one.
    let deadline = Instant::now() + BOUND;
    while f.q.watched_leases() > 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(f.q.watched_leases(), 1);
    f.q.close();
    assert!(signal.is_ended());
    assert_eq!(signal.wait(BOUND), None);
    assert!(matches!(
        f.q.stop_signal(LeaseKey { id: 1, lock_token: 1 }),
        Err(Error::Closed)
    ));
}

#[test]
fn bad_ids_are_invalid_arguments() {
    let f = Fixture::new(store(), "stop-bad-id");
    assert!(matches!(
        f.q.stop_signal(LeaseKey { id: 0, lock_token: 1 }),
        Err(Error::InvalidArgument(_))
    ));
}

/// Sorted latencies → (p50, p90, p99, max).
pub(crate) fn percentiles(mut v: Vec<Duration>) -> [Duration; 4] {
    v.sort();
    let at = |p: usize| v[(v.len() * p / 100).min(v.len() - 1)];
    [at(50), at(90), at(99), v[v.len() - 1]]
}

#[test]
fn in_process_stop_latency_is_printed_and_bounded() {
    const ROUNDS: usize = 50;
    let f = Fixture::new(store(), "stop-latency");
    let other = f.reopen(|_| {});
    let mut same_handle = Vec::new();
    let mut other_handle = Vec::new();
    for round in 0..ROUNDS {
        let (lease, signal) = watched(&f, &format!("job-{round}"));
        let waiter = std::thread::spawn(move || {
            let reason = signal.wait(BOUND);
            (reason, Instant::now())
        });
        let by = if round % 2 == 0 { &f.q } else { &other };
        by.cancel(lease.id).unwrap();
        let asked = Instant::now();
        let (reason, seen) = waiter.join().unwrap();
        assert_eq!(reason, Some(StopReason::Cancel), "round {round}");
        let latency = seen.saturating_duration_since(asked);
        if round % 2 == 0 {
            same_handle.push(latency);
        } else {
            other_handle.push(latency);
        }
        f.q.acknowledge_cancel(lease.key()).unwrap();
    }
    for (what, v) in [("same handle", same_handle), ("another handle", other_handle)] {
        let [p50, p90, p99, max] = percentiles(v);
        eprintln!(
            "{} in-process stop latency ({what}, cancel returned → signal seen): \
             p50 {p50:?} p90 {p90:?} p99 {p99:?} max {max:?} (bound 50 ms)",
            store().name()
        );
        // The requirement is 50 ms; a loaded 2-core CI machine gets 20 times that.
        assert!(p99 < Duration::from_secs(1), "{what}: p99 {p99:?}");
    }
}
