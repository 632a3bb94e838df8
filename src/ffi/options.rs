//! The options of `asyncop_queue_open`: one handle, one setter per option.

use super::handles::{self, HandleType};
use super::panic::ffi_boundary;
use super::status::{Failure, asyncop_status};
use super::strings::{bool_arg, out_param, slice_arg};
use crate::operation::check_max_payload_bytes;
use crate::queue::Options;
use crate::store::sqlite::Durability;
use crate::store::sqlite::check_file_mode;
use crate::transition::Retention;
use parking_lot::Mutex;
use std::time::Duration;

/// Options for `asyncop_queue_open`. Create with `asyncop_options_new`, set
/// what differs from the defaults, pass to `asyncop_queue_open` (which copies
/// it), free with `asyncop_options_free`.
///
/// Defaults: durability FULL, busy timeout 5000 ms, lease 30000 ms (renew every
/// 10000 ms), and for queue-wide settings "keep what the file has" (on a new
/// file: restricted types 9,16,18,19,20,22,24,25,27,31; max attempts 4; back-off
/// 5000 ms doubling up to 3600000 ms; delete only Completed; no type whose
/// series' pattern may be updated; payloads up to ASYNCOP_PAYLOAD_DEFAULT_MAX =
/// 16 MiB; clean-up on, Completed rows kept 30 days Succeeded, 60 Failed, 60
/// Canceled; no auto-delete types), file mode 0600 for a new file.
/// A queue-wide setting that is set is written into the file for every process.
///
/// Functions: asyncop_options_new, asyncop_options_free,
/// asyncop_options_set_durability, asyncop_options_set_busy_timeout_ms,
/// asyncop_options_set_lease_ms, asyncop_options_set_restricted_types,
/// asyncop_options_set_recurrence_updatable_types, asyncop_options_set_max_attempts, asyncop_options_set_backoff_ms,
/// asyncop_options_set_allow_delete_any, asyncop_options_set_max_payload_bytes,
/// asyncop_options_set_file_mode, asyncop_options_set_cleanup_enabled,
/// asyncop_options_set_retention_ms, asyncop_options_set_auto_delete_types.
pub struct asyncop_options {
    pub(crate) inner: Mutex<Options>,
}

impl HandleType for asyncop_options {
    const TAG: u8 = 1;
    const NAME: &'static str = "asyncop_options";
}

pub(crate) fn ms_arg(ms: i64, name: &str) -> Result<Duration, Failure> {
    u64::try_from(ms).map(Duration::from_millis).map_err(|_| {
        Failure::new(
            asyncop_status::ASYNCOP_ERR_INVALID_ARG,
            format!("{name} must be >= 0 ms, got {ms}"),
        )
    })
}

fn with_options(
    options: *mut asyncop_options,
    f: impl FnOnce(&mut Options) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let o = handles::get(options)?;
    let mut guard = o.inner.lock();
    f(&mut guard)
}

/// Creates an options object with the defaults. Free it with `asyncop_options_free`.
/// Threads: any. Errors: NULL_ARG.
///
/// # Safety
/// `out_options` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_options_new(
    out_options: *mut *mut asyncop_options,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_options` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_options, "out_options") }?;
        *out = handles::insert(asyncop_options {
            inner: Mutex::new(Options::default()),
        });
        Ok(())
    })
}

/// Frees an options object. NULL is a no-op; a second free gives CLOSED_HANDLE.
/// Threads: any, not concurrently with setters on the same object.
///
/// # Safety
/// `options` is NULL or a value from `asyncop_options_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_options_free(options: *mut asyncop_options) -> asyncop_status {
    ffi_boundary!({
        handles::remove(options)?;
        Ok(())
    })
}

/// Sets the durability: ASYNCOP_DURABILITY_FULL (default) or ASYNCOP_DURABILITY_NORMAL.
/// Threads: not concurrent on one object. Errors: NULL_ARG, *_HANDLE, OUT_OF_RANGE.
///
/// # Safety
/// `options` is NULL or a value from `asyncop_options_new`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_options_set_durability(
    options: *mut asyncop_options,
    durability: i32,
) -> asyncop_status {
    ffi_boundary!({
        with_options(options, |o| {
            o.sqlite.durability = match durability {
                super::ASYNCOP_DURABILITY_FULL => Durability::Full,
                super::ASYNCOP_DURABILITY_NORMAL => Durability::Normal,
                other => return Err(Failure::out_of_range("durability (0 or 1)", other.into())),
            };
            Ok(())
        })
    })
}

/// Sets how long a write waits for the write lock before ASYNCOP_ERR_BUSY (default 5000 ms).
/// Threads: not concurrent on one object. Errors: NULL_ARG, *_HANDLE, INVALID_ARG (< 0).
///
/// # Safety
/// `options` is NULL or a value from `asyncop_options_new`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_options_set_busy_timeout_ms(
    options: *mut asyncop_options,
    busy_timeout_ms: i64,
) -> asyncop_status {
    ffi_boundary!({
        let d = ms_arg(busy_timeout_ms, "busy_timeout_ms")?;
        with_options(options, |o| {
            o.busy_timeout = d;
            Ok(())
        })
    })
}

