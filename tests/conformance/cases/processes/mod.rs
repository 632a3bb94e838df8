//! Several OS processes share one queue file (§1, §6.2, §6.3, §6.4).
//!
//! The processes are copies of this test binary (`support::child`): a parent test
//! spawns `current_exe()` with `--exact <child test>` and `ASYNCOP_TEST_CHILD=<role>`
//! in the environment, and `ASYNCOP_TEST_TARGET` naming the parent's store target,
//! which the child opens with the same store. The child tests (`child_worker`,
//! `child_waiter`, `child_batch_worker`, `child_stopper`) are the entry points of those copies and
//! return at once in a normal test run, where the variable is absent.
//!
//! * `killed_workers_lose_nothing`: worker processes drain 2,000 operations; two of
//!   them are SIGKILLed while they hold leases, and replacements finish the work.
//!   Each worker logs every claim (START, with its fencing token and lease expiry)
//!   and every successful completion (STOP). Afterwards every operation is
//!   Completed/Succeeded, none is missing, each completed exactly once, and no
//!   operation was ever held by two hosts at once.
//! * `submit_in_one_process_wakes_poll_in_another`: a waiting `poll` in one process
//!   returns soon after another process's `submit`.
//! * `batch_claims_are_exactly_once_and_fair_across_processes`: four processes
//!   claim in batches and complete with `complete_many`.
//! * `a_cancel_from_another_process_reaches_the_handler`: a handler's stop signal
//!   in one process is set soon after another process cancels its operation
//!   (50 rounds; the latency distribution is printed).

mod batch;
mod killed;
mod stops;
mod wake;

use super::store;
use crate::support::child::{self, Children, Lines, TARGET_ENV};
use asyncop::{
    Clock, Error, Filter, Operation, OperationSpec, Options, PollOptions, Queue, State, Status,
    SystemClock,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const HOST_ENV: &str = "ASYNCOP_TEST_HOST";
const LOG_ENV: &str = "ASYNCOP_TEST_LOG";
const ROUNDS_ENV: &str = "ASYNCOP_TEST_ROUNDS";

/// Short, so that the operations of a killed worker come back quickly (§6.4).
const LEASE: Duration = Duration::from_millis(1500);
const LEASE_MS: i64 = 1500;
const OPERATIONS: usize = 2000;
/// The whole multi-process test fails (and kills its children) after this long.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);
/// A child that is still running after this long gives up by itself.
const CHILD_TIMEOUT: Duration = Duration::from_secs(150);

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn now_ms() -> i64 {
    SystemClock.now_ms()
}

fn now_us() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_micros(),
    )
    .unwrap()
}

/// Spawns the child test `child_test` of `module` as `role`, on `target`, to
/// run `rounds` rounds and report them on its stdout; the parent reads them
/// through the `Lines`, and the `Children` kill it if the test fails.
fn spawn_rounds_child(
    module: &str,
    child_test: &str,
    role: &str,
    target: String,
    rounds: u32,
) -> (Children, Lines) {
    let mut child = child::spawn(
        &child::test_name(module, child_test),
        role,
        &[(TARGET_ENV, target), (ROUNDS_ENV, rounds.to_string())],
        Stdio::piped(),
    );
    let lines = Lines::new(child.stdout.take().unwrap());
    (Children(vec![(role.into(), child)]), lines)
}

/// Appends `text` (whole lines) in one `write` on an `O_APPEND` file, so a
/// SIGKILL leaves either all of it or none of it.
fn append(log: &mut File, text: &str) {
    log.write_all(text.as_bytes()).unwrap();
    log.flush().unwrap();
}


/// Whether every operation in the file is Completed.
fn all_completed(queue: &Queue) -> bool {
    queue
        .counts()
        .unwrap()
        .iter()
        .all(|row| row.state == State::Completed)
}


#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Start {
    token: i64,
    claimed_at: i64,
    expires_at: i64,
}

#[derive(Debug, Default)]
struct WorkerLog {
    /// (id, token) → the claim.
    starts: BTreeMap<(i64, i64), Start>,
    /// (id, token) → time the successful complete returned.
    stops: BTreeMap<(i64, i64), i64>,
    lost: BTreeSet<(i64, i64)>,
}

impl WorkerLog {
    /// Claims with neither STOP nor LOST: leases the worker still held.
    fn open_claims(&self) -> Vec<(i64, i64)> {
        self.starts
            .keys()
            .filter(|k| !self.stops.contains_key(k) && !self.lost.contains(k))
            .copied()
            .collect()
    }
}

/// Parses a worker's log. A running worker may be in the middle of a `write`:
/// with `running`, a last line without its newline is left out; otherwise
/// (worker stopped or gone) there must be none.
fn read_log(path: &Path, host: &str, running: bool) -> WorkerLog {
    let text = fs::read_to_string(path).unwrap_or_default();
    let whole = text.rfind('\n').map_or(0, |at| at + 1);
    assert!(
        running || whole == text.len(),
        "torn last line in {}: {:?}",
        path.display(),
        &text[whole..]
    );
    let mut log = WorkerLog::default();
    for line in text[..whole].lines() {
        let f: Vec<&str> = line.split(' ').collect();
        assert!(f.len() >= 4, "bad log line {line:?} in {}", path.display());
        let num = |i: usize| -> i64 {
            f[i].parse()
                .unwrap_or_else(|_| panic!("bad log line {line:?} in {}", path.display()))
        };
        assert_eq!(f[3], host, "host in {line:?}");
        let key = (num(1), num(2));
        let fresh = match f[0] {
            "START" => {
                assert_eq!(f.len(), 6, "{line:?}");
                log.starts
                    .insert(
                        key,
                        Start {
                            token: key.1,
                            claimed_at: num(4),
                            expires_at: num(5),
                        },
                    )
                    .is_none()
            }
            "STOP" => {
                assert_eq!(f.len(), 5, "{line:?}");
                assert!(log.starts.contains_key(&key), "STOP before START: {line:?}");
                log.stops.insert(key, num(4)).is_none()
            }
            "LOST" => {
                assert_eq!(f.len(), 5, "{line:?}");
                assert!(log.starts.contains_key(&key), "LOST before START: {line:?}");
                log.lost.insert(key)
            }
            _ => panic!("bad log line {line:?}"),
        };
        assert!(fresh, "duplicate log line {line:?} of {host}");
    }
    log
}

fn check_deadline(start: Instant, what: &str) {
    assert!(
        start.elapsed() < TEST_TIMEOUT,
        "timed out after {TEST_TIMEOUT:?} while {what}"
    );
}
