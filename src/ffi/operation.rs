//! Operation snapshots, operation lists and counts: read-only results.

use super::handles::{self, HandleType};
use super::panic::ffi_boundary;
use super::queue::ensure_open;
use super::status::{Failure, asyncop_status};
use super::strings::{out_param, write_bytes, write_opt, write_opt_text, write_text};
use crate::operation::{CountRow, Operation};
use crate::queue::Queue;
use std::ffi::c_char;

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
/// _modified_on, _started_on, _completed_on, _execution_time_span, _correlation_id.
pub struct asyncop_operation {
    pub(crate) queue: Queue,
    pub(crate) op: Operation,
}

impl HandleType for asyncop_operation {
    const TAG: u8 = 4;
    const NAME: &'static str = "asyncop_operation";
}

/// The result of `asyncop_queue_query`: operations in ascending id. Free with
/// `asyncop_operation_list_free`. Threads: any, concurrent OK.
///
/// Functions: asyncop_operation_list_count, asyncop_operation_list_get,
/// asyncop_operation_list_free.
pub struct asyncop_operation_list {
    pub(crate) queue: Queue,
    pub(crate) ops: Vec<Operation>,
}

impl HandleType for asyncop_operation_list {
    const TAG: u8 = 5;
    const NAME: &'static str = "asyncop_operation_list";
}

/// The result of `asyncop_queue_counts`: (state, status, operation_type, count)
/// rows. Free with `asyncop_counts_free`. Threads: any, concurrent OK.
///
/// Functions: asyncop_counts_count, asyncop_counts_get, asyncop_counts_free.
pub struct asyncop_counts {
    pub(crate) queue: Queue,
    pub(crate) rows: Vec<CountRow>,
}

impl HandleType for asyncop_counts {
    const TAG: u8 = 6;
    const NAME: &'static str = "asyncop_counts";
}

/// Runs `f` on the snapshot behind a live handle whose queue is open.
fn with_operation(
    operation: *const asyncop_operation,
    f: impl FnOnce(&Operation) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let h = handles::get(operation)?;
    ensure_open(&h.queue, "operation")?;
    f(&h.op)
}

