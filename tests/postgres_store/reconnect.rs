//! Lost connections, a server away for a while, lost COMMIT replies and
//! deadlocks: a call rides through what it can and names what it cannot.

use super::proxy::Proxy;
use super::*;
use asyncop::{Error, OperationSpec, PollOptions, State, Status};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;

fn claim_one(q: &Queue) -> asyncop::Lease {
    let leases = q.poll("host-a", &PollOptions::default()).unwrap();
    assert_eq!(leases.len(), 1, "one operation claimable");
    leases.into_iter().next().unwrap()
}

#[test]
fn a_lost_commit_reply_is_resolved_not_repeated() {
    let proxy = Proxy::start(server_addr());
    let schema = fresh_schema("lost_reply");
    let q = Queue::open(
        url_via(proxy.addr(), &schema),
        options(Duration::from_secs(20)),
    )
    .unwrap();
    let seen = direct(&schema);

    // A submit whose COMMIT landed but whose reply was lost: one row, not two.
    proxy.lose_commit_replies(1);
    let id = q.submit(&OperationSpec::new("once", 100)).unwrap();
    assert_eq!(proxy.lost(), 1);
    assert_eq!(seen.query(&asyncop::Filter::default()).unwrap().len(), 1);
    assert_eq!(
        seen.retrieve(id).unwrap().status,
        Status::WaitingForResources
    );

    // A complete whose reply was lost answers Succeeded, not LeaseLost.
    let lease = claim_one(&q);
    proxy.lose_commit_replies(1);
    assert_eq!(q.complete(lease.key()).unwrap(), Status::Succeeded);
    assert_eq!(proxy.lost(), 2);
    let op = seen.retrieve(id).unwrap();
    assert_eq!((op.state, op.status), (State::Completed, Status::Succeeded));
    assert_eq!(op.lock_token, lease.lock_token);

    // A user action likewise: Cancel lands once.
    let id2 = q.submit(&OperationSpec::new("cancel-me", 100)).unwrap();
    proxy.lose_commit_replies(1);
    q.cancel(id2).unwrap();
    assert_eq!(proxy.lost(), 3);
    assert_eq!(seen.retrieve(id2).unwrap().status, Status::Canceled);
}

#[test]
fn connections_cut_between_calls_come_back() {
    let proxy = Proxy::start(server_addr());
    let schema = fresh_schema("cut");
    let q = Queue::open(
        url_via(proxy.addr(), &schema),
        options(Duration::from_secs(20)),
    )
    .unwrap();
    for round in 0..5 {
        let id = q.submit(&OperationSpec::new("cut", 100)).unwrap();
        proxy.cut_all();
        let lease = claim_one(&q);
        assert_eq!(lease.id, id, "round {round}");
        proxy.cut_all();
        assert_eq!(q.complete(lease.key()).unwrap(), Status::Succeeded);
    }
    let counts = q.counts().unwrap();
    let done: i64 = counts
        .iter()
        .filter(|c| c.status == Status::Succeeded)
        .map(|c| c.count)
        .sum();
    assert_eq!(done, 5);
}

#[test]
fn a_waiting_poll_survives_its_listener_being_cut() {
    let proxy = Proxy::start(server_addr());
    let schema = fresh_schema("listener");
    let q = Queue::open(
        url_via(proxy.addr(), &schema),
        options(Duration::from_secs(20)),
    )
    .unwrap();
    let waiter = {
        let q = q.clone();
        thread::spawn(move || {
            let wait = PollOptions::default().wait(Duration::from_secs(20));
            q.poll("host-w", &wait).unwrap()
        })
    };
    thread::sleep(Duration::from_millis(300));
    proxy.cut_all();
    thread::sleep(Duration::from_millis(300));
    let id = direct(&schema)
        .submit(&OperationSpec::new("after-cut", 100))
        .unwrap();
    let leases = waiter.join().unwrap();
    assert_eq!(leases.iter().map(|l| l.id).collect::<Vec<_>>(), [id]);
}

#[test]
fn a_server_back_within_the_retry_window_goes_unnoticed() {
    let proxy = Arc::new(Proxy::start(server_addr()));
    let schema = fresh_schema("back");
    let q = Queue::open(
        url_via(proxy.addr(), &schema),
        options(Duration::from_secs(20)),
    )
    .unwrap();
    proxy.refuse(true);
    proxy.cut_all();
    let back = {
        let proxy = proxy.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(1_500));
            proxy.refuse(false);
        })
    };
    let started = Instant::now();
    let id = q.submit(&OperationSpec::new("waited", 100)).unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(1_000),
        "it waited for the server"
    );
    back.join().unwrap();
    assert_eq!(
        direct(&schema).retrieve(id).unwrap().status,
        Status::WaitingForResources
    );
}

#[test]
fn a_server_away_longer_than_the_retry_window_is_an_io_error() {
    let proxy = Proxy::start(server_addr());
    let schema = fresh_schema("away");
    let q = Queue::open(
        url_via(proxy.addr(), &schema),
        options(Duration::from_millis(800)),
    )
    .unwrap();
    proxy.refuse(true);
    proxy.cut_all();
    let started = Instant::now();
    let e = q.submit(&OperationSpec::new("never", 100)).unwrap_err();
    assert!(matches!(e, Error::Io(_)), "{e:?}");
    assert!(e.to_string().contains(&proxy.addr().to_string()), "{e}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        direct(&schema)
            .query(&asyncop::Filter::default())
            .unwrap()
            .is_empty()
    );
    // And back: the same handle works again.
    proxy.refuse(false);
    q.submit(&OperationSpec::new("later", 100)).unwrap();
}

#[test]
fn a_deadlock_victim_runs_again() {
    let schema = fresh_schema("deadlock");
    let q = direct(&schema);
    let a = q.submit(&OperationSpec::new("a", 100)).unwrap();
    let b = q.submit(&OperationSpec::new("b", 100)).unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let meet = Arc::new(Barrier::new(2));
    // Two transactions lock the rows in opposite orders: the server kills one,
    // and the store runs it again, so both calls succeed.
    let lockers: Vec<_> = [(a, b), (b, a)]
        .into_iter()
        .map(|(first, second)| {
            let (q, runs, meet) = (q.clone(), runs.clone(), meet.clone());
            thread::spawn(move || {
                asyncop::testing::write(&q, |tx| {
                    let run = runs.fetch_add(1, Ordering::SeqCst);
                    tx.get(first)?;
                    if run < 2 {
                        meet.wait();
                    }
                    tx.get(second)?;
                    Ok(())
                })
            })
        })
        .collect();
    for l in lockers {
        l.join().unwrap().unwrap();
    }
    assert_eq!(runs.load(Ordering::SeqCst), 3, "one transaction ran twice");
}