/// Sets the lease length of claims made through the queue (default 30000 ms).
/// Renew at most every third of it. Threads: not concurrent on one object.
/// Errors: NULL_ARG, *_HANDLE, INVALID_ARG (<= 0).
///
/// # Safety
/// `options` is NULL or a value from `asyncop_options_new`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_options_set_lease_ms(
    options: *mut asyncop_options,
    lease_ms: i64,
) -> asyncop_status {
    ffi_boundary!({
        let d = ms_arg(lease_ms, "lease_ms")?;
        crate::lease::check_lease(d)?;
        with_options(options, |o| {
            o.lease = d;
            Ok(())
        })
    })
}

/// Sets the queue-wide restricted operation types (Cancel/Pause/Resume refused);
/// `len` 0 means none. The array is copied. Written into the file at open.
/// Threads: not concurrent on one object. Errors: NULL_ARG (types NULL with len > 0), *_HANDLE.
///
/// # Safety
/// `options` is NULL or a value from `asyncop_options_new`; `types` is NULL or
/// points to `len` readable `int32_t`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_options_set_restricted_types(
    options: *mut asyncop_options,
    types: *const i32,
    len: usize,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `types` is NULL or has `len` readable values (see `# Safety`).
        let types = unsafe { slice_arg(types, len, "types") }?.to_vec();
        with_options(options, |o| {
            o.restricted_types = Some(types);
            Ok(())
        })
    })
}

/// Sets the queue-wide `recurrence_updatable_types`: the operation types whose
/// series may get a new pattern with `asyncop_queue_set_recurrence`; `len` 0
/// means none (the default). The array is copied. Written into the file at open.
/// Threads: not concurrent on one object. Errors: NULL_ARG (types NULL with len > 0), *_HANDLE.
///
/// # Safety
/// `options` is NULL or a value from `asyncop_options_new`; `types` is NULL or
/// points to `len` readable `int32_t`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_options_set_recurrence_updatable_types(
    options: *mut asyncop_options,
    types: *const i32,
    len: usize,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `types` is NULL or has `len` readable values (see `# Safety`).
        let types = unsafe { slice_arg(types, len, "types") }?.to_vec();
        with_options(options, |o| {
            o.recurrence_updatable_types = Some(types);
            Ok(())
        })
    })
}

/// Sets the queue-wide retry budget: attempts in total, >= 1 (1 disables retries).
/// Written into the file at open. Threads: not concurrent on one object.
/// Errors: NULL_ARG, *_HANDLE, INVALID_ARG (< 1).
///
/// # Safety
/// `options` is NULL or a value from `asyncop_options_new`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_options_set_max_attempts(
    options: *mut asyncop_options,
    max_attempts: i32,
) -> asyncop_status {
    ffi_boundary!({
        crate::settings::check_max_attempts(max_attempts)?;
        with_options(options, |o| {
            o.max_attempts = Some(max_attempts);
            Ok(())
        })
    })
}

/// Sets the queue-wide retry back-off: the n-th retry waits
/// min(cap_ms, base_ms * 2^(n-1)). Written into the file at open.
/// Threads: not concurrent on one object. Errors: NULL_ARG, *_HANDLE, INVALID_ARG (< 0).
///
/// # Safety
/// `options` is NULL or a value from `asyncop_options_new`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_options_set_backoff_ms(
    options: *mut asyncop_options,
    base_ms: i64,
    cap_ms: i64,
) -> asyncop_status {
    ffi_boundary!({
        let base = ms_arg(base_ms, "base_ms")?;
        let cap = ms_arg(cap_ms, "cap_ms")?;
        with_options(options, |o| {
            o.backoff_base = Some(base);
            o.backoff_cap = Some(cap);
            Ok(())
        })
    })
}

/// Sets the queue-wide `allow_delete_any` (0 or 1): 1 lets Delete remove
/// operations in any state. Written into the file at open.
/// Threads: not concurrent on one object. Errors: NULL_ARG, *_HANDLE, OUT_OF_RANGE.
///
/// # Safety
/// `options` is NULL or a value from `asyncop_options_new`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_options_set_allow_delete_any(
    options: *mut asyncop_options,
    allow: i32,
) -> asyncop_status {
    ffi_boundary!({
        let allow = bool_arg(allow, "allow")?;
        with_options(options, |o| {
            o.allow_delete_any = Some(allow);
            Ok(())
        })
    })
}

