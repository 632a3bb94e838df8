//! A C handler as a worker `Handler`: the claimed lease as a borrowed
//! `asyncop_lease` handle for the length of the call, the returned code as
//! a `JobOutcome`.

use crate::ffi::handles;
use crate::ffi::lease::asyncop_lease;
use crate::lease::Report;
use crate::worker::{Handler, Job, JobOutcome};
use std::ffi::c_void;
use std::sync::Arc;

/// Handler result: the job succeeded (3/30 Succeeded, no output). The worker
/// completes it in the same commit as its thread's next claim. For an output,
/// call asyncop_lease_complete_output yourself.
pub const ASYNCOP_WORKER_SUCCEEDED: i32 = 0;
/// Handler result: try again later (asyncop_lease_retry with the queue's
/// back-off; Failed once the retry budget is spent).
pub const ASYNCOP_WORKER_RETRY: i32 = 1;
/// Handler result: failed for good (3/31 Failed).
pub const ASYNCOP_WORKER_FAIL: i32 = 2;
/// Handler result: suspend it (1/10) until a user resumes it.
pub const ASYNCOP_WORKER_SUSPEND: i32 = 3;
/// Handler result: the handler stopped at a safe point because
/// asyncop_lease_stop_requested (or asyncop_worker_stop_requested) said so:
/// a requested cancel is acknowledged (3/32 Canceled), a requested pause or
/// postpone too (1/10 Suspended), anything else (lease lost, worker
/// shutdown) is released for a retry.
pub const ASYNCOP_WORKER_STOPPED: i32 = 4;

/// A handler of one operation type, called on a worker thread for each
/// claimed operation of that type: `lease` is the claim, borrowed for the
/// call (do not free it; it is invalid once the call returns), `user_data`
/// what was given to asyncop_worker_register. Returns one of
/// ASYNCOP_WORKER_SUCCEEDED, _RETRY, _FAIL, _SUSPEND, _STOPPED (another
/// value is taken as _RETRY with a message naming it). A handler that
/// ends the lease itself (asyncop_lease_complete_output, _fail, _report,
/// ...) may return anything: the worker then reports nothing more. It must
/// return normally: no C++ exception, longjmp or thread exit out of it (an
/// unwind into the library aborts the process).
pub type asyncop_worker_handler =
    Option<unsafe extern "C" fn(lease: *const asyncop_lease, user_data: *mut c_void) -> i32>;

/// The caller's `user_data`, handed back on the worker's threads as is.
#[derive(Clone, Copy)]
pub(crate) struct UserData(pub(crate) *mut c_void);

// SAFETY: the library never reads through the pointer, it only passes it back
// to the caller's handler; asyncop_worker_register documents that handlers
// run on the worker's threads, so what it points to must allow that.
unsafe impl Send for UserData {}
// SAFETY: as for Send: the pointer is only copied, never dereferenced here.
unsafe impl Sync for UserData {}

type CHandler = unsafe extern "C" fn(*const asyncop_lease, *mut c_void) -> i32;

/// The worker handler that calls `f` with a lease handle and `user_data`.
pub(crate) fn c_handler(f: CHandler, user_data: UserData) -> Handler {
    Arc::new(move |job: &Job| call(f, user_data, job))
}

fn call(f: CHandler, user_data: UserData, job: &Job) -> JobOutcome {
    let handle = handles::insert(asyncop_lease {
        queue: job.queue().clone(),
        lease: job.lease().clone(),
        // The job's own signal: asyncop_lease_stop_requested reads it, and an
        // outcome reported through the handle ends it (the worker sees that).
        stop: parking_lot::Mutex::new(Some(job.stop_signal().clone())),
    });
    // SAFETY: `f` is the caller's handler, given to asyncop_worker_register
    // with this `user_data`; the handle is live for the call.
    let code = unsafe { f(handle, user_data.0) };
    // The borrow ends with the call (a handler that freed it gets CLOSED_HANDLE here: ignored).
    let _ = handles::remove(handle);
    outcome_of(code, job)
}

/// The outcome a handler's return code asks for.
fn outcome_of(code: i32, job: &Job) -> JobOutcome {
    let report = |what: &str| {
        Report::message(format!(
            "the C handler of type {} returned {what}",
            job.lease().operation_type
        ))
    };
    match code {
        ASYNCOP_WORKER_SUCCEEDED => JobOutcome::Succeeded,
        ASYNCOP_WORKER_RETRY => JobOutcome::Retry(report("ASYNCOP_WORKER_RETRY")),
        ASYNCOP_WORKER_FAIL => JobOutcome::Fail(report("ASYNCOP_WORKER_FAIL")),
        ASYNCOP_WORKER_SUSPEND => JobOutcome::Suspend(report("ASYNCOP_WORKER_SUSPEND")),
        ASYNCOP_WORKER_STOPPED => JobOutcome::Stopped,
        other => JobOutcome::Retry(report(&format!("{other}, not an ASYNCOP_WORKER_* result"))),
    }
}
