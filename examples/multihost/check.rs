//! The checks of one scenario, from the workers' logs and the final rows.
//!
//! Times: claims are the database's (`expires_at - lease`); a call's start is its
//! CLOCK_MONOTONIC reading plus `offset` (CLOCK_REALTIME minus CLOCK_MONOTONIC in the
//! unfaked orchestrator; the server on this machine reads the same CLOCK_REALTIME), so
//! every time is on the database's clock.
//!
//! A call's result is accepted (`ok`), refused (`LeaseLost`, `Busy`, `Closed`: nothing
//! changed), or unknown (no DONE line, because its worker was killed, or an error such as
//! `Io` after which the commit may have landed: the server commits without its client).
//!
//! * lost: a submitted operation missing, or not Completed/Succeeded at the end;
//! * completed twice: more than one accepted complete, or an accepted complete under
//!   a token other than the row's final one, or a final token with neither an accepted
//!   nor an unknown complete (an unknown one under the final token is an ambiguous
//!   commit that landed, counted as `ambiguous`); a logged claim after the final token;
//! * overlaps, per operation and consecutive logged tokens a < b: b claimed before the
//!   earliest moment lease a can have ended (its first complete that was not refused,
//!   or its expiry after the last accepted renewal), or a call under a accepted although
//!   it started after b was claimed (fencing);
//! * order: an operation claimed before its predecessor under the same dependency token
//!   (by id) completed;
//! * early: a postponed operation claimed before its due time; under skew also late
//!   (first claim more than `PROMOTE_BOUND_MS` after due) and slow recoveries (an expired
//!   lease re-claimed more than `RECOVER_BOUND_MS` after its earliest end).

use crate::AnyResult;
use crate::faults::Faults;
use crate::logs::{LeaseRec, Leases, Res, read_logs};
use asyncop::{Operation, State, Status};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Rounding of ms readings and the offset measurement.
const TOLERANCE_MS: i64 = 15;
/// Under skew: a due operation is claimed within this (the -5 min hosts alone would be
/// 300 s late if their clock decided).
const PROMOTE_BOUND_MS: i64 = 5_000;
/// Under skew: an expired lease is re-claimed within this after it ended.
const RECOVER_BOUND_MS: i64 = 8_000;

pub struct Submitted {
    pub id: i64,
    pub due: Option<i64>,
    pub token: Option<String>,
}

pub struct Input<'a> {
    pub logs: &'a Path,
    pub lease_ms: i64,
    pub offset: i64,
    pub submitted: &'a [Submitted],
    pub rows: &'a [Operation],
    pub skew: bool,
    pub faketime: &'a [Option<String>],
}

#[derive(Default)]
pub struct Findings {
    /// START lines: claims the workers logged.
    pub claims: usize,
    /// Complete calls made through complete_many.
    pub batched_completes: usize,
    /// The longest wait of a postponed operation from its due time to its first claim.
    pub max_promotion_ms: i64,
    pub lease_lost_completes: usize,
    pub lease_lost_renews: usize,
    pub ambiguous: usize,
    pub taken_over: usize,
    pub lost: usize,
    pub overlaps: usize,
    pub twice: usize,
    pub order: usize,
    pub early: usize,
    pub late: usize,
    pub slow_recoveries: usize,
    pub worker_errors: usize,
    /// Worker errors by call and message (numbers left out), for the notes.
    pub error_kinds: BTreeMap<String, usize>,
    pub bad_shifts: usize,
    pub notes: Vec<String>,
}

impl Findings {
    pub fn passed(&self, scenario: &str, f: &Faults) -> bool {
        let base = self.lost == 0
            && self.overlaps == 0
            && self.twice == 0
            && self.order == 0
            && self.early == 0;
        let specific = match scenario {
            "kill" => f.kills_holding > 0,
            // The point of a cut: a host that held leases comes back and its late calls
            // are refused (a complete, or a renewal when its work was long).
            "cut" => f.cuts_holding > 0 && self.lease_lost_completes + self.lease_lost_renews > 0,
            "restart" => f.restarts > 0 && f.terminated > 0,
            "skew" => self.late == 0 && self.slow_recoveries == 0 && self.bad_shifts == 0,
            _ => true,
        };
        base && specific
    }
}

pub fn run(inp: &Input) -> AnyResult<Findings> {
    let mut r = Findings::default();
    let mut leases: Leases = HashMap::new();
    read_logs(inp, &mut leases, &mut r)?;
    let by_id: HashMap<i64, &Operation> = inp.rows.iter().map(|o| (o.id, o)).collect();
    let empty = BTreeMap::new();
    for s in inp.submitted {
        let per = leases.get(&s.id).unwrap_or(&empty);
        let Some(row) = by_id.get(&s.id) else {
            r.lost += 1;
            r.notes.push(format!("op {}: submitted but missing", s.id));
            continue;
        };
        if row.state != State::Completed || row.status != Status::Succeeded {
            r.lost += 1;
            r.notes.push(format!(
                "op {}: ended {}/{} (token {}, host {:?}, message {:?})",
                s.id,
                row.state.code(),
                row.status.code(),
                row.lock_token,
                row.host_id,
                row.message
            ));
            continue;
        }
        exactly_once(s.id, row, per, &mut r);
        overlaps(inp, s.id, per, &mut r);
        if let Some(due) = s.due {
            postponed(inp, s.id, due, per, &mut r);
        }
    }
    order(inp, &by_id, &leases, &mut r);
    let mut kinds: Vec<(&String, &usize)> = r.error_kinds.iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(a.1));
    let kinds: Vec<String> = kinds
        .iter()
        .take(6)
        .map(|(k, n)| format!("{n} x {k}"))
        .collect();
    if !kinds.is_empty() {
        r.notes.push(format!("worker errors: {}", kinds.join("; ")));
    }
    Ok(r)
}

