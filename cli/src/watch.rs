//! `asyncop watch`: the counts and the newest jobs, drawn again on each
//! commit to the queue (the library's change signal: no busy loop). On a
//! terminal the screen is redrawn; in a pipe one frame is printed per change.

use crate::exit::Outcome;
use crate::read::{counts_table, jobs_table};
use crate::time_arg::iso_utc;
use asyncop::{Filter, Queue};
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// Runs until Ctrl-C (or `frames` frames).
pub fn watch(q: &Queue, newest: u32, frames: Option<u64>) -> Outcome {
    let terminal = std::io::stdout().is_terminal();
    let mut shown = 0u64;
    let mut last = String::new();
    loop {
        let mark = q.change_mark()?;
        let body = body(q, newest)?;
        // A wake-up without a visible change (a store's fallback look, a
        // commit that changed nothing shown) draws nothing.
        if body == last {
            q.wait_change(mark, Duration::from_secs(60))?;
            continue;
        }
        let frame = format!("--- {} at {}: {body}", q.target(), iso_utc(q.now()));
        last = body;
        let mut out = std::io::stdout().lock();
        let written = if terminal {
            write!(out, "\x1b[2J\x1b[H{frame}")
        } else {
            writeln!(out, "{frame}")
        };
        // A closed pipe ends the watch.
        if written.and_then(|()| out.flush()).is_err() {
            return Ok(());
        }
        drop(out);
        shown += 1;
        if frames.is_some_and(|f| shown >= f) {
            return Ok(());
        }
        q.wait_change(mark, Duration::from_secs(60))?;
    }
}

/// What a frame shows, but its time: equal bodies mean nothing changed.
fn body(q: &Queue, newest: u32) -> Result<String, crate::exit::Failure> {
    let rows = q.counts()?;
    let held = q.held_types()?;
    let total: i64 = rows.iter().map(|r| r.count).sum();
    let offset = u32::try_from(total.saturating_sub(i64::from(newest))).unwrap_or(0);
    let ops = q.query(&Filter {
        offset: Some(offset),
        limit: Some(newest),
        ..Filter::default()
    })?;
    Ok(format!(
        "{total} jobs\n{}\nnewest {} jobs:\n{}\n",
        counts_table(&rows, &held),
        ops.len(),
        jobs_table(&ops)
    ))
}
