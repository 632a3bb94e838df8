//! The read commands: `jobs` (the System Jobs grid), `show` and `counts`,
//! as tables or as JSON (the library's serde shapes).

use crate::exit::{Failure, Outcome};
use crate::time_arg::{iso_utc, opt_iso};
use asyncop::{CountRow, Filter, HeldType, Operation, Queue, State, Status};
use comfy_table::{Cell, CellAlignment, Table, presets};
use std::collections::BTreeSet;

/// A table in the command's style.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(header.iter().copied());
    t
}

/// `Locked/InProgress (2/20)`.
pub fn pair(state: State, status: Status) -> String {
    format!("{state}/{status} ({}/{})", state.code(), status.code())
}

fn json(value: &impl serde::Serialize) -> Outcome {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::new(crate::exit::Exit::Store, format!("JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

/// The grid of `jobs` and `watch`.
pub fn jobs_table(ops: &[Operation]) -> Table {
    let mut t = table(&[
        "id",
        "name",
        "type",
        "state/status",
        "host",
        "retries",
        "created",
        "modified",
        "postpone until",
        "message",
    ]);
    for op in ops {
        t.add_row(vec![
            Cell::new(op.id).set_alignment(CellAlignment::Right),
            Cell::new(&op.name),
            Cell::new(op.operation_type).set_alignment(CellAlignment::Right),
            Cell::new(pair(op.state, op.status)),
            Cell::new(op.host_id.as_deref().unwrap_or("-")),
            Cell::new(op.retry_count).set_alignment(CellAlignment::Right),
            Cell::new(iso_utc(op.created_on)),
            Cell::new(iso_utc(op.modified_on)),
            Cell::new(opt_iso(op.postpone_until)),
            Cell::new(
                op.friendly_message
                    .as_deref()
                    .or(op.message.as_deref())
                    .unwrap_or(""),
            ),
        ]);
    }
    t
}

/// `asyncop jobs`.
pub fn jobs(q: &Queue, filter: &Filter, as_json: bool) -> Outcome {
    let ops = q.query(filter)?;
    if as_json {
        return json(&ops);
    }
    if ops.is_empty() {
        println!("no jobs");
        return Ok(());
    }
    println!("{}", jobs_table(&ops));
    let more = filter.limit.is_some_and(|l| ops.len() >= l as usize);
    match (more, ops.last()) {
        (true, Some(last)) => println!(
            "{} jobs shown; the next page: --after {}",
            ops.len(),
            last.id
        ),
        _ => println!("{} jobs", ops.len()),
    }
    Ok(())
}

/// `asyncop show`.
pub fn show(q: &Queue, id: i64, as_json: bool) -> Outcome {
    let op = q.retrieve(id)?;
    let attempts = q.attempts(id)?;
    if as_json {
        return json(&serde_json::json!({ "operation": op, "attempts": attempts }));
    }
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let num = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), |n| n.to_string());
    let progress = match op.progress {
        Some(p) => format!("{p}% {}", op.progress_text.as_deref().unwrap_or("")),
        None => "-".to_owned(),
    };
    let fields: Vec<(&str, String)> = vec![
        ("id", op.id.to_string()),
        ("name", op.name.clone()),
        ("type", op.operation_type.to_string()),
        ("state/status", pair(op.state, op.status)),
        ("data", bytes(&op.data)),
        ("dependency token", text(&op.dependency_token)),
        ("correlation id", text(&op.correlation_id)),
        ("postpone until", opt_iso(op.postpone_until)),
        ("host", text(&op.host_id)),
        ("lease expires at", opt_iso(op.lease_expires_at)),
        ("lock token", op.lock_token.to_string()),
        ("retries", op.retry_count.to_string()),
        ("error code", error_code(op.error_code)),
        ("message", text(&op.message)),
        ("friendly message", text(&op.friendly_message)),
        ("created", iso_utc(op.created_on)),
        ("modified", iso_utc(op.modified_on)),
        ("started", opt_iso(op.started_on)),
        ("completed", opt_iso(op.completed_on)),
        ("execution time (ms)", num(op.execution_time_span)),
        ("recurrence pattern", text(&op.recurrence_pattern)),
        ("recurrence start", opt_iso(op.recurrence_start)),
        ("waiting for event", op.is_waiting_for_event.to_string()),
        ("progress", progress.trim_end().to_owned()),
        (
            "output",
            op.output.as_deref().map_or_else(|| "-".to_owned(), bytes),
        ),
    ];
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (key, value) in &fields {
        println!("{key:width$}  {value}");
    }
    println!();
    if attempts.is_empty() {
        println!("no attempts");
        return Ok(());
    }
    let mut t = table(&[
        "lock token",
        "host",
        "started",
        "ended",
        "ending",
        "error code",
        "message",
    ]);
    for a in &attempts {
        t.add_row(vec![
            a.lock_token.to_string(),
            a.host_id.clone().unwrap_or_else(|| "-".to_owned()),
            opt_iso(a.started_on),
            iso_utc(a.ended_on),
            a.ending.name().to_owned(),
            error_code(a.error_code),
            a.message.clone().unwrap_or_default(),
        ]);
    }
    println!("attempts ({}):\n{t}", attempts.len());
    Ok(())
}

fn error_code(code: Option<i32>) -> String {
    code.map_or_else(|| "-".to_owned(), |c| format!("{c} (0x{:08X})", c as u32))
}

/// `12 bytes: "text"` (lossy UTF-8, at most 200 characters).
fn bytes(data: &[u8]) -> String {
    if data.is_empty() {
        return "0 bytes".to_owned();
    }
    let text: String = String::from_utf8_lossy(data).chars().take(200).collect();
    format!("{} bytes: {text:?}", data.len())
}

/// The counts pivot: a row per state/status, a column per type, totals.
pub fn counts_table(rows: &[CountRow], held: &[HeldType]) -> Table {
    let mut types: BTreeSet<i32> = rows.iter().map(|r| r.operation_type).collect();
    types.extend(held.iter().map(|h| h.operation_type));
    let is_held = |t: i32| held.iter().any(|h| h.operation_type == t);
    let mut header = vec!["state/status".to_owned()];
    header.extend(types.iter().map(|t| {
        if is_held(*t) {
            format!("type {t} (held)")
        } else {
            format!("type {t}")
        }
    }));
    header.push("total".to_owned());
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(header);
    let count = |status: Option<Status>, ty: Option<i32>| -> i64 {
        rows.iter()
            .filter(|r| status.is_none_or(|s| r.status == s))
            .filter(|r| ty.is_none_or(|t| r.operation_type == t))
            .map(|r| r.count)
            .sum()
    };
    let number = |n: i64| Cell::new(n).set_alignment(CellAlignment::Right);
    for status in Status::ALL {
        if count(Some(status), None) == 0 {
            continue;
        }
        let mut row = vec![Cell::new(pair(status.state(), status))];
        row.extend(
            types
                .iter()
                .map(|ty| number(count(Some(status), Some(*ty)))),
        );
        row.push(number(count(Some(status), None)));
        t.add_row(row);
    }
    let mut total = vec![Cell::new("total")];
    total.extend(types.iter().map(|ty| number(count(None, Some(*ty)))));
    total.push(number(count(None, None)));
    t.add_row(total);
    t
}

/// `asyncop counts`.
pub fn counts(q: &Queue, as_json: bool) -> Outcome {
    let rows = q.counts()?;
    let held = q.held_types()?;
    if as_json {
        return json(&serde_json::json!({ "rows": rows, "held": held }));
    }
    println!("{}", counts_table(&rows, &held));
    for h in &held {
        println!(
            "type {} held since {}",
            h.operation_type,
            iso_utc(h.held_on)
        );
    }
    Ok(())
}
