//! Every core error maps to its documented code.

use super::*;

/// The code a core error must get (ffi-conventions.md §2 and operation-model.md
/// §12), and whether a real call can produce it. Exhaustive: a new core error
/// breaks this test until it is placed.
fn expected_code(e: &asyncop::Error) -> (asyncop_status, bool) {
    use asyncop::Error as E;
    match e {
        E::InvalidStateChange(_) => (ASYNCOP_ERR_INVALID_STATE_CHANGE, true),
        E::InvalidStateChangeUnexpected => (ASYNCOP_ERR_INVALID_STATE_CHANGE_UNEXPECTED, true),
        E::InvalidStateChangeToComplete(_) => (ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE, true),
        E::InvalidStateChangeToReady(_) => (ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY, true),
        E::InvalidStateChangeToSuspended(_) => {
            (ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED, true)
        }
        E::CannotDeleteUnlessCompleted => (ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED, true),
        E::CannotCancel => (ASYNCOP_ERR_CANNOT_CANCEL, true),
        E::CannotPause => (ASYNCOP_ERR_CANNOT_PAUSE, true),
        // Recurrence (§8) has no API yet: nothing raises these.
        E::CannotUpdateNonrecurring => (ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING, false),
        E::CannotUpdateRecurring => (ASYNCOP_ERR_CANNOT_UPDATE_RECURRING, false),
        E::NotFound { .. } => (ASYNCOP_ERR_NOT_FOUND, true),
        E::LeaseLost { .. } => (ASYNCOP_ERR_LEASE_LOST, true),
        E::InvalidArgument(_) => (ASYNCOP_ERR_INVALID_ARG, true),
        E::Busy => (ASYNCOP_ERR_BUSY, true),
        E::Corrupt(_) => (ASYNCOP_ERR_CORRUPT, true),
        E::Closed => (ASYNCOP_ERR_CLOSED_HANDLE, true),
        E::Io(_) => (ASYNCOP_ERR_IO, true),
        E::Internal(_) => (ASYNCOP_ERR_INTERNAL, true),
    }
}

/// Checks a status from a real call and records that its code was produced.
#[track_caller]
fn expect(produced: &mut BTreeSet<i32>, rc: asyncop_status, want: asyncop_status) {
    check(rc, want);
    produced.insert(want as i32);
}

