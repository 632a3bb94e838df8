//! §2, §5 submit.

use super::*;

#[test]
fn submit_validates_its_arguments() {
    let f = Fixture::new(store(), "submit-validation");
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
    let f = Fixture::new(store(), "submit-many");
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
