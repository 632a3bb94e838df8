//! Closing a queue or freeing a lease while other threads call on it.

use super::*;

/// One call of a racing thread: OK or CLOSED_HANDLE, and CLOSED_HANDLE if it
/// started after the close returned. Handles it obtained are freed (always OK).
#[track_caller]
fn racing(rc: asyncop_status, started_after_close: bool, what: &str) {
    let msg = last_error();
    if started_after_close {
        assert_eq!(
            rc, ASYNCOP_ERR_CLOSED_HANDLE,
            "{what} after the close returned: {msg:?}"
        );
    } else {
        assert!(
            rc == ASYNCOP_OK || rc == ASYNCOP_ERR_CLOSED_HANDLE,
            "{what} racing the close returned {rc:?}: {msg:?}"
        );
    }
    assert_eq!(
        rc == ASYNCOP_OK,
        msg.is_empty(),
        "{what}: {rc:?} with {msg:?}"
    );
}

fn hammer_queue(qh: usize, seed: i64, closed: &AtomicBool, post_close_rounds: usize) -> usize {
    let q = qh as *const asyncop_queue;
    let mut after = 0;
    let mut calls = 0;
    while after < post_close_rounds {
        let a = closed.load(Ordering::SeqCst);
        let mut id = 0;
        let rc = unsafe {
            asyncop_queue_submit(
                q,
                c"racing".as_ptr(),
                TYPE,
                b"payload".as_ptr(),
                7,
                null(),
                ASYNCOP_TIME_NONE,
                null(),
                &mut id,
            )
        };
        racing(rc, a, "submit");

        let a = closed.load(Ordering::SeqCst);
        let mut op = null_mut();
        let rc = unsafe { asyncop_queue_retrieve(q, seed, &mut op) };
        racing(rc, a, "retrieve");
        if rc == ASYNCOP_OK {
            let a = closed.load(Ordering::SeqCst);
            let mut got = 0;
            let rc = unsafe { asyncop_operation_id(op, &mut got) };
            racing(rc, a, "operation_id");
            if rc == ASYNCOP_OK {
                assert_eq!(got, seed);
            }
            check(unsafe { asyncop_operation_free(op) }, ASYNCOP_OK);
        }

        let a = closed.load(Ordering::SeqCst);
        let mut leases = [null_mut(); 2];
        let mut n = 0;
        let rc = poll_rc(q, &mut leases, &mut n);
        racing(rc, a, "poll");
        if rc == ASYNCOP_OK {
            for lease in &leases[..n] {
                check(unsafe { asyncop_lease_free(*lease) }, ASYNCOP_OK);
            }
        }

        let a = closed.load(Ordering::SeqCst);
        let mut counts = null_mut();
        let rc = unsafe { asyncop_queue_counts(q, &mut counts) };
        racing(rc, a, "counts");
        if rc == ASYNCOP_OK {
            check(unsafe { asyncop_counts_free(counts) }, ASYNCOP_OK);
        }

        let a = closed.load(Ordering::SeqCst);
        let mut list = null_mut();
        let rc = query_all_rc(q, &mut list);
        racing(rc, a, "query");
        if rc == ASYNCOP_OK {
            check(unsafe { asyncop_operation_list_free(list) }, ASYNCOP_OK);
        }

        let a = closed.load(Ordering::SeqCst);
        let mut now = 0;
        racing(unsafe { asyncop_queue_now(q, &mut now) }, a, "now");

        let a = closed.load(Ordering::SeqCst);
        let (mut r, mut p, mut m) = (0, 0, 0);
        racing(
            unsafe { asyncop_queue_run_maintenance(q, &mut r, &mut p, &mut m) },
            a,
            "run_maintenance",
        );

        calls += 8;
        if a {
            after += 1;
        }
    }
    calls
}

#[test]
fn closing_a_queue_races_calls_on_other_threads() {
    const WORKERS: usize = 4;
    for (round, delay_ms) in [0u64, 1, 5, 20].into_iter().enumerate() {
        let dir = TempDir::new(&format!("ffi-close-race-{round}"));
        let q = open_queue(&dir.file("queue.db"));
        let seed = submit(q, "seed");
        for i in 0..20 {
            submit(q, &format!("queued {i}"));
        }
        let qh = q as usize;
        let closed = AtomicBool::new(false);
        let barrier = Barrier::new(WORKERS + 2);
        let (calls, closes) = thread::scope(|s| {
            let workers: Vec<_> = (0..WORKERS)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        hammer_queue(qh, seed, &closed, 20)
                    })
                })
                .collect();
            // Two closers: exactly one close wins, the other sees a closed handle.
            let closers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        thread::sleep(Duration::from_millis(delay_ms));
                        let rc = unsafe { asyncop_queue_close(qh as *mut asyncop_queue) };
                        let msg = last_error();
                        closed.store(true, Ordering::SeqCst);
                        (rc, msg)
                    })
                })
                .collect();
            let closes: Vec<_> = closers.into_iter().map(|h| h.join().unwrap()).collect();
            let calls: usize = workers.into_iter().map(|h| h.join().unwrap()).sum();
            (calls, closes)
        });
        let oks = closes.iter().filter(|(rc, _)| *rc == ASYNCOP_OK).count();
        assert_eq!(oks, 1, "round {round}: closes {closes:?}");
        for (rc, msg) in &closes {
            assert!(
                *rc == ASYNCOP_OK || *rc == ASYNCOP_ERR_CLOSED_HANDLE,
                "round {round}: close returned {rc:?}: {msg:?}"
            );
        }
        assert!(calls > 0);
        // Everything is closed for good.
        let mut now = 0;
        check(
            unsafe { asyncop_queue_now(q, &mut now) },
            ASYNCOP_ERR_CLOSED_HANDLE,
        );
        check(unsafe { asyncop_queue_close(q) }, ASYNCOP_ERR_CLOSED_HANDLE);
        // The file is intact: a new handle sees the seed and the racing submits.
        let q2 = open_queue(&dir.file("queue.db"));
        let ids = all_ids(q2);
        assert!(ids.len() >= 21 && ids[0] == seed, "round {round}: {ids:?}");
        check(unsafe { asyncop_queue_close(q2) }, ASYNCOP_OK);
    }
}

