//! §9 restricted types, §6.6 queue-wide settings.

use super::*;

#[test]
fn restricted_types_refuse_users_but_not_hosts() {
    let f = Fixture::new(store(), "restricted");
    assert_eq!(
        f.q.settings().restricted_types,
        SPEC_RESTRICTED_TYPES.to_vec()
    );
    for t in SPEC_RESTRICTED_TYPES {
        let id = f.submit("platform", t);
        assert_eq!(f.q.cancel(id), Err(Error::CannotCancel), "type {t}");
        assert_eq!(
            f.q.set_state(id, State::Completed, None),
            Err(Error::CannotCancel)
        );
        f.q.postpone(id, T0 + 1_000).unwrap();
        assert_eq!(f.q.pause(id), Err(Error::CannotPause), "type {t}");
        assert!(matches!(
            f.q.resume(id),
            Err(Error::InvalidStateChangeToReady(_))
        ));
        f.set(T0 + 1_000);
        let lease = f.claim("h", id);
        assert_eq!(f.q.postpone(id, T0 + 9_000), Err(Error::CannotPause));
        assert_eq!(f.q.cancel(id), Err(Error::CannotCancel));
        // Hosts report every outcome, Canceled included.
        assert_eq!(f.q.acknowledge_cancel(lease.key()), Ok(Status::Canceled));
        f.q.delete(id).unwrap();
        f.set(T0);
    }
    for t in [1, 8, 10, 21, 100] {
        let id = f.submit("ordinary", t);
        f.q.cancel(id).unwrap();
    }
    let id = f.submit("platform", RESTRICTED_TYPE);
    let lease = f.claim("h", id);
    assert_eq!(f.q.complete(lease.key()), Ok(Status::Succeeded));
    let id = f.submit("platform", RESTRICTED_TYPE);
    let lease = f.claim("h", id);
    assert_eq!(
        f.q.suspend(lease.key(), Report::default()),
        Ok(Status::Waiting)
    );
    let id = f.submit("platform", RESTRICTED_TYPE);
    let lease = f.claim("h", id);
    assert_eq!(
        f.q.retry(lease.key(), Report::default()),
        Ok(Status::Waiting)
    );
}

/// Queue-wide settings live in the file (§6.6): a later handle opened with `None`
/// sees what an earlier one wrote.
#[test]
fn queue_settings_persist_in_the_file() {
    let f = Fixture::with(store(), "settings", |o| {
        o.restricted_types = Some(vec![100]);
        o.max_attempts = Some(6);
        o.backoff_base = Some(Duration::from_millis(1_500));
        o.backoff_cap = Some(Duration::from_secs(60));
        o.allow_delete_any = Some(true);
    });
    f.q.close();
    let q = f.reopen(|_| {});
    let s = q.settings();
    assert_eq!(s.restricted_types, vec![100]);
    assert_eq!(
        (
            s.retry.max_attempts,
            s.retry.backoff_base_ms,
            s.retry.backoff_cap_ms
        ),
        (6, 1_500, 60_000)
    );
    assert!(s.allow_delete_any);
    let r = q
        .submit(&OperationSpec::new("now restricted", 100))
        .unwrap();
    assert_eq!(q.cancel(r), Err(Error::CannotCancel));
    let o = q
        .submit(&OperationSpec::new("no longer restricted", 9))
        .unwrap();
    q.cancel(o).unwrap();
    q.delete(r).unwrap(); // allow_delete_any: a 0/0 row
    // An empty list restricts nothing, and persists as such.
    q.close();
    let q = f.reopen(|o| o.restricted_types = Some(Vec::new()));
    q.close();
    let q = f.reopen(|_| {});
    assert!(q.settings().restricted_types.is_empty());
    // An invalid budget is refused at open.
    assert!(matches!(
        f.target.open(asyncop::Options {
            max_attempts: Some(0),
            ..support::options(&f.clock)
        }),
        Err(Error::InvalidArgument(_))
    ));
}
