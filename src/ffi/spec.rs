//! Operation specs: what `asyncop_queue_submit_many` submits.

use super::handles::{self, HandleType};
use super::panic::ffi_boundary;
use super::status::{Failure, asyncop_status};
use super::strings::{bytes_arg, opt_str_arg, opt_time_arg, out_param, str_arg};
use crate::operation::OperationSpec;
use parking_lot::Mutex;
use std::ffi::c_char;

/// A description of one operation to submit with `asyncop_queue_submit_many`.
/// Create with `asyncop_spec_new`, set the optional fields, free with
/// `asyncop_spec_free` (submitting copies it; the caller still frees it).
/// Threads: setters on one spec are not concurrent; any thread may use it.
///
/// Functions: asyncop_spec_new, asyncop_spec_free, asyncop_spec_set_data,
/// asyncop_spec_set_dependency_token, asyncop_spec_set_postpone_until,
/// asyncop_spec_set_correlation_id, asyncop_spec_set_recurrence.
pub struct asyncop_spec {
    pub(crate) inner: Mutex<OperationSpec>,
}

impl HandleType for asyncop_spec {
    const TAG: u8 = 2;
    const NAME: &'static str = "asyncop_spec";
}

fn with_spec(spec: *mut asyncop_spec, f: impl FnOnce(&mut OperationSpec)) -> Result<(), Failure> {
    let s = handles::get(spec)?;
    f(&mut s.inner.lock());
    Ok(())
}

/// Creates a spec with a name (UTF-8, <= 256 characters) and an operation type
/// (> 0), empty data and no optional fields. Limits are checked at submit.
/// Free with `asyncop_spec_free`. Threads: any. Errors: NULL_ARG, UTF8, INVALID_ARG.
///
/// # Safety
/// `name` is NULL or NUL-terminated; `out_spec` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_spec_new(
    name: *const c_char,
    operation_type: i32,
    out_spec: *mut *mut asyncop_spec,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_spec` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_spec, "out_spec") }?;
        // SAFETY: `name` is NULL or NUL-terminated (see `# Safety`).
        let name = unsafe { str_arg(name, "name") }?;
        crate::operation::check_operation_type(operation_type)?;
        let spec = OperationSpec::new(name, operation_type);
        *out = handles::insert(asyncop_spec {
            inner: Mutex::new(spec),
        });
        Ok(())
    })
}

/// Frees a spec. NULL is a no-op; a second free gives CLOSED_HANDLE. Threads: any.
///
/// # Safety
/// `spec` is NULL or a value from `asyncop_spec_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_spec_free(spec: *mut asyncop_spec) -> asyncop_status {
    ffi_boundary!({
        handles::remove(spec)?;
        Ok(())
    })
}

/// Sets the payload (copied; `data` may be NULL when `len` is 0).
/// Errors: NULL_ARG, *_HANDLE, FORKED.
///
/// # Safety
/// `spec` is NULL or a spec handle; `data` is NULL or has `len` readable bytes.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_spec_set_data(
    spec: *mut asyncop_spec,
    data: *const u8,
    len: usize,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `data` is NULL or has `len` readable bytes (see `# Safety`).
        let data = unsafe { bytes_arg(data, len, "data") }?.to_vec();
        with_spec(spec, |s| s.data = data)
    })
}

/// Sets the dependency token (copied; NULL or "" for none). Operations with the
/// same token run one at a time in creation order. Errors: NULL_ARG, UTF8, *_HANDLE.
///
/// # Safety
/// `spec` is NULL or a spec handle; `token` is NULL or NUL-terminated.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_spec_set_dependency_token(
    spec: *mut asyncop_spec,
    token: *const c_char,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `token` is NULL or NUL-terminated (see `# Safety`).
        let token = unsafe { opt_str_arg(token, "token") }?.map(str::to_owned);
        with_spec(spec, |s| s.dependency_token = token)
    })
}

/// Sets the start time (UTC ms; ASYNCOP_TIME_NONE for none): a future time
/// creates the operation Suspended until then. Errors: NULL_ARG, *_HANDLE.
///
/// # Safety
/// `spec` is NULL or a spec handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_spec_set_postpone_until(
    spec: *mut asyncop_spec,
    postpone_until: i64,
) -> asyncop_status {
    ffi_boundary!({ with_spec(spec, |s| s.postpone_until = opt_time_arg(postpone_until)) })
}

/// Sets the correlation id (copied; NULL for none). Errors: NULL_ARG, UTF8, *_HANDLE.
///
/// # Safety
/// `spec` is NULL or a spec handle; `correlation_id` is NULL or NUL-terminated.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_spec_set_correlation_id(
    spec: *mut asyncop_spec,
    correlation_id: *const c_char,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `correlation_id` is NULL or NUL-terminated (see `# Safety`).
        let id = unsafe { opt_str_arg(correlation_id, "correlation_id") }?.map(str::to_owned);
        with_spec(spec, |s| s.correlation_id = id)
    })
}

/// Makes the spec a recurring series (§8 of the operation model): `pattern`
/// is the RRULE subset (`FREQ=MINUTELY|HOURLY|DAILY|WEEKLY|MONTHLY`, optional
/// `INTERVAL=n`, e.g. "FREQ=DAILY;INTERVAL=2;"), copied; NULL or "" makes it
/// one-shot again. `start` is the first occurrence (UTC ms), or
/// ASYNCOP_TIME_NONE for the time of the submit. A malformed pattern, a start
/// without a pattern, or a pattern with a postpone time is INVALID_ARG at
/// submit. Errors: NULL_ARG, UTF8, *_HANDLE.
///
/// # Safety
/// `spec` is NULL or a spec handle; `pattern` is NULL or NUL-terminated.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_spec_set_recurrence(
    spec: *mut asyncop_spec,
    pattern: *const c_char,
    start: i64,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `pattern` is NULL or NUL-terminated (see `# Safety`).
        let pattern = unsafe { opt_str_arg(pattern, "pattern") }?
            .filter(|p| !p.is_empty())
            .map(str::to_owned);
        with_spec(spec, |s| {
            s.recurrence_pattern = pattern;
            s.recurrence_start = opt_time_arg(start);
        })
    })
}
