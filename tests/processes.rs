//! Several OS processes share one queue file (§1, §6.2, §6.3, §6.4).
//!
//! The processes are copies of this test binary: a parent test spawns
//! `current_exe()` with `--exact <child test>` and `ASYNCOP_TEST_CHILD=<role>`
//! in the environment. The child tests (`child_worker`, `child_waiter`) are the
//! entry points of those copies and return at once in a normal test run, where
//! the variable is absent.
//!
//! * `killed_workers_lose_nothing`: worker processes drain 2,000 operations; two of
//!   them are SIGKILLed while they hold leases, and replacements finish the work.
//!   Each worker logs every claim (START, with its fencing token and lease expiry)
//!   and every successful completion (STOP). Afterwards every operation is
//!   Completed/Succeeded, none is missing, each completed exactly once, and no
//!   operation was ever held by two hosts at once.
//! * `submit_in_one_process_wakes_poll_in_another`: a waiting `poll` in one process
//!   returns soon after another process's `submit`.
#![cfg(unix)]

mod support;

use asyncop::{
    Clock, Error, Filter, Operation, OperationSpec, Options, PollOptions, Queue, State, Status,
    SystemClock,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::TempDir;

/// Role of a spawned copy of this binary; absent in the parent.
const CHILD_ENV: &str = "ASYNCOP_TEST_CHILD";
const PATH_ENV: &str = "ASYNCOP_TEST_PATH";
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

/// Every spawned child; all still running are SIGKILLed and reaped on drop,
/// so a failing test leaves no process behind.
#[derive(Default)]
struct Children(Vec<(String, Child)>);

impl Children {
    fn get(&mut self, name: &str) -> &mut Child {
        &mut self
            .0
            .iter_mut()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no child {name}"))
            .1
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            if matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

/// Spawns a copy of this test binary that runs only the test `child_test`.
fn spawn_child(child_test: &str, role: &str, env: &[(&str, String)], stdout: Stdio) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", child_test, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, role)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::inherit());
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.spawn().unwrap()
}

fn child_env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| panic!("{key} is not set"))
}

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

/// Appends `text` (whole lines) in one `write` on an `O_APPEND` file, so a
/// SIGKILL leaves either all of it or none of it.
fn append(log: &mut File, text: &str) {
    log.write_all(text.as_bytes()).unwrap();
    log.flush().unwrap();
}

fn payload(name: &str) -> Vec<u8> {
    format!("payload of {name}").into_bytes()
}

/// Whether every operation in the file is Completed.
fn all_completed(queue: &Queue) -> bool {
    queue
        .counts()
        .unwrap()
        .iter()
        .all(|row| row.state == State::Completed)
}

// ---------------------------------------------------------------------------
// Child: a worker process
// ---------------------------------------------------------------------------

