//! Recurring operations (§8) through the store: one row is the whole series.
//! Expected times are written out from the model, on an injected clock.

use super::*;

const DAY: i64 = 86_400_000;

fn daily(f: &Fixture, start: Option<i64>) -> i64 {
    f.submit_spec(OperationSpec::new("series", NORMAL_TYPE).recurring("FREQ=DAILY;", start))
}

#[test]
fn a_series_reuses_its_row_and_skips_missed_occurrences() {
    let f = Fixture::new(store(), "recurrence-cycle");
    let id = daily(&f, None);
    let op = f.get(id);
    assert_eq!(pair(&op), (State::Ready, Status::WaitingForResources));
    assert_eq!(op.recurrence_pattern.as_deref(), Some("FREQ=DAILY;"));
    assert_eq!(op.recurrence_start, Some(T0));
    // Run 1 at +1 h: back to 1/10 until the next occurrence, T0 + 1 day.
    f.advance(3_600_000);
    let lease = f.claim("host-r", id);
    assert_eq!(f.q.complete(lease.key()).unwrap(), Status::Waiting);
    let op = f.get(id);
    assert_eq!(pair(&op), (State::Suspended, Status::Waiting));
    assert_eq!(op.postpone_until, Some(T0 + DAY));
    assert_eq!((op.completed_on, op.retry_count), (None, 0));
    // Due: promoted and claimed again, the same row under a new token.
    f.advance(DAY - 3_600_000);
    let again = f.claim("host-r", id);
    assert_eq!(again.lock_token, lease.lock_token + 1);
    f.advance(1_000);
    assert_eq!(f.q.complete(again.key()).unwrap(), Status::Waiting);
    assert_eq!(f.get(id).postpone_until, Some(T0 + 2 * DAY));
    // Nobody polls for two and a half days: the run happens late, once, and
    // the next occurrence is the first one after it (the missed ones are skipped).
    f.advance(2 * DAY + DAY / 2);
    let late = f.claim("host-r", id);
    assert_eq!(f.q.complete(late.key()).unwrap(), Status::Waiting);
    assert_eq!(f.get(id).postpone_until, Some(T0 + 4 * DAY));
}

#[test]
fn a_later_start_waits_for_it() {
    let f = Fixture::new(store(), "recurrence-later");
    let id = daily(&f, Some(T0 + 5_000));
    let op = f.get(id);
    assert_eq!(pair(&op), (State::Suspended, Status::Waiting));
    assert_eq!(op.postpone_until, Some(T0 + 5_000));
    assert!(f.poll("host-r").is_none());
    f.advance(5_000);
    f.claim("host-r", id);
}

#[test]
fn cancel_or_failure_ends_the_series() {
    let f = Fixture::new(store(), "recurrence-end");
    let canceled = daily(&f, Some(T0 + DAY));
    f.q.cancel(canceled).unwrap();
    assert_eq!(pair(&f.get(canceled)), (State::Completed, Status::Canceled));
    let failed = daily(&f, None);
    let lease = f.claim("host-r", failed);
    f.q.fail(lease.key(), Report::error(7, "broken")).unwrap();
    assert_eq!(pair(&f.get(failed)), (State::Completed, Status::Failed));
}

#[test]
fn bad_series_are_refused() {
    let f = Fixture::new(store(), "recurrence-bad");
    let bad = [
        OperationSpec::new("x", NORMAL_TYPE).recurring("FREQ=YEARLY", None),
        OperationSpec::new("x", NORMAL_TYPE).recurring("FREQ=DAILY;COUNT=2", None),
        OperationSpec {
            recurrence_start: Some(T0),
            ..OperationSpec::new("x", NORMAL_TYPE)
        },
        OperationSpec::new("x", NORMAL_TYPE)
            .recurring("FREQ=DAILY", None)
            .postpone_until(T0 + 1),
    ];
    for spec in bad {
        let e = f.q.submit(&spec).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{spec:?}: {e:?}");
    }
    assert!(f.all_ids().is_empty(), "nothing was written");
}
