//! §4: parsing a generic set_state.

use super::*;

// ---------------------------------------------------------------------------
// §4: parsing a generic set_state(state, status)
// ---------------------------------------------------------------------------

/// §4 "Generic `set_state(state, status)`": every request that names a valid pair.
#[rustfmt::skip]
pub(crate) const SET_STATE_REQUESTS: &[(i64, Option<i64>, SetStateRequest)] = &[
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
pub(crate) enum Parse {
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
pub(crate) fn expected_parse(state: i64, status: Option<i64>) -> Parse {
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