/// Entry point of the worker processes spawned by `killed_workers_lose_nothing`.
/// In a normal test run (no `ASYNCOP_TEST_CHILD=worker`) it returns at once.
///
/// Loops poll → log START for each claim → a little work → complete → log STOP
/// (only when `complete` returned Ok), and exits once every operation in the file
/// is Completed. Log lines:
/// `START <id> <token> <host> <claimed_at> <expires_at>`,
/// `STOP <id> <token> <host> <ms after complete returned>`,
/// `LOST <id> <token> <host> <ms>` (complete refused with LeaseLost).
#[test]
fn child_worker() {
    if std::env::var(CHILD_ENV).as_deref() != Ok("worker") {
        return;
    }
    let path = child_env(PATH_ENV);
    let host = child_env(HOST_ENV);
    let queue = Queue::open(
        &path,
        Options {
            lease: LEASE,
            ..Default::default()
        },
    )
    .unwrap();
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(child_env(LOG_ENV))
        .unwrap();
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let mut busy = 0u32;
    for round in 0u32.. {
        assert!(Instant::now() < deadline, "worker {host} timed out");
        // Batches of 1 to 4: a kill then lands while several leases are held.
        let options = PollOptions::default()
            .max(round % 4 + 1)
            .wait(Duration::from_millis(100));
        let leases = match queue.poll(&host, &options) {
            Ok(leases) => leases,
            Err(Error::Busy) => {
                busy += 1;
                continue;
            }
            Err(e) => panic!("worker {host}: poll failed: {e}"),
        };
        if leases.is_empty() {
            if all_completed(&queue) {
                break;
            }
            continue;
        }
        // Every claim is logged before any of the batch is worked on.
        let mut starts = String::new();
        for lease in &leases {
            assert_eq!(lease.host_id, host);
            assert_eq!(lease.data, payload(&lease.name), "payload of {}", lease.id);
            writeln!(
                starts,
                "START {} {} {host} {} {}",
                lease.id,
                lease.lock_token,
                lease.expires_at - LEASE_MS,
                lease.expires_at
            )
            .unwrap();
        }
        append(&mut log, &starts);
        for lease in &leases {
            if lease.id % 3 == 0 {
                thread::sleep(Duration::from_millis(2 + lease.id.unsigned_abs() % 4));
            }
            let result = loop {
                match queue.complete(lease.key()) {
                    Err(Error::Busy) => busy += 1,
                    other => break other,
                }
            };
            match result {
                Ok(status) => {
                    assert_eq!(status, Status::Succeeded);
                    let stop = format!(
                        "STOP {} {} {host} {}\n",
                        lease.id,
                        lease.lock_token,
                        now_ms()
                    );
                    append(&mut log, &stop);
                }
                Err(Error::LeaseLost { .. }) => {
                    let lost = format!(
                        "LOST {} {} {host} {}\n",
                        lease.id,
                        lease.lock_token,
                        now_ms()
                    );
                    append(&mut log, &lost);
                }
                Err(e) => panic!("worker {host}: complete of {} failed: {e}", lease.id),
            }
        }
    }
    eprintln!("worker {host}: done ({busy} Busy answers retried)");
}

// ---------------------------------------------------------------------------
// Parent: killed workers
// ---------------------------------------------------------------------------

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

/// SIGSTOPs the worker and looks at its (now still) log: if it shows a claim
/// without STOP, the worker holds that lease, and it is SIGKILLed; otherwise it
/// is resumed (SIGCONT) and the function returns false.
fn kill_while_holding(child: &mut Child, log_path: &Path, host: &str) -> bool {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: plain syscalls on the pid of our own, not yet reaped child.
    unsafe {
        assert_eq!(libc::kill(pid, libc::SIGSTOP), 0);
        let mut status = 0;
        assert_eq!(libc::waitpid(pid, &mut status, libc::WUNTRACED), pid);
        assert!(
            libc::WIFSTOPPED(status),
            "worker {host} was not running (wait status {status:#x})"
        );
    }
    if read_log(log_path, host, false).open_claims().is_empty() {
        // SAFETY: as above.
        unsafe { assert_eq!(libc::kill(pid, libc::SIGCONT), 0) };
        return false;
    }
    child.kill().unwrap(); // SIGKILL on Unix.
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{host}: {status:?}");
    true
}

