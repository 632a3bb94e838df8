//! The attempt history: every attempt that ended in an error is kept (Retry,
//! Failed, lease expiry), the newest `ATTEMPTS_KEPT`, also after a later
//! success, and deleted with the operation.

use super::*;

/// A Retry, a lease expiry and a Failed report, in order, each with its time,
/// host, token, code, message and detail; a success and a suspend add none.
#[test]
fn retry_expiry_and_failure_are_kept_in_order() {
    let f = Fixture::new(store(), "attempts-kinds");
    let id = f.submit("x", NORMAL_TYPE);
    assert_eq!(f.q.attempts(id), Ok(Vec::new()));
    let started = f.now();
    let a1 = f.claim("h1", id);
    f.advance(250);
    let report = Report::error(-5, "boom").detail("Traceback: line 1");
    assert_eq!(f.q.retry(a1.key(), report), Ok(Status::Waiting));
    f.advance(PAST_BACKOFF_MS);
    let a2 = f.claim("h2", id);
    let second_start = f.now();
    f.advance(LEASE_MS);
    f.q.run_maintenance().unwrap();
    let a3 = f.claim("h3", id);
    f.advance(10);
    f.q.fail(a3.key(), Report::error(-7, "fatal").detail("trace 3"))
        .unwrap();
    let kept = f.q.attempts(id).unwrap();
    assert_eq!(kept.len(), 3, "{kept:?}");
    let (k1, k2, k3) = (&kept[0], &kept[1], &kept[2]);
    assert_eq!((k1.operation_id, k1.lock_token, k1.ending), (id, a1.lock_token, AttemptEnding::Retry));
    assert_eq!((k1.started_on, k1.ended_on), (Some(started), started + 250));
    assert_eq!(k1.host_id.as_deref(), Some("h1"));
    assert_eq!((k1.error_code, k1.message.as_deref()), (Some(-5), Some("boom")));
    assert_eq!(k1.detail.as_deref(), Some("Traceback: line 1"));
    assert_eq!((k2.lock_token, k2.ending), (a2.lock_token, AttemptEnding::Expired));
    assert_eq!((k2.started_on, k2.ended_on), (Some(second_start), second_start + LEASE_MS));
    assert_eq!((k2.host_id.as_deref(), k2.error_code), (Some("h2"), Some(LEASE_LOST_CODE)));
    assert!(k2.message.as_deref().unwrap_or("").contains("h2"));
    assert_eq!(k2.detail, None);
    assert_eq!((k3.lock_token, k3.ending), (a3.lock_token, AttemptEnding::Failed));
    assert_eq!((k3.error_code, k3.detail.as_deref()), (Some(-7), Some("trace 3")));
    // A success, a suspend or an acknowledged cancel records nothing.
    let other = f.submit("y", NORMAL_TYPE);
    let l = f.claim("h", other);
    f.q.suspend(l.key(), Report::message("wait")).unwrap();
    f.q.resume(other).unwrap();
    let l = f.claim("h", other);
    f.q.cancel(other).unwrap();
    f.q.acknowledge_cancel(l.key()).unwrap();
    assert_eq!(f.q.attempts(other), Ok(Vec::new()));
}

/// An exhausted retry budget still records the Retry report; a poisoned
/// lease expiry is recorded as expired. A later success keeps the history
/// (while it clears the row's error fields).
#[test]
fn history_survives_success_and_covers_poison() {
    let f = Fixture::with(store(), "attempts-success", |o| o.max_attempts = Some(2));
    let id = f.submit("x", NORMAL_TYPE);
    let a = f.claim("h", id);
    f.q.retry(a.key(), Report::error(1, "first")).unwrap();
    f.advance(PAST_BACKOFF_MS);
    let b = f.claim("h", id);
    f.q.complete(b.key()).unwrap();
    let op = f.get(id);
    assert_eq!((op.status, op.error_code, op.message), (Status::Succeeded, None, None));
    let kept = f.q.attempts(id).unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!((kept[0].ending, kept[0].message.as_deref()), (AttemptEnding::Retry, Some("first")));

    let exhausted = f.submit("y", NORMAL_TYPE);
    let a = f.claim("h", exhausted);
    f.q.retry(a.key(), Report::message("1")).unwrap();
    f.advance(PAST_BACKOFF_MS);
    let b = f.claim("h", exhausted);
    assert_eq!(f.q.retry(b.key(), Report::message("2")), Ok(Status::Failed));
    let endings: Vec<_> = f.q.attempts(exhausted).unwrap().iter().map(|a| a.ending).collect();
    assert_eq!(endings, vec![AttemptEnding::Retry, AttemptEnding::Retry]);

    let poison = f.submit("z", NORMAL_TYPE);
    for _ in 0..2 {
        f.claim("h", poison);
        f.advance(LEASE_MS);
        f.q.run_maintenance().unwrap();
    }
    assert_eq!(f.get(poison).status, Status::Failed);
    let endings: Vec<_> = f.q.attempts(poison).unwrap().iter().map(|a| a.ending).collect();
    assert_eq!(endings, vec![AttemptEnding::Expired, AttemptEnding::Expired]);
}

/// Only the newest `ATTEMPTS_KEPT` attempts are kept, oldest first.
#[test]
fn the_history_is_bounded() {
    let total = ATTEMPTS_KEPT + 5;
    let f = Fixture::with(store(), "attempts-bounded", |o| {
        o.max_attempts = Some(i32::try_from(total).unwrap() + 1)
    });
    let id = f.submit("x", NORMAL_TYPE);
    let mut tokens = Vec::new();
    for n in 0..total {
        let lease = f.claim("h", id);
        tokens.push(lease.lock_token);
        f.q.retry(lease.key(), Report::message(format!("attempt {n}")))
            .unwrap();
        f.advance(PAST_BACKOFF_MS);
    }
    let kept = f.q.attempts(id).unwrap();
    assert_eq!(kept.len(), ATTEMPTS_KEPT);
    let kept_tokens: Vec<i64> = kept.iter().map(|a| a.lock_token).collect();
    assert_eq!(kept_tokens, tokens[total - ATTEMPTS_KEPT..].to_vec());
    assert_eq!(kept.last().unwrap().message.as_deref(), Some(format!("attempt {}", total - 1).as_str()));
}

/// A detail is cut at 100,000 characters like a message, not refused.
#[test]
fn a_long_detail_is_truncated() {
    let f = Fixture::new(store(), "attempts-detail");
    let id = f.submit("x", NORMAL_TYPE);
    let lease = f.claim("h", id);
    let long = "é".repeat(100_000) + "tail";
    f.q.fail(lease.key(), Report::default().detail(long)).unwrap();
    let kept = f.q.attempts(id).unwrap();
    assert_eq!(kept[0].detail.as_deref(), Some("é".repeat(100_000).as_str()));
}

/// Deleting the operation deletes its history: `attempts` is then NotFound,
/// and a new operation never sees it.
#[test]
fn the_history_is_deleted_with_the_operation() {
    let f = Fixture::new(store(), "attempts-delete");
    let id = f.submit("x", NORMAL_TYPE);
    let lease = f.claim("h", id);
    f.q.fail(lease.key(), Report::message("no")).unwrap();
    assert_eq!(f.q.attempts(id).unwrap().len(), 1);
    f.q.delete(id).unwrap();
    assert_eq!(f.q.attempts(id), Err(Error::NotFound { id }));
    assert!(matches!(f.q.attempts(0), Err(Error::InvalidArgument(_))));
}
