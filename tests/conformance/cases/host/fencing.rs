//! §6.3 fencing: lease expiry, lease-lost messages, renew; and a user action that
//! must keep the host fields of a claim that came between its read and its write.

use super::*;

/// Host A's lease expires, host B claims the operation (new lock token); every call of
/// A is LeaseLost and changes nothing; B completes it.
#[test]
fn a_host_whose_lease_expired_is_fenced_off_after_another_claims() {
    let f = Fixture::new(store(), "fencing-reclaim");
    let id = f.submit("job", NORMAL_TYPE);
    let a = f.claim("host-a", id);
    assert_eq!(a.lock_token, 1);
    assert_eq!(a.expires_at, T0 + LEASE_MS);
    assert_eq!(a.attempt, 1);
    f.set(T0 + LEASE_MS + 1);
    let b = f.claim("host-b", id);
    assert_eq!(b.lock_token, 2, "the lock token changes on every claim");
    assert_eq!(b.attempt, 2, "the expired attempt counts (§6.4)");
    assert_eq!(b.expires_at, T0 + LEASE_MS + 1 + LEASE_MS);
    let held_by_b = f.get(id);
    assert_eq!(held_by_b.host_id.as_deref(), Some("host-b"));
    assert_eq!(held_by_b.lock_token, 2);
    assert_eq!(held_by_b.retry_count, 1);
    f.advance(1_000);
    let ka = a.key();
    let calls: [(&str, Result<Status, Error>); 7] = [
        ("complete", f.q.complete(ka)),
        ("renew", f.q.renew(ka)),
        ("fail", f.q.fail(ka, Report::error(-1, "late"))),
        ("retry", f.q.retry(ka, Report::error(-1, "late"))),
        ("suspend", f.q.suspend(ka, Report::message("late"))),
        ("acknowledge_pause", f.q.acknowledge_pause(ka)),
        ("acknowledge_cancel", f.q.acknowledge_cancel(ka)),
    ];
    for (name, r) in calls {
        assert!(lease_lost(r.clone(), ka), "A's {name} gave {r:?}");
        assert_eq!(f.get(id), held_by_b, "A's refused {name} changed the row");
    }
    let err = f.q.complete(ka).unwrap_err();
    assert!(err.to_string().contains(&id.to_string()), "{err}");
    assert_eq!(err.hresult(), None);
    assert_eq!(f.q.complete(b.key()), Ok(Status::Succeeded));
    let done = f.get(id);
    assert_eq!(pair(&done), (State::Completed, Status::Succeeded));
    assert_eq!(done.completed_on, Some(f.now()));
    assert_eq!((done.host_id, done.lease_expires_at), (None, None));
    assert_eq!(done.execution_time_span, Some(1_000));
    // Once Completed, B's own key is stale too.
    assert!(lease_lost(f.q.renew(b.key()), b.key()));
    // A token that never existed, and an id that never existed: LeaseLost, never NotFound.
    let forged = LeaseKey { id, lock_token: 99 };
    assert!(lease_lost(f.q.complete(forged), forged));
    let ghost = LeaseKey {
        id: 12_345,
        lock_token: 1,
    };
    assert!(lease_lost(f.q.complete(ghost), ghost));
    assert!(lease_lost(f.q.renew(ghost), ghost));
}

