//! Every core error maps to its documented code.

use super::*;
use std::path::PathBuf;

/// The code a core error must get (ffi-conventions.md §2 and operation-model.md
/// §12), and whether a real call can produce it. Exhaustive: a new core error
/// breaks `every_core_error_has_its_code_and_every_reachable_one_is_produced`
/// until it is placed.
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
        E::CannotUpdateNonrecurring => (ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING, true),
        E::CannotUpdateRecurring => (ASYNCOP_ERR_CANNOT_UPDATE_RECURRING, true),
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

/// The codes each test below produces from a real call (`Produced::finish`
/// checks that the test produced exactly these); together they must cover every
/// reachable core error.
const PRODUCED_BY: &[(&str, &[asyncop_status])] = &[
    (
        "refused_state_changes_map_to_their_codes",
        &[
            ASYNCOP_ERR_INVALID_STATE_CHANGE,
            ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE,
            ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY,
            ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED,
            ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED,
            ASYNCOP_ERR_CANNOT_CANCEL,
            ASYNCOP_ERR_CANNOT_PAUSE,
            ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING,
            ASYNCOP_ERR_CANNOT_UPDATE_RECURRING,
        ],
    ),
    (
        "missing_operations_and_bad_arguments_are_not_found_and_invalid_arg",
        &[ASYNCOP_ERR_NOT_FOUND, ASYNCOP_ERR_INVALID_ARG],
    ),
    (
        "a_second_outcome_is_lease_lost_and_a_completed_operation_cannot_be_canceled",
        &[ASYNCOP_ERR_LEASE_LOST, ASYNCOP_ERR_INVALID_STATE_CHANGE],
    ),
    (
        "a_write_lock_held_past_the_busy_timeout_is_busy",
        &[ASYNCOP_ERR_BUSY],
    ),
    (
        "a_row_changed_between_snapshot_and_write_is_an_unexpected_state_change",
        &[ASYNCOP_ERR_INVALID_STATE_CHANGE_UNEXPECTED],
    ),
    (
        "a_core_queue_closed_behind_a_live_handle_is_a_closed_handle",
        &[ASYNCOP_ERR_CLOSED_HANDLE],
    ),
    (
        "a_file_that_is_not_sqlite_is_corrupt_and_left_untouched",
        &[ASYNCOP_ERR_CORRUPT],
    ),
    ("a_missing_directory_is_io", &[ASYNCOP_ERR_IO]),
    (
        "an_unexpected_sqlite_failure_is_internal",
        &[ASYNCOP_ERR_INTERNAL],
    ),
];

/// A queue holding one Ready operation, and the codes that real calls produced.
struct Produced {
    dir: TempDir,
    path: PathBuf,
    q: *mut asyncop_queue,
    ready: i64,
    codes: BTreeSet<i32>,
}

fn one_ready_operation(test: &str) -> Produced {
    let dir = TempDir::new(test);
    let path = dir.file("queue.db");
    let q = open_queue(&path);
    let ready = submit(q, "ready");
    Produced {
        dir,
        path,
        q,
        ready,
        codes: BTreeSet::new(),
    }
}

impl Produced {
    /// Checks a status from a real call and records that its code was produced.
    #[track_caller]
    fn expect(&mut self, rc: asyncop_status, want: asyncop_status) {
        check(rc, want);
        self.codes.insert(want as i32);
    }

    /// Closes the queue; the codes produced must be the ones `PRODUCED_BY`
    /// lists for `test`.
    #[track_caller]
    fn finish(self, test: &str) {
        let (_, declared) = PRODUCED_BY
            .iter()
            .find(|(name, _)| *name == test)
            .unwrap_or_else(|| panic!("{test} is not in PRODUCED_BY"));
        let declared: BTreeSet<i32> = declared.iter().map(|&c| c as i32).collect();
        assert_eq!(
            self.codes, declared,
            "{test} produced other codes than declared"
        );
        check(unsafe { asyncop_queue_close(self.q) }, ASYNCOP_OK);
    }
}

