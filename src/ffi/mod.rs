//! The C ABI (`include/asyncop.h`). It only converts and delegates to the core.
//!
//! Conventions (see `docs/ffi-conventions.md`): every function returns an
//! `asyncop_status` (0 = OK) and writes results to trailing out-parameters,
//! only on success. Handles are validated tokens: a closed, foreign or
//! inherited (after fork) handle gives a status code, never a crash. Every
//! export runs inside a panic boundary. Strings are NUL-terminated UTF-8;
//! results are copied into caller buffers `(buf, cap, *out_len)`.

#![allow(non_camel_case_types)]

#[cfg(not(unix))]
compile_error!(
    "asyncop supports Unix targets only (it is tested on Linux): the C ABI detects fork() \
     with pthread_atfork, and the store locks its file with fcntl"
);

pub(crate) mod handles;
pub(crate) mod panic;
pub(crate) mod status;
pub(crate) mod strings;

pub mod attempts;
pub mod lease;
pub mod operation;
pub mod options;
pub mod queue;
pub mod spec;
pub mod worker;

pub use attempts::asyncop_attempt_list;
pub use lease::asyncop_lease;
pub use operation::{asyncop_counts, asyncop_operation, asyncop_operation_list};
pub use options::asyncop_options;
pub use queue::asyncop_queue;
pub use spec::asyncop_spec;
pub use status::asyncop_status;
pub use worker::asyncop_worker;

use crate::transition::{Outcome, State, Status};
use panic::value_boundary;
use std::ffi::c_char;

/// Version of the ABI: bumped when an existing function's signature or meaning
/// changes. Wrappers compare it with `asyncop_abi_version()` when they load.
pub const ASYNCOP_ABI_VERSION: u32 = 2;

/// "No time": an absent `postpone_until`, `retry_at`, `completed_before`.
pub const ASYNCOP_TIME_NONE: i64 = -9223372036854775807 - 1;

/// "Any": a query filter field that matches everything.
pub const ASYNCOP_ANY: i32 = -1;

/// "No status": `asyncop_queue_set_state` with the state's default meaning.
/// INT32_MIN, so that no small number (-1 included) can be mistaken for it:
/// an unknown status code is refused as OUT_OF_RANGE.
pub const ASYNCOP_STATUS_NONE: i32 = -2147483647 - 1;

/// "None": a retention that keeps Completed rows of its status forever
/// (`asyncop_options_set_retention_ms`).
pub const ASYNCOP_RETENTION_NONE: i64 = -1;

/// State codes (`statecode`).
/// Ready: waits to be claimed by a host.
pub const ASYNCOP_STATE_READY: i32 = 0;
/// Suspended: waits for its postpone time, or for a user to resume it.
pub const ASYNCOP_STATE_SUSPENDED: i32 = 1;
/// Locked: claimed by a host, which holds a lease on it.
pub const ASYNCOP_STATE_LOCKED: i32 = 2;
/// Completed: finished for good (succeeded, failed or canceled).
pub const ASYNCOP_STATE_COMPLETED: i32 = 3;

/// Status codes (`statuscode`); each belongs to state = status / 10.
/// WaitingForResources (0/0): Ready, waits to be claimed.
pub const ASYNCOP_STATUS_WAITING_FOR_RESOURCES: i32 = 0;
/// Waiting (1/10): Suspended until its postpone time, or until resumed.
pub const ASYNCOP_STATUS_WAITING: i32 = 10;
/// InProgress (2/20): a host is running it.
pub const ASYNCOP_STATUS_IN_PROGRESS: i32 = 20;
/// Pausing (2/21): a user asked the host to stop it into Suspended.
pub const ASYNCOP_STATUS_PAUSING: i32 = 21;
/// Canceling (2/22): a user asked the host to stop it into Canceled.
pub const ASYNCOP_STATUS_CANCELING: i32 = 22;
/// Succeeded (3/30): the host completed it.
pub const ASYNCOP_STATUS_SUCCEEDED: i32 = 30;
/// Failed (3/31): failed for good, or out of retries.
pub const ASYNCOP_STATUS_FAILED: i32 = 31;
/// Canceled (3/32): canceled by a user (through its host if it was running).
pub const ASYNCOP_STATUS_CANCELED: i32 = 32;

