//! Operation snapshots: the handle, and its scalar getters. The getters that
//! copy text and bytes are in `operation/buffers.rs`; operation lists and
//! counts (the results of query and counts) in `operation/results.rs`.

use super::handles::{self, HandleType, QueueBound, read_scalar, with_handle};
use super::panic::ffi_boundary;
use super::status::asyncop_status;
use super::strings::write_opt;
use crate::operation::Operation;
use crate::queue::Queue;

// `ffi::operation::*` still names every export of these. cbindgen emits a
// module's own items before its submodules (in declaration order), so the
// header keeps its order.
mod buffers;
mod results;

pub use buffers::*;
pub use results::*;

/// An immutable snapshot of one operation, from `asyncop_queue_retrieve`,
/// `asyncop_queue_wait_for` or `asyncop_operation_list_get`. It does not change
/// when the stored operation does. Free with `asyncop_operation_free`. After its
/// queue is closed, getters give ASYNCOP_ERR_CLOSED_HANDLE (freeing still works).
/// Threads: any, concurrent OK.
///
/// Getters write to out-parameters and return a status: NULL_ARG,
/// INVALID_HANDLE, CLOSED_HANDLE, FORKED, PANIC; text and data getters also
/// BUFFER_TOO_SMALL (see the `(buf, cap, out_len)` convention). Getters of
/// attributes that may be absent take `int32_t *out_present` (1 or 0; an absent
/// value reads as 0 or "").
///
/// Functions: asyncop_operation_free, and one getter per attribute:
/// asyncop_operation_id, _name, _operation_type, _state, _status, _data,
/// _dependency_token, _postpone_until, _host_id, _lease_expires_at, _lock_token,
/// _retry_count, _error_code, _message, _friendly_message, _created_on,
/// _modified_on, _started_on, _completed_on, _execution_time_span, _correlation_id,
/// _progress, _progress_text, _output, _recurrence_pattern, _recurrence_start.
pub struct asyncop_operation {
    pub(crate) queue: Queue,
    pub(crate) op: Operation,
}

impl HandleType for asyncop_operation {
    const TAG: u8 = 4;
    const NAME: &'static str = "asyncop_operation";
}

impl QueueBound for asyncop_operation {
    const WHAT: &'static str = "operation";
    fn queue(&self) -> &Queue {
        &self.queue
    }
}

/// Frees a snapshot. NULL is a no-op; a second free gives CLOSED_HANDLE. Threads: any.
///
/// # Safety
/// `operation` is NULL or an operation handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_free(
    operation: *mut asyncop_operation,
) -> asyncop_status {
    ffi_boundary!({
        handles::remove(operation)?;
        Ok(())
    })
}

/// The operation id (> 0, never reused).
///
/// # Safety
/// `operation` is NULL or an operation handle; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_id(
    operation: *const asyncop_operation,
    out: *mut i64,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` is NULL or writable (see `# Safety`).
        unsafe { read_scalar(operation, out, |h| h.op.id) }
    })
}

/// The operation type (> 0).
///
/// # Safety
/// `operation` is NULL or an operation handle; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_operation_type(
    operation: *const asyncop_operation,
    out: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` is NULL or writable (see `# Safety`).
        unsafe { read_scalar(operation, out, |h| h.op.operation_type) }
    })
}

/// The state code (ASYNCOP_STATE_*).
///
/// # Safety
/// `operation` is NULL or an operation handle; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_state(
    operation: *const asyncop_operation,
    out: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` is NULL or writable (see `# Safety`).
        unsafe { read_scalar(operation, out, |h| i32::from(h.op.state.code())) }
    })
}

/// The status code (ASYNCOP_STATUS_*).
///
/// # Safety
/// `operation` is NULL or an operation handle; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_status(
    operation: *const asyncop_operation,
    out: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` is NULL or writable (see `# Safety`).
        unsafe { read_scalar(operation, out, |h| i32::from(h.op.status.code())) }
    })
}

/// The fencing token: 0 before the first claim, + 1 on every claim.
///
/// # Safety
/// `operation` is NULL or an operation handle; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_lock_token(
    operation: *const asyncop_operation,
    out: *mut i64,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` is NULL or writable (see `# Safety`).
        unsafe { read_scalar(operation, out, |h| h.op.lock_token) }
    })
}

/// Attempts that ended in Retry or in a lease expiry.
///
/// # Safety
/// `operation` is NULL or an operation handle; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_retry_count(
    operation: *const asyncop_operation,
    out: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` is NULL or writable (see `# Safety`).
        unsafe { read_scalar(operation, out, |h| h.op.retry_count) }
    })
}

