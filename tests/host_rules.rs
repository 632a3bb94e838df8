//! Host-side rules through the real store: fencing (§6.3), dependency tokens (§7),
//! postpone promotion (§6.4), retries and back-off (§6.5), poison protection (§6.4),
//! host outcomes from Pausing and Canceling (§3.2), lease expiry (§3.3), restricted
//! types (§9), queue-wide settings (§6.6), waiting, submit validation (§5) and queries
//! (§11). Every time-dependent rule runs on an injected `ManualClock`; only the two
//! wake-up tests use real time, and only for the wait itself.
//!
//! Expected values are transcribed from `operation-model.md`, never computed by the code
//! under test.

mod support;

use asyncop::error::LEASE_LOST_CODE;
use asyncop::{
    CountRow, Error, Filter, LeaseKey, MaintenanceReport, Operation, OperationSpec, PollOptions,
    Report, State, Status,
};
use std::time::{Duration, Instant};
use support::{Fixture, LEASE_MS, NORMAL_TYPE, RESTRICTED_TYPE, SPEC_RESTRICTED_TYPES, T0};

fn lease_lost(r: Result<Status, Error>, key: LeaseKey) -> bool {
    matches!(r, Err(Error::LeaseLost { id, lock_token, .. }) if id == key.id && lock_token == key.lock_token)
}

fn pair(op: &Operation) -> (State, Status) {
    (op.state, op.status)
}

fn ids(leases: &[asyncop::Lease]) -> Vec<i64> {
    leases.iter().map(|l| l.id).collect()
}

// ---------------------------------------------------------------------------
// §6.3 fencing
// ---------------------------------------------------------------------------