/// Host outcomes, numbered as Dynamics' plug-in OperationStatus.
/// Failed: as asyncop_lease_fail.
pub const ASYNCOP_OUTCOME_FAILED: i32 = 0;
/// Canceled: as asyncop_lease_acknowledge_cancel.
pub const ASYNCOP_OUTCOME_CANCELED: i32 = 1;
/// Retry: as asyncop_lease_retry.
pub const ASYNCOP_OUTCOME_RETRY: i32 = 2;
/// Suspended: as asyncop_lease_suspend.
pub const ASYNCOP_OUTCOME_SUSPENDED: i32 = 3;
/// Succeeded: as asyncop_lease_complete.
pub const ASYNCOP_OUTCOME_SUCCEEDED: i32 = 4;

/// Durability: `synchronous=FULL` (a returned call survives power loss) or
/// `NORMAL` (survives a process crash; faster).
pub const ASYNCOP_DURABILITY_FULL: i32 = 0;
/// `synchronous=NORMAL`: see ASYNCOP_DURABILITY_FULL.
pub const ASYNCOP_DURABILITY_NORMAL: i32 = 1;

/// How a kept attempt ended (asyncop_attempt_list_get): the host reported a
/// retryable failure (asyncop_lease_retry, or the Retry outcome; the
/// operation's status tells whether a retry followed).
pub const ASYNCOP_ENDING_RETRY: i32 = 0;
/// The host reported a permanent failure (asyncop_lease_fail, or the Failed outcome).
pub const ASYNCOP_ENDING_FAILED: i32 = 1;
/// The lease expired before the host reported (recovered by maintenance).
pub const ASYNCOP_ENDING_EXPIRED: i32 = 2;

/// The library version, e.g. "0.1.0". Static: never NULL, never freed.
/// Threads: any. Never fails; does not touch the last error.
#[unsafe(no_mangle)]
pub extern "C" fn asyncop_version() -> *const c_char {
    value_boundary(c"?".as_ptr(), || {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    })
}

/// The ABI version of the loaded library (`ASYNCOP_ABI_VERSION` when it was built).
/// Threads: any. Never fails; does not touch the last error.
#[unsafe(no_mangle)]
pub extern "C" fn asyncop_abi_version() -> u32 {
    ASYNCOP_ABI_VERSION
}

/// The C name of a status code, e.g. "ASYNCOP_ERR_NOT_FOUND", or "unknown".
/// Static: never NULL, never freed. Threads: any. Does not touch the last error.
#[unsafe(no_mangle)]
pub extern "C" fn asyncop_status_name(code: i32) -> *const c_char {
    value_boundary(c"unknown".as_ptr(), || {
        asyncop_status::from_code(code)
            .map_or(c"unknown", |s| s.name())
            .as_ptr()
    })
}

/// The Dynamics 365 HRESULT of a status code as a signed 32-bit value (e.g.
/// ASYNCOP_ERR_CANNOT_CANCEL gives (int32_t)0x80044F00), or 0 when the code has
/// none (asyncop's own codes and unknown numbers). .NET users can set
/// `Exception.HResult` from it. Threads: any. Does not touch the last error.
#[unsafe(no_mangle)]
pub extern "C" fn asyncop_status_hresult(code: i32) -> i32 {
    value_boundary(0, || {
        asyncop_status::from_code(code).map_or(0, |s| s.hresult())
    })
}

/// Copies the message of the last failed call on this thread, like snprintf:
/// at most `cap - 1` bytes (cut on a UTF-8 boundary) plus a NUL, and returns
/// the message's full length in bytes (without NUL); `(NULL, 0)` asks for the
/// size. The message is empty after a successful call. Reading it does not
/// clear it, nor do `asyncop_status_name` and the version calls.
/// Threads: per thread; read it on the thread that failed, before another call.
///
/// # Safety
/// `buf` is NULL or points to `cap` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_last_error_message(buf: *mut c_char, cap: usize) -> usize {
    // SAFETY: `buf` is NULL or has `cap` writable bytes (see `# Safety`).
    value_boundary(0, || unsafe {
        strings::copy_truncated(&status::last_error(), buf, cap)
    })
}

