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

#[test]
fn statuses_and_states_follow_section_2() {
    let mut c = Mismatches::new("§2 statuses and states");

    c.cell(
        "Status::ALL".into(),
        same(
            "Status::ALL",
            &Status::ALL.to_vec(),
            &all_statuses().collect::<Vec<_>>(),
        )
        .into_iter()
        .collect(),
    );
    c.cell(
        "State::ALL".into(),
        same(
            "State::ALL",
            &State::ALL.to_vec(),
            &STATES.iter().map(|r| r.0).collect::<Vec<_>>(),
        )
        .into_iter()
        .collect(),
    );

    for &(st, state_code, status_code, state, name) in &STATUSES {
        let mut p = Vec::new();
        p.extend(same("code()", &st.code(), &status_code));
        p.extend(same("state()", &st.state(), &state));
        p.extend(same("state().code()", &st.state().code(), &state_code));
        // "state = status / 10 (integer division)"
        p.extend(same("status / 10", &(status_code / 10), &state_code));
        p.extend(same("name()", &st.name(), &name));
        c.cell(format!("status {}", label(st)), p);
    }

    for &(state, code, name, default) in &STATES {
        let mut p = Vec::new();
        p.extend(same("code()", &state.code(), &code));
        p.extend(same("name()", &state.name(), &name));
        p.extend(same("default_status()", &state.default_status(), &default));
        // The default belongs to the state.
        p.extend(same(
            "default_status().state()",
            &state.default_status().state(),
            &state,
        ));
        c.cell(format!("state {code} {name}"), p);
    }

    for &(o, code, _) in &OUTCOMES {
        c.cell(
            format!("outcome {o:?}"),
            same("code()", &o.code(), &code).into_iter().collect(),
        );
    }
    c.cell(
        "Outcome::ALL".into(),
        same(
            "Outcome::ALL",
            &Outcome::ALL.to_vec(),
            &OUTCOMES.iter().map(|r| r.0).collect::<Vec<_>>(),
        )
        .into_iter()
        .collect(),
    );
    c.finish();
}

/// Codes probed by the `TryFrom` tests: a range around the valid ones plus values that
/// would alias a valid code if truncated to a byte.
fn probe_codes() -> Vec<i64> {
    let mut v: Vec<i64> = (-5..=40).collect();
    v.extend([
        256,
        266,
        288,
        -256,
        1 << 32,
        i64::from(i32::MAX),
        i64::MAX,
        i64::MIN,
    ]);
    v
}

fn check_try_from<T: PartialEq + Debug + Copy>(
    c: &mut Mismatches,
    kind: &str,
    valid: &[(T, i64)],
    parse: fn(i64) -> Result<T, Error>,
) {
    for code in probe_codes() {
        let expected = valid.iter().find(|(_, k)| *k == code).map(|(v, _)| *v);
        let actual = parse(code);
        let problems = match (expected, &actual) {
            (Some(e), Ok(a)) => same("value", a, &e).into_iter().collect(),
            (None, Err(Error::InvalidArgument(_))) => vec![],
            (Some(e), _) => vec![format!("got {actual:?}, spec says Ok({e:?})")],
            (None, _) => vec![format!("got {actual:?}, spec says InvalidArgument")],
        };
        c.cell(format!("{kind}::try_from({code})"), problems);
    }
}

#[test]
fn codes_outside_the_model_are_invalid_arguments() {
    let mut c = Mismatches::new("TryFrom codes");
    let states: Vec<(State, i64)> = STATES.iter().map(|r| (r.0, i64::from(r.1))).collect();
    let statuses: Vec<(Status, i64)> = STATUSES.iter().map(|r| (r.0, i64::from(r.2))).collect();
    let outcomes: Vec<(Outcome, i64)> = OUTCOMES.iter().map(|r| (r.0, i64::from(r.1))).collect();
    check_try_from(&mut c, "State", &states, State::try_from);
    check_try_from(&mut c, "Status", &statuses, Status::try_from);
    check_try_from(&mut c, "Outcome", &outcomes, Outcome::try_from);
    c.finish();
}

// ---------------------------------------------------------------------------
// §12: errors
// ---------------------------------------------------------------------------

const E162: u32 = 0x8004_4162;
const E163: u32 = 0x8004_4163;
const E165: u32 = 0x8004_4165;
const E166: u32 = 0x8004_4166;
const E167: u32 = 0x8004_4167;
const E168: u32 = 0x8004_4168;
const E169: u32 = 0x8004_4169;
const E16A: u32 = 0x8004_416a;
const F00: u32 = 0x8004_4F00;
const F01: u32 = 0x8004_4F01;

/// The observed template of the four invalid-state errors (§12).
fn template(r: Refusal) -> String {
    format!(
        "The state transition requested is not valid for the current state. \
         Current state: {}, current status: {}, target state: {}",
        r.state, r.status, r.target_state
    )
}

