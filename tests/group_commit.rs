//! SQLite store only: group commit is how the SQLite store shares its one writer; the
//! tests reach into it through `Queue::store()` (listed in `support/raw.rs`).
//!
//! Group commit (the write path of `store`): concurrent writes of one process
//! share a transaction, each in its own savepoint, and every caller is answered
//! after that transaction committed.
//!
//! The tests make a batch deterministically: a first write holds the writer
//! (its closure blocks on a channel) while the other threads queue behind it;
//! `Store::writes_waiting` says when they all have. Releasing the first write
//! hands the leadership to the first queued caller, which runs the whole queue
//! as one transaction.

mod support;

use asyncop::{Error, LeaseKey, OperationSpec, PollOptions, State, Status};
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};
use support::{Fixture, Store};

/// Waits until `n` writes are queued behind the blocked one.
fn wait_for_queue(f: &Fixture, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while asyncop::store::sqlite::testing::writes_waiting(&f.q).unwrap() < n {
        assert!(Instant::now() < deadline, "the writes never queued up");
        thread::yield_now();
    }
}

/// Runs `first` as a write that blocks until released, then returns the
/// release and a handle that answers when the blocked write returns.
fn block_writer(f: &Fixture) -> (mpsc::Sender<()>, thread::JoinHandle<()>) {
    let (held_tx, held_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let q = f.q.clone();
    let holder = thread::spawn(move || {
        asyncop::store::sqlite::testing::write(&q, move |_| {
            held_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            Ok(())
        })
        .unwrap();
    });
    held_rx.recv().unwrap();
    (release_tx, holder)
}

fn count_named(f: &Fixture, name: &str) -> i64 {
    asyncop::store::sqlite::testing::read(&f.q, |conn| {
        Ok(conn.query_row(
            "SELECT count(*) FROM operation WHERE name = ?1",
            [name],
            |r| r.get(0),
        )?)
    })
    .unwrap()
}

#[test]
fn one_failing_command_in_a_batch_leaves_the_others_committed() {
    let f = Fixture::new(Store::Sqlite, "gc_isolation");
    let ids: Vec<i64> = (0..10).map(|i| f.submit(&format!("op{i}"), 1)).collect();
    let leases = f.q.poll("host", &PollOptions::default().max(10)).unwrap();
    assert_eq!(leases.len(), 10);
    let before = asyncop::store::sqlite::testing::writer_stats(&f.q).unwrap();

    let (release, holder) = block_writer(&f);
    let mut threads = Vec::new();
    // Five good completions and five with a stale fencing token (LeaseLost).
    for (i, lease) in leases.iter().enumerate() {
        let q = f.q.clone();
        let key = if i % 2 == 0 {
            lease.key()
        } else {
            LeaseKey {
                id: lease.id,
                lock_token: lease.lock_token + 100,
            }
        };
        threads.push(thread::spawn(move || q.complete(key).map(|_| ())));
    }
    // A command that writes, then fails: its write must be undone, alone.
    {
        let q = f.q.clone();
        threads.push(thread::spawn(move || {
            asyncop::store::sqlite::testing::write(&q, |conn| {
                conn.execute(
                    "UPDATE operation SET name = 'failed-write' WHERE name = 'op0'",
                    [],
                )?;
                Err(Error::InvalidArgument("refused after writing".into()))
            })
        }));
    }
    // A command that writes, then panics: undone, and the panic reaches its caller.
    let (panicked_tx, panicked_rx) = mpsc::channel();
    {
        let q = f.q.clone();
        threads.push(thread::spawn(move || {
            let caught = panic::catch_unwind(AssertUnwindSafe(|| {
                asyncop::store::sqlite::testing::write(&q, |conn| -> asyncop::Result<()> {
                    conn.execute(
                        "UPDATE operation SET name = 'panicked-write' WHERE name = 'op1'",
                        [],
                    )?;
                    panic!("a bug in one command");
                })
            }));
            panicked_tx.send(caught.is_err()).unwrap();
            Ok(())
        }));
    }
    // A good submit in the same batch.
    {
        let q = f.q.clone();
        threads.push(thread::spawn(move || {
            q.submit(&OperationSpec::new("submitted-in-batch", 1))
                .map(|_| ())
        }));
    }
    wait_for_queue(&f, threads.len());
    release.send(()).unwrap();
    holder.join().unwrap();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();

    for (i, result) in results[..10].iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(result, &Ok(()), "completion {i}");
        } else {
            assert!(
                matches!(result, Err(Error::LeaseLost { .. })),
                "completion {i}: {result:?}"
            );
        }
    }
    assert!(matches!(results[10], Err(Error::InvalidArgument(_))));
    assert!(panicked_rx.recv().unwrap(), "the panic reached its caller");
    assert_eq!(results[12], Ok(()));

    for (i, &id) in ids.iter().enumerate() {
        let op = f.get(id);
        let expected = if i % 2 == 0 {
            (State::Completed, Status::Succeeded)
        } else {
            (State::Locked, Status::InProgress)
        };
        assert_eq!((op.state, op.status), expected, "op{i}");
        assert_eq!(
            op.name,
            format!("op{i}"),
            "a failed command's write survived"
        );
    }
    assert_eq!(count_named(&f, "failed-write"), 0);
    assert_eq!(count_named(&f, "panicked-write"), 0);
    assert_eq!(count_named(&f, "submitted-in-batch"), 1);

    // The blocked write and then the 13 queued commands: two transactions.
    let after = asyncop::store::sqlite::testing::writer_stats(&f.q).unwrap();
    assert_eq!(after.transactions - before.transactions, 2);
    assert_eq!(after.commands - before.commands, 14);
}

