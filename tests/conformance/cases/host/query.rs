//! §11 queries and counts.

use super::*;

/// Six operations in known states:
///
/// | op  | name  | type | token | state/status                  |
/// |-----|-------|------|-------|-------------------------------|
/// | op1 | alpha | 1    | t1    | Completed/Succeeded at +1 s   |
/// | op2 | beta  | 2    |       | Ready/WaitingForResources     |
/// | op3 | alpha | 2    | t1    | Ready/WaitingForResources     |
/// | op4 | gamma | 1    |       | Suspended/Waiting (postponed) |
/// | op5 | alpha | 1    |       | Completed/Canceled at +2 s    |
/// | op6 | delta | 3    |       | Completed/Failed at +3 s      |
struct SixOperations {
    f: Fixture,
    op1: i64,
    op2: i64,
    op3: i64,
    op4: i64,
    op5: i64,
    op6: i64,
}

fn six_operations(test: &str) -> SixOperations {
    let f = Fixture::new(store(), test);
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
    SixOperations {
        f,
        op1,
        op2,
        op3,
        op4,
        op5,
        op6,
    }
}

impl SixOperations {
    /// The ids `filter` selects, in the order the query returns them.
    fn query_ids(&self, filter: Filter) -> Vec<i64> {
        self.f.q.query(&filter).unwrap().iter().map(|o| o.id).collect()
    }
}

#[test]
fn query_filters_by_state_and_status() {
    let s = six_operations("query-state-status");
    let SixOperations {
        op1,
        op2,
        op3,
        op4,
        op5,
        op6,
        ..
    } = s;
    let q = |filter: Filter| s.query_ids(filter);
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
            ..all
        }),
        vec![op4]
    );
}

#[test]
fn query_filters_by_type_exact_name_and_dependency_token() {
    let s = six_operations("query-type-name-token");
    let (op1, op3, op4, op5) = (s.op1, s.op3, s.op4, s.op5);
    let q = |filter: Filter| s.query_ids(filter);
    let all = Filter::default();
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
            ..all
        }),
        vec![op1, op3]
    );
}

#[test]
fn query_filters_by_completion_time_and_by_several_fields_at_once() {
    let s = six_operations("query-completed-before");
    let (op1, op5) = (s.op1, s.op5);
    let q = |filter: Filter| s.query_ids(filter);
    let all = Filter::default();
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
            ..all
        }),
        vec![op1, op5]
    );
}

#[test]
fn query_pages_by_after_id_limit_and_offset() {
    let s = six_operations("query-paging");
    let (op1, op2, op3, op4, op5, op6) = (s.op1, s.op2, s.op3, s.op4, s.op5, s.op6);
    let q = |filter: Filter| s.query_ids(filter);
    let all = Filter::default();
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
            ..all
        }),
        vec![op4, op5]
    );
}

/// Ready rows of several types, some waiting behind their dependency token:
/// a query by state Ready returns all of them in id order, and pages them
/// with limit, offset and after_id like any other query (the SQLite store
/// merges per-type walks and the blocked rows: schema version 5).
#[test]
fn query_of_ready_rows_merges_types_and_blocked_rows_in_id_order() {
    let f = Fixture::new(store(), "query-ready-merge");
    let head = f.submit_spec(OperationSpec::new("head", 5).dependency_token("t"));
    let lease = f.claim("h", head); // runs: the next two with "t" wait behind it
    let mut ready = Vec::new();
    for (i, token) in [None, Some("t"), None, Some("t"), None, None]
        .into_iter()
        .enumerate()
    {
        let operation_type = [7, 5, 9, 7, 5, 9][i];
        let spec = OperationSpec::new(format!("r{i}"), operation_type);
        ready.push(f.submit_spec(match token {
            Some(t) => spec.dependency_token(t),
            None => spec,
        }));
    }
    let q = |filter: Filter| -> Vec<i64> { f.q.query(&filter).unwrap().iter().map(|o| o.id).collect() };
    let all_ready = Filter {
        state: Some(State::Ready),
        ..Filter::default()
    };
    assert_eq!(q(all_ready.clone()), ready);
    assert_eq!(
        q(Filter {
            limit: Some(3),
            ..all_ready.clone()
        }),
        ready[..3].to_vec()
    );
    assert_eq!(
        q(Filter {
            limit: Some(2),
            offset: Some(3),
            ..all_ready.clone()
        }),
        ready[3..5].to_vec()
    );
    assert_eq!(
        q(Filter {
            after_id: Some(ready[1]),
            limit: Some(3),
            ..all_ready.clone()
        }),
        ready[2..5].to_vec()
    );
    assert_eq!(
        q(Filter {
            operation_type: Some(7),
            ..all_ready.clone()
        }),
        vec![ready[0], ready[3]]
    );
    assert_eq!(
        q(Filter {
            dependency_token: Some("t".into()),
            ..all_ready.clone()
        }),
        vec![ready[1], ready[3]]
    );
    // The head completes: its successor is Ready and unblocked; the query is the same.
    f.q.complete(lease.key()).unwrap();
    assert_eq!(q(all_ready), ready);
}

#[test]
fn query_refuses_an_impossible_pair_and_types_not_above_zero() {
    let s = six_operations("query-refused");
    let all = Filter::default();
    assert!(matches!(
        s.f.q.query(&Filter {
            state: Some(State::Ready),
            status: Some(Status::Waiting),
            ..all.clone()
        }),
        Err(Error::InvalidArgument(_))
    ));
    // §5: types are > 0, in a filter as in a submit (the C ABI's rule too).
    for bad in [0, -2] {
        assert!(matches!(
            s.f.q.query(&Filter {
                operation_type: Some(bad),
                ..all.clone()
            }),
            Err(Error::InvalidArgument(m)) if m.contains("operation_type must be > 0")
        ));
    }
}

#[test]
fn query_returns_full_records() {
    let s = six_operations("query-full-records");
    assert_eq!(
        s.f.q
            .query(&Filter {
                name: Some("gamma".into()),
                ..Filter::default()
            })
            .unwrap(),
        vec![s.f.get(s.op4)]
    );
}

#[test]
fn counts_group_by_state_status_and_type() {
    let s = six_operations("query-counts");
    let row = |state, status, operation_type, count| CountRow {
        state,
        status,
        operation_type,
        count,
        held: false,
    };
    assert_eq!(
        s.f.q.counts().unwrap(),
        vec![
            row(State::Ready, Status::WaitingForResources, 2, 2),
            row(State::Suspended, Status::Waiting, 1, 1),
            row(State::Completed, Status::Succeeded, 1, 1),
            row(State::Completed, Status::Failed, 3, 1),
            row(State::Completed, Status::Canceled, 1, 1),
        ]
    );
}
