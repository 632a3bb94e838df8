//! Handle validation: NULL, forged, foreign-typed, freed and reused handles.

use super::*;
use std::path::PathBuf;

/// A live handle of every type (also used by `stale_handles`): a queue holding two operations, the first one
/// retrieved and leased, a spec and an options object.
pub(super) struct Handles {
    _dir: TempDir,
    pub(super) path: PathBuf,
    pub(super) q: *mut asyncop_queue,
    /// The first operation: `op` and `lease` are both of it.
    pub(super) id: i64,
    pub(super) op: *mut asyncop_operation,
    pub(super) lease: *mut asyncop_lease,
    pub(super) spec: *mut asyncop_spec,
    pub(super) options: *mut asyncop_options,
}

pub(super) fn live_handles(test: &str) -> Handles {
    let dir = TempDir::new(test);
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
    Handles {
        _dir: dir,
        path,
        q,
        id,
        op,
        lease,
        spec,
        options,
    }
}

impl Handles {
    /// Closes and frees every handle; each must still be live.
    fn free_all(self) {
        check(unsafe { asyncop_lease_free(self.lease) }, ASYNCOP_OK);
        check(unsafe { asyncop_operation_free(self.op) }, ASYNCOP_OK);
        check(unsafe { asyncop_spec_free(self.spec) }, ASYNCOP_OK);
        check(unsafe { asyncop_options_free(self.options) }, ASYNCOP_OK);
        check(unsafe { asyncop_queue_close(self.q) }, ASYNCOP_OK);
    }
}

#[test]
fn null_where_a_handle_is_required_is_null_arg() {
    let h = live_handles("ffi-handles-null");
    let mut out_op = null_mut();
    let msg = check(
        unsafe { asyncop_queue_retrieve(null(), h.id, &mut out_op) },
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
    h.free_all();
}

/// Forged values, never issued. (Casting an integer to a handle is what a
/// buggy C caller does; the library never dereferences it.)
#[test]
fn forged_values_never_issued_are_invalid_handles() {
    let h = live_handles("ffi-handles-forged");
    let (mut out_op, mut now, mut status, mut got) = (null_mut(), 0, 0, 0);
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
            unsafe { asyncop_queue_retrieve(forged, h.id, &mut out_op) },
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
    h.free_all();
}

/// A token of a live slot with a generation that was never issued.
#[test]
fn a_live_slot_with_an_unissued_generation_is_an_invalid_handle() {
    let h = live_handles("ffi-handles-future-generation");
    let q = h.q;
    let mut now = 0;
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
    h.free_all();
}

/// A handle of another type where a queue (or lease, ...) is expected, also to
/// close/free, which must then leave the real object alone.
#[test]
fn a_handle_of_another_type_is_invalid_and_left_alone() {
    let h = live_handles("ffi-handles-foreign-type");
    let Handles {
        q,
        id,
        op,
        lease,
        spec,
        options,
        ..
    } = h;
    let (mut out_op, mut now, mut status, mut got) = (null_mut(), 0, 0, 0);
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
    h.free_all();
}

#[test]
fn closing_null_is_a_no_op_for_every_close_and_free() {
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
