//! The attempt history of one operation (`asyncop_queue_attempts`): a list
//! handle read by index, like the results of `asyncop_queue_query`.

use super::handles::{self, HandleType, QueueBound};
use super::panic::ffi_boundary;
use super::queue::asyncop_queue;
use super::status::{Failure, asyncop_status};
use super::strings::{out_param, write_opt, write_opt_text};
use crate::attempt::Attempt;
use crate::queue::Queue;
use std::ffi::c_char;

/// The kept attempts of one operation that ended in an error, oldest first
/// (at most ASYNCOP_ATTEMPTS_KEPT, the newest), from `asyncop_queue_attempts`.
/// A snapshot: later attempts do not appear in it. Free with
/// `asyncop_attempt_list_free`. Threads: any, concurrent OK.
///
/// Functions: asyncop_attempt_list_count, asyncop_attempt_list_get,
/// _error_code, _host_id, _message, _detail, asyncop_attempt_list_free.
pub struct asyncop_attempt_list {
    pub(crate) queue: Queue,
    pub(crate) attempts: Vec<Attempt>,
}

impl HandleType for asyncop_attempt_list {
    const TAG: u8 = 11;
    const NAME: &'static str = "asyncop_attempt_list";
}

impl QueueBound for asyncop_attempt_list {
    const WHAT: &'static str = "attempt list";
    fn queue(&self) -> &Queue {
        &self.queue
    }
}

/// Reads the attempt history of operation `id`: `*out_list` is a new list
/// (free it with `asyncop_attempt_list_free`). Every attempt that ended in an
/// error is kept: a Retry or Failed report, and a lease expiry; a later
/// success does not erase them, deleting the operation does. Threads: any.
/// Errors: NULL_ARG, INVALID_ARG (id <= 0), NOT_FOUND, *_HANDLE, FORKED, IO,
/// CORRUPT, INTERNAL, PANIC.
///
/// # Safety
/// `queue` is NULL or a queue handle; `out_list` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_attempts(
    queue: *const asyncop_queue,
    id: i64,
    out_list: *mut *mut asyncop_attempt_list,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_list` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_list, "out_list") }?;
        let q = handles::get(queue)?;
        let attempts = q.queue.attempts(id)?;
        *out = handles::insert(asyncop_attempt_list {
            queue: q.queue.clone(),
            attempts,
        });
        Ok(())
    })
}

/// Runs `f` on attempt `index` of `list`; OUT_OF_RANGE past the end.
fn with_attempt<R>(
    list: *const asyncop_attempt_list,
    index: usize,
    f: impl FnOnce(&Attempt) -> Result<R, Failure>,
) -> Result<R, Failure> {
    let l = handles::get_open(list)?;
    let len = l.attempts.len();
    let attempt = l.attempts.get(index).ok_or_else(|| {
        Failure::new(
            asyncop_status::ASYNCOP_ERR_OUT_OF_RANGE,
            format!("index {index} is out of range (the list has {len} items)"),
        )
    })?;
    f(attempt)
}

/// The number of attempts in the list. Threads: any.
/// Errors: NULL_ARG, *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `list` is NULL or an attempt list handle; `out_count` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_attempt_list_count(
    list: *const asyncop_attempt_list,
    out_count: *mut usize,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_count` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_count, "out_count") }?;
        *out = handles::get_open(list)?.attempts.len();
        Ok(())
    })
}

