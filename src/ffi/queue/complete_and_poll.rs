//! complete_and_poll: a host completes its finished leases and claims the
//! next ones in one transaction (one commit per job).

use super::asyncop_queue;
use super::poll::{poll_options, write_leases};
use crate::ffi::handles;
use crate::ffi::lease::asyncop_lease;
use crate::ffi::lease::outcomes::{BatchResults, held_batch};
use crate::ffi::lease::stop::end_stop;
use crate::ffi::panic::ffi_boundary;
use crate::ffi::status::{Failure, asyncop_status};
use crate::ffi::strings::{out_param, slice_arg, str_arg};
use crate::lease::LeaseKey;
use std::ffi::c_char;

/// Completes `count` leases (each as asyncop_lease_complete_many would:
/// Completed/Succeeded, 3/30; a lost one does not hold back the others) and
/// claims up to `max` operations for `host_id` (as asyncop_queue_poll would,
/// maintenance first), all in ONE transaction: one commit, one sync. The
/// claim runs after the completions and sees them (a completion that unblocks
/// the next operation of its dependency token lets this call claim it).
///
/// `leases` holds `count` lease handles polled from `queue` (the same queue
/// handle). They stay owned by the caller, who still frees each with
/// asyncop_lease_free. `count` 0 is a plain asyncop_queue_poll (`leases` may
/// then be NULL). The claim's arguments (`host_id`, `types`, `wait_ms`,
/// `out_leases`, `max`, `out_count`) are asyncop_queue_poll's.
///
/// `out_results` is NULL (per-lease codes not wanted) or has `count` slots,
/// written whatever the outcome (except PANIC): entry `i` is the code of
/// `leases[i]`.
/// - ASYNCOP_OK returned: the transaction committed. Each entry is
///   ASYNCOP_OK (completed) or its lease's own code, usually
///   ASYNCOP_ERR_LEASE_LOST (that lease was not completed; the others were);
///   `*out_count` new leases are in `out_leases`. Unlike
///   asyncop_lease_complete_many, a lost lease is not the call's code: the
///   claimed leases must reach the caller, so check `out_results`.
/// - Any other code: nothing was written (no completion, no claim),
///   `out_leases` and `*out_count` are untouched, and every entry is the
///   returned code. NULL_ARG, INVALID_HANDLE, CLOSED_HANDLE, FORKED, PANIC
///   about an entry name it (`leases[3]: ...`); INVALID_ARG (a lease of
///   another queue handle, max 0 or > ASYNCOP_POLL_MAX, an empty host id,
///   wait < 0, an impossible `count`), UTF8, BUSY (retryable), IO, CORRUPT,
///   INTERNAL.
///
/// With `wait_ms` > 0 and nothing claimable, the completions are committed
/// first, then the call waits like asyncop_queue_poll; a failure while waiting
/// ends the wait with ASYNCOP_OK and no lease (the completions stand).
///
/// Threads: any, concurrent OK; a waiting call blocks only its own thread.
///
/// # Safety
/// `queue` is NULL or a queue handle; `leases` is NULL or points to `count`
/// readable `asyncop_lease *` values, each NULL or a lease handle;
/// `out_results` is NULL or points to `count` writable `asyncop_status`
/// values; `host_id` is NULL or NUL-terminated; `types` is NULL or has
/// `types_len` readable values; `out_leases` is NULL or has `max` writable
/// slots; `out_count` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_complete_and_poll(
    queue: *const asyncop_queue,
    leases: *const *const asyncop_lease,
    count: usize,
    out_results: *mut asyncop_status,
    host_id: *const c_char,
    types: *const i32,
    types_len: usize,
    wait_ms: i64,
    out_leases: *mut *mut asyncop_lease,
    max: usize,
    out_count: *mut usize,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: the caller's contract: NULL or `count` writable slots.
        let results = unsafe { BatchResults::new(out_results, count) }?;
        let run = || -> Result<Vec<Result<(), Failure>>, Failure> {
            // SAFETY: `out_count` is NULL or writable (see `# Safety`).
            let out_count = unsafe { out_param(out_count, "out_count") }?;
            if out_leases.is_null() {
                return Err(Failure::null_arg("out_leases"));
            }
            let q = handles::get(queue)?;
            // SAFETY: `leases` is NULL or has `count` readable values (see `# Safety`).
            let leases = unsafe { slice_arg(leases, count, "leases") }?;
            let held = held_batch(leases, Some(&q.queue))?;
            // SAFETY: `host_id` is NULL or NUL-terminated (see `# Safety`).
            let host_id = unsafe { str_arg(host_id, "host_id") }?;
            // SAFETY: `types` is NULL or has `types_len` readable values (see `# Safety`).
            let types = unsafe { slice_arg(types, types_len, "types") }?;
            let options = poll_options(types, wait_ms, max)?;
            let keys: Vec<LeaseKey> = held.iter().map(|h| h.lease.key()).collect();
            let (completed, claimed) = q.queue.complete_and_poll(&keys, host_id, &options)?;
            for h in &held {
                end_stop(h);
            }
            // SAFETY: `out_leases` has `max` slots and the claim returns at most `max` leases.
            *out_count = unsafe { write_leases(&q.queue, claimed, out_leases) };
            Ok(completed
                .into_iter()
                .map(|r| r.map(drop).map_err(Failure::from))
                .collect())
        };
        match run() {
            Ok(per_lease) => {
                for (i, r) in per_lease.iter().enumerate() {
                    results.set(
                        i,
                        r.as_ref()
                            .map_or_else(|f| f.code, |()| asyncop_status::ASYNCOP_OK),
                    );
                }
                Ok(())
            }
            Err(f) => {
                results.fill(f.code);
                Err(f)
            }
        }
    })
}
