//! The one error type of the core. Each variant is one refusal family of
//! `operation-model.md` §12; the FFI maps them to status codes in one place,
//! and each store maps its own driver's errors onto them (`store::sqlite::error`).

use crate::transition::explain::{Refused, refusal_hint};
use std::fmt;

/// Code stored in `error_code` by poison protection (§6.4). It is the number
/// of `ASYNCOP_ERR_LEASE_LOST` at the C ABI, so one number names the failure
/// in the row and at the boundary.
pub const LEASE_LOST_CODE: i32 = 9;

/// HRESULT a host stores when it has no handler for an operation type
/// (`AsyncOperationTypeIsNotRecognized`, §6.5).
pub const TYPE_NOT_RECOGNIZED_HRESULT: i32 = 0x8004_4303_u32 as i32;

/// The (state, status) an operation had when an action was refused, plus the
/// state the caller asked for: the observed Dynamics message template needs all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// The state code the operation had.
    pub state: u8,
    /// The status code the operation had.
    pub status: u8,
    /// The state code the caller asked for.
    pub target_state: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// Why a call was refused or failed; `name()` and `hresult()` give the model's name and code.
pub enum Error {
    /// 0x80044162: Cancel on 2/22 or 3/x, `set_state(2, ..)`.
    InvalidStateChange(Refusal),
    /// 0x80044163: the row changed between validation and the write.
    InvalidStateChangeUnexpected,
    /// 0x80044165: a user tried to declare an outcome, `set_state(3, 30 | 31)`.
    InvalidStateChangeToComplete(Refusal),
    /// 0x80044166: Resume when not 1/10, or of a restricted type.
    InvalidStateChangeToReady(Refusal),
    /// 0x80044167: Pause or Postpone not allowed in the current state.
    InvalidStateChangeToSuspended(Refusal),
    /// 0x8004416a: Delete of a row that is not Completed.
    CannotDeleteUnlessCompleted,
    /// 0x80044F00: Cancel of a restricted type.
    CannotCancel,
    /// 0x80044F01: Pause of a restricted type, or Postpone of one while 2/20.
    CannotPause,
    /// 0x80044168: pattern update on a one-shot operation (recurrence issue).
    CannotUpdateNonrecurring,
    /// 0x80044169: pattern update on a type that does not allow it (recurrence issue).
    CannotUpdateRecurring,
    /// No row with this id (user calls only; host calls say `LeaseLost`).
    NotFound {
        /// The id that was asked for.
        id: i64,
    },
    /// A host call without a live lease and matching lock token; `detail` says
    /// why (expired, claimed again by another host, no longer Locked, gone).
    LeaseLost {
        /// The operation.
        id: i64,
        /// The lock token the caller named.
        lock_token: i64,
        /// Why the lease is not held.
        detail: String,
    },
    /// Bad argument: text too long, id <= 0, mismatched or unknown codes, t <= now.
    InvalidArgument(String),
    /// The write lock was not obtained within the busy timeout; nothing changed.
    Busy,
    /// Not an asyncop database: corrupt, not SQLite, foreign schema, newer version;
    /// or a damaged page or stored row found by a read or by `check_integrity`.
    Corrupt(String),
    /// The queue was closed.
    Closed,
    /// The file cannot be opened, read or written: a missing directory, no
    /// permission, a read-only file system, a full disk.
    Io(String),
    /// An unexpected SQLite failure, or a bug.
    Internal(String),
}