/// Host A's lease expires, host B claims the operation (new lock token); every call of
/// A is LeaseLost and changes nothing; B completes it.
#[test]
fn a_host_whose_lease_expired_is_fenced_off_after_another_claims() {
    let f = Fixture::new("fencing-reclaim");
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
    let f = Fixture::new("fencing-expiry");
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
    let f = Fixture::new("lease-lost-message");
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
    let f = Fixture::with("renew-requests", |o| o.lease = Duration::from_secs(10));
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

// ---------------------------------------------------------------------------
// §6.1, §7 order and dependency tokens
// ---------------------------------------------------------------------------

/// The §7 example: A, B, C share a token; B is postponed. A runs; C waits until B has
/// become due, run and completed.
#[test]
fn dependency_token_example_of_section_7() {
    let f = Fixture::new("token-example");
    let a = f.submit_spec(OperationSpec::new("A", NORMAL_TYPE).dependency_token("tok"));
    let b = f.submit_spec(
        OperationSpec::new("B", NORMAL_TYPE)
            .dependency_token("tok")
            .postpone_until(T0 + 60_000),
    );
    let c = f.submit_spec(OperationSpec::new("C", NORMAL_TYPE).dependency_token("tok"));
    assert_eq!(pair(&f.get(b)), (State::Suspended, Status::Waiting));
    let la = f.claim("h", a);
    assert!(f.poll("h").is_none(), "C is blocked by A and B");
    f.q.complete(la.key()).unwrap();
    assert!(f.poll("h").is_none(), "C is blocked by the postponed B");
    assert_eq!(
        pair(&f.get(c)),
        (State::Ready, Status::WaitingForResources),
        "a blocked operation stays 0/0"
    );
    f.set(T0 + 60_000);
    let lb = f.claim("h", b);
    assert!(f.poll("h").is_none(), "C is blocked by the running B");
    f.q.complete(lb.key()).unwrap();
    f.claim("h", c);
}

/// Completed with any status releases the successor; Ready, Suspended (paused,
/// postponed, backing off) and Locked predecessors block it (§7).
#[test]
fn completed_predecessors_release_and_unfinished_ones_block() {
    let f = Fixture::new("token-release");
    // Three chains whose first link ends Succeeded, Failed and Canceled (by a host).
    let mut seconds = Vec::new();
    for (i, outcome) in ["succeeded", "failed", "canceled"].into_iter().enumerate() {
        let tok = format!("chain-{i}");
        let first = f.submit_spec(OperationSpec::new(outcome, NORMAL_TYPE).dependency_token(&tok));
        let second = f.submit_spec(OperationSpec::new("next", NORMAL_TYPE).dependency_token(&tok));
        let lease = f.claim("h", first);
        assert!(f.poll("h").is_none(), "a Locked predecessor blocks");
        let key = lease.key();
        match outcome {
            "succeeded" => assert_eq!(f.q.complete(key), Ok(Status::Succeeded)),
            "failed" => assert_eq!(f.q.fail(key, Report::default()), Ok(Status::Failed)),
            _ => assert_eq!(f.q.acknowledge_cancel(key), Ok(Status::Canceled)),
        }
        let l2 = f.claim("h", second);
        f.q.complete(l2.key()).unwrap();
        seconds.push(second);
    }
    // A user Cancel of a waiting predecessor releases too.
    let first = f.submit_spec(OperationSpec::new("first", NORMAL_TYPE).dependency_token("u"));
    let second = f.submit_spec(OperationSpec::new("second", NORMAL_TYPE).dependency_token("u"));
    f.q.postpone(first, T0 + 1_000_000).unwrap();
    assert!(f.poll("h").is_none(), "a postponed predecessor blocks");
    f.q.cancel(first).unwrap();
    let l = f.claim("h", second);
    f.q.complete(l.key()).unwrap();

    // A paused predecessor (1/10, pu null) blocks until resumed, run and completed.
    let p1 = f.submit_spec(OperationSpec::new("p1", NORMAL_TYPE).dependency_token("p"));
    let p2 = f.submit_spec(OperationSpec::new("p2", NORMAL_TYPE).dependency_token("p"));
    let l1 = f.claim("h", p1);
    f.q.pause(p1).unwrap();
    assert_eq!(f.q.acknowledge_pause(l1.key()), Ok(Status::Waiting));
    assert!(f.poll("h").is_none(), "a paused predecessor blocks");
    f.advance(3_600_000);
    assert!(f.poll("h").is_none(), "still blocked an hour later");
    // A predecessor backing off after Retry (1/10 with pu) blocks until it completes.
    f.q.resume(p1).unwrap();
    let l1 = f.claim("h", p1);
    assert_eq!(f.q.retry(l1.key(), Report::default()), Ok(Status::Waiting));
    assert!(f.poll("h").is_none(), "a predecessor backing off blocks");
    f.advance(5_000);
    let l1 = f.claim("h", p1);
    // A predecessor stopped by a suspend-class failure blocks.
    assert_eq!(
        f.q.suspend(l1.key(), Report::default()),
        Ok(Status::Waiting)
    );
    assert!(f.poll("h").is_none(), "a suspended predecessor blocks");
    f.q.resume(p1).unwrap();
    // Ready predecessor: it goes first (FIFO), the successor still waits.
    let l1 = f.claim("h", p1);
    assert!(f.poll("h").is_none());
    f.q.complete(l1.key()).unwrap();
    f.claim("h", p2);
}

/// FIFO by id among eligible operations; no token means independent; several claims
/// come back in id order (§6.1).
#[test]
fn claims_are_fifo_among_eligible_operations() {
    let f = Fixture::new("fifo");
    let a = f.submit_spec(OperationSpec::new("a", NORMAL_TYPE).dependency_token("t1"));
    let b = f.submit_spec(OperationSpec::new("b", NORMAL_TYPE).dependency_token("t1"));
    let c = f.submit_spec(OperationSpec::new("c", NORMAL_TYPE).dependency_token("t2"));
    let d = f.submit("d", NORMAL_TYPE);
    let e = f.submit("e", NORMAL_TYPE);
    let g = f.submit_spec(OperationSpec::new("g", NORMAL_TYPE).dependency_token("t2"));
    let leases = f.q.poll("h", &PollOptions::default().max(10)).unwrap();
    assert_eq!(ids(&leases), vec![a, c, d, e], "b and g wait for a and c");
    assert!(f.poll("h").is_none());
    // Independent operations finish in any order; only tokens order them.
    f.q.complete(leases[3].key()).unwrap();
    f.q.complete(leases[1].key()).unwrap();
    assert_eq!(
        ids(&f.q.poll("h", &PollOptions::default().max(10)).unwrap()),
        vec![g]
    );
    f.q.complete(leases[0].key()).unwrap();
    f.claim("h", b);
    // Five independent ones, claimed one at a time, in id order.
    let many: Vec<i64> = (0..5)
        .map(|i| f.submit(&format!("m{i}"), NORMAL_TYPE))
        .collect();
    let claimed: Vec<i64> = (0..5).map(|_| f.poll("h").unwrap().id).collect();
    assert_eq!(claimed, many);
}

/// A claim limited to some types skips the others, which keep their place (§6.1).
#[test]
fn a_type_filter_skips_other_types_which_keep_their_place() {
    let f = Fixture::new("type-filter");
    let x1 = f.submit("x1", 1);
    let y1 = f.submit("y1", 2);
    let x2 = f.submit("x2", 1);
    let y2 = f.submit("y2", 2);
    let only_2 = PollOptions::default().operation_types([2]);
    assert_eq!(ids(&f.q.poll("h", &only_2).unwrap()), vec![y1]);
    let only_3 = PollOptions::default().operation_types([3]).max(5);
    assert!(f.q.poll("h", &only_3).unwrap().is_empty());
    assert_eq!(
        pair(&f.get(x1)),
        (State::Ready, Status::WaitingForResources)
    );
    f.claim("h", x1);
    assert_eq!(
        ids(&f.q.poll("h", &PollOptions::default().max(5)).unwrap()),
        vec![x2, y2]
    );
    // A type filter never lets an operation jump its token's order (§7): the
    // predecessor of another type still blocks it.
    let first = f.submit_spec(OperationSpec::new("first", 1).dependency_token("k"));
    let second = f.submit_spec(OperationSpec::new("second", 2).dependency_token("k"));
    assert!(f.q.poll("h", &only_2).unwrap().is_empty());
    let l = f.claim("h", first);
    assert!(f.q.poll("h", &only_2).unwrap().is_empty());
    f.q.complete(l.key()).unwrap();
    assert_eq!(ids(&f.q.poll("h", &only_2).unwrap()), vec![second]);
}

/// A deleted predecessor releases its successors (§7: "Completed or deleted").
#[test]
fn a_deleted_predecessor_releases_its_successors() {
    let f = Fixture::with("token-deleted", |o| o.allow_delete_any = Some(true));
    let a = f.submit_spec(OperationSpec::new("a", NORMAL_TYPE).dependency_token("d"));
    let b = f.submit_spec(OperationSpec::new("b", NORMAL_TYPE).dependency_token("d"));
    f.q.postpone(a, T0 + 1_000_000).unwrap();
    assert!(f.poll("h").is_none());
    f.q.delete(a).unwrap();
    f.claim("h", b);
}

/// Host ids are text of at most 256 characters (§5).
#[test]
fn poll_validates_the_host_id() {
    let f = Fixture::new("host-id");
    let id = f.submit("x", NORMAL_TYPE);
    let long = "h".repeat(257);
    assert!(matches!(
        f.q.poll(&long, &PollOptions::default()),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(
        pair(&f.get(id)),
        (State::Ready, Status::WaitingForResources)
    );
    let ok = "ħ".repeat(256);
    let lease = f.claim(&ok, id);
    assert_eq!(lease.host_id, ok);
    assert_eq!(f.get(id).host_id, Some(ok));
}

// ---------------------------------------------------------------------------
// §6.4 promotion
// ---------------------------------------------------------------------------

/// A future start gives 1/10 (P2); it is not claimable before, is claimable once due
/// (promotion inside the claim), reads do not promote, and it keeps its FIFO place.
#[test]
fn postponed_operations_are_promoted_by_claims_and_keep_their_place() {
    let f = Fixture::new("promotion");
    let x = f.submit_spec(OperationSpec::new("x", NORMAL_TYPE).postpone_until(T0 + 10_000));
    let op = f.get(x);
    assert_eq!(pair(&op), (State::Suspended, Status::Waiting));
    assert_eq!(op.postpone_until, Some(T0 + 10_000));
    assert!(f.poll("h").is_none());
    f.set(T0 + 5_000);
    let y = f.submit("y", NORMAL_TYPE);
    assert!(y > x);
    f.set(T0 + 9_999);
    f.claim("h", y);
    let z = f.submit("z", NORMAL_TYPE);
    f.set(T0 + 10_000);
    // Due, but reads do not promote.
    assert_eq!(f.get(x), op);
    let suspended = Filter {
        state: Some(State::Suspended),
        ..Filter::default()
    };
    assert_eq!(f.q.query(&suspended).unwrap(), vec![op.clone()]);
    // The claim promotes it, and its id puts it ahead of z.
    let lx = f.claim("h", x);
    assert_eq!(lx.attempt, 1);
    let claimed = f.get(x);
    assert_eq!(claimed.postpone_until, None);
    assert_eq!(claimed.started_on, Some(T0 + 10_000));
    assert_eq!(claimed.modified_on, T0 + 10_000, "a claim is a change");
    assert_eq!(claimed.created_on, T0);
    f.claim("h", z);

    // run_maintenance promotes as well, without claiming.
    let w = f.submit_spec(OperationSpec::new("w", NORMAL_TYPE).postpone_until(T0 + 20_000));
    f.set(T0 + 20_000);
    assert_eq!(pair(&f.get(w)), (State::Suspended, Status::Waiting));
    assert_eq!(
        f.q.run_maintenance(),
        Ok(MaintenanceReport {
            recovered: 0,
            poisoned: 0,
            promoted: 1
        })
    );
    let promoted = f.get(w);
    assert_eq!(pair(&promoted), (State::Ready, Status::WaitingForResources));
    assert_eq!(promoted.postpone_until, None);
    assert_eq!(promoted.modified_on, T0 + 20_000);
    assert_eq!(promoted.id, w);
}

// ---------------------------------------------------------------------------
// §6.5 retries
// ---------------------------------------------------------------------------

/// Runs attempts that each end in Retry and checks the back-off waits, then the final
/// 3/31. Returns the final row.
fn retry_until_failed(f: &Fixture, id: i64, waits: &[i64]) -> Operation {
    for (n, &wait) in waits.iter().enumerate() {
        let attempt = i32::try_from(n).unwrap() + 1;
        let lease = f.claim("h", id);
        assert_eq!(lease.attempt, attempt);
        f.advance(700);
        let msg = format!("transient {attempt}");
        assert_eq!(
            f.q.retry(lease.key(), Report::error(-attempt, &msg)),
            Ok(Status::Waiting),
            "retry {attempt}"
        );
        let op = f.get(id);
        assert_eq!(pair(&op), (State::Suspended, Status::Waiting));
        assert_eq!(op.retry_count, attempt);
        assert_eq!(
            op.postpone_until,
            Some(f.now() + wait),
            "wait after retry {attempt}"
        );
        assert_eq!(
            (op.error_code, op.message.as_deref()),
            (Some(-attempt), Some(msg.as_str()))
        );
        assert_eq!((op.host_id.clone(), op.lease_expires_at), (None, None));
        assert_eq!(op.execution_time_span, Some(700));
        assert_eq!(op.completed_on, None);
        // Not claimable before the back-off time, claimable at it.
        f.advance(wait - 1);
        assert!(f.poll("h").is_none(), "claimed before its back-off time");
        f.advance(1);
    }
    let last = i32::try_from(waits.len()).unwrap() + 1;
    let lease = f.claim("h", id);
    assert_eq!(lease.attempt, last);
    let report = Report {
        error_code: Some(-500),
        message: Some("gave up".into()),
        friendly_message: Some("Try later".into()),
        retry_at: None,
    };
    assert_eq!(f.q.retry(lease.key(), report), Ok(Status::Failed));
    let op = f.get(id);
    assert_eq!(pair(&op), (State::Completed, Status::Failed));
    assert_eq!(op.retry_count, last);
    assert_eq!(
        op.error_code,
        Some(-500),
        "the handler's error fields are kept"
    );
    assert_eq!(op.message.as_deref(), Some("gave up"));
    assert_eq!(op.friendly_message.as_deref(), Some("Try later"));
    assert_eq!(op.completed_on, Some(f.now()));
    assert_eq!(op.postpone_until, None);
    op
}

/// Defaults (§6.5): 4 attempts; waits of 5 s, 10 s, 20 s; the 4th Retry ends 3/31.
#[test]
fn retry_back_off_follows_the_default_schedule() {
    let f = Fixture::new("retry-defaults");
    let s = f.q.settings();
    assert_eq!(
        (
            s.retry.max_attempts,
            s.retry.backoff_base_ms,
            s.retry.backoff_cap_ms
        ),
        (4, 5_000, 3_600_000)
    );
    let id = f.submit("flaky", NORMAL_TYPE);
    retry_until_failed(&f, id, &[5_000, 10_000, 20_000]);
}

/// Custom budget: 6 attempts, base 1 s, cap 3 s → waits 1, 2, 3, 3, 3 s, then 3/31.
#[test]
fn retry_back_off_follows_custom_settings() {
    let f = Fixture::with("retry-custom", |o| {
        o.max_attempts = Some(6);
        o.backoff_base = Some(Duration::from_secs(1));
        o.backoff_cap = Some(Duration::from_secs(3));
    });
    let id = f.submit("flaky", NORMAL_TYPE);
    retry_until_failed(&f, id, &[1_000, 2_000, 3_000, 3_000, 3_000]);
}

/// `max_attempts` = 1 disables retries: the first Retry ends 3/31.
#[test]
fn max_attempts_one_disables_retries() {
    let f = Fixture::with("retry-none", |o| o.max_attempts = Some(1));
    let id = f.submit("once", NORMAL_TYPE);
    retry_until_failed(&f, id, &[]);
}

/// A handler's own retry time is used, but never earlier than now (§6.5).
#[test]
fn a_handler_supplied_retry_time_is_used_but_never_earlier_than_now() {
    let f = Fixture::new("retry-at");
    let id = f.submit("x", NORMAL_TYPE);
    let lease = f.claim("h", id);
    let later = T0 + 123_456;
    let report = Report {
        retry_at: Some(later),
        ..Report::default()
    };
    assert_eq!(f.q.retry(lease.key(), report), Ok(Status::Waiting));
    assert_eq!(f.get(id).postpone_until, Some(later));
    f.set(later - 1);
    assert!(f.poll("h").is_none());
    f.set(later);
    let lease = f.claim("h", id);
    f.advance(50);
    let report = Report {
        retry_at: Some(T0),
        ..Report::default()
    };
    assert_eq!(f.q.retry(lease.key(), report), Ok(Status::Waiting));
    let op = f.get(id);
    assert_eq!(pair(&op), (State::Suspended, Status::Waiting));
    assert_eq!(op.postpone_until, Some(later + 50), "clamped to now");
    assert_eq!(op.retry_count, 2);
    f.claim("h", id);
}

// ---------------------------------------------------------------------------
// §3.3, §6.4 lease expiry and poison protection
// ---------------------------------------------------------------------------

/// Each lease expiry counts as an attempt: 0/0 with `retry_count` + 1, until the
/// `max_attempts`-th expiry ends it as 3/31 with error_code LeaseLost and a message
/// naming the last host.
#[test]
fn repeated_lease_expiry_ends_as_poison() {
    let f = Fixture::new("poison");
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
    let f = Fixture::with("poison-by-claims", |o| o.max_attempts = Some(2));
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
    let f = Fixture::new("expiry-pausing");
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
    let g = Fixture::with("expiry-pausing-poison", |o| o.max_attempts = Some(1));
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
    let f = Fixture::new("recover-then-promote");
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
    let f = Fixture::with("maintenance", |o| o.max_attempts = Some(2));
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

// ---------------------------------------------------------------------------
// §3.2 outcomes from Pausing and Canceling
// ---------------------------------------------------------------------------

/// Claims a fresh operation and brings it into 2/21 (`pending` = pu of Postpone) or 2/22.
fn locked_in(f: &Fixture, status: Status, pending: Option<i64>) -> (i64, LeaseKey) {
    let id = f.submit("x", NORMAL_TYPE);
    let key = f.claim("h", id).key();
    match (status, pending) {
        (Status::InProgress, _) => {}
        (Status::Pausing, None) => f.q.pause(id).unwrap(),
        (Status::Pausing, Some(t)) => f.q.postpone(id, t).unwrap(),
        (Status::Canceling, _) => f.q.cancel(id).unwrap(),
        _ => unreachable!(),
    }
    assert_eq!(f.get(id).status, status);
    (id, key)
}

#[test]
fn host_outcomes_from_pausing_and_canceling() {
    let f = Fixture::new("outcomes");
    let pending = T0 + 500_000;
    let check = |id: i64, status: Status, pu: Option<i64>, retry_count: i32| {
        let op = f.get(id);
        assert_eq!(op.status, status, "op {id}");
        assert_eq!(op.postpone_until, pu, "op {id}");
        assert_eq!(op.retry_count, retry_count, "op {id}");
        assert_eq!((op.host_id.clone(), op.lease_expires_at), (None, None));
        let completed = status as u8 >= 30;
        assert_eq!(op.completed_on.is_some(), completed, "op {id}");
        op
    };
    // Retry from 2/21: 1/10 with the pending pu; retry_count + 1.
    let (id, key) = locked_in(&f, Status::Pausing, None);
    assert_eq!(f.q.retry(key, Report::error(-3, "r")), Ok(Status::Waiting));
    let op = check(id, Status::Waiting, None, 1);
    assert_eq!(op.error_code, Some(-3));
    let (id, key) = locked_in(&f, Status::Pausing, Some(pending));
    assert_eq!(f.q.retry(key, Report::default()), Ok(Status::Waiting));
    check(id, Status::Waiting, Some(pending), 1);
    // Retry from 2/22: 3/32 (retry_count as the §3.2 cell says: unchanged).
    let (id, key) = locked_in(&f, Status::Canceling, None);
    assert_eq!(f.q.retry(key, Report::error(-4, "r")), Ok(Status::Canceled));
    let op = check(id, Status::Canceled, None, 0);
    assert_eq!(op.error_code, Some(-4), "the report's fields are written");
    // Suspended from 2/20, 2/21, 2/22.
    let (id, key) = locked_in(&f, Status::InProgress, None);
    assert_eq!(f.q.suspend(key, Report::message("s")), Ok(Status::Waiting));
    let op = check(id, Status::Waiting, None, 0);
    assert_eq!(op.message.as_deref(), Some("s"));
    let (id, key) = locked_in(&f, Status::Pausing, Some(pending));
    assert_eq!(f.q.suspend(key, Report::default()), Ok(Status::Waiting));
    check(id, Status::Waiting, Some(pending), 0);
    let (id, key) = locked_in(&f, Status::Canceling, None);
    assert_eq!(f.q.suspend(key, Report::default()), Ok(Status::Canceled));
    check(id, Status::Canceled, None, 0);
    // Succeeded under Pausing or Canceling: 3/30 (one-shot).
    let (id, key) = locked_in(&f, Status::Pausing, Some(pending));
    assert_eq!(f.q.complete(key), Ok(Status::Succeeded));
    check(id, Status::Succeeded, None, 0);
    let (id, key) = locked_in(&f, Status::Canceling, None);
    assert_eq!(f.q.complete(key), Ok(Status::Succeeded));
    check(id, Status::Succeeded, None, 0);
    // Failed from 2/22; Canceled from 2/21.
    let (id, key) = locked_in(&f, Status::Canceling, None);
    assert_eq!(f.q.fail(key, Report::default()), Ok(Status::Failed));
    check(id, Status::Failed, None, 0);
    let (id, key) = locked_in(&f, Status::Pausing, None);
    assert_eq!(f.q.acknowledge_cancel(key), Ok(Status::Canceled));
    check(id, Status::Canceled, None, 0);
    // Retry from 2/21 with the budget spent: 3/31, retry_count + 1.
    let g = Fixture::with("outcomes-no-budget", |o| o.max_attempts = Some(1));
    let (id, key) = locked_in(&g, Status::Pausing, Some(pending));
    assert_eq!(g.q.retry(key, Report::default()), Ok(Status::Failed));
    let op = g.get(id);
    assert_eq!(pair(&op), (State::Completed, Status::Failed));
    assert_eq!((op.retry_count, op.postpone_until), (1, None));
}

/// A report replaces all three error fields (absent → null); a claim leaves them (§5).
#[test]
fn reports_replace_error_fields_and_claims_keep_them() {
    let f = Fixture::new("error-fields");
    let id = f.submit("x", NORMAL_TYPE);
    let lease = f.claim("h", id);
    let report = Report {
        error_code: Some(0x8004_4303_u32 as i32),
        message: Some("tech".into()),
        friendly_message: Some("friendly".into()),
        retry_at: None,
    };
    f.q.retry(lease.key(), report).unwrap();
    f.advance(5_000);
    let lease = f.claim("h", id);
    let op = f.get(id);
    assert_eq!(op.error_code, Some(-2_147_204_349), "stored as signed");
    assert_eq!(op.message.as_deref(), Some("tech"));
    assert_eq!(op.friendly_message.as_deref(), Some("friendly"));
    f.q.complete(lease.key()).unwrap();
    let op = f.get(id);
    assert_eq!(
        (op.error_code, op.message, op.friendly_message),
        (None, None, None)
    );
}

/// §5: a message longer than 100,000 characters is cut to exactly 100,000 characters,
/// counted in characters, not bytes; reporting does not fail.
#[test]
fn long_report_messages_are_truncated_not_refused() {
    let f = Fixture::new("truncate");
    let id = f.submit("x", NORMAL_TYPE);
    let lease = f.claim("h", id);
    let long: String = "é".repeat(100_000) + "tail";
    let friendly: String = "x".repeat(250_000);
    let report = Report {
        error_code: Some(-1),
        message: Some(long.clone()),
        friendly_message: Some(friendly),
        retry_at: None,
    };
    assert_eq!(f.q.fail(lease.key(), report), Ok(Status::Failed));
    let op = f.get(id);
    let message = op.message.unwrap();
    assert_eq!(message.chars().count(), 100_000);
    assert_eq!(message, "é".repeat(100_000));
    assert_eq!(op.friendly_message.unwrap(), "x".repeat(100_000));
    // Exactly 100,000 characters are kept whole.
    let id = f.submit("y", NORMAL_TYPE);
    let lease = f.claim("h", id);
    let exact = "ü".repeat(100_000);
    f.q.fail(lease.key(), Report::message(exact.clone()))
        .unwrap();
    assert_eq!(f.get(id).message, Some(exact));
}

// ---------------------------------------------------------------------------
// §9 restricted types, §6.6 settings
// ---------------------------------------------------------------------------

#[test]
fn restricted_types_refuse_users_but_not_hosts() {
    let f = Fixture::new("restricted");
    assert_eq!(
        f.q.settings().restricted_types,
        SPEC_RESTRICTED_TYPES.to_vec()
    );
    for t in SPEC_RESTRICTED_TYPES {
        let id = f.submit("platform", t);
        assert_eq!(f.q.cancel(id), Err(Error::CannotCancel), "type {t}");
        assert_eq!(
            f.q.set_state(id, State::Completed, None),
            Err(Error::CannotCancel)
        );
        f.q.postpone(id, T0 + 1_000).unwrap();
        assert_eq!(f.q.pause(id), Err(Error::CannotPause), "type {t}");
        assert!(matches!(
            f.q.resume(id),
            Err(Error::InvalidStateChangeToReady(_))
        ));
        f.set(T0 + 1_000);
        let lease = f.claim("h", id);
        assert_eq!(f.q.postpone(id, T0 + 9_000), Err(Error::CannotPause));
        assert_eq!(f.q.cancel(id), Err(Error::CannotCancel));
        // Hosts report every outcome, Canceled included.
        assert_eq!(f.q.acknowledge_cancel(lease.key()), Ok(Status::Canceled));
        f.q.delete(id).unwrap();
        f.set(T0);
    }
    for t in [1, 8, 10, 21, 100] {
        let id = f.submit("ordinary", t);
        f.q.cancel(id).unwrap();
    }
    let id = f.submit("platform", RESTRICTED_TYPE);
    let lease = f.claim("h", id);
    assert_eq!(f.q.complete(lease.key()), Ok(Status::Succeeded));
    let id = f.submit("platform", RESTRICTED_TYPE);
    let lease = f.claim("h", id);
    assert_eq!(
        f.q.suspend(lease.key(), Report::default()),
        Ok(Status::Waiting)
    );
    let id = f.submit("platform", RESTRICTED_TYPE);
    let lease = f.claim("h", id);
    assert_eq!(
        f.q.retry(lease.key(), Report::default()),
        Ok(Status::Waiting)
    );
}

/// Queue-wide settings live in the file (§6.6): a later handle opened with `None`
/// sees what an earlier one wrote.
#[test]
fn queue_settings_persist_in_the_file() {
    let f = Fixture::with("settings", |o| {
        o.restricted_types = Some(vec![100]);
        o.max_attempts = Some(6);
        o.backoff_base = Some(Duration::from_millis(1_500));
        o.backoff_cap = Some(Duration::from_secs(60));
        o.allow_delete_any = Some(true);
    });
    f.q.close();
    let q = f.reopen(|_| {});
    let s = q.settings();
    assert_eq!(s.restricted_types, vec![100]);
    assert_eq!(
        (
            s.retry.max_attempts,
            s.retry.backoff_base_ms,
            s.retry.backoff_cap_ms
        ),
        (6, 1_500, 60_000)
    );
    assert!(s.allow_delete_any);
    let r = q
        .submit(&OperationSpec::new("now restricted", 100))
        .unwrap();
    assert_eq!(q.cancel(r), Err(Error::CannotCancel));
    let o = q
        .submit(&OperationSpec::new("no longer restricted", 9))
        .unwrap();
    q.cancel(o).unwrap();
    q.delete(r).unwrap(); // allow_delete_any: a 0/0 row
    // An empty list restricts nothing, and persists as such.
    q.close();
    let q = f.reopen(|o| o.restricted_types = Some(Vec::new()));
    q.close();
    let q = f.reopen(|_| {});
    assert!(q.settings().restricted_types.is_empty());
    // An invalid budget is refused at open.
    assert!(matches!(
        asyncop::Queue::open(
            &f.path,
            asyncop::Options {
                max_attempts: Some(0),
                ..support::options(&f.clock)
            }
        ),
        Err(Error::InvalidArgument(_))
    ));
}

// ---------------------------------------------------------------------------
// Waiting (real time for the wait only)
// ---------------------------------------------------------------------------

#[test]
fn wait_for_returns_completed_operations_and_snapshots_on_timeout() {
    let f = Fixture::new("wait-for");
    let done = f.submit("done", NORMAL_TYPE);
    let lease = f.claim("h", done);
    f.q.complete(lease.key()).unwrap();
    let started = Instant::now();
    let op = f.q.wait_for(done, Duration::from_secs(10)).unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(op, f.get(done));
    let open = f.submit("open", NORMAL_TYPE);
    let op = f.q.wait_for(open, Duration::from_millis(50)).unwrap();
    assert_eq!(pair(&op), (State::Ready, Status::WaitingForResources));
    assert_eq!(
        f.q.wait_for(999, Duration::from_millis(10)),
        Err(Error::NotFound { id: 999 })
    );
    // A completion on another thread wakes the waiter.
    let lease = f.claim("h", open);
    let q = f.q.clone();
    let worker = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        q.complete(lease.key()).unwrap();
    });
    let started = Instant::now();
    let op = f.q.wait_for(open, Duration::from_secs(20)).unwrap();
    let waited = started.elapsed();
    worker.join().unwrap();
    assert_eq!(pair(&op), (State::Completed, Status::Succeeded));
    assert!(waited < Duration::from_secs(5), "woke after {waited:?}");
}

#[test]
fn a_waiting_poll_wakes_when_another_thread_submits() {
    let f = Fixture::new("poll-wait");
    let q = f.q.clone();
    let submitter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        let id = q.submit(&OperationSpec::new("late", NORMAL_TYPE)).unwrap();
        (id, Instant::now())
    });
    let started = Instant::now();
    let leases =
        f.q.poll("h", &PollOptions::default().wait(Duration::from_secs(5)))
            .unwrap();
    let returned = Instant::now();
    let (id, submitted) = submitter.join().unwrap();
    assert_eq!(ids(&leases), vec![id]);
    let latency = returned.saturating_duration_since(submitted);
    println!(
        "poll wake-up latency after submit: {latency:?} (poll waited {:?})",
        returned - started
    );
    assert!(latency < Duration::from_secs(1), "latency {latency:?}");
    // With nothing to do, a waiting poll returns empty after its wait.
    let started = Instant::now();
    let none =
        f.q.poll(
            "h",
            &PollOptions::default().wait(Duration::from_millis(100)),
        )
        .unwrap();
    assert!(none.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(100));
}