#[test]
fn refused_state_changes_map_to_their_codes() {
    let mut f = one_ready_operation("ffi-core-errors-refusals");
    let (q, ready) = (f.q, f.ready);
    f.expect(
        unsafe { asyncop_queue_set_state(q, ready, ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_NONE) },
        ASYNCOP_ERR_INVALID_STATE_CHANGE,
    );
    f.expect(
        unsafe {
            asyncop_queue_set_state(q, ready, ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED)
        },
        ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE,
    );
    f.expect(
        unsafe { asyncop_queue_resume(q, ready) },
        ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY,
    );
    f.expect(
        unsafe { asyncop_queue_pause(q, ready) },
        ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED,
    );
    f.expect(
        unsafe { asyncop_queue_delete(q, ready) },
        ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED,
    );
    let restricted = submit_typed(q, "restricted", RESTRICTED);
    f.expect(
        unsafe { asyncop_queue_cancel(q, restricted) },
        ASYNCOP_ERR_CANNOT_CANCEL,
    );
    f.expect(
        unsafe { asyncop_queue_pause(q, restricted) },
        ASYNCOP_ERR_CANNOT_PAUSE,
    );
    // Pattern updates (§8): a one-shot operation, then a series of a type not
    // in recurrence_updatable_types (none by default).
    f.expect(
        unsafe { asyncop_queue_set_recurrence(q, ready, c"FREQ=DAILY;".as_ptr()) },
        ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING,
    );
    let mut spec = null_mut();
    check(
        unsafe { asyncop_spec_new(c"series".as_ptr(), TYPE, &mut spec) },
        ASYNCOP_OK,
    );
    check(
        unsafe { asyncop_spec_set_recurrence(spec, c"FREQ=DAILY;".as_ptr(), ASYNCOP_TIME_NONE) },
        ASYNCOP_OK,
    );
    let mut series = 0;
    let specs = [spec.cast_const()];
    check(
        unsafe { asyncop_queue_submit_many(q, specs.as_ptr(), 1, &mut series) },
        ASYNCOP_OK,
    );
    check(unsafe { asyncop_spec_free(spec) }, ASYNCOP_OK);
    f.expect(
        unsafe { asyncop_queue_set_recurrence(q, series, c"FREQ=HOURLY;".as_ptr()) },
        ASYNCOP_ERR_CANNOT_UPDATE_RECURRING,
    );
    f.finish("refused_state_changes_map_to_their_codes");
}

#[test]
fn missing_operations_and_bad_arguments_are_not_found_and_invalid_arg() {
    let mut f = one_ready_operation("ffi-core-errors-arguments");
    let q = f.q;
    let mut op = null_mut();
    f.expect(
        unsafe { asyncop_queue_retrieve(q, 999_999, &mut op) },
        ASYNCOP_ERR_NOT_FOUND,
    );
    f.expect(
        unsafe { asyncop_queue_retrieve(q, 0, &mut op) },
        ASYNCOP_ERR_INVALID_ARG,
    );
    let long = CString::new("n".repeat(257)).unwrap();
    let mut id = 0;
    f.expect(submit_rc(q, &long, TYPE, &mut id), ASYNCOP_ERR_INVALID_ARG);
    f.expect(submit_rc(q, c"type 0", 0, &mut id), ASYNCOP_ERR_INVALID_ARG);
    f.finish("missing_operations_and_bad_arguments_are_not_found_and_invalid_arg");
}

/// LeaseLost: a second outcome under the same lease; then a cancel of the
/// Completed operation.
#[test]
fn a_second_outcome_is_lease_lost_and_a_completed_operation_cannot_be_canceled() {
    let mut f = one_ready_operation("ffi-core-errors-lease-lost");
    let (q, ready) = (f.q, f.ready);
    let lease = poll_one(q);
    let mut status = 0;
    check(
        unsafe { asyncop_lease_complete(lease, &mut status) },
        ASYNCOP_OK,
    );
    assert_eq!(status, ASYNCOP_STATUS_SUCCEEDED);
    f.expect(
        unsafe { asyncop_lease_complete(lease, &mut status) },
        ASYNCOP_ERR_LEASE_LOST,
    );
    check(unsafe { asyncop_lease_free(lease) }, ASYNCOP_OK);
    f.expect(
        unsafe { asyncop_queue_cancel(q, ready) },
        ASYNCOP_ERR_INVALID_STATE_CHANGE,
    );
    f.finish("a_second_outcome_is_lease_lost_and_a_completed_operation_cannot_be_canceled");
}

/// Busy: another connection holds the write lock past a 50 ms busy timeout.
#[test]
fn a_write_lock_held_past_the_busy_timeout_is_busy() {
    let mut f = one_ready_operation("ffi-core-errors-busy");
    let impatient = open_queue_with(&f.path, |o| {
        check(
            unsafe { asyncop_options_set_busy_timeout_ms(o, 50) },
            ASYNCOP_OK,
        );
    });
    let (ready_rx, release, blocker) =
        hold_write_lock(&f.path, String::new(), Duration::from_secs(30));
    ready_rx.recv().unwrap();
    let mut id = 0;
    f.expect(
        submit_rc(impatient, c"blocked", TYPE, &mut id),
        ASYNCOP_ERR_BUSY,
    );
    release.send(()).unwrap();
    blocker.join().unwrap();
    check(unsafe { asyncop_queue_close(impatient) }, ASYNCOP_OK);
    f.finish("a_write_lock_held_past_the_busy_timeout_is_busy");
}

