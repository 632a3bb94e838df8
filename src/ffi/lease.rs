//! Leases: a host's claim on one operation, and the host transitions made under it.

use super::handles::{self, HandleType};
use super::panic::ffi_boundary;
use super::queue::ensure_open;
use super::status::{Failure, asyncop_status};
use super::strings::{
    opt_str_arg, opt_time_arg, out_param, write_bytes, write_opt_text, write_text,
};
use crate::lease::{Lease, Report};
use crate::queue::Queue;
use crate::transition::{Outcome, Status};
use std::ffi::c_char;

/// One claimed operation, from `asyncop_queue_poll`. The host renews it every
/// lease/3 (`asyncop_lease_renew`, which also reports a requested pause or
/// cancel) and ends it with one outcome: complete, fail, retry, suspend,
/// acknowledge_pause, acknowledge_cancel or report. Every host call is fenced by
/// the lease's lock token: once the lease expired (or the operation was claimed
/// again) it gives ASYNCOP_ERR_LEASE_LOST and changes nothing. Free the handle
/// with `asyncop_lease_free` (freeing does not end the lease: an unfinished
/// lease expires and the operation is retried). After its queue is closed, calls
/// give ASYNCOP_ERR_CLOSED_HANDLE. Threads: any, concurrent OK.
///
/// Functions: asyncop_lease_free; getters asyncop_lease_id, _lock_token,
/// _operation_type, _attempt, _expires_at, _name, _data, _host_id,
/// _dependency_token, _correlation_id; host calls asyncop_lease_renew,
/// _complete, _fail, _retry, _suspend, _acknowledge_pause, _acknowledge_cancel,
/// _report.
pub struct asyncop_lease {
    pub(crate) queue: Queue,
    pub(crate) lease: Lease,
}

impl HandleType for asyncop_lease {
    const TAG: u8 = 7;
    const NAME: &'static str = "asyncop_lease";
}

fn with_lease(
    lease: *const asyncop_lease,
    f: impl FnOnce(&Queue, &Lease) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let h = handles::get(lease)?;
    ensure_open(&h.queue, "lease")?;
    f(&h.queue, &h.lease)
}

/// Writes one attribute of the lease behind a live handle to `*out`.
///
/// # Safety
/// `out` is NULL or writable.
unsafe fn read_scalar<T>(
    lease: *const asyncop_lease,
    out: *mut T,
    get: impl FnOnce(&Lease) -> T,
) -> Result<(), Failure> {
    let out = unsafe { out_param(out, "out") }?;
    with_lease(lease, |_, l| {
        *out = get(l);
        Ok(())
    })
}

/// Frees a lease handle. NULL is a no-op; a second free gives CLOSED_HANDLE.
/// Threads: any.
///
/// # Safety
/// `lease` is NULL or a lease handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_free(lease: *mut asyncop_lease) -> asyncop_status {
    ffi_boundary!({
        handles::remove(lease)?;
        Ok(())
    })
}

/// The claimed operation's id. Errors: NULL_ARG, *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `lease` is NULL or a lease handle; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_id(
    lease: *const asyncop_lease,
    out: *mut i64,
) -> asyncop_status {
    ffi_boundary!({ unsafe { read_scalar(lease, out, |l| l.id) } })
}

/// The fencing token of this claim. Errors: NULL_ARG, *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `lease` is NULL or a lease handle; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_lock_token(
    lease: *const asyncop_lease,
    out: *mut i64,
) -> asyncop_status {
    ffi_boundary!({ unsafe { read_scalar(lease, out, |l| l.lock_token) } })
}

/// The operation type, to pick the handler. Errors: NULL_ARG, *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `lease` is NULL or a lease handle; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_operation_type(
    lease: *const asyncop_lease,
    out: *mut i32,
) -> asyncop_status {
    ffi_boundary!({ unsafe { read_scalar(lease, out, |l| l.operation_type) } })
}

/// The attempt number: 1 for the first run, retry_count + 1 after retries.
/// Errors: NULL_ARG, *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `lease` is NULL or a lease handle; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_attempt(
    lease: *const asyncop_lease,
    out: *mut i32,
) -> asyncop_status {
    ffi_boundary!({ unsafe { read_scalar(lease, out, |l| l.attempt) } })
}

