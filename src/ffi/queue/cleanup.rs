//! Clean-up and held types (§10, §6.7): purge, and holding, releasing and
//! listing whole operation types.

use super::asyncop_queue;
use crate::ffi::ASYNCOP_TIME_NONE;
use crate::ffi::handles;
use crate::ffi::panic::ffi_boundary;
use crate::ffi::status::{Failure, asyncop_status};
use crate::ffi::strings::out_param;

/// Deletes the Completed operations whose completion is older at `now` (UTC
/// ms; ASYNCOP_TIME_NONE for the queue's now) than the retention of their
/// status (30 days Succeeded, 60 Failed, 60 Canceled by default; see
/// asyncop_options_set_retention_ms), with their attempt history, in short
/// transactions of at most 500 rows. Writes how many were deleted to
/// `*out_deleted`. Hosts also run it from their polls at most hourly
/// (asyncop_options_set_cleanup_enabled). Threads: any.
/// Errors: NULL_ARG, *_HANDLE, FORKED, BUSY, IO, CORRUPT, INTERNAL, PANIC.
///
/// # Safety
/// `queue` is NULL or a queue handle; `out_deleted` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_purge(
    queue: *const asyncop_queue,
    now: i64,
    out_deleted: *mut i64,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_deleted` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_deleted, "out_deleted") }?;
        let q = handles::get(queue)?;
        let now = if now == ASYNCOP_TIME_NONE {
            q.queue.now()
        } else {
            now
        };
        let deleted = q.queue.purge(now)?;
        *out = i64::try_from(deleted).unwrap_or(i64::MAX);
        Ok(())
    })
}

/// Holds every operation of `operation_type` (> 0): claims of every handle,
/// process and host skip them from now on; they keep their state and place,
/// running ones are not touched, restricted types can be held. Holding a
/// held type changes nothing. Threads: any.
/// Errors: INVALID_ARG (type <= 0), NULL_ARG, *_HANDLE, FORKED, BUSY, IO,
/// INTERNAL, PANIC.
///
/// # Safety
/// `queue` is NULL or a queue handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_hold_type(
    queue: *const asyncop_queue,
    operation_type: i32,
) -> asyncop_status {
    ffi_boundary!({
        handles::get(queue)?.queue.hold_type(operation_type)?;
        Ok(())
    })
}

/// Releases a held type: its operations are claimable again, in their order,
/// and waiting polls wake. Releasing a type that is not held changes nothing.
/// Threads: any. Errors: as asyncop_queue_hold_type.
///
/// # Safety
/// `queue` is NULL or a queue handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_release_type(
    queue: *const asyncop_queue,
    operation_type: i32,
) -> asyncop_status {
    ffi_boundary!({
        handles::get(queue)?.queue.release_type(operation_type)?;
        Ok(())
    })
}

/// The held types, ascending, copied into `types` (room for `cap` values);
/// `*out_len` is how many there are. Too small (or the size query `(NULL, 0)`):
/// BUFFER_TOO_SMALL with `*out_len` set and `types` untouched. Threads: any.
/// Errors: NULL_ARG (types NULL with cap > 0), BUFFER_TOO_SMALL, *_HANDLE,
/// FORKED, IO, INTERNAL, PANIC.
///
/// # Safety
/// `queue` is NULL or a queue handle; `types` is NULL or has `cap` writable
/// values; `out_len` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_held_types(
    queue: *const asyncop_queue,
    types: *mut i32,
    cap: usize,
    out_len: *mut usize,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_len` is NULL or writable (see `# Safety`).
        let out_len = unsafe { out_param(out_len, "out_len") }?;
        if types.is_null() && cap > 0 {
            return Err(Failure::null_arg("types (with cap > 0)"));
        }
        let held = handles::get(queue)?.queue.held_types()?;
        *out_len = held.len();
        if cap < held.len() {
            return Err(Failure::new(
                asyncop_status::ASYNCOP_ERR_BUFFER_TOO_SMALL,
                format!("room for {cap} types is too small: {} are held", held.len()),
            ));
        }
        for (i, h) in held.iter().enumerate() {
            // SAFETY: `types` has `cap >= held.len()` writable values.
            unsafe { *types.add(i) = h.operation_type };
        }
        Ok(())
    })
}
