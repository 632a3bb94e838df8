//! §4 check order and the §12 names, HRESULTs and messages of refusals.

use super::*;

/// §4 check order: Closed → InvalidArgument → NotFound → restricted type → matrix.
#[test]
fn check_order_of_user_actions() {
    let f = Fixture::new(store(), "check-order");
    // A restricted operation in 3/30: the matrix would say 0x80044162 / 0x80044167, the
    // restricted-type step says CannotCancel / CannotPause first.
    let r = f.submit("restricted", RESTRICTED_TYPE);
    let lease = f.claim("h", r);
    f.q.complete(lease.key()).unwrap();
    let before = f.get(r);
    f.advance(STEP);
    assert_eq!(f.q.cancel(r), Err(Error::CannotCancel));
    assert_eq!(f.q.pause(r), Err(Error::CannotPause));
    assert_eq!(
        f.q.set_state(r, State::Completed, None),
        Err(Error::CannotCancel)
    );
    assert_eq!(
        f.q.set_state(r, State::Suspended, Some(Status::Waiting)),
        Err(Error::CannotPause)
    );
    assert_eq!(f.get(r), before);

    // Unknown ids: NotFound, after the argument checks.
    let unknown = 1_000_000;
    let not_found = Err(Error::NotFound { id: unknown });
    let now = f.now();
    assert_eq!(f.q.cancel(unknown), not_found);
    assert_eq!(f.q.pause(unknown), not_found);
    assert_eq!(f.q.resume(unknown), not_found);
    assert_eq!(f.q.postpone(unknown, now + 1), not_found);
    assert_eq!(f.q.delete(unknown), not_found);
    assert_eq!(f.q.retrieve(unknown), Err(Error::NotFound { id: unknown }));
    for state in ALL_STATES {
        assert_eq!(f.q.set_state(unknown, state, None), not_found, "{state:?}");
    }
    // Arguments precede the row lookup.
    assert!(matches!(
        f.q.postpone(unknown, now),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        f.q.set_state(unknown, State::Ready, Some(Status::Waiting)),
        Err(Error::InvalidArgument(_))
    ));

    // id <= 0 is InvalidArgument for every call, before anything else.
    for id in [0, -1, i64::MIN] {
        let calls: [(&str, Result<(), Error>); 7] = [
            ("cancel", f.q.cancel(id)),
            ("pause", f.q.pause(id)),
            ("resume", f.q.resume(id)),
            ("postpone", f.q.postpone(id, now + 1)),
            ("delete", f.q.delete(id)),
            ("set_state", f.q.set_state(id, State::Completed, None)),
            ("retrieve", f.q.retrieve(id).map(|_| ())),
        ];
        for (name, r) in calls {
            assert!(
                matches!(r, Err(Error::InvalidArgument(_))),
                "{name}({id}) gave {r:?}"
            );
        }
        assert_eq!(
            f.q.renew(LeaseKey { id, lock_token: 1 })
                .map(|_| ())
                .map_err(|e| e.name()),
            Err("InvalidArgument")
        );
    }

    // Closed comes first of all: even before a bad id or a bad argument.
    let other = f.q.clone();
    f.q.close();
    assert!(other.is_closed());
    for id in [r, 0, -5, unknown] {
        let calls: [(&str, Result<(), Error>); 10] = [
            ("cancel", other.cancel(id)),
            ("pause", other.pause(id)),
            ("resume", other.resume(id)),
            ("postpone later", other.postpone(id, now + 1)),
            ("postpone now", other.postpone(id, now)),
            ("delete", other.delete(id)),
            ("set_state", other.set_state(id, State::Completed, None)),
            (
                "set_state mismatched",
                other.set_state(id, State::Ready, Some(Status::Failed)),
            ),
            ("retrieve", other.retrieve(id).map(|_| ())),
            (
                "renew",
                other.renew(LeaseKey { id, lock_token: 1 }).map(|_| ()),
            ),
        ];
        for (name, r) in calls {
            assert_eq!(r, Err(Error::Closed), "{name}({id}) on a closed queue");
        }
    }
    assert_eq!(
        other.submit(&OperationSpec::new("", 0)).map(|_| ()),
        Err(Error::Closed)
    );
    assert_eq!(
        other.poll("", &PollOptions::default()).map(|_| ()),
        Err(Error::Closed)
    );
    assert_eq!(
        other.query(&Filter::default()).map(|_| ()),
        Err(Error::Closed)
    );
    assert_eq!(other.counts().map(|_| ()), Err(Error::Closed));
    assert_eq!(other.run_maintenance().map(|_| ()), Err(Error::Closed));
    assert_eq!(Error::Closed.to_string(), "the queue is closed");
}

