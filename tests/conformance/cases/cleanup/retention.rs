//! `purge(now)`: per-status retention, "none", batches, attempt rows.

use super::*;

#[test]
fn purge_deletes_completed_rows_older_than_their_status_retention() {
    let f = Fixture::new(store(), "purge-retention");
    let s = succeeded(&f, "s");
    let fl = failed(&f, "f");
    let c = canceled(&f, "c");
    let ready = f.submit("ready", NORMAL_TYPE);
    let paused = f.submit_spec(OperationSpec::new("later", NORMAL_TYPE).postpone_until(T0 + DAY));
    // Exactly at the retention nothing is older than it.
    assert_eq!(f.q.purge(T0 + 30 * DAY).unwrap(), 0);
    assert_eq!(f.q.purge(T0 + 30 * DAY + 1).unwrap(), 1);
    assert!(!exists(&f.q, s));
    assert!(exists(&f.q, fl) && exists(&f.q, c));
    assert_eq!(f.q.purge(T0 + 60 * DAY).unwrap(), 0);
    assert_eq!(f.q.purge(T0 + 60 * DAY + 1).unwrap(), 2);
    assert!(!exists(&f.q, fl) && !exists(&f.q, c));
    // Nothing but Completed rows is ever purged.
    assert_eq!(f.q.purge(T0 + 10_000 * DAY).unwrap(), 0);
    assert_eq!(f.get(ready).status, Status::WaitingForResources);
    assert_eq!(f.get(paused).status, Status::Waiting);
}

#[test]
fn none_keeps_a_status_forever_and_settings_persist() {
    let f = Fixture::with(store(), "purge-none", |o| {
        o.retention_succeeded = Some(Retention::Forever);
        o.retention_canceled = Some(Retention::After(Duration::from_millis(HOUR as u64)));
    });
    let s = succeeded(&f, "s");
    let fl = failed(&f, "f");
    let c = canceled(&f, "c");
    assert_eq!(f.q.purge(T0 + HOUR + 1).unwrap(), 1);
    assert!(!exists(&f.q, c));
    assert_eq!(f.q.purge(T0 + 100_000 * DAY).unwrap(), 1);
    assert!(exists(&f.q, s) && !exists(&f.q, fl));
    // Another handle reads what the first wrote; it writes nothing of its own.
    let q2 = f.reopen(|_| {});
    let r = q2.settings().retention;
    assert_eq!(r.succeeded, Retention::Forever);
    assert_eq!(r.failed, Retention::After(Duration::from_millis(60 * DAY as u64)));
    assert_eq!(r.canceled, Retention::After(Duration::from_millis(HOUR as u64)));
    assert!(q2.settings().cleanup_enabled);
    assert_eq!(
        asyncop::testing::read(&q2, |tx| tx.setting("retention_succeeded_ms")).unwrap(),
        Some("none".to_owned())
    );
    // Every status forever: a purge deletes nothing and reads nothing.
    let keep = f.reopen(|o| {
        o.retention_failed = Some(Retention::Forever);
        o.retention_canceled = Some(Retention::Forever);
    });
    canceled(&f, "c2");
    assert_eq!(keep.purge(T0 + 100_000 * DAY).unwrap(), 0);
}

#[test]
fn purge_walks_in_batches_and_keeps_rows_between_them() {
    let f = Fixture::with(store(), "purge-batches", |o| {
        o.retention_canceled = Some(Retention::After(Duration::from_millis(DAY as u64)));
    });
    // 1100 Canceled rows (3 batches), with Failed rows (60 days) among them.
    let specs: Vec<_> = (0..1100)
        .map(|i| OperationSpec::new(format!("c{i}"), NORMAL_TYPE))
        .collect();
    let ids = f.q.submit_many(&specs).unwrap();
    let mut kept = Vec::new();
    let other = PollOptions {
        operation_types: Some(vec![NORMAL_TYPE + 1]),
        ..PollOptions::default()
    };
    for (i, id) in ids.iter().enumerate() {
        f.q.cancel(*id).unwrap();
        if i % 300 == 0 {
            let id = f.submit(&format!("f{i}"), NORMAL_TYPE + 1);
            let lease = f.q.poll("h", &other).unwrap().pop().unwrap();
            assert_eq!(lease.id, id);
            f.q.fail(lease.key(), Report::default()).unwrap();
            kept.push(id);
        }
        f.advance(1);
    }
    // `purge_with_progress` reports the running total after each committed batch.
    let mut seen = Vec::new();
    let deleted = f.q.purge_with_progress(f.now() + DAY, |n| seen.push(n)).unwrap();
    assert_eq!(deleted, 1100);
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_eq!(seen.last(), Some(&1100));
    assert_eq!(f.all_ids(), kept);
    assert_eq!(
        f.q.query(&Filter {
            state: Some(State::Completed),
            ..Filter::default()
        })
        .unwrap()
        .len(),
        kept.len()
    );
}

#[test]
fn purge_and_delete_remove_the_attempt_history() {
    let f = Fixture::new(store(), "purge-attempts");
    let a = failed(&f, "a");
    let b = failed(&f, "b");
    let c = failed(&f, "c");
    add_attempts(&f.q, a, 2);
    add_attempts(&f.q, b, 3);
    add_attempts(&f.q, c, 1);
    // Its failed attempt is in the history too.
    assert_eq!(attempts(&f.q, a), 3);
    f.q.delete(c).unwrap();
    assert_eq!(attempts(&f.q, c), 0);
    assert_eq!(f.q.purge(T0 + 61 * DAY).unwrap(), 2);
    assert_eq!((attempts(&f.q, a), attempts(&f.q, b)), (0, 0));
}

#[test]
fn purge_on_a_closed_queue_is_closed() {
    let f = Fixture::new(store(), "purge-closed");
    f.q.close();
    assert_eq!(f.q.purge(T0), Err(Error::Closed));
}
