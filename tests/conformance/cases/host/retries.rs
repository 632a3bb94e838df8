//! §6.5 retries and back-off.

use super::*;

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
        detail: None,
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
    let f = Fixture::new(store(), "retry-defaults");
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
    let f = Fixture::with(store(), "retry-custom", |o| {
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
    let f = Fixture::with(store(), "retry-none", |o| o.max_attempts = Some(1));
    let id = f.submit("once", NORMAL_TYPE);
    retry_until_failed(&f, id, &[]);
}

/// A handler's own retry time is used, but never earlier than now (§6.5).
#[test]
fn a_handler_supplied_retry_time_is_used_but_never_earlier_than_now() {
    let f = Fixture::new(store(), "retry-at");
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
