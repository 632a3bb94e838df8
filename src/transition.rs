//! The operation life cycle as pure functions (`operation-model.md` §2–§4): no I/O,
//! no clock, no store. Every write in `store` asks this module first, so the
//! exhaustive table test in `tests/transition_table.rs` covers every move the
//! library can make.

use crate::error::{Error, Refusal, Result};
use std::fmt;

/// `statecode` (§2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum State {
    Ready = 0,
    Suspended = 1,
    Locked = 2,
    Completed = 3,
}

/// `statuscode` (§2). Each status belongs to exactly one state: state = status / 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Status {
    WaitingForResources = 0,
    Waiting = 10,
    InProgress = 20,
    Pausing = 21,
    Canceling = 22,
    Succeeded = 30,
    Failed = 31,
    Canceled = 32,
}

impl State {
    pub const ALL: [State; 4] = [
        State::Ready,
        State::Suspended,
        State::Locked,
        State::Completed,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: i64) -> Option<State> {
        State::ALL.into_iter().find(|s| i64::from(s.code()) == code)
    }

    /// The status a state gets when none is named (§2).
    pub fn default_status(self) -> Status {
        match self {
            State::Ready => Status::WaitingForResources,
            State::Suspended => Status::Waiting,
            State::Locked => Status::InProgress,
            State::Completed => Status::Succeeded,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            State::Ready => "Ready",
            State::Suspended => "Suspended",
            State::Locked => "Locked",
            State::Completed => "Completed",
        }
    }
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::WaitingForResources,
        Status::Waiting,
        Status::InProgress,
        Status::Pausing,
        Status::Canceling,
        Status::Succeeded,
        Status::Failed,
        Status::Canceled,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: i64) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|s| i64::from(s.code()) == code)
    }

    /// The fixed status → state mapping.
    pub fn state(self) -> State {
        match self {
            Status::WaitingForResources => State::Ready,
            Status::Waiting => State::Suspended,
            Status::InProgress | Status::Pausing | Status::Canceling => State::Locked,
            Status::Succeeded | Status::Failed | Status::Canceled => State::Completed,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Status::WaitingForResources => "WaitingForResources",
            Status::Waiting => "Waiting",
            Status::InProgress => "InProgress",
            Status::Pausing => "Pausing",
            Status::Canceling => "Canceling",
            Status::Succeeded => "Succeeded",
            Status::Failed => "Failed",
            Status::Canceled => "Canceled",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<i64> for State {
    type Error = Error;
    fn try_from(code: i64) -> Result<State> {
        State::from_code(code)
            .ok_or_else(|| Error::InvalidArgument(format!("{code} is not a state code (0..3)")))
    }
}

impl TryFrom<i64> for Status {
    type Error = Error;
    fn try_from(code: i64) -> Result<Status> {
        Status::from_code(code).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{code} is not a status code (0, 10, 20, 21, 22, 30, 31, 32)"
            ))
        })
    }
}

/// What a move does to `postpone_until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostponeUntil {
    /// Leave it as stored (e.g. the pending pu of a Pausing operation).
    Keep,
    Clear,
    Set(i64),
}

/// What a move does to `retry_count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryCount {
    Keep,
    Increment,
    /// After a successful recurring run (§8).
    Reset,
}

/// A move to a new status with its side effects on the user-visible fields.
/// Effects implied by the states alone (host/lease cleared on leaving Locked,
/// `completed_on` on entering Completed, ...) are applied by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub status: Status,
    pub postpone_until: PostponeUntil,
    pub retry_count: RetryCount,
}

impl Change {
    fn to(status: Status, postpone_until: PostponeUntil) -> Change {
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

    fn retry(mut self, retry_count: RetryCount) -> Change {
        self.retry_count = retry_count;
        self
    }
}

/// The result of a user action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Move(Change),
    /// Valid, but nothing to write (Pause of a Pausing operation, U5).
    Unchanged,
    /// Remove the row (U10).
    Delete,
}

fn refusal(cur: Status, target_state: State) -> Refusal {
    Refusal {
        state: cur.state().code(),
        status: cur.code(),
        target_state: target_state.code(),
    }
}

// ---------------------------------------------------------------------------
// User actions (§3.4, §4). `restricted` is whether the operation type is in
// the queue's `restricted_types` (§9).
// ---------------------------------------------------------------------------

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
            "postpone_until ({until}) must be later than now ({now}); use Resume to run it at once"
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
    Resume,
    Pause,
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

// ---------------------------------------------------------------------------
// Host and platform events (§3.1–§3.3). `None` means the event does not apply
// to the current status; for host calls the store reports that as LeaseLost.
// ---------------------------------------------------------------------------

/// P3: the claim takes only 0/0.
pub fn claim(cur: Status) -> Option<Change> {
    (cur == Status::WaitingForResources)
        .then(|| Change::to(Status::InProgress, PostponeUntil::Keep))
}

/// Lease renewal: no move; returns the status the host must act on (20, 21 or 22).
pub fn renew(cur: Status) -> Option<Status> {
    (cur.state() == State::Locked).then_some(cur)
}