#[test]
fn killed_workers_lose_nothing() {
    let started = Instant::now();
    let dir = TempDir::new("kill");
    let path = dir.join("queue.db");
    let queue = Queue::open(
        &path,
        Options {
            lease: LEASE,
            // Each lease expiry counts as an attempt (§6.4); a loaded machine must
            // not turn a slow worker's op into a poisoned one.
            max_attempts: Some(20),
            ..Default::default()
        },
    )
    .unwrap();

    // Every fifth operation joins one of 7 dependency chains (§7).
    let specs: Vec<OperationSpec> = (0..OPERATIONS)
        .map(|i| {
            let name = format!("op-{i}");
            let spec = OperationSpec::new(&name, 1 + (i % 3) as i32).data(payload(&name));
            if i % 5 == 0 {
                spec.dependency_token(format!("chain-{}", i % 7))
            } else {
                spec
            }
        })
        .collect();
    let mut ids = Vec::new();
    for chunk in specs.chunks(250) {
        ids.extend(queue.submit_many(chunk).unwrap());
    }
    assert_eq!(ids.len(), OPERATIONS);

    let path_str = path.to_str().unwrap().to_owned();
    let mut children = Children::default();
    let spawn_worker = |children: &mut Children, n: usize| {
        let host = format!("w{n}");
        let log = dir.join(&format!("{host}.log"));
        let child = spawn_child(
            "child_worker",
            "worker",
            &[
                (PATH_ENV, path_str.clone()),
                (HOST_ENV, host.clone()),
                (LOG_ENV, log.to_str().unwrap().to_owned()),
            ],
            Stdio::null(),
        );
        children.0.push((host, child));
    };
    for n in 0..4 {
        spawn_worker(&mut children, n);
    }

    // Kill w0, then w1, each at a moment it holds at least one lease and has
    // made some progress; start a replacement after each kill.
    let victims = ["w0", "w1"];
    for (k, victim) in victims.iter().enumerate() {
        let log_path = dir.join(&format!("{victim}.log"));
        loop {
            check_deadline(started, &format!("waiting to kill {victim}"));
            let progress = read_log(&log_path, victim, true).stops.len();
            if progress >= 40 * (k + 1)
                && kill_while_holding(children.get(victim), &log_path, victim)
            {
                break;
            }
            thread::sleep(Duration::from_millis(3));
        }
        spawn_worker(&mut children, 4 + k);
    }

    // Everyone else runs until the queue is drained.
    for (host, child) in &mut children.0 {
        if victims.contains(&host.as_str()) {
            continue;
        }
        let status = loop {
            check_deadline(started, &format!("waiting for worker {host}"));
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "worker {host} failed: {status:?}");
    }
    let elapsed = started.elapsed();

    // -- the store: every operation Completed/Succeeded, none missing ---------
    let counts = queue.counts().unwrap();
    for row in &counts {
        assert_eq!(
            (row.state, row.status),
            (State::Completed, Status::Succeeded),
            "{row:?}"
        );
    }
    assert_eq!(
        counts.iter().map(|r| r.count).sum::<i64>(),
        OPERATIONS as i64
    );
    let ops: Vec<Operation> = queue.query(&Filter::default()).unwrap();
    assert_eq!(ops.iter().map(|o| o.id).collect::<Vec<_>>(), ids);

    // -- the logs ----------------------------------------------------------------
    let hosts: Vec<String> = (0..6).map(|n| format!("w{n}")).collect();
    let logs: HashMap<&str, WorkerLog> = hosts
        .iter()
        .map(|h| {
            (
                h.as_str(),
                read_log(&dir.join(&format!("{h}.log")), h.as_str(), false),
            )
        })
        .collect();
    // Per operation: every claim (token → host, claim) and every successful complete.
    let mut claims: BTreeMap<i64, BTreeMap<i64, (&str, Start)>> = BTreeMap::new();
    let mut stops: BTreeMap<i64, Vec<(i64, &str, i64)>> = BTreeMap::new();
    for (host, log) in &logs {
        for (&(id, token), &start) in &log.starts {
            let earlier = claims.entry(id).or_default().insert(token, (host, start));
            assert!(
                earlier.is_none(),
                "op {id}: token {token} claimed by both {host} and {:?}",
                earlier.unwrap().0
            );
        }
        for (&(id, token), &at) in &log.stops {
            stops.entry(id).or_default().push((token, host, at));
        }
    }

    let mut reclaimed = 0;
    for op in &ops {
        let id = op.id;
        let op_claims = claims
            .get(&id)
            .unwrap_or_else(|| panic!("op {id} is Completed but no worker logged a claim"));
        // Every claim was logged: the tokens are exactly 1..=lock_token (§6.3: +1 per claim).
        assert_eq!(
            op_claims.keys().copied().collect::<Vec<_>>(),
            (1..=op.lock_token).collect::<Vec<_>>(),
            "op {id}: logged tokens vs final lock_token"
        );
        // Every claim before the last ended by lease expiry, which counts as an attempt.
        assert_eq!(op.retry_count as i64, op.lock_token - 1, "op {id}");
        // Completed exactly once, under the last token, by the host that held it.
        let op_stops = stops.get(&id).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(
            op_stops.len(),
            1,
            "op {id}: successful completes {op_stops:?}"
        );
        let (stop_token, stop_host, stop_at) = op_stops[0];
        assert_eq!(stop_token, op.lock_token, "op {id}");
        assert_eq!(op_claims[&stop_token].0, stop_host, "op {id}");
        // No two holds overlap. A claim holds from its claim time until its
        // successful complete, or else until its lease expiry: the store's clock
        // is the same system clock, so these bounds are exact (§6.3, §6.4).
        let mut previous_end: Option<i64> = None;
        for (&token, &(host, claim)) in op_claims {
            assert_eq!(claim.token, token);
            if let Some(end) = previous_end {
                assert!(
                    claim.claimed_at >= end,
                    "op {id}: {host} claimed it (token {token}) at {} while the \
                     previous holder held it until {end}",
                    claim.claimed_at
                );
            }
            let end = if token == stop_token {
                assert!(stop_at >= claim.claimed_at);
                stop_at
            } else {
                claim.expires_at
            };
            previous_end = Some(end);
        }
        if op.lock_token > 1 {
            reclaimed += 1;
        }
    }

    // The kills hit held leases, and those operations were claimed again and
    // completed by another host.
    let mut killed_claims = 0;
    for victim in victims {
        let open = logs[victim].open_claims();
        assert!(!open.is_empty(), "{victim} held no lease when killed");
        for (id, token) in open {
            let op = ops.iter().find(|o| o.id == id).unwrap();
            assert!(op.retry_count >= 1, "op {id} of killed {victim}: {op:?}");
            assert!(op.lock_token > token, "op {id} was not claimed again");
            assert_ne!(stops[&id][0].1, victim);
            killed_claims += 1;
        }
    }

    // Dependency chains (§7): no claim of an operation before its predecessor
    // with the same token was Completed.
    let mut last_in_chain: HashMap<&str, &Operation> = HashMap::new();
    for op in &ops {
        let Some(token) = op.dependency_token.as_deref() else {
            continue;
        };
        if let Some(previous) = last_in_chain.get(token) {
            let done = previous.completed_on.unwrap();
            let first_claim = claims[&op.id].values().map(|c| c.1.claimed_at).min();
            assert!(
                first_claim.unwrap() >= done,
                "op {} claimed before its predecessor {} completed",
                op.id,
                previous.id
            );
        }
        last_in_chain.insert(token, op);
    }
    assert_eq!(last_in_chain.len(), 7);

    let lost: usize = logs.values().map(|l| l.lost.len()).sum();
    eprintln!(
        "killed_workers_lose_nothing: {OPERATIONS} ops in {elapsed:?}; {killed_claims} leases \
         held by killed workers, {reclaimed} ops claimed more than once, {lost} LeaseLost completes"
    );
}