#[test]
fn freeing_a_lease_races_renewals_on_other_threads() {
    const RENEWERS: usize = 4;
    let dir = TempDir::new("ffi-lease-race");
    let q = open_queue(&dir.file("queue.db"));
    for (round, delay_ms) in [0u64, 1, 5, 20].into_iter().enumerate() {
        let id = submit(q, &format!("leased {round}"));
        let lease = poll_one(q);
        let lh = lease as usize;
        let freed = AtomicBool::new(false);
        let barrier = Barrier::new(RENEWERS + 2);
        let frees = thread::scope(|s| {
            for _ in 0..RENEWERS {
                s.spawn(|| {
                    barrier.wait();
                    let lease = lh as *const asyncop_lease;
                    let mut after = 0;
                    while after < 20 {
                        let a = freed.load(Ordering::SeqCst);
                        let mut status = -1;
                        let rc = unsafe { asyncop_lease_renew(lease, &mut status) };
                        racing(rc, a, "lease_renew");
                        if rc == ASYNCOP_OK {
                            assert_eq!(status, ASYNCOP_STATUS_IN_PROGRESS);
                        }
                        let a2 = freed.load(Ordering::SeqCst);
                        let mut got = 0;
                        let rc = unsafe { asyncop_lease_id(lease, &mut got) };
                        racing(rc, a2, "lease_id");
                        if rc == ASYNCOP_OK {
                            assert_eq!(got, id);
                        }
                        if a {
                            after += 1;
                        }
                    }
                });
            }
            let freers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        thread::sleep(Duration::from_millis(delay_ms));
                        let rc = unsafe { asyncop_lease_free(lh as *mut asyncop_lease) };
                        freed.store(true, Ordering::SeqCst);
                        rc
                    })
                })
                .collect();
            freers
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        });
        let mut frees = frees;
        frees.sort_by_key(|rc| *rc as i32);
        assert_eq!(
            frees,
            vec![ASYNCOP_OK, ASYNCOP_ERR_CLOSED_HANDLE],
            "round {round}"
        );
        let mut status = 0;
        check(
            unsafe { asyncop_lease_renew(lease, &mut status) },
            ASYNCOP_ERR_CLOSED_HANDLE,
        );
    }
    // The queue handle is unaffected.
    assert_eq!(all_ids(q).len(), 4);
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
}

/// A poll or wait_for blocked waiting for work returns CLOSED_HANDLE soon after
/// another thread closes the queue, not when its wait ends.
#[test]
fn closing_a_queue_wakes_blocked_poll_and_wait_for() {
    let dir = TempDir::new("ffi-close-wakes");
    let q = open_queue(&dir.file("queue.db"));
    let id = submit(q, "never completes");
    let lease = poll_one(q); // nothing else is claimable now
    let qh = q as usize;
    let started = Instant::now();
    let (poll, wait) = thread::scope(|s| {
        let poll = s.spawn(move || {
            let mut leases = [null_mut(); 1];
            let mut n = 0;
            let rc = unsafe {
                asyncop_queue_poll(
                    qh as *const asyncop_queue,
                    c"blocked-host".as_ptr(),
                    null(),
                    0,
                    20_000,
                    leases.as_mut_ptr(),
                    1,
                    &mut n,
                )
            };
            (rc, last_error(), n)
        });
        let wait = s.spawn(move || {
            let mut op = null_mut();
            let rc =
                unsafe { asyncop_queue_wait_for(qh as *const asyncop_queue, id, 20_000, &mut op) };
            if rc == ASYNCOP_OK {
                let _ = unsafe { asyncop_operation_free(op) };
            }
            (rc, last_error())
        });
        thread::sleep(Duration::from_millis(100));
        check(
            unsafe { asyncop_queue_close(qh as *mut asyncop_queue) },
            ASYNCOP_OK,
        );
        (poll.join().unwrap(), wait.join().unwrap())
    });
    let elapsed = started.elapsed();
    assert_eq!(poll.0, ASYNCOP_ERR_CLOSED_HANDLE, "poll: {:?}", poll.1);
    assert_eq!(poll.2, 0);
    assert_eq!(wait.0, ASYNCOP_ERR_CLOSED_HANDLE, "wait_for: {:?}", wait.1);
    assert!(elapsed < Duration::from_secs(10), "woke after {elapsed:?}");
    check(unsafe { asyncop_lease_free(lease) }, ASYNCOP_OK);
}