/// Writes one attribute of the snapshot behind a live handle to `*out`.
///
/// # Safety
/// `out` is NULL or writable.
unsafe fn read_scalar<T>(
    operation: *const asyncop_operation,
    out: *mut T,
    get: impl FnOnce(&Operation) -> T,
) -> Result<(), Failure> {
    let out = unsafe { out_param(out, "out") }?;
    with_operation(operation, |op| {
        *out = get(op);
        Ok(())
    })
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
    ffi_boundary!({ unsafe { read_scalar(operation, out, |op| op.id) } })
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
    ffi_boundary!({ unsafe { read_scalar(operation, out, |op| op.operation_type) } })
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
    ffi_boundary!({ unsafe { read_scalar(operation, out, |op| i32::from(op.state.code())) } })
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
    ffi_boundary!({ unsafe { read_scalar(operation, out, |op| i32::from(op.status.code())) } })
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
    ffi_boundary!({ unsafe { read_scalar(operation, out, |op| op.lock_token) } })
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
    ffi_boundary!({ unsafe { read_scalar(operation, out, |op| op.retry_count) } })
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
    ffi_boundary!({ unsafe { read_scalar(operation, out, |op| op.created_on) } })
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
    ffi_boundary!({ unsafe { read_scalar(operation, out, |op| op.modified_on) } })
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
        with_operation(operation, |op| unsafe {
            write_opt(op.postpone_until, out, out_present)
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
        with_operation(operation, |op| unsafe {
            write_opt(op.lease_expires_at, out, out_present)
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
        with_operation(operation, |op| unsafe {
            write_opt(op.error_code, out, out_present)
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
        with_operation(operation, |op| unsafe {
            write_opt(op.started_on, out, out_present)
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
        with_operation(operation, |op| unsafe {
            write_opt(op.completed_on, out, out_present)
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
        with_operation(operation, |op| unsafe {
            write_opt(op.execution_time_span, out, out_present)
        })
    })
}

/// The name (UTF-8, not unique, may be empty). Copied into `(buf, cap)` with a NUL; `*out_len` is its length in bytes
/// without the NUL. `(NULL, 0)` asks for the length (BUFFER_TOO_SMALL).
///
/// # Safety
/// `operation` is NULL or an operation handle; `buf` is NULL or has `cap` writable
/// bytes; `out_len` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_name(
    operation: *const asyncop_operation,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> asyncop_status {
    ffi_boundary!({
        with_operation(operation, |op| unsafe {
            write_text(&op.name, buf, cap, out_len)
        })
    })
}

/// The payload, copied into `(buf, cap)` (no NUL added); `*out_len` is its length.
/// `(NULL, 0)` asks for the length (BUFFER_TOO_SMALL unless it is empty).
///
/// # Safety
/// `operation` is NULL or an operation handle; `buf` is NULL or has `cap` writable
/// bytes; `out_len` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_data(
    operation: *const asyncop_operation,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> asyncop_status {
    ffi_boundary!({
        with_operation(operation, |op| unsafe {
            write_bytes(&op.data, buf, cap, out_len)
        })
    })
}

/// The dependency token, if any. Copied like asyncop_operation_name; `*out_present` says whether it is
/// set (absent reads as ""); it is also written by a size query.
///
/// # Safety
/// `operation` is NULL or an operation handle; `buf` is NULL or has `cap` writable
/// bytes; `out_len` and `out_present` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_dependency_token(
    operation: *const asyncop_operation,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        with_operation(operation, |op| unsafe {
            write_opt_text(
                op.dependency_token.as_deref(),
                buf,
                cap,
                out_len,
                out_present,
            )
        })
    })
}

/// The host holding it; present exactly while Locked. Copied like asyncop_operation_name; `*out_present` says whether it is
/// set (absent reads as ""); it is also written by a size query.
///
/// # Safety
/// `operation` is NULL or an operation handle; `buf` is NULL or has `cap` writable
/// bytes; `out_len` and `out_present` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_host_id(
    operation: *const asyncop_operation,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        with_operation(operation, |op| unsafe {
            write_opt_text(op.host_id.as_deref(), buf, cap, out_len, out_present)
        })
    })
}

/// Technical detail of the last outcome, if any. Copied like asyncop_operation_name; `*out_present` says whether it is
/// set (absent reads as ""); it is also written by a size query.
///
/// # Safety
/// `operation` is NULL or an operation handle; `buf` is NULL or has `cap` writable
/// bytes; `out_len` and `out_present` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_message(
    operation: *const asyncop_operation,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        with_operation(operation, |op| unsafe {
            write_opt_text(op.message.as_deref(), buf, cap, out_len, out_present)
        })
    })
}

/// Text for end users from the last outcome, if any. Copied like asyncop_operation_name; `*out_present` says whether it is
/// set (absent reads as ""); it is also written by a size query.
///
/// # Safety
/// `operation` is NULL or an operation handle; `buf` is NULL or has `cap` writable
/// bytes; `out_len` and `out_present` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_friendly_message(
    operation: *const asyncop_operation,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        with_operation(operation, |op| unsafe {
            write_opt_text(
                op.friendly_message.as_deref(),
                buf,
                cap,
                out_len,
                out_present,
            )
        })
    })
}

/// The correlation id, if any. Copied like asyncop_operation_name; `*out_present` says whether it is
/// set (absent reads as ""); it is also written by a size query.
///
/// # Safety
/// `operation` is NULL or an operation handle; `buf` is NULL or has `cap` writable
/// bytes; `out_len` and `out_present` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_correlation_id(
    operation: *const asyncop_operation,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        with_operation(operation, |op| unsafe {
            write_opt_text(op.correlation_id.as_deref(), buf, cap, out_len, out_present)
        })
    })
}