// ---------------------------------------------------------------------------
// Cross-process wake-up
// ---------------------------------------------------------------------------

/// Entry point of the waiting process spawned by
/// `submit_in_one_process_wakes_poll_in_another`. In a normal test run (no
/// `ASYNCOP_TEST_CHILD=waiter`) it returns at once.
///
/// For each round: prints `@@READY <round>`, waits in `poll(wait = 5 s)` on the
/// empty queue, and prints `@@GOT <round> <id> <µs since epoch at poll return>`
/// (or `@@TIMEOUT <round>`), then completes the operation.
#[test]
fn child_waiter() {
    if std::env::var(CHILD_ENV).as_deref() != Ok("waiter") {
        return;
    }
    let queue = Queue::open(child_env(PATH_ENV), Options::default()).unwrap();
    let rounds: u32 = child_env(ROUNDS_ENV).parse().unwrap();
    let mut out = std::io::stdout();
    for round in 0..rounds {
        writeln!(out, "@@READY {round}").unwrap();
        out.flush().unwrap();
        let leases = queue
            .poll(
                "waiter",
                &PollOptions::default().wait(Duration::from_secs(5)),
            )
            .unwrap();
        let returned_at = now_us();
        match leases.as_slice() {
            [lease] => {
                writeln!(out, "@@GOT {round} {} {returned_at}", lease.id).unwrap();
                out.flush().unwrap();
                assert_eq!(queue.complete(lease.key()).unwrap(), Status::Succeeded);
            }
            [] => {
                writeln!(out, "@@TIMEOUT {round}").unwrap();
                out.flush().unwrap();
            }
            more => panic!("poll with max 1 returned {} leases", more.len()),
        }
    }
}