/// A host's outcome, numbered as Dynamics' plug-in OperationStatus (§3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Outcome {
    Failed = 0,
    Canceled = 1,
    Retry = 2,
    Suspended = 3,
    Succeeded = 4,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::Failed,
        Outcome::Canceled,
        Outcome::Retry,
        Outcome::Suspended,
        Outcome::Succeeded,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: i64) -> Option<Outcome> {
        Outcome::ALL
            .into_iter()
            .find(|o| i64::from(o.code()) == code)
    }
}

impl TryFrom<i64> for Outcome {
    type Error = Error;
    fn try_from(code: i64) -> Result<Outcome> {
        Outcome::from_code(code)
            .ok_or_else(|| Error::InvalidArgument(format!("{code} is not an outcome code (0..4)")))
    }
}

/// What the retry budget says about the attempt being reported (§6.5),
/// computed by `maintenance::RetryPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPlan {
    /// `retry_count + 1 >= max_attempts`: no attempt left.
    pub exhausted: bool,
    /// When the next attempt may start (the back-off time).
    pub at: i64,
}

/// Facts about the operation that decide a host outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutcomeContext {
    /// For a recurring operation, its next occurrence (§8); `None` for one-shot.
    pub next_occurrence: Option<i64>,
    pub retry: RetryPlan,
}

/// P5: a host reports an outcome under a valid lease (§3.2 table).
pub fn report(cur: Status, outcome: Outcome, ctx: OutcomeContext) -> Option<Change> {
    use PostponeUntil::{Clear, Keep, Set};
    use Status::{Canceled, Canceling, Failed, InProgress, Pausing, Succeeded, Waiting};
    let change = match (cur, outcome) {
        (InProgress | Pausing | Canceling, Outcome::Failed) => Change::to(Failed, Clear),
        (InProgress | Pausing | Canceling, Outcome::Canceled) => Change::to(Canceled, Clear),
        (Canceling, _) => match (outcome, ctx.next_occurrence) {
            // A finished one-shot run is recorded as such, even under Canceling.
            (Outcome::Succeeded, None) => Change::to(Succeeded, Clear),
            _ => Change::to(Canceled, Clear),
        },
        (InProgress | Pausing, Outcome::Succeeded) => match ctx.next_occurrence {
            None => Change::to(Succeeded, Clear),
            Some(next) => {
                let pu = if cur == Pausing { Keep } else { Set(next) };
                Change::to(Waiting, pu).retry(RetryCount::Reset)
            }
        },
        (InProgress | Pausing, Outcome::Retry) if ctx.retry.exhausted => {
            Change::to(Failed, Clear).retry(RetryCount::Increment)
        }
        (InProgress | Pausing, Outcome::Retry) => {
            let pu = if cur == Pausing {
                Keep
            } else {
                Set(ctx.retry.at)
            };
            Change::to(Waiting, pu).retry(RetryCount::Increment)
        }
        (InProgress, Outcome::Suspended) => Change::to(Waiting, Clear),
        (Pausing, Outcome::Suspended) => Change::to(Waiting, Keep),
        _ => return None,
    };
    Some(change)
}

/// A successful run (§3.2 row "Succeeded").
pub fn complete(cur: Status, ctx: OutcomeContext) -> Option<Change> {
    report(cur, Outcome::Succeeded, ctx)
}

/// A retryable failure (§3.2 rows "Retry").
pub fn fail_retryable(cur: Status, ctx: OutcomeContext) -> Option<Change> {
    report(cur, Outcome::Retry, ctx)
}

/// A suspend-class failure (§3.2 row "Suspended").
pub fn suspend(cur: Status, ctx: OutcomeContext) -> Option<Change> {
    report(cur, Outcome::Suspended, ctx)
}

/// The host stopped at a safe point after seeing Pausing: the Suspended outcome.
pub fn acknowledge_pause(cur: Status, ctx: OutcomeContext) -> Option<Change> {
    report(cur, Outcome::Suspended, ctx)
}

/// The host stopped at a safe point after seeing Canceling: the Canceled outcome.
pub fn acknowledge_cancel(cur: Status, ctx: OutcomeContext) -> Option<Change> {
    report(cur, Outcome::Canceled, ctx)
}

/// P6: the lease expired (§3.3). `exhausted` is the retry budget after counting this attempt.
pub fn lease_expired(cur: Status, exhausted: bool) -> Option<Change> {
    use PostponeUntil::{Clear, Keep};
    let change = match cur {
        Status::InProgress if exhausted => Change::to(Status::Failed, Clear),
        Status::InProgress => Change::to(Status::WaitingForResources, Clear),
        Status::Pausing if exhausted => Change::to(Status::Failed, Clear),
        Status::Pausing => Change::to(Status::Waiting, Keep),
        // The user's Cancel is honoured: the operation does not run again.
        Status::Canceling => return Some(Change::to(Status::Canceled, Clear)),
        _ => return None,
    };
    Some(change.retry(RetryCount::Increment))
}

/// P4: a Suspended operation whose `postpone_until` is due becomes Ready.
pub fn postpone_due(cur: Status, postpone_until: Option<i64>, now: i64) -> Option<Change> {
    match (cur, postpone_until) {
        (Status::Waiting, Some(pu)) if pu <= now => Some(Change::to(
            Status::WaitingForResources,
            PostponeUntil::Clear,
        )),
        _ => None,
    }
}
