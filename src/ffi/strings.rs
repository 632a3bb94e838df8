//! Converting arguments in and results out. Nothing is lossy: a string that is
//! not UTF-8 is refused, never patched. Outputs go to caller buffers
//! `(buf, cap, *out_len)`, like `snprintf` but without silent truncation.

use super::status::{Failure, asyncop_status};
use std::ffi::{CStr, c_char};

/// A required NUL-terminated UTF-8 string.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for this call.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::null_arg(name));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str().map_err(|e| {
        Failure::new(
            asyncop_status::ASYNCOP_ERR_UTF8,
            format!("{name} is not valid UTF-8 (at byte {})", e.valid_up_to()),
        )
    })
}

/// An optional string: NULL means absent.
///
/// # Safety
/// As `str_arg`.
pub(crate) unsafe fn opt_str_arg<'a>(
    p: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, Failure> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: as `str_arg` requires (this function's contract).
        unsafe { str_arg(p, name) }.map(Some)
    }
}

/// A binary payload `(data, len)`; `data` may be NULL only when `len` is 0.
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes valid for this call.
pub(crate) unsafe fn bytes_arg<'a>(
    data: *const u8,
    len: usize,
    name: &str,
) -> Result<&'a [u8], Failure> {
    if len == 0 {
        // from_raw_parts(NULL, 0) is UB: use a real empty slice.
        return Ok(&[]);
    }
    if data.is_null() {
        return Err(Failure::null_arg(name));
    }
    if len > isize::MAX as usize {
        return Err(Failure::new(
            asyncop_status::ASYNCOP_ERR_INVALID_ARG,
            format!("{name} length {len} is too large"),
        ));
    }
    // SAFETY: non-NULL, `len` readable bytes per the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// An array argument `(items, len)`; `items` may be NULL only when `len` is 0.
///
/// # Safety
/// `items` is NULL or points to `len` readable values valid for this call.
pub(crate) unsafe fn slice_arg<'a, T>(
    items: *const T,
    len: usize,
    name: &str,
) -> Result<&'a [T], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if items.is_null() {
        return Err(Failure::null_arg(name));
    }
    if len > isize::MAX as usize / std::mem::size_of::<T>().max(1) {
        return Err(Failure::new(
            asyncop_status::ASYNCOP_ERR_INVALID_ARG,
            format!("{name} length {len} is too large"),
        ));
    }
    // SAFETY: non-NULL, `len` readable values per the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(items, len) })
}

/// A required out-parameter.
///
/// # Safety
/// `p` is NULL or points to a writable, aligned `T`.
pub(crate) unsafe fn out_param<'a, T>(p: *mut T, name: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: per the caller's contract, non-NULL means writable and aligned.
    unsafe { p.as_mut() }.ok_or_else(|| Failure::null_arg(name))
}

/// A boolean passed as `int32_t`: only 0 and 1.
pub(crate) fn bool_arg(v: i32, name: &str) -> Result<bool, Failure> {
    match v {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(Failure::out_of_range(
            &format!("boolean for {name} (0 or 1)"),
            other.into(),
        )),
    }
}

/// A time in ms, where `ASYNCOP_TIME_NONE` means absent.
pub(crate) fn opt_time_arg(t: i64) -> Option<i64> {
    (t != super::ASYNCOP_TIME_NONE).then_some(t)
}

/// Copies `bytes` into the caller's buffer, plus a NUL when `text`.
/// Fits: writes, sets `*out_len` to the length without NUL, OK. Too small (or
/// the size query `(NULL, 0)`): leaves the buffer untouched, sets `*out_len` to
/// the needed length without NUL and returns `BUFFER_TOO_SMALL`.
///
/// # Safety
/// `buf` is NULL or points to `cap` writable bytes; `out_len` is NULL or writable.
unsafe fn write_out(
    bytes: &[u8],
    text: bool,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> Result<(), Failure> {
    // SAFETY: `out_len` is NULL or writable (this function's contract).
    let out_len = unsafe { out_param(out_len, "out_len") }?;
    if buf.is_null() && cap > 0 {
        return Err(Failure::null_arg("buf (with cap > 0)"));
    }
    let needed = bytes.len() + usize::from(text);
    if cap < needed {
        *out_len = bytes.len();
        return Err(Failure::new(
            asyncop_status::ASYNCOP_ERR_BUFFER_TOO_SMALL,
            format!(
                "buffer of {cap} bytes is too small: {needed} needed{}",
                if text { " (including the NUL)" } else { "" }
            ),
        ));
    }
    if needed > 0 {
        // SAFETY: buf has `cap >= needed` writable bytes and cannot overlap our data.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len());
            if text {
                *buf.add(bytes.len()) = 0;
            }
        }
    }
    *out_len = bytes.len();
    Ok(())
}

