//! §3.2 host outcomes from Pausing and Canceling; error fields of reports.

use super::*;

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
    let f = Fixture::new(store(), "outcomes");
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
    let g = Fixture::with(store(), "outcomes-no-budget", |o| o.max_attempts = Some(1));
    let (id, key) = locked_in(&g, Status::Pausing, Some(pending));
    assert_eq!(g.q.retry(key, Report::default()), Ok(Status::Failed));
    let op = g.get(id);
    assert_eq!(pair(&op), (State::Completed, Status::Failed));
    assert_eq!((op.retry_count, op.postpone_until), (1, None));
}

/// A report replaces all three error fields (absent → null); a claim leaves them (§5).
#[test]
fn reports_replace_error_fields_and_claims_keep_them() {
    let f = Fixture::new(store(), "error-fields");
    let id = f.submit("x", NORMAL_TYPE);
    let lease = f.claim("h", id);
    let report = Report {
        error_code: Some(0x8004_4303_u32 as i32),
        message: Some("tech".into()),
        friendly_message: Some("friendly".into()),
        retry_at: None,
        detail: None,
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
    let f = Fixture::new(store(), "truncate");
    let id = f.submit("x", NORMAL_TYPE);
    let lease = f.claim("h", id);
    let long: String = "é".repeat(100_000) + "tail";
    let friendly: String = "x".repeat(250_000);
    let report = Report {
        error_code: Some(-1),
        message: Some(long.clone()),
        friendly_message: Some(friendly),
        retry_at: None,
        detail: None,
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
