//! §12: the refusals, their HRESULTs and messages.

use super::*;

// ---------------------------------------------------------------------------
// §12: errors
// ---------------------------------------------------------------------------

pub(crate) const E162: u32 = 0x8004_4162;
pub(crate) const E163: u32 = 0x8004_4163;
pub(crate) const E165: u32 = 0x8004_4165;
pub(crate) const E166: u32 = 0x8004_4166;
pub(crate) const E167: u32 = 0x8004_4167;
pub(crate) const E168: u32 = 0x8004_4168;
pub(crate) const E169: u32 = 0x8004_4169;
pub(crate) const E16A: u32 = 0x8004_416a;
pub(crate) const F00: u32 = 0x8004_4F00;
pub(crate) const F01: u32 = 0x8004_4F01;

/// The observed template of the four invalid-state errors (§12).
pub(crate) fn template(r: Refusal) -> String {
    format!(
        "The state transition requested is not valid for the current state. \
         Current state: {}, current status: {}, target state: {}",
        r.state, r.status, r.target_state
    )
}

/// §12: the error whose HRESULT the §4 matrix names, for a refusal of `r`.
pub(crate) fn error_for(hresult: u32, r: Refusal) -> Error {
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

pub(crate) fn uses_template(hresult: u32) -> bool {
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
            // The template of the four invalid-state errors comes first; the
            // states named and a hint follow it (`transition::explain`).
            let shown = e.to_string();
            let start = if uses_template(hresult.unwrap_or(0)) {
                &shown[..shown.len().min(m.len())]
            } else {
                shown.as_str()
            };
            p.extend(same("Display", &start, &m));
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
