//! The thread-local last error message.

use super::*;

/// The bytes `asyncop_last_error_message` must leave in a buffer of `cap`
/// bytes for `msg`: the longest prefix of at most `cap - 1` bytes that ends on
/// a character boundary, then a NUL, then the sentinel.
fn expected_copy(msg: &str, cap: usize, room: usize) -> Vec<u8> {
    let mut out = vec![0xAAu8; room];
    if cap > 0 {
        let n = (0..cap.min(msg.len() + 1))
            .rev()
            .find(|&n| msg.is_char_boundary(n))
            .unwrap();
        out[..n].copy_from_slice(&msg.as_bytes()[..n]);
        out[n] = 0;
    }
    out
}

#[track_caller]
fn check_snprintf(msg: &str) {
    assert_eq!(last_error(), msg);
    let room = msg.len() + 8;
    for cap in 0..=msg.len() + 2 {
        let mut buf = vec![0xAAu8; room];
        let n = unsafe { asyncop_last_error_message(buf.as_mut_ptr().cast(), cap) };
        assert_eq!(n, msg.len(), "cap {cap}: the full length");
        assert_eq!(buf, expected_copy(msg, cap, room), "cap {cap}");
        if cap > 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap();
            std::str::from_utf8(&buf[..end]).expect("cut on a UTF-8 boundary");
        }
    }
    assert_eq!(
        unsafe { asyncop_last_error_message(null_mut(), 0) },
        msg.len()
    );
    // NULL with a capacity is only a size query, too.
    assert_eq!(
        unsafe { asyncop_last_error_message(null_mut(), 16) },
        msg.len()
    );
}

#[test]
fn last_error_semantics() {
    let dir = TempDir::new("ffi-last-error-é€😀");
    let path = dir.file("queue.db");
    let q = open_queue(&path);
    let mut now = 0;

    // Empty on a thread that never failed... (a fresh thread: this one may
    // have run other tests).
    thread::spawn(|| assert_eq!(unsafe { asyncop_last_error_message(null_mut(), 0) }, 0))
        .join()
        .unwrap();

    // Set on failure, cleared by the next successful call.
    let mut op = null_mut();
    let first = check(
        unsafe { asyncop_queue_retrieve(q, 0, &mut op) },
        ASYNCOP_ERR_INVALID_ARG,
    );
    check(unsafe { asyncop_queue_now(q, &mut now) }, ASYNCOP_OK);
    assert_eq!(unsafe { asyncop_last_error_message(null_mut(), 0) }, 0);
    let mut buf = [0xAAu8; 4];
    assert_eq!(
        unsafe { asyncop_last_error_message(buf.as_mut_ptr().cast(), buf.len()) },
        0
    );
    assert_eq!(buf, [0, 0xAA, 0xAA, 0xAA]);

    // Each failure replaces the previous message.
    let second = check(
        unsafe { asyncop_queue_retrieve(q, 999_999, &mut op) },
        ASYNCOP_ERR_NOT_FOUND,
    );
    assert_ne!(first, second);
    assert!(second.contains("999999"), "{second:?}");
    let third = check(
        unsafe { asyncop_queue_retrieve(null(), 1, &mut op) },
        ASYNCOP_ERR_NULL_ARG,
    );
    assert_ne!(third, second);

    // Reading it, the status and version getters leave it alone.
    let _ = asyncop_status_name(ASYNCOP_ERR_NOT_FOUND as i32);
    let _ = asyncop_status_name(12345);
    let _ = asyncop_status_hresult(ASYNCOP_ERR_CANNOT_CANCEL as i32);
    let _ = asyncop_status_hresult(777);
    let _ = asyncop_version();
    let _ = asyncop_abi_version();
    let _ = unsafe { asyncop_last_error_message(null_mut(), 0) };
    assert_eq!(last_error(), third);

    // Thread-local: another thread does not see this thread's failure, and
    // its own failure does not replace this thread's message.
    let qh = q as usize;
    let other = thread::spawn(move || {
        let empty = unsafe { asyncop_last_error_message(null_mut(), 0) };
        let mut op = null_mut();
        let rc = unsafe { asyncop_queue_retrieve(qh as *const asyncop_queue, -5, &mut op) };
        (empty, rc, last_error())
    })
    .join()
    .unwrap();
    assert_eq!(other.0, 0, "thread B saw thread A's message");
    assert_eq!(other.1, ASYNCOP_ERR_INVALID_ARG);
    assert!(other.2.contains("-5"), "{:?}", other.2);
    assert_eq!(
        last_error(),
        third,
        "thread B's failure changed thread A's message"
    );

    // Every failing call sets a message, including size queries.
    let lease_src = submit(q, "x");
    let got = retrieve(q, lease_src);
    let mut len = 0;
    let msg = check(
        unsafe { asyncop_operation_name(got, null_mut(), 0, &mut len) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert!(msg.contains("too small"), "{msg:?}");
    check(
        unsafe { asyncop_queue_set_state(q, lease_src, 7, ASYNCOP_STATUS_NONE) },
        ASYNCOP_ERR_OUT_OF_RANGE,
    );
    check(unsafe { asyncop_operation_free(got) }, ASYNCOP_OK);

    // snprintf behaviour on a message the library made from a non-ASCII path
    // (the temp dir's name has é, € and 😀)...
    let garbage = dir.file("not-a-queue.db");
    std::fs::write(&garbage, vec![b'x'; 4096]).unwrap();
    let garbage_c = c_path(&garbage);
    let mut q2 = null_mut();
    let corrupt = check(
        unsafe { asyncop_queue_open(garbage_c.as_ptr(), null(), &mut q2) },
        ASYNCOP_ERR_CORRUPT,
    );
    assert!(corrupt.contains("é€😀"), "{corrupt:?}");
    check_snprintf(&corrupt);

    // ...and on a panic message, with characters of every length.
    let clock = Arc::new(PanicClock::default());
    let panicky = testing::queue_handle(core_queue(&dir.file("panic.db"), clock.clone()));
    clock.set(PANIC_MULTIBYTE);
    let msg = check(
        unsafe { asyncop_queue_now(panicky, &mut now) },
        ASYNCOP_ERR_PANIC,
    );
    clock.set(TICK);
    assert_eq!(msg, format!("internal panic: {MULTIBYTE}"));
    check_snprintf(&msg);

    check(unsafe { asyncop_queue_close(panicky) }, ASYNCOP_OK);
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
}
