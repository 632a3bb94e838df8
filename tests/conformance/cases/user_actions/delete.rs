//! §4 Delete and §10: refused unless Completed by default; ids are never reused.

use super::*;

/// Without `allow_delete_any` (the default), the setting is off in a new file.
#[test]
fn delete_is_refused_unless_completed_by_default() {
    let f = Fixture::new(store(), "delete-default");
    assert!(!f.q.settings().allow_delete_any);
    let id = f.submit("x", NORMAL_TYPE);
    let before = f.get(id);
    f.advance(STEP);
    let err = f.q.delete(id).unwrap_err();
    assert_eq!(err, Error::CannotDeleteUnlessCompleted);
    assert_eq!(err.hresult(), Some(0x8004_416a_u32 as i32));
    assert_eq!(
        err.to_string(),
        "Cannot delete async operation unless it is in Completed state."
    );
    assert_eq!(f.get(id), before);
}

/// U10 removes the row; ids are never reused, not even the highest one after its
/// delete, and not after reopening the file (§5).
#[test]
fn delete_removes_the_row_and_ids_are_never_reused() {
    let f = Fixture::new(store(), "ids-never-reused");
    let a = f.submit("a", NORMAL_TYPE);
    let b = f.submit("b", NORMAL_TYPE);
    let c = f.submit("c", NORMAL_TYPE);
    assert!(a > 0 && a < b && b < c, "ids {a} {b} {c}");
    for id in [a, b, c] {
        f.q.cancel(id).unwrap();
    }
    f.advance(STEP);
    f.q.delete(c).unwrap();
    assert_eq!(f.q.retrieve(c), Err(Error::NotFound { id: c }));
    assert_eq!(f.q.delete(c), Err(Error::NotFound { id: c }));
    assert_eq!(f.all_ids(), vec![a, b]);
    let d = f.submit("d", NORMAL_TYPE);
    assert!(d > c, "id {d} reuses or precedes the deleted id {c}");
    f.q.cancel(d).unwrap();
    f.q.delete(d).unwrap();
    f.q.delete(b).unwrap();
    f.q.delete(a).unwrap();
    assert!(f.all_ids().is_empty());
    f.q.close();
    let q = f.reopen(|_| {});
    let e = q.submit(&OperationSpec::new("e", NORMAL_TYPE)).unwrap();
    assert!(e > d, "id {e} after reopening reuses or precedes {d}");
}