/// §12: the error whose HRESULT the §4 matrix names, for a refusal of `r`.
fn error_for(hresult: u32, r: Refusal) -> Error {
    match hresult {
        E162 => Error::InvalidStateChange(r),
        E165 => Error::InvalidStateChangeToComplete(r),
        E166 => Error::InvalidStateChangeToReady(r),
        E167 => Error::InvalidStateChangeToSuspended(r),
        E16A => Error::CannotDeleteUnlessCompleted,
        F00 => Error::CannotCancel,
        F01 => Error::CannotPause,
        other => panic!("no §4 refusal has HRESULT {other:#x}"),
    }
}

fn uses_template(hresult: u32) -> bool {
    matches!(hresult, E162 | E165 | E166 | E167)
}

#[test]
fn error_table_of_section_12() {
    let mut c = Mismatches::new("§12 errors");
    let r = Refusal {
        state: 3,
        status: 30,
        target_state: 3,
    };
    let example = "The state transition requested is not valid for the current state. \
                   Current state: 3, current status: 30, target state: 3";
    // (error, Dynamics name, HRESULT, message; None = not fixed by §12). LeaseLost (no
    // HRESULT either) is left out: its fields belong to the lease module, not to this table.
    let table: Vec<(Error, &str, Option<u32>, Option<&str>)> = vec![
        (
            Error::InvalidStateChange(r),
            "AsyncOperationInvalidStateChange",
            Some(E162),
            Some(example),
        ),
        (
            Error::InvalidStateChangeUnexpected,
            "AsyncOperationInvalidStateChangeUnexpected",
            Some(E163),
            Some(
                "The target state could not be set because the state was changed by another process.",
            ),
        ),
        (
            Error::InvalidStateChangeToComplete(r),
            "AsyncOperationInvalidStateChangeToComplete",
            Some(E165),
            Some(example),
        ),
        (
            Error::InvalidStateChangeToReady(r),
            "AsyncOperationInvalidStateChangeToReady",
            Some(E166),
            Some(example),
        ),
        (
            Error::InvalidStateChangeToSuspended(r),
            "AsyncOperationInvalidStateChangeToSuspended",
            Some(E167),
            Some(example),
        ),
        (
            Error::CannotDeleteUnlessCompleted,
            "AsyncOperationCannotDeleteUnlessCompleted",
            Some(E16A),
            Some("Cannot delete async operation unless it is in Completed state."),
        ),
        (
            Error::CannotCancel,
            "AsyncOperationCannotCancel",
            Some(F00),
            Some("This system job cannot be canceled."),
        ),
        (
            Error::CannotPause,
            "AsyncOperationCannotPause",
            Some(F01),
            Some("This system job cannot be paused."),
        ),
        (
            Error::CannotUpdateNonrecurring,
            "AsyncOperationCannotUpdateNonrecurring",
            Some(E168),
            Some("Cannot update recurrence pattern for a job that is not recurring."),
        ),
        (
            Error::CannotUpdateRecurring,
            "AsyncOperationCannotUpdateRecurring",
            Some(E169),
            Some("Cannot update recurrence pattern for a job type that is not supported."),
        ),
        (Error::NotFound { id: 7 }, "NotFound", None, None),
        (
            Error::InvalidArgument("x".into()),
            "InvalidArgument",
            None,
            None,
        ),
        (Error::Busy, "Busy", None, None),
        (Error::Corrupt("x".into()), "Corrupt", None, None),
        (Error::Closed, "Closed", None, None),
        (Error::Internal("x".into()), "Internal", None, None),
    ];
    for (e, name, hresult, message) in table {
        let mut p = Vec::new();
        p.extend(same("name()", &e.name(), &name));
        // HRESULTs are exposed as signed 32-bit values (§5: 0x80044303 -> -2147204349).
        p.extend(same("hresult()", &e.hresult(), &hresult.map(|h| h as i32)));
        if let Some(h) = hresult {
            p.extend(same("hresult() < 0", &((h as i32) < 0), &true));
        }
        if let Some(m) = message {
            p.extend(same("Display", &e.to_string().as_str(), &m));
        }
        c.cell(format!("§12 {name}"), p);
    }
    c.cell(
        "TYPE_NOT_RECOGNIZED_HRESULT".into(),
        same("value", &TYPE_NOT_RECOGNIZED_HRESULT, &-2_147_204_349)
            .into_iter()
            .collect(),
    );
    c.finish();
}

