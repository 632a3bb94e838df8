//! The calls that wait, and the queue's upkeep: poll (a host claims work,
//! optionally waiting for it), wait_for (waits for one operation to complete),
//! run_maintenance and check_integrity.

use super::asyncop_queue;
use crate::ffi::handles;
use crate::ffi::lease::asyncop_lease;
use crate::ffi::operation::asyncop_operation;
use crate::ffi::options::ms_arg;
use crate::ffi::panic::ffi_boundary;
use crate::ffi::status::{Failure, asyncop_status};
use crate::ffi::strings::{out_param, slice_arg, str_arg};
use crate::lease::MAX_POLL;
use crate::{Lease, PollOptions};
use std::ffi::c_char;

/// Claims up to `max` eligible operations for host `host_id` (non-empty, <= 256
/// characters): the oldest Ready ones, dependency tokens respected, optionally
/// only of `types` (`types_len` 0 for any). If none is claimable and
/// `wait_ms` > 0, waits up to that long for work. Writes up to `max` new lease
/// handles into `out_leases` and their number to `*out_count` (0 when nothing
/// was claimable). Each lease is freed with `asyncop_lease_free`. Renew a lease
/// every lease/3 and end it with one outcome call.
/// Threads: any, concurrent OK; a waiting call blocks only its own thread.
/// `max` is 1..=ASYNCOP_POLL_MAX (65536); a larger one gives INVALID_ARG before
/// `out_leases` is touched.
/// Errors: NULL_ARG, UTF8, INVALID_ARG (max 0 or > ASYNCOP_POLL_MAX, empty
/// host id, wait < 0), *_HANDLE, FORKED, BUSY, IO, CORRUPT, INTERNAL, PANIC.
///
/// # Safety
/// `host_id` is NULL or NUL-terminated; `types` is NULL or has `types_len`
/// readable values; `out_leases` is NULL or has `max` writable slots;
/// `out_count` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_poll(
    queue: *const asyncop_queue,
    host_id: *const c_char,
    types: *const i32,
    types_len: usize,
    wait_ms: i64,
    out_leases: *mut *mut asyncop_lease,
    max: usize,
    out_count: *mut usize,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_count` is NULL or writable (see `# Safety`).
        let count = unsafe { out_param(out_count, "out_count") }?;
        if out_leases.is_null() {
            return Err(Failure::null_arg("out_leases"));
        }
        let q = handles::get(queue)?;
        // SAFETY: `host_id` is NULL or NUL-terminated (see `# Safety`).
        let host_id = unsafe { str_arg(host_id, "host_id") }?;
        // SAFETY: `types` is NULL or has `types_len` readable values (see `# Safety`).
        let types = unsafe { slice_arg(types, types_len, "types") }?;
        let options = poll_options(types, wait_ms, max)?;
        let leases: Vec<Lease> = q.queue.poll(host_id, &options)?;
        // SAFETY: out_leases has `max` slots and poll returns at most `max` leases.
        *count = unsafe { write_leases(&q.queue, leases, out_leases) };
        Ok(())
    })
}

/// A poll's options from its C arguments. Only the conversion of `max`: the
/// core refuses 0 and more than MAX_POLL (before claiming anything, so
/// `out_leases` is untouched), and so would any value that does not fit in u32.
pub(super) fn poll_options(
    types: &[i32],
    wait_ms: i64,
    max: usize,
) -> Result<PollOptions, Failure> {
    let max = u32::try_from(max).map_err(|_| {
        Failure::new(
            asyncop_status::ASYNCOP_ERR_INVALID_ARG,
            format!("poll max must be 1..={MAX_POLL}, got {max}"),
        )
    })?;
    Ok(PollOptions {
        max,
        wait: (wait_ms != 0)
            .then(|| ms_arg(wait_ms, "wait_ms"))
            .transpose()?,
        operation_types: (!types.is_empty()).then(|| types.to_vec()),
    })
}

