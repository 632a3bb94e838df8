//! Status codes of the C ABI, the one mapping from core errors to codes, and
//! the thread-local last-error message.

use crate::error::Error;
use std::cell::RefCell;
use std::ffi::CStr;

/// The result of every status-returning function. `ASYNCOP_OK` (0) is success;
/// asyncop's own codes are positive; refusals inherited from Dynamics 365 are
/// their HRESULT as a negative `int32_t`, so one number names a refusal at the
/// ABI, in an operation's stored `error_code` and in the wrappers.
/// Numbers are never changed or reused; new codes are appended.
/// After any non-OK return, `asyncop_last_error_message` explains it.
#[allow(non_camel_case_types)]
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum asyncop_status {
    /// Success.
    ASYNCOP_OK = 0,
    /// An argument is invalid: text too long, id <= 0, a mismatched state/status
    /// pair, a time not in the future, an empty host id, ...
    ASYNCOP_ERR_INVALID_ARG = 1,
    /// A required pointer argument is NULL.
    ASYNCOP_ERR_NULL_ARG = 2,
    /// A string argument is not valid UTF-8.
    ASYNCOP_ERR_UTF8 = 3,
    /// An integer that stands for an enum or a boolean is outside its range.
    ASYNCOP_ERR_OUT_OF_RANGE = 4,
    /// The caller's buffer is too small (or a size query): `*out_len` holds the size needed.
    ASYNCOP_ERR_BUFFER_TOO_SMALL = 5,
    /// The handle was never issued, or is a handle of another type.
    ASYNCOP_ERR_INVALID_HANDLE = 6,
    /// The handle was closed or freed, or the queue it belongs to was closed.
    ASYNCOP_ERR_CLOSED_HANDLE = 7,
    /// No operation with this id (user calls; host calls give LEASE_LOST instead).
    ASYNCOP_ERR_NOT_FOUND = 8,
    /// A host call without a live lease under this lock token; nothing changed.
    ASYNCOP_ERR_LEASE_LOST = 9,
    /// The write lock was not obtained within the busy timeout; nothing changed. Retryable.
    ASYNCOP_ERR_BUSY = 10,
    /// The file is not a usable asyncop database: not SQLite, foreign, truncated,
    /// corrupt, or a newer schema version; at open, the file was left untouched.
    /// Later, a read of a damaged page or stored row (a value the schema does not
    /// allow), or asyncop_queue_check_integrity finding damage.
    ASYNCOP_ERR_CORRUPT = 11,
    /// An unexpected SQLite failure or a bug.
    ASYNCOP_ERR_INTERNAL = 12,
    /// A panic was caught inside the library; the handle involved is poisoned
    /// (later calls on it return this code; closing it still works).
    ASYNCOP_ERR_PANIC = 13,
    /// The handle was inherited across fork(); open a new queue in this process.
    ASYNCOP_ERR_FORKED = 14,
    /// Reserved for callbacks.
    ASYNCOP_ERR_CALLBACK = 15,
    /// The file cannot be opened, read or written (missing directory, permissions,
    /// read-only file system, full disk).
    ASYNCOP_ERR_IO = 16,
    /// 0x80044162 AsyncOperationInvalidStateChange: Cancel of 2/22 or 3/x, set_state(2).
    ASYNCOP_ERR_INVALID_STATE_CHANGE = -2147204766,
    /// 0x80044163 AsyncOperationInvalidStateChangeUnexpected: the operation changed
    /// between validation and write. Retryable.
    ASYNCOP_ERR_INVALID_STATE_CHANGE_UNEXPECTED = -2147204765,
    /// 0x80044165 AsyncOperationInvalidStateChangeToComplete: set_state(3, 30 or 31).
    ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE = -2147204763,
    /// 0x80044166 AsyncOperationInvalidStateChangeToReady: Resume when not 1/10.
    ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY = -2147204762,
    /// 0x80044167 AsyncOperationInvalidStateChangeToSuspended: Pause or Postpone not
    /// allowed in the current state.
    ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED = -2147204761,
    /// 0x80044168 AsyncOperationCannotUpdateNonrecurring.
    ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING = -2147204760,
    /// 0x80044169 AsyncOperationCannotUpdateRecurring.
    ASYNCOP_ERR_CANNOT_UPDATE_RECURRING = -2147204759,
    /// 0x8004416a AsyncOperationCannotDeleteUnlessCompleted.
    ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED = -2147204758,
    /// 0x80044303 AsyncOperationTypeIsNotRecognized: never returned by a call; hosts
    /// store it as the error code of an operation they have no handler for.
    ASYNCOP_ERR_TYPE_NOT_RECOGNIZED = -2147204349,
    /// 0x80044F00 AsyncOperationCannotCancel: Cancel of a restricted type.
    ASYNCOP_ERR_CANNOT_CANCEL = -2147201280,
    /// 0x80044F01 AsyncOperationCannotPause: Pause of a restricted type, or Postpone
    /// of one while it runs.
    ASYNCOP_ERR_CANNOT_PAUSE = -2147201279,
}

