//! A worker's counters (asyncop_worker_count).

use super::asyncop_worker;
use crate::ffi::handles;
use crate::ffi::panic::ffi_boundary;
use crate::ffi::status::{Failure, asyncop_status};
use crate::ffi::strings::out_param;
use crate::worker::WorkerStats;

/// Counter: jobs whose run ended with an outcome (every counter below but
/// ASYNCOP_WORKER_COUNT_ERRORS, summed).
pub const ASYNCOP_WORKER_COUNT_PROCESSED: i32 = 0;
/// Counter: jobs completed (3/30), with or without output.
pub const ASYNCOP_WORKER_COUNT_COMPLETED: i32 = 1;
/// Counter: jobs failed for good by their handler (3/31).
pub const ASYNCOP_WORKER_COUNT_FAILED: i32 = 2;
/// Counter: jobs given back for a retry (ASYNCOP_WORKER_RETRY, an unknown
/// result, or a stop that was neither a pause nor a cancel).
pub const ASYNCOP_WORKER_COUNT_RETRIED: i32 = 3;
/// Counter: jobs suspended by their handler (1/10).
pub const ASYNCOP_WORKER_COUNT_SUSPENDED: i32 = 4;
/// Counter: pauses (and postpones) acknowledged.
pub const ASYNCOP_WORKER_COUNT_PAUSED: i32 = 5;
/// Counter: cancels acknowledged.
pub const ASYNCOP_WORKER_COUNT_CANCELED: i32 = 6;
/// Counter: jobs of a type without a handler, failed with
/// ASYNCOP_ERR_TYPE_NOT_RECOGNIZED (only with claim_unhandled).
pub const ASYNCOP_WORKER_COUNT_UNRECOGNIZED: i32 = 7;
/// Counter: prefetched jobs given back without running (a stop past its timeout).
pub const ASYNCOP_WORKER_COUNT_RELEASED: i32 = 8;
/// Counter: jobs whose handler ended the lease itself.
pub const ASYNCOP_WORKER_COUNT_HANDLED: i32 = 9;
/// Counter: outcomes refused because the lease was lost.
pub const ASYNCOP_WORKER_COUNT_LEASE_LOST: i32 = 10;
/// Counter: other failures (a poll, renewal or outcome the queue refused).
pub const ASYNCOP_WORKER_COUNT_ERRORS: i32 = 11;

fn counter(stats: &WorkerStats, which: i32) -> Option<u64> {
    Some(match which {
        ASYNCOP_WORKER_COUNT_PROCESSED => stats.processed(),
        ASYNCOP_WORKER_COUNT_COMPLETED => stats.completed,
        ASYNCOP_WORKER_COUNT_FAILED => stats.failed,
        ASYNCOP_WORKER_COUNT_RETRIED => stats.retried,
        ASYNCOP_WORKER_COUNT_SUSPENDED => stats.suspended,
        ASYNCOP_WORKER_COUNT_PAUSED => stats.paused,
        ASYNCOP_WORKER_COUNT_CANCELED => stats.canceled,
        ASYNCOP_WORKER_COUNT_UNRECOGNIZED => stats.unrecognized,
        ASYNCOP_WORKER_COUNT_RELEASED => stats.released,
        ASYNCOP_WORKER_COUNT_HANDLED => stats.handled,
        ASYNCOP_WORKER_COUNT_LEASE_LOST => stats.lease_lost,
        ASYNCOP_WORKER_COUNT_ERRORS => stats.errors,
        _ => return None,
    })
}

/// Writes one of the worker's counters (`which`: an ASYNCOP_WORKER_COUNT_*)
/// to `*out`: 0 before start; it keeps counting until the worker stops and
/// stays readable after (even once its queue is closed). Threads: any,
/// concurrent OK, handlers included. Errors: NULL_ARG, OUT_OF_RANGE (an
/// unknown `which`), *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `worker` is NULL or a worker handle; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_worker_count(
    worker: *const asyncop_worker,
    which: i32,
    out: *mut i64,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out, "out") }?;
        let w = handles::get(worker)?;
        let value = counter(&w.worker.stats(), which).ok_or_else(|| {
            Failure::out_of_range("counter (ASYNCOP_WORKER_COUNT_*)", which.into())
        })?;
        *out = i64::try_from(value).unwrap_or(i64::MAX);
        Ok(())
    })
}
