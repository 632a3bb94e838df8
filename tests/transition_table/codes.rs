//! §2: the codes of states, statuses and outcomes.

use super::*;

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
pub(crate) fn probe_codes() -> Vec<i64> {
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

pub(crate) fn check_try_from<T: PartialEq + Debug + Copy>(
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
