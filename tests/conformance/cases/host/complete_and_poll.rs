//! One commit per job (§6.9): `complete_and_poll` completes leases and claims
//! the next ones in one transaction, with exactly the rules of
//! `complete_many` and of a non-waiting `poll`.

use super::*;
use asyncop::{Event, Lease, Queue};
use std::sync::{Arc, Mutex};

const AUTO: i32 = 77;

fn keys(leases: &[Lease]) -> Vec<LeaseKey> {
    leases.iter().map(|l| l.key()).collect()
}

fn max(n: u32) -> PollOptions {
    PollOptions::default().max(n)
}

/// What a comparison of two queues looks at: every row without its lock
/// token (random per claim), and the attempt history of each.
fn snapshot(q: &Queue) -> Vec<String> {
    q.query(&Filter::default())
        .unwrap()
        .into_iter()
        .map(|op| {
            let attempts = q.attempts(op.id).unwrap();
            format!(
                "{} {} {:?}/{:?} host={:?} retries={} modified={} expires={:?} attempts={:?}",
                op.id,
                op.name,
                op.state,
                op.status,
                op.host_id,
                op.retry_count,
                op.modified_on,
                op.lease_expires_at,
                attempts
                    .iter()
                    .map(|a| format!("{:?}", (a.ending, a.started_on, a.ended_on, &a.host_id)))
                    .collect::<Vec<_>>()
            )
        })
        .collect()
}

/// Registers a hook keeping each event's kind, id and statuses.
fn event_log(q: &Queue) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    q.on_event(Box::new(move |e: &Event| {
        let line = format!("{:?} {} {:?}->{:?} {:?}", e.kind, e.id, e.from, e.to, e.host);
        keep.lock().unwrap().push(line);
    }));
    seen
}

/// Submits the same five operations (one of an auto-deleted type) and claims
/// the first three for host "h".
fn scenario(test: &str) -> (Fixture, Vec<Lease>, Arc<Mutex<Vec<String>>>) {
    let f = Fixture::with(store(), test, |o| o.auto_delete_types = Some(vec![AUTO]));
    let events = event_log(&f.q);
    for (i, t) in [NORMAL_TYPE, AUTO, NORMAL_TYPE, NORMAL_TYPE, NORMAL_TYPE]
        .into_iter()
        .enumerate()
    {
        f.submit(&format!("s{i}"), t);
    }
    let leases = f.q.poll("h", &max(3)).unwrap();
    assert_eq!(leases.len(), 3);
    f.advance(1_000);
    (f, leases, events)
}

#[test]
fn the_combined_call_leaves_what_complete_many_then_poll_leave() {
    let (a, a_leases, a_events) = scenario("cap-equal-separate");
    let separate = a.q.complete_many(&keys(&a_leases)).unwrap();
    let a_next = a.q.poll("h", &max(2)).unwrap();

    let (b, b_leases, b_events) = scenario("cap-equal-combined");
    let (combined, b_next) = b.q.complete_and_poll(&keys(&b_leases), "h", &max(2)).unwrap();

    assert_eq!(combined, separate);
    assert_eq!(combined, vec![Ok(Status::Succeeded); 3]);
    assert_eq!(ids(&b_next), ids(&a_next));
    for (x, y) in a_next.iter().zip(&b_next) {
        assert_eq!(
            (x.attempt, x.expires_at, &x.host_id, &x.name),
            (y.attempt, y.expires_at, &y.host_id, &y.name)
        );
    }
    assert_eq!(snapshot(&b.q), snapshot(&a.q));
    assert_eq!(b.q.retrieve(b_leases[1].id), Err(Error::NotFound { id: b_leases[1].id }), "auto-deleted");
    let (ma, mb) = (a.q.metrics(), b.q.metrics());
    assert_eq!((mb.submitted, mb.claims, mb.outcomes), (ma.submitted, ma.claims, ma.outcomes));
    assert_eq!(mb.claim_seconds.count, ma.claim_seconds.count, "one claim transaction each");
    assert_eq!(*b_events.lock().unwrap(), *a_events.lock().unwrap());
}

#[test]
fn a_lost_lease_gets_lease_lost_and_the_rest_complete_and_claim() {
    let f = Fixture::new(store(), "cap-lost");
    let ids_: Vec<i64> = (0..4).map(|i| f.submit(&format!("l{i}"), NORMAL_TYPE)).collect();
    let leases = f.q.poll("h", &max(3)).unwrap();
    let mut ks = keys(&leases);
    // leases[1] ended already: its key is stale; the last key is repeated.
    f.q.complete(ks[1]).unwrap();
    ks.push(ks[2]);
    let (results, next) = f.q.complete_and_poll(&ks, "h", &max(5)).unwrap();
    assert_eq!(results[0], Ok(Status::Succeeded));
    assert!(lease_lost(results[1].clone(), ks[1]), "{:?}", results[1]);
    assert_eq!(results[2], Ok(Status::Succeeded));
    assert!(lease_lost(results[3].clone(), ks[3]), "repeated: {:?}", results[3]);
    assert_eq!(ids(&next), vec![ids_[3]]);
    for id in &ids_[..3] {
        assert_eq!(pair(&f.get(*id)), (State::Completed, Status::Succeeded));
    }
    assert_eq!(pair(&f.get(ids_[3])), (State::Locked, Status::InProgress));
}

