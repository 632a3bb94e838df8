//! Stop signals of a lease (§6.3): whether a user paused or canceled the
//! running operation, or its lease was lost, learnt at once through the queue's
//! change signal, not at the next renewal.

use super::asyncop_lease;
use crate::ffi::handles::with_handle;
use crate::ffi::options::ms_arg;
use crate::ffi::panic::ffi_boundary;
use crate::ffi::status::Failure;
use crate::ffi::status::asyncop_status;
use crate::ffi::strings::out_param;
use crate::stop::{StopReason, StopSignal};

/// No stop was requested (yet).
pub const ASYNCOP_STOP_NONE: i32 = 0;
/// A user paused or postponed the operation (it is Pausing, 2/21): stop at a
/// safe point, then asyncop_lease_acknowledge_pause.
pub const ASYNCOP_STOP_PAUSE: i32 = 1;
/// A user canceled the operation (it is Canceling, 2/22): stop at a safe
/// point, then asyncop_lease_acknowledge_cancel.
pub const ASYNCOP_STOP_CANCEL: i32 = 2;
/// The lease is no longer held under its lock token (expired and taken back,
/// claimed again, deleted): stop; every host call gives LEASE_LOST.
pub const ASYNCOP_STOP_LEASE_LOST: i32 = 3;

/// The ABI constant of each stop reason; exhaustive, so a new reason needs one.
const fn stop_constant(reason: Option<StopReason>) -> i32 {
    match reason {
        None => ASYNCOP_STOP_NONE,
        Some(StopReason::Pause) => ASYNCOP_STOP_PAUSE,
        Some(StopReason::Cancel) => ASYNCOP_STOP_CANCEL,
        Some(StopReason::LeaseLost) => ASYNCOP_STOP_LEASE_LOST,
    }
}

/// The lease's stop signal, watched from the first call on.
fn signal(h: &asyncop_lease) -> Result<StopSignal, Failure> {
    let mut slot = h.stop.lock();
    if let Some(signal) = slot.as_ref() {
        return Ok(signal.clone());
    }
    let signal = h.queue.stop_signal(h.lease.key())?;
    *slot = Some(signal.clone());
    Ok(signal)
}

/// The lease's outcome was reported through this handle (or refused with
/// LEASE_LOST): its signal ends, and later calls find it ended.
pub(crate) fn end_stop(h: &asyncop_lease) {
    let mut slot = h.stop.lock();
    match slot.as_ref() {
        Some(signal) => signal.end(),
        None => *slot = Some(StopSignal::ended()),
    }
    drop(slot);
    h.queue.unwatch_stop(h.lease.key());
}

/// Whether the handler should stop, without blocking: writes
/// ASYNCOP_STOP_NONE, ASYNCOP_STOP_PAUSE, ASYNCOP_STOP_CANCEL or
/// ASYNCOP_STOP_LEASE_LOST to `*out_reason`. The first call (of this or
/// asyncop_lease_wait_stop) starts watching the lease: the queue handle's one
/// watch thread then reads the rows of its watched leases after every commit
/// it hears of (this process at once, others within a few ms), with no
/// renewal and no write; a request is seen within about a millisecond in one
/// process. The reason is set once and never changes (a renewal tells the
/// latest status). An outcome reported through this lease ends the watch.
/// Ownership: the lease stays the caller's; nothing is allocated for it.
/// Threads: any, concurrent OK.
/// Errors: NULL_ARG, *_HANDLE, FORKED, INTERNAL, PANIC.
///
/// # Safety
/// `lease` is NULL or a lease handle; `out_reason` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_stop_requested(
    lease: *const asyncop_lease,
    out_reason: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_reason` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_reason, "out_reason") }?;
        with_handle(lease, |h| {
            *out = stop_constant(signal(h)?.reason());
            Ok(())
        })
    })
}

/// Blocks until a stop is requested for this lease (see
/// asyncop_lease_stop_requested), an outcome was reported through it, its
/// queue is closed, or `timeout_ms` (>= 0; 0 does not block) passes; then
/// writes the reason, ASYNCOP_STOP_NONE if none, to `*out_reason`.
/// Ownership: the lease stays the caller's (freeing it from another thread
/// ends the wait); nothing is allocated for it.
/// Threads: any, concurrent OK; blocks only its own thread.
/// Errors: NULL_ARG, INVALID_ARG (timeout < 0), *_HANDLE, FORKED, INTERNAL, PANIC.
///
/// # Safety
/// `lease` is NULL or a lease handle; `out_reason` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_wait_stop(
    lease: *const asyncop_lease,
    timeout_ms: i64,
    out_reason: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_reason` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_reason, "out_reason") }?;
        let timeout = ms_arg(timeout_ms, "timeout_ms")?;
        // The handle is held only to take the signal, not during the wait.
        let signal = with_handle(lease, signal)?;
        *out = stop_constant(signal.wait(timeout));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_constants_are_the_core_codes() {
        for reason in [StopReason::Pause, StopReason::Cancel, StopReason::LeaseLost] {
            assert_eq!(stop_constant(Some(reason)), reason.code(), "{reason:?}");
        }
        assert_eq!(stop_constant(None), ASYNCOP_STOP_NONE);
    }
}