// ---------------------------------------------------------------------------
// §2, §5 submit
// ---------------------------------------------------------------------------

#[test]
fn submit_validates_its_arguments() {
    let f = Fixture::new("submit-validation");
    let bad = [
        OperationSpec::new("n".repeat(257), NORMAL_TYPE),
        OperationSpec::new("zero", 0),
        OperationSpec::new("negative", -1),
        OperationSpec::new("token", NORMAL_TYPE).dependency_token("t".repeat(257)),
        OperationSpec::new("corr", NORMAL_TYPE).correlation_id("c".repeat(257)),
    ];
    for spec in &bad {
        assert!(
            matches!(f.q.submit(spec), Err(Error::InvalidArgument(_))),
            "{spec:?}"
        );
    }
    assert!(f.all_ids().is_empty(), "a refused submit inserts nothing");
    // Limits are in characters: 256 two-byte characters are fine.
    let long = f.submit_spec(
        OperationSpec::new("é".repeat(256), NORMAL_TYPE)
            .dependency_token("ß".repeat(256))
            .correlation_id("ж".repeat(256)),
    );
    assert_eq!(f.get(long).name.chars().count(), 256);
    // An empty name is allowed, data is opaque.
    let data: Vec<u8> = (0..=255u8).collect();
    let empty = f.submit_spec(OperationSpec::new("", NORMAL_TYPE).data(data.clone()));
    let op = f.get(empty);
    assert_eq!((op.name.as_str(), op.data), ("", data));
    // An empty token means none: it neither blocks nor is blocked.
    let t1 = f.submit_spec(OperationSpec::new("t1", NORMAL_TYPE).dependency_token(""));
    let t2 = f.submit_spec(OperationSpec::new("t2", NORMAL_TYPE).dependency_token(""));
    assert_eq!(f.get(t1).dependency_token, None);
    // postpone_until <= now gives 0/0 with pu null.
    let at_now = f.submit_spec(OperationSpec::new("now", NORMAL_TYPE).postpone_until(T0));
    let past = f.submit_spec(OperationSpec::new("past", NORMAL_TYPE).postpone_until(T0 - 1));
    for id in [at_now, past] {
        let op = f.get(id);
        assert_eq!(pair(&op), (State::Ready, Status::WaitingForResources));
        assert_eq!(op.postpone_until, None);
    }
    // A new row: created_on = modified_on = now, nothing else set.
    let op = f.get(at_now);
    assert_eq!((op.created_on, op.modified_on), (T0, T0));
    assert_eq!((op.lock_token, op.retry_count), (0, 0));
    assert_eq!(
        (op.started_on, op.completed_on, op.execution_time_span),
        (None, None, None)
    );
    assert_eq!(
        (op.error_code, op.message, op.friendly_message),
        (None, None, None)
    );
    assert!(!op.is_waiting_for_event);
    let leases = f.q.poll("h", &PollOptions::default().max(10)).unwrap();
    assert_eq!(ids(&leases), vec![long, empty, t1, t2, at_now, past]);
}

