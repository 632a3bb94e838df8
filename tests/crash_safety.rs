//! A process SIGKILLed in the middle of its writes loses nothing it was told
//! was committed, and leaves a sound file (§6.6: "a call returns after commit,
//! so a returned submission survives a crash").
//!
//! The killed processes are copies of this test binary: a parent test spawns
//! `current_exe()` with `--exact <child test>` and `ASYNCOP_TEST_CHILD=<role>`.
//! The child tests (`child_submitter`, `child_batch_submitter`, `child_completer`)
//! are the entry points of those copies and return at once in a normal test run,
//! where the variable is absent. A child prints a `@@` line to stdout (flushed)
//! after each call that returned Ok; the parent kills it, reads every line it
//! printed, reopens the file, runs `PRAGMA integrity_check` and checks that
//! everything printed is there. Each scenario kills three times on the same file,
//! so the next open also recovers the WAL a killed process left behind.
#![cfg(unix)]

mod support;

use asyncop::{
    Clock, Filter, Operation, OperationSpec, Options, PollOptions, Queue, State, Status,
    SystemClock,
};
use std::collections::{BTreeMap, BTreeSet};
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

/// A child process that is SIGKILLed and reaped on drop if still running, so a
/// failing test leaves no process behind.
struct Killable(Child);

impl Drop for Killable {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Spawns a copy of this test binary that runs only the test `role`'s child test,
/// with its stdout piped to the returned reader.
fn spawn_child(child_test: &str, role: &str, path: &Path, round: usize) -> (Killable, Lines) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", child_test, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, role)
        .env(PATH_ENV, path)
        .env(ROUND_ENV, round.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
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
    while let Some(line) = lines.next_marked() {
        rest.push(line);
    }
    rest
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

    /// The next line that carries a `@@` marker (libtest's own lines are
    /// skipped), from after the marker on; `None` at the end of the output.
    fn next_marked(&self) -> Option<String> {
        loop {
            match self.0.recv_timeout(LINE_TIMEOUT) {
                Ok(line) => {
                    if let Some(at) = line.find("@@") {
                        return Some(line[at + 2..].to_owned());
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return None,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("no line from the child within {LINE_TIMEOUT:?}")
                }
            }
        }
    }
}

fn child_env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| panic!("{key} is not set"))
}

/// A distinct payload per name, 1 to 4 KiB, so that a torn or mixed-up row shows.
fn payload(name: &str) -> Vec<u8> {
    let mut seed = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let len = 1024 + (seed % 3072) as usize;
    let mut data = name.as_bytes().to_vec();
    data.push(0);
    while data.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        data.push(seed as u8);
    }
    data
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

/// `PRAGMA integrity_check` on a separate plain connection.
fn assert_integrity(path: &Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn.prepare("PRAGMA integrity_check").unwrap();
    let result: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(result, ["ok"], "integrity_check of {}", path.display());
}

/// Reopens the file after a kill (recovering the WAL), checks its integrity and
/// that every row is intact (its payload matches its name), and returns all rows.
fn reopen_and_check(path: &Path, options: Options) -> (Queue, Vec<Operation>) {
    let queue = Queue::open(path, options).unwrap();
    assert_integrity(path);
    let rows = queue.query(&Filter::default()).unwrap();
    for row in &rows {
        assert!(
            row.data == payload(&row.name),
            "torn data: {}",
            summary(row)
        );
    }
    assert!(rows.windows(2).all(|w| w[0].id < w[1].id));
    let counted: i64 = queue.counts().unwrap().iter().map(|c| c.count).sum();
    assert_eq!(counted, rows.len() as i64);
    (queue, rows)
}

// ---------------------------------------------------------------------------
// Single submits
// ---------------------------------------------------------------------------