// ---------------------------------------------------------------------------
// §3.4 and §4: user actions
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Cancel,
    Pause,
    Resume,
    /// Postpone(t) with t > now.
    Postpone,
    /// Postpone(t) with t = now: InvalidArgument (§4).
    PostponeAtNow,
    /// Postpone(t) with t < now: InvalidArgument (§4).
    PostponeBeforeNow,
    /// Delete with `allow_delete_any` off (the default, §10).
    Delete,
    /// Delete with `allow_delete_any` on.
    DeleteAny,
    /// Generic `set_state` (§4), by the request it parses to.
    SetState(SetStateRequest),
}

const ALL_ACTIONS: [Action; 13] = [
    Action::Cancel,
    Action::Pause,
    Action::Resume,
    Action::Postpone,
    Action::PostponeAtNow,
    Action::PostponeBeforeNow,
    Action::Delete,
    Action::DeleteAny,
    Action::SetState(SetStateRequest::Resume),
    Action::SetState(SetStateRequest::Pause),
    Action::SetState(SetStateRequest::Cancel),
    Action::SetState(SetStateRequest::DeclareOutcome),
    Action::SetState(SetStateRequest::Lock),
];

/// "target 0 for Resume, 1 for Pause or Postpone, 2 for `set_state(2)`, 3 for Cancel" (§12);
/// `set_state(3, 30/31)` asks for state 3. Delete refusals carry no target.
fn target_state(a: Action) -> Option<u8> {
    use SetStateRequest as R;
    match a {
        Action::Resume | Action::SetState(R::Resume) => Some(0),
        Action::Pause
        | Action::Postpone
        | Action::PostponeAtNow
        | Action::PostponeBeforeNow
        | Action::SetState(R::Pause) => Some(1),
        Action::SetState(R::Lock) => Some(2),
        Action::Cancel | Action::SetState(R::Cancel | R::DeclareOutcome) => Some(3),
        Action::Delete | Action::DeleteAny => None,
    }
}

/// One cell of the §4 matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum U {
    /// `Step::Move` to this status with these effects.
    To(Status, PostponeUntil, RetryCount),
    /// `Step::Unchanged`: valid, no write (U5).
    NoOp,
    /// `Step::Delete` (U10).
    Del,
    /// Refused with this HRESULT (§12).
    Err(u32),
    /// Refused with InvalidArgument.
    Arg,
}

// §3.4, with the effects on `pu` and `retry_count`.
/// U1: 0/0 → 3/32.
const U1: U = U::To(Canceled, Clear, RC_KEEP);
/// U2: 1/10 → 3/32, `pu` cleared.
const U2: U = U::To(Canceled, Clear, RC_KEEP);
/// U3: 2/20, 2/21 → 2/22, pending `pu` cleared.
const U3: U = U::To(Canceling, Clear, RC_KEEP);
/// U4: 2/20 → 2/21 (pu = null).
const U4: U = U::To(Pausing, Clear, RC_KEEP);
/// U5: 2/21 unchanged, no write.
const U5: U = U::NoOp;
/// U6: 1/10 → 0/0, `pu` cleared, `retry_count` kept.
const U6: U = U::To(WaitingForResources, Clear, RC_KEEP);
/// U7: 0/0 → 1/10 (pu = t).
const U7: U = U::To(Waiting, Set(T), RC_KEEP);
/// U8: 1/10 → 1/10 (pu = t).
const U8: U = U::To(Waiting, Set(T), RC_KEEP);
/// U9: 2/20 → 2/21 (pu = t).
const U9: U = U::To(Pausing, Set(T), RC_KEEP);
/// U10: row deleted.
const U10: U = U::Del;

const X162: U = U::Err(E162);
const X165: U = U::Err(E165);
const X166: U = U::Err(E166);
const X167: U = U::Err(E167);
const X16A: U = U::Err(E16A);
const XF00: U = U::Err(F00);
const XF01: U = U::Err(F01);
const ARG: U = U::Arg;

/// The columns of §4; the last one, 3/x, stands for 3/30, 3/31 and 3/32.
const COLUMNS: [&[Status]; 6] = [
    &[WaitingForResources],
    &[Waiting],
    &[InProgress],
    &[Pausing],
    &[Canceling],
    &[Succeeded, Failed, Canceled],
];

const DECLARE: Action = Action::SetState(SetStateRequest::DeclareOutcome);
const LOCK: Action = Action::SetState(SetStateRequest::Lock);