#[test]
fn a_batch_whose_transaction_cannot_start_answers_every_caller_with_the_error() {
    let f = Fixture::with(Store::Sqlite, "gc_busy", |o| {
        o.busy_timeout = Duration::from_millis(200)
    });
    let id = f.submit("op", 1);
    // Another connection (as another process would) holds the write lock.
    let other = rusqlite::Connection::open(f.target.sqlite_path()).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let q = f.q.clone();
            thread::spawn(move || q.cancel(id))
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), Err(Error::Busy));
    }
    other.execute_batch("ROLLBACK").unwrap();
    assert_eq!(f.get(id).status, Status::WaitingForResources);
    // The writer is usable again.
    f.q.cancel(id).unwrap();
    assert_eq!(f.get(id).status, Status::Canceled);
}

#[test]
fn complete_many_keeps_every_completion_that_holds() {
    let f = Fixture::new(Store::Sqlite, "gc_complete_many");
    let ids: Vec<i64> = (0..6).map(|i| f.submit(&format!("op{i}"), 1)).collect();
    let leases = f.q.poll("host", &PollOptions::default().max(6)).unwrap();
    let mut keys: Vec<LeaseKey> = leases.iter().map(|l| l.key()).collect();
    // One lease ended already, one key carries a stale token.
    f.q.complete(keys[2]).unwrap();
    keys[4].lock_token += 1;
    let before = asyncop::store::sqlite::testing::writer_stats(&f.q).unwrap();
    let results = f.q.complete_many(&keys).unwrap();
    assert_eq!(
        asyncop::store::sqlite::testing::writer_stats(&f.q)
            .unwrap()
            .transactions
            - before.transactions,
        1
    );
    for (i, result) in results.iter().enumerate() {
        if i == 2 || i == 4 {
            assert!(
                matches!(result, Err(Error::LeaseLost { id, .. }) if *id == ids[i]),
                "{i}: {result:?}"
            );
        } else {
            assert_eq!(result, &Ok(Status::Succeeded), "{i}");
        }
    }
    for (i, &id) in ids.iter().enumerate() {
        let expected = if i == 4 {
            Status::InProgress
        } else {
            Status::Succeeded
        };
        assert_eq!(f.get(id).status, expected, "op{i}");
    }
    assert_eq!(f.q.complete_many(&[]).unwrap(), Vec::new());
    assert!(matches!(
        f.q.complete_many(&[LeaseKey {
            id: 0,
            lock_token: 1
        }]),
        Err(Error::InvalidArgument(_))
    ));
    f.q.close();
    assert_eq!(f.q.complete_many(&keys[..1]), Err(Error::Closed));
}

#[test]
fn many_threads_share_transactions_and_lose_nothing() {
    let f = Fixture::new(Store::Sqlite, "gc_threads");
    let before = asyncop::store::sqlite::testing::writer_stats(&f.q).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let q = f.q.clone();
            thread::spawn(move || {
                (0..200)
                    .map(|i| {
                        q.submit(&OperationSpec::new(format!("t{t}-{i}"), 1))
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut ids: Vec<i64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1600);
    assert_eq!(f.all_ids(), ids);
    let stats = asyncop::store::sqlite::testing::writer_stats(&f.q).unwrap();
    assert_eq!(stats.commands - before.commands, 1600);
    eprintln!(
        "8 threads x 200 submits: {} transactions",
        stats.transactions - before.transactions
    );
}

/// On a FULL queue every write commits without SQLite's own fsync
/// (`synchronous = NORMAL`) and the store syncs the WAL after it (`wal_sync`),
/// except a non-durable progress report, which the next synced commit covers.
/// A NORMAL queue syncs nothing itself.
#[test]
fn a_full_queue_syncs_after_every_write_but_a_progress_report() {
    let f = Fixture::with(Store::Sqlite, "progress-sync", |o| {
        o.sqlite.durability = asyncop::Durability::Full;
    });
    use asyncop::store::sqlite::testing;
    let sync = |c: &rusqlite::Connection| -> asyncop::Result<i64> {
        Ok(c.query_row("PRAGMA synchronous", [], |r| r.get(0))?)
    };
    let normal = 1;
    let syncs = |q: &asyncop::Queue| testing::writer_stats(q).unwrap().wal_syncs;
    let before = syncs(&f.q);
    assert_eq!(testing::write_progress(&f.q, false, sync), Ok(normal));
    assert_eq!(syncs(&f.q), before, "a progress report is not synced");
    assert_eq!(testing::write(&f.q, sync), Ok(normal));
    assert_eq!(syncs(&f.q), before + 1, "a write is");
    assert_eq!(testing::write_progress(&f.q, true, sync), Ok(normal));
    assert_eq!(syncs(&f.q), before + 2, "so is a durable progress report");
    // Through the API: a progress report, then an ordinary write.
    let id = f.submit("x", 1);
    let lease = f.claim("h", id);
    let before = syncs(&f.q);
    f.q.report_progress(lease.key(), &asyncop::Progress::new(10, None))
        .unwrap();
    assert_eq!(syncs(&f.q), before);
    f.q.complete(lease.key()).unwrap();
    assert_eq!(syncs(&f.q), before + 1);
    // A queue opened at NORMAL syncs nothing itself.
    let g = Fixture::new(Store::Sqlite, "progress-sync-normal");
    assert_eq!(testing::write_progress(&g.q, true, sync), Ok(normal));
    g.submit("x", 1);
    assert_eq!(syncs(&g.q), 0);
}