/// When the lease ended at claim time (UTC ms); renewals push the stored expiry,
/// not this value. Errors: NULL_ARG, *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `lease` is NULL or a lease handle; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_expires_at(
    lease: *const asyncop_lease,
    out: *mut i64,
) -> asyncop_status {
    ffi_boundary!({ unsafe { read_scalar(lease, out, |l| l.expires_at) } })
}

/// The operation's name, copied into `(buf, cap)` with a NUL; `*out_len` is its
/// length without NUL; `(NULL, 0)` asks for it. Errors: NULL_ARG,
/// BUFFER_TOO_SMALL, *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `lease` is NULL or a lease handle; `buf` is NULL or has `cap` writable bytes;
/// `out_len` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_name(
    lease: *const asyncop_lease,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> asyncop_status {
    ffi_boundary!({
        with_lease(lease, |_, l| unsafe {
            write_text(&l.name, buf, cap, out_len)
        })
    })
}

/// The host id that claimed it, copied like asyncop_lease_name.
///
/// # Safety
/// As asyncop_lease_name.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_host_id(
    lease: *const asyncop_lease,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> asyncop_status {
    ffi_boundary!({
        with_lease(lease, |_, l| unsafe {
            write_text(&l.host_id, buf, cap, out_len)
        })
    })
}

/// The payload, copied into `(buf, cap)` (no NUL); `*out_len` is its length;
/// `(NULL, 0)` asks for it. Errors: NULL_ARG, BUFFER_TOO_SMALL, *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `lease` is NULL or a lease handle; `buf` is NULL or has `cap` writable bytes;
/// `out_len` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_data(
    lease: *const asyncop_lease,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> asyncop_status {
    ffi_boundary!({
        with_lease(lease, |_, l| unsafe {
            write_bytes(&l.data, buf, cap, out_len)
        })
    })
}

/// The dependency token, if any: copied like asyncop_lease_name, with
/// `*out_present` 1 or 0 (also written by a size query).
///
/// # Safety
/// As asyncop_lease_name; `out_present` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_dependency_token(
    lease: *const asyncop_lease,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        with_lease(lease, |_, l| unsafe {
            write_opt_text(
                l.dependency_token.as_deref(),
                buf,
                cap,
                out_len,
                out_present,
            )
        })
    })
}

/// The correlation id, if any: copied like asyncop_lease_name, with
/// `*out_present` 1 or 0 (also written by a size query).
///
/// # Safety
/// As asyncop_lease_name; `out_present` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_correlation_id(
    lease: *const asyncop_lease,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        with_lease(lease, |_, l| unsafe {
            write_opt_text(l.correlation_id.as_deref(), buf, cap, out_len, out_present)
        })
    })
}

/// Heartbeat: extends the lease by the lease length from now and writes the
/// current status to `*out_status`: ASYNCOP_STATUS_IN_PROGRESS, or
/// ASYNCOP_STATUS_PAUSING / ASYNCOP_STATUS_CANCELING when a user asked the host
/// to stop at its next safe point (then call acknowledge_pause / acknowledge_cancel).
/// Threads: any. Errors: LEASE_LOST, NULL_ARG, *_HANDLE, FORKED, BUSY, IO, INTERNAL, PANIC.
///
/// # Safety
/// `lease` is NULL or a lease handle; `out_status` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_renew(
    lease: *const asyncop_lease,
    out_status: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        let out = unsafe { out_param(out_status, "out_status") }?;
        with_lease(lease, |q, l| {
            *out = i32::from(q.renew(l.key())?.code());
            Ok(())
        })
    })
}

/// Runs one host outcome and writes the operation's new status.
fn finish(
    lease: *const asyncop_lease,
    out_status: *mut i32,
    outcome: Outcome,
    report: Report,
) -> Result<(), Failure> {
    let out = unsafe { out_param(out_status, "out_status") }?;
    with_lease(lease, |q, l| {
        let status: Status = q.report(l.key(), outcome, report)?;
        *out = i32::from(status.code());
        Ok(())
    })
}

/// A report's texts and code; `error_code` 0 means none.
///
/// # Safety
/// The strings are NULL or NUL-terminated.
unsafe fn report_args(
    error_code: i32,
    message: *const c_char,
    friendly_message: *const c_char,
    retry_at: i64,
) -> Result<Report, Failure> {
    Ok(Report {
        error_code: (error_code != 0).then_some(error_code),
        message: unsafe { opt_str_arg(message, "message") }?.map(str::to_owned),
        friendly_message: unsafe { opt_str_arg(friendly_message, "friendly_message") }?
            .map(str::to_owned),
        retry_at: opt_time_arg(retry_at),
    })
}