/// A lease is lost at its expiry time, even before recovery (§6.3): the row still reads
/// 2/20 (reads do not recover), yet renew and complete say LeaseLost.
#[test]
fn a_lease_is_lost_at_its_expiry_time_even_before_recovery() {
    let f = Fixture::new(store(), "fencing-expiry");
    let id = f.submit("job", NORMAL_TYPE);
    let lease = f.claim("host-a", id);
    let key = lease.key();
    let claimed = f.get(id);
    assert_eq!(claimed.lease_expires_at, Some(T0 + LEASE_MS));
    assert_eq!(claimed.started_on, Some(T0));
    assert_eq!(claimed.modified_on, T0);
    // One millisecond before expiry a renewal works and pushes the expiry to now + lease.
    f.set(T0 + LEASE_MS - 1);
    assert_eq!(f.q.renew(key), Ok(Status::InProgress));
    let renewed = f.get(id);
    let expiry = T0 + LEASE_MS - 1 + LEASE_MS;
    assert_eq!(renewed.lease_expires_at, Some(expiry));
    let mut expect = claimed.clone();
    expect.lease_expires_at = Some(expiry);
    assert_eq!(
        renewed, expect,
        "a renewal changes only the lease (not modified_on)"
    );
    // Exactly at the expiry time the lease is lost.
    f.set(expiry);
    for (name, r) in [
        ("renew", f.q.renew(key)),
        ("complete", f.q.complete(key)),
        ("fail", f.q.fail(key, Report::default())),
    ] {
        assert!(lease_lost(r.clone(), key), "{name} at expiry gave {r:?}");
    }
    assert_eq!(
        f.get(id),
        renewed,
        "nothing changed, and reads do not recover"
    );
    // Recovery then returns it to Ready (§3.3, 2/20 row).
    assert_eq!(
        f.q.run_maintenance(),
        Ok(MaintenanceReport {
            recovered: 1,
            poisoned: 0,
            promoted: 0
        })
    );
    let op = f.get(id);
    assert_eq!(pair(&op), (State::Ready, Status::WaitingForResources));
    assert_eq!(op.retry_count, 1);
    assert_eq!((op.host_id.clone(), op.lease_expires_at), (None, None));
    assert_eq!(op.execution_time_span, Some(expiry - T0));
    assert_eq!(op.modified_on, expiry);
    assert!(lease_lost(f.q.renew(key), key));
}

/// §12: LeaseLost "names the id and the host".
#[test]
fn lease_lost_messages_name_the_id_and_the_host() {
    let f = Fixture::new(store(), "lease-lost-message");
    // Expired but not yet recovered: the row still names host-a.
    let id = f.submit("x", NORMAL_TYPE);
    let key = f.claim("host-a", id).key();
    f.set(T0 + LEASE_MS);
    let err = f.q.complete(key).unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&id.to_string()), "{text}");
    assert!(text.contains("host-a"), "{text:?} names no host");
    // Claimed again by host-b.
    let key_b = f.claim("host-b", id).key();
    assert_eq!(key_b.lock_token, 2);
    let text = f.q.renew(key).unwrap_err().to_string();
    assert!(text.contains(&id.to_string()), "{text}");
    assert!(
        text.contains("host-a") || text.contains("host-b"),
        "{text:?} names no host"
    );
}

/// Renew returns the status the host must act on (§6.3): Pausing after Pause or
/// Postpone, Canceling after Cancel. The lease length is the handle's (§6.6).
#[test]
fn renew_extends_the_lease_and_reports_pause_and_cancel_requests() {
    let f = Fixture::with(store(), "renew-requests", |o| o.lease = Duration::from_secs(10));
    let p = f.submit("pause me", NORMAL_TYPE);
    let c = f.submit("cancel me", NORMAL_TYPE);
    let t = f.submit("postpone me", NORMAL_TYPE);
    let leases = f.q.poll("h", &PollOptions::default().max(3)).unwrap();
    assert_eq!(ids(&leases), vec![p, c, t]);
    assert!(leases.iter().all(|l| l.expires_at == T0 + 10_000));
    f.advance(4_000);
    for l in &leases {
        assert_eq!(f.q.renew(l.key()), Ok(Status::InProgress));
        assert_eq!(f.get(l.id).lease_expires_at, Some(T0 + 14_000));
    }
    f.q.pause(p).unwrap();
    f.q.cancel(c).unwrap();
    f.q.postpone(t, T0 + 500_000).unwrap();
    f.advance(4_000);
    assert_eq!(f.q.renew(leases[0].key()), Ok(Status::Pausing));
    assert_eq!(f.q.renew(leases[1].key()), Ok(Status::Canceling));
    assert_eq!(f.q.renew(leases[2].key()), Ok(Status::Pausing));
    for l in &leases {
        assert_eq!(f.get(l.id).lease_expires_at, Some(T0 + 18_000));
    }
    // Cancel of a Pausing operation turns it into Canceling (U3), seen at the next renewal.
    f.q.cancel(t).unwrap();
    assert_eq!(f.q.renew(leases[2].key()), Ok(Status::Canceling));
    assert_eq!(f.get(t).postpone_until, None, "U3 clears the pending pu");
    // The host stops at its safe point.
    assert_eq!(f.q.acknowledge_pause(leases[0].key()), Ok(Status::Waiting));
    assert_eq!(
        f.q.acknowledge_cancel(leases[1].key()),
        Ok(Status::Canceled)
    );
    let paused = f.get(p);
    assert_eq!(pair(&paused), (State::Suspended, Status::Waiting));
    assert_eq!(paused.postpone_until, None);
    let canceled = f.get(c);
    assert_eq!(pair(&canceled), (State::Completed, Status::Canceled));
    assert_eq!(canceled.completed_on, Some(T0 + 8_000));
    assert_eq!(canceled.execution_time_span, Some(8_000));
}