/// §4 "User actions: validity matrix", plus its bullets and the restricted rows (§9).
#[rustfmt::skip]
const USER_MATRIX: &[(Action, bool, [U; 6])] = &[
    // Action                    restricted  0/0    1/10   2/20   2/21   2/22   3/x
    (Action::Cancel,             false,     [U1,    U2,    U3,    U3,    X162,  X162]),
    (Action::Pause,              false,     [X167,  X167,  U4,    U5,    X167,  X167]),
    (Action::Resume,             false,     [X166,  U6,    X166,  X166,  X166,  X166]),
    (Action::Postpone,           false,     [U7,    U8,    U9,    X167,  X167,  X167]),
    (Action::Delete,             false,     [X16A,  X16A,  X16A,  X16A,  X16A,  U10]),
    // "Restricted types (§9): Cancel → 0x80044F00 and Pause → 0x80044F01 in every column;
    // Resume → 0x80044166; Postpone(t) on 2/20 → 0x80044F01 [...]. Postpone on 0/0 or 1/10
    // and Delete behave as for any type." §9: "in 2/21 or 2/22 Postpone gets 0x80044167".
    (Action::Cancel,             true,      [XF00,  XF00,  XF00,  XF00,  XF00,  XF00]),
    (Action::Pause,              true,      [XF01,  XF01,  XF01,  XF01,  XF01,  XF01]),
    (Action::Resume,             true,      [X166,  X166,  X166,  X166,  X166,  X166]),
    (Action::Postpone,           true,      [U7,    U8,    XF01,  X167,  X167,  X167]),
    (Action::Delete,             true,      [X16A,  X16A,  X16A,  X16A,  X16A,  U10]),
    // "Postpone(t) needs t > now, else InvalidArgument" (arguments precede every check).
    (Action::PostponeAtNow,      false,     [ARG,   ARG,   ARG,   ARG,   ARG,   ARG]),
    (Action::PostponeAtNow,      true,      [ARG,   ARG,   ARG,   ARG,   ARG,   ARG]),
    (Action::PostponeBeforeNow,  false,     [ARG,   ARG,   ARG,   ARG,   ARG,   ARG]),
    (Action::PostponeBeforeNow,  true,      [ARG,   ARG,   ARG,   ARG,   ARG,   ARG]),
    // "With `allow_delete_any` (§10), Delete succeeds in every column."
    (Action::DeleteAny,          false,     [U10,   U10,   U10,   U10,   U10,   U10]),
    (Action::DeleteAny,          true,      [U10,   U10,   U10,   U10,   U10,   U10]),
    // set_state: "(3, 30), (3, 31): refused, 0x80044165"; "(2) or (2, 20/21/22): refused,
    // 0x80044162"; "Restricted types (§9) get the same answers from this table for (2, …)
    // and (3, 30/31)."
    (DECLARE,                    false,     [X165,  X165,  X165,  X165,  X165,  X165]),
    (DECLARE,                    true,      [X165,  X165,  X165,  X165,  X165,  X165]),
    (LOCK,                       false,     [X162,  X162,  X162,  X162,  X162,  X162]),
    (LOCK,                       true,      [X162,  X162,  X162,  X162,  X162,  X162]),
];

/// §4 generic `set_state`: "(0) or (0, 0): Resume", "(1) or (1, 10): Pause",
/// "(3) or (3, 32): Cancel": each request answers as the action it means.
const SET_STATE_MEANS: [(SetStateRequest, Action); 3] = [
    (SetStateRequest::Resume, Action::Resume),
    (SetStateRequest::Pause, Action::Pause),
    (SetStateRequest::Cancel, Action::Cancel),
];

/// Every (status, action, restricted, expected) cell of the user matrix.
fn user_cells() -> Vec<(Status, Action, bool, U)> {
    let mut cells = Vec::new();
    let mut push_row = |action: Action, restricted: bool, row: &[U; 6]| {
        for (col, statuses) in COLUMNS.iter().enumerate() {
            for &st in *statuses {
                cells.push((st, action, restricted, row[col]));
            }
        }
    };
    for (action, restricted, row) in USER_MATRIX {
        push_row(*action, *restricted, row);
    }
    for (request, meaning) in SET_STATE_MEANS {
        for (action, restricted, row) in USER_MATRIX {
            if *action == meaning {
                push_row(Action::SetState(request), *restricted, row);
            }
        }
    }
    cells
}

fn run_user(action: Action, cur: Status, restricted: bool) -> Result<Step, Error> {
    match action {
        Action::Cancel => tr::cancel(cur, restricted),
        Action::Pause => tr::pause(cur, restricted),
        Action::Resume => tr::resume(cur, restricted),
        Action::Postpone => tr::postpone(cur, restricted, T, NOW),
        Action::PostponeAtNow => tr::postpone(cur, restricted, NOW, NOW),
        Action::PostponeBeforeNow => tr::postpone(cur, restricted, NOW - 1, NOW),
        // Delete takes no `restricted`: it "behave[s] as for any type" (§4, §9).
        Action::Delete => tr::delete(cur, false),
        Action::DeleteAny => tr::delete(cur, true),
        Action::SetState(request) => tr::set_state(cur, restricted, request),
    }
}