fn index_arg(index: usize, len: usize) -> Result<usize, Failure> {
    if index < len {
        Ok(index)
    } else {
        Err(Failure::new(
            asyncop_status::ASYNCOP_ERR_OUT_OF_RANGE,
            format!("index {index} is out of range (the list has {len} items)"),
        ))
    }
}

/// The number of operations in the list. Threads: any.
/// Errors: NULL_ARG, *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `list` is NULL or a list handle; `out_count` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_list_count(
    list: *const asyncop_operation_list,
    out_count: *mut usize,
) -> asyncop_status {
    ffi_boundary!({
        let out = unsafe { out_param(out_count, "out_count") }?;
        let l = handles::get(list)?;
        ensure_open(&l.queue, "list")?;
        *out = l.ops.len();
        Ok(())
    })
}

/// Item `index` (0-based) of the list as a new snapshot handle, freed with
/// `asyncop_operation_free` (independently of the list). Threads: any.
/// Errors: NULL_ARG, OUT_OF_RANGE (index >= count), *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `list` is NULL or a list handle; `out_operation` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_list_get(
    list: *const asyncop_operation_list,
    index: usize,
    out_operation: *mut *mut asyncop_operation,
) -> asyncop_status {
    ffi_boundary!({
        let out = unsafe { out_param(out_operation, "out_operation") }?;
        let l = handles::get(list)?;
        ensure_open(&l.queue, "list")?;
        let op = l.ops[index_arg(index, l.ops.len())?].clone();
        *out = handles::insert(asyncop_operation {
            queue: l.queue.clone(),
            op,
        });
        Ok(())
    })
}

/// Frees a list (not the snapshots taken from it). NULL is a no-op; a second
/// free gives CLOSED_HANDLE. Threads: any.
///
/// # Safety
/// `list` is NULL or a list handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_list_free(
    list: *mut asyncop_operation_list,
) -> asyncop_status {
    ffi_boundary!({
        handles::remove(list)?;
        Ok(())
    })
}

/// The number of (state, status, operation_type) groups. Threads: any.
/// Errors: NULL_ARG, *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `counts` is NULL or a counts handle; `out_count` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_counts_count(
    counts: *const asyncop_counts,
    out_count: *mut usize,
) -> asyncop_status {
    ffi_boundary!({
        let out = unsafe { out_param(out_count, "out_count") }?;
        let c = handles::get(counts)?;
        ensure_open(&c.queue, "counts")?;
        *out = c.rows.len();
        Ok(())
    })
}

/// Row `index` (0-based): its state, status, operation type and number of operations.
/// Threads: any. Errors: NULL_ARG, OUT_OF_RANGE (index >= count), *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `counts` is NULL or a counts handle; the out-pointers are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_counts_get(
    counts: *const asyncop_counts,
    index: usize,
    out_state: *mut i32,
    out_status: *mut i32,
    out_operation_type: *mut i32,
    out_count: *mut i64,
) -> asyncop_status {
    ffi_boundary!({
        let state = unsafe { out_param(out_state, "out_state") }?;
        let status = unsafe { out_param(out_status, "out_status") }?;
        let operation_type = unsafe { out_param(out_operation_type, "out_operation_type") }?;
        let count = unsafe { out_param(out_count, "out_count") }?;
        let c = handles::get(counts)?;
        ensure_open(&c.queue, "counts")?;
        let row = c.rows[index_arg(index, c.rows.len())?];
        *state = i32::from(row.state.code());
        *status = i32::from(row.status.code());
        *operation_type = row.operation_type;
        *count = row.count;
        Ok(())
    })
}

/// Frees a counts handle. NULL is a no-op; a second free gives CLOSED_HANDLE. Threads: any.
///
/// # Safety
/// `counts` is NULL or a counts handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_counts_free(counts: *mut asyncop_counts) -> asyncop_status {
    ffi_boundary!({
        handles::remove(counts)?;
        Ok(())
    })
}
