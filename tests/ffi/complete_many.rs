//! The batch complete: per-lease results and whole-call failures.

use super::*;

/// State and status of one operation.
fn state_of(q: *const asyncop_queue, id: i64) -> (i32, i32) {
    let op = retrieve(q, id);
    let (mut state, mut status) = (-1, -1);
    check(
        unsafe { asyncop_operation_state(op, &mut state) },
        ASYNCOP_OK,
    );
    check(
        unsafe { asyncop_operation_status(op, &mut status) },
        ASYNCOP_OK,
    );
    check(unsafe { asyncop_operation_free(op) }, ASYNCOP_OK);
    (state, status)
}

fn lease_id(lease: *const asyncop_lease) -> i64 {
    let mut id = 0;
    check(unsafe { asyncop_lease_id(lease, &mut id) }, ASYNCOP_OK);
    id
}

/// `asyncop_lease_complete_many` on `leases`, with a results array that starts
/// out filled with -7 (no status has that number).
fn complete_many(leases: &[*mut asyncop_lease]) -> (asyncop_status, String, Vec<i32>) {
    let mut results = vec![-7_i32; leases.len()];
    let ptrs: Vec<*const asyncop_lease> = leases.iter().map(|&l| l.cast_const()).collect();
    let rc = unsafe {
        asyncop_lease_complete_many(
            ptrs.as_ptr(),
            ptrs.len(),
            results.as_mut_ptr().cast::<asyncop_status>(),
        )
    };
    (rc, last_error(), results)
}

#[test]
fn complete_many_reports_per_lease_and_whole_call_failures() {
    let dir = TempDir::new("ffi-complete-many");
    let path = dir.file("queue.db");
    let q = open_queue_with(&path, |o| {
        check(
            unsafe { asyncop_options_set_busy_timeout_ms(o, 50) },
            ASYNCOP_OK,
        );
    });
    let ok = ASYNCOP_OK as i32;
    let lost = ASYNCOP_ERR_LEASE_LOST as i32;
    let ids: Vec<i64> = (0..4).map(|i| submit(q, &format!("op {i}"))).collect();
    let mut leases = [null_mut(); 4];
    let mut n = 0;
    check(poll_rc(q, &mut leases, &mut n), ASYNCOP_OK);
    assert_eq!(n, 4);

    // Busy: the whole call fails, every entry says so, nothing was written.
    let (ready_rx, release, blocker) =
        hold_write_lock(&path, String::new(), Duration::from_secs(30));
    ready_rx.recv().unwrap();
    let (rc, msg, results) = complete_many(&leases);
    release.send(()).unwrap();
    blocker.join().unwrap();
    assert_eq!(rc, ASYNCOP_ERR_BUSY, "{msg:?}");
    assert!(!msg.is_empty());
    assert_eq!(results, vec![ASYNCOP_ERR_BUSY as i32; 4]);
    for &id in &ids {
        assert_eq!(
            state_of(q, id),
            (ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS)
        );
    }

    // A lease completed alone first, and one listed twice: per-lease LEASE_LOST,
    // the others complete; the message counts them and explains the first.
    let mut status = 0;
    check(
        unsafe { asyncop_lease_complete(leases[1], &mut status) },
        ASYNCOP_OK,
    );
    let batch = [leases[0], leases[1], leases[2], leases[3], leases[2]];
    let (rc, msg, results) = complete_many(&batch);
    assert_eq!(rc, ASYNCOP_ERR_LEASE_LOST, "{msg:?}");
    assert_eq!(results, vec![ok, lost, ok, ok, lost]);
    assert!(
        msg.starts_with(
            "2 of 5 leases could not complete; first (index 1): lease lost on asyncoperation"
        ),
        "{msg:?}"
    );
    assert!(msg.contains(&ids[1].to_string()), "{msg:?}");
    for &id in &ids {
        assert_eq!(
            state_of(q, id),
            (ASYNCOP_STATE_COMPLETED, ASYNCOP_STATUS_SUCCEEDED)
        );
    }

    // Every lease lost: still a per-lease answer (LEASE_LOST is never whole-call).
    let (rc, msg, results) = complete_many(&leases);
    assert_eq!(rc, ASYNCOP_ERR_LEASE_LOST);
    assert!(
        msg.starts_with("4 of 4 leases could not complete; first (index 0):"),
        "{msg:?}"
    );
    assert_eq!(results, vec![lost; 4]);

    // The queue closed: CLOSED_HANDLE names the first lease, fills every entry.
    let id = submit(q, "late");
    let late = poll_one(q);
    assert_eq!(lease_id(late), id);
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
    let (rc, msg, results) = complete_many(&[late, leases[0]]);
    assert_eq!(rc, ASYNCOP_ERR_CLOSED_HANDLE);
    assert!(msg.starts_with("leases[0]: "), "{msg:?}");
    assert!(msg.ends_with("; no lease was completed"), "{msg:?}");
    assert_eq!(results, vec![ASYNCOP_ERR_CLOSED_HANDLE as i32; 2]);
    let other = open_queue(&path);
    assert_eq!(
        state_of(other, id),
        (ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS)
    );

    // An impossible count: INVALID_ARG, out_results untouched.
    let mut results = [-7_i32; 1];
    let rc = unsafe {
        asyncop_lease_complete_many(
            [late.cast_const()].as_ptr(),
            usize::MAX,
            results.as_mut_ptr().cast::<asyncop_status>(),
        )
    };
    check(rc, ASYNCOP_ERR_INVALID_ARG);
    assert_eq!(results, [-7]);

    for l in leases.into_iter().chain([late]) {
        check(unsafe { asyncop_lease_free(l) }, ASYNCOP_OK);
    }
    check(unsafe { asyncop_queue_close(other) }, ASYNCOP_OK);
}

#[test]
fn a_panic_in_complete_many_poisons_the_listed_leases() {
    let dir = TempDir::new("ffi-complete-many-panic");
    let path = dir.file("queue.db");
    let clock = Arc::new(PanicClock::default());
    let q = testing::queue_handle(core_queue(&path, clock.clone()));
    let a = submit(q, "a");
    let b = submit(q, "b");
    let c = submit(q, "c");
    let (la, lb, lc) = (poll_one(q), poll_one(q), poll_one(q));
    clock.set(PANIC_STR);
    let (rc, msg, _) = complete_many(&[la, lb]);
    clock.set(TICK);
    assert_eq!(rc, ASYNCOP_ERR_PANIC);
    assert!(msg.starts_with("internal panic:"), "{msg:?}");
    let mut id = 0;
    check(unsafe { asyncop_lease_id(la, &mut id) }, ASYNCOP_ERR_PANIC);
    check(unsafe { asyncop_lease_id(lb, &mut id) }, ASYNCOP_ERR_PANIC);
    // A lease not in the batch is not poisoned, and the batch was rolled back.
    assert_eq!(lease_id(lc), c);
    let other = open_queue(&path);
    for id in [a, b, c] {
        assert_eq!(
            state_of(other, id),
            (ASYNCOP_STATE_LOCKED, ASYNCOP_STATUS_IN_PROGRESS)
        );
    }
    for l in [la, lb, lc] {
        check(unsafe { asyncop_lease_free(l) }, ASYNCOP_OK);
    }
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
    check(unsafe { asyncop_queue_close(other) }, ASYNCOP_OK);
}