#[test]
fn core_errors_map_to_their_codes() {
    use asyncop::error::Refusal;
    let r = Refusal {
        state: 0,
        status: 0,
        target_state: 0,
    };
    let every_error = [
        asyncop::Error::InvalidStateChange(r),
        asyncop::Error::InvalidStateChangeUnexpected,
        asyncop::Error::InvalidStateChangeToComplete(r),
        asyncop::Error::InvalidStateChangeToReady(r),
        asyncop::Error::InvalidStateChangeToSuspended(r),
        asyncop::Error::CannotDeleteUnlessCompleted,
        asyncop::Error::CannotCancel,
        asyncop::Error::CannotPause,
        asyncop::Error::CannotUpdateNonrecurring,
        asyncop::Error::CannotUpdateRecurring,
        asyncop::Error::NotFound { id: 1 },
        asyncop::Error::LeaseLost {
            id: 1,
            lock_token: 1,
            detail: String::new(),
        },
        asyncop::Error::InvalidArgument(String::new()),
        asyncop::Error::Busy,
        asyncop::Error::Corrupt(String::new()),
        asyncop::Error::Closed,
        asyncop::Error::Io(String::new()),
        asyncop::Error::Internal(String::new()),
    ];
    // Every reachable core error is produced below; the codes must match.
    let mut produced: BTreeSet<i32> = BTreeSet::new();

    let dir = TempDir::new("ffi-core-errors");
    let path = dir.file("queue.db");
    let q = open_queue(&path);
    let mut op = null_mut();
    let ready = submit(q, "ready");

    expect(
        &mut produced,
        unsafe { asyncop_queue_set_state(q, ready, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_NONE) },
        ASYNCOP_ERR_INVALID_STATE_CHANGE,
    );
    expect(
        &mut produced,
        unsafe {
            asyncop_queue_set_state(q, ready, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED)
        },
        ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE,
    );
    expect(
        &mut produced,
        unsafe { asyncop_queue_resume(q, ready) },
        ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY,
    );
    expect(
        &mut produced,
        unsafe { asyncop_queue_pause(q, ready) },
        ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED,
    );
    expect(
        &mut produced,
        unsafe { asyncop_queue_delete(q, ready) },
        ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED,
    );
    let restricted = submit_typed(q, "restricted", RESTRICTED);
    expect(
        &mut produced,
        unsafe { asyncop_queue_cancel(q, restricted) },
        ASYNCOP_ERR_CANNOT_CANCEL,
    );
    expect(
        &mut produced,
        unsafe { asyncop_queue_pause(q, restricted) },
        ASYNCOP_ERR_CANNOT_PAUSE,
    );
    expect(
        &mut produced,
        unsafe { asyncop_queue_retrieve(q, 999_999, &mut op) },
        ASYNCOP_ERR_NOT_FOUND,
    );
    expect(
        &mut produced,
        unsafe { asyncop_queue_retrieve(q, 0, &mut op) },
        ASYNCOP_ERR_INVALID_ARG,
    );
    let long = CString::new("n".repeat(257)).unwrap();
    let mut id = 0;
    expect(
        &mut produced,
        submit_rc(q, &long, TYPE, &mut id),
        ASYNCOP_ERR_INVALID_ARG,
    );
    expect(
        &mut produced,
        submit_rc(q, c"type 0", 0, &mut id),
        ASYNCOP_ERR_INVALID_ARG,
    );

    // LeaseLost: a second outcome under the same lease.
    let lease = poll_one(q);
    let mut status = 0;
    check(
        unsafe { asyncop_lease_complete(lease, &mut status) },
        ASYNCOP_OK,
    );
    assert_eq!(status, ASYNCOP_STATUS_SUCCEEDED);
    expect(
        &mut produced,
        unsafe { asyncop_lease_complete(lease, &mut status) },
        ASYNCOP_ERR_LEASE_LOST,
    );
    check(unsafe { asyncop_lease_free(lease) }, ASYNCOP_OK);
    // Cancel of a Completed operation.
    expect(
        &mut produced,
        unsafe { asyncop_queue_cancel(q, ready) },
        ASYNCOP_ERR_INVALID_STATE_CHANGE,
    );

    // Busy: another connection holds the write lock past a 50 ms busy timeout.
    let impatient = open_queue_with(&path, |o| {
        check(
            unsafe { asyncop_options_set_busy_timeout_ms(o, 50) },
            ASYNCOP_OK,
        );
    });
    let (ready_rx, release, blocker) =
        hold_write_lock(&path, String::new(), Duration::from_secs(30));
    ready_rx.recv().unwrap();
    expect(
        &mut produced,
        submit_rc(impatient, c"blocked", TYPE, &mut id),
        ASYNCOP_ERR_BUSY,
    );
    release.send(()).unwrap();
    blocker.join().unwrap();
    check(unsafe { asyncop_queue_close(impatient) }, ASYNCOP_OK);

    // InvalidStateChangeUnexpected: the row changes between the action's
    // snapshot and its write. Another connection holds the write lock and
    // changes the row (uncommitted, so the snapshot still sees 0/0); the cancel
    // reads 0/0, waits for the lock, then finds 1/10. If the cancel's read came
    // too late (it then sees 1/10 and succeeds), try again.
    let mut unexpected = None;
    for attempt in 0..10 {
        let target = submit(q, &format!("target {attempt}"));
        let sql = format!("UPDATE operation SET state = 1, status = 10 WHERE id = {target}");
        // Released by its timeout: this thread is blocked in the cancel meanwhile.
        let (ready_rx, _release, blocker) = hold_write_lock(&path, sql, Duration::from_millis(300));
        ready_rx.recv().unwrap();
        let rc = unsafe { asyncop_queue_cancel(q, target) };
        let msg = last_error();
        blocker.join().unwrap();
        if rc == ASYNCOP_OK {
            continue;
        }
        unexpected = Some((rc, msg));
        break;
    }
    let (rc, msg) = unexpected.expect("no compare-and-set conflict in 10 attempts");
    assert_eq!(rc, ASYNCOP_ERR_INVALID_STATE_CHANGE_UNEXPECTED, "{msg:?}");
    assert!(msg.contains("changed by another process"), "{msg:?}");
    produced.insert(rc as i32);

    // Closed (the core's): the queue behind a live handle was closed elsewhere.
    let core = core_queue(&path, Arc::new(asyncop::SystemClock));
    let h = testing::queue_handle(core.clone());
    core.close();
    let msg = check(
        submit_rc(h, c"late", TYPE, &mut id),
        ASYNCOP_ERR_CLOSED_HANDLE,
    );
    assert!(msg.contains("closed"), "{msg:?}");
    produced.insert(ASYNCOP_ERR_CLOSED_HANDLE as i32);
    check(unsafe { asyncop_queue_close(h) }, ASYNCOP_OK);

    // Corrupt: not an SQLite file; left untouched.
    let garbage = dir.file("garbage.db");
    let bytes = b"this is not an SQLite database\n".repeat(200);
    std::fs::write(&garbage, &bytes).unwrap();
    let garbage_c = c_path(&garbage);
    let mut q2 = null_mut();
    expect(
        &mut produced,
        unsafe { asyncop_queue_open(garbage_c.as_ptr(), null(), &mut q2) },
        ASYNCOP_ERR_CORRUPT,
    );
    assert!(q2.is_null());
    assert_eq!(std::fs::read(&garbage).unwrap(), bytes);

    // Io: a missing directory.
    let missing = c_path(&dir.file("no-such-dir").join("queue.db"));
    expect(
        &mut produced,
        unsafe { asyncop_queue_open(missing.as_ptr(), null(), &mut q2) },
        ASYNCOP_ERR_IO,
    );

    // Internal: an unexpected SQLite failure (a trigger that aborts inserts).
    let broken = dir.file("broken.db");
    let qb = open_queue(&broken);
    let core = core_queue(&broken, Arc::new(asyncop::SystemClock));
    support::raw::sqlite_execute(
        &core,
        "CREATE TRIGGER ffi_test_boom BEFORE INSERT ON operation \
         BEGIN SELECT RAISE(ABORT, 'boom from a test trigger'); END;",
    );
    core.close();
    expect(
        &mut produced,
        submit_rc(qb, c"refused", TYPE, &mut id),
        ASYNCOP_ERR_INTERNAL,
    );
    check(unsafe { asyncop_queue_close(qb) }, ASYNCOP_OK);

    for e in &every_error {
        let (code, reachable) = expected_code(e);
        // The core's own HRESULT, where it has one, is the code itself.
        match e.hresult() {
            Some(h) => assert_eq!(h, code as i32, "{e:?}"),
            None => assert!(code as i32 >= 0, "{e:?} has no HRESULT but {code:?}"),
        }
        if reachable {
            assert!(
                produced.contains(&(code as i32)),
                "{e:?} ({code:?}) was not produced"
            );
        }
    }
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
}
