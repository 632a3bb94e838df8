//! §6.4 promotion of postponed operations.

use super::*;

/// A future start gives 1/10 (P2); it is not claimable before, is claimable once due
/// (promotion inside the claim), reads do not promote, and it keeps its FIFO place.
#[test]
fn postponed_operations_are_promoted_by_claims_and_keep_their_place() {
    let f = Fixture::new(store(), "promotion");
    let x = f.submit_spec(OperationSpec::new("x", NORMAL_TYPE).postpone_until(T0 + 10_000));
    let op = f.get(x);
    assert_eq!(pair(&op), (State::Suspended, Status::Waiting));
    assert_eq!(op.postpone_until, Some(T0 + 10_000));
    assert!(f.poll("h").is_none());
    f.set(T0 + 5_000);
    let y = f.submit("y", NORMAL_TYPE);
    assert!(y > x);
    f.set(T0 + 9_999);
    f.claim("h", y);
    let z = f.submit("z", NORMAL_TYPE);
    f.set(T0 + 10_000);
    // Due, but reads do not promote.
    assert_eq!(f.get(x), op);
    let suspended = Filter {
        state: Some(State::Suspended),
        ..Filter::default()
    };
    assert_eq!(f.q.query(&suspended).unwrap(), vec![op.clone()]);
    // The claim promotes it, and its id puts it ahead of z.
    let lx = f.claim("h", x);
    assert_eq!(lx.attempt, 1);
    let claimed = f.get(x);
    assert_eq!(claimed.postpone_until, None);
    assert_eq!(claimed.started_on, Some(T0 + 10_000));
    assert_eq!(claimed.modified_on, T0 + 10_000, "a claim is a change");
    assert_eq!(claimed.created_on, T0);
    f.claim("h", z);

    // run_maintenance promotes as well, without claiming.
    let w = f.submit_spec(OperationSpec::new("w", NORMAL_TYPE).postpone_until(T0 + 20_000));
    f.set(T0 + 20_000);
    assert_eq!(pair(&f.get(w)), (State::Suspended, Status::Waiting));
    assert_eq!(
        f.q.run_maintenance(),
        Ok(MaintenanceReport {
            recovered: 0,
            poisoned: 0,
            promoted: 1
        })
    );
    let promoted = f.get(w);
    assert_eq!(pair(&promoted), (State::Ready, Status::WaitingForResources));
    assert_eq!(promoted.postpone_until, None);
    assert_eq!(promoted.modified_on, T0 + 20_000);
    assert_eq!(promoted.id, w);
}