/// The result of every fallible call of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The Dynamics name of the refusal (§12), e.g. `AsyncOperationCannotCancel`.
    pub fn name(&self) -> &'static str {
        match self {
            Error::InvalidStateChange(_) => "AsyncOperationInvalidStateChange",
            Error::InvalidStateChangeUnexpected => "AsyncOperationInvalidStateChangeUnexpected",
            Error::InvalidStateChangeToComplete(_) => "AsyncOperationInvalidStateChangeToComplete",
            Error::InvalidStateChangeToReady(_) => "AsyncOperationInvalidStateChangeToReady",
            Error::InvalidStateChangeToSuspended(_) => {
                "AsyncOperationInvalidStateChangeToSuspended"
            }
            Error::CannotDeleteUnlessCompleted => "AsyncOperationCannotDeleteUnlessCompleted",
            Error::CannotCancel => "AsyncOperationCannotCancel",
            Error::CannotPause => "AsyncOperationCannotPause",
            Error::CannotUpdateNonrecurring => "AsyncOperationCannotUpdateNonrecurring",
            Error::CannotUpdateRecurring => "AsyncOperationCannotUpdateRecurring",
            Error::NotFound { .. } => "NotFound",
            Error::LeaseLost { .. } => "LeaseLost",
            Error::InvalidArgument(_) => "InvalidArgument",
            Error::Busy => "Busy",
            Error::Corrupt(_) => "Corrupt",
            Error::Closed => "Closed",
            Error::Io(_) => "Io",
            Error::Internal(_) => "Internal",
        }
    }

    /// The Dynamics HRESULT as a signed 32-bit value, where §12 gives one.
    pub fn hresult(&self) -> Option<i32> {
        let h: u32 = match self {
            Error::InvalidStateChange(_) => 0x8004_4162,
            Error::InvalidStateChangeUnexpected => 0x8004_4163,
            Error::InvalidStateChangeToComplete(_) => 0x8004_4165,
            Error::InvalidStateChangeToReady(_) => 0x8004_4166,
            Error::InvalidStateChangeToSuspended(_) => 0x8004_4167,
            Error::CannotDeleteUnlessCompleted => 0x8004_416a,
            Error::CannotCancel => 0x8004_4F00,
            Error::CannotPause => 0x8004_4F01,
            Error::CannotUpdateNonrecurring => 0x8004_4168,
            Error::CannotUpdateRecurring => 0x8004_4169,
            _ => return None,
        };
        Some(h as i32)
    }

    /// True for errors a caller may retry unchanged (lock contention, CAS conflict).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Busy | Error::InvalidStateChangeUnexpected)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidStateChange(r) => refused(f, Refused::Change, r),
            Error::InvalidStateChangeToComplete(r) => refused(f, Refused::ToComplete, r),
            Error::InvalidStateChangeToReady(r) => refused(f, Refused::ToReady, r),
            Error::InvalidStateChangeToSuspended(r) => refused(f, Refused::ToSuspended, r),
            Error::InvalidStateChangeUnexpected => f.write_str(
                "The target state could not be set because the state was changed by another process.",
            ),
            Error::CannotDeleteUnlessCompleted => {
                f.write_str("Cannot delete async operation unless it is in Completed state.")
            }
            Error::CannotCancel => f.write_str("This system job cannot be canceled."),
            Error::CannotPause => f.write_str("This system job cannot be paused."),
            Error::CannotUpdateNonrecurring => {
                f.write_str("Cannot update recurrence pattern for a job that is not recurring.")
            }
            Error::CannotUpdateRecurring => f.write_str(
                "Cannot update recurrence pattern for a job type that is not supported.",
            ),
            Error::NotFound { id } => write!(f, "no asyncoperation with Id {id}"),
            Error::LeaseLost { id, lock_token, detail } => {
                write!(f, "lease lost on asyncoperation {id} (lock token {lock_token}): {detail}")
            }
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Error::Busy => f.write_str("database is busy: the write lock was not obtained within the busy timeout; nothing changed"),
            Error::Corrupt(m) => write!(f, "not a usable asyncop database: {m}"),
            Error::Closed => f.write_str("the queue is closed"),
            Error::Io(m) => write!(f, "I/O error: {m}"),
            Error::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

/// §12's observed template, then the states named and a hint (`transition::explain`).
fn refused(f: &mut fmt::Formatter<'_>, kind: Refused, r: &Refusal) -> fmt::Result {
    write!(
        f,
        "The state transition requested is not valid for the current state. \
         Current state: {}, current status: {}, target state: {}. {}",
        r.state,
        r.status,
        r.target_state,
        refusal_hint(kind, r)
    )
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}