/// Entry point of the process spawned by `killed_submitter_loses_no_returned_submit`.
/// In a normal test run (no `ASYNCOP_TEST_CHILD=submitter`) it returns at once.
/// Submits `r<round>-i<i>` for i = 0, 1, … and prints `@@ID <id> <name>` after
/// each submit returned Ok, until it is killed.
#[test]
fn child_submitter() {
    if std::env::var(CHILD_ENV).as_deref() != Ok("submitter") {
        return;
    }
    let queue = Queue::open(child_env(PATH_ENV), Options::default()).unwrap();
    let round = child_env(ROUND_ENV);
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let mut out = std::io::stdout();
    for i in 0u64.. {
        assert!(Instant::now() < deadline, "submitter was not killed");
        let name = format!("r{round}-i{i}");
        let id = queue
            .submit(&OperationSpec::new(&name, 1).data(payload(&name)))
            .unwrap();
        writeln!(out, "@@ID {id} {name}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn killed_submitter_loses_no_returned_submit() {
    let dir = TempDir::new("submit");
    let path = dir.join("queue.db");
    Queue::open(&path, Options::default()).unwrap().close();
    // id → name of every submit the child reported as returned.
    let mut printed: BTreeMap<i64, String> = BTreeMap::new();
    // Submits reported per round.
    let mut reported: Vec<usize> = Vec::new();
    for round in 0..ROUNDS {
        let kill_after = [200, 60, 330][round];
        let (child, lines) = spawn_child("child_submitter", "submitter", &path, round);
        let mut this_round = Vec::new();
        while this_round.len() < kill_after {
            this_round.push(lines.next_marked().expect("submitter ended early"));
        }
        thread::sleep(jitter());
        this_round.extend(kill(child, &lines));

        let mut previous = printed.keys().next_back().copied().unwrap_or(0);
        for (i, line) in this_round.iter().enumerate() {
            let f: Vec<&str> = line.split(' ').collect();
            assert_eq!(f.len(), 3, "{line:?}");
            assert_eq!(f[0], "ID", "{line:?}");
            assert_eq!(f[2], format!("r{round}-i{i}"), "lines in submit order");
            let id: i64 = f[1].parse().unwrap();
            // Ids strictly increase and are never reused, also across kills (§5).
            assert!(id > previous, "{line:?} after id {previous}");
            previous = id;
            assert!(printed.insert(id, f[2].to_owned()).is_none(), "{line:?}");
        }
        reported.push(this_round.len());

        let (queue, rows) = reopen_and_check(&path, Options::default());
        for (&id, name) in &printed {
            let op = queue.retrieve(id).unwrap();
            assert_eq!(&op.name, name, "op {id}");
            assert!(op.data == payload(name), "torn data: {}", summary(&op));
            assert_eq!(
                (op.state, op.status),
                (State::Ready, Status::WaitingForResources)
            );
        }
        // Per round, at most one submit committed without being reported: the
        // one the kill interrupted between commit and print, the next in order.
        let mut unreported: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
        for row in rows.iter().filter(|r| !printed.contains_key(&r.id)) {
            let r: usize = row.name[1..].split('-').next().unwrap().parse().unwrap();
            unreported.entry(r).or_default().push(&row.name);
        }
        for (&r, names) in &unreported {
            assert_eq!(names, &[format!("r{r}-i{}", reported[r])], "round {r}");
        }
        eprintln!(
            "submitter round {round}: {} submits reported, {} rows in the file",
            this_round.len(),
            rows.len()
        );
        queue.close();
    }
}

// ---------------------------------------------------------------------------
// Concurrent submits (group commit)
// ---------------------------------------------------------------------------

const SUBMIT_THREADS: usize = 4;

/// Entry point of the process spawned by `killed_group_commit_loses_no_returned_submit`.
/// In a normal test run (no `ASYNCOP_TEST_CHILD=threads`) it returns at once.
/// Four threads submit `r<round>-t<t>-i<i>` through one queue, so their
/// submits share transactions; each prints `@@ID <id> <name>` after its submit
/// returned Ok, and thread 0 prints `@@STATS <transactions> <commands>` now and then.
#[test]
fn child_threaded_submitter() {
    if std::env::var(CHILD_ENV).as_deref() != Ok("threads") {
        return;
    }
    let queue = Queue::open(child_env(PATH_ENV), Options::default()).unwrap();
    let round = child_env(ROUND_ENV);
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let threads: Vec<_> = (0..SUBMIT_THREADS)
        .map(|t| {
            let queue = queue.clone();
            let round = round.clone();
            thread::spawn(move || {
                for i in 0u64.. {
                    assert!(Instant::now() < deadline, "submitter was not killed");
                    let name = format!("r{round}-t{t}-i{i}");
                    let id = queue
                        .submit(&OperationSpec::new(&name, 1).data(payload(&name)))
                        .unwrap();
                    let mut line = format!("@@ID {id} {name}\n");
                    if t == 0 && i % 50 == 0 {
                        let stats = asyncop::store::sqlite::testing::writer_stats(&queue).unwrap();
                        line += &format!("@@STATS {} {}\n", stats.transactions, stats.commands);
                    }
                    // One write per line set, under the stdout lock: lines never interleave.
                    let mut out = std::io::stdout().lock();
                    out.write_all(line.as_bytes()).unwrap();
                    out.flush().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// (round, thread, i) from `r<round>-t<t>-i<i>`.
fn parse_thread_name(name: &str) -> (usize, usize, u64) {
    let parts: Vec<u64> = name.split('-').map(|p| p[1..].parse().unwrap()).collect();
    (parts[0] as usize, parts[1] as usize, parts[2])
}

#[test]
fn killed_group_commit_loses_no_returned_submit() {
    let dir = TempDir::new("threads");
    let path = dir.join("queue.db");
    Queue::open(&path, Options::default()).unwrap().close();
    let mut printed: BTreeMap<i64, String> = BTreeMap::new();
    // Per (round, thread): how many submits were reported.
    let mut reported: BTreeMap<(usize, usize), u64> = BTreeMap::new();
    for round in 0..ROUNDS {
        let kill_after = [400, 150, 700][round];
        let (child, lines) = spawn_child("child_threaded_submitter", "threads", &path, round);
        let mut this_round = Vec::new();
        while this_round.len() < kill_after {
            this_round.push(lines.next_marked().expect("submitter ended early"));
        }
        thread::sleep(jitter());
        this_round.extend(kill(child, &lines));
        let mut stats = String::new();
        for line in &this_round {
            let f: Vec<&str> = line.split(' ').collect();
            if f[0] == "STATS" {
                stats = line.clone();
                continue;
            }
            assert_eq!((f.len(), f[0]), (3, "ID"), "{line:?}");
            let (r, t, i) = parse_thread_name(f[2]);
            assert_eq!(r, round);
            let next = reported.entry((r, t)).or_default();
            assert_eq!(i, *next, "thread {t}: lines in submit order");
            *next += 1;
            assert!(
                printed
                    .insert(f[1].parse().unwrap(), f[2].to_owned())
                    .is_none()
            );
        }
        let (queue, rows) = reopen_and_check(&path, Options::default());
        for (&id, name) in &printed {
            let op = queue.retrieve(id).unwrap();
            assert_eq!(&op.name, name, "op {id}: a submit that returned is missing");
        }
        // Per thread at most one committed submit went unreported (killed between
        // its commit and its print), and it is that thread's next one.
        let mut unreported: BTreeMap<(usize, usize), Vec<u64>> = BTreeMap::new();
        for row in rows.iter().filter(|r| !printed.contains_key(&r.id)) {
            let (r, t, i) = parse_thread_name(&row.name);
            unreported.entry((r, t)).or_default().push(i);
        }
        for (key, items) in &unreported {
            assert_eq!(
                items,
                &[reported.get(key).copied().unwrap_or(0)],
                "round {} thread {}",
                key.0,
                key.1
            );
        }
        eprintln!(
            "threaded submitter round {round}: {} submits reported, {} rows; last {stats}",
            printed.len(),
            rows.len()
        );
        queue.close();
    }
}

// ---------------------------------------------------------------------------
// Batches (submit_many)
// ---------------------------------------------------------------------------

/// The size of batch `b`: 1 to 16.
fn batch_size(b: u64) -> u64 {
    1 + (b * 7) % 16
}

/// Entry point of the process spawned by `killed_batch_submitter_loses_no_returned_batch`.
/// In a normal test run (no `ASYNCOP_TEST_CHILD=batcher`) it returns at once.
/// Submits batch b of `r<round>-b<b>-j<j>-n<n>` (j < n) with `submit_many` for
/// b = 0, 1, … and prints `@@BATCH <b> <id,id,…>` after each returned Ok.
#[test]
fn child_batch_submitter() {
    if std::env::var(CHILD_ENV).as_deref() != Ok("batcher") {
        return;
    }
    let queue = Queue::open(child_env(PATH_ENV), Options::default()).unwrap();
    let round = child_env(ROUND_ENV);
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let mut out = std::io::stdout();
    for b in 0u64.. {
        assert!(Instant::now() < deadline, "batch submitter was not killed");
        let n = batch_size(b);
        let specs: Vec<OperationSpec> = (0..n)
            .map(|j| {
                let name = format!("r{round}-b{b}-j{j}-n{n}");
                OperationSpec::new(&name, 2).data(payload(&name))
            })
            .collect();
        let ids = queue.submit_many(&specs).unwrap();
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        writeln!(out, "@@BATCH {b} {}", ids.join(",")).unwrap();
        out.flush().unwrap();
    }
}

/// (round, batch, j, n) from `r<round>-b<b>-j<j>-n<n>`.
fn parse_batch_name(name: &str) -> (u64, u64, u64, u64) {
    let parts: Vec<u64> = name
        .split('-')
        .map(|p| {
            p[1..]
                .parse()
                .unwrap_or_else(|_| panic!("bad name {name:?}"))
        })
        .collect();
    assert_eq!(parts.len(), 4, "bad name {name:?}");
    (parts[0], parts[1], parts[2], parts[3])
}

#[test]
fn killed_batch_submitter_loses_no_returned_batch() {
    let dir = TempDir::new("batch");
    let path = dir.join("queue.db");
    Queue::open(&path, Options::default()).unwrap().close();
    // id → name of every operation of every batch the child reported.
    let mut printed: BTreeMap<i64, String> = BTreeMap::new();
    // Batches reported per round.
    let mut reported: Vec<u64> = Vec::new();
    for round in 0..ROUNDS {
        let kill_after = [40, 12, 70][round];
        let (child, lines) = spawn_child("child_batch_submitter", "batcher", &path, round);
        let mut this_round = Vec::new();
        while this_round.len() < kill_after {
            this_round.push(lines.next_marked().expect("batch submitter ended early"));
        }
        thread::sleep(jitter());
        this_round.extend(kill(child, &lines));

        let mut previous = printed.keys().next_back().copied().unwrap_or(0);
        for (b, line) in this_round.iter().enumerate() {
            let b = b as u64;
            let f: Vec<&str> = line.split(' ').collect();
            assert_eq!(f.len(), 3, "{line:?}");
            assert_eq!(
                (f[0], f[1]),
                ("BATCH", b.to_string().as_str()),
                "batch order"
            );
            let ids: Vec<i64> = f[2].split(',').map(|s| s.parse().unwrap()).collect();
            let n = batch_size(b);
            assert_eq!(ids.len() as u64, n, "{line:?}");
            // Ids are in `specs` order (§5: strictly increasing).
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "{line:?}");
            assert!(ids[0] > previous, "{line:?} after id {previous}");
            previous = ids[n as usize - 1];
            for (j, id) in ids.into_iter().enumerate() {
                let name = format!("r{round}-b{b}-j{j}-n{n}");
                assert!(printed.insert(id, name).is_none(), "{line:?}");
            }
        }

        let (queue, rows) = reopen_and_check(&path, Options::default());
        for (&id, name) in &printed {
            let op = queue.retrieve(id).unwrap();
            assert_eq!(&op.name, name, "op {id}");
            assert!(op.data == payload(name), "torn data: {}", summary(&op));
        }
        // All or none: every batch in the file is whole, reported or not.
        let mut batches: BTreeMap<(u64, u64), BTreeSet<u64>> = BTreeMap::new();
        for row in &rows {
            let (r, b, j, n) = parse_batch_name(&row.name);
            assert!(j < n, "{}", row.name);
            batches.entry((r, b)).or_default().insert(j);
        }
        for (&(r, b), members) in &batches {
            assert_eq!(
                members.len() as u64,
                batch_size(b),
                "batch {b} of round {r} is partly in the file: {members:?}"
            );
        }
        // Per round, at most one committed batch went unreported (the kill came
        // between commit and print), and it is the next one in order.
        reported.push(this_round.len() as u64);
        let mut unreported: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
        for row in rows.iter().filter(|r| !printed.contains_key(&r.id)) {
            let (r, b, _, _) = parse_batch_name(&row.name);
            unreported.entry(r).or_default().insert(b);
        }
        for (&r, unreported_batches) in &unreported {
            assert_eq!(
                unreported_batches,
                &BTreeSet::from([reported[r as usize]]),
                "round {r}"
            );
        }
        eprintln!(
            "batch submitter round {round}: {} batches reported, {} rows in the file",
            this_round.len(),
            rows.len()
        );
        queue.close();
    }
}

// ---------------------------------------------------------------------------
// Poll + complete
// ---------------------------------------------------------------------------

/// Entry point of the process spawned by `killed_completer_loses_no_operation`.
/// In a normal test run (no `ASYNCOP_TEST_CHILD=completer`) it returns at once.
/// Claims batches of 1 to 3 (lease 1 s) and completes them, printing
/// `@@CLAIM <id> <token>` after each claim and `@@DONE <id> <token>` after each
/// complete returned Ok, until it is killed.
#[test]
fn child_completer() {
    if std::env::var(CHILD_ENV).as_deref() != Ok("completer") {
        return;
    }
    let queue = Queue::open(
        child_env(PATH_ENV),
        Options {
            lease: COMPLETER_LEASE,
            ..Default::default()
        },
    )
    .unwrap();
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let mut out = std::io::stdout();
    for round in 0u32.. {
        assert!(Instant::now() < deadline, "completer was not killed");
        let options = PollOptions::default()
            .max(round % 3 + 1)
            .wait(Duration::from_millis(100));
        let leases = queue.poll("completer", &options).unwrap();
        for lease in &leases {
            writeln!(out, "@@CLAIM {} {}", lease.id, lease.lock_token).unwrap();
        }
        out.flush().unwrap();
        for lease in &leases {
            assert_eq!(queue.complete(lease.key()).unwrap(), Status::Succeeded);
            writeln!(out, "@@DONE {} {}", lease.id, lease.lock_token).unwrap();
            out.flush().unwrap();
        }
    }
}

#[test]
fn killed_completer_loses_no_operation() {
    const PER_ROUND: usize = 150;
    let dir = TempDir::new("complete");
    let path = dir.join("queue.db");
    let mut all_ids: Vec<i64> = Vec::new();
    // Ops whose claim a kill interrupted, over all rounds.
    let mut interrupted: BTreeSet<i64> = BTreeSet::new();
    for round in 0..ROUNDS {
        {
            let queue = Queue::open(&path, Options::default()).unwrap();
            let specs: Vec<OperationSpec> = (0..PER_ROUND)
                .map(|i| {
                    let name = format!("c{round}-{i}");
                    OperationSpec::new(&name, 3).data(payload(&name))
                })
                .collect();
            all_ids.extend(queue.submit_many(&specs).unwrap());
            queue.close();
        }
        let kill_after = [70, 25, 110][round];
        let (child, lines) = spawn_child("child_completer", "completer", &path, round);
        let mut seen = Vec::new();
        let mut done_lines = 0;
        while done_lines < kill_after {
            let line = lines.next_marked().expect("completer ended early");
            done_lines += usize::from(line.starts_with("DONE"));
            seen.push(line);
        }
        thread::sleep(jitter());
        seen.extend(kill(child, &lines));
        let killed_at = SystemClock.now_ms();

        let mut claimed: BTreeMap<i64, i64> = BTreeMap::new();
        let mut done: BTreeSet<i64> = BTreeSet::new();
        for line in &seen {
            let f: Vec<&str> = line.split(' ').collect();
            assert_eq!(f.len(), 3, "{line:?}");
            let (id, token): (i64, i64) = (f[1].parse().unwrap(), f[2].parse().unwrap());
            match f[0] {
                "CLAIM" => assert!(claimed.insert(id, token).is_none(), "{line:?}"),
                "DONE" => {
                    assert_eq!(claimed.get(&id), Some(&token), "{line:?}");
                    assert!(done.insert(id), "{line:?}");
                }
                _ => panic!("bad line {line:?}"),
            }
        }

        // This handle drains the rest below, with the default 30 s lease: its own
        // claims cannot expire while it works.
        let (queue, rows) = reopen_and_check(&path, Options::default());
        // No operation lost: every submitted id is still there, nothing else is.
        assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), all_ids);
        // Claims the kill left Locked, and ops completed after their last print.
        let mut locked = BTreeSet::new();
        let mut completed_unreported = BTreeSet::new();
        for row in &rows {
            let row_round: usize = row.name[1..].split('-').next().unwrap().parse().unwrap();
            let state = (row.state, row.status);
            if row_round < round || done.contains(&row.id) {
                assert_eq!(
                    state,
                    (State::Completed, Status::Succeeded),
                    "{}",
                    summary(row)
                );
                continue;
            }
            match state {
                (State::Ready, Status::WaitingForResources) => {
                    assert_eq!(row.lock_token, 0, "{}", summary(row));
                }
                (State::Locked, Status::InProgress) => {
                    // Its lease runs out by itself.
                    assert_eq!(row.host_id.as_deref(), Some("completer"));
                    assert!(row.lease_expires_at.unwrap() <= killed_at + 1000);
                    locked.insert(row.id);
                }
                (State::Completed, Status::Succeeded) => {
                    assert!(claimed.contains_key(&row.id), "{}", summary(row));
                    completed_unreported.insert(row.id);
                }
                other => panic!("{other:?} after the kill: {}", summary(row)),
            }
        }
        // One complete at a time: at most one committed without its print.
        assert!(completed_unreported.len() <= 1, "{completed_unreported:?}");
        interrupted.extend(&locked);
        // Everything the completer reported claimed but not done is still held by
        // it, or was completed just before the kill.
        for &id in claimed.keys().filter(|id| !done.contains(id)) {
            assert!(
                locked.contains(&id) || completed_unreported.contains(&id),
                "claimed op {id} is neither Locked nor Completed"
            );
        }

        // Drain the rest here: the killed claims come back after their lease (§6.4).
        let deadline = Instant::now() + Duration::from_secs(30);
        while queue
            .counts()
            .unwrap()
            .iter()
            .any(|c| c.state != State::Completed)
        {
            assert!(Instant::now() < deadline, "operations did not come back");
            let options = PollOptions::default()
                .max(50)
                .wait(Duration::from_millis(200));
            for lease in queue.poll("drainer", &options).unwrap() {
                assert_eq!(queue.complete(lease.key()).unwrap(), Status::Succeeded);
            }
        }
        let rows = queue.query(&Filter::default()).unwrap();
        assert_eq!(rows.len(), all_ids.len());
        for row in &rows {
            assert_eq!(
                (row.state, row.status),
                (State::Completed, Status::Succeeded)
            );
            if interrupted.contains(&row.id) {
                // Claimed again once the killed claim's lease expired: one attempt lost.
                assert_eq!(
                    (row.lock_token, row.retry_count),
                    (2, 1),
                    "{}",
                    summary(row)
                );
            } else {
                assert_eq!(
                    (row.lock_token, row.retry_count),
                    (1, 0),
                    "{}",
                    summary(row)
                );
            }
        }
        eprintln!(
            "completer round {round}: {} done, {} Locked and {} completed unreported at the kill",
            done.len(),
            locked.len(),
            completed_unreported.len()
        );
        queue.close();
    }
}