/// Submission time (UTC ms).
///
/// # Safety
/// `operation` is NULL or an operation handle; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_created_on(
    operation: *const asyncop_operation,
    out: *mut i64,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` is NULL or writable (see `# Safety`).
        unsafe { read_scalar(operation, out, |h| h.op.created_on) }
    })
}

/// Time of the last change (UTC ms); lease renewals do not count.
///
/// # Safety
/// `operation` is NULL or an operation handle; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_modified_on(
    operation: *const asyncop_operation,
    out: *mut i64,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` is NULL or writable (see `# Safety`).
        unsafe { read_scalar(operation, out, |h| h.op.modified_on) }
    })
}

/// Earliest time it may become Ready (UTC ms), if set. `*out_present` says whether it is set.
///
/// # Safety
/// `operation` is NULL or an operation handle; `out` and `out_present` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_postpone_until(
    operation: *const asyncop_operation,
    out: *mut i64,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` and `out_present` are NULL or writable (see `# Safety`).
        with_handle(operation, |h| unsafe {
            write_opt(h.op.postpone_until, out, out_present)
        })
    })
}

/// When the current lease ends (UTC ms); present exactly while Locked. `*out_present` says whether it is set.
///
/// # Safety
/// `operation` is NULL or an operation handle; `out` and `out_present` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_lease_expires_at(
    operation: *const asyncop_operation,
    out: *mut i64,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` and `out_present` are NULL or writable (see `# Safety`).
        with_handle(operation, |h| unsafe {
            write_opt(h.op.lease_expires_at, out, out_present)
        })
    })
}

/// Code of the last failure: an HRESULT (negative) or an asyncop status code. `*out_present` says whether it is set.
///
/// # Safety
/// `operation` is NULL or an operation handle; `out` and `out_present` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_error_code(
    operation: *const asyncop_operation,
    out: *mut i32,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` and `out_present` are NULL or writable (see `# Safety`).
        with_handle(operation, |h| unsafe {
            write_opt(h.op.error_code, out, out_present)
        })
    })
}

/// Start of the latest attempt (UTC ms). `*out_present` says whether it is set.
///
/// # Safety
/// `operation` is NULL or an operation handle; `out` and `out_present` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_started_on(
    operation: *const asyncop_operation,
    out: *mut i64,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` and `out_present` are NULL or writable (see `# Safety`).
        with_handle(operation, |h| unsafe {
            write_opt(h.op.started_on, out, out_present)
        })
    })
}

/// When it entered Completed (UTC ms). `*out_present` says whether it is set.
///
/// # Safety
/// `operation` is NULL or an operation handle; `out` and `out_present` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_completed_on(
    operation: *const asyncop_operation,
    out: *mut i64,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` and `out_present` are NULL or writable (see `# Safety`).
        with_handle(operation, |h| unsafe {
            write_opt(h.op.completed_on, out, out_present)
        })
    })
}

/// Length of the latest attempt in ms, from claim until it left Locked. `*out_present` says whether it is set.
///
/// # Safety
/// `operation` is NULL or an operation handle; `out` and `out_present` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_execution_time_span(
    operation: *const asyncop_operation,
    out: *mut i64,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` and `out_present` are NULL or writable (see `# Safety`).
        with_handle(operation, |h| unsafe {
            write_opt(h.op.execution_time_span, out, out_present)
        })
    })
}

/// The running (or last) attempt's progress, 0..=100, as its host last
/// reported it (asyncop_lease_progress); a claim resets it. `*out_present`
/// says whether it is set.
///
/// # Safety
/// `operation` is NULL or an operation handle; `out` and `out_present` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_progress(
    operation: *const asyncop_operation,
    out: *mut i32,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` and `out_present` are NULL or writable (see `# Safety`).
        with_handle(operation, |h| unsafe {
            write_opt(h.op.progress, out, out_present)
        })
    })
}

/// The first occurrence of a series (UTC ms), from which its occurrences are
/// counted; absent for a one-shot operation. `*out_present` says whether it is set.
///
/// # Safety
/// `operation` is NULL or an operation handle; `out` and `out_present` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_recurrence_start(
    operation: *const asyncop_operation,
    out: *mut i64,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` and `out_present` are NULL or writable (see `# Safety`).
        with_handle(operation, |h| unsafe {
            write_opt(h.op.recurrence_start, out, out_present)
        })
    })
}
