//! `purge` and `maintenance`: a progress bar on a terminal, quiet in a pipe.

use crate::exit::Outcome;
use asyncop::{Queue, State};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// A bar (or spinner, without a length) on stderr when it is a terminal.
fn bar(len: Option<u64>, message: &'static str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match len {
        Some(len) => ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr())
            .with_style(
                ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
        None => ProgressBar::new_spinner(),
    };
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// `asyncop purge`: the bar's length is the number of Completed jobs (those
/// past their retention are a part of them).
pub fn purge(q: &Queue) -> Outcome {
    let completed: i64 = q
        .counts()?
        .iter()
        .filter(|r| r.state == State::Completed)
        .map(|r| r.count)
        .sum();
    let bar = bar(Some(u64::try_from(completed).unwrap_or(0)), "purging");
    let now = q.now();
    let result = q.purge_with_progress(now, |n| bar.set_position(n));
    bar.finish_and_clear();
    let deleted = result?;
    println!("purged {deleted} completed jobs past their retention");
    Ok(())
}

/// `asyncop maintenance`.
pub fn maintenance(q: &Queue) -> Outcome {
    let bar = bar(None, "maintenance");
    let result = q.run_maintenance();
    bar.finish_and_clear();
    let report = result?;
    println!(
        "recovered {} expired leases, poisoned {}, promoted {} postponed jobs",
        report.recovered, report.poisoned, report.promoted
    );
    Ok(())
}
