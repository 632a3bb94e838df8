//! A store writes exactly what `transition` decides and decides nothing itself:
//! after each command the stored row equals the row the pure functions compute
//! (`transition::submit`, `ClaimMove::apply`, `transition::apply`), and a new
//! queue starts with the one set of default settings (`Settings::default()`).

use super::*;
use asyncop::Settings;
use asyncop::transition::{self as tr, ClaimMove, ErrorFields};

#[test]
fn a_new_queue_has_the_default_settings() {
    let f = Fixture::new(store(), "default-settings");
    assert_eq!(f.q.settings(), &Settings::default());
    // Read back by a second handle: what the store seeded, not what the first handle assumed.
    let again = f.reopen(|_| {});
    assert_eq!(again.settings(), &Settings::default());
}

#[test]
fn submit_writes_the_start_transition_decides() {
    let f = Fixture::new(store(), "writes-submit");
    for pu in [None, Some(T0), Some(T0 + 5_000)] {
        let mut spec = OperationSpec::new("w", NORMAL_TYPE).data(b"d".to_vec());
        spec.postpone_until = pu;
        let id = f.submit_spec(spec);
        let op = f.get(id);
        let start = tr::submit(pu, T0);
        assert_eq!((op.status, op.postpone_until), (start.status, start.postpone_until));
        assert_eq!(op.state, start.status.state());
        assert_eq!((op.created_on, op.modified_on), (T0, T0));
    }
}

#[test]
fn a_claim_writes_exactly_the_claim_move() {
    let f = Fixture::new(store(), "writes-claim");
    let id = f.submit("w", NORMAL_TYPE);
    let before = f.get(id);
    f.advance(1_000);
    let lease = f.claim("host-w", id);
    let expected = ClaimMove::new("host-w", T0 + 1_000, LEASE_MS).apply(&before);
    assert_eq!(f.get(id), expected);
    assert_eq!(lease.lock_token, expected.lock_token);
    assert_eq!(lease.expires_at, T0 + 1_000 + LEASE_MS);
}

#[test]
fn host_outcomes_write_exactly_what_apply_computes() {
    let f = Fixture::new(store(), "writes-outcomes");
    let retry = f.q.settings().retry;
    // Retry with a report: the change of §3.2 and the report's error fields.
    let id = f.submit("w", NORMAL_TYPE);
    let lease = f.claim("host-w", id);
    let held = f.get(id);
    f.advance(2_500);
    let now = f.now();
    f.q.retry(lease.key(), Report::error(42, "flaky"))
        .unwrap();
    let ctx = tr::OutcomeContext {
        recurring: false,
        next_occurrence: None,
        retry: retry.plan(held.retry_count, now, None),
    };
    let change = tr::fail_retryable(held.status, ctx).unwrap();
    let errors = ErrorFields {
        error_code: Some(42),
        message: Some("flaky".into()),
        friendly_message: None,
    };
    assert_eq!(f.get(id), tr::apply(&held, &change, now, Some(&errors)));
    // Complete of the next attempt: leaving Locked, entering Completed.
    f.set(f.get(id).postpone_until.unwrap());
    let lease = f.claim("host-w", id);
    let held = f.get(id);
    f.advance(700);
    let now = f.now();
    f.q.complete(lease.key()).unwrap();
    let ctx = tr::OutcomeContext {
        recurring: false,
        next_occurrence: None,
        retry: retry.plan(held.retry_count, now, None),
    };
    let change = tr::complete(held.status, ctx).unwrap();
    let done = tr::apply(&held, &change, now, Some(&ErrorFields::default()));
    assert_eq!(f.get(id), done);
    assert_eq!(done.execution_time_span, Some(700));
}

#[test]
fn user_actions_and_expiry_write_exactly_what_apply_computes() {
    let f = Fixture::new(store(), "writes-user");
    let id = f.submit("w", NORMAL_TYPE);
    let lease = f.claim("host-w", id);
    // Pause of a running operation (U4).
    let held = f.get(id);
    f.advance(10);
    f.q.pause(id).unwrap();
    let tr::Step::Move(change) = tr::pause(held.status, false).unwrap() else {
        panic!("Pause of 2/20 is a move");
    };
    assert_eq!(f.get(id), tr::apply(&held, &change, f.now(), None));
    // The lease expires: recovery writes the §3.3 move with its trace.
    let pausing = f.get(id);
    f.set(lease.expires_at);
    f.q.run_maintenance().unwrap();
    let change = tr::lease_expired(pausing.status, false).unwrap();
    let recovered = f.get(id);
    assert_eq!(
        recovered,
        tr::apply(
            &pausing,
            &change,
            f.now(),
            Some(&ErrorFields {
                error_code: Some(LEASE_LOST_CODE),
                message: recovered.message.clone(),
                friendly_message: None,
            })
        )
    );
}
