//! User actions (§3.4, §4): Cancel, Pause, Resume, Postpone, Delete and the
//! generic `set_state`. `restricted` is whether the operation type is in the
//! queue's `restricted_types` (§9).

use super::recurrence::Pattern;
use super::time_text::iso_utc;
use super::{Change, PostponeUntil, State, Status, refusal};
use crate::error::{Error, Result};

/// The result of a user action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Write this move.
    Move(Change),
    /// Valid, but nothing to write (Pause of a Pausing operation, U5).
    Unchanged,
    /// Remove the row (U10).
    Delete,
}

/// Cancel: U1, U2, U3.
pub fn cancel(cur: Status, restricted: bool) -> Result<Step> {
    if restricted {
        return Err(Error::CannotCancel);
    }
    match cur {
        Status::WaitingForResources | Status::Waiting => Ok(Step::Move(Change::to(
            Status::Canceled,
            PostponeUntil::Clear,
        ))),
        Status::InProgress | Status::Pausing => Ok(Step::Move(Change::to(
            Status::Canceling,
            PostponeUntil::Clear,
        ))),
        _ => Err(Error::InvalidStateChange(refusal(cur, State::Completed))),
    }
}

/// Pause: U4, U5.
pub fn pause(cur: Status, restricted: bool) -> Result<Step> {
    if restricted {
        return Err(Error::CannotPause);
    }
    match cur {
        Status::InProgress => Ok(Step::Move(Change::to(
            Status::Pausing,
            PostponeUntil::Clear,
        ))),
        Status::Pausing => Ok(Step::Unchanged),
        _ => Err(Error::InvalidStateChangeToSuspended(refusal(
            cur,
            State::Suspended,
        ))),
    }
}

/// Resume: U6. Restricted types have no dedicated code, so they get ToReady (§4).
pub fn resume(cur: Status, restricted: bool) -> Result<Step> {
    match cur {
        Status::Waiting if !restricted => Ok(Step::Move(Change::to(
            Status::WaitingForResources,
            PostponeUntil::Clear,
        ))),
        _ => Err(Error::InvalidStateChangeToReady(refusal(cur, State::Ready))),
    }
}

/// Postpone(t): U7, U8, U9. `until` must be later than `now` (checked first:
/// it is an argument error, which precedes every state check).
pub fn postpone(cur: Status, restricted: bool, until: i64, now: i64) -> Result<Step> {
    check_postpone_time(until, now)?;
    match cur {
        Status::WaitingForResources | Status::Waiting => Ok(Step::Move(Change::to(
            Status::Waiting,
            PostponeUntil::Set(until),
        ))),
        // Postponing a running operation pauses it, which restricted types refuse.
        Status::InProgress if restricted => Err(Error::CannotPause),
        Status::InProgress => Ok(Step::Move(Change::to(
            Status::Pausing,
            PostponeUntil::Set(until),
        ))),
        _ => Err(Error::InvalidStateChangeToSuspended(refusal(
            cur,
            State::Suspended,
        ))),
    }
}

/// The argument rule of Postpone (§4): the new time must be later than now.
pub fn check_postpone_time(until: i64, now: i64) -> Result<()> {
    if until <= now {
        return Err(Error::InvalidArgument(format!(
            "postpone_until ({}) must be later than now ({}); use Resume to run it at once",
            iso_utc(until),
            iso_utc(now)
        )));
    }
    Ok(())
}

/// Delete: U10; `allow_delete_any` (§10) permits every state.
pub fn delete(cur: Status, allow_delete_any: bool) -> Result<Step> {
    if cur.state() == State::Completed || allow_delete_any {
        Ok(Step::Delete)
    } else {
        Err(Error::CannotDeleteUnlessCompleted)
    }
}

/// What a generic `set_state(state, status)` asks for, once its codes are valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetStateRequest {
    /// `(0, ..)`.
    Resume,
    /// `(1, ..)`.
    Pause,
    /// `(3)` or `(3, 32)`.
    Cancel,
    /// `(3, 30)` or `(3, 31)`: users cannot declare an outcome.
    DeclareOutcome,
    /// `(2, ..)`: only hosts lock operations.
    Lock,
}

/// Checks the codes of a `set_state` request (the argument step of the check
/// order, before the row is read). `id` only feeds the documented message.
pub fn parse_set_state(id: i64, state: i64, status: Option<i64>) -> Result<SetStateRequest> {
    let st = State::try_from(state)?;
    if let Some(code) = status {
        let t = Status::try_from(code)?;
        if t.state() != st {
            return Err(Error::InvalidArgument(format!(
                "{code} is not a valid status code for state code AsyncOperationState.{st} \
                 on asyncoperation with Id {id}"
            )));
        }
    }
    Ok(match (st, status.and_then(Status::from_code)) {
        (State::Ready, _) => SetStateRequest::Resume,
        (State::Suspended, _) => SetStateRequest::Pause,
        (State::Locked, _) => SetStateRequest::Lock,
        (State::Completed, Some(Status::Succeeded | Status::Failed)) => {
            SetStateRequest::DeclareOutcome
        }
        (State::Completed, _) => SetStateRequest::Cancel,
    })
}

/// Checks that a (state, status) pair of a query filter agree (the same rule
/// as `parse_set_state`, without an id in the message).
pub fn check_state_status(state: State, status: Status) -> Result<()> {
    if status.state() != state {
        return Err(Error::InvalidArgument(format!(
            "{} is not a valid status code for state code AsyncOperationState.{state}",
            status.code()
        )));
    }
    Ok(())
}

/// Generic `set_state`: maps onto exactly one action of the matrix or is refused.
pub fn set_state(cur: Status, restricted: bool, request: SetStateRequest) -> Result<Step> {
    match request {
        SetStateRequest::Resume => resume(cur, restricted),
        SetStateRequest::Pause => pause(cur, restricted),
        SetStateRequest::Cancel => cancel(cur, restricted),
        SetStateRequest::DeclareOutcome => Err(Error::InvalidStateChangeToComplete(refusal(
            cur,
            State::Completed,
        ))),
        SetStateRequest::Lock => Err(Error::InvalidStateChange(refusal(cur, State::Locked))),
    }
}

/// The checks of a pattern update (§8, `set_recurrence`), in the model's
/// order: a one-shot operation (0x80044168), a type not in
/// `recurrence_updatable_types` (0x80044169), a Completed series
/// (0x80044162), then the pattern itself (InvalidArgument; an empty one too:
/// Cancel, not an empty pattern, ends a series). Returns the parsed pattern.
pub fn set_recurrence(
    cur: Status,
    recurring: bool,
    updatable: bool,
    pattern: &str,
) -> Result<Pattern> {
    if !recurring {
        return Err(Error::CannotUpdateNonrecurring);
    }
    if !updatable {
        return Err(Error::CannotUpdateRecurring);
    }
    if cur.state() == State::Completed {
        return Err(Error::InvalidStateChange(refusal(cur, State::Completed)));
    }
    Pattern::parse(pattern)?.ok_or_else(|| {
        Error::InvalidArgument(
            "a recurrence pattern is required (FREQ=...); Cancel ends a series".into(),
        )
    })
}