/// Sets the queue-wide payload limit in bytes, 1..=ASYNCOP_PAYLOAD_CEILING
/// (512 MiB; default ASYNCOP_PAYLOAD_DEFAULT_MAX, 16 MiB): a submit whose data
/// is longer gives INVALID_ARG and writes nothing. Written into the file at
/// open, so every handle, in any process, applies it.
/// Threads: not concurrent on one object.
/// Errors: NULL_ARG, *_HANDLE, INVALID_ARG (0 or above the ceiling), PANIC.
///
/// # Safety
/// `options` is NULL or a value from `asyncop_options_new`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_options_set_max_payload_bytes(
    options: *mut asyncop_options,
    max_payload_bytes: u64,
) -> asyncop_status {
    ffi_boundary!({
        check_max_payload_bytes(max_payload_bytes)?;
        with_options(options, |o| {
            o.max_payload_bytes = Some(max_payload_bytes);
            Ok(())
        })
    })
}

/// Sets the permission bits of a queue file this handle creates (and of its
/// -wal and -shm): ASYNCOP_FILE_MODE_DEFAULT (0600, owner only) or up to
/// ASYNCOP_FILE_MODE_ALLOWED (0660, shared with the file's group). The mode
/// must include 0600 and have no bits outside 0660. An existing file keeps its
/// mode. A handle setting, not written into the file.
/// Threads: not concurrent on one object.
/// Errors: NULL_ARG, *_HANDLE, INVALID_ARG (other bits, or without 0600), PANIC.
///
/// # Safety
/// `options` is NULL or a value from `asyncop_options_new`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_options_set_file_mode(
    options: *mut asyncop_options,
    mode: u32,
) -> asyncop_status {
    ffi_boundary!({
        check_file_mode(mode)?;
        with_options(options, |o| {
            o.sqlite.file_mode = mode;
            Ok(())
        })
    })
}

/// Sets the queue-wide `cleanup_enabled` (0 or 1, default 1): 1 lets hosts'
/// polls purge expired Completed rows at most hourly (asyncop_queue_purge).
/// Written into the file at open. Threads: not concurrent on one object.
/// Errors: NULL_ARG, *_HANDLE, OUT_OF_RANGE.
///
/// # Safety
/// `options` is NULL or a value from `asyncop_options_new`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_options_set_cleanup_enabled(
    options: *mut asyncop_options,
    enabled: i32,
) -> asyncop_status {
    ffi_boundary!({
        let enabled = bool_arg(enabled, "enabled")?;
        with_options(options, |o| {
            o.cleanup_enabled = Some(enabled);
            Ok(())
        })
    })
}

/// Sets the queue-wide retention of Completed rows of `status`
/// (ASYNCOP_STATUS_SUCCEEDED, _FAILED or _CANCELED): a purge deletes them once
/// their completion is older than `ms` (>= 0), or never with
/// ASYNCOP_RETENTION_NONE (stored as "none"). Written into the file at open.
/// Threads: not concurrent on one object.
/// Errors: NULL_ARG, *_HANDLE, OUT_OF_RANGE (another status), INVALID_ARG (ms < 0
/// and not ASYNCOP_RETENTION_NONE).
///
/// # Safety
/// `options` is NULL or a value from `asyncop_options_new`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_options_set_retention_ms(
    options: *mut asyncop_options,
    status: i32,
    ms: i64,
) -> asyncop_status {
    ffi_boundary!({
        let retention = match ms {
            super::ASYNCOP_RETENTION_NONE => Retention::Forever,
            ms => Retention::After(ms_arg(ms, "retention")?),
        };
        with_options(options, |o| {
            let slot = match status {
                super::ASYNCOP_STATUS_SUCCEEDED => &mut o.retention_succeeded,
                super::ASYNCOP_STATUS_FAILED => &mut o.retention_failed,
                super::ASYNCOP_STATUS_CANCELED => &mut o.retention_canceled,
                other => {
                    return Err(Failure::out_of_range(
                        "retention status (30, 31 or 32)",
                        other.into(),
                    ));
                }
            };
            *slot = Some(retention);
            Ok(())
        })
    })
}

/// Sets the queue-wide `auto_delete_types` (each > 0; `len` 0 means none): a
/// one-shot operation of these types is deleted when it succeeds instead of
/// kept as 3/30. The array is copied. Written into the file at open.
/// Threads: not concurrent on one object.
/// Errors: NULL_ARG (types NULL with len > 0), *_HANDLE, INVALID_ARG (a type <= 0).
///
/// # Safety
/// `options` is NULL or a value from `asyncop_options_new`; `types` is NULL or
/// points to `len` readable `int32_t`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_options_set_auto_delete_types(
    options: *mut asyncop_options,
    types: *const i32,
    len: usize,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `types` is NULL or has `len` readable values (see `# Safety`).
        let types = unsafe { slice_arg(types, len, "types") }?.to_vec();
        for &t in &types {
            crate::operation::check_operation_type(t)?;
        }
        with_options(options, |o| {
            o.auto_delete_types = Some(types);
            Ok(())
        })
    })
}
