//! The operation life cycle as pure functions (`docs/operation-model.md` §2–§4,
//! §6.5): no I/O, no clock, no store. Every write the library makes is decided
//! here, and every column a move writes is computed here ([`apply()`],
//! [`ClaimMove`]); a store only writes what it is given, under a compare-and-set.
//! The exhaustive table test in `tests/transition_table` therefore covers every
//! move the library can make.
//!
//! - this module: the codes (`State`, `Status`, `Outcome`) and the shape of a move (`Change`);
//! - [`user`]: the user actions of §3.4/§4 (Cancel, Pause, Resume, Postpone, Delete, set_state)
//!   and the pattern update of §8;
//! - [`host`]: creation, the claim, renewal, host outcomes, lease expiry, promotion;
//! - [`apply`](mod@apply): the columns a move writes;
//! - [`retry`]: the retry budget and back-off schedule;
//! - [`retention`]: which Completed rows a purge deletes, and auto-delete (§10).
//! - [`attempt`](mod@attempt): which outcomes the attempt history keeps.
//! - [`explain`]: refusals in words (the states named); [`time_text`]: times in messages.

pub mod apply;
pub mod attempt;
pub mod explain;
pub mod host;
pub mod recurrence;
pub mod retention;
pub mod retry;
pub mod stop;
pub mod time_text;
pub mod user;

pub use apply::{ClaimMove, ErrorFields, apply};
pub use attempt::attempt_ending;
pub use host::{
    Creation, OutcomeContext, RetryPlan, acknowledge_cancel, acknowledge_pause, claim, claimable,
    complete, fail, fail_retryable, lease_expired, postpone_due, renew, report, series_ended,
    submit, suspend,
};
pub use retention::{Retention, RetentionPolicy, auto_deletes};
pub use retry::RetryPolicy;
pub use user::{
    SetStateRequest, Step, cancel, check_postpone_time, check_state_status, delete,
    parse_set_state, pause, postpone, resume, set_recurrence, set_state,
};

use crate::error::{Error, Refusal, Result};
use std::fmt;

/// Declares a code enum of the model: the enum, `ALL` in code order, `code`,
/// `from_code`, `name`, `Display` and `TryFrom<i64>` (an unknown code is
/// `InvalidArgument`), so the four lists of one table cannot drift apart.
macro_rules! coded_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal, $codes:literal {
            $($(#[$vmeta:meta])* $variant:ident = $code:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[repr(u8)]
        pub enum $name {
            $($(#[$vmeta])* $variant = $code,)+
        }

        impl $name {
            /// Every value, in code order.
            pub const ALL: [$name; [$($code),+].len()] = [$($name::$variant),+];

            /// The code stored in the file and used at the C ABI.
            pub const fn code(self) -> u8 {
                self as u8
            }

            /// The value with this code, if there is one.
            pub fn from_code(code: i64) -> Option<$name> {
                $name::ALL.into_iter().find(|v| i64::from(v.code()) == code)
            }

            /// The model's name of the value.
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$variant => stringify!($variant),)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl TryFrom<i64> for $name {
            type Error = Error;
            fn try_from(code: i64) -> Result<$name> {
                $name::from_code(code).ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        concat!("{} is not ", $what, " code (", $codes, ")"),
                        code
                    ))
                })
            }
        }
    };
}

coded_enum! {
    /// `statecode` (§2).
    State, "a state", "0..3" {
        /// Waiting for a host to claim it.
        Ready = 0,
        /// Not eligible: paused, postponed or waiting for a retry.
        Suspended = 1,
        /// Claimed by a host under a lease.
        Locked = 2,
        /// Finished: succeeded, failed or canceled.
        Completed = 3,
    }
}

coded_enum! {
    /// `statuscode` (§2). Each status belongs to exactly one state: state = status / 10.
    Status, "a status", "0, 10, 20, 21, 22, 30, 31, 32" {
        /// 0/0: eligible for a claim.
        WaitingForResources = 0,
        /// 1/10: paused, postponed, or between retries.
        Waiting = 10,
        /// 2/20: a host runs it.
        InProgress = 20,
        /// 2/21: a user asked the host to pause it.
        Pausing = 21,
        /// 2/22: a user asked the host to cancel it.
        Canceling = 22,
        /// 3/30: done.
        Succeeded = 30,
        /// 3/31: failed for good.
        Failed = 31,
        /// 3/32: canceled.
        Canceled = 32,
    }
}

coded_enum! {
    /// A host's outcome, numbered as Dynamics' plug-in OperationStatus (§3.2).
    Outcome, "an outcome", "0..4" {
        /// Failed for good: 3/31.
        Failed = 0,
        /// Stopped after a Cancel: 3/32.
        Canceled = 1,
        /// A retryable failure: 1/10 until the back-off time, or 3/31 when the budget is spent.
        Retry = 2,
        /// A suspend-class failure, or the stop after a Pause: 1/10.
        Suspended = 3,
        /// Done: 3/30 (or the next occurrence of a recurring operation).
        Succeeded = 4,
    }
}

impl State {
    /// The status a state gets when none is named (§2).
    pub fn default_status(self) -> Status {
        match self {
            State::Ready => Status::WaitingForResources,
            State::Suspended => Status::Waiting,
            State::Locked => Status::InProgress,
            State::Completed => Status::Succeeded,
        }
    }
}

impl Status {
    /// The fixed status → state mapping.
    pub fn state(self) -> State {
        match self {
            Status::WaitingForResources => State::Ready,
            Status::Waiting => State::Suspended,
            Status::InProgress | Status::Pausing | Status::Canceling => State::Locked,
            Status::Succeeded | Status::Failed | Status::Canceled => State::Completed,
        }
    }
}

/// What a move does to `postpone_until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostponeUntil {
    /// Leave it as stored (e.g. the pending pu of a Pausing operation).
    Keep,
    /// Set it to null.
    Clear,
    /// Set it to this time.
    Set(i64),
}

/// What a move does to `retry_count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryCount {
    /// Leave it as stored.
    Keep,
    /// One more attempt was used.
    Increment,
    /// After a successful recurring run (§8).
    Reset,
}

/// A move to a new status with its side effects on the user-visible fields.
/// The effects implied by the states alone (host and lease cleared on leaving
/// Locked, `completed_on` on entering Completed, ...) are added by [`apply()`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The status (and so the state) after the move.
    pub status: Status,
    /// What happens to `postpone_until`.
    pub postpone_until: PostponeUntil,
    /// What happens to `retry_count`.
    pub retry_count: RetryCount,
}

impl Change {
    pub(crate) fn to(status: Status, postpone_until: PostponeUntil) -> Change {
        // Reaching Ready or Completed always clears pu (§3); the table only
        // needs to say what happens inside Suspended and Locked.
        let postpone_until = match status.state() {
            State::Ready | State::Completed => PostponeUntil::Clear,
            _ => postpone_until,
        };
        Change {
            status,
            postpone_until,
            retry_count: RetryCount::Keep,
        }
    }

    pub(crate) fn retry(mut self, retry_count: RetryCount) -> Change {
        self.retry_count = retry_count;
        self
    }
}

fn refusal(cur: Status, target_state: State) -> Refusal {
    Refusal {
        state: cur.state().code(),
        status: cur.code(),
        target_state: target_state.code(),
    }
}