#[test]
fn a_refused_claim_writes_nothing_not_even_the_completions() {
    let f = Fixture::new(store(), "cap-refused");
    let a = f.submit("a", NORMAL_TYPE);
    f.submit("b", NORMAL_TYPE);
    let lease = f.claim("h", a);
    let before = snapshot(&f.q);
    let refusals = [
        ("h", max(0)),
        ("h", max(asyncop::lease::MAX_POLL + 1)),
        ("", max(1)),
    ];
    for (host, options) in refusals {
        let got = f.q.complete_and_poll(&[lease.key()], host, &options);
        assert!(matches!(got, Err(Error::InvalidArgument(_))), "{host:?} {options:?}: {got:?}");
        assert_eq!(snapshot(&f.q), before);
    }
    let bad_id = LeaseKey { id: 0, ..lease.key() };
    let got = f.q.complete_and_poll(&[bad_id], "h", &max(1));
    assert!(matches!(got, Err(Error::InvalidArgument(_))), "{got:?}");
    assert_eq!(snapshot(&f.q), before);
    assert_eq!(f.q.renew(lease.key()), Ok(Status::InProgress), "the lease is still live");
    assert_eq!(f.q.metrics().claims, 1);
}

#[test]
fn the_claim_sees_the_completed_operations_dependency_token_successor() {
    let f = Fixture::new(store(), "cap-token");
    let spec = |n: &str| OperationSpec::new(n, NORMAL_TYPE).dependency_token("T");
    let first = f.submit_spec(spec("first"));
    let second = f.submit_spec(spec("second"));
    let other = f.submit("other", NORMAL_TYPE);
    let lease = f.claim("h", first);
    // Before the completion, only `other` is eligible; the same call that
    // completes `first` claims `second` (FIFO by id).
    let (results, next) = f.q.complete_and_poll(&[lease.key()], "h", &max(1)).unwrap();
    assert_eq!(results, vec![Ok(Status::Succeeded)]);
    assert_eq!(ids(&next), vec![second]);
    let (_, rest) = f.q.complete_and_poll(&keys(&next), "h", &max(5)).unwrap();
    assert_eq!(ids(&rest), vec![other]);
}

#[test]
fn empty_keys_is_a_plain_poll() {
    let f = Fixture::new(store(), "cap-empty");
    let a = f.submit("a", NORMAL_TYPE);
    let (results, next) = f.q.complete_and_poll(&[], "h", &max(4)).unwrap();
    assert!(results.is_empty());
    assert_eq!(ids(&next), vec![a]);
    let (results, next) = f.q.complete_and_poll(&[], "h", &max(4)).unwrap();
    assert!(results.is_empty() && next.is_empty());
    assert!(matches!(f.q.complete_and_poll(&[], "h", &max(0)), Err(Error::InvalidArgument(_))));
}

#[test]
fn held_types_and_other_types_are_skipped_by_the_claim() {
    const HELD: i32 = 500;
    let f = Fixture::new(store(), "cap-held");
    let a = f.submit("a", NORMAL_TYPE);
    let held = f.submit("held", HELD);
    let other = f.submit("other", 9);
    let b = f.submit("b", NORMAL_TYPE);
    f.q.hold_type(HELD).unwrap();
    let lease = f.claim("h", a);
    let typed = PollOptions {
        operation_types: Some(vec![NORMAL_TYPE, HELD]),
        ..max(5)
    };
    let (results, next) = f.q.complete_and_poll(&[lease.key()], "h", &typed).unwrap();
    assert_eq!(results, vec![Ok(Status::Succeeded)]);
    assert_eq!(ids(&next), vec![b]);
    for id in [held, other] {
        assert_eq!(pair(&f.get(id)), (State::Ready, Status::WaitingForResources));
    }
}

#[test]
fn with_wait_the_completions_commit_before_the_wait() {
    let f = Fixture::new(store(), "cap-wait");
    let a = f.submit("a", NORMAL_TYPE);
    let lease = f.claim("h", a);
    let events = event_log(&f.q);
    let options = PollOptions::default().wait(Duration::from_millis(40));
    let started = Instant::now();
    let (results, next) = f.q.complete_and_poll(&[lease.key()], "h", &options).unwrap();
    assert!(started.elapsed() >= Duration::from_millis(40), "it waited");
    assert_eq!(results, vec![Ok(Status::Succeeded)]);
    assert!(next.is_empty());
    assert_eq!(pair(&f.get(a)), (State::Completed, Status::Succeeded));
    let kinds: Vec<bool> = events.lock().unwrap().iter().map(|e| e.starts_with("Outcome")).collect();
    assert_eq!(kinds, vec![true], "one outcome event, no claim");
}