/// Hands claimed leases to C as new lease handles in `out_leases`; returns
/// how many.
///
/// # Safety
/// `out_leases` has at least `leases.len()` writable slots.
pub(super) unsafe fn write_leases(
    queue: &crate::Queue,
    leases: Vec<Lease>,
    out_leases: *mut *mut asyncop_lease,
) -> usize {
    let n = leases.len();
    for (i, lease) in leases.into_iter().enumerate() {
        let handle = handles::insert(asyncop_lease {
            queue: queue.clone(),
            lease,
            stop: parking_lot::Mutex::new(None),
        });
        // SAFETY: the caller's contract: `leases.len()` writable slots.
        unsafe { *out_leases.add(i) = handle };
    }
    n
}

/// Waits until the operation is Completed or `timeout_ms` passes, and returns
/// its latest snapshot either way (check its state): the SDK's "retrieve until
/// state 3" without polling the file. `*out_operation` is freed with
/// `asyncop_operation_free`. Threads: any; blocks only the calling thread.
/// Errors: NULL_ARG, INVALID_ARG (id <= 0, timeout < 0), NOT_FOUND, *_HANDLE,
/// FORKED, IO, CORRUPT (a damaged stored row), INTERNAL, PANIC.
///
/// # Safety
/// `queue` is NULL or a queue handle; `out_operation` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_wait_for(
    queue: *const asyncop_queue,
    id: i64,
    timeout_ms: i64,
    out_operation: *mut *mut asyncop_operation,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_operation` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_operation, "out_operation") }?;
        let q = handles::get(queue)?;
        let timeout = ms_arg(timeout_ms, "timeout_ms")?;
        let op = q.queue.wait_for(id, timeout)?;
        *out = handles::insert(asyncop_operation {
            queue: q.queue.clone(),
            op,
        });
        Ok(())
    })
}

/// One maintenance pass: returns expired leases to Ready/Suspended (or ends them
/// as Failed after the retry budget, or Canceled when a cancel was pending) and
/// promotes Suspended operations whose postpone time is due. Every poll runs it
/// too. Writes how many operations each step moved. Threads: any.
/// Errors: NULL_ARG, *_HANDLE, FORKED, BUSY, IO, CORRUPT (a damaged stored row), INTERNAL, PANIC.
///
/// # Safety
/// `queue` is NULL or a queue handle; the out-pointers are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_run_maintenance(
    queue: *const asyncop_queue,
    out_recovered: *mut i64,
    out_poisoned: *mut i64,
    out_promoted: *mut i64,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_recovered` is NULL or writable (see `# Safety`).
        let recovered = unsafe { out_param(out_recovered, "out_recovered") }?;
        // SAFETY: `out_poisoned` is NULL or writable (see `# Safety`).
        let poisoned = unsafe { out_param(out_poisoned, "out_poisoned") }?;
        // SAFETY: `out_promoted` is NULL or writable (see `# Safety`).
        let promoted = unsafe { out_param(out_promoted, "out_promoted") }?;
        let q = handles::get(queue)?;
        let report = q.queue.run_maintenance()?;
        *recovered = report.recovered as i64;
        *poisoned = report.poisoned as i64;
        *promoted = report.promoted as i64;
        Ok(())
    })
}

/// Checks the file's structure with SQLite's `PRAGMA quick_check` (every page
/// and record, NOT NULL and CHECK constraints; not index contents): OK, or
/// ASYNCOP_ERR_CORRUPT with the first lines of SQLite's report in
/// `asyncop_last_error_message`. It reads the whole file (its cost grows with
/// the file) on a read connection: writers are not blocked. Nothing is changed
/// or repaired. Threads: any, concurrent OK.
/// Errors: NULL_ARG, *_HANDLE, FORKED, CORRUPT, IO, INTERNAL, PANIC.
///
/// # Safety
/// `queue` is NULL or a queue handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_check_integrity(
    queue: *const asyncop_queue,
) -> asyncop_status {
    ffi_boundary!({
        let q = handles::get(queue)?;
        q.queue.check_integrity()?;
        Ok(())
    })
}
