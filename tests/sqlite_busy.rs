//! SQLite store only: a write lock held by another SQLite connection on the same
//! file. When the write lock is not obtained within the busy timeout a call returns
//! Busy (retryable) and nothing changes (§4 last step, §6.6). Moved here from the
//! user-action tests because it opens the file with rusqlite.

mod support;

use asyncop::{Error, OperationSpec, Status};
use support::{Fixture, NORMAL_TYPE, Store};

/// How long the clock moves between setting up and acting.
const STEP: i64 = 1_000;

/// §4 last step, §6.6: when the write lock is not obtained within the busy timeout the
/// call returns Busy (retryable) and nothing changes; reads still work meanwhile.
#[test]
fn a_held_write_lock_gives_busy_and_changes_nothing() {
    let f = Fixture::with(Store::Sqlite, "busy", |o| {
        o.busy_timeout = std::time::Duration::from_millis(100)
    });
    let id = f.submit("x", NORMAL_TYPE);
    let before = f.get(id);
    f.advance(STEP);
    let blocker = rusqlite::Connection::open(f.target.sqlite_path()).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    assert_eq!(f.q.cancel(id), Err(Error::Busy));
    assert_eq!(f.q.postpone(id, f.now() + 1_000), Err(Error::Busy));
    assert_eq!(
        f.q.submit(&OperationSpec::new("y", NORMAL_TYPE))
            .map(|_| ()),
        Err(Error::Busy)
    );
    assert!(Error::Busy.is_retryable());
    assert_eq!(f.get(id), before, "reads work and nothing changed");
    // Refusals decided before the write still come first.
    assert!(matches!(
        f.q.resume(id),
        Err(Error::InvalidStateChangeToReady(_))
    ));
    blocker.execute_batch("ROLLBACK").unwrap();
    drop(blocker);
    f.q.cancel(id).unwrap();
    assert_eq!(f.get(id).status, Status::Canceled);
    assert_eq!(f.all_ids(), vec![id]);
}