#[test]
fn submit_many_is_all_or_nothing() {
    let f = Fixture::new("submit-many");
    let specs = vec![
        OperationSpec::new("ok 1", NORMAL_TYPE),
        OperationSpec::new("ok 2", NORMAL_TYPE),
        OperationSpec::new("bad", 0),
    ];
    assert!(matches!(
        f.q.submit_many(&specs),
        Err(Error::InvalidArgument(_))
    ));
    assert!(f.all_ids().is_empty());
    assert!(f.q.counts().unwrap().is_empty());
    let ids = f.q.submit_many(&specs[..2]).unwrap();
    assert_eq!(ids.len(), 2);
    assert!(ids[0] < ids[1]);
    assert_eq!(f.get(ids[0]).name, "ok 1");
    assert_eq!(f.get(ids[1]).name, "ok 2");
    assert_eq!(f.q.submit_many(&[]).unwrap(), Vec::<i64>::new());
}

// ---------------------------------------------------------------------------
// §11 queries
// ---------------------------------------------------------------------------

#[test]
fn query_filters_and_counts() {
    let f = Fixture::new("query");
    let op1 = f.submit_spec(OperationSpec::new("alpha", 1).dependency_token("t1"));
    let l1 = f.claim("h", op1);
    f.set(T0 + 1_000);
    f.q.complete(l1.key()).unwrap(); // 3/30 at +1 s
    let op2 = f.submit("beta", 2); // 0/0
    let op3 = f.submit_spec(OperationSpec::new("alpha", 2).dependency_token("t1")); // 0/0
    let op4 = f.submit_spec(OperationSpec::new("gamma", 1).postpone_until(T0 + 50_000)); // 1/10
    let op5 = f.submit("alpha", 1);
    f.set(T0 + 2_000);
    f.q.cancel(op5).unwrap(); // 3/32 at +2 s
    let op6 = f.submit("delta", 3);
    let l6 =
        f.q.poll("h", &PollOptions::default().operation_types([3]))
            .unwrap();
    assert_eq!(ids(&l6), vec![op6]);
    f.set(T0 + 3_000);
    f.q.fail(l6[0].key(), Report::default()).unwrap(); // 3/31 at +3 s
    let q =
        |filter: Filter| -> Vec<i64> { f.q.query(&filter).unwrap().iter().map(|o| o.id).collect() };
    let all = Filter::default();
    assert_eq!(q(all.clone()), vec![op1, op2, op3, op4, op5, op6]);
    assert_eq!(
        q(Filter {
            state: Some(State::Completed),
            ..all.clone()
        }),
        vec![op1, op5, op6]
    );
    assert_eq!(
        q(Filter {
            status: Some(Status::Canceled),
            ..all.clone()
        }),
        vec![op5]
    );
    assert_eq!(
        q(Filter {
            state: Some(State::Ready),
            status: Some(Status::WaitingForResources),
            ..all.clone()
        }),
        vec![op2, op3]
    );
    assert_eq!(
        q(Filter {
            state: Some(State::Suspended),
            ..all.clone()
        }),
        vec![op4]
    );
    assert_eq!(
        q(Filter {
            operation_type: Some(1),
            ..all.clone()
        }),
        vec![op1, op4, op5]
    );
    assert_eq!(
        q(Filter {
            name: Some("alpha".into()),
            ..all.clone()
        }),
        vec![op1, op3, op5]
    );
    assert!(
        q(Filter {
            name: Some("alph".into()),
            ..all.clone()
        })
        .is_empty()
    );
    assert_eq!(
        q(Filter {
            dependency_token: Some("t1".into()),
            ..all.clone()
        }),
        vec![op1, op3]
    );
    assert_eq!(
        q(Filter {
            completed_before: Some(T0 + 2_000),
            ..all.clone()
        }),
        vec![op1]
    );
    assert_eq!(
        q(Filter {
            completed_before: Some(T0 + 2_001),
            ..all.clone()
        }),
        vec![op1, op5]
    );
    assert_eq!(
        q(Filter {
            operation_type: Some(1),
            state: Some(State::Completed),
            ..all.clone()
        }),
        vec![op1, op5]
    );
    assert_eq!(
        q(Filter {
            after_id: Some(op2),
            ..all.clone()
        }),
        vec![op3, op4, op5, op6]
    );
    assert_eq!(
        q(Filter {
            limit: Some(2),
            ..all.clone()
        }),
        vec![op1, op2]
    );
    assert_eq!(
        q(Filter {
            limit: Some(2),
            offset: Some(2),
            ..all.clone()
        }),
        vec![op3, op4]
    );
    assert_eq!(
        q(Filter {
            after_id: Some(op3),
            limit: Some(2),
            ..all.clone()
        }),
        vec![op4, op5]
    );
    assert!(matches!(
        f.q.query(&Filter {
            state: Some(State::Ready),
            status: Some(Status::Waiting),
            ..all.clone()
        }),
        Err(Error::InvalidArgument(_))
    ));
    // Full records come back.
    assert_eq!(
        f.q.query(&Filter {
            name: Some("gamma".into()),
            ..all
        })
        .unwrap(),
        vec![f.get(op4)]
    );
    let row = |state, status, operation_type, count| CountRow {
        state,
        status,
        operation_type,
        count,
    };
    assert_eq!(
        f.q.counts().unwrap(),
        vec![
            row(State::Ready, Status::WaitingForResources, 2, 2),
            row(State::Suspended, Status::Waiting, 1, 1),
            row(State::Completed, Status::Succeeded, 1, 1),
            row(State::Completed, Status::Failed, 3, 1),
            row(State::Completed, Status::Canceled, 1, 1),
        ]
    );
}

