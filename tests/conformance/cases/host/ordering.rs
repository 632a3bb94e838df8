//! §6.1, §7: claim order and dependency tokens.

use super::*;

/// The §7 example: A, B, C share a token; B is postponed. A runs; C waits until B has
/// become due, run and completed.
#[test]
fn dependency_token_example_of_section_7() {
    let f = Fixture::new(store(), "token-example");
    let a = f.submit_spec(OperationSpec::new("A", NORMAL_TYPE).dependency_token("tok"));
    let b = f.submit_spec(
        OperationSpec::new("B", NORMAL_TYPE)
            .dependency_token("tok")
            .postpone_until(T0 + 60_000),
    );
    let c = f.submit_spec(OperationSpec::new("C", NORMAL_TYPE).dependency_token("tok"));
    assert_eq!(pair(&f.get(b)), (State::Suspended, Status::Waiting));
    let la = f.claim("h", a);
    assert!(f.poll("h").is_none(), "C is blocked by A and B");
    f.q.complete(la.key()).unwrap();
    assert!(f.poll("h").is_none(), "C is blocked by the postponed B");
    assert_eq!(
        pair(&f.get(c)),
        (State::Ready, Status::WaitingForResources),
        "a blocked operation stays 0/0"
    );
    f.set(T0 + 60_000);
    let lb = f.claim("h", b);
    assert!(f.poll("h").is_none(), "C is blocked by the running B");
    f.q.complete(lb.key()).unwrap();
    f.claim("h", c);
}

/// Completed with any status releases the successor; Ready, Suspended (paused,
/// postponed, backing off) and Locked predecessors block it (§7).
#[test]
fn completed_predecessors_release_and_unfinished_ones_block() {
    let f = Fixture::new(store(), "token-release");
    // Three chains whose first link ends Succeeded, Failed and Canceled (by a host).
    let mut seconds = Vec::new();
    for (i, outcome) in ["succeeded", "failed", "canceled"].into_iter().enumerate() {
        let tok = format!("chain-{i}");
        let first = f.submit_spec(OperationSpec::new(outcome, NORMAL_TYPE).dependency_token(&tok));
        let second = f.submit_spec(OperationSpec::new("next", NORMAL_TYPE).dependency_token(&tok));
        let lease = f.claim("h", first);
        assert!(f.poll("h").is_none(), "a Locked predecessor blocks");
        let key = lease.key();
        match outcome {
            "succeeded" => assert_eq!(f.q.complete(key), Ok(Status::Succeeded)),
            "failed" => assert_eq!(f.q.fail(key, Report::default()), Ok(Status::Failed)),
            _ => assert_eq!(f.q.acknowledge_cancel(key), Ok(Status::Canceled)),
        }
        let l2 = f.claim("h", second);
        f.q.complete(l2.key()).unwrap();
        seconds.push(second);
    }
    // A user Cancel of a waiting predecessor releases too.
    let first = f.submit_spec(OperationSpec::new("first", NORMAL_TYPE).dependency_token("u"));
    let second = f.submit_spec(OperationSpec::new("second", NORMAL_TYPE).dependency_token("u"));
    f.q.postpone(first, T0 + 1_000_000).unwrap();
    assert!(f.poll("h").is_none(), "a postponed predecessor blocks");
    f.q.cancel(first).unwrap();
    let l = f.claim("h", second);
    f.q.complete(l.key()).unwrap();

    // A paused predecessor (1/10, pu null) blocks until resumed, run and completed.
    let p1 = f.submit_spec(OperationSpec::new("p1", NORMAL_TYPE).dependency_token("p"));
    let p2 = f.submit_spec(OperationSpec::new("p2", NORMAL_TYPE).dependency_token("p"));
    let l1 = f.claim("h", p1);
    f.q.pause(p1).unwrap();
    assert_eq!(f.q.acknowledge_pause(l1.key()), Ok(Status::Waiting));
    assert!(f.poll("h").is_none(), "a paused predecessor blocks");
    f.advance(3_600_000);
    assert!(f.poll("h").is_none(), "still blocked an hour later");
    // A predecessor backing off after Retry (1/10 with pu) blocks until it completes.
    f.q.resume(p1).unwrap();
    let l1 = f.claim("h", p1);
    assert_eq!(f.q.retry(l1.key(), Report::default()), Ok(Status::Waiting));
    assert!(f.poll("h").is_none(), "a predecessor backing off blocks");
    f.advance(5_000);
    let l1 = f.claim("h", p1);
    // A predecessor stopped by a suspend-class failure blocks.
    assert_eq!(
        f.q.suspend(l1.key(), Report::default()),
        Ok(Status::Waiting)
    );
    assert!(f.poll("h").is_none(), "a suspended predecessor blocks");
    f.q.resume(p1).unwrap();
    // Ready predecessor: it goes first (FIFO), the successor still waits.
    let l1 = f.claim("h", p1);
    assert!(f.poll("h").is_none());
    f.q.complete(l1.key()).unwrap();
    f.claim("h", p2);
}