fn check_user_cell(cur: Status, action: Action, restricted: bool, expected: U) -> Vec<String> {
    let actual = run_user(action, cur, restricted);
    let mut p = Vec::new();
    match expected {
        U::To(status, postpone_until, retry_count) => {
            let e = Ok(Step::Move(Change {
                status,
                postpone_until,
                retry_count,
            }));
            p.extend(same("result", &actual, &e));
        }
        U::NoOp => p.extend(same("result", &actual, &Ok(Step::Unchanged))),
        U::Del => p.extend(same("result", &actual, &Ok(Step::Delete))),
        U::Arg => {
            if !matches!(actual, Err(Error::InvalidArgument(_))) {
                p.push(format!(
                    "result: got {actual:?}, spec says Err(InvalidArgument(_))"
                ));
            }
        }
        U::Err(h) => {
            let (state, status) = codes(cur);
            let refusal = Refusal {
                state,
                status,
                target_state: target_state(action).unwrap_or(0),
            };
            let e = error_for(h, refusal);
            p.extend(same("result", &actual, &Err(e.clone())));
            if let Err(a) = &actual {
                p.extend(same("hresult()", &a.hresult(), &Some(h as i32)));
                if uses_template(h) {
                    p.extend(same("Display", &a.to_string(), &template(refusal)));
                }
            }
        }
    }
    p
}