// ---------------------------------------------------------------------------
// Regressions
// ---------------------------------------------------------------------------

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A waiting poll used to spin (and take the write lock in a loop) while the only
/// Ready rows were blocked by their dependency token or of types it does not take:
/// its own empty claim woke it again at once. Measured in CPU time, not wall time.
#[test]
fn a_waiting_poll_does_not_spin_on_blocked_or_filtered_work() {
    let f = Fixture::new("poll-no-spin");
    let a = f.submit_spec(OperationSpec::new("a", NORMAL_TYPE).dependency_token("t"));
    let b = f.submit_spec(OperationSpec::new("b", NORMAL_TYPE).dependency_token("t"));
    let other = f.submit("other type", 200);
    let _held = f.claim("h1", a);
    let wait = Duration::from_millis(400);
    let cpu_before = thread_cpu();
    let started = Instant::now();
    let got =
        f.q.poll(
            "h2",
            &PollOptions::default()
                .max(5)
                .wait(wait)
                .operation_types([NORMAL_TYPE]),
        )
        .unwrap();
    let cpu = thread_cpu() - cpu_before;
    assert!(got.is_empty(), "{got:?}");
    assert!(started.elapsed() >= wait);
    // Spinning burns the whole wait; sleeping with a 10 ms data_version tick costs a few ms.
    assert!(
        cpu < wait / 3,
        "a waiting poll used {cpu:?} of CPU in {wait:?}"
    );
    assert_eq!(pair(&f.get(b)), (State::Ready, Status::WaitingForResources));
    assert_eq!(
        pair(&f.get(other)),
        (State::Ready, Status::WaitingForResources)
    );
}