/// Writes a text result (UTF-8, NUL-terminated) to `(buf, cap, *out_len)`.
///
/// # Safety
/// As `write_out`.
pub(crate) unsafe fn write_text(
    text: &str,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> Result<(), Failure> {
    // SAFETY: as `write_out` requires (this function's contract; `c_char` and `u8` share a layout).
    unsafe { write_out(text.as_bytes(), true, buf.cast(), cap, out_len) }
}

/// Writes a binary result to `(buf, cap, *out_len)`; no NUL is added.
///
/// # Safety
/// As `write_out`.
pub(crate) unsafe fn write_bytes(
    bytes: &[u8],
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> Result<(), Failure> {
    // SAFETY: as `write_out` requires (this function's contract; `c_char` and `u8` share a layout).
    unsafe { write_out(bytes, false, buf, cap, out_len) }
}

/// Writes an optional text result: `*out_present` = 1 and the text, or 0 and
/// an empty string when absent. `*out_present` is written on
/// `BUFFER_TOO_SMALL` too, so a size query also tells whether the value is set.
///
/// # Safety
/// As `write_out`; `out_present` is NULL or writable.
pub(crate) unsafe fn write_opt_text(
    text: Option<&str>,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    out_present: *mut i32,
) -> Result<(), Failure> {
    // SAFETY: `out_present` is NULL or writable (this function's contract).
    let present = unsafe { out_param(out_present, "out_present") }?;
    // SAFETY: as `write_text` requires (this function's contract).
    let result = unsafe { write_text(text.unwrap_or(""), buf, cap, out_len) };
    if result.is_ok()
        || result
            .as_ref()
            .is_err_and(|f| f.code == asyncop_status::ASYNCOP_ERR_BUFFER_TOO_SMALL)
    {
        *present = i32::from(text.is_some());
    }
    result
}

/// Writes an optional binary result like `write_opt_text`, without a NUL:
/// `*out_present` = 1 and the bytes, or 0 and nothing (`*out_len` 0) when absent.
///
/// # Safety
/// As `write_out`; `out_present` is NULL or writable.
pub(crate) unsafe fn write_opt_bytes(
    bytes: Option<&[u8]>,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
    out_present: *mut i32,
) -> Result<(), Failure> {
    // SAFETY: `out_present` is NULL or writable (this function's contract).
    let present = unsafe { out_param(out_present, "out_present") }?;
    // SAFETY: as `write_bytes` requires (this function's contract).
    let result = unsafe { write_bytes(bytes.unwrap_or(&[]), buf, cap, out_len) };
    if result.is_ok()
        || result
            .as_ref()
            .is_err_and(|f| f.code == asyncop_status::ASYNCOP_ERR_BUFFER_TOO_SMALL)
    {
        *present = i32::from(bytes.is_some());
    }
    result
}

/// Writes an optional scalar: `*out_present` = 1 and the value, or 0 and
/// `T::default()` when absent.
///
/// # Safety
/// `out` and `out_present` are NULL or writable.
pub(crate) unsafe fn write_opt<T: Copy + Default>(
    value: Option<T>,
    out: *mut T,
    out_present: *mut i32,
) -> Result<(), Failure> {
    // SAFETY: `out` is NULL or writable (this function's contract).
    let out = unsafe { out_param(out, "out") }?;
    // SAFETY: `out_present` is NULL or writable (this function's contract).
    let present = unsafe { out_param(out_present, "out_present") }?;
    *out = value.unwrap_or_default();
    *present = i32::from(value.is_some());
    Ok(())
}

/// Copies the last error message like `snprintf`: at most `cap - 1` bytes, cut
/// on a UTF-8 boundary, plus a NUL; returns the full length.
///
/// # Safety
/// `buf` is NULL or points to `cap` writable bytes.
pub(crate) unsafe fn copy_truncated(message: &str, buf: *mut c_char, cap: usize) -> usize {
    if !buf.is_null() && cap > 0 {
        let mut n = message.len().min(cap - 1);
        while !message.is_char_boundary(n) {
            n -= 1;
        }
        // SAFETY: buf has `cap > n` writable bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(message.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
    }
    message.len()
}
