//! A running attempt's records through its lease: progress reports, a
//! completion that stores an output, and an outcome report that carries a
//! detail for the attempt history.

use super::asyncop_lease;
use crate::attempt::Progress;
use crate::ffi::handles::with_handle;
use crate::ffi::panic::ffi_boundary;
use crate::ffi::status::{Failure, asyncop_status};
use crate::ffi::strings::{bool_arg, bytes_arg, opt_str_arg, opt_time_arg, out_param};
use crate::lease::Report;
use crate::transition::Outcome;
use std::ffi::c_char;

/// Reports the attempt's progress: `percent` 0..=100 and a short `text` (NULL
/// for none; at most ASYNCOP_PROGRESS_TEXT_MAX_CHARS characters), read back
/// by asyncop_operation_progress and _progress_text until the next claim
/// resets them. Writes the operation's status to `*out_status` like
/// asyncop_lease_renew (IN_PROGRESS, or PAUSING / CANCELING when a user asked
/// the host to stop); it does not renew the lease.
///
/// `durable` 0: the write wakes no waiting poll and is not synced on its own
/// (SQLite at ASYNCOP_DURABILITY_FULL commits it with synchronous=NORMAL,
/// PostgreSQL with synchronous_commit=off): the next durable commit covers
/// it, and a power loss or server crash before that may lose the latest
/// progress, never anything else. `durable` 1: synced like an outcome.
/// Threads: any. Errors: LEASE_LOST (stale token, expired lease, operation
/// gone or no longer Locked; nothing written), INVALID_ARG (percent out of
/// range, text too long or containing NUL), OUT_OF_RANGE (durable not 0/1),
/// UTF8, NULL_ARG, *_HANDLE, FORKED, BUSY, IO, INTERNAL, PANIC.
///
/// # Safety
/// `lease` is NULL or a lease handle; `text` is NULL or NUL-terminated;
/// `out_status` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_progress(
    lease: *const asyncop_lease,
    percent: i32,
    text: *const c_char,
    durable: i32,
    out_status: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_status` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_status, "out_status") }?;
        // SAFETY: `text` is NULL or NUL-terminated (see `# Safety`).
        let text = unsafe { opt_str_arg(text, "text") }?;
        let progress = Progress {
            percent,
            text: text.map(str::to_owned),
            durable: bool_arg(durable, "durable")?,
        };
        with_handle(lease, |h| {
            *out = i32::from(h.queue.report_progress(h.lease.key(), &progress)?.code());
            Ok(())
        })
    })
}

/// Completes the lease like asyncop_lease_complete and stores `(output, len)`
/// as the operation's output (asyncop_operation_output), binary-safe; `output`
/// may be NULL when `len` is 0 (an empty output). For a recurring series each
/// run's output replaces the last run's (a run completed without output
/// clears it). Threads: any. Errors: INVALID_ARG (`len` over
/// ASYNCOP_OUTPUT_MAX_BYTES: nothing written, the lease still held),
/// LEASE_LOST, NULL_ARG, *_HANDLE, FORKED, BUSY, IO, INTERNAL, PANIC.
///
/// # Safety
/// `lease` is NULL or a lease handle; `output` is NULL or has `len` readable
/// bytes; `out_status` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_complete_output(
    lease: *const asyncop_lease,
    output: *const u8,
    len: usize,
    out_status: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_status` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_status, "out_status") }?;
        // SAFETY: `output` is NULL or has `len` readable bytes (see `# Safety`).
        let output = unsafe { bytes_arg(output, len, "output") }?;
        with_handle(lease, |h| {
            let result = h.queue.complete_with_output(h.lease.key(), output);
            // Like every outcome: the stop signal ends (a worker sees the lease ended).
            if matches!(result, Ok(_) | Err(crate::Error::LeaseLost { .. })) {
                super::stop::end_stop(h);
            }
            *out = i32::from(result?.code());
            Ok(())
        })
    })
}

/// asyncop_lease_report with a `detail` (NULL for none; e.g. a stack trace,
/// cut at ASYNCOP_MESSAGE_MAX_CHARS characters) kept with the attempt in the
/// attempt history (asyncop_queue_attempts) when the outcome is an error:
/// ASYNCOP_OUTCOME_RETRY or ASYNCOP_OUTCOME_FAILED (other outcomes keep no
/// history and ignore it). Errors: as asyncop_lease_report.
///
/// # Safety
/// As asyncop_lease_report; `detail` is NULL or NUL-terminated.
#[must_use]
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn asyncop_lease_report_detail(
    lease: *const asyncop_lease,
    outcome: i32,
    error_code: i32,
    message: *const c_char,
    friendly_message: *const c_char,
    retry_at: i64,
    detail: *const c_char,
    out_status: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_status` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_status, "out_status") }?;
        let outcome = Outcome::from_code(outcome.into())
            .ok_or_else(|| Failure::out_of_range("outcome code (0..4)", outcome.into()))?;
        let text = |p: *const c_char, name: &str| -> Result<Option<String>, Failure> {
            // SAFETY: every text argument is NULL or NUL-terminated (see `# Safety`).
            Ok(unsafe { opt_str_arg(p, name) }?.map(str::to_owned))
        };
        let report = Report {
            error_code: (error_code != 0).then_some(error_code),
            message: text(message, "message")?,
            friendly_message: text(friendly_message, "friendly_message")?,
            retry_at: opt_time_arg(retry_at),
            detail: text(detail, "detail")?,
        };
        with_handle(lease, |h| {
            let result = h.queue.report(h.lease.key(), outcome, report);
            if matches!(result, Ok(_) | Err(crate::Error::LeaseLost { .. })) {
                super::stop::end_stop(h);
            }
            *out = i32::from(result?.code());
            Ok(())
        })
    })
}
