//! The user actions, each through the library's checked API: the result of
//! every one is the new state or the refusal (code + message).

use asyncop::transition::time_text::{civil_from_days, days_from_civil};
use asyncop::{Error, Queue};
use serde::{Deserialize, Serialize};

/// A request to `/api/actions`.
#[derive(Debug, Deserialize)]
pub struct ActionRequest {
    /// cancel, pause, resume, postpone, delete, hold or release.
    pub action: String,
    /// The operations (for cancel … delete).
    #[serde(default)]
    pub ids: Vec<i64>,
    /// For postpone: a UTC date-time `YYYY-MM-DDTHH:MM[:SS]` (what
    /// `<input type="datetime-local">` gives) or milliseconds since the epoch.
    pub until: Option<serde_json::Value>,
    /// For hold and release: the operation type.
    pub operation_type: Option<i32>,
}

/// The outcome for one id (or for the type of hold/release).
#[derive(Debug, Serialize)]
pub struct ActionResult {
    /// The operation (absent for hold/release).
    pub id: Option<i64>,
    /// Whether the library accepted it.
    pub ok: bool,
    /// The state/status afterwards, e.g. `Locked/Canceling` (absent when deleted or refused).
    pub now: Option<String>,
    /// The refusal's name, e.g. `InvalidStateChange`.
    pub code: Option<String>,
    /// The refusal's HRESULT as hex, when the model gives one.
    pub hresult: Option<String>,
    /// The refusal's readable message.
    pub message: Option<String>,
}

fn refused(id: Option<i64>, e: &Error) -> ActionResult {
    ActionResult {
        id,
        ok: false,
        now: None,
        code: Some(e.name().to_string()),
        hresult: e.hresult().map(|h| format!("0x{:08X}", h as u32)),
        message: Some(e.to_string()),
    }
}

fn invalid(text: String) -> ActionResult {
    refused(None, &Error::InvalidArgument(text))
}

/// Runs the request; blocking (call it in `spawn_blocking`).
pub fn run(queue: &Queue, request: &ActionRequest) -> Vec<ActionResult> {
    match request.action.as_str() {
        "hold" | "release" => {
            let Some(t) = request.operation_type else {
                return vec![invalid("hold and release need operation_type".into())];
            };
            let r = if request.action == "hold" {
                queue.hold_type(t)
            } else {
                queue.release_type(t)
            };
            vec![match r {
                Ok(()) => ActionResult {
                    id: None,
                    ok: true,
                    now: Some(format!(
                        "type {t} {}",
                        if request.action == "hold" {
                            "held"
                        } else {
                            "released"
                        }
                    )),
                    code: None,
                    hresult: None,
                    message: None,
                },
                Err(e) => refused(None, &e),
            }]
        }
        "cancel" | "pause" | "resume" | "delete" | "postpone" => {
            let until = if request.action == "postpone" {
                match request.until.as_ref().map(parse_until) {
                    Some(Ok(t)) => Some(t),
                    Some(Err(why)) => return vec![invalid(why)],
                    None => {
                        return vec![invalid("postpone needs `until` (a UTC date-time)".into())];
                    }
                }
            } else {
                None
            };
            if request.ids.is_empty() {
                return vec![invalid("no operation selected".into())];
            }
            request
                .ids
                .iter()
                .map(|&id| one(queue, &request.action, id, until))
                .collect()
        }
        other => vec![invalid(format!(
            "unknown action {other:?} (cancel, pause, resume, postpone, delete, hold, release)"
        ))],
    }
}

fn one(queue: &Queue, action: &str, id: i64, until: Option<i64>) -> ActionResult {
    let r = match action {
        "cancel" => queue.cancel(id),
        "pause" => queue.pause(id),
        "resume" => queue.resume(id),
        "delete" => queue.delete(id),
        _ => queue.postpone(id, until.unwrap_or_default()),
    };
    match r {
        Err(e) => refused(Some(id), &e),
        Ok(()) => ActionResult {
            id: Some(id),
            ok: true,
            now: match action {
                "delete" => Some("deleted".into()),
                _ => queue
                    .retrieve(id)
                    .ok()
                    .map(|op| format!("{}/{}", op.state, op.status)),
            },
            code: None,
            hresult: None,
            message: None,
        },
    }
}

/// `until` as UTC milliseconds: a number is taken as is; a text is a UTC
/// date-time `YYYY-MM-DDTHH:MM[:SS]` (an optional trailing `Z` is allowed).
pub fn parse_until(value: &serde_json::Value) -> Result<i64, String> {
    match value {
        serde_json::Value::Number(n) => {
            n.as_i64().ok_or_else(|| format!("{n} is not a time in ms"))
        }
        serde_json::Value::String(s) => parse_utc(s),
        other => Err(format!("{other} is not a time")),
    }
}

/// `YYYY-MM-DDTHH:MM[:SS]` (UTC) to ms since the epoch.
pub fn parse_utc(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?} is not a UTC date-time YYYY-MM-DDTHH:MM[:SS]");
    let t = text.trim().trim_end_matches('Z');
    let (date, time) = t.split_once(['T', ' ']).ok_or_else(bad)?;
    let d: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let h: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let ([y, m, day], [hh, mm, rest @ ..]) = (d.as_slice(), h.as_slice()) else {
        return Err(bad());
    };
    let ss = rest.first().copied().unwrap_or(0);
    if !(1..=12).contains(m)
        || !(1..=31).contains(day)
        || *hh > 23
        || *mm > 59
        || !(0..=59).contains(&ss)
        || rest.len() > 1
    {
        return Err(bad());
    }
    Ok((days_from_civil(*y, *m, *day) * 86_400 + hh * 3600 + mm * 60 + ss) * 1000)
}

/// ms since the epoch as `YYYY-MM-DD HH:MM:SS` UTC.
pub fn format_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_round_trip() {
        assert_eq!(parse_utc("1970-01-01T00:00"), Ok(0));
        assert_eq!(parse_utc("2026-12-05T01:30:15Z"), Ok(1_796_434_215_000));
        assert_eq!(format_utc(1_796_434_215_000), "2026-12-05 01:30:15");
        assert!(parse_utc("2026-13-01T00:00").is_err());
        assert!(parse_utc("tomorrow").is_err());
    }
}
