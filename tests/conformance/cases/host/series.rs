//! A series under user actions and pattern updates (§8): `set_recurrence`
//! with its checks in order, Resume and Postpone of a waiting series, the
//! retry budget, and a series with no occurrence left. Expected times are
//! written out from the model, on an injected clock.

use super::*;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;
/// A type this file's queues let update their patterns.
const UPDATABLE: i32 = 77;

fn updatable(test: &str) -> Fixture {
    Fixture::with(store(), test, |o| {
        o.recurrence_updatable_types = Some(vec![UPDATABLE]);
    })
}

fn series(f: &Fixture, operation_type: i32, pattern: &str) -> i64 {
    f.submit_spec(OperationSpec::new("series", operation_type).recurring(pattern, None))
}

/// Runs the series once at the current time and returns the status it is left in.
fn run_once(f: &Fixture, id: i64) -> Status {
    let lease = f.claim("host-s", id);
    f.q.complete(lease.key()).unwrap()
}

#[test]
fn set_recurrence_checks_in_the_model_order() {
    let f = updatable("series-checks");
    assert!(f.q.settings().recurrence_updatable_types == vec![UPDATABLE]);
    let one_shot = f.submit("one-shot", UPDATABLE);
    let other_type = series(&f, NORMAL_TYPE, "FREQ=DAILY;");
    let open = series(&f, UPDATABLE, "FREQ=DAILY;");
    let ended = series(&f, UPDATABLE, "FREQ=DAILY;");
    f.q.cancel(ended).unwrap();
    // Each check wins over the later ones: a malformed pattern is the last.
    let cases: Vec<(i64, &str, u32)> = vec![
        (one_shot, "FREQ=HOURLY;", 0x8004_4168),
        (one_shot, "FREQ=YEARLY", 0x8004_4168),
        (other_type, "FREQ=HOURLY;", 0x8004_4169),
        (other_type, "nonsense", 0x8004_4169),
        (ended, "FREQ=HOURLY;", 0x8004_4162),
        (ended, "nonsense", 0x8004_4162),
    ];
    for (id, pattern, hresult) in cases {
        let e = f.q.set_recurrence(id, pattern).unwrap_err();
        assert_eq!(e.hresult(), Some(hresult as i32), "{id} {pattern}: {e}");
    }
    let e = f.q.set_recurrence(other_type, "x").unwrap_err();
    assert_eq!(e, Error::CannotUpdateRecurring);
    assert_eq!(
        e.to_string(),
        "Cannot update recurrence pattern for a job type that is not supported."
    );
    assert_eq!(
        f.q.set_recurrence(one_shot, "FREQ=DAILY;"),
        Err(Error::CannotUpdateNonrecurring)
    );
    let completed = f.q.set_recurrence(ended, "FREQ=DAILY;").unwrap_err();
    assert!(matches!(completed, Error::InvalidStateChange(_)), "{completed:?}");
    assert!(completed.to_string().contains("Completed/Canceled"), "{completed}");
    for bad in ["FREQ=YEARLY", "FREQ=DAILY;COUNT=3", "", "  "] {
        let e = f.q.set_recurrence(open, bad).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{bad:?}: {e:?}");
    }
    assert!(matches!(
        f.q.set_recurrence(0, "FREQ=DAILY;"),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(
        f.q.set_recurrence(999_999, "FREQ=DAILY;"),
        Err(Error::NotFound { id: 999_999 })
    );
    // Nothing refused was written.
    assert_eq!(f.get(open).recurrence_pattern.as_deref(), Some("FREQ=DAILY;"));
    assert_eq!(f.get(one_shot).recurrence_pattern, None);
    // And the default queue lets no type update its pattern.
    let d = Fixture::new(store(), "series-checks-default");
    assert!(d.q.settings().recurrence_updatable_types.is_empty());
    let s = series(&d, UPDATABLE, "FREQ=DAILY;");
    assert_eq!(
        d.q.set_recurrence(s, "FREQ=HOURLY;"),
        Err(Error::CannotUpdateRecurring)
    );
}

#[test]
fn a_new_pattern_takes_effect_at_the_next_scheduling() {
    let f = updatable("series-update");
    let id = series(&f, UPDATABLE, "FREQ=DAILY;");
    f.advance(HOUR);
    assert_eq!(run_once(&f, id), Status::Waiting);
    assert_eq!(f.get(id).postpone_until, Some(T0 + DAY));
    // Updated while waiting: the pending run keeps its time.
    f.advance(HOUR);
    f.q.set_recurrence(id, "FREQ=HOURLY;INTERVAL=6").unwrap();
    let op = f.get(id);
    assert_eq!(pair(&op), (State::Suspended, Status::Waiting));
    assert_eq!(op.postpone_until, Some(T0 + DAY));
    assert_eq!(op.recurrence_pattern.as_deref(), Some("FREQ=HOURLY;INTERVAL=6"));
    assert_eq!(op.recurrence_start, Some(T0));
    assert_eq!(op.modified_on, T0 + 2 * HOUR);
    // After that run, the new pattern counts from the same start: every 6 h from T0.
    f.set(T0 + DAY + 10 * 60_000);
    assert_eq!(run_once(&f, id), Status::Waiting);
    assert_eq!(f.get(id).postpone_until, Some(T0 + DAY + 6 * HOUR));
    // Updated while it runs: the lease and the run are untouched.
    f.set(T0 + DAY + 6 * HOUR);
    let lease = f.claim("host-s", id);
    f.q.set_recurrence(id, "FREQ=WEEKLY;").unwrap();
    assert_eq!(pair(&f.get(id)), (State::Locked, Status::InProgress));
    f.advance(1_000);
    assert_eq!(f.q.complete(lease.key()), Ok(Status::Waiting));
    assert_eq!(f.get(id).postpone_until, Some(T0 + 7 * DAY));
}

#[test]
fn resume_runs_a_waiting_series_now_and_keeps_its_schedule() {
    let f = Fixture::new(store(), "series-resume");
    let id = series(&f, NORMAL_TYPE, "FREQ=DAILY;");
    f.advance(HOUR);
    run_once(&f, id);
    assert_eq!(f.get(id).postpone_until, Some(T0 + DAY));
    // Resume at +2 h: it runs now; the next occurrence is the first after that run.
    f.advance(HOUR);
    f.q.resume(id).unwrap();
    let op = f.get(id);
    assert_eq!(pair(&op), (State::Ready, Status::WaitingForResources));
    assert_eq!(op.postpone_until, None);
    f.advance(1_000);
    assert_eq!(run_once(&f, id), Status::Waiting);
    assert_eq!(f.get(id).postpone_until, Some(T0 + DAY));
    // A Suspended outcome leaves it 1/10 without a time until a user resumes it.
    f.set(T0 + DAY);
    let lease = f.claim("host-s", id);
    assert_eq!(f.q.suspend(lease.key(), Report::default()), Ok(Status::Waiting));
    assert_eq!(f.get(id).postpone_until, None);
    f.set(T0 + 3 * DAY + HOUR);
    assert!(f.poll("host-s").is_none(), "a suspended series waits for a user");
    f.q.resume(id).unwrap();
    assert_eq!(run_once(&f, id), Status::Waiting);
    assert_eq!(f.get(id).postpone_until, Some(T0 + 4 * DAY));
}

#[test]
fn postpone_moves_only_the_pending_run() {
    let f = Fixture::new(store(), "series-postpone");
    let id = series(&f, NORMAL_TYPE, "FREQ=DAILY;");
    run_once(&f, id);
    assert_eq!(f.get(id).postpone_until, Some(T0 + DAY));
    f.q.postpone(id, T0 + DAY + 5 * HOUR).unwrap();
    f.set(T0 + DAY);
    assert!(f.poll("host-s").is_none(), "the pending run was moved");
    f.set(T0 + DAY + 5 * HOUR);
    assert_eq!(run_once(&f, id), Status::Waiting);
    // The series is where it was: the next occurrence is T0 + 2 days.
    let op = f.get(id);
    assert_eq!(op.postpone_until, Some(T0 + 2 * DAY));
    assert_eq!(op.recurrence_start, Some(T0));
    // Postponing a Ready series (due, not yet claimed) moves that run too.
    f.set(T0 + 2 * DAY);
    f.q.run_maintenance().unwrap();
    assert_eq!(pair(&f.get(id)), (State::Ready, Status::WaitingForResources));
    f.q.postpone(id, T0 + 2 * DAY + HOUR).unwrap();
    assert_eq!(f.get(id).postpone_until, Some(T0 + 2 * DAY + HOUR));
    f.set(T0 + 2 * DAY + HOUR);
    assert_eq!(run_once(&f, id), Status::Waiting);
    assert_eq!(f.get(id).postpone_until, Some(T0 + 3 * DAY));
}

#[test]
fn an_exhausted_retry_budget_ends_the_series_as_failed() {
    let f = Fixture::with(store(), "series-budget", |o| {
        o.max_attempts = Some(2);
        o.backoff_base = Some(Duration::from_secs(5));
    });
    let id = series(&f, NORMAL_TYPE, "FREQ=HOURLY;");
    let lease = f.claim("host-s", id);
    assert_eq!(
        f.q.retry(lease.key(), Report::error(5, "flaky")),
        Ok(Status::Waiting)
    );
    assert_eq!(f.get(id).postpone_until, Some(T0 + 5_000));
    f.set(T0 + 5_000);
    let lease = f.claim("host-s", id);
    assert_eq!(
        f.q.retry(lease.key(), Report::error(6, "still flaky")),
        Ok(Status::Failed)
    );
    let op = f.get(id);
    assert_eq!(pair(&op), (State::Completed, Status::Failed));
    assert_eq!((op.retry_count, op.error_code), (2, Some(6)));
    assert_eq!(op.completed_on, Some(T0 + 5_000));
    assert_eq!(op.postpone_until, None);
    // A success in between restarts the budget (retry_count back to 0).
    let g = Fixture::with(store(), "series-budget-reset", |o| o.max_attempts = Some(2));
    let id = series(&g, NORMAL_TYPE, "FREQ=HOURLY;");
    let lease = g.claim("host-s", id);
    g.q.retry(lease.key(), Report::default()).unwrap();
    g.set(g.get(id).postpone_until.unwrap());
    assert_eq!(run_once(&g, id), Status::Waiting);
    assert_eq!(g.get(id).retry_count, 0);
    g.set(T0 + HOUR);
    let lease = g.claim("host-s", id);
    assert_eq!(g.q.retry(lease.key(), Report::default()), Ok(Status::Waiting));
}

#[test]
fn a_series_with_no_occurrence_left_ends_as_failed_not_succeeded() {
    let f = Fixture::new(store(), "series-exhausted");
    // Every 200000 months: the second occurrence would be past the year 9999.
    let id = series(&f, NORMAL_TYPE, "FREQ=MONTHLY;INTERVAL=200000");
    f.advance(1_000);
    let lease = f.claim("host-s", id);
    assert_eq!(f.q.complete(lease.key()), Ok(Status::Failed));
    let op = f.get(id);
    assert_eq!(pair(&op), (State::Completed, Status::Failed));
    assert_eq!(op.completed_on, Some(T0 + 1_000));
    assert_eq!(op.error_code, None);
    let message = op.message.unwrap_or_default();
    assert!(message.contains("no occurrence left"), "{message}");
    // Under Canceling the user's Cancel wins; a host's own failure keeps its words.
    let canceled = series(&f, NORMAL_TYPE, "FREQ=MONTHLY;INTERVAL=200000");
    let lease = f.claim("host-s", canceled);
    f.q.cancel(canceled).unwrap();
    assert_eq!(f.q.complete(lease.key()), Ok(Status::Canceled));
    let failed = series(&f, NORMAL_TYPE, "FREQ=MONTHLY;INTERVAL=200000");
    let lease = f.claim("host-s", failed);
    f.q.fail(lease.key(), Report::error(3, "own words")).unwrap();
    assert_eq!(f.get(failed).message.as_deref(), Some("own words"));
    // complete_many decides the same way.
    let batch = series(&f, NORMAL_TYPE, "FREQ=MONTHLY;INTERVAL=200000");
    let lease = f.claim("host-s", batch);
    assert_eq!(
        f.q.complete_many(&[lease.key()]).unwrap(),
        vec![Ok(Status::Failed)]
    );
}