/// Rust-only helpers for tests of the boundary; not part of the C ABI.
#[doc(hidden)]
pub mod testing {
    use super::{asyncop_queue, handles};

    /// Registers a core queue (e.g. one opened with an injected clock) as a C handle.
    pub fn queue_handle(queue: crate::Queue) -> *mut asyncop_queue {
        handles::insert(asyncop_queue::new(queue))
    }
}

// -- the ABI's codes are the core's ------------------------------------------------

/// The ABI constant of each core state; exhaustive, so a new state needs one.
const fn state_constant(state: State) -> i32 {
    match state {
        State::Ready => ASYNCOP_STATE_READY,
        State::Suspended => ASYNCOP_STATE_SUSPENDED,
        State::Locked => ASYNCOP_STATE_LOCKED,
        State::Completed => ASYNCOP_STATE_COMPLETED,
    }
}

/// The ABI constant of each core status; exhaustive, so a new status needs one.
const fn status_constant(status: Status) -> i32 {
    match status {
        Status::WaitingForResources => ASYNCOP_STATUS_WAITING_FOR_RESOURCES,
        Status::Waiting => ASYNCOP_STATUS_WAITING,
        Status::InProgress => ASYNCOP_STATUS_IN_PROGRESS,
        Status::Pausing => ASYNCOP_STATUS_PAUSING,
        Status::Canceling => ASYNCOP_STATUS_CANCELING,
        Status::Succeeded => ASYNCOP_STATUS_SUCCEEDED,
        Status::Failed => ASYNCOP_STATUS_FAILED,
        Status::Canceled => ASYNCOP_STATUS_CANCELED,
    }
}

/// The ABI constant of each core outcome; exhaustive, so a new outcome needs one.
const fn outcome_constant(outcome: Outcome) -> i32 {
    match outcome {
        Outcome::Failed => ASYNCOP_OUTCOME_FAILED,
        Outcome::Canceled => ASYNCOP_OUTCOME_CANCELED,
        Outcome::Retry => ASYNCOP_OUTCOME_RETRY,
        Outcome::Suspended => ASYNCOP_OUTCOME_SUSPENDED,
        Outcome::Succeeded => ASYNCOP_OUTCOME_SUCCEEDED,
    }
}

// At compile time against the enums' `repr(u8)` discriminants, which `code()`
// returns today; `code()` is not a `const fn`, so the unit test below compares
// with it too.
const _: () = {
    let mut i = 0;
    while i < State::ALL.len() {
        assert!(state_constant(State::ALL[i]) == State::ALL[i] as i32);
        i += 1;
    }
    let mut i = 0;
    while i < Status::ALL.len() {
        assert!(status_constant(Status::ALL[i]) == Status::ALL[i] as i32);
        i += 1;
    }
    let mut i = 0;
    while i < Outcome::ALL.len() {
        assert!(outcome_constant(Outcome::ALL[i]) == Outcome::ALL[i] as i32);
        i += 1;
    }
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abi_constants_are_the_core_codes() {
        for state in State::ALL {
            assert_eq!(state_constant(state), i32::from(state.code()), "{state:?}");
        }
        for status in Status::ALL {
            assert_eq!(
                status_constant(status),
                i32::from(status.code()),
                "{status:?}"
            );
        }
        for outcome in Outcome::ALL {
            assert_eq!(
                outcome_constant(outcome),
                i32::from(outcome.code()),
                "{outcome:?}"
            );
        }
        use crate::attempt::AttemptEnding;
        let endings = [
            (AttemptEnding::Retry, ASYNCOP_ENDING_RETRY),
            (AttemptEnding::Failed, ASYNCOP_ENDING_FAILED),
            (AttemptEnding::Expired, ASYNCOP_ENDING_EXPIRED),
        ];
        assert_eq!(endings.len(), AttemptEnding::ALL.len());
        for (ending, constant) in endings {
            assert_eq!(ending.code(), constant, "{ending:?}");
        }
    }
}
