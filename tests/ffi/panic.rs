//! Panics: `ASYNCOP_ERR_PANIC`, poisoning only the handle that panicked.

use super::*;

#[test]
fn panic_returns_err_panic_and_poisons_only_that_handle() {
    let dir = TempDir::new("ffi-panic");
    let path = dir.file("queue.db");
    let clock = Arc::new(PanicClock::default());
    let core = core_queue(&path, clock.clone());
    let q = testing::queue_handle(core.clone());
    // Another handle on the same core queue, and one on its own connection.
    let sibling = testing::queue_handle(core);
    let other = open_queue(&path);

    let before = submit(q, "before the panic");
    let snapshot = retrieve(q, before);
    let lease_source = submit(q, "claimed before the panic");
    let lease = poll_one(q); // claims `before`, the oldest

    clock.set(PANIC_STRING);
    let mut id = -7;
    let msg = check(submit_rc(q, c"doomed", TYPE, &mut id), ASYNCOP_ERR_PANIC);
    assert!(msg.starts_with("internal panic:"), "{msg:?}");
    assert!(msg.contains("injected clock failure #42 (boom)"), "{msg:?}");
    assert_eq!(id, -7, "out_id written by a panicking call");

    // Poisoned, even once the clock works again.
    clock.set(TICK);
    let msg = check(submit_rc(q, c"after", TYPE, &mut id), ASYNCOP_ERR_PANIC);
    assert!(msg.contains("poisoned"), "{msg:?}");
    let mut now = 0;
    check(unsafe { asyncop_queue_now(q, &mut now) }, ASYNCOP_ERR_PANIC);
    let mut op = null_mut();
    check(
        unsafe { asyncop_queue_retrieve(q, before, &mut op) },
        ASYNCOP_ERR_PANIC,
    );
    assert!(op.is_null());
    let mut n = 0;
    let mut leases = [null_mut(); 1];
    check(poll_rc(q, &mut leases, &mut n), ASYNCOP_ERR_PANIC);

    // Other handles, even on the same core queue, and handles obtained from the
    // poisoned one before the panic, are not poisoned.
    check(unsafe { asyncop_queue_now(sibling, &mut now) }, ASYNCOP_OK);
    assert_eq!(now, T0);
    let sibling_id = submit(sibling, "sibling");
    let other_id = submit(other, "other");
    assert_eq!(op_id(snapshot), before);
    let mut lease_id = 0;
    check(
        unsafe { asyncop_lease_id(lease, &mut lease_id) },
        ASYNCOP_OK,
    );
    assert_eq!(lease_id, before);
    // The panicking submit was rolled back.
    assert_eq!(
        all_ids(other),
        vec![before, lease_source, sibling_id, other_id]
    );

    // Close still works on the poisoned handle, once.
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_ERR_CLOSED_HANDLE);
    check(
        unsafe { asyncop_queue_now(q, &mut now) },
        ASYNCOP_ERR_CLOSED_HANDLE,
    );

    check(unsafe { asyncop_lease_free(lease) }, ASYNCOP_OK);
    check(unsafe { asyncop_operation_free(snapshot) }, ASYNCOP_OK);
    check(unsafe { asyncop_queue_close(sibling) }, ASYNCOP_OK);
    assert_eq!(all_ids(other).len(), 4);
    check(unsafe { asyncop_queue_close(other) }, ASYNCOP_OK);
}

#[test]
fn panics_with_non_string_payloads_are_caught_too() {
    let dir = TempDir::new("ffi-panic-payloads");
    let path = dir.file("queue.db");
    let clock = Arc::new(PanicClock::default());
    let core = core_queue(&path, clock.clone());

    // A fresh handle each time: the previous one is poisoned. (They share one
    // core queue, which the first close would close for all: close them last.)
    let mut poisoned = Vec::new();
    for (mode, expect_text) in [
        (PANIC_STR, Some("injected clock failure (a &'static str)")),
        (PANIC_I32, None),
        (PANIC_DROP_PANICS, None),
    ] {
        let q = testing::queue_handle(core.clone());
        poisoned.push(q);
        clock.set(mode);
        let mut now = 0;
        let msg = check(unsafe { asyncop_queue_now(q, &mut now) }, ASYNCOP_ERR_PANIC);
        clock.set(TICK);
        assert!(msg.starts_with("internal panic: "), "mode {mode}: {msg:?}");
        assert!(msg.len() > "internal panic: ".len(), "mode {mode}: {msg:?}");
        if let Some(text) = expect_text {
            assert_eq!(msg, format!("internal panic: {text}"));
        }
        check(unsafe { asyncop_queue_now(q, &mut now) }, ASYNCOP_ERR_PANIC);
    }

    // A panic in a lease call poisons the lease handle, not the queue's.
    let q = testing::queue_handle(core.clone());
    submit(q, "leased");
    let lease = poll_one(q);
    clock.set(PANIC_I32);
    let mut status = -1;
    check(
        unsafe { asyncop_lease_renew(lease, &mut status) },
        ASYNCOP_ERR_PANIC,
    );
    clock.set(TICK);
    assert_eq!(status, -1);
    check(
        unsafe { asyncop_lease_renew(lease, &mut status) },
        ASYNCOP_ERR_PANIC,
    );
    let mut id = 0;
    check(
        unsafe { asyncop_lease_id(lease, &mut id) },
        ASYNCOP_ERR_PANIC,
    );
    let mut now = 0;
    check(unsafe { asyncop_queue_now(q, &mut now) }, ASYNCOP_OK);
    check(unsafe { asyncop_lease_free(lease) }, ASYNCOP_OK);
    check(
        unsafe { asyncop_lease_free(lease) },
        ASYNCOP_ERR_CLOSED_HANDLE,
    );
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
    for q in poisoned {
        check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
    }
}

/// Calls into the library from its `Drop`, as a Rust host's guard object would.
struct CallsOnDrop {
    queue: *const asyncop_queue,
    result: Arc<Mutex<Option<asyncop_status>>>,
}

impl Drop for CallsOnDrop {
    fn drop(&mut self) {
        let mut now = 0;
        let rc = unsafe { asyncop_queue_now(self.queue, &mut now) };
        *self.result.lock().unwrap() = Some(rc);
    }
}

#[test]
fn a_call_made_while_the_caller_unwinds_does_not_poison_the_handle() {
    let dir = TempDir::new("ffi-unwinding-caller");
    let q = open_queue(&dir.file("queue.db"));
    let result = Arc::new(Mutex::new(None));
    let guard = CallsOnDrop {
        queue: q,
        result: result.clone(),
    };
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _guard = guard;
        panic!("the caller's own panic, unrelated to asyncop");
    }));
    assert!(unwound.is_err());
    // The call made during the caller's unwinding succeeded...
    assert_eq!(*result.lock().unwrap(), Some(ASYNCOP_OK));
    // ...so the handle must not be poisoned: nothing panicked inside asyncop.
    let mut now = 0;
    let rc = unsafe { asyncop_queue_now(q, &mut now) };
    let msg = last_error();
    let _ = unsafe { asyncop_queue_close(q) };
    assert_eq!(
        rc, ASYNCOP_OK,
        "a call that returned OK while the caller was unwinding poisoned the handle: {msg:?}"
    );
}