/// The §12 names, HRESULTs and messages of refusals as the caller sees them.
#[test]
fn refusals_carry_their_hresult_and_documented_message() {
    let f = Fixture::new(store(), "hresults");
    let done = f.submit("done", NORMAL_TYPE);
    let lease = f.claim("h", done);
    f.q.complete(lease.key()).unwrap();
    let ready = f.submit("ready", NORMAL_TYPE);
    let waiting = f.submit_spec(OperationSpec::new("waiting", NORMAL_TYPE).postpone_until(T0 + 9));
    let restricted = f.submit("restricted", RESTRICTED_TYPE);
    f.advance(STEP);
    let template = |s: u8, t: u8, target: u8| {
        format!(
            "The state transition requested is not valid for the current state. \
             Current state: {s}, current status: {t}, target state: {target}"
        )
    };
    let cases: Vec<(Result<(), Error>, u32, &str, String)> = vec![
        (
            f.q.cancel(done),
            0x8004_4162,
            "AsyncOperationInvalidStateChange",
            template(3, 30, 3),
        ),
        (
            f.q.set_state(done, State::Completed, None),
            0x8004_4162,
            "AsyncOperationInvalidStateChange",
            template(3, 30, 3),
        ),
        (
            f.q.set_state(ready, State::Locked, None),
            0x8004_4162,
            "AsyncOperationInvalidStateChange",
            template(0, 0, 2),
        ),
        (
            f.q.set_state(ready, State::Completed, Some(Status::Succeeded)),
            0x8004_4165,
            "AsyncOperationInvalidStateChangeToComplete",
            template(0, 0, 3),
        ),
        (
            f.q.resume(ready),
            0x8004_4166,
            "AsyncOperationInvalidStateChangeToReady",
            template(0, 0, 0),
        ),
        (
            f.q.set_state(done, State::Ready, None),
            0x8004_4166,
            "AsyncOperationInvalidStateChangeToReady",
            template(3, 30, 0),
        ),
        (
            f.q.pause(waiting),
            0x8004_4167,
            "AsyncOperationInvalidStateChangeToSuspended",
            template(1, 10, 1),
        ),
        (
            f.q.postpone(done, f.now() + 1),
            0x8004_4167,
            "AsyncOperationInvalidStateChangeToSuspended",
            template(3, 30, 1),
        ),
        (
            f.q.delete(ready),
            0x8004_416a,
            "AsyncOperationCannotDeleteUnlessCompleted",
            "Cannot delete async operation unless it is in Completed state.".into(),
        ),
        (
            f.q.cancel(restricted),
            0x8004_4F00,
            "AsyncOperationCannotCancel",
            "This system job cannot be canceled.".into(),
        ),
        (
            f.q.pause(restricted),
            0x8004_4F01,
            "AsyncOperationCannotPause",
            "This system job cannot be paused.".into(),
        ),
        (
            f.q.resume(restricted),
            0x8004_4166,
            "AsyncOperationInvalidStateChangeToReady",
            template(0, 0, 0),
        ),
    ];
    for (i, (result, hresult, name, message)) in cases.into_iter().enumerate() {
        let err = result.expect_err("refused");
        assert_eq!(err.hresult(), Some(hresult as i32), "case {i}: {err:?}");
        assert_eq!(err.name(), name, "case {i}");
        // The documented message first; the invalid-state ones go on with the
        // states named and a hint.
        let shown = err.to_string();
        assert!(shown.starts_with(&message), "case {i}: {shown}");
        if shown.len() > message.len() {
            assert!(shown[message.len()..].starts_with(". ") && shown.contains('/'), "case {i}: {shown}");
        }
        assert!(!err.is_retryable(), "case {i}");
    }
    // The mismatched-pair wording of §12.
    let err =
        f.q.set_state(ready, State::Ready, Some(Status::Waiting))
            .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)));
    assert_eq!(err.hresult(), None);
    assert!(
        err.to_string().contains(&format!(
            "10 is not a valid status code for state code AsyncOperationState.Ready \
             on asyncoperation with Id {ready}"
        )),
        "{err}"
    );
    let unexpected = Error::InvalidStateChangeUnexpected;
    assert_eq!(unexpected.hresult(), Some(0x8004_4163_u32 as i32));
    assert_eq!(
        unexpected.to_string(),
        "The target state could not be set because the state was changed by another process."
    );
    assert!(unexpected.is_retryable());
    let nf = Error::NotFound { id: 42 };
    assert_eq!(nf.hresult(), None);
    assert!(nf.to_string().contains("42"), "{nf}");
}