/// InvalidStateChangeUnexpected: the row changes between the action's
/// snapshot and its write. Another connection holds the write lock and
/// changes the row (uncommitted, so the snapshot still sees 0/0); the cancel
/// reads 0/0, waits for the lock, then finds 1/10. If the cancel's read came
/// too late (it then sees 1/10 and succeeds), try again.
#[test]
fn a_row_changed_between_snapshot_and_write_is_an_unexpected_state_change() {
    let mut f = one_ready_operation("ffi-core-errors-unexpected");
    let mut unexpected = None;
    for attempt in 0..10 {
        let target = submit(f.q, &format!("target {attempt}"));
        let sql = format!("UPDATE operation SET state = 1, status = 10 WHERE id = {target}");
        // Released by its timeout: this thread is blocked in the cancel meanwhile.
        let (ready_rx, _release, blocker) =
            hold_write_lock(&f.path, sql, Duration::from_millis(300));
        ready_rx.recv().unwrap();
        let rc = unsafe { asyncop_queue_cancel(f.q, target) };
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
    f.codes.insert(rc as i32);
    f.finish("a_row_changed_between_snapshot_and_write_is_an_unexpected_state_change");
}

/// Closed (the core's): the queue behind a live handle was closed elsewhere.
#[test]
fn a_core_queue_closed_behind_a_live_handle_is_a_closed_handle() {
    let mut f = one_ready_operation("ffi-core-errors-closed");
    let core = core_queue(&f.path, Arc::new(asyncop::SystemClock));
    let h = testing::queue_handle(core.clone());
    core.close();
    let mut id = 0;
    let msg = check(
        submit_rc(h, c"late", TYPE, &mut id),
        ASYNCOP_ERR_CLOSED_HANDLE,
    );
    assert!(msg.contains("closed"), "{msg:?}");
    f.codes.insert(ASYNCOP_ERR_CLOSED_HANDLE as i32);
    check(unsafe { asyncop_queue_close(h) }, ASYNCOP_OK);
    f.finish("a_core_queue_closed_behind_a_live_handle_is_a_closed_handle");
}

/// Corrupt: not an SQLite file; left untouched.
#[test]
fn a_file_that_is_not_sqlite_is_corrupt_and_left_untouched() {
    let mut f = one_ready_operation("ffi-core-errors-corrupt");
    let garbage = f.dir.file("garbage.db");
    let bytes = b"this is not an SQLite database\n".repeat(200);
    std::fs::write(&garbage, &bytes).unwrap();
    let garbage_c = c_path(&garbage);
    let mut q2 = null_mut();
    f.expect(
        unsafe { asyncop_queue_open(garbage_c.as_ptr(), null(), &mut q2) },
        ASYNCOP_ERR_CORRUPT,
    );
    assert!(q2.is_null());
    assert_eq!(std::fs::read(&garbage).unwrap(), bytes);
    f.finish("a_file_that_is_not_sqlite_is_corrupt_and_left_untouched");
}

/// Io: a missing directory.
#[test]
fn a_missing_directory_is_io() {
    let mut f = one_ready_operation("ffi-core-errors-io");
    let missing = c_path(&f.dir.file("no-such-dir").join("queue.db"));
    let mut q2 = null_mut();
    f.expect(
        unsafe { asyncop_queue_open(missing.as_ptr(), null(), &mut q2) },
        ASYNCOP_ERR_IO,
    );
    f.finish("a_missing_directory_is_io");
}

/// Internal: an unexpected SQLite failure (a trigger that aborts inserts).
#[test]
fn an_unexpected_sqlite_failure_is_internal() {
    let mut f = one_ready_operation("ffi-core-errors-internal");
    let broken = f.dir.file("broken.db");
    let qb = open_queue(&broken);
    let core = core_queue(&broken, Arc::new(asyncop::SystemClock));
    support::raw::sqlite_execute(
        &core,
        "CREATE TRIGGER ffi_test_boom BEFORE INSERT ON operation \
         BEGIN SELECT RAISE(ABORT, 'boom from a test trigger'); END;",
    );
    core.close();
    let mut id = 0;
    f.expect(
        submit_rc(qb, c"refused", TYPE, &mut id),
        ASYNCOP_ERR_INTERNAL,
    );
    check(unsafe { asyncop_queue_close(qb) }, ASYNCOP_OK);
    f.finish("an_unexpected_sqlite_failure_is_internal");
}

/// Every core error's code matches its HRESULT, and every reachable one is
/// produced by one of the tests above (each checks its own list in `PRODUCED_BY`).
#[test]
fn every_core_error_has_its_code_and_every_reachable_one_is_produced() {
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
    let produced: BTreeSet<i32> = PRODUCED_BY
        .iter()
        .flat_map(|(_, codes)| codes.iter().map(|&c| c as i32))
        .collect();
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
}