use asyncop_status::*;

/// Every code, for `asyncop_status_name` and the tests.
pub(crate) const ALL: [asyncop_status; 28] = [
    ASYNCOP_OK,
    ASYNCOP_ERR_INVALID_ARG,
    ASYNCOP_ERR_NULL_ARG,
    ASYNCOP_ERR_UTF8,
    ASYNCOP_ERR_OUT_OF_RANGE,
    ASYNCOP_ERR_BUFFER_TOO_SMALL,
    ASYNCOP_ERR_INVALID_HANDLE,
    ASYNCOP_ERR_CLOSED_HANDLE,
    ASYNCOP_ERR_NOT_FOUND,
    ASYNCOP_ERR_LEASE_LOST,
    ASYNCOP_ERR_BUSY,
    ASYNCOP_ERR_CORRUPT,
    ASYNCOP_ERR_INTERNAL,
    ASYNCOP_ERR_PANIC,
    ASYNCOP_ERR_FORKED,
    ASYNCOP_ERR_CALLBACK,
    ASYNCOP_ERR_IO,
    ASYNCOP_ERR_INVALID_STATE_CHANGE,
    ASYNCOP_ERR_INVALID_STATE_CHANGE_UNEXPECTED,
    ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE,
    ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY,
    ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED,
    ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING,
    ASYNCOP_ERR_CANNOT_UPDATE_RECURRING,
    ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED,
    ASYNCOP_ERR_TYPE_NOT_RECOGNIZED,
    ASYNCOP_ERR_CANNOT_CANCEL,
    ASYNCOP_ERR_CANNOT_PAUSE,
];

impl asyncop_status {
    pub(crate) fn from_code(code: i32) -> Option<asyncop_status> {
        ALL.into_iter().find(|s| *s as i32 == code)
    }

    /// The code's C name, NUL-terminated, static.
    pub(crate) fn name(self) -> &'static CStr {
        match self {
            ASYNCOP_OK => c"ASYNCOP_OK",
            ASYNCOP_ERR_INVALID_ARG => c"ASYNCOP_ERR_INVALID_ARG",
            ASYNCOP_ERR_NULL_ARG => c"ASYNCOP_ERR_NULL_ARG",
            ASYNCOP_ERR_UTF8 => c"ASYNCOP_ERR_UTF8",
            ASYNCOP_ERR_OUT_OF_RANGE => c"ASYNCOP_ERR_OUT_OF_RANGE",
            ASYNCOP_ERR_BUFFER_TOO_SMALL => c"ASYNCOP_ERR_BUFFER_TOO_SMALL",
            ASYNCOP_ERR_INVALID_HANDLE => c"ASYNCOP_ERR_INVALID_HANDLE",
            ASYNCOP_ERR_CLOSED_HANDLE => c"ASYNCOP_ERR_CLOSED_HANDLE",
            ASYNCOP_ERR_NOT_FOUND => c"ASYNCOP_ERR_NOT_FOUND",
            ASYNCOP_ERR_LEASE_LOST => c"ASYNCOP_ERR_LEASE_LOST",
            ASYNCOP_ERR_BUSY => c"ASYNCOP_ERR_BUSY",
            ASYNCOP_ERR_CORRUPT => c"ASYNCOP_ERR_CORRUPT",
            ASYNCOP_ERR_INTERNAL => c"ASYNCOP_ERR_INTERNAL",
            ASYNCOP_ERR_PANIC => c"ASYNCOP_ERR_PANIC",
            ASYNCOP_ERR_FORKED => c"ASYNCOP_ERR_FORKED",
            ASYNCOP_ERR_CALLBACK => c"ASYNCOP_ERR_CALLBACK",
            ASYNCOP_ERR_IO => c"ASYNCOP_ERR_IO",
            ASYNCOP_ERR_INVALID_STATE_CHANGE => c"ASYNCOP_ERR_INVALID_STATE_CHANGE",
            ASYNCOP_ERR_INVALID_STATE_CHANGE_UNEXPECTED => {
                c"ASYNCOP_ERR_INVALID_STATE_CHANGE_UNEXPECTED"
            }
            ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE => {
                c"ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE"
            }
            ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY => {
                c"ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY"
            }
            ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED => {
                c"ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED"
            }
            ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING => c"ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING",
            ASYNCOP_ERR_CANNOT_UPDATE_RECURRING => c"ASYNCOP_ERR_CANNOT_UPDATE_RECURRING",
            ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED => {
                c"ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED"
            }
            ASYNCOP_ERR_TYPE_NOT_RECOGNIZED => c"ASYNCOP_ERR_TYPE_NOT_RECOGNIZED",
            ASYNCOP_ERR_CANNOT_CANCEL => c"ASYNCOP_ERR_CANNOT_CANCEL",
            ASYNCOP_ERR_CANNOT_PAUSE => c"ASYNCOP_ERR_CANNOT_PAUSE",
        }
    }

    /// The Dynamics HRESULT of a refusal, or 0 for asyncop's own codes.
    pub(crate) fn hresult(self) -> i32 {
        let code = self as i32;
        if code < 0 { code } else { 0 }
    }
}

