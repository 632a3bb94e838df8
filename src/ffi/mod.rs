//! The C ABI (`include/asyncop.h`). It only converts and delegates to the core.
//!
//! Conventions (see `shared/spec/ffi-conventions.md`): every function returns an
//! `asyncop_status` (0 = OK) and writes results to trailing out-parameters,
//! only on success. Handles are validated tokens: a closed, foreign or
//! inherited (after fork) handle gives a status code, never a crash. Every
//! export runs inside a panic boundary. Strings are NUL-terminated UTF-8;
//! results are copied into caller buffers `(buf, cap, *out_len)`.

#![allow(non_camel_case_types)]

pub(crate) mod handles;
pub(crate) mod panic;
pub(crate) mod status;
pub(crate) mod strings;

pub mod lease;
pub mod operation;
pub mod options;
pub mod queue;
pub mod spec;

pub use lease::asyncop_lease;
pub use operation::{asyncop_counts, asyncop_operation, asyncop_operation_list};
pub use options::asyncop_options;
pub use queue::asyncop_queue;
pub use spec::asyncop_spec;
pub use status::asyncop_status;

use panic::value_boundary;
use std::ffi::c_char;

/// Version of the ABI: bumped when an existing function's signature or meaning
/// changes. Wrappers compare it with `asyncop_abi_version()` when they load.
pub const ASYNCOP_ABI_VERSION: u32 = 1;

/// "No time": an absent `postpone_until`, `retry_at`, `completed_before`.
pub const ASYNCOP_TIME_NONE: i64 = -9223372036854775807 - 1;

/// "Any": a query filter field that matches everything.
pub const ASYNCOP_ANY: i32 = -1;

/// "No status": `asyncop_queue_set_state` with the state's default meaning.
pub const ASYNCOP_STATUS_NONE: i32 = -1;

/// State codes (`statecode`).
pub const ASYNCOP_STATE_READY: i32 = 0;
pub const ASYNCOP_STATE_SUSPENDED: i32 = 1;
pub const ASYNCOP_STATE_LOCKED: i32 = 2;
pub const ASYNCOP_STATE_COMPLETED: i32 = 3;

/// Status codes (`statuscode`); each belongs to state = status / 10.
pub const ASYNCOP_STATUS_WAITING_FOR_RESOURCES: i32 = 0;
pub const ASYNCOP_STATUS_WAITING: i32 = 10;
pub const ASYNCOP_STATUS_IN_PROGRESS: i32 = 20;
pub const ASYNCOP_STATUS_PAUSING: i32 = 21;
pub const ASYNCOP_STATUS_CANCELING: i32 = 22;
pub const ASYNCOP_STATUS_SUCCEEDED: i32 = 30;
pub const ASYNCOP_STATUS_FAILED: i32 = 31;
pub const ASYNCOP_STATUS_CANCELED: i32 = 32;

/// Host outcomes, numbered as Dynamics' plug-in OperationStatus.
pub const ASYNCOP_OUTCOME_FAILED: i32 = 0;
pub const ASYNCOP_OUTCOME_CANCELED: i32 = 1;
pub const ASYNCOP_OUTCOME_RETRY: i32 = 2;
pub const ASYNCOP_OUTCOME_SUSPENDED: i32 = 3;
pub const ASYNCOP_OUTCOME_SUCCEEDED: i32 = 4;

/// Durability: `synchronous=FULL` (a returned call survives power loss) or
/// `NORMAL` (survives a process crash; faster).
pub const ASYNCOP_DURABILITY_FULL: i32 = 0;
pub const ASYNCOP_DURABILITY_NORMAL: i32 = 1;

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
        handles::insert(asyncop_queue { queue })
    }
}
