//! A process SIGKILLed in the middle of its writes loses nothing it was told
//! was committed, and leaves a sound file (§6.6: "a call returns after commit,
//! so a returned submission survives a crash").
//!
//! The killed processes are copies of this test binary (`support::child`): a parent
//! test spawns `current_exe()` with `--exact <child test>`, `ASYNCOP_TEST_CHILD=<role>`
//! and `ASYNCOP_TEST_TARGET` (the parent's store target, which the child opens).
//! The child tests (`child_submitter`, `child_batch_submitter`, `child_completer`)
//! are the entry points of those copies and return at once in a normal test run,
//! where the variable is absent. A child prints a `@@` line to stdout (flushed)
//! after each call that returned Ok; the parent kills it, reads every line it
//! printed, reopens the queue, runs the store's own soundness check (SQLite:
//! `PRAGMA integrity_check`, `Target::assert_sound`) and checks that
//! everything printed is there. Each scenario kills three times on the same file,
//! so the next open also recovers the WAL a killed process left behind.
#![cfg(unix)]


mod batch;
mod complete;
mod submit;

use super::store;
use crate::support::Target;
use crate::support::child::{self, Killable, Lines, TARGET_ENV};
use asyncop::{
    Clock, Filter, Operation, OperationSpec, Options, PollOptions, Queue, State, Status,
    SystemClock,
};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ROUND_ENV: &str = "ASYNCOP_TEST_ROUND";

/// Kills per file.
const ROUNDS: usize = 3;
/// A child that was not killed after this long stops by itself.
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the parent waits for the next line of a child before failing.
const LINE_TIMEOUT: Duration = Duration::from_secs(30);
/// Lease of the completer child: its claims come back soon after the kill.
const COMPLETER_LEASE: Duration = Duration::from_millis(1000);

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Spawns a copy of this test binary that runs only the child test `child_test`
/// (a full name) as `role` on `target`, with its stdout piped to the returned reader.
fn spawn(child_test: &str, role: &str, target: &Target, round: usize) -> (Killable, Lines) {
    let mut child = child::spawn(
        child_test,
        role,
        &[(TARGET_ENV, target.target()), (ROUND_ENV, round.to_string())],
        Stdio::piped(),
    );
    let lines = Lines::new(child.stdout.take().unwrap());
    (Killable(child), lines)
}

/// SIGKILLs the child, checks that the signal is what ended it, and returns
/// every `@@` line it had printed that the parent had not read yet.
fn kill(mut child: Killable, lines: &Lines) -> Vec<String> {
    child.0.kill().unwrap(); // SIGKILL on Unix.
    let status = child.0.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "child: {status:?}");
    let mut rest = Vec::new();
    while let Some(line) = lines.next_marked(LINE_TIMEOUT) {
        rest.push(line);
    }
    rest
}

/// Microseconds to wait after the kill trigger: different per round and run,
/// so that kills land at different points of the commit cycle.
fn jitter() -> Duration {
    Duration::from_micros((nanos() % 4000) as u64)
}

/// An operation without its (long) payload, for assertion messages.
fn summary(op: &Operation) -> String {
    format!(
        "op {} {:?} {:?}/{:?} token {} retry_count {} host {:?} lease {:?}",
        op.id,
        op.name,
        op.state,
        op.status,
        op.lock_token,
        op.retry_count,
        op.host_id,
        op.lease_expires_at
    )
}

/// Reopens the queue after a kill (recovering the WAL), checks its soundness and
/// that every row is intact (its payload matches its name), and returns all rows.
fn reopen_and_check(target: &Target, options: Options) -> (Queue, Vec<Operation>) {
    let queue = target.open(options).unwrap();
    target.assert_sound();
    let rows = queue.query(&Filter::default()).unwrap();
    for row in &rows {
        assert!(
            row.data == child::payload(&row.name),
            "torn data: {}",
            summary(row)
        );
    }
    assert!(rows.windows(2).all(|w| w[0].id < w[1].id));
    let counted: i64 = queue.counts().unwrap().iter().map(|c| c.count).sum();
    assert_eq!(counted, rows.len() as i64);
    (queue, rows)
}

