//! The only places where tests reach past `Queue` into the store: the
//! storage interface's commands through `asyncop::testing` (every store), and
//! SQLite's own hooks through `asyncop::store::sqlite::testing` (SQLite only).

use asyncop::store::ClaimRequest;
use asyncop::transition::{self, Change, ClaimMove};
use asyncop::{LeaseKey, Operation, Queue};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The stored row as the store reads it (a snapshot for `compare_and_set`).
pub fn read_row(q: &Queue, id: i64) -> Option<Operation> {
    asyncop::testing::read(q, |tx| tx.get(id)).unwrap()
}

/// Applies `change` to the snapshot `stale` with the store's compare-and-set
/// update; whether it wrote.
pub fn compare_and_set(q: &Queue, stale: &Operation, change: &Change, now: i64) -> bool {
    asyncop::testing::write(q, |tx| {
        let next = transition::apply(stale, change, now, None);
        tx.update(stale, &next)
    })
    .unwrap()
}

/// Deletes the row if it still equals the snapshot `cur` (compare-and-delete);
/// whether it deleted.
pub fn compare_and_delete(q: &Queue, cur: &Operation) -> bool {
    asyncop::testing::write(q, |tx| tx.delete(cur)).unwrap()
}

/// Inside one write transaction: finds the expired leases (which locks those
/// rows on a store with row locks; SQLite's write transaction locks everything
/// from its start), starts `race` (which must then block on that lock), waits
/// 100 ms, then does what host `host`'s claim does at `now`: recovers those
/// leases and claims one operation with a lease of `lease_ms`.
/// Returns the claimed operation's key and `race`'s thread.
pub fn recover_and_claim_while<R: Send + 'static>(
    q: &Queue,
    host: &str,
    now: i64,
    lease_ms: i64,
    race: impl FnOnce() -> JoinHandle<R> + Send,
) -> (LeaseKey, JoinHandle<R>) {
    // A store may rerun a transaction body: `race` starts once, in the first run.
    let mut race = Some(race);
    asyncop::testing::write(q, |tx| {
        let expired = tx.expired_leases(now, u32::MAX)?;
        let raced = race.take().expect("the racing transaction ran twice")();
        std::thread::sleep(Duration::from_millis(100));
        for row in expired {
            let change = transition::lease_expired(row.status, false).unwrap();
            let next = transition::apply(&row, &change, now, None);
            assert!(tx.update(&row, &next)?);
        }
        let change = ClaimMove::new(host, now, lease_ms);
        let claimed = tx.claim(&ClaimRequest {
            change: &change,
            max: 1,
            types: None,
            store_clock: false,
        })?;
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
    asyncop::testing::write(q, |tx| tx.set_setting(key, value)).unwrap();
}

/// The SQLite writer's (transactions, commands) so far (group commit); `None`
/// on a store without a group-commit writer.
pub fn writer_stats(q: &Queue) -> Option<(u64, u64)> {
    let stats = asyncop::store::sqlite::testing::writer_stats(q).ok()?;
    Some((stats.transactions, stats.commands))
}

/// SQLite only: runs `sql` in one write transaction of the store.
pub fn sqlite_execute(q: &Queue, sql: &str) {
    asyncop::store::sqlite::testing::write(q, |conn| {
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
    asyncop::store::sqlite::testing::write(q, move |conn| {
        if !sql.is_empty() {
            conn.execute_batch(&sql)?;
        }
        ready.send(()).unwrap();
        let _ = release.recv_timeout(hold);
        Ok(())
    })
    .unwrap();
}
