//! §3.3, §6.4 lease expiry and poison protection.

use super::*;

/// Each lease expiry counts as an attempt: 0/0 with `retry_count` + 1, until the
/// `max_attempts`-th expiry ends it as 3/31 with error_code LeaseLost and a message
/// naming the last host.
#[test]
fn repeated_lease_expiry_ends_as_poison() {
    let f = Fixture::new(store(), "poison");
    let id = f.submit("hangs", NORMAL_TYPE);
    for n in 1..=3 {
        let host = format!("host-{n}");
        let lease = f.claim(&host, id);
        assert_eq!(lease.lock_token, i64::from(n));
        assert_eq!(lease.attempt, n);
        f.advance(LEASE_MS);
        assert_eq!(
            f.q.run_maintenance(),
            Ok(MaintenanceReport {
                recovered: 1,
                poisoned: 0,
                promoted: 0
            })
        );
        let op = f.get(id);
        assert_eq!(
            pair(&op),
            (State::Ready, Status::WaitingForResources),
            "expiry {n}"
        );
        assert_eq!(op.retry_count, n);
        assert_eq!((op.host_id.clone(), op.lease_expires_at), (None, None));
        assert_eq!(op.execution_time_span, Some(LEASE_MS));
        assert_eq!(op.completed_on, None);
    }
    let lease = f.claim("host-4", id);
    assert_eq!(lease.attempt, 4);
    f.advance(LEASE_MS);
    assert_eq!(
        f.q.run_maintenance(),
        Ok(MaintenanceReport {
            recovered: 0,
            poisoned: 1,
            promoted: 0
        })
    );
    let op = f.get(id);
    assert_eq!(pair(&op), (State::Completed, Status::Failed));
    assert_eq!(op.retry_count, 4);
    assert_eq!(op.error_code, Some(LEASE_LOST_CODE));
    let message = op.message.clone().unwrap_or_default();
    assert!(
        message.contains("host-4"),
        "message {message:?} names the last host"
    );
    assert_eq!(op.completed_on, Some(f.now()));
    assert_eq!((op.host_id, op.lease_expires_at), (None, None));
    assert!(
        f.poll("h").is_none(),
        "a poisoned operation never runs again"
    );
}

/// Poison protection also works when the next claim (not a maintenance pass) finds the
/// expired lease: recovery and claim happen in one transaction.
#[test]
fn claims_recover_expired_leases_before_claiming() {
    let f = Fixture::with(store(), "poison-by-claims", |o| o.max_attempts = Some(2));
    let id = f.submit("hangs", NORMAL_TYPE);
    f.claim("host-1", id);
    f.advance(LEASE_MS);
    let l2 = f.claim("host-2", id);
    assert_eq!((l2.attempt, l2.lock_token), (2, 2));
    let op = f.get(id);
    assert_eq!(op.retry_count, 1);
    assert_eq!(op.host_id.as_deref(), Some("host-2"));
    f.advance(LEASE_MS);
    assert!(f.poll("host-3").is_none());
    let op = f.get(id);
    assert_eq!(pair(&op), (State::Completed, Status::Failed));
    assert_eq!(op.retry_count, 2);
    assert_eq!(op.error_code, Some(LEASE_LOST_CODE));
    assert!(op.message.unwrap_or_default().contains("host-2"));
}

