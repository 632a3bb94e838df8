//! Held operation types (§6.7): claims of every handle skip them, their
//! operations keep their place and state, running ones are untouched, and a
//! release makes them claimable again in order and wakes waiting polls.

use super::*;

const HELD: i32 = 500;

fn poll_ids(q: &Queue, host: &str, options: &PollOptions) -> Vec<i64> {
    q.poll(host, options).unwrap().iter().map(|l| l.id).collect()
}

#[test]
fn claims_skip_a_held_type_until_it_is_released() {
    let f = Fixture::new(store(), "held-skip");
    let a = f.submit("a", HELD);
    let b = f.submit("b", NORMAL_TYPE);
    let c = f.submit("c", HELD);
    let d = f.submit("d", NORMAL_TYPE);
    f.q.hold_type(HELD).unwrap();
    assert_eq!(f.claim("h", b).id, b);
    let typed = PollOptions {
        operation_types: Some(vec![HELD]),
        ..PollOptions::default()
    };
    assert!(poll_ids(&f.q, "h", &typed).is_empty(), "a type filter does not get past it");
    assert_eq!(f.claim("h", d).id, d);
    assert!(f.poll("h").is_none());
    // Held operations keep their state and place.
    for id in [a, c] {
        assert_eq!((f.get(id).state, f.get(id).status), (State::Ready, Status::WaitingForResources));
    }
    f.q.release_type(HELD).unwrap();
    assert!(f.q.held_types().unwrap().is_empty());
    assert_eq!(f.claim("h", a).id, a);
    assert_eq!(f.claim("h", c).id, c);
}

#[test]
fn a_hold_from_another_handle_counts_at_once_and_is_idempotent() {
    let f = Fixture::new(store(), "held-other");
    let q2 = f.reopen(|_| {});
    let a = f.submit("a", HELD);
    q2.hold_type(HELD).unwrap();
    assert!(f.poll("h").is_none());
    f.advance(5_000);
    q2.hold_type(HELD).unwrap();
    q2.hold_type(RESTRICTED_TYPE).unwrap();
    let held = f.q.held_types().unwrap();
    assert_eq!(
        held.iter().map(|h| (h.operation_type, h.held_on)).collect::<Vec<_>>(),
        vec![(RESTRICTED_TYPE, T0 + 5_000), (HELD, T0)],
        "sorted by type; a second hold keeps the first time"
    );
    // counts show which groups are held.
    let b = f.submit("b", NORMAL_TYPE);
    let counts = f.q.counts().unwrap();
    let held_of = |t: i32| counts.iter().find(|r| r.operation_type == t).unwrap().held;
    assert!(held_of(HELD));
    assert!(!held_of(NORMAL_TYPE));
    // Releasing twice, or a type never held, changes nothing.
    f.q.release_type(HELD).unwrap();
    f.q.release_type(HELD).unwrap();
    f.q.release_type(12345).unwrap();
    assert_eq!(f.q.held_types().unwrap().len(), 1);
    assert_eq!(f.claim("h", a).id, a);
    assert_eq!(f.claim("h", b).id, b);
}

#[test]
fn running_operations_of_a_held_type_are_not_touched() {
    let f = Fixture::new(store(), "held-running");
    let a = f.submit("a", HELD);
    let b = f.submit("b", HELD);
    let lease = f.claim("h", a);
    f.q.hold_type(HELD).unwrap();
    assert_eq!(f.q.renew(lease.key()), Ok(Status::InProgress));
    assert_eq!(f.q.complete(lease.key()), Ok(Status::Succeeded));
    assert!(f.poll("h").is_none());
    // User actions work as usual on held operations.
    f.q.cancel(b).unwrap();
    assert_eq!(f.get(b).status, Status::Canceled);
}

#[test]
fn bad_arguments_and_closed_queues() {
    let f = Fixture::new(store(), "held-bad");
    for bad in [0, -1] {
        assert!(matches!(f.q.hold_type(bad), Err(Error::InvalidArgument(_))));
        assert!(matches!(f.q.release_type(bad), Err(Error::InvalidArgument(_))));
    }
    f.q.close();
    assert_eq!(f.q.hold_type(HELD), Err(Error::Closed));
    assert_eq!(f.q.release_type(HELD), Err(Error::Closed));
    assert_eq!(f.q.held_types(), Err(Error::Closed));
}

#[test]
fn a_waiting_poll_sleeps_on_held_work_and_wakes_on_release() {
    let f = Fixture::new(store(), "held-wait");
    let a = f.submit("a", HELD);
    f.q.hold_type(HELD).unwrap();
    // Only held work: the wait runs to its end.
    let started = Instant::now();
    let waited = PollOptions {
        wait: Some(Duration::from_millis(300)),
        ..PollOptions::default()
    };
    assert!(poll_ids(&f.q, "h", &waited).is_empty());
    assert!(started.elapsed() >= Duration::from_millis(300));
    // A release from another handle wakes a waiting poll.
    let q2 = f.reopen(|_| {});
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        q2.release_type(HELD).unwrap();
    });
    let started = Instant::now();
    let long = PollOptions {
        wait: Some(Duration::from_secs(20)),
        ..PollOptions::default()
    };
    assert_eq!(poll_ids(&f.q, "h", &long), vec![a]);
    let took = started.elapsed();
    releaser.join().unwrap();
    assert!(took >= Duration::from_millis(150) && took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn a_waiting_poll_on_held_work_does_not_spin() {
    if store() != support::Store::Sqlite {
        return; // The writer's counters are SQLite's; the rule is the same SQL.
    }
    let f = Fixture::new(store(), "held-spin");
    f.submit("a", HELD);
    f.q.hold_type(HELD).unwrap();
    assert!(f.poll("h").is_none()); // the first purge look is done
    let stats = |q: &Queue| asyncop::store::sqlite::testing::writer_stats(q).unwrap();
    let before = stats(&f.q);
    let waited = PollOptions {
        wait: Some(Duration::from_millis(300)),
        ..PollOptions::default()
    };
    assert!(poll_ids(&f.q, "h", &waited).is_empty());
    let after = stats(&f.q);
    assert!(
        after.transactions - before.transactions <= 1,
        "one claim transaction, then sleep: {before:?} -> {after:?}"
    );
}
