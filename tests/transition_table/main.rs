//! Exhaustive table test of the pure state machine in `asyncop::transition`.
//!
//! The tables in this file are a transcription of `operation-model.md` (§2, §3.1–§3.5,
//! §4, §6.5, §9, §12), written from the spec and not from the implementation: no
//! expectation is computed by calling the code under test. Each table is laid out like
//! the spec's own table, so that the table in the test *is* the spec. Every test walks
//! the whole cross product (every status × every event), checks that each cell appears
//! exactly once in its table, and reports every disagreeing cell, not just the first.
//!
//! Conventions of `transition` that the spec leaves to the implementation and that are
//! transcribed here as part of the expected output:
//! * `PostponeUntil::Keep` leaves the stored `pu` untouched; it is how a move keeps the
//!   "pending pu" of a Pausing operation (§3). Every move into Ready (0) or Completed (3)
//!   says `Clear` ("Reaching Ready clears `pu`", §3; Completed rows carry no `pu`).
//! * `RetryCount` says what a move does to `retry_count`: `Keep` unless the spec's
//!   table names "`retry_count` + 1" (`Increment`) or "`retry_count` := 0" (`Reset`).

#[path = "../support/mod.rs"]
mod support;

use std::fmt::Debug;
use support::Mismatches;

use asyncop::error::{Error, Refusal, TYPE_NOT_RECOGNIZED_HRESULT};
use asyncop::transition::{
    self as tr, Change, Outcome, OutcomeContext, PostponeUntil, RetryCount, RetryPlan,
    SetStateRequest, State, Status, Step,
};

use PostponeUntil::{Clear, Set};
use RetryCount::{Increment, Reset};
use Status::{
    Canceled, Canceling, Failed, InProgress, Pausing, Succeeded, Waiting, WaitingForResources,
};

/// `pu` left as stored: the pending pu under Pausing (§3), or nothing to say (claim).
const PU_KEEP: PostponeUntil = PostponeUntil::Keep;
/// `retry_count` untouched.
const RC_KEEP: RetryCount = RetryCount::Keep;

/// The handle's clock in every cell.
const NOW: i64 = 1_700_000_000_000;
/// The t of Postpone(t); t > now.
const T: i64 = NOW + 90_000;
/// A recurring operation's next occurrence (§8).
const NEXT: i64 = NOW + 86_400_000;
/// The back-off time of a Retry with budget left (§6.5).
const BACKOFF: i64 = NOW + 5_000;

// ---------------------------------------------------------------------------
// §2: states and statuses
// ---------------------------------------------------------------------------

/// §2, one row per status: (status, state code, status code, state, status name).
const STATUSES: [(Status, u8, u8, State, &str); 8] = [
    (
        WaitingForResources,
        0,
        0,
        State::Ready,
        "WaitingForResources",
    ),
    (Waiting, 1, 10, State::Suspended, "Waiting"),
    (InProgress, 2, 20, State::Locked, "InProgress"),
    (Pausing, 2, 21, State::Locked, "Pausing"),
    (Canceling, 2, 22, State::Locked, "Canceling"),
    (Succeeded, 3, 30, State::Completed, "Succeeded"),
    (Failed, 3, 31, State::Completed, "Failed"),
    (Canceled, 3, 32, State::Completed, "Canceled"),
];

/// §2, one row per state: (state, code, name as in `AsyncOperationState.{State}`, default status).
const STATES: [(State, u8, &str, Status); 4] = [
    (State::Ready, 0, "Ready", WaitingForResources),
    (State::Suspended, 1, "Suspended", Waiting),
    (State::Locked, 2, "Locked", InProgress),
    (State::Completed, 3, "Completed", Succeeded),
];

/// §3.2: plug-in OperationStatus values.
const OUTCOMES: [(Outcome, u8, &str); 5] = [
    (Outcome::Failed, 0, "Failed"),
    (Outcome::Canceled, 1, "Canceled"),
    (Outcome::Retry, 2, "Retry"),
    (Outcome::Suspended, 3, "Suspended"),
    (Outcome::Succeeded, 4, "Succeeded"),
];

fn codes(st: Status) -> (u8, u8) {
    let row = STATUSES
        .iter()
        .find(|r| r.0 == st)
        .expect("status in §2 table");
    (row.1, row.2)
}

/// "2/21 Pausing".
fn label(st: Status) -> String {
    let row = STATUSES
        .iter()
        .find(|r| r.0 == st)
        .expect("status in §2 table");
    format!("{}/{} {}", row.1, row.2, row.4)
}

fn all_statuses() -> impl Iterator<Item = Status> {
    STATUSES.iter().map(|r| r.0)
}

fn same<T: PartialEq + Debug>(what: &str, actual: &T, expected: &T) -> Option<String> {
    (actual != expected).then(|| format!("{what}: got {actual:?}, spec says {expected:?}"))
}

mod codes;
mod errors;
mod host;
mod set_state;
mod user;

// The tables of one section use the constants of another (the HRESULTs of §12,
// the moves of §3): each module sees them all.
#[allow(unused_imports)]
use {errors::*, host::*, user::*};
