//! The user actions on one operation: cancel, pause, resume, postpone,
//! set_postpone_until, delete, the generic set_state and set_recurrence. Each is one core call;
//! a refused action changes nothing.

use super::asyncop_queue;
use crate::ffi::ASYNCOP_STATUS_NONE;
use crate::ffi::handles;
use crate::ffi::panic::ffi_boundary;
use crate::ffi::status::{Failure, asyncop_status};
use crate::ffi::strings::str_arg;
use crate::queue::Queue;
use crate::transition::{State, Status};
use std::ffi::c_char;

/// Runs one user action by id.
fn user_action(
    queue: *const asyncop_queue,
    action: impl FnOnce(&Queue) -> crate::Result<()>,
) -> Result<(), Failure> {
    let q = handles::get(queue)?;
    action(&q.queue)?;
    Ok(())
}

/// Cancel: Ready or Suspended → Completed/Canceled (3/32); Locked → Canceling
/// (2/22) until its host stops. Threads: any. Errors: INVALID_ARG (id <= 0),
/// NOT_FOUND, CANNOT_CANCEL (restricted type), INVALID_STATE_CHANGE (2/22, 3/x),
/// INVALID_STATE_CHANGE_UNEXPECTED (changed meanwhile; retry), BUSY, NULL_ARG,
/// *_HANDLE, FORKED, IO, CORRUPT, INTERNAL, PANIC. A refused action changes nothing.
///
/// # Safety
/// `queue` is NULL or a queue handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_cancel(
    queue: *const asyncop_queue,
    id: i64,
) -> asyncop_status {
    ffi_boundary!({ user_action(queue, |q| q.cancel(id)) })
}

/// Pause: a running operation (2/20) → Pausing (2/21) until its host stops it
/// into Suspended; already Pausing is a no-op. Threads: any. Errors: as
/// asyncop_queue_cancel, with CANNOT_PAUSE and INVALID_STATE_CHANGE_TO_SUSPENDED.
///
/// # Safety
/// `queue` is NULL or a queue handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_pause(
    queue: *const asyncop_queue,
    id: i64,
) -> asyncop_status {
    ffi_boundary!({ user_action(queue, |q| q.pause(id)) })
}

/// Resume: Suspended (1/10) → Ready (0/0) at once. Threads: any. Errors: as
/// asyncop_queue_cancel, with INVALID_STATE_CHANGE_TO_READY (not 1/10, or a
/// restricted type).
///
/// # Safety
/// `queue` is NULL or a queue handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_resume(
    queue: *const asyncop_queue,
    id: i64,
) -> asyncop_status {
    ffi_boundary!({ user_action(queue, |q| q.resume(id)) })
}

/// Postpone until `until` (UTC ms, later than now): Ready or Suspended →
/// Suspended until then; running (2/20) → Pausing, then Suspended until then.
/// Threads: any. Errors: as asyncop_queue_cancel, with INVALID_ARG (until <= now),
/// CANNOT_PAUSE (restricted type while running), INVALID_STATE_CHANGE_TO_SUSPENDED.
///
/// # Safety
/// `queue` is NULL or a queue handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_postpone(
    queue: *const asyncop_queue,
    id: i64,
    until: i64,
) -> asyncop_status {
    ffi_boundary!({ user_action(queue, |q| q.postpone(id, until)) })
}

/// The design card's `set_postpone_until`: exactly asyncop_queue_postpone.
///
/// # Safety
/// `queue` is NULL or a queue handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_set_postpone_until(
    queue: *const asyncop_queue,
    id: i64,
    until: i64,
) -> asyncop_status {
    ffi_boundary!({ user_action(queue, |q| q.set_postpone_until(id, until)) })
}

/// Delete: removes a Completed operation (any state with allow_delete_any).
/// Ids are never reused. Threads: any. Errors: as asyncop_queue_cancel, with
/// CANNOT_DELETE_UNLESS_COMPLETED.
///
/// # Safety
/// `queue` is NULL or a queue handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_delete(
    queue: *const asyncop_queue,
    id: i64,
) -> asyncop_status {
    ffi_boundary!({ user_action(queue, |q| q.delete(id)) })
}

/// The design card's generic state change. `status` may be ASYNCOP_STATUS_NONE
/// (INT32_MIN) for the state's default meaning; any other value that is not a
/// status code (-1 included) is OUT_OF_RANGE.
/// (0) or (0, 0): Resume. (1) or (1, 10): Pause. (3) or (3, 32): Cancel.
/// (3, 30), (3, 31): refused, INVALID_STATE_CHANGE_TO_COMPLETE. (2, ...): refused,
/// INVALID_STATE_CHANGE. Threads: any. Errors: as the action it maps to, plus
/// OUT_OF_RANGE (unknown state or status code) and INVALID_ARG (a status that
/// does not belong to the state).
///
/// # Safety
/// `queue` is NULL or a queue handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_set_state(
    queue: *const asyncop_queue,
    id: i64,
    state: i32,
    status: i32,
) -> asyncop_status {
    ffi_boundary!({
        let q = handles::get(queue)?;
        let st = State::from_code(state.into())
            .ok_or_else(|| Failure::out_of_range("state code (0..3)", state.into()))?;
        let status = match status {
            ASYNCOP_STATUS_NONE => None,
            code => Some(Status::from_code(code.into()).ok_or_else(|| {
                Failure::out_of_range("status code (0,10,20,21,22,30,31,32)", code.into())
            })?),
        };
        q.queue.set_state(id, st, status)?;
        Ok(())
    })
}

/// Gives a recurring series a new pattern (same syntax as
/// `asyncop_spec_set_recurrence`); it takes effect at the next scheduling,
/// counted from the series' start, and a pending postpone time stays.
/// Checks, in order: INVALID_ARG (id <= 0), NOT_FOUND,
/// CANNOT_UPDATE_NONRECURRING (a one-shot operation),
/// CANNOT_UPDATE_RECURRING (type not in recurrence_updatable_types, see
/// `asyncop_options_set_recurrence_updatable_types`; none by default),
/// INVALID_STATE_CHANGE (the series is Completed), INVALID_ARG (a malformed
/// or empty pattern). Threads: any. Other errors: NULL_ARG, UTF8, BUSY,
/// *_HANDLE, FORKED, IO, CORRUPT, INTERNAL, PANIC. A refused call changes nothing.
///
/// # Safety
/// `queue` is NULL or a queue handle; `pattern` is NULL or NUL-terminated.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_set_recurrence(
    queue: *const asyncop_queue,
    id: i64,
    pattern: *const c_char,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `pattern` is NULL or NUL-terminated (see `# Safety`).
        let pattern = unsafe { str_arg(pattern, "pattern") }?;
        user_action(queue, |q| q.set_recurrence(id, pattern))
    })
}