/// A user action validated on a snapshot must not write the snapshot's host
/// fields back: here host B recovers and claims the operation between the user's
/// read and the user's write. The cancel must keep B's token, lease and retry count.
#[test]
fn a_user_action_keeps_the_current_host_fields() {
    let f = Fixture::new("user-action-fresh-row");
    let id = f.submit("x", NORMAL_TYPE);
    let a = f.claim("host-a", id);
    f.advance(LEASE_MS + 1);
    let now = f.now();
    let user_q = f.q.clone();
    let b_key = asyncop::testing::write(&f.q, |conn| {
        // The user reads its snapshot (2/20, host-a) and then waits for this write lock.
        let user = std::thread::spawn(move || user_q.cancel(id));
        std::thread::sleep(Duration::from_millis(100));
        // Meanwhile host B's claim: recovery of A's expired lease, then the claim.
        for row in conn.expired_leases(now)? {
            let change = asyncop::transition::lease_expired(row.status, false).unwrap();
            let next = asyncop::transition::apply(&row, &change, now, None);
            assert!(conn.update(&row, &next)?);
        }
        let change = asyncop::transition::ClaimMove::new("host-b", now, LEASE_MS);
        let claimed = conn.claim(&asyncop::store::ClaimRequest {
            change: &change,
            max: 1,
            types: None,
        })?;
        assert_eq!(claimed.len(), 1);
        Ok((
            LeaseKey {
                id,
                lock_token: claimed[0].lock_token,
            },
            user,
        ))
    })
    .map(|(key, user)| {
        user.join().unwrap().unwrap();
        key
    })
    .unwrap();
    let op = f.get(id);
    assert_eq!(pair(&op), (State::Locked, Status::Canceling));
    assert_eq!(op.host_id.as_deref(), Some("host-b"));
    assert_eq!(op.lock_token, 2);
    assert_eq!(op.lease_expires_at, Some(now + LEASE_MS));
    assert_eq!(op.retry_count, 1);
    assert_eq!(f.q.renew(b_key).unwrap(), Status::Canceling);
    assert!(lease_lost(f.q.renew(a.key()), a.key()));
}
