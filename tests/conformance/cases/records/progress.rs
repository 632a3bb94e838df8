//! Progress: reported under the live lease, read back by `retrieve`, reset by
//! the next claim, refused out of range, and `LeaseLost` for a stale token.

use super::*;

/// A host's progress is stored and read back; each report replaces the last
/// (a `None` text clears the text); the call returns the status to act on.
#[test]
fn progress_is_stored_under_the_lease_and_read_back() {
    let f = Fixture::new(store(), "progress-stored");
    let id = f.submit("x", NORMAL_TYPE);
    assert_eq!((f.get(id).progress, f.get(id).progress_text), (None, None));
    let lease = f.claim("h", id);
    let status = f.q.report_progress(lease.key(), &Progress::new(40, Some("copying")));
    assert_eq!(status, Ok(Status::InProgress));
    let op = f.get(id);
    assert_eq!((op.progress, op.progress_text.as_deref()), (Some(40), Some("copying")));
    let durable = Progress::new(75, None).durable();
    assert_eq!(f.q.report_progress(lease.key(), &durable), Ok(Status::InProgress));
    let op = f.get(id);
    assert_eq!((op.progress, op.progress_text), (Some(75), None));
    // A user's pause request is what the next report returns.
    f.q.pause(id).unwrap();
    let status = f.q.report_progress(lease.key(), &Progress::new(80, Some("x")));
    assert_eq!(status, Ok(Status::Pausing));
    // The last progress stays on the row after the outcome.
    f.q.acknowledge_pause(lease.key()).unwrap();
    assert_eq!(f.get(id).progress, Some(80));
}

/// A new attempt starts with no progress: the claim resets both fields.
#[test]
fn a_claim_resets_progress() {
    let f = Fixture::new(store(), "progress-reset");
    let id = f.submit("x", NORMAL_TYPE);
    let lease = f.claim("h", id);
    f.q.report_progress(lease.key(), &Progress::new(50, Some("half")))
        .unwrap();
    f.q.retry(lease.key(), Report::message("again")).unwrap();
    assert_eq!(f.get(id).progress, Some(50), "kept until the next attempt");
    f.advance(PAST_BACKOFF_MS);
    let again = f.claim("h", id);
    let op = f.get(id);
    assert_eq!((op.progress, op.progress_text), (None, None));
    assert_eq!(f.q.report_progress(again.key(), &Progress::new(5, None)), Ok(Status::InProgress));
}

/// Fenced like every host call: a stale token, an expired lease or a finished
/// operation get `LeaseLost` and write nothing.
#[test]
fn progress_is_fenced() {
    let f = Fixture::new(store(), "progress-fenced");
    let id = f.submit("x", NORMAL_TYPE);
    let first = f.claim("h1", id);
    f.advance(LEASE_MS);
    let r = f.q.report_progress(first.key(), &Progress::new(10, None));
    assert!(lease_lost(r, first.key()), "expired lease");
    f.q.run_maintenance().unwrap();
    let second = f.claim("h2", id);
    f.q.report_progress(second.key(), &Progress::new(20, Some("h2")))
        .unwrap();
    let r = f.q.report_progress(first.key(), &Progress::new(99, Some("stale")));
    assert!(lease_lost(r, first.key()), "stale token");
    let op = f.get(id);
    assert_eq!((op.progress, op.progress_text.as_deref()), (Some(20), Some("h2")));
    f.q.complete(second.key()).unwrap();
    let r = f.q.report_progress(second.key(), &Progress::new(100, None));
    assert!(lease_lost(r, second.key()), "completed");
    let gone = LeaseKey { id: id + 1000, lock_token: 1 };
    assert!(lease_lost(f.q.report_progress(gone, &Progress::new(1, None)), gone));
}

/// Out of range percentages, over-long texts and NUL are InvalidArgument and
/// write nothing; the limits themselves are accepted.
#[test]
fn bad_progress_is_refused() {
    let f = Fixture::new(store(), "progress-bad");
    let id = f.submit("x", NORMAL_TYPE);
    let lease = f.claim("h", id);
    for bad in [-1, 101, i32::MIN, i32::MAX] {
        assert!(invalid(f.q.report_progress(lease.key(), &Progress::new(bad, None))), "{bad}");
    }
    let long = "é".repeat(MAX_PROGRESS_TEXT_CHARS + 1);
    assert!(invalid(f.q.report_progress(lease.key(), &Progress::new(1, Some(&long)))));
    assert!(invalid(f.q.report_progress(lease.key(), &Progress::new(1, Some("a\0b")))));
    assert_eq!(f.get(id).progress, None, "nothing written");
    let max = "é".repeat(MAX_PROGRESS_TEXT_CHARS);
    for ok in [0, 100] {
        let r = f.q.report_progress(lease.key(), &Progress::new(ok, Some(&max)));
        assert_eq!(r, Ok(Status::InProgress));
    }
    assert_eq!(f.get(id).progress_text.as_deref(), Some(max.as_str()));
}

/// A progress write wakes no waiter of this process (the local change signal
/// stays put) and, on PostgreSQL, sends no `NOTIFY` (the signal of other
/// processes stays put too): a waiting poll or `wait_for` is not woken by it;
/// an outcome does wake them. (SQLite's signal of other processes is its
/// `data_version`, which every commit moves.)
#[test]
fn progress_does_not_signal_a_change() {
    let f = Fixture::new(store(), "progress-quiet");
    let id = f.submit("x", NORMAL_TYPE);
    let lease = f.claim("h", id);
    let mark = || asyncop::testing::change_mark(&f.q).unwrap();
    // Lets every notification sent so far land (a wait reads them).
    let settle = || {
        let soon = std::time::Instant::now() + std::time::Duration::from_millis(200);
        asyncop::testing::wait_change(&f.q, mark(), soon).unwrap();
    };
    settle();
    let before = mark();
    for pct in [10, 20, 30] {
        f.q.report_progress(lease.key(), &Progress::new(pct, Some("step")))
            .unwrap();
    }
    f.q.report_progress(lease.key(), &Progress::new(40, None).durable())
        .unwrap();
    settle();
    let after = mark();
    assert_eq!(after.local, before.local, "no local wake-up");
    if matches!(store(), support::Store::Postgres) {
        assert_eq!(after.external, before.external, "no NOTIFY");
    }
    f.q.complete(lease.key()).unwrap();
    settle();
    assert_ne!(mark(), before, "an outcome wakes waiters");
}
