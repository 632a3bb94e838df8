//! Freed handles: a stale token stays closed after a new handle took its slot,
//! and a second close or free is CLOSED_HANDLE.

use super::handles::live_handles;
use super::*;

/// A freed spec stays closed once a new spec took its slot, and freeing the
/// stale token again must not free the new one. Other tests insert handles
/// concurrently, so retry until the new spec really got the slot.
#[test]
fn a_freed_spec_stays_closed_once_a_new_spec_took_its_slot() {
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
}

/// The same for queues: the stale queue token keeps failing, the new queue
/// works; closing the new queue a second time is CLOSED_HANDLE.
#[test]
fn a_closed_queue_stays_closed_once_a_new_queue_took_its_slot() {
    let h = live_handles("ffi-handles-queue-reuse");
    let (id, mut out_op, mut now) = (h.id, null_mut(), 0);
    check(unsafe { asyncop_lease_free(h.lease) }, ASYNCOP_OK);
    check(unsafe { asyncop_operation_free(h.op) }, ASYNCOP_OK);
    let mut reused = false;
    let mut current = h.q;
    let path_c = c_path(&h.path);
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
    // Double close.
    check(unsafe { asyncop_queue_close(current) }, ASYNCOP_OK);
    check(
        unsafe { asyncop_queue_close(current) },
        ASYNCOP_ERR_CLOSED_HANDLE,
    );
    check(unsafe { asyncop_spec_free(h.spec) }, ASYNCOP_OK);
    check(unsafe { asyncop_options_free(h.options) }, ASYNCOP_OK);
}

#[test]
fn freeing_a_spec_or_options_twice_is_a_closed_handle() {
    let h = live_handles("ffi-handles-double-free");
    let (spec, options) = (h.spec, h.options);
    check(unsafe { asyncop_lease_free(h.lease) }, ASYNCOP_OK);
    check(unsafe { asyncop_operation_free(h.op) }, ASYNCOP_OK);
    check(unsafe { asyncop_queue_close(h.q) }, ASYNCOP_OK);
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
