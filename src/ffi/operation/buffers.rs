//! Snapshot getters that copy text and bytes into caller buffers
//! `(buf, cap, *out_len)`, with `*out_present` for the optional ones.

use super::asyncop_operation;
use crate::ffi::handles::with_handle;
use crate::ffi::panic::ffi_boundary;
use crate::ffi::status::asyncop_status;
use crate::ffi::strings::{write_bytes, write_opt_bytes, write_opt_text, write_text};
use std::ffi::c_char;

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
        // SAFETY: `buf`, `cap` and `out_len` are as `# Safety` states.
        with_handle(operation, |h| unsafe {
            write_text(&h.op.name, buf, cap, out_len)
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
        // SAFETY: `buf`, `cap` and `out_len` are as `# Safety` states.
        with_handle(operation, |h| unsafe {
            write_bytes(&h.op.data, buf, cap, out_len)
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
        // SAFETY: `buf`, `cap`, `out_len` and `out_present` are as `# Safety` states.
        with_handle(operation, |h| unsafe {
            write_opt_text(
                h.op.dependency_token.as_deref(),
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
        // SAFETY: `buf`, `cap`, `out_len` and `out_present` are as `# Safety` states.
        with_handle(operation, |h| unsafe {
            write_opt_text(h.op.host_id.as_deref(), buf, cap, out_len, out_present)
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
        // SAFETY: `buf`, `cap`, `out_len` and `out_present` are as `# Safety` states.
        with_handle(operation, |h| unsafe {
            write_opt_text(h.op.message.as_deref(), buf, cap, out_len, out_present)
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
        // SAFETY: `buf`, `cap`, `out_len` and `out_present` are as `# Safety` states.
        with_handle(operation, |h| unsafe {
            write_opt_text(
                h.op.friendly_message.as_deref(),
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
        // SAFETY: `buf`, `cap`, `out_len` and `out_present` are as `# Safety` states.
        with_handle(operation, |h| unsafe {
            write_opt_text(
                h.op.correlation_id.as_deref(),
                buf,
                cap,
                out_len,
                out_present,
            )
        })
    })
}

/// The running (or last) attempt's progress text, if any: copied like
/// asyncop_operation_name; `*out_present` says whether it is set (absent reads
/// as ""); it is also written by a size query. A claim resets it.
///
/// # Safety
/// `operation` is NULL or an operation handle; `buf` is NULL or has `cap` writable
/// bytes; `out_len` and `out_present` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_progress_text(
    operation: *const asyncop_operation,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `buf`, `cap`, `out_len` and `out_present` are as `# Safety` states.
        with_handle(operation, |h| unsafe {
            write_opt_text(
                h.op.progress_text.as_deref(),
                buf,
                cap,
                out_len,
                out_present,
            )
        })
    })
}

/// The output the last completed run stored (asyncop_lease_complete_output),
/// if any: copied into `(buf, cap)` without a NUL; `*out_len` is its length;
/// `(NULL, 0)` asks for it. `*out_present` says whether it is set (an empty
/// output is present with length 0); it is also written by a size query.
///
/// # Safety
/// `operation` is NULL or an operation handle; `buf` is NULL or has `cap` writable
/// bytes; `out_len` and `out_present` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_output(
    operation: *const asyncop_operation,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `buf`, `cap`, `out_len` and `out_present` are as `# Safety` states.
        with_handle(operation, |h| unsafe {
            write_opt_bytes(h.op.output.as_deref(), buf, cap, out_len, out_present)
        })
    })
}

/// The recurrence pattern of a series (§8, e.g. "FREQ=DAILY;"), absent for a
/// one-shot operation. Copied like asyncop_operation_name; `*out_present` says
/// whether it is set (absent reads as ""); it is also written by a size query.
///
/// # Safety
/// `operation` is NULL or an operation handle; `buf` is NULL or has `cap` writable
/// bytes; `out_len` and `out_present` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_recurrence_pattern(
    operation: *const asyncop_operation,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    out_present: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `buf`, `cap`, `out_len` and `out_present` are as `# Safety` states.
        with_handle(operation, |h| unsafe {
            write_opt_text(
                h.op.recurrence_pattern.as_deref(),
                buf,
                cap,
                out_len,
                out_present,
            )
        })
    })
}