/// FIFO by id among eligible operations; no token means independent; several claims
/// come back in id order (§6.1).
#[test]
fn claims_are_fifo_among_eligible_operations() {
    let f = Fixture::new(store(), "fifo");
    let a = f.submit_spec(OperationSpec::new("a", NORMAL_TYPE).dependency_token("t1"));
    let b = f.submit_spec(OperationSpec::new("b", NORMAL_TYPE).dependency_token("t1"));
    let c = f.submit_spec(OperationSpec::new("c", NORMAL_TYPE).dependency_token("t2"));
    let d = f.submit("d", NORMAL_TYPE);
    let e = f.submit("e", NORMAL_TYPE);
    let g = f.submit_spec(OperationSpec::new("g", NORMAL_TYPE).dependency_token("t2"));
    let leases = f.q.poll("h", &PollOptions::default().max(10)).unwrap();
    assert_eq!(ids(&leases), vec![a, c, d, e], "b and g wait for a and c");
    assert!(f.poll("h").is_none());
    // Independent operations finish in any order; only tokens order them.
    f.q.complete(leases[3].key()).unwrap();
    f.q.complete(leases[1].key()).unwrap();
    assert_eq!(
        ids(&f.q.poll("h", &PollOptions::default().max(10)).unwrap()),
        vec![g]
    );
    f.q.complete(leases[0].key()).unwrap();
    f.claim("h", b);
    // Five independent ones, claimed one at a time, in id order.
    let many: Vec<i64> = (0..5)
        .map(|i| f.submit(&format!("m{i}"), NORMAL_TYPE))
        .collect();
    let claimed: Vec<i64> = (0..5).map(|_| f.poll("h").unwrap().id).collect();
    assert_eq!(claimed, many);
}

/// A claim limited to some types skips the others, which keep their place (§6.1).
#[test]
fn a_type_filter_skips_other_types_which_keep_their_place() {
    let f = Fixture::new(store(), "type-filter");
    let x1 = f.submit("x1", 1);
    let y1 = f.submit("y1", 2);
    let x2 = f.submit("x2", 1);
    let y2 = f.submit("y2", 2);
    let only_2 = PollOptions::default().operation_types([2]);
    assert_eq!(ids(&f.q.poll("h", &only_2).unwrap()), vec![y1]);
    let only_3 = PollOptions::default().operation_types([3]).max(5);
    assert!(f.q.poll("h", &only_3).unwrap().is_empty());
    assert_eq!(
        pair(&f.get(x1)),
        (State::Ready, Status::WaitingForResources)
    );
    f.claim("h", x1);
    assert_eq!(
        ids(&f.q.poll("h", &PollOptions::default().max(5)).unwrap()),
        vec![x2, y2]
    );
    // A type filter never lets an operation jump its token's order (§7): the
    // predecessor of another type still blocks it.
    let first = f.submit_spec(OperationSpec::new("first", 1).dependency_token("k"));
    let second = f.submit_spec(OperationSpec::new("second", 2).dependency_token("k"));
    assert!(f.q.poll("h", &only_2).unwrap().is_empty());
    let l = f.claim("h", first);
    assert!(f.q.poll("h", &only_2).unwrap().is_empty());
    f.q.complete(l.key()).unwrap();
    assert_eq!(ids(&f.q.poll("h", &only_2).unwrap()), vec![second]);
}

/// A deleted predecessor releases its successors (§7: "Completed or deleted").
#[test]
fn a_deleted_predecessor_releases_its_successors() {
    let f = Fixture::with(store(), "token-deleted", |o| o.allow_delete_any = Some(true));
    let a = f.submit_spec(OperationSpec::new("a", NORMAL_TYPE).dependency_token("d"));
    let b = f.submit_spec(OperationSpec::new("b", NORMAL_TYPE).dependency_token("d"));
    f.q.postpone(a, T0 + 1_000_000).unwrap();
    assert!(f.poll("h").is_none());
    f.q.delete(a).unwrap();
    f.claim("h", b);
}

/// Host ids are text of at most 256 characters (§5).
#[test]
fn poll_validates_the_host_id() {
    let f = Fixture::new(store(), "host-id");
    let id = f.submit("x", NORMAL_TYPE);
    let long = "h".repeat(257);
    assert!(matches!(
        f.q.poll(&long, &PollOptions::default()),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(
        pair(&f.get(id)),
        (State::Ready, Status::WaitingForResources)
    );
    let ok = "ħ".repeat(256);
    let lease = f.claim(&ok, id);
    assert_eq!(lease.host_id, ok);
    assert_eq!(f.get(id).host_id, Some(ok));
}
