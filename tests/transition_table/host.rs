//! §3.1–§3.3: host outcomes, lease expiry, promotion, claim and renewal.

use super::*;

// ---------------------------------------------------------------------------
// §3.1–§3.3: host and platform events
// ---------------------------------------------------------------------------

pub(crate) const fn mv(
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
pub(crate) const LOCKED: [Status; 3] = [InProgress, Pausing, Canceling];

pub(crate) fn locked_column(st: Status) -> Option<usize> {
    LOCKED.iter().position(|&s| s == st)
}

/// Which reports a §3.2 row covers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum When {
    Any,
    OneShot,
    Recurring,
    BudgetLeft,
    BudgetExhausted,
}

/// The facts that decide a report: recurring or not, retry budget left or not.
pub(crate) const CONTEXTS: [(&str, OutcomeContext); 4] = [
    (
        "one-shot, budget left",
        OutcomeContext {
            recurring: false,
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
            recurring: false,
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
            recurring: true,
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
            recurring: true,
            next_occurrence: Some(NEXT),
            retry: RetryPlan {
                exhausted: true,
                at: BACKOFF,
            },
        },
    ),
];

pub(crate) fn applies(when: When, ctx: &OutcomeContext) -> bool {
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
pub(crate) const HOST_OUTCOMES: &[(Outcome, When, [Option<Change>; 3])] = &[
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
pub(crate) fn expected_report(
    cur: Status,
    outcome: Outcome,
    ctx: &OutcomeContext,
) -> Option<Change> {
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

pub(crate) type Wrapper = fn(Status, OutcomeContext) -> Option<Change>;

/// The named wrappers and the §3.2 outcome each one reports ("On 21 Pausing the host
/// [...] reports Suspended"; "On 22 Canceling the host [...] reports Canceled").
pub(crate) const WRAPPERS: [(&str, Wrapper, Outcome); 5] = [
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
pub(crate) const LEASE_EXPIRY: [(bool, [Option<Change>; 3]); 2] = [
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
pub(crate) const P4: Option<Change> = mv(WaitingForResources, Clear, RC_KEEP);

/// §3.1 P4, per status, for `pu` = [null, now − 1, now, now + 1].
#[rustfmt::skip]
pub(crate) const PROMOTION: [(Status, [Option<Change>; 4]); 8] = [
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

pub(crate) const PU_CASES: [(&str, Option<i64>); 4] = [
    ("null", None),
    ("now - 1", Some(NOW - 1)),
    ("now", Some(NOW)),
    ("now + 1", Some(NOW + 1)),
];

/// §3.1 P3: "0/0 → 2/20 claim"; only 0/0 is claimable (§3.5 "a claim takes only 0/0").
#[rustfmt::skip]
pub(crate) const CLAIM: [(Status, Option<Change>); 8] = [
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
pub(crate) const RENEW: [(Status, Option<Status>); 8] = [
    (WaitingForResources, None),
    (Waiting,             None),
    (InProgress,          Some(InProgress)),
    (Pausing,             Some(Pausing)),
    (Canceling,           Some(Canceling)),
    (Succeeded,           None),
    (Failed,              None),
    (Canceled,            None),
];

pub(crate) fn assert_one_row_per_status<T>(name: &str, rows: &[(Status, T)]) {
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

/// §8: a series never reaches 3/30. With no occurrence left, a successful run
/// ends it as 3/31 (our choice) and `series_ended` gives the message to store;
/// under Canceling it ends as 3/32; other outcomes are decided as for any series.
#[test]
fn a_series_with_no_occurrence_left_never_succeeds() {
    let none_left = OutcomeContext {
        recurring: true,
        next_occurrence: None,
        retry: RetryPlan {
            exhausted: false,
            at: BACKOFF,
        },
    };
    let one_shot = OutcomeContext {
        recurring: false,
        ..none_left
    };
    for cur in [InProgress, Pausing] {
        let change = tr::complete(cur, none_left).unwrap();
        assert_eq!(change.status, Failed, "{cur:?}");
        let message = tr::series_ended(&none_left, tr::complete(cur, one_shot)).unwrap();
        assert!(message.contains("no occurrence left"), "{message}");
        // A host's own failure or retry is not the series running out.
        assert_eq!(tr::series_ended(&none_left, tr::fail(cur, one_shot)), None);
        assert_eq!(
            tr::fail_retryable(cur, none_left).map(|c| c.status),
            Some(Waiting)
        );
    }
    assert_eq!(tr::complete(Canceling, none_left).unwrap().status, Canceled);
    assert_eq!(tr::complete(Canceling, one_shot).unwrap().status, Succeeded);
    // A series with an occurrence left, and a one-shot operation, get no message.
    let next = OutcomeContext {
        next_occurrence: Some(NEXT),
        ..none_left
    };
    assert_eq!(
        tr::series_ended(&next, tr::complete(InProgress, one_shot)),
        None
    );
    assert_eq!(
        tr::series_ended(&one_shot, tr::complete(InProgress, one_shot)),
        None
    );
}
