//! §4: the user-action matrix.

use super::*;

// ---------------------------------------------------------------------------
// §3.4 and §4: user actions
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
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

pub(crate) const ALL_ACTIONS: [Action; 13] = [
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
pub(crate) fn target_state(a: Action) -> Option<u8> {
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
pub(crate) enum U {
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
pub(crate) const U1: U = U::To(Canceled, Clear, RC_KEEP);
/// U2: 1/10 → 3/32, `pu` cleared.
pub(crate) const U2: U = U::To(Canceled, Clear, RC_KEEP);
/// U3: 2/20, 2/21 → 2/22, pending `pu` cleared.
pub(crate) const U3: U = U::To(Canceling, Clear, RC_KEEP);
/// U4: 2/20 → 2/21 (pu = null).
pub(crate) const U4: U = U::To(Pausing, Clear, RC_KEEP);
/// U5: 2/21 unchanged, no write.
pub(crate) const U5: U = U::NoOp;
/// U6: 1/10 → 0/0, `pu` cleared, `retry_count` kept.
pub(crate) const U6: U = U::To(WaitingForResources, Clear, RC_KEEP);
/// U7: 0/0 → 1/10 (pu = t).
pub(crate) const U7: U = U::To(Waiting, Set(T), RC_KEEP);
/// U8: 1/10 → 1/10 (pu = t).
pub(crate) const U8: U = U::To(Waiting, Set(T), RC_KEEP);
/// U9: 2/20 → 2/21 (pu = t).
pub(crate) const U9: U = U::To(Pausing, Set(T), RC_KEEP);
/// U10: row deleted.
pub(crate) const U10: U = U::Del;

pub(crate) const X162: U = U::Err(E162);
pub(crate) const X165: U = U::Err(E165);
pub(crate) const X166: U = U::Err(E166);
pub(crate) const X167: U = U::Err(E167);
pub(crate) const X16A: U = U::Err(E16A);
pub(crate) const XF00: U = U::Err(F00);
pub(crate) const XF01: U = U::Err(F01);
pub(crate) const ARG: U = U::Arg;

/// The columns of §4; the last one, 3/x, stands for 3/30, 3/31 and 3/32.
pub(crate) const COLUMNS: [&[Status]; 6] = [
    &[WaitingForResources],
    &[Waiting],
    &[InProgress],
    &[Pausing],
    &[Canceling],
    &[Succeeded, Failed, Canceled],
];

pub(crate) const DECLARE: Action = Action::SetState(SetStateRequest::DeclareOutcome);
pub(crate) const LOCK: Action = Action::SetState(SetStateRequest::Lock);

/// §4 "User actions: validity matrix", plus its bullets and the restricted rows (§9).
#[rustfmt::skip]
pub(crate) const USER_MATRIX: &[(Action, bool, [U; 6])] = &[
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
pub(crate) const SET_STATE_MEANS: [(SetStateRequest, Action); 3] = [
    (SetStateRequest::Resume, Action::Resume),
    (SetStateRequest::Pause, Action::Pause),
    (SetStateRequest::Cancel, Action::Cancel),
];

/// Every (status, action, restricted, expected) cell of the user matrix.
pub(crate) fn user_cells() -> Vec<(Status, Action, bool, U)> {
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

pub(crate) fn run_user(action: Action, cur: Status, restricted: bool) -> Result<Step, Error> {
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

pub(crate) fn check_user_cell(
    cur: Status,
    action: Action,
    restricted: bool,
    expected: U,
) -> Vec<String> {
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
                    // The §12 template first, then the current states named.
                    let shown = a.to_string();
                    let want = template(refusal);
                    let named = format!(". {}/{} ", cur.state(), cur);
                    if !shown.starts_with(&want) || !shown[want.len()..].starts_with(&named) {
                        p.push(format!(
                            "Display: got {shown:?}, want {want:?} then {named:?}"
                        ));
                    }
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
