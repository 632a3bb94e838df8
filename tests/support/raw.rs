//! The only places where tests reach past `Queue` into the store, through
//! `Queue::store()` and `asyncop::store::*`. That API is about to move behind a
//! `#[doc(hidden)] asyncop::testing` module; when it does, only this file (and the
//! SQLite-only `tests/group_commit.rs`) changes.

use asyncop::transition::Change;
use asyncop::{LeaseKey, Operation, Queue};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The stored row as the store reads it (a snapshot for `stale_update`).
pub fn read_row(q: &Queue, id: i64) -> Option<Operation> {
    q.store().read(|c| asyncop::store::get(c, id)).unwrap()
}

/// Applies `change` to the snapshot `stale` with the store's compare-and-set
/// update; whether it wrote.
pub fn compare_and_set(q: &Queue, stale: &Operation, change: &Change, now: i64) -> bool {
    q.store()
        .write(|c| {
            let next = asyncop::store::next_row(stale, change, now, None);
            asyncop::store::update(c, stale, &next)
        })
        .unwrap()
}

/// Deletes the row if it still equals the snapshot `cur` (compare-and-delete);
/// whether it deleted.
pub fn compare_and_delete(q: &Queue, cur: &Operation) -> bool {
    q.store().write(|c| asyncop::store::delete(c, cur)).unwrap()
}

/// Inside one write transaction: starts `race` (which should block on the write
/// lock), waits 100 ms, then does what host `host`'s claim does at `now`: recovers
/// every expired lease and claims one operation with a lease until
/// `lease_expires_at`. Returns the claimed operation's key and `race`'s thread.
pub fn recover_and_claim_while<R: Send + 'static>(
    q: &Queue,
    host: &str,
    now: i64,
    lease_expires_at: i64,
    race: impl FnOnce() -> JoinHandle<R> + Send,
) -> (LeaseKey, JoinHandle<R>) {
    q.store()
        .write(|conn| {
            let raced = race();
            std::thread::sleep(Duration::from_millis(100));
            for row in asyncop::store::expired_leases(conn, now)? {
                let change = asyncop::transition::lease_expired(row.status, false).unwrap();
                let next = asyncop::store::next_row(&row, &change, now, None);
                assert!(asyncop::store::update(conn, &row, &next)?);
            }
            let claimed = asyncop::store::claim(conn, host, lease_expires_at, now, 1, None)?;
            assert_eq!(claimed.len(), 1);
            Ok((
                LeaseKey {
                    id: claimed[0].id,
                    lock_token: claimed[0].lock_token,
                },
                raced,
            ))
        })
        .unwrap()
}

/// Writes a queue-wide setting as stored text, bypassing every check.
pub fn set_setting(q: &Queue, key: &str, value: &str) {
    q.store()
        .write(|conn| asyncop::store::set_setting(conn, key, value))
        .unwrap();
}

/// The writer's (transactions, commands) so far (group commit).
pub fn writer_stats(q: &Queue) -> (u64, u64) {
    let stats = q.store().writer_stats();
    (stats.transactions, stats.commands)
}

/// SQLite only: runs `sql` in one write transaction of the store.
pub fn sqlite_execute(q: &Queue, sql: &str) {
    q.store()
        .write(|conn| {
            conn.execute_batch(sql)?;
            Ok(())
        })
        .unwrap();
}

/// SQLite only: inside one write transaction runs `sql` (if not empty), sends on
/// `ready`, and holds the write lock until `release` says so or `hold` passes.
pub fn sqlite_hold_write(
    q: &Queue,
    sql: &str,
    ready: mpsc::Sender<()>,
    release: mpsc::Receiver<()>,
    hold: Duration,
) {
    let sql = sql.to_owned();
    // `write` wants a `Send` closure (it may run on another thread): move the
    // receiver in rather than borrow it.
    q.store()
        .write(move |conn| {
            if !sql.is_empty() {
                conn.execute_batch(&sql)?;
            }
            ready.send(()).unwrap();
            let _ = release.recv_timeout(hold);
            Ok(())
        })
        .unwrap();
}
