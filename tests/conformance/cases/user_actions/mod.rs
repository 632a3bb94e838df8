//! Every user action (§3.4, §4) through the real store, on an operation in every
//! (state, status) pair, for an ordinary and a restricted (§9) operation type.
//!
//! Expectations are transcribed from `operation-model.md` §3.4, §4, §9, §10 and §12; none
//! is computed by calling the code under test. For an accepted action the whole stored
//! row is compared with the row the spec's effects give; for a refused one the whole row
//! must equal the row before ("a refused call changes nothing, not even `modified_on`",
//! §6.6), which is why the clock moves between setting up and acting.
//!
//! This file holds the model of §4 (pairs, actions, expectations); the tests are in
//! its submodules. The Busy test (a second SQLite connection holds the write lock) is
//! SQLite-only: `tests/sqlite_busy.rs`.

mod delete;
mod matrix;
mod races;
mod refusals;

use super::store;
use crate::support;
use asyncop::error::Refusal;
use asyncop::transition::{Change, PostponeUntil, RetryCount};
use asyncop::{
    Clock, Error, Filter, LeaseKey, ManualClock, Operation, OperationSpec, Options, PollOptions,
    Queue, Report, State, Status,
};
use std::fmt::Write as _;
use support::{
    Fixture, LEASE_MS, Mismatches, NORMAL_TYPE, RESTRICTED_TYPE, SPEC_RESTRICTED_TYPES, T0,
    Target, options,
};

/// How long the clock moves between setting up and acting.
const STEP: i64 = 1_000;
/// The `pu` of a postponed operation at setup (submit with a future start, P2).
const SETUP_PU: i64 = T0 + 60_000;
/// The `pu` of a Postpone(t) request made while running (U9), at setup.
const SETUP_PENDING_PU: i64 = T0 + 120_000;
/// When actions run.
const NOW: i64 = T0 + STEP;
/// The t of Postpone(t > now).
const LATER: i64 = NOW + 90_000;

const ALL_STATES: [State; 4] = [
    State::Ready,
    State::Suspended,
    State::Locked,
    State::Completed,
];
const ALL_STATUSES: [Status; 8] = [
    Status::WaitingForResources,
    Status::Waiting,
    Status::InProgress,
    Status::Pausing,
    Status::Canceling,
    Status::Succeeded,
    Status::Failed,
    Status::Canceled,
];

/// The (state, status) pairs an operation can be in, each reached by real API calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pair {
    /// 0/0: submit (P1).
    Ready,
    /// 1/10 with pu: submit with a future `postpone_until` (P2).
    Postponed,
    /// 1/10 with pu null: claim, Pause, the host acknowledges (U4, §3.2).
    Paused,
    /// 1/10 with pu = back-off time and `retry_count` 1: claim, Retry (§6.5).
    BackingOff,
    /// 2/20: claim (P3).
    InProgress,
    /// 2/21 with pending pu null: claim, Pause (U4).
    Pausing,
    /// 2/21 with pending pu t: claim, Postpone(t) (U9).
    PausingPostponed,
    /// 2/22: claim, Cancel (U3).
    Canceling,
    /// 3/30: claim, complete.
    Succeeded,
    /// 3/31: claim, fail.
    Failed,
    /// 3/32: Cancel while Ready (U1).
    Canceled,
}

const PAIRS: [Pair; 11] = [
    Pair::Ready,
    Pair::Postponed,
    Pair::Paused,
    Pair::BackingOff,
    Pair::InProgress,
    Pair::Pausing,
    Pair::PausingPostponed,
    Pair::Canceling,
    Pair::Succeeded,
    Pair::Failed,
    Pair::Canceled,
];

impl Pair {
    /// The (state, status) the setup must produce: checked before any action.
    fn codes(self) -> (u8, u8) {
        match self {
            Pair::Ready => (0, 0),
            Pair::Postponed | Pair::Paused | Pair::BackingOff => (1, 10),
            Pair::InProgress => (2, 20),
            Pair::Pausing | Pair::PausingPostponed => (2, 21),
            Pair::Canceling => (2, 22),
            Pair::Succeeded => (3, 30),
            Pair::Failed => (3, 31),
            Pair::Canceled => (3, 32),
        }
    }