#[test]
fn user_action_matrix_of_section_4() {
    let cells = user_cells();

    // The table is complete: every status × action × restricted appears exactly once.
    let mut missing = Vec::new();
    for st in all_statuses() {
        for action in ALL_ACTIONS {
            for restricted in [false, true] {
                let n = cells
                    .iter()
                    .filter(|(s, a, r, _)| *s == st && *a == action && *r == restricted)
                    .count();
                if n != 1 {
                    missing.push(format!(
                        "{action:?} on {} restricted={restricted}: {n} rows",
                        label(st)
                    ));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the §4 table is not complete:\n{}",
        missing.join("\n")
    );
    assert_eq!(cells.len(), 8 * ALL_ACTIONS.len() * 2);

    let mut c = Mismatches::new("§4 user actions");
    for (st, action, restricted, expected) in cells {
        c.cell(
            format!("{action:?} on {} (restricted={restricted})", label(st)),
            check_user_cell(st, action, restricted, expected),
        );
    }
    c.finish();
}

// ---------------------------------------------------------------------------
// §4: parsing a generic set_state(state, status)
// ---------------------------------------------------------------------------

/// §4 "Generic `set_state(state, status)`": every request that names a valid pair.
#[rustfmt::skip]
const SET_STATE_REQUESTS: &[(i64, Option<i64>, SetStateRequest)] = &[
    (0, None,     SetStateRequest::Resume),         // (0)
    (0, Some(0),  SetStateRequest::Resume),         // (0, 0)
    (1, None,     SetStateRequest::Pause),          // (1)
    (1, Some(10), SetStateRequest::Pause),          // (1, 10)
    (3, None,     SetStateRequest::Cancel),         // (3): "A bare state 3 means Canceled"
    (3, Some(32), SetStateRequest::Cancel),         // (3, 32)
    (3, Some(30), SetStateRequest::DeclareOutcome), // (3, 30)
    (3, Some(31), SetStateRequest::DeclareOutcome), // (3, 31)
    (2, None,     SetStateRequest::Lock),           // (2)
    (2, Some(20), SetStateRequest::Lock),           // (2, 20)
    (2, Some(21), SetStateRequest::Lock),           // (2, 21)
    (2, Some(22), SetStateRequest::Lock),           // (2, 22)
];

#[derive(Debug)]
enum Parse {
    Request(SetStateRequest),
    /// Unknown code: InvalidArgument.
    Unknown,
    /// Mismatched pair: InvalidArgument with the documented wording (§12).
    Mismatch {
        status: i64,
        state_name: &'static str,
    },
}

/// The expected answer for `(state, status)`, by the rules of §2 and §4.
fn expected_parse(state: i64, status: Option<i64>) -> Parse {
    let Some(&(_, _, state_name, _)) = STATES.iter().find(|r| i64::from(r.1) == state) else {
        return Parse::Unknown;
    };
    if let Some(t) = status {
        let Some(row) = STATUSES.iter().find(|r| i64::from(r.2) == t) else {
            return Parse::Unknown;
        };
        // "state = status / 10 [...] A pair that breaks this mapping is invalid."
        if i64::from(row.1) != state {
            return Parse::Mismatch {
                status: t,
                state_name,
            };
        }
    }
    let hits: Vec<_> = SET_STATE_REQUESTS
        .iter()
        .filter(|r| r.0 == state && r.1 == status)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "§4 table must name ({state}, {status:?}) exactly once"
    );
    Parse::Request(hits[0].2)
}

#[test]
fn set_state_parsing_of_section_4() {
    let status_options: Vec<Option<i64>> = std::iter::once(None)
        .chain(STATUSES.iter().map(|r| Some(i64::from(r.2))))
        .chain([Some(11), Some(99), Some(-1)])
        .collect();

    // Every row of the table is itself a valid pair (no typo in the transcription).
    for &(state, status, _) in SET_STATE_REQUESTS {
        assert!(
            matches!(expected_parse(state, status), Parse::Request(_)),
            "({state}, {status:?}) is in the §4 table but is not a valid pair"
        );
    }

    let mut c = Mismatches::new("§4 set_state parsing");
    for id in [1_i64, 42] {
        for state in -1..=4 {
            for &status in &status_options {
                let actual = tr::parse_set_state(id, state, status);
                let p = match expected_parse(state, status) {
                    Parse::Request(r) => same("request", &actual, &Ok(r)).into_iter().collect(),
                    Parse::Unknown => match &actual {
                        Err(Error::InvalidArgument(_)) => vec![],
                        _ => vec![format!("got {actual:?}, spec says InvalidArgument")],
                    },
                    Parse::Mismatch {
                        status: t,
                        state_name,
                    } => {
                        let wording = format!(
                            "{t} is not a valid status code for state code \
                             AsyncOperationState.{state_name} on asyncoperation with Id {id}"
                        );
                        match &actual {
                            Err(Error::InvalidArgument(m)) if m.contains(&wording) => vec![],
                            _ => vec![format!(
                                "got {actual:?}, spec says InvalidArgument containing {wording:?}"
                            )],
                        }
                    }
                };
                c.cell(format!("parse_set_state(id {id}, {state}, {status:?})"), p);
            }
        }
    }
    c.finish();
}

// ---------------------------------------------------------------------------
// §3.1–§3.3: host and platform events
// ---------------------------------------------------------------------------

const fn mv(
    status: Status,
    postpone_until: PostponeUntil,
    retry_count: RetryCount,
) -> Option<Change> {
    Some(Change {
        status,
        postpone_until,
        retry_count,
    })
}

/// The Locked columns of §3.2 and §3.3.
const LOCKED: [Status; 3] = [InProgress, Pausing, Canceling];

fn locked_column(st: Status) -> Option<usize> {
    LOCKED.iter().position(|&s| s == st)
}

/// Which reports a §3.2 row covers.
#[derive(Debug, Clone, Copy)]
enum When {
    Any,
    OneShot,
    Recurring,
    BudgetLeft,
    BudgetExhausted,
}

/// The facts that decide a report: recurring or not, retry budget left or not.
const CONTEXTS: [(&str, OutcomeContext); 4] = [
    (
        "one-shot, budget left",
        OutcomeContext {
            next_occurrence: None,
            retry: RetryPlan {
                exhausted: false,
                at: BACKOFF,
            },
        },
    ),
    (
        "one-shot, budget exhausted",
        OutcomeContext {
            next_occurrence: None,
            retry: RetryPlan {
                exhausted: true,
                at: BACKOFF,
            },
        },
    ),
    (
        "recurring, budget left",
        OutcomeContext {
            next_occurrence: Some(NEXT),
            retry: RetryPlan {
                exhausted: false,
                at: BACKOFF,
            },
        },
    ),
    (
        "recurring, budget exhausted",
        OutcomeContext {
            next_occurrence: Some(NEXT),
            retry: RetryPlan {
                exhausted: true,
                at: BACKOFF,
            },
        },
    ),
];

fn applies(when: When, ctx: &OutcomeContext) -> bool {
    match when {
        When::Any => true,
        When::OneShot => ctx.next_occurrence.is_none(),
        When::Recurring => ctx.next_occurrence.is_some(),
        When::BudgetLeft => !ctx.retry.exhausted,
        When::BudgetExhausted => ctx.retry.exhausted,
    }
}

/// §3.2 "Host outcomes", row by row. "pending pu" is `PU_KEEP`.
#[rustfmt::skip]
const HOST_OUTCOMES: &[(Outcome, When, [Option<Change>; 3])] = &[
    // Outcome            reports covered        From 2/20                            From 2/21 (Pausing)                 From 2/22 (Canceling)
    // "Succeeded, one-shot | 3/30 | 3/30 | 3/30 (our choice)"
    (Outcome::Succeeded, When::OneShot,         [mv(Succeeded, Clear, RC_KEEP),       mv(Succeeded, Clear, RC_KEEP),      mv(Succeeded, Clear, RC_KEEP)]),
    // "Succeeded, recurring | 1/10 (pu = next occurrence, §8); retry_count := 0 |
    //  1/10 (pending pu); retry_count := 0 | 3/32"
    (Outcome::Succeeded, When::Recurring,       [mv(Waiting, Set(NEXT), Reset),       mv(Waiting, PU_KEEP, Reset),        mv(Canceled, Clear, RC_KEEP)]),
    // "Failed | 3/31 | 3/31 | 3/31"
    (Outcome::Failed,    When::Any,             [mv(Failed, Clear, RC_KEEP),          mv(Failed, Clear, RC_KEEP),         mv(Failed, Clear, RC_KEEP)]),
    // "Retry, budget left (§6.5) | 1/10 (pu = back-off time); retry_count + 1 |
    //  1/10 (pending pu); retry_count + 1 | 3/32"
    (Outcome::Retry,     When::BudgetLeft,      [mv(Waiting, Set(BACKOFF), Increment), mv(Waiting, PU_KEEP, Increment),   mv(Canceled, Clear, RC_KEEP)]),
    // "Retry, budget exhausted | 3/31; retry_count + 1 | 3/31; retry_count + 1 | 3/32"
    // The 2/22 cells of both Retry rows say "3/32" with no "retry_count + 1" (nor does the
    // 2/22 row of §3.3), unlike the 2/20 and 2/21 cells beside them: transcribed as RC_KEEP.
    (Outcome::Retry,     When::BudgetExhausted, [mv(Failed, Clear, Increment),        mv(Failed, Clear, Increment),       mv(Canceled, Clear, RC_KEEP)]),
    // "Suspended (suspend-class failure) | 1/10 (pu = null) | 1/10 (pending pu) | 3/32";
    // §6.5: "Suspended outcomes [...] neither consume nor refill the budget."
    (Outcome::Suspended, When::Any,             [mv(Waiting, Clear, RC_KEEP),         mv(Waiting, PU_KEEP, RC_KEEP),      mv(Canceled, Clear, RC_KEEP)]),
    // "Canceled | 3/32 | 3/32 | 3/32"
    (Outcome::Canceled,  When::Any,             [mv(Canceled, Clear, RC_KEEP),        mv(Canceled, Clear, RC_KEEP),       mv(Canceled, Clear, RC_KEEP)]),
];

/// The §3.2 expectation for one report; non-Locked statuses have no host transition
/// (§3.5, §6.3), which `transition` expresses as `None`.
fn expected_report(cur: Status, outcome: Outcome, ctx: &OutcomeContext) -> Option<Change> {
    let rows: Vec<_> = HOST_OUTCOMES
        .iter()
        .filter(|(o, w, _)| *o == outcome && applies(*w, ctx))
        .collect();
    assert_eq!(
        rows.len(),
        1,
        "§3.2 must have exactly one row for {outcome:?} in {ctx:?}"
    );
    locked_column(cur).and_then(|col| rows[0].2[col])
}

#[test]
fn host_outcomes_of_section_3_2() {
    let mut c = Mismatches::new("§3.2 report");
    for cur in all_statuses() {
        for &(outcome, _, name) in &OUTCOMES {
            for (ctx_name, ctx) in &CONTEXTS {
                let expected = expected_report(cur, outcome, ctx);
                let actual = tr::report(cur, outcome, *ctx);
                c.cell(
                    format!("report({}, {name}, {ctx_name})", label(cur)),
                    same("result", &actual, &expected).into_iter().collect(),
                );
            }
        }
    }
    c.finish();
}

type Wrapper = fn(Status, OutcomeContext) -> Option<Change>;

/// The named wrappers and the §3.2 outcome each one reports ("On 21 Pausing the host
/// [...] reports Suspended"; "On 22 Canceling the host [...] reports Canceled").
const WRAPPERS: [(&str, Wrapper, Outcome); 5] = [
    ("complete", tr::complete, Outcome::Succeeded),
    ("fail_retryable", tr::fail_retryable, Outcome::Retry),
    ("suspend", tr::suspend, Outcome::Suspended),
    (
        "acknowledge_pause",
        tr::acknowledge_pause,
        Outcome::Suspended,
    ),
    (
        "acknowledge_cancel",
        tr::acknowledge_cancel,
        Outcome::Canceled,
    ),
];

#[test]
fn named_host_outcomes_follow_section_3_2() {
    let mut c = Mismatches::new("§3.2 named outcomes");
    for (name, f, outcome) in WRAPPERS {
        for cur in all_statuses() {
            for (ctx_name, ctx) in &CONTEXTS {
                let expected = expected_report(cur, outcome, ctx);
                c.cell(
                    format!("{name}({}, {ctx_name})", label(cur)),
                    same("result", &f(cur, *ctx), &expected)
                        .into_iter()
                        .collect(),
                );
            }
        }
    }
    c.finish();
}

/// §3.3 "Lease expiry": (budget exhausted after counting this expiry, [2/20, 2/21, 2/22]).
#[rustfmt::skip]
const LEASE_EXPIRY: [(bool, [Option<Change>; 3]); 2] = [
    // exhausted  2/20: "+1 [...] Otherwise 0/0"             2/21: "+1 [...] Otherwise 1/10 (pending pu)"  2/22: "3/32"
    (false,      [mv(WaitingForResources, Clear, Increment), mv(Waiting, PU_KEEP, Increment),            mv(Canceled, Clear, RC_KEEP)]),
    // exhausted  2/20: "+1. If ≥ max_attempts: 3/31"         2/21: "+1. If ≥ max_attempts: 3/31"           2/22: "3/32"
    (true,       [mv(Failed, Clear, Increment),              mv(Failed, Clear, Increment),               mv(Canceled, Clear, RC_KEEP)]),
];

#[test]
fn lease_expiry_of_section_3_3() {
    let mut c = Mismatches::new("§3.3 lease expiry");
    for cur in all_statuses() {
        for exhausted in [false, true] {
            let rows: Vec<_> = LEASE_EXPIRY.iter().filter(|r| r.0 == exhausted).collect();
            assert_eq!(rows.len(), 1, "§3.3 table: one row per budget state");
            let expected = locked_column(cur).and_then(|col| rows[0].1[col]);
            c.cell(
                format!("lease_expired({}, exhausted={exhausted})", label(cur)),
                same("result", &tr::lease_expired(cur, exhausted), &expected)
                    .into_iter()
                    .collect(),
            );
        }
    }
    c.finish();
}

/// P4: "1/10 (pu ≤ now) → 0/0", keeping `retry_count`; reaching Ready clears `pu`.
const P4: Option<Change> = mv(WaitingForResources, Clear, RC_KEEP);

/// §3.1 P4, per status, for `pu` = [null, now − 1, now, now + 1].
#[rustfmt::skip]
const PROMOTION: [(Status, [Option<Change>; 4]); 8] = [
    // status              pu null  pu < now  pu = now  pu > now
    (WaitingForResources, [None,    None,     None,     None]),
    (Waiting,             [None,    P4,       P4,       None]),
    (InProgress,          [None,    None,     None,     None]),
    (Pausing,             [None,    None,     None,     None]),
    (Canceling,           [None,    None,     None,     None]),
    (Succeeded,           [None,    None,     None,     None]),
    (Failed,              [None,    None,     None,     None]),
    (Canceled,            [None,    None,     None,     None]),
];

const PU_CASES: [(&str, Option<i64>); 4] = [
    ("null", None),
    ("now - 1", Some(NOW - 1)),
    ("now", Some(NOW)),
    ("now + 1", Some(NOW + 1)),
];

/// §3.1 P3: "0/0 → 2/20 claim"; only 0/0 is claimable (§3.5 "a claim takes only 0/0").
#[rustfmt::skip]
const CLAIM: [(Status, Option<Change>); 8] = [
    (WaitingForResources, mv(InProgress, PU_KEEP, RC_KEEP)),
    (Waiting,             None),
    (InProgress,          None),
    (Pausing,             None),
    (Canceling,           None),
    (Succeeded,           None),
    (Failed,              None),
    (Canceled,            None),
];

/// §6.3: a renewal "returns the current status (20, 21 or 22)"; only Locked rows have a lease.
#[rustfmt::skip]
const RENEW: [(Status, Option<Status>); 8] = [
    (WaitingForResources, None),
    (Waiting,             None),
    (InProgress,          Some(InProgress)),
    (Pausing,             Some(Pausing)),
    (Canceling,           Some(Canceling)),
    (Succeeded,           None),
    (Failed,              None),
    (Canceled,            None),
];

fn assert_one_row_per_status<T>(name: &str, rows: &[(Status, T)]) {
    for st in all_statuses() {
        let n = rows.iter().filter(|r| r.0 == st).count();
        assert_eq!(n, 1, "{name}: {} appears {n} times", label(st));
    }
    assert_eq!(rows.len(), STATUSES.len(), "{name}: extra rows");
}

#[test]
fn platform_transitions_of_section_3_1() {
    assert_one_row_per_status("PROMOTION", &PROMOTION);
    assert_one_row_per_status("CLAIM", &CLAIM);
    assert_one_row_per_status("RENEW", &RENEW);

    let mut c = Mismatches::new("§3.1 claim, renew, promotion");
    for (cur, row) in PROMOTION {
        for (i, (pu_name, pu)) in PU_CASES.iter().enumerate() {
            c.cell(
                format!("postpone_due({}, pu {pu_name})", label(cur)),
                same("result", &tr::postpone_due(cur, *pu, NOW), &row[i])
                    .into_iter()
                    .collect(),
            );
        }
    }
    for (cur, expected) in CLAIM {
        c.cell(
            format!("claim({})", label(cur)),
            same("result", &tr::claim(cur), &expected)
                .into_iter()
                .collect(),
        );
    }
    for (cur, expected) in RENEW {
        c.cell(
            format!("renew({})", label(cur)),
            same("result", &tr::renew(cur), &expected)
                .into_iter()
                .collect(),
        );
    }
    c.finish();
}