/// Item 7 of issue 13: refusals name the states and say what works instead,
/// and every time in a message is ISO 8601 UTC, never epoch milliseconds.
#[test]
fn refusal_messages_name_the_states_and_times_read_as_iso_8601() {
    let f = Fixture::new(store(), "messages");
    let ready = f.submit("ready", NORMAL_TYPE);
    let pause = f.q.pause(ready).unwrap_err().to_string();
    assert!(
        pause.ends_with(
            "target state: 1. Ready/WaitingForResources cannot be paused; Postpone holds queued work"
        ),
        "{pause}"
    );
    let resume = f.q.resume(ready).unwrap_err().to_string();
    assert!(resume.contains(". Ready/WaitingForResources is not suspended"), "{resume}");
    f.q.cancel(ready).unwrap();
    let again = f.q.cancel(ready).unwrap_err().to_string();
    assert!(again.contains(". Completed/Canceled has finished"), "{again}");
    let lock = f.q.set_state(ready, State::Locked, None).unwrap_err().to_string();
    assert!(lock.contains("only a host locks an operation"), "{lock}");
    // T0 = 1_700_000_000_000 = 2023-11-14T22:13:20.000Z.
    let waiting = f.submit("waiting", NORMAL_TYPE);
    let past = f.q.postpone(waiting, T0 - 1).unwrap_err().to_string();
    assert!(
        past.contains(
            "postpone_until (2023-11-14T22:13:19.999Z) must be later than now (2023-11-14T22:13:20.000Z)"
        ),
        "{past}"
    );
    assert!(!past.contains(&T0.to_string()), "{past}");
    let lease = f.claim("h", waiting);
    f.advance(LEASE_MS + 123);
    let lost = f.q.complete(lease.key()).unwrap_err().to_string();
    assert!(
        lost.contains("expired at 2023-11-14T22:13:50.000Z (now 2023-11-14T22:13:50.123Z)"),
        "{lost}"
    );
    // The recovery's stored message says when the lease ended, the same way.
    f.q.run_maintenance().unwrap();
    let stored = f.get(waiting).message.unwrap_or_default();
    assert_eq!(
        stored,
        "lease of host h expired at 2023-11-14T22:13:50.000Z on attempt 1"
    );
    // A host call on a row that moved on names its states.
    let e = f.q.complete(lease.key()).unwrap_err().to_string();
    assert!(e.contains("Ready/WaitingForResources"), "{e}");
}
