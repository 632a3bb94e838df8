//! §11 queries and counts.

use super::*;

#[test]
fn query_filters_and_counts() {
    let f = Fixture::new(store(), "query");
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
    // §5: types are > 0, in a filter as in a submit (the C ABI's rule too).
    for bad in [0, -2] {
        assert!(matches!(
            f.q.query(&Filter {
                operation_type: Some(bad),
                ..all.clone()
            }),
            Err(Error::InvalidArgument(m)) if m.contains("operation_type must be > 0")
        ));
    }
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