/// The one mapping from core errors to codes. Exhaustive, with no `_` arm: a new
/// core error does not compile until it has a code.
impl From<&Error> for asyncop_status {
    fn from(e: &Error) -> asyncop_status {
        match e {
            Error::InvalidStateChange(_) => ASYNCOP_ERR_INVALID_STATE_CHANGE,
            Error::InvalidStateChangeUnexpected => ASYNCOP_ERR_INVALID_STATE_CHANGE_UNEXPECTED,
            Error::InvalidStateChangeToComplete(_) => ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_COMPLETE,
            Error::InvalidStateChangeToReady(_) => ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_READY,
            Error::InvalidStateChangeToSuspended(_) => {
                ASYNCOP_ERR_INVALID_STATE_CHANGE_TO_SUSPENDED
            }
            Error::CannotDeleteUnlessCompleted => ASYNCOP_ERR_CANNOT_DELETE_UNLESS_COMPLETED,
            Error::CannotCancel => ASYNCOP_ERR_CANNOT_CANCEL,
            Error::CannotPause => ASYNCOP_ERR_CANNOT_PAUSE,
            Error::CannotUpdateNonrecurring => ASYNCOP_ERR_CANNOT_UPDATE_NONRECURRING,
            Error::CannotUpdateRecurring => ASYNCOP_ERR_CANNOT_UPDATE_RECURRING,
            Error::NotFound { .. } => ASYNCOP_ERR_NOT_FOUND,
            Error::LeaseLost { .. } => ASYNCOP_ERR_LEASE_LOST,
            Error::InvalidArgument(_) => ASYNCOP_ERR_INVALID_ARG,
            Error::Busy => ASYNCOP_ERR_BUSY,
            Error::Corrupt(_) => ASYNCOP_ERR_CORRUPT,
            Error::Closed => ASYNCOP_ERR_CLOSED_HANDLE,
            Error::Io(_) => ASYNCOP_ERR_IO,
            Error::Internal(_) => ASYNCOP_ERR_INTERNAL,
        }
    }
}

/// A failed call: its code and the message `asyncop_last_error_message` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub code: asyncop_status,
    pub message: String,
}

impl Failure {
    pub(crate) fn new(code: asyncop_status, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
    pub(crate) fn null_arg(name: &str) -> Failure {
        Failure::new(ASYNCOP_ERR_NULL_ARG, format!("{name} is NULL"))
    }
    pub(crate) fn out_of_range(what: &str, value: i64) -> Failure {
        Failure::new(
            ASYNCOP_ERR_OUT_OF_RANGE,
            format!("{value} is not a valid {what}"),
        )
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure {
            code: asyncop_status::from(&e),
            message: e.to_string(),
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Every call starts with a clean slate (the message belongs to the last call).
pub(crate) fn clear_last_error() {
    // try_with: during thread teardown the slot may be gone; nothing to clear then.
    let _ = LAST_ERROR.try_with(|m| m.borrow_mut().clear());
}

pub(crate) fn set_last_error(message: &str) {
    let _ = LAST_ERROR.try_with(|m| {
        let mut m = m.borrow_mut();
        m.clear();
        m.push_str(message);
    });
}

/// A copy of the current message (empty if none, or during thread teardown).
pub(crate) fn last_error() -> String {
    LAST_ERROR
        .try_with(|m| m.borrow().clone())
        .unwrap_or_default()
}