/// Attempt `index` (0-based, oldest first): its lock token (one per claim),
/// how it ended (ASYNCOP_ENDING_*), when it was claimed (`*out_started_on`,
/// UTC ms; `*out_started_present` 0 if unknown) and when it ended (UTC ms).
/// Threads: any. Errors: NULL_ARG, OUT_OF_RANGE (index >= count), *_HANDLE,
/// FORKED, PANIC.
///
/// # Safety
/// `list` is NULL or an attempt list handle; the out-pointers are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_attempt_list_get(
    list: *const asyncop_attempt_list,
    index: usize,
    out_lock_token: *mut i64,
    out_ending: *mut i32,
    out_started_on: *mut i64,
    out_started_present: *mut i32,
    out_ended_on: *mut i64,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_lock_token` is NULL or writable (see `# Safety`).
        let lock_token = unsafe { out_param(out_lock_token, "out_lock_token") }?;
        // SAFETY: `out_ending` is NULL or writable (see `# Safety`).
        let ending = unsafe { out_param(out_ending, "out_ending") }?;
        // SAFETY: `out_ended_on` is NULL or writable (see `# Safety`).
        let ended_on = unsafe { out_param(out_ended_on, "out_ended_on") }?;
        if out_started_on.is_null() || out_started_present.is_null() {
            let name = if out_started_on.is_null() {
                "out_started_on"
            } else {
                "out_started_present"
            };
            return Err(Failure::null_arg(name));
        }
        with_attempt(list, index, |a| {
            // SAFETY: both are non-NULL and writable (checked above, `# Safety`).
            unsafe { write_opt(a.started_on, out_started_on, out_started_present) }?;
            *lock_token = a.lock_token;
            *ending = a.ending.code();
            *ended_on = a.ended_on;
            Ok(())
        })
    })
}

/// Attempt `index`'s error code (ASYNCOP_ERR_LEASE_LOST for an expiry);
/// `*out_present` says whether it is set. Errors: as asyncop_attempt_list_get.
///
/// # Safety
/// `list` is NULL or an attempt list handle; `out` and `out_present` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_attempt_list_error_code(
    list: *const asyncop_attempt_list,
    index: usize,
    out: *mut i32,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` and `out_present` are NULL or writable (see `# Safety`).
        with_attempt(list, index, |a| unsafe {
            write_opt(a.error_code, out, out_present)
        })
    })
}

/// Attempt `index`'s host id, if known: copied into `(buf, cap)` with a NUL;
/// `*out_len` is its length without NUL; `(NULL, 0)` asks for it;
/// `*out_present` says whether it is set (also on a size query). Errors: as
/// asyncop_attempt_list_get, plus BUFFER_TOO_SMALL.
///
/// # Safety
/// `list` is NULL or an attempt list handle; `buf` is NULL or has `cap`
/// writable bytes; `out_len` and `out_present` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_attempt_list_host_id(
    list: *const asyncop_attempt_list,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `buf`, `cap`, `out_len` and `out_present` are as `# Safety` states.
        with_attempt(list, index, |a| unsafe {
            write_opt_text(a.host_id.as_deref(), buf, cap, out_len, out_present)
        })
    })
}

/// Attempt `index`'s message, if any; copied like asyncop_attempt_list_host_id.
///
/// # Safety
/// As asyncop_attempt_list_host_id.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_attempt_list_message(
    list: *const asyncop_attempt_list,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `buf`, `cap`, `out_len` and `out_present` are as `# Safety` states.
        with_attempt(list, index, |a| unsafe {
            write_opt_text(a.message.as_deref(), buf, cap, out_len, out_present)
        })
    })
}

/// Attempt `index`'s detail (e.g. a stack trace), if any; copied like
/// asyncop_attempt_list_host_id.
///
/// # Safety
/// As asyncop_attempt_list_host_id.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_attempt_list_detail(
    list: *const asyncop_attempt_list,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `buf`, `cap`, `out_len` and `out_present` are as `# Safety` states.
        with_attempt(list, index, |a| unsafe {
            write_opt_text(a.detail.as_deref(), buf, cap, out_len, out_present)
        })
    })
}

/// Frees an attempt list. NULL is a no-op; a second free gives
/// CLOSED_HANDLE. Threads: any.
///
/// # Safety
/// `list` is NULL or an attempt list handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_attempt_list_free(
    list: *mut asyncop_attempt_list,
) -> asyncop_status {
    ffi_boundary!({
        handles::remove(list)?;
        Ok(())
    })
}