/// Lines of a child's stdout, read on a thread so that waiting has a timeout.
struct Lines(mpsc::Receiver<String>);

impl Lines {
    fn new(stdout: ChildStdout) -> Lines {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines(rx)
    }

    /// The next line that carries a `@@` marker (libtest's own lines are skipped),
    /// from the marker on.
    fn next_marked(&self, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .0
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("no line from the child within {timeout:?}: {e}"));
            if let Some(at) = line.find("@@") {
                return line[at + 2..].to_owned();
            }
        }
    }
}

#[test]
fn submit_in_one_process_wakes_poll_in_another() {
    const ROUNDS: u32 = 5;
    let dir = TempDir::new("wake");
    let path = dir.join("queue.db");
    let queue = Queue::open(&path, Options::default()).unwrap();
    let mut children = Children::default();
    let mut child = spawn_child(
        "child_waiter",
        "waiter",
        &[
            (PATH_ENV, path.to_str().unwrap().to_owned()),
            (ROUNDS_ENV, ROUNDS.to_string()),
        ],
        Stdio::piped(),
    );
    let lines = Lines::new(child.stdout.take().unwrap());
    children.0.push(("waiter".into(), child));

    let mut latencies_us = Vec::new();
    for round in 0..ROUNDS {
        assert_eq!(
            lines.next_marked(Duration::from_secs(30)),
            format!("READY {round}")
        );
        // Let the child get past its first, empty claim and into its wait.
        thread::sleep(Duration::from_millis(200));
        let id = queue
            .submit(&OperationSpec::new(format!("wake-{round}"), 1))
            .unwrap();
        let submitted_at = now_us();
        let got = lines.next_marked(Duration::from_secs(30));
        let returned_at: i64 = got
            .strip_prefix(&format!("GOT {round} {id} "))
            .unwrap_or_else(|| panic!("round {round}: submitted {id}, child said {got:?}"))
            .parse()
            .unwrap();
        latencies_us.push(returned_at - submitted_at);
    }
    let status = children.get("waiter").wait().unwrap();
    assert!(status.success(), "waiter: {status:?}");
    assert!(all_completed(&queue));
    eprintln!(
        "cross-process wake-up latencies (submit returned → poll returned), µs: {latencies_us:?}"
    );
    // The spec asks for a wake-up within 50 ms across processes (the store checks
    // `PRAGMA data_version` every 1 ms). The bound here is ten times the 50 ms, so that
    // a loaded 2-core CI machine running other tests at the same time does not
    // fail it; the printed values show the real latency.
    let worst = *latencies_us.iter().max().unwrap();
    assert!(
        worst < 500_000,
        "a poll in another process woke {worst} µs after the submit: {latencies_us:?}"
    );
}

// ---------------------------------------------------------------------------
// Batch claims across processes
// ---------------------------------------------------------------------------

const GO_ENV: &str = "ASYNCOP_TEST_GO";
const BATCH_WORKERS: usize = 4;
const BATCH_OPERATIONS: usize = 4000;