/// A user action validated on a snapshot must not write the snapshot's host
/// fields back: here host B recovers and claims the operation between the user's
/// read and the user's write. The cancel must keep B's token, lease and retry count.
#[test]
fn a_user_action_keeps_the_current_host_fields() {
    let f = Fixture::new(store(), "user-action-fresh-row");
    let id = f.submit("x", NORMAL_TYPE);
    let a = f.claim("host-a", id);
    f.advance(LEASE_MS + 1);
    let now = f.now();
    let user_q = f.q.clone();
    // The user reads its snapshot (2/20, host-a) and then waits for the write lock
    // that host B's claim holds: recovery of A's expired lease, then the claim.
    let (b_key, user) = support::raw::recover_and_claim_while(
        &f.q,
        "host-b",
        now,
        LEASE_MS,
        move || std::thread::spawn(move || user_q.cancel(id)),
    );
    user.join().unwrap().unwrap();
    assert_eq!(b_key.id, id);
    let op = f.get(id);
    assert_eq!(pair(&op), (State::Locked, Status::Canceling));
    assert_eq!(op.host_id.as_deref(), Some("host-b"));
    assert_eq!(op.lock_token, 2);
    assert_eq!(op.lease_expires_at, Some(now + LEASE_MS));
    assert_eq!(op.retry_count, 1);
    assert_eq!(f.q.renew(b_key).unwrap(), Status::Canceling);
    assert!(lease_lost(f.q.renew(a.key()), a.key()));
}

#[test]
fn complete_many_refuses_each_lost_lease_and_completes_the_rest() {
    let f = Fixture::new(store(), "complete-many-lost");
    let ids: Vec<i64> = (0..4).map(|i| f.submit(&format!("m{i}"), NORMAL_TYPE)).collect();
    let leases: Vec<_> = ids.iter().map(|&id| f.claim("host-m", id)).collect();
    let keys: Vec<LeaseKey> = leases.iter().map(|l| l.key()).collect();
    // One finished alone already; one lost its lease to another host.
    f.q.complete(keys[0]).unwrap();
    f.advance(LEASE_MS + 1);
    f.q.renew(keys[2]).unwrap_err();
    let retaken = f.claim("host-n", ids[1]);
    assert_ne!(retaken.lock_token, keys[1].lock_token);
    let stale_keys = [keys[0], keys[1], keys[2], keys[3], keys[3]];
    // keys[2] and keys[3] expired too, but nobody took them: maintenance
    // recovered them in host-n's claim, so they are lost as well.
    let results = f.q.complete_many(&stale_keys).unwrap();
    for (key, result) in stale_keys.iter().zip(&results) {
        assert!(lease_lost(result.clone(), *key), "{key:?}: {result:?}");
    }
    // A fresh batch on live leases completes each once; a repeated key is refused.
    let live = [retaken.key(), retaken.key()];
    let results = f.q.complete_many(&live).unwrap();
    assert_eq!(results[0].as_ref().ok(), Some(&Status::Succeeded));
    assert!(lease_lost(results[1].clone(), live[1]));
    assert_eq!(pair(&f.get(ids[1])), (State::Completed, Status::Succeeded));
    assert_eq!(pair(&f.get(ids[0])), (State::Completed, Status::Succeeded));
}