    fn is_locked(self) -> bool {
        self.codes().0 == 2
    }
}

/// One user action of §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Cancel,
    Pause,
    Resume,
    /// Postpone(t) with t > now.
    PostponeLater,
    /// Postpone(t) with t = now.
    PostponeNow,
    /// Postpone(t) with t < now.
    PostponePast,
    Delete,
    SetState(State, Option<Status>),
}

fn all_actions() -> Vec<Action> {
    let mut actions = vec![
        Action::Cancel,
        Action::Pause,
        Action::Resume,
        Action::PostponeLater,
        Action::PostponeNow,
        Action::PostponePast,
        Action::Delete,
    ];
    for state in ALL_STATES {
        actions.push(Action::SetState(state, None));
        for status in ALL_STATUSES {
            actions.push(Action::SetState(state, Some(status)));
        }
    }
    actions
}

fn act(q: &Queue, id: i64, action: Action) -> Result<(), Error> {
    match action {
        Action::Cancel => q.cancel(id),
        Action::Pause => q.pause(id),
        Action::Resume => q.resume(id),
        Action::PostponeLater => q.postpone(id, LATER),
        Action::PostponeNow => q.postpone(id, q.now()),
        Action::PostponePast => q.postpone(id, q.now() - 1),
        Action::Delete => q.delete(id),
        Action::SetState(state, status) => q.set_state(id, state, status),
    }
}

/// What §4 says an action does.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    /// Refused with exactly this error; the row is unchanged.
    Refused(Error),
    /// Refused as InvalidArgument whose message contains this text (if any).
    InvalidArgument(Option<String>),
    /// Accepted without a write (U5).
    Unchanged,
    /// Accepted: the row moves to `status` with this effect on `pu`.
    Moved { status: Status, pu: Pu },
    /// Accepted: the row is gone (U10).
    Deleted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pu {
    Clear,
    Set(i64),
}

/// The Refusal the §12 template prints: the current pair and the target state.
fn refusal(cur: Status, target_state: u8) -> Refusal {
    let code = cur as u8;
    Refusal {
        state: code / 10,
        status: code,
        target_state,
    }
}

/// §4 "Cancel" row, §9.
fn expect_cancel(cur: Status, restricted: bool) -> Expect {
    use Status::*;
    if restricted {
        return Expect::Refused(Error::CannotCancel); // 0x80044F00 in every column
    }
    match cur {
        WaitingForResources => Expect::Moved {
            status: Canceled,
            pu: Pu::Clear,
        }, // U1
        Waiting => Expect::Moved {
            status: Canceled,
            pu: Pu::Clear,
        }, // U2
        InProgress | Pausing => Expect::Moved {
            status: Canceling,
            pu: Pu::Clear,
        }, // U3: pending pu cleared
        Canceling | Succeeded | Failed | Canceled => {
            Expect::Refused(Error::InvalidStateChange(refusal(cur, 3))) // 0x80044162
        }
    }
}

/// §4 "Pause" row, §9.
fn expect_pause(cur: Status, restricted: bool) -> Expect {
    use Status::*;
    if restricted {
        return Expect::Refused(Error::CannotPause); // 0x80044F01 in every column
    }
    match cur {
        InProgress => Expect::Moved {
            status: Pausing,
            pu: Pu::Clear,
        }, // U4: pu = null
        Pausing => Expect::Unchanged, // U5
        WaitingForResources | Waiting | Canceling | Succeeded | Failed | Canceled => {
            Expect::Refused(Error::InvalidStateChangeToSuspended(refusal(cur, 1))) // 0x80044167
        }
    }
}

/// §4 "Resume" row; restricted types get 0x80044166 in every column (§4, §9).
fn expect_resume(cur: Status, restricted: bool) -> Expect {
    match cur {
        Status::Waiting if !restricted => Expect::Moved {
            status: Status::WaitingForResources,
            pu: Pu::Clear,
        }, // U6, retry_count kept
        _ => Expect::Refused(Error::InvalidStateChangeToReady(refusal(cur, 0))),
    }
}

