//! The hourly purge that polls run after their claim (§10), by the store's
//! clock (here the manual clock), and only by the leader on a shared store.

use super::*;

fn short_retention(o: &mut asyncop::Options) {
    o.retention_canceled = Some(Retention::After(Duration::from_millis(MINUTE as u64)));
}

#[test]
fn polls_purge_at_most_hourly() {
    let f = Fixture::with(store(), "purge-hourly", short_retention);
    // A new queue was never purged: the first poll starts one at once.
    assert_eq!(last_purge_at(&f.q), 0);
    let a = canceled(&f, "a");
    assert!(f.poll("h").is_none());
    assert_eq!(last_purge_at(&f.q), T0);
    assert!(exists(&f.q, a), "not yet older than its retention");
    // Due by retention, but the last purge is only 30 minutes old.
    f.advance(30 * MINUTE);
    assert!(f.poll("h").is_none());
    assert!(exists(&f.q, a));
    assert_eq!(last_purge_at(&f.q), T0);
    // An hour after the last purge, the next poll purges (after its claim:
    // the work it claims is claimed first).
    f.advance(30 * MINUTE);
    let work = f.submit("work", NORMAL_TYPE);
    let lease = f.claim("h", work);
    f.q.complete(lease.key()).unwrap();
    assert!(!exists(&f.q, a));
    assert_eq!(last_purge_at(&f.q), T0 + HOUR);
    // Anyone may purge at any time.
    let b = canceled(&f, "b");
    f.advance(2 * MINUTE);
    assert!(f.poll("h").is_none());
    assert!(exists(&f.q, b));
    assert_eq!(f.q.purge(f.now()).unwrap(), 1);
}

#[test]
fn another_handle_sees_the_last_purge() {
    let f = Fixture::with(store(), "purge-shared", short_retention);
    assert!(f.poll("h").is_none());
    let a = canceled(&f, "a");
    f.advance(10 * MINUTE);
    // A second handle (another process of the host, say) polls: not due for
    // the queue.
    let q2 = f.reopen(|_| {});
    assert!(q2.poll("h", &PollOptions::default()).unwrap().is_empty());
    assert!(exists(&f.q, a));
    f.advance(HOUR);
    assert!(q2.poll("h", &PollOptions::default()).unwrap().is_empty());
    assert!(!exists(&f.q, a));
}

#[test]
fn cleanup_disabled_never_purges_from_polls() {
    let f = Fixture::with(store(), "purge-disabled", |o| {
        short_retention(o);
        o.cleanup_enabled = Some(false);
    });
    assert!(!f.q.settings().cleanup_enabled);
    let a = canceled(&f, "a");
    f.advance(3 * HOUR);
    assert!(f.poll("h").is_none());
    assert!(exists(&f.q, a));
    assert_eq!(last_purge_at(&f.q), 0);
    // The call itself still works.
    assert_eq!(f.q.purge(f.now()).unwrap(), 1);
}

#[test]
fn on_a_shared_store_only_the_leader_purges() {
    let f = Fixture::with(store(), "purge-leader", short_retention);
    let a = canceled(&f, "a");
    f.advance(2 * MINUTE);
    // Another host leads the purge.
    assert!(f.q.try_lead(asyncop::queue::PURGE_LEADERSHIP, "other", Duration::from_secs(7200)).unwrap());
    assert!(f.poll("h").is_none());
    match store() {
        // One machine: no leadership needed.
        support::Store::Sqlite => assert!(!exists(&f.q, a)),
        // Shared by hosts: "h" does not lead, so it leaves the purge to "other".
        support::Store::Postgres => {
            assert!(exists(&f.q, a));
            assert_eq!(last_purge_at(&f.q), 0);
            // "other" polls and purges (this handle looks again a minute
            // later), keeping the leadership.
            f.advance(MINUTE);
            assert!(f.q.poll("other", &PollOptions::default()).unwrap().is_empty());
            assert!(!exists(&f.q, a));
            assert!(!f.q.try_lead(asyncop::queue::PURGE_LEADERSHIP, "h", Duration::from_secs(1)).unwrap());
        }
    }
}

#[test]
fn a_poll_spreads_a_large_purge_over_later_polls() {
    let f = Fixture::with(store(), "purge-spread", short_retention);
    let specs: Vec<_> = (0..1200)
        .map(|i| OperationSpec::new(format!("c{i}"), NORMAL_TYPE))
        .collect();
    for id in f.q.submit_many(&specs).unwrap() {
        f.q.cancel(id).unwrap();
    }
    f.advance(2 * MINUTE);
    // However the batches fall between polls, a few polls finish the purge.
    for _ in 0..10 {
        assert!(f.poll("h").is_none());
    }
    assert!(f.all_ids().is_empty());
}