/// The work finished: Completed/Succeeded (3/30) and the new status in
/// `*out_status`. Threads: any. Errors: LEASE_LOST, NULL_ARG, *_HANDLE, FORKED,
/// BUSY, IO, INTERNAL, PANIC.
///
/// # Safety
/// `lease` is NULL or a lease handle; `out_status` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_complete(
    lease: *const asyncop_lease,
    out_status: *mut i32,
) -> asyncop_status {
    ffi_boundary!({ finish(lease, out_status, Outcome::Succeeded, Report::default()) })
}

/// The work failed for good: Completed/Failed (3/31). `error_code` (0 for none)
/// and `message` (NULL for none; cut at 100,000 characters) are stored.
/// Errors: as asyncop_lease_complete, plus UTF8.
///
/// # Safety
/// As asyncop_lease_complete; `message` is NULL or NUL-terminated.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_fail(
    lease: *const asyncop_lease,
    error_code: i32,
    message: *const c_char,
    out_status: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        let report = unsafe {
            report_args(
                error_code,
                message,
                std::ptr::null(),
                super::ASYNCOP_TIME_NONE,
            )
        }?;
        finish(lease, out_status, Outcome::Failed, report)
    })
}

/// A retryable failure: Suspended (1/10) until the back-off time (or `retry_at`,
/// UTC ms, never earlier than now; ASYNCOP_TIME_NONE for the back-off), or
/// Completed/Failed when the retry budget is spent. Errors: as asyncop_lease_fail.
///
/// # Safety
/// As asyncop_lease_fail.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_retry(
    lease: *const asyncop_lease,
    error_code: i32,
    message: *const c_char,
    retry_at: i64,
    out_status: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        let report = unsafe { report_args(error_code, message, std::ptr::null(), retry_at) }?;
        finish(lease, out_status, Outcome::Retry, report)
    })
}

/// A suspend-class failure: Suspended (1/10) with no time set, until a user
/// resumes it. Errors: as asyncop_lease_fail.
///
/// # Safety
/// As asyncop_lease_fail.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_suspend(
    lease: *const asyncop_lease,
    error_code: i32,
    message: *const c_char,
    out_status: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        let report = unsafe {
            report_args(
                error_code,
                message,
                std::ptr::null(),
                super::ASYNCOP_TIME_NONE,
            )
        }?;
        finish(lease, out_status, Outcome::Suspended, report)
    })
}

/// The host stopped at a safe point after renew reported PAUSING: Suspended
/// (paused, or postponed until the requested time). Errors: as asyncop_lease_complete.
///
/// # Safety
/// As asyncop_lease_complete.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_acknowledge_pause(
    lease: *const asyncop_lease,
    out_status: *mut i32,
) -> asyncop_status {
    ffi_boundary!({ finish(lease, out_status, Outcome::Suspended, Report::default()) })
}

/// The host stopped at a safe point after renew reported CANCELING:
/// Completed/Canceled (3/32). Errors: as asyncop_lease_complete.
///
/// # Safety
/// As asyncop_lease_complete.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_acknowledge_cancel(
    lease: *const asyncop_lease,
    out_status: *mut i32,
) -> asyncop_status {
    ffi_boundary!({ finish(lease, out_status, Outcome::Canceled, Report::default()) })
}

/// The general outcome report: `outcome` is an ASYNCOP_OUTCOME_* code (Failed 0,
/// Canceled 1, Retry 2, Suspended 3, Succeeded 4); `error_code` 0 means none;
/// `message` and `friendly_message` may be NULL; `retry_at` is used by Retry
/// (ASYNCOP_TIME_NONE for the back-off). The result depends on the status at the
/// time (a Pausing or Canceling request is honoured). Writes the new status.
/// Errors: as asyncop_lease_fail, plus OUT_OF_RANGE (outcome).
///
/// # Safety
/// As asyncop_lease_fail; `friendly_message` is NULL or NUL-terminated.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_report(
    lease: *const asyncop_lease,
    outcome: i32,
    error_code: i32,
    message: *const c_char,
    friendly_message: *const c_char,
    retry_at: i64,
    out_status: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        let outcome = Outcome::from_code(outcome.into())
            .ok_or_else(|| Failure::out_of_range("outcome code (0..4)", outcome.into()))?;
        let report = unsafe { report_args(error_code, message, friendly_message, retry_at) }?;
        finish(lease, out_status, outcome, report)
    })
}
