//! Leases: a host's claim on one operation, its getters and its heartbeat
//! (renew). The outcomes that end a lease are in `lease/outcomes.rs`.

use super::handles::{self, HandleType, QueueBound, read_scalar, with_handle};
use super::panic::ffi_boundary;
use super::status::asyncop_status;
use super::strings::{out_param, write_bytes, write_opt_text, write_text};
use crate::lease::Lease;
use crate::queue::Queue;
use std::ffi::c_char;

// The outcomes; `ffi::lease::*` still names them. cbindgen emits a module's own
// items before its submodules, so the header keeps its order.
mod fields;
pub(crate) mod outcomes;
mod records;
pub(crate) mod stop;

pub use fields::*;
pub use outcomes::*;
pub use records::*;
pub use stop::*;

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
/// _dependency_token, _correlation_id, or all of them in one call:
/// asyncop_lease_read (asyncop_lease_fields); host calls asyncop_lease_renew,
/// _complete, _fail, _retry, _suspend, _acknowledge_pause, _acknowledge_cancel,
/// _report; asyncop_lease_complete_many for a batch; the records of the
/// attempt: asyncop_lease_progress, _complete_output, _report_detail; stop
/// signals: asyncop_lease_stop_requested, asyncop_lease_wait_stop.
pub struct asyncop_lease {
    pub(crate) queue: Queue,
    pub(crate) lease: Lease,
    /// The stop signal, once asked for (`lease/stop.rs`).
    pub(crate) stop: parking_lot::Mutex<Option<crate::stop::StopSignal>>,
}

impl HandleType for asyncop_lease {
    const TAG: u8 = 7;
    const NAME: &'static str = "asyncop_lease";
}

impl QueueBound for asyncop_lease {
    const WHAT: &'static str = "lease";
    fn queue(&self) -> &Queue {
        &self.queue
    }
}

/// Frees a lease handle (and stops watching its stop signal: a blocked
/// asyncop_lease_wait_stop returns). NULL is a no-op; a second free gives CLOSED_HANDLE.
/// Threads: any.
///
/// # Safety
/// `lease` is NULL or a lease handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_free(lease: *mut asyncop_lease) -> asyncop_status {
    ffi_boundary!({
        if let Some(h) = handles::remove(lease)? {
            // Nobody can ask for its stop any more: stop watching it.
            h.queue.unwatch_stop(h.lease.key());
        }
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
    ffi_boundary!({
        // SAFETY: `out` is NULL or writable (see `# Safety`).
        unsafe { read_scalar(lease, out, |h| h.lease.id) }
    })
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
    ffi_boundary!({
        // SAFETY: `out` is NULL or writable (see `# Safety`).
        unsafe { read_scalar(lease, out, |h| h.lease.lock_token) }
    })
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
    ffi_boundary!({
        // SAFETY: `out` is NULL or writable (see `# Safety`).
        unsafe { read_scalar(lease, out, |h| h.lease.operation_type) }
    })
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
    ffi_boundary!({
        // SAFETY: `out` is NULL or writable (see `# Safety`).
        unsafe { read_scalar(lease, out, |h| h.lease.attempt) }
    })
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
    ffi_boundary!({
        // SAFETY: `out` is NULL or writable (see `# Safety`).
        unsafe { read_scalar(lease, out, |h| h.lease.expires_at) }
    })
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
        // SAFETY: `buf`, `cap` and `out_len` are as `# Safety` states.
        with_handle(lease, |h| unsafe {
            write_text(&h.lease.name, buf, cap, out_len)
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
        // SAFETY: `buf`, `cap` and `out_len` are as `# Safety` states.
        with_handle(lease, |h| unsafe {
            write_text(&h.lease.host_id, buf, cap, out_len)
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
        // SAFETY: `buf`, `cap` and `out_len` are as `# Safety` states.
        with_handle(lease, |h| unsafe {
            write_bytes(&h.lease.data, buf, cap, out_len)
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
        // SAFETY: `buf`, `cap`, `out_len` and `out_present` are as `# Safety` states.
        with_handle(lease, |h| unsafe {
            write_opt_text(
                h.lease.dependency_token.as_deref(),
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
        // SAFETY: `buf`, `cap`, `out_len` and `out_present` are as `# Safety` states.
        with_handle(lease, |h| unsafe {
            write_opt_text(
                h.lease.correlation_id.as_deref(),
                buf,
                cap,
                out_len,
                out_present,
            )
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
        // SAFETY: `out_status` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_status, "out_status") }?;
        with_handle(lease, |h| {
            *out = i32::from(h.queue.renew(h.lease.key())?.code());
            Ok(())
        })
    })
}