/// §3.3: expiry while Pausing → 1/10 keeping the pending pu (or 3/31 with no budget);
/// while Canceling → 3/32.
#[test]
fn lease_expiry_while_pausing_or_canceling() {
    let f = Fixture::new(store(), "expiry-pausing");
    let paused = f.submit("paused", NORMAL_TYPE);
    let postponed = f.submit("postponed", NORMAL_TYPE);
    let canceled = f.submit("canceled", NORMAL_TYPE);
    let leases = f.q.poll("host-x", &PollOptions::default().max(3)).unwrap();
    assert_eq!(ids(&leases), vec![paused, postponed, canceled]);
    f.q.pause(paused).unwrap();
    f.q.postpone(postponed, T0 + 100_000).unwrap();
    f.q.cancel(canceled).unwrap();
    f.set(T0 + LEASE_MS);
    assert_eq!(
        f.q.run_maintenance(),
        Ok(MaintenanceReport {
            recovered: 3,
            poisoned: 0,
            promoted: 0
        })
    );
    let op = f.get(paused);
    assert_eq!(pair(&op), (State::Suspended, Status::Waiting));
    assert_eq!((op.postpone_until, op.retry_count), (None, 1));
    assert_eq!((op.host_id.clone(), op.lease_expires_at), (None, None));
    let op = f.get(postponed);
    assert_eq!(pair(&op), (State::Suspended, Status::Waiting));
    assert_eq!((op.postpone_until, op.retry_count), (Some(T0 + 100_000), 1));
    let op = f.get(canceled);
    assert_eq!(pair(&op), (State::Completed, Status::Canceled));
    assert_eq!(op.completed_on, Some(T0 + LEASE_MS));
    assert_eq!(op.retry_count, 0, "§3.3 2/22 row: 3/32, no retry_count + 1");
    assert_eq!((op.host_id, op.lease_expires_at), (None, None));
    // A paused operation stays paused; the postponed one returns when due.
    f.set(T0 + 100_000);
    assert_eq!(f.poll("h").map(|l| l.id), Some(postponed));
    assert!(f.poll("h").is_none());

    // With no budget left, an expiry while Pausing ends as 3/31.
    let g = Fixture::with(store(), "expiry-pausing-poison", |o| o.max_attempts = Some(1));
    let id = g.submit("x", NORMAL_TYPE);
    g.claim("host-y", id);
    g.q.pause(id).unwrap();
    g.advance(LEASE_MS);
    assert_eq!(
        g.q.run_maintenance(),
        Ok(MaintenanceReport {
            recovered: 0,
            poisoned: 1,
            promoted: 0
        })
    );
    let op = g.get(id);
    assert_eq!(pair(&op), (State::Completed, Status::Failed));
    assert_eq!(op.retry_count, 1);
    assert_eq!(op.error_code, Some(LEASE_LOST_CODE));
    assert!(op.message.unwrap_or_default().contains("host-y"));
}

/// One pass first recovers, then promotes (§6.4): a Pausing operation whose pending pu
/// has passed when its lease is found expired ends the pass Ready.
#[test]
fn recovery_comes_before_promotion_in_one_pass() {
    let f = Fixture::new(store(), "recover-then-promote");
    let id = f.submit("x", NORMAL_TYPE);
    f.claim("h", id);
    f.q.postpone(id, T0 + 10_000).unwrap();
    f.set(T0 + LEASE_MS);
    assert_eq!(
        f.q.run_maintenance(),
        Ok(MaintenanceReport {
            recovered: 1,
            poisoned: 0,
            promoted: 1
        })
    );
    let op = f.get(id);
    assert_eq!(pair(&op), (State::Ready, Status::WaitingForResources));
    assert_eq!((op.postpone_until, op.retry_count), (None, 1));
}

/// One maintenance pass: recovery, poison, promotion, each counted once.
#[test]
fn run_maintenance_reports_what_it_did() {
    let f = Fixture::with(store(), "maintenance", |o| o.max_attempts = Some(2));
    let op1 = f.submit("expires", NORMAL_TYPE);
    let op2 = f.submit("poisoned", NORMAL_TYPE);
    let leases = f.q.poll("h1", &PollOptions::default().max(2)).unwrap();
    assert_eq!(ids(&leases), vec![op1, op2]);
    f.q.retry(leases[1].key(), Report::default()).unwrap();
    f.set(T0 + 5_000);
    f.claim("h2", op2); // lease until T0 + 35 s, retry_count 1
    f.set(T0 + 10_000);
    let op3 = f.submit_spec(OperationSpec::new("due", NORMAL_TYPE).postpone_until(T0 + 20_000));
    let op4 = f.submit_spec(OperationSpec::new("not due", NORMAL_TYPE).postpone_until(T0 + 99_000));
    let op5 = f.submit("live", NORMAL_TYPE);
    f.claim("h3", op5); // lease until T0 + 40 s
    f.set(T0 + 35_000);
    assert_eq!(
        f.q.run_maintenance(),
        Ok(MaintenanceReport {
            recovered: 1,
            poisoned: 1,
            promoted: 1
        })
    );
    assert_eq!(
        pair(&f.get(op1)),
        (State::Ready, Status::WaitingForResources)
    );
    assert_eq!(pair(&f.get(op2)), (State::Completed, Status::Failed));
    assert_eq!(
        pair(&f.get(op3)),
        (State::Ready, Status::WaitingForResources)
    );
    assert_eq!(pair(&f.get(op4)), (State::Suspended, Status::Waiting));
    assert_eq!(pair(&f.get(op5)), (State::Locked, Status::InProgress));
    assert_eq!(f.q.run_maintenance(), Ok(MaintenanceReport::default()));
}
