//! The workers' logs, read back: per operation and lock token, the lease each START
//! began (its claim time on the database's clock) and the renew/complete calls made under
//! it, each accepted (`ok`), refused (`LeaseLost`, `Busy`, `Closed`: nothing changed) or
//! unknown (no DONE line because its worker was killed, or an error such as `Io` after
//! which the commit may have landed). Also the log-only figures: LeaseLost completes,
//! worker errors by kind, and (HELLO lines) each host's wall-clock shift.

use crate::AnyResult;
use crate::check::{Findings, Input};
use std::collections::{BTreeMap, HashMap};

/// How far a faked host's wall clock may be from its intended shift.
const SHIFT_SLACK_MS: i64 = 10_000;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Res {
    Accepted,
    Refused,
    Unknown,
}

pub struct Call {
    pub kind: String,
    pub start: i64,
    pub res: Res,
}

pub struct LeaseRec {
    pub host: String,
    pub claimed: i64,
    pub calls: Vec<Call>,
}

impl LeaseRec {
    pub fn earliest_end(&self, lease_ms: i64) -> i64 {
        let renewed = self
            .calls
            .iter()
            .filter(|c| c.kind == "renew" && c.res == Res::Accepted)
            .map(|c| c.start)
            .fold(self.claimed, i64::max);
        self.calls
            .iter()
            .filter(|c| c.kind == "complete" && c.res != Res::Refused)
            .map(|c| c.start)
            .fold(renewed + lease_ms, i64::min)
    }
}

pub type Leases = HashMap<i64, BTreeMap<i64, LeaseRec>>;

/// Reads every log; fills `leases` and the log-only figures.
pub fn read_logs(inp: &Input, leases: &mut Leases, r: &mut Findings) -> AnyResult<()> {
    let mut files: Vec<_> = std::fs::read_dir(inp.logs)
        .map_err(|e| format!("read {}: {e}", inp.logs.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for path in &files {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
        let whole = text.ends_with('\n');
        let lines: Vec<&str> = text.lines().collect();
        // Calls of this file waiting for their DONE: (id, token) -> indexes into calls.
        let mut open: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
        for (i, line) in lines.iter().enumerate() {
            if i + 1 == lines.len() && !whole {
                break; // a line cut by the kill
            }
            let f: Vec<&str> = line.split(' ').collect();
            let num = |k: usize| f.get(k).and_then(|s| s.parse::<i64>().ok());
            match (f[0], num(1), num(2)) {
                ("HELLO", _, _) => check_shift(inp, &f, r),
                ("START", Some(id), Some(token)) => {
                    r.claims += 1;
                    let host = f.get(3).and_then(|h| h.split('-').next()).unwrap_or("?");
                    let rec = LeaseRec {
                        host: host.to_string(),
                        claimed: num(5).unwrap_or(0) - inp.lease_ms,
                        calls: Vec::new(),
                    };
                    if leases.entry(id).or_default().insert(token, rec).is_some() {
                        r.overlaps += 1;
                        r.notes
                            .push(format!("op {id}: token {token} handed out twice"));
                    }
                }
                ("CALL", Some(id), Some(token)) => {
                    let Some(rec) = leases.get_mut(&id).and_then(|m| m.get_mut(&token)) else {
                        return Err(format!("{}: CALL without START: {line}", path.display()));
                    };
                    if f.get(5) == Some(&"many") {
                        r.batched_completes += 1;
                    }
                    rec.calls.push(Call {
                        kind: f.get(3).unwrap_or(&"?").to_string(),
                        start: num(4).unwrap_or(0) + inp.offset,
                        res: Res::Unknown,
                    });
                    open.entry((id, token))
                        .or_default()
                        .push(rec.calls.len() - 1);
                }
                ("DONE", Some(id), Some(token)) => {
                    let slot = open.get_mut(&(id, token)).filter(|v| !v.is_empty());
                    let Some(slot) = slot else {
                        return Err(format!("{}: DONE without CALL: {line}", path.display()));
                    };
                    let at = slot.remove(0);
                    let res = match f.get(4).copied().unwrap_or("") {
                        "ok" => Res::Accepted,
                        "LeaseLost" | "Busy" | "Closed" => Res::Refused,
                        _ => Res::Unknown,
                    };
                    match (f.get(3), f.get(4)) {
                        (Some(&"complete"), Some(&"LeaseLost")) => r.lease_lost_completes += 1,
                        (Some(&"renew"), Some(&"LeaseLost")) => r.lease_lost_renews += 1,
                        _ => {}
                    }
                    if let Some(rec) = leases.get_mut(&id).and_then(|m| m.get_mut(&token)) {
                        rec.calls[at].res = res;
                    }
                }
                ("ERR", _, _) => {
                    r.worker_errors += 1;
                    let text: String = f
                        .iter()
                        .skip(3)
                        .take(8)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" ");
                    let text: String = text.chars().filter(|c| !c.is_ascii_digit()).collect();
                    let kind = format!("{} {text}", f.get(1).unwrap_or(&"?"));
                    *r.error_kinds.entry(kind).or_default() += 1;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Under skew, a HELLO line's wall clock must show the host's libfaketime shift.
fn check_shift(inp: &Input, f: &[&str], r: &mut Findings) {
    let host: usize = f
        .get(1)
        .and_then(|h| h.strip_prefix('h'))
        .and_then(|h| h.split('-').next())
        .and_then(|h| h.parse().ok())
        .unwrap_or(0);
    let (Some(wall), Some(mono)) = (
        f.get(3).and_then(|s| s.parse::<i64>().ok()),
        f.get(4).and_then(|s| s.parse::<i64>().ok()),
    ) else {
        return;
    };
    let want: i64 = match inp.faketime.get(host.wrapping_sub(1)) {
        Some(Some(s)) => s.trim_start_matches('+').parse::<i64>().unwrap_or(0) * 1_000,
        _ => 0,
    };
    let shift = wall - (mono + inp.offset);
    if (shift - want).abs() > SHIFT_SLACK_MS {
        r.bad_shifts += 1;
        r.notes.push(format!(
            "{}: wall clock shifted {shift} ms, expected {want} ms",
            f.get(1).unwrap_or(&"?")
        ));
    } else if inp.skew && r.notes.iter().all(|n| !n.starts_with(&format!("h{host} "))) {
        r.notes.push(format!(
            "h{host} clock shift seen by its worker: {:+.1} s",
            shift as f64 / 1_000.0
        ));
    }
}
