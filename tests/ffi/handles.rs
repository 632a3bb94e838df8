//! Handle validation: NULL, forged, foreign-typed, freed and reused handles.

use super::*;

#[test]
fn handles_are_validated() {
    let dir = TempDir::new("ffi-handles");
    let path = dir.file("queue.db");
    let q = open_queue(&path);
    let id = submit(q, "first");
    submit(q, "second");
    let op = retrieve(q, id);
    let lease = poll_one(q);
    let mut spec = null_mut();
    check(
        unsafe { asyncop_spec_new(c"spec".as_ptr(), TYPE, &mut spec) },
        ASYNCOP_OK,
    );
    let mut options = null_mut();
    check(unsafe { asyncop_options_new(&mut options) }, ASYNCOP_OK);

    // NULL where a handle is required.
    let mut out_op = null_mut();
    let msg = check(
        unsafe { asyncop_queue_retrieve(null(), id, &mut out_op) },
        ASYNCOP_ERR_NULL_ARG,
    );
    assert!(msg.contains("asyncop_queue"), "{msg:?}");
    let mut now = 0;
    check(
        unsafe { asyncop_queue_now(null(), &mut now) },
        ASYNCOP_ERR_NULL_ARG,
    );
    let mut status = 0;
    check(
        unsafe { asyncop_lease_renew(null(), &mut status) },
        ASYNCOP_ERR_NULL_ARG,
    );
    let mut got = 0;
    check(
        unsafe { asyncop_operation_id(null(), &mut got) },
        ASYNCOP_ERR_NULL_ARG,
    );
    check(
        unsafe { asyncop_spec_set_postpone_until(null_mut(), 5) },
        ASYNCOP_ERR_NULL_ARG,
    );

    // Forged values, never issued. (Casting an integer to a handle is what a
    // buggy C caller does; the library never dereferences it.)
    let tag_queue_unissued_slot = (3usize << 48) | 0x7fff_fff0;
    let tag_lease_unissued_slot = (7usize << 48) | 0x7fff_fff0;
    let real_pointer = (&raw const now).addr();
    for raw in [
        real_pointer,
        1usize,
        0x1234,
        tag_queue_unissued_slot,
        tag_lease_unissued_slot,
    ] {
        let forged = std::ptr::without_provenance_mut::<asyncop_queue>(raw);
        let msg = check(
            unsafe { asyncop_queue_retrieve(forged, id, &mut out_op) },
            ASYNCOP_ERR_INVALID_HANDLE,
        );
        assert!(msg.contains("not a"), "{raw:#x}: {msg:?}");
        assert!(out_op.is_null());
        check(
            unsafe { asyncop_queue_now(forged, &mut now) },
            ASYNCOP_ERR_INVALID_HANDLE,
        );
        check(
            unsafe { asyncop_lease_renew(forged.cast(), &mut status) },
            ASYNCOP_ERR_INVALID_HANDLE,
        );
        check(
            unsafe { asyncop_operation_id(forged.cast(), &mut got) },
            ASYNCOP_ERR_INVALID_HANDLE,
        );
        check(
            unsafe { asyncop_queue_close(forged) },
            ASYNCOP_ERR_INVALID_HANDLE,
        );
    }
    // A token of a live slot with a generation that was never issued.
    let future_generation =
        (q.addr() & !(0xFFFF << 32)) | ((((q.addr() >> 32) + 1) & 0xFFFF) << 32);
    check(
        unsafe {
            asyncop_queue_now(
                std::ptr::without_provenance::<asyncop_queue>(future_generation),
                &mut now,
            )
        },
        ASYNCOP_ERR_INVALID_HANDLE,
    );

    // A handle of another type where a queue (or lease, ...) is expected.
    check(
        unsafe { asyncop_queue_retrieve(lease.cast(), id, &mut out_op) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    check(
        unsafe { asyncop_queue_now(op.cast(), &mut now) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    check(
        unsafe { asyncop_lease_renew(q.cast(), &mut status) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    check(
        unsafe { asyncop_operation_id(lease.cast(), &mut got) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    check(
        unsafe { asyncop_options_set_max_attempts(spec.cast(), 3) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    check(
        unsafe { asyncop_spec_set_postpone_until(options.cast(), 5) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    // ...also to close/free, which must then leave the real object alone.
    check(
        unsafe { asyncop_queue_close(op.cast()) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    check(
        unsafe { asyncop_operation_free(lease.cast()) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    check(
        unsafe { asyncop_lease_free(q.cast()) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    check(
        unsafe { asyncop_spec_free(options.cast()) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    check(
        unsafe { asyncop_options_free(spec.cast()) },
        ASYNCOP_ERR_INVALID_HANDLE,
    );
    assert_eq!(op_id(op), id);
    let mut lease_id = 0;
    check(
        unsafe { asyncop_lease_id(lease, &mut lease_id) },
        ASYNCOP_OK,
    );
    assert_eq!(lease_id, id);
    check(unsafe { asyncop_queue_now(q, &mut now) }, ASYNCOP_OK);
    check(
        unsafe { asyncop_spec_set_postpone_until(spec, 5) },
        ASYNCOP_OK,
    );
    check(
        unsafe { asyncop_options_set_max_attempts(options, 3) },
        ASYNCOP_OK,
    );

    // Closing NULL is a no-op for every close/free function.
    check(unsafe { asyncop_queue_close(null_mut()) }, ASYNCOP_OK);
    check(unsafe { asyncop_lease_free(null_mut()) }, ASYNCOP_OK);
    check(unsafe { asyncop_operation_free(null_mut()) }, ASYNCOP_OK);
    check(
        unsafe { asyncop_operation_list_free(null_mut()) },
        ASYNCOP_OK,
    );
    check(unsafe { asyncop_counts_free(null_mut()) }, ASYNCOP_OK);
    check(unsafe { asyncop_spec_free(null_mut()) }, ASYNCOP_OK);
    check(unsafe { asyncop_options_free(null_mut()) }, ASYNCOP_OK);

    // A freed spec stays closed once a new spec took its slot, and freeing the
    // stale token again must not free the new one. Other tests insert handles
    // concurrently, so retry until the new spec really got the slot.
    let mut reused = false;
    for _ in 0..1000 {
        let mut old = null_mut();
        check(
            unsafe { asyncop_spec_new(c"old".as_ptr(), TYPE, &mut old) },
            ASYNCOP_OK,
        );
        check(unsafe { asyncop_spec_free(old) }, ASYNCOP_OK);
        let mut new = null_mut();
        check(
            unsafe { asyncop_spec_new(c"new".as_ptr(), TYPE, &mut new) },
            ASYNCOP_OK,
        );
        if slot_of(new) != slot_of(old) {
            check(unsafe { asyncop_spec_free(new) }, ASYNCOP_OK);
            continue;
        }
        assert_ne!(new, old, "a reused slot must give a new token");
        let msg = check(
            unsafe { asyncop_spec_set_postpone_until(old, 5) },
            ASYNCOP_ERR_CLOSED_HANDLE,
        );
        assert!(msg.contains("closed"), "{msg:?}");
        check(unsafe { asyncop_spec_free(old) }, ASYNCOP_ERR_CLOSED_HANDLE);
        check(
            unsafe { asyncop_spec_set_postpone_until(new, 5) },
            ASYNCOP_OK,
        );
        check(unsafe { asyncop_spec_free(new) }, ASYNCOP_OK);
        reused = true;
        break;
    }
    assert!(reused, "no spec slot was reused in 1000 tries");

    // The same for queues: the stale queue token keeps failing, the new queue works.
    check(unsafe { asyncop_lease_free(lease) }, ASYNCOP_OK);
    check(unsafe { asyncop_operation_free(op) }, ASYNCOP_OK);
    let mut reused = false;
    let mut current = q;
    let path_c = c_path(&path);
    for _ in 0..100 {
        let old = current;
        check(unsafe { asyncop_queue_close(old) }, ASYNCOP_OK);
        // NULL options: an options handle would take the freed slot first.
        current = null_mut();
        check(
            unsafe { asyncop_queue_open(path_c.as_ptr(), null(), &mut current) },
            ASYNCOP_OK,
        );
        if slot_of(current) != slot_of(old) {
            continue;
        }
        check(
            unsafe { asyncop_queue_now(old, &mut now) },
            ASYNCOP_ERR_CLOSED_HANDLE,
        );
        check(
            unsafe { asyncop_queue_retrieve(old, id, &mut out_op) },
            ASYNCOP_ERR_CLOSED_HANDLE,
        );
        check(
            unsafe { asyncop_queue_close(old) },
            ASYNCOP_ERR_CLOSED_HANDLE,
        );
        let fresh = retrieve(current, id);
        assert_eq!(op_id(fresh), id);
        check(unsafe { asyncop_operation_free(fresh) }, ASYNCOP_OK);
        reused = true;
        break;
    }
    assert!(reused, "no queue slot was reused in 100 tries");

    // Double close / free.
    check(unsafe { asyncop_queue_close(current) }, ASYNCOP_OK);
    check(
        unsafe { asyncop_queue_close(current) },
        ASYNCOP_ERR_CLOSED_HANDLE,
    );
    check(unsafe { asyncop_spec_free(spec) }, ASYNCOP_OK);
    check(
        unsafe { asyncop_spec_free(spec) },
        ASYNCOP_ERR_CLOSED_HANDLE,
    );
    check(unsafe { asyncop_options_free(options) }, ASYNCOP_OK);
    check(
        unsafe { asyncop_options_free(options) },
        ASYNCOP_ERR_CLOSED_HANDLE,
    );
}

/// A slot is retired once its generation reaches the top of its 16 bits: a
/// wrapped generation would make an ancient token valid again.
#[test]
fn a_slot_is_retired_before_its_generation_wraps() {
    let generation_of = |h: *mut asyncop_spec| (h.addr() >> 32) as u16;
    let mut last = None;
    let mut stale = Vec::new();
    // Free and recreate: the free list is LIFO, so one slot cycles through its
    // generations (other tests may take it now and then; that only costs time).
    for _ in 0..400_000 {
        let mut spec = null_mut();
        let rc = unsafe { asyncop_spec_new(c"cycle".as_ptr(), TYPE, &mut spec) };
        assert_eq!(rc, ASYNCOP_OK);
        let (slot, generation) = (slot_of(spec), generation_of(spec));
        if generation < 3 && stale.len() < 8 {
            stale.push(spec);
        }
        assert_eq!(unsafe { asyncop_spec_free(spec) }, ASYNCOP_OK);
        if generation == u16::MAX - 1 {
            last = Some((slot, spec));
            break;
        }
    }
    let (slot, spec) = last.expect("no slot reached generation 65534");
    // Its old tokens, the last one and the very first ones, all stay closed.
    check(
        unsafe { asyncop_spec_set_postpone_until(spec, 1) },
        ASYNCOP_ERR_CLOSED_HANDLE,
    );
    for old in stale.iter().filter(|h| slot_of(**h) == slot) {
        check(
            unsafe { asyncop_spec_set_postpone_until(*old, 1) },
            ASYNCOP_ERR_CLOSED_HANDLE,
        );
    }
    // And nobody gets the slot again.
    let fresh: Vec<_> = (0..64)
        .map(|_| {
            let mut h = null_mut();
            check(
                unsafe { asyncop_spec_new(c"after".as_ptr(), TYPE, &mut h) },
                ASYNCOP_OK,
            );
            h
        })
        .collect();
    assert!(
        fresh.iter().all(|h| slot_of(*h) != slot),
        "a retired slot was reused"
    );
    for h in fresh {
        check(unsafe { asyncop_spec_free(h) }, ASYNCOP_OK);
    }
}

/// Forged values whose top byte is not the current fork epoch (`usize::MAX`,
/// a pointer-like value, a real token with its top byte changed) were never
/// issued either: INVALID_HANDLE, like any other forged value. A close must not
/// report success for them.
#[test]
fn forged_handles_with_high_bits_set_are_invalid() {
    let dir = TempDir::new("ffi-forged-high");
    let q = open_queue(&dir.file("queue.db"));
    let with_other_epoch = q.addr() ^ (0x5A << 56);
    let mut failures = Vec::new();
    for raw in [usize::MAX, 0xdead_beef_dead_beef, with_other_epoch] {
        let forged = std::ptr::without_provenance_mut::<asyncop_queue>(raw);
        let mut now = 0;
        let rc = unsafe { asyncop_queue_now(forged, &mut now) };
        let msg = last_error();
        if rc != ASYNCOP_ERR_INVALID_HANDLE {
            failures.push(format!("asyncop_queue_now({raw:#x}) = {rc:?}: {msg:?}"));
        }
        let rc = unsafe { asyncop_queue_close(forged) };
        if rc != ASYNCOP_ERR_INVALID_HANDLE {
            failures.push(format!("asyncop_queue_close({raw:#x}) = {rc:?}"));
        }
    }
    let mut now = 0;
    check(unsafe { asyncop_queue_now(q, &mut now) }, ASYNCOP_OK);
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
