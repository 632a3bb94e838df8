//! Stale snapshots and racing handles (§4 last step, §6.6), and user moves inside Locked.

use super::*;

/// §4 last step, §6.6: a write validated against a stale snapshot must not apply. The
/// store's compare-and-set refuses it (the Queue reports that as 0x80044163) and the
/// row keeps what the other action wrote.
#[test]
fn compare_and_set_refuses_a_stale_snapshot() {
    let f = Fixture::new(store(), "compare-and-set");
    let id = f.submit("contested", NORMAL_TYPE);
    let stale = support::raw::read_row(&f.q, id).expect("row exists");
    assert_eq!(stale, f.get(id));
    f.advance(STEP);
    // Another user cancels it after our validation.
    f.q.cancel(id).unwrap();
    let after_cancel = f.get(id);
    assert_eq!(after_cancel.status, Status::Canceled);
    f.advance(STEP);
    let now = f.now();
    // Our move, validated against the stale 0/0 snapshot: Postpone (U7).
    let change = Change {
        status: Status::Waiting,
        postpone_until: PostponeUntil::Set(now + 60_000),
        retry_count: RetryCount::Keep,
    };
    let written = support::raw::compare_and_set(&f.q, &stale, &change, now);
    assert!(!written, "a stale compare-and-set must not write");
    assert_eq!(f.get(id), after_cancel, "the stale write changed the row");
    // A stale delete is refused the same way.
    let deleted = support::raw::compare_and_delete(&f.q, &stale);
    assert!(!deleted);
    assert_eq!(f.get(id), after_cancel);
    // With a fresh snapshot the same statement applies (the harness is sound).
    let fresh = f.get(id);
    let deleted = support::raw::compare_and_delete(&f.q, &fresh);
    assert!(deleted);
    assert_eq!(f.q.retrieve(id), Err(Error::NotFound { id }));
}

/// Two handles (as two processes would) cancel the same operations at once. Each
/// operation is canceled exactly once; the loser gets 0x80044162 (it validated after the
/// winner's write) or 0x80044163 (it validated before it); the row is the winner's.
#[test]
fn racing_cancels_have_one_winner_each() {
    let f = Fixture::new(store(), "racing-cancels");
    let specs: Vec<OperationSpec> = (0..150)
        .map(|i| OperationSpec::new(format!("r{i}"), NORMAL_TYPE))
        .collect();
    let ids = f.q.submit_many(&specs).unwrap();
    f.advance(STEP);
    let other = f.reopen(|_| {});
    let run = |q: Queue, ids: Vec<i64>| {
        std::thread::spawn(move || ids.iter().map(|&id| q.cancel(id)).collect::<Vec<_>>())
    };
    let a = run(f.q.clone(), ids.clone());
    let b = run(other, ids.clone());
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    let mut unexpected = 0;
    let lost = Error::InvalidStateChange(Refusal {
        state: 3,
        status: 32,
        target_state: 3,
    });
    for (i, &id) in ids.iter().enumerate() {
        let outcomes = [&a[i], &b[i]];
        let wins = outcomes.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "op {id}: {outcomes:?}");
        for r in outcomes {
            match r {
                Ok(()) => {}
                Err(Error::InvalidStateChangeUnexpected) => unexpected += 1,
                Err(e) => assert_eq!(e, &lost, "op {id}"),
            }
        }
        let op = f.get(id);
        assert_eq!((op.state, op.status), (State::Completed, Status::Canceled));
        assert_eq!(op.completed_on, Some(T0 + STEP));
    }
    println!(
        "racing cancels: {unexpected} of {} losers saw 0x80044163",
        ids.len()
    );
}

/// Postpone on a Locked row keeps host and lease (U9) and the lease stays live.
#[test]
fn user_moves_inside_locked_keep_the_lease_live() {
    let f = Fixture::new(store(), "locked-moves");
    let id = f.submit("x", NORMAL_TYPE);
    let lease = f.claim("h", id);
    f.advance(STEP);
    f.q.postpone(id, f.now() + 5_000).unwrap();
    let op = f.get(id);
    assert_eq!((op.state, op.status), (State::Locked, Status::Pausing));
    assert_eq!(op.host_id.as_deref(), Some("h"));
    assert_eq!(op.lease_expires_at, Some(T0 + LEASE_MS));
    assert_eq!(f.q.renew(lease.key()), Ok(Status::Pausing));
    f.q.cancel(id).unwrap();
    let op = f.get(id);
    assert_eq!((op.status, op.postpone_until), (Status::Canceling, None));
    assert_eq!(f.q.renew(lease.key()), Ok(Status::Canceling));
    assert_eq!(f.q.acknowledge_cancel(lease.key()), Ok(Status::Canceled));
}