/// §4 "Postpone(t)" row with t > now; §9 for restricted types.
fn expect_postpone(cur: Status, restricted: bool, t: i64) -> Expect {
    use Status::*;
    match cur {
        WaitingForResources | Waiting => Expect::Moved {
            status: Waiting,
            pu: Pu::Set(t),
        }, // U7, U8 (for every type)
        InProgress if restricted => Expect::Refused(Error::CannotPause),
        InProgress => Expect::Moved {
            status: Pausing,
            pu: Pu::Set(t),
        }, // U9
        Pausing | Canceling | Succeeded | Failed | Canceled => {
            Expect::Refused(Error::InvalidStateChangeToSuspended(refusal(cur, 1)))
        }
    }
}

/// §4 "Delete" row and §10.
fn expect_delete(cur: Status, allow_delete_any: bool) -> Expect {
    if (cur as u8) / 10 == 3 || allow_delete_any {
        Expect::Deleted
    } else {
        Expect::Refused(Error::CannotDeleteUnlessCompleted) // 0x8004416a
    }
}

/// §4 "Generic set_state(state, status)".
fn expect_set_state(
    cur: Status,
    restricted: bool,
    id: i64,
    state: State,
    status: Option<Status>,
) -> Expect {
    let s = state as u8;
    if let Some(t) = status
        && (t as u8) / 10 != s
    {
        // §12: "{t} is not a valid status code for state code AsyncOperationState.{State}
        // on asyncoperation with Id {id}"
        let name = ["Ready", "Suspended", "Locked", "Completed"][usize::from(s)];
        return Expect::InvalidArgument(Some(format!(
            "{} is not a valid status code for state code AsyncOperationState.{name} \
             on asyncoperation with Id {id}",
            t as u8
        )));
    }
    match (s, status.map(|t| t as u8)) {
        (0, _) => expect_resume(cur, restricted),
        (1, _) => expect_pause(cur, restricted),
        // "only hosts lock operations"; the same answer for restricted types.
        (2, _) => Expect::Refused(Error::InvalidStateChange(refusal(cur, 2))),
        // "users cannot declare an outcome"; the same answer for restricted types.
        (3, Some(30 | 31)) => Expect::Refused(Error::InvalidStateChangeToComplete(refusal(cur, 3))),
        (3, _) => expect_cancel(cur, restricted), // a bare 3 means Canceled
        _ => unreachable!(),
    }
}

fn expect(cur: Status, restricted: bool, id: i64, action: Action) -> Expect {
    match action {
        Action::Cancel => expect_cancel(cur, restricted),
        Action::Pause => expect_pause(cur, restricted),
        Action::Resume => expect_resume(cur, restricted),
        Action::PostponeLater => expect_postpone(cur, restricted, LATER),
        // "Postpone(t) needs t > now, else InvalidArgument" in every state.
        Action::PostponeNow | Action::PostponePast => Expect::InvalidArgument(None),
        Action::Delete => expect_delete(cur, false),
        Action::SetState(state, status) => expect_set_state(cur, restricted, id, state, status),
    }
}

/// The row after an accepted user move, from the effects of §3 and §3.4: state follows
/// the status; `pu` as the move says; entering Completed sets `completed_on`; the move is
/// a change, so `modified_on` = now. User moves never leave Locked, so host, lease,
/// lock token, `retry_count`, error fields and timings stay as they were.
fn moved_row(before: &Operation, status: Status, pu: Pu, now: i64) -> Operation {
    let mut row = before.clone();
    row.status = status;
    row.state = match (status as u8) / 10 {
        0 => State::Ready,
        1 => State::Suspended,
        2 => State::Locked,
        _ => State::Completed,
    };
    match pu {
        Pu::Clear => row.postpone_until = None,
        Pu::Set(t) => row.postpone_until = Some(t),
    }
    if row.state == State::Completed && before.state != State::Completed {
        row.completed_on = Some(now);
    }
    row.modified_on = now;
    row
}