fn exactly_once(id: i64, row: &Operation, per: &BTreeMap<i64, LeaseRec>, r: &mut Findings) {
    let completes = |res: Res| -> Vec<i64> {
        per.iter()
            .flat_map(|(&t, l)| {
                l.calls
                    .iter()
                    .filter(move |c| c.kind == "complete" && c.res == res)
                    .map(move |_| t)
            })
            .collect()
    };
    let accepted = completes(Res::Accepted);
    let unknown = completes(Res::Unknown);
    let last = per.keys().next_back().copied();
    let bad = if accepted.len() > 1 {
        Some(format!(
            "{} accepted completes {accepted:?}",
            accepted.len()
        ))
    } else if let Some(&t) = accepted.first() {
        (t != row.lock_token)
            .then(|| format!("completed under token {t}, row token {}", row.lock_token))
    } else if unknown.contains(&row.lock_token) {
        r.ambiguous += 1;
        None
    } else {
        Some(format!(
            "final token {} has no complete in the logs",
            row.lock_token
        ))
    };
    let bad = bad.or_else(|| {
        last.filter(|&t| t > row.lock_token).map(|t| {
            format!(
                "claimed under token {t} after completing under {}",
                row.lock_token
            )
        })
    });
    if let Some(text) = bad {
        r.twice += 1;
        r.notes.push(format!("op {id}: {text}"));
    }
}

fn overlaps(inp: &Input, id: i64, per: &BTreeMap<i64, LeaseRec>, r: &mut Findings) {
    let list: Vec<(&i64, &LeaseRec)> = per.iter().collect();
    for pair in list.windows(2) {
        let ((&ta, a), (&tb, b)) = (pair[0], pair[1]);
        if a.host != b.host {
            r.taken_over += 1;
        }
        let end = a.earliest_end(inp.lease_ms);
        if b.claimed < end - TOLERANCE_MS || b.claimed < a.claimed {
            r.overlaps += 1;
            r.notes.push(format!(
                "op {id}: token {tb} claimed by {} at {} while token {ta} of {} (claimed {}) \
                 could not have ended before {end}",
                b.host, b.claimed, a.host, a.claimed
            ));
        }
        let completed = a
            .calls
            .iter()
            .any(|c| c.kind == "complete" && c.res == Res::Accepted);
        if inp.skew && !completed && b.claimed - end > RECOVER_BOUND_MS {
            r.slow_recoveries += 1;
            r.notes.push(format!(
                "op {id}: lease {ta} of {} ended by {end}, re-claimed only at {}",
                a.host, b.claimed
            ));
        }
    }
    // Fencing: nothing under an older token is accepted after a newer claim.
    for (&ta, a) in per {
        for (&tb, b) in per.range(ta + 1..) {
            for c in a.calls.iter().filter(|c| c.res == Res::Accepted) {
                if c.start > b.claimed + TOLERANCE_MS {
                    r.overlaps += 1;
                    r.notes.push(format!(
                        "op {id}: {} under token {ta} accepted at {} after token {tb} was \
                         claimed at {}",
                        c.kind, c.start, b.claimed
                    ));
                }
            }
        }
    }
}

fn postponed(inp: &Input, id: i64, due: i64, per: &BTreeMap<i64, LeaseRec>, r: &mut Findings) {
    let Some(first) = per.values().map(|l| l.claimed).min() else {
        return;
    };
    if first < due - TOLERANCE_MS {
        r.early += 1;
        r.notes
            .push(format!("op {id}: due at {due}, claimed early at {first}"));
    }
    r.max_promotion_ms = r.max_promotion_ms.max(first - due);
    if inp.skew && first - due > PROMOTE_BOUND_MS {
        r.late += 1;
        r.notes.push(format!(
            "op {id}: due at {due}, first claimed {} ms later",
            first - due
        ));
    }
}

fn order(inp: &Input, by_id: &HashMap<i64, &Operation>, leases: &Leases, r: &mut Findings) {
    let mut by_token: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for s in inp.submitted {
        if let Some(t) = s.token.as_deref() {
            by_token.entry(t).or_default().push(s.id);
        }
    }
    for ids in by_token.values_mut() {
        ids.sort_unstable();
        for pair in ids.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let first_claim = leases
                .get(&b)
                .and_then(|m| m.values().map(|l| l.claimed).min());
            let done = by_id.get(&a).and_then(|o| o.completed_on);
            if let (Some(claimed), Some(done)) = (first_claim, done)
                && claimed < done - TOLERANCE_MS
            {
                r.order += 1;
                r.notes.push(format!(
                    "op {b}: claimed at {claimed} before op {a} of its token completed at {done}"
                ));
            }
        }
    }
}
