//! Auto-delete on success (§10): one-shot successes of `auto_delete_types`
//! are deleted in the completing transaction; Failed and Canceled are kept,
//! and recurring runs never trigger it.

use super::*;

const AUTO: i32 = 77;

fn fixture(test: &str) -> Fixture {
    Fixture::with(store(), test, |o| o.auto_delete_types = Some(vec![AUTO]))
}

#[test]
fn a_one_shot_success_of_a_listed_type_is_deleted() {
    let f = fixture("auto-delete");
    assert_eq!(f.q.settings().auto_delete_types, vec![AUTO]);
    let a = f.submit("a", AUTO);
    add_attempts(&f.q, a, 2);
    let lease = f.claim("h", a);
    assert_eq!(f.q.complete(lease.key()), Ok(Status::Succeeded));
    assert!(!exists(&f.q, a));
    assert_eq!(attempts(&f.q, a), 0);
    // A second report under the lease finds nothing.
    assert!(matches!(f.q.complete(lease.key()), Err(Error::LeaseLost { .. })));
    // Other types are kept.
    let b = succeeded(&f, "b");
    assert_eq!(f.get(b).status, Status::Succeeded);
}

#[test]
fn failed_and_canceled_rows_are_kept() {
    let f = fixture("auto-delete-kept");
    let failed = f.submit("failed", AUTO);
    let lease = f.claim("h", failed);
    f.q.fail(lease.key(), Report::default()).unwrap();
    let canceled = f.submit("canceled", AUTO);
    let lease = f.claim("h", canceled);
    f.q.cancel(canceled).unwrap();
    assert_eq!(f.q.acknowledge_cancel(lease.key()), Ok(Status::Canceled));
    let ready_canceled = f.submit("ready-canceled", AUTO);
    f.q.cancel(ready_canceled).unwrap();
    assert_eq!(f.get(failed).status, Status::Failed);
    assert_eq!(f.get(canceled).status, Status::Canceled);
    assert_eq!(f.get(ready_canceled).status, Status::Canceled);
}

#[test]
fn recurring_runs_never_trigger_it() {
    let f = fixture("auto-delete-recurring");
    let series = f.submit_spec(OperationSpec::new("series", AUTO).recurring("FREQ=HOURLY", None));
    let lease = f.claim("h", series);
    let status = f.q.complete(lease.key()).unwrap();
    assert!(exists(&f.q, series), "the series' row stays ({status:?})");
    assert_ne!(f.get(series).state, State::Completed);
}

#[test]
fn complete_many_deletes_only_the_listed_successes() {
    let f = fixture("auto-delete-many");
    let a = f.submit("a", AUTO);
    let b = f.submit("b", NORMAL_TYPE);
    let c = f.submit("c", AUTO);
    let leases = f.q.poll("h", &PollOptions { max: 3, ..PollOptions::default() }).unwrap();
    assert_eq!(leases.len(), 3);
    let keys: Vec<_> = leases.iter().map(|l| l.key()).collect();
    let results = f.q.complete_many(&keys).unwrap();
    assert_eq!(results, vec![Ok(Status::Succeeded); 3]);
    assert!(!exists(&f.q, a) && !exists(&f.q, c));
    assert_eq!(f.get(b).status, Status::Succeeded);
    // A repeated key in one batch is LeaseLost for the deleted row too.
    let d = f.submit("d", AUTO);
    let lease = f.claim("h", d);
    let results = f.q.complete_many(&[lease.key(), lease.key()]).unwrap();
    assert_eq!(results[0], Ok(Status::Succeeded));
    assert!(matches!(results[1], Err(Error::LeaseLost { .. })));
}