/// Entry point of the processes spawned by
/// `batch_claims_are_exactly_once_and_fair_across_processes`. In a normal test
/// run (no `ASYNCOP_TEST_CHILD=batcher`) it returns at once.
///
/// Waits for the go file, then loops poll(max 10) → complete_many, logging
/// `DONE <id> <token>` for each lease whose completion returned Ok, until every
/// operation in the file is Completed.
#[test]
fn child_batch_worker() {
    if std::env::var(CHILD_ENV).as_deref() != Ok("batcher") {
        return;
    }
    let path = child_env(PATH_ENV);
    let host = child_env(HOST_ENV);
    let go = child_env(GO_ENV);
    let queue = Queue::open(&path, Options::default()).unwrap();
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(child_env(LOG_ENV))
        .unwrap();
    let deadline = Instant::now() + CHILD_TIMEOUT;
    while !Path::new(&go).exists() {
        assert!(Instant::now() < deadline, "no go file");
        thread::sleep(Duration::from_millis(1));
    }
    let options = PollOptions::default()
        .max(10)
        .wait(Duration::from_millis(50));
    loop {
        assert!(Instant::now() < deadline, "batch worker {host} timed out");
        let leases = queue.poll(&host, &options).unwrap();
        if leases.is_empty() {
            if all_completed(&queue) {
                break;
            }
            continue;
        }
        let keys: Vec<_> = leases.iter().map(|l| l.key()).collect();
        let results = queue.complete_many(&keys).unwrap();
        let mut text = String::new();
        for (lease, result) in leases.iter().zip(results) {
            assert_eq!(
                result,
                Ok(Status::Succeeded),
                "{host}: lease of {}",
                lease.id
            );
            writeln!(text, "DONE {} {}", lease.id, lease.lock_token).unwrap();
        }
        append(&mut log, &text);
    }
}

#[test]
fn batch_claims_are_exactly_once_and_fair_across_processes() {
    let dir = TempDir::new("batch_fair");
    let path = dir.join("queue.db");
    let queue = Queue::open(&path, Options::default()).unwrap();
    let specs: Vec<OperationSpec> = (0..BATCH_OPERATIONS)
        .map(|i| OperationSpec::new(format!("op{i}"), 1))
        .collect();
    let mut ids = queue.submit_many(&specs).unwrap();
    let go = dir.join("go");
    let mut children = Children::default();
    for w in 0..BATCH_WORKERS {
        let host = format!("batcher-{w}");
        let child = spawn_child(
            "child_batch_worker",
            "batcher",
            &[
                (PATH_ENV, path.to_str().unwrap().to_owned()),
                (HOST_ENV, host.clone()),
                (
                    LOG_ENV,
                    dir.join(&format!("{host}.log"))
                        .to_str()
                        .unwrap()
                        .to_owned(),
                ),
                (GO_ENV, go.to_str().unwrap().to_owned()),
            ],
            Stdio::null(),
        );
        children.0.push((host, child));
    }
    File::create(&go).unwrap();
    let start = Instant::now();
    for w in 0..BATCH_WORKERS {
        let host = format!("batcher-{w}");
        loop {
            check_deadline(start, "batch workers");
            if let Some(status) = children.get(&host).try_wait().unwrap() {
                assert!(status.success(), "{host}: {status:?}");
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
    let elapsed = start.elapsed();
    let mut done: Vec<i64> = Vec::new();
    let mut per_host = Vec::new();
    for w in 0..BATCH_WORKERS {
        let text = fs::read_to_string(dir.join(&format!("batcher-{w}.log"))).unwrap_or_default();
        let mine: Vec<i64> = text
            .lines()
            .map(|l| l.split(' ').nth(1).unwrap().parse().unwrap())
            .collect();
        per_host.push(mine.len());
        done.extend(mine);
    }
    eprintln!(
        "{BATCH_OPERATIONS} operations in {elapsed:?}, completions per process: {per_host:?}"
    );
    done.sort_unstable();
    let distinct: BTreeSet<i64> = done.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        done.len(),
        "an operation was completed twice"
    );
    ids.sort_unstable();
    assert_eq!(done, ids, "every operation completed exactly once");
    let counts = queue.counts().unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(
        (counts[0].status, counts[0].count),
        (Status::Succeeded, BATCH_OPERATIONS as i64)
    );
    // Fair shares are 25 %: a process starved of the write lock would get far less.
    for (w, &n) in per_host.iter().enumerate() {
        assert!(
            n * 10 >= BATCH_OPERATIONS,
            "batcher-{w} completed only {n} of {BATCH_OPERATIONS}: {per_host:?}"
        );
    }
}
