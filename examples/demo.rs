//! The asyncop demo: `cargo run --release --example demo`.
//!
//! One queue file, several hosts, one user, every operation accounted for:
//!
//! * A fresh queue file is created in the temp directory (its path is printed; pass
//!   `--keep` to keep it for inspection, e.g. with `sqlite3`).
//! * 400 operations ("system jobs") are submitted in batches with `submit_many`:
//!   `send-email` (type 100, some postponed by 2 s at submit, some failing once with a
//!   retryable error), `resize-image` (101, a few failing for good), `sync-crm` (102,
//!   one dependency token per customer, so each customer's jobs run one at a time in
//!   creation order) and the platform type 9 "SQM Data Collection", which is restricted:
//!   users cannot cancel or pause it.
//! * Four hosts run them: three threads of this process and one separate worker
//!   process (this same program, started again with `--worker <file> <host-id>`).
//!   A host claims jobs with `poll`, renews its lease at every safe point of its work,
//!   and stops at that point when the renewal says Pausing (`acknowledge_pause`) or
//!   Canceling (`acknowledge_cancel`). Retryable failures come back after a short
//!   back-off (200 ms, doubling, capped at 1 s, set in the file for every host).
//! * Meanwhile the main thread acts as a user: it pauses, cancels and postpones running
//!   (Locked) and queued (Ready) jobs, shows that the restricted type refuses Cancel and
//!   Pause with Dynamics' HRESULTs, and later resumes what it paused.
//! * When every job is Completed (within 60 s, or the demo fails), it stops the hosts
//!   and prints the "System Jobs" table: counts per state/status and operation type,
//!   whose total must equal the number submitted, and what each host processed.
//!   The exit code is non-zero if any job is unaccounted for or any host call failed.

use asyncop::error::TYPE_NOT_RECOGNIZED_HRESULT;
use asyncop::{
    Error, Filter, Lease, Operation, OperationSpec, Options, PollOptions, Queue, Report, State,
    Status,
};
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const SEND_EMAIL: i32 = 100;
const RESIZE_IMAGE: i32 = 101;
const SYNC_CRM: i32 = 102;
/// A restricted platform type (§9 of the operation model): no Cancel, no Pause.
const SQM: i32 = 9;
const TYPES: [(i32, &str); 4] = [
    (SEND_EMAIL, "send-email"),
    (RESIZE_IMAGE, "resize-image"),
    (SYNC_CRM, "sync-crm"),
    (SQM, "SQM(9)"),
];

const THREAD_HOSTS: usize = 3;
const TIME_LIMIT: Duration = Duration::from_secs(60);
/// HRESULT_FROM_WIN32(ERROR_TIMEOUT): the mail server did not answer in time.
const E_TIMEOUT: i32 = 0x8007_05B4_u32 as i32;
/// HRESULT_FROM_WIN32(ERROR_INVALID_DATA): the image cannot be decoded.
const E_INVALID_DATA: i32 = 0x8007_000D_u32 as i32;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--worker") if args.len() == 3 => worker_process(Path::new(&args[1]), &args[2]),
        None | Some("--keep") if args.len() <= 1 => demo(!args.is_empty()),
        _ => Err("usage: demo [--keep] | demo --worker <queue-file> <host-id>".into()),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("demo: {e}");
            ExitCode::FAILURE
        }
    }
}

type DemoResult<T> = Result<T, Box<dyn std::error::Error>>;

fn type_name(operation_type: i32) -> &'static str {
    TYPES
        .iter()
        .find(|(t, _)| *t == operation_type)
        .map_or("?", |(_, name)| name)
}

/// An error as a user sees it: HRESULT (where Dynamics has one), name and message.
fn describe(e: &Error) -> String {
    match e.hresult() {
        Some(h) => format!("0x{:08X} {}: {e}", h as u32, e.name()),
        None => format!("{}: {e}", e.name()),
    }
}

fn label(state: State, status: Status) -> String {
    format!("{state}/{status}")
}

// ---------------------------------------------------------------------------
// Hosts: the same loop runs in the threads and in the worker process.
// ---------------------------------------------------------------------------

/// What one host did. `runs` counts claims (attempts); the others count how the
/// attempts ended, as the host call that ended them reported.
#[derive(Debug, Default, Clone, Copy)]
struct HostStats {
    runs: u64,
    succeeded: u64,
    retried: u64,
    failed: u64,
    paused: u64,
    canceled: u64,
    errors: u64,
}

impl HostStats {
    const FIELDS: [&'static str; 7] = [
        "runs",
        "succeeded",
        "retried",
        "failed",
        "paused",
        "canceled",
        "errors",
    ];

    fn values(&self) -> [u64; 7] {
        [
            self.runs,
            self.succeeded,
            self.retried,
            self.failed,
            self.paused,
            self.canceled,
            self.errors,
        ]
    }

    fn add(&mut self, other: &HostStats) {
        self.runs += other.runs;
        self.succeeded += other.succeeded;
        self.retried += other.retried;
        self.failed += other.failed;
        self.paused += other.paused;
        self.canceled += other.canceled;
        self.errors += other.errors;
    }

    /// Counts the status an outcome call returned. A Cancel that arrives between the
    /// host's last renewal and its report turns a retry or a pause into 3/32 (§3.2).
    fn record(&mut self, status: Status, waiting_means_paused: bool) {
        match status {
            Status::Succeeded => self.succeeded += 1,
            Status::Failed => self.failed += 1,
            Status::Canceled => self.canceled += 1,
            Status::Waiting if waiting_means_paused => self.paused += 1,
            _ => self.retried += 1,
        }
    }

    /// One line the worker process prints for its parent: `stats runs=3 succeeded=2 ...`.
    fn to_line(self) -> String {
        let mut line = String::from("stats");
        for (name, value) in Self::FIELDS.iter().zip(self.values()) {
            line.push_str(&format!(" {name}={value}"));
        }
        line
    }

    fn parse(line: &str) -> Option<HostStats> {
        let mut values = [0u64; 7];
        let mut parts = line.split_whitespace();
        if parts.next() != Some("stats") {
            return None;
        }
        for (slot, part) in values.iter_mut().zip(parts) {
            *slot = part.split_once('=')?.1.parse().ok()?;
        }
        let [runs, succeeded, retried, failed, paused, canceled, errors] = values;
        Some(HostStats {
            runs,
            succeeded,
            retried,
            failed,
            paused,
            canceled,
            errors,
        })
    }
}

/// Claims jobs until `stop` is set; runs each claimed job to its end.
fn worker_loop(q: &Queue, host: &str, stop: &AtomicBool) -> HostStats {
    // Up to two jobs per claim; with nothing to do, wait up to 100 ms for work. A
    // submit or resume wakes the wait at once (in another process within ~10 ms).
    let poll = PollOptions::default()
        .max(2)
        .wait(Duration::from_millis(100));
    let mut stats = HostStats::default();
    while !stop.load(Ordering::SeqCst) {
        match q.poll(host, &poll) {
            Ok(leases) => {
                for lease in &leases {
                    stats.runs += 1;
                    if let Err(e) = run_job(q, lease, &mut stats) {
                        stats.errors += 1;
                        eprintln!("{host}: job #{}: {}", lease.id, describe(&e));
                    }
                }
            }
            Err(e) => {
                stats.errors += 1;
                eprintln!("{host}: poll: {}", describe(&e));
                thread::sleep(Duration::from_millis(100));
            }
        }
    }
    stats
}

/// The handlers. Each works in a few steps; the end of a step is a safe point where
/// the host renews its lease and learns whether a user asked it to stop.
fn run_job(q: &Queue, lease: &Lease, stats: &mut HostStats) -> Result<(), Error> {
    let key = lease.key();
    let (steps, step_ms) = match lease.operation_type {
        SEND_EMAIL => (2, 6),
        RESIZE_IMAGE => (4, 10),
        SYNC_CRM => (2, 8),
        SQM => (8, 40),
        _ => {
            let report = Report::error(TYPE_NOT_RECOGNIZED_HRESULT, "no handler for this type");
            stats.record(q.fail(key, report)?, false);
            return Ok(());
        }
    };
    for _ in 0..steps {
        thread::sleep(Duration::from_millis(step_ms + lease.id as u64 % 5));
        // A real host renews once per renewal period (10 s by default); these jobs
        // are short, so the demo renews at every step, which also lets it notice a
        // Pause or Cancel within milliseconds.
        match q.renew(key)? {
            Status::Pausing => {
                stats.record(q.acknowledge_pause(key)?, true);
                return Ok(());
            }
            Status::Canceling => {
                stats.record(q.acknowledge_cancel(key)?, false);
                return Ok(());
            }
            _ => {}
        }
    }
    let status = match lease.data.as_slice() {
        b"flaky" if lease.attempt == 1 => q.retry(
            key,
            Report::error(E_TIMEOUT, "421 mail server busy; try again later"),
        )?,
        b"corrupt" => q.fail(
            key,
            Report::error(E_INVALID_DATA, "image header is corrupt"),
        )?,
        _ => q.complete(key)?,
    };
    stats.record(status, false);
    Ok(())
}

/// `demo --worker <file> <host-id>`: a host in its own process. It runs until its
/// stdin closes (the parent's way to stop it), then prints its stats line.
fn worker_process(path: &Path, host: &str) -> DemoResult<bool> {
    // Queue-wide settings (the back-off) are read from the file the parent set up.
    let q = Queue::open(path, Options::default())?;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            stop.store(true, Ordering::SeqCst);
        });
    }
    let stats = worker_loop(&q, host, &stop);
    q.close();
    println!("{}", stats.to_line());
    Ok(stats.errors == 0)
}

// ---------------------------------------------------------------------------
// The demo: submitter, user and report.
// ---------------------------------------------------------------------------

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

/// The 400 jobs, interleaved so that every type runs from the start.
fn jobs(now: i64) -> Vec<OperationSpec> {
    let mut specs = Vec::new();
    for i in 0..130 {
        let image = OperationSpec::new(format!("resize photo {i}"), RESIZE_IMAGE);
        specs.push(if i % 33 == 7 {
            image.data("corrupt")
        } else {
            image.data("ok")
        });
        let email = OperationSpec::new(format!("welcome mail {i}"), SEND_EMAIL);
        specs.push(if i % 13 == 5 {
            email.data("flaky")
        } else {
            email.data("ok")
        });
        if i < 100 {
            let customer = i % 10;
            specs.push(
                OperationSpec::new(format!("sync customer {customer} #{}", i / 10), SYNC_CRM)
                    .dependency_token(format!("customer-{customer}"))
                    .data("ok"),
            );
        }
        if i % 13 == 0 {
            specs.push(OperationSpec::new("SQM Data Collection", SQM).data("ok"));
        }
    }
    for i in 0..30 {
        specs.push(
            OperationSpec::new(format!("weekly digest {i}"), SEND_EMAIL)
                .postpone_until(now + 2_000)
                .data("ok"),
        );
    }
    specs
}

fn spawn_worker_process(path: &Path, host: &str) -> DemoResult<Child> {
    Ok(Command::new(std::env::current_exe()?)
        .arg("--worker")
        .arg(path)
        .arg(host)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?)
}

/// A refusal that only means the job moved on (finished, was claimed, or was
/// promoted) between the query and the action.
fn is_race(e: &Error) -> bool {
    matches!(
        e,
        Error::InvalidStateChange(_)
            | Error::InvalidStateChangeUnexpected
            | Error::InvalidStateChangeToReady(_)
            | Error::InvalidStateChangeToSuspended(_)
    )
}

/// Applies `action` to jobs currently in `state` (oldest first, never the restricted
/// type, never a job in `touched`) until it succeeded for `n` of them, re-reading the
/// queue for up to 2 s. Jobs that moved on in the meantime are skipped.
fn act_on(
    q: &Queue,
    state: State,
    n: usize,
    touched: &mut HashSet<i64>,
    action: impl Fn(i64) -> Result<(), Error>,
) -> DemoResult<Vec<i64>> {
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut done = Vec::new();
    while done.len() < n && Instant::now() < deadline {
        let ops = q.query(&Filter {
            state: Some(state),
            ..Filter::default()
        })?;
        for op in ops {
            if done.len() == n {
                break;
            }
            if op.operation_type == SQM || touched.contains(&op.id) {
                continue;
            }
            match action(op.id) {
                Ok(()) => {
                    touched.insert(op.id);
                    done.push(op.id);
                }
                Err(e) if is_race(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if done.len() < n {
            thread::sleep(Duration::from_millis(10));
        }
    }
    Ok(done)
}

fn ids(list: &[i64]) -> String {
    list.iter()
        .map(|id| format!("#{id}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// "2 Suspended/Waiting, 1 Completed/Succeeded" for the given jobs, as stored now.
fn states_of(q: &Queue, list: &[i64]) -> DemoResult<String> {
    let mut by: BTreeMap<(State, Status), usize> = BTreeMap::new();
    for &id in list {
        let op = q.retrieve(id)?;
        *by.entry((op.state, op.status)).or_insert(0) += 1;
    }
    Ok(by
        .iter()
        .map(|((state, status), n)| format!("{n} {}", label(*state, *status)))
        .collect::<Vec<_>>()
        .join(", "))
}

/// Waits (up to `limit`) until none of `list` is Locked: their hosts acknowledged.
fn wait_unlocked(q: &Queue, list: &[i64], limit: Duration) -> DemoResult<()> {
    let deadline = Instant::now() + limit;
    for &id in list {
        while q.retrieve(id)?.state == State::Locked && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
    }
    Ok(())
}

/// The user's part: acts on running and queued jobs while the hosts work.
/// Returns the ids it paused (to resume them later).
fn play_user(q: &Queue) -> DemoResult<Vec<i64>> {
    let mut touched = HashSet::new();

    let later = || q.now() + 1_500;
    let show = |what: String, list: &[i64]| -> DemoResult<()> {
        println!("user: {what:<44} -> {}", states_of(q, list)?);
        Ok(())
    };
    let paused = act_on(q, State::Locked, 3, &mut touched, |id| q.pause(id))?;
    show(format!("pause {} (running)", ids(&paused)), &paused)?;
    let canceled_running = act_on(q, State::Locked, 2, &mut touched, |id| q.cancel(id))?;
    show(
        format!("cancel {} (running)", ids(&canceled_running)),
        &canceled_running,
    )?;
    let postponed_running = act_on(q, State::Locked, 2, &mut touched, |id| {
        q.postpone(id, later())
    })?;
    show(
        format!("postpone {} (running) by 1.5 s", ids(&postponed_running)),
        &postponed_running,
    )?;
    let canceled_queued = act_on(q, State::Ready, 3, &mut touched, |id| q.cancel(id))?;
    show(
        format!("cancel {} (queued)", ids(&canceled_queued)),
        &canceled_queued,
    )?;
    let postponed_queued = act_on(q, State::Ready, 3, &mut touched, |id| {
        q.postpone(id, later())
    })?;
    show(
        format!("postpone {} (queued) by 1.5 s", ids(&postponed_queued)),
        &postponed_queued,
    )?;

    // Pausing and Canceling are requests: each host stops at its next safe point.
    let requested: Vec<i64> = [&paused, &canceled_running, &postponed_running]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    wait_unlocked(q, &requested, Duration::from_secs(5))?;
    println!("      at the hosts' next safe point:");
    show(format!("  paused {}", ids(&paused)), &paused)?;
    show(
        format!("  canceled {}", ids(&canceled_running)),
        &canceled_running,
    )?;
    show(
        format!("  postponed {}", ids(&postponed_running)),
        &postponed_running,
    )?;

    // The restricted platform type refuses Cancel and Pause in any state.
    let sqm = q
        .query(&Filter {
            operation_type: Some(SQM),
            ..Filter::default()
        })?
        .into_iter()
        .min_by_key(|op| (op.state != State::Locked, op.id))
        .ok_or("no SQM job")?;
    let at = label(sqm.state, sqm.status);
    for (what, result) in [("cancel", q.cancel(sqm.id)), ("pause", q.pause(sqm.id))] {
        match result {
            Err(e) => println!(
                "user: {what} #{} (SQM Data Collection, {at}): {}",
                sqm.id,
                describe(&e)
            ),
            Ok(()) => {
                return Err(format!("{what} of restricted job #{} was accepted", sqm.id).into());
            }
        }
    }
    Ok(paused)
}

fn demo(keep: bool) -> DemoResult<bool> {
    let started = Instant::now();
    let path: PathBuf =
        std::env::temp_dir().join(format!("asyncop-demo-{}.db", std::process::id()));
    remove_db(&path);
    println!("queue file: {}", path.display());
    // Queue-wide settings go into the file: every host, in every process, uses them.
    let q = Queue::open(
        &path,
        Options {
            backoff_base: Some(Duration::from_millis(200)),
            backoff_cap: Some(Duration::from_secs(1)),
            ..Options::default()
        },
    )?;

    // Hosts: threads of this process, and one worker process on the same file.
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (1..=THREAD_HOSTS)
        .map(|n| {
            let (q, stop) = (q.clone(), Arc::clone(&stop));
            let host = format!("thread-{n}");
            thread::spawn(move || (host.clone(), worker_loop(&q, &host, &stop)))
        })
        .collect();
    let process_host = "process-1";
    let mut child = spawn_worker_process(&path, process_host)?;
    println!(
        "hosts: {} threads (thread-1..{}) and worker process {process_host} (pid {}), all polling",
        THREAD_HOSTS,
        THREAD_HOSTS,
        child.id()
    );

    // Submit in batches, all or nothing per batch.
    let specs = jobs(q.now());
    let mut submitted = Vec::new();
    for batch in specs.chunks(100) {
        submitted.extend(q.submit_many(batch)?);
    }
    let count = |t: i32| specs.iter().filter(|s| s.operation_type == t).count();
    let with = |data: &[u8]| specs.iter().filter(|s| s.data == data).count();
    let postponed = specs.iter().filter(|s| s.postpone_until.is_some()).count();
    println!(
        "submitted {} jobs in {} batches: {} send-email ({postponed} postponed 2 s, {} fail once), \
         {} resize-image ({} corrupt),",
        submitted.len(),
        specs.len().div_ceil(100),
        count(SEND_EMAIL),
        with(b"flaky"),
        count(RESIZE_IMAGE),
        with(b"corrupt"),
    );
    println!(
        "    {} sync-crm (10 customers, one dependency token each), {} SQM Data Collection (restricted)",
        count(SYNC_CRM),
        count(SQM)
    );

    thread::sleep(Duration::from_millis(300));
    let paused = play_user(&q)?;

    // After a while, resume what was paused.
    thread::sleep(Duration::from_millis(1_000));
    let mut resumed = Vec::new();
    for &id in &paused {
        match q.resume(id) {
            Ok(()) => resumed.push(id),
            // It finished before it reached a safe point: nothing to resume.
            Err(Error::InvalidStateChangeToReady(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    println!(
        "user: {:<44} -> {}",
        format!("resume {}", ids(&resumed)),
        states_of(&q, &resumed)?
    );

    // Wait until every job is Completed.
    let mut all_done = false;
    while started.elapsed() < TIME_LIMIT {
        let open: i64 = q
            .counts()?
            .iter()
            .filter(|r| r.state != State::Completed)
            .map(|r| r.count)
            .sum();
        if open == 0 {
            all_done = true;
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    let drained = started.elapsed();

    // Stop the hosts: a flag for the threads, end of stdin for the process.
    stop.store(true, Ordering::SeqCst);
    let mut hosts: Vec<(String, HostStats)> = threads
        .into_iter()
        .map(|t| t.join().map_err(|_| "a host thread panicked"))
        .collect::<Result<_, _>>()?;
    drop(child.stdin.take());
    let mut out = String::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            out.push_str(&line?);
        }
    }
    let child_ok = child.wait()?.success();
    let child_stats = HostStats::parse(&out);
    hosts.push((
        format!("{process_host} (pid {})", child.id()),
        child_stats.unwrap_or_default(),
    ));

    let mut ok = true;
    if all_done {
        println!("all jobs Completed after {:.1} s", drained.as_secs_f64());
    } else {
        ok = false;
        println!("NOT DONE after {} s; still open:", TIME_LIMIT.as_secs());
        for op in q.query(&Filter::default())? {
            if op.state != State::Completed {
                println!(
                    "  #{} {} {} pu={:?} host={:?}",
                    op.id,
                    type_name(op.operation_type),
                    label(op.state, op.status),
                    op.postpone_until,
                    op.host_id
                );
            }
        }
    }
    if !child_ok || child_stats.is_none() {
        ok = false;
        println!("worker process failed (exit ok: {child_ok}, stats: {out:?})");
    }

    ok &= print_table(&q, &submitted, &hosts)?;
    q.close();
    if keep {
        println!("queue file kept: {}", path.display());
    } else {
        remove_db(&path);
    }
    println!(
        "{} in {:.1} s",
        if ok { "OK" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    Ok(ok)
}

/// Prints the System Jobs table and the hosts' tallies; checks that every submitted
/// job is in the file, Completed, and counted once. Returns whether all checks held.
fn print_table(q: &Queue, submitted: &[i64], hosts: &[(String, HostStats)]) -> DemoResult<bool> {
    let mut ok = true;
    let counts = q.counts()?;
    let mut rows: BTreeMap<(State, Status), BTreeMap<i32, i64>> = BTreeMap::new();
    for r in &counts {
        *rows
            .entry((r.state, r.status))
            .or_default()
            .entry(r.operation_type)
            .or_insert(0) += r.count;
    }
    println!();
    println!("System Jobs");
    let mut header = format!("{:<22}", "State/Status");
    for (_, name) in TYPES {
        header.push_str(&format!("{name:>13}"));
    }
    header.push_str(&format!("{:>8}", "total"));
    println!("{header}");
    println!("{}", "-".repeat(header.len()));
    let mut column_totals: BTreeMap<i32, i64> = BTreeMap::new();
    for ((state, status), by_type) in &rows {
        let mut line = format!("{:<22}", label(*state, *status));
        for (t, _) in TYPES {
            line.push_str(&format!("{:>13}", by_type.get(&t).copied().unwrap_or(0)));
        }
        line.push_str(&format!("{:>8}", by_type.values().sum::<i64>()));
        println!("{line}");
        for (t, n) in by_type {
            *column_totals.entry(*t).or_insert(0) += n;
        }
    }
    println!("{}", "-".repeat(header.len()));
    let total: i64 = column_totals.values().sum();
    let mut line = format!("{:<22}", "total");
    for (t, _) in TYPES {
        line.push_str(&format!(
            "{:>13}",
            column_totals.get(&t).copied().unwrap_or(0)
        ));
    }
    line.push_str(&format!("{total:>8}"));
    println!("{line}");

    // Every submitted id is in the file and Completed; nothing else is there.
    let stored: Vec<Operation> = q.query(&Filter::default())?;
    let stored_ids: Vec<i64> = stored.iter().map(|op| op.id).collect();
    let open = stored
        .iter()
        .filter(|op| op.state != State::Completed)
        .count();
    let unknown_types = counts
        .iter()
        .filter(|r| TYPES.iter().all(|(t, _)| *t != r.operation_type))
        .count();
    if total == submitted.len() as i64 && stored_ids == submitted && open == 0 && unknown_types == 0
    {
        println!(
            "total {total} = {} submitted: every job accounted for, all Completed",
            submitted.len()
        );
    } else {
        ok = false;
        println!(
            "MISMATCH: total {total}, submitted {}, ids equal: {}, not Completed: {open}",
            submitted.len(),
            stored_ids == submitted
        );
    }

    println!();
    let mut header = format!("{:<24}", "host");
    for name in HostStats::FIELDS {
        header.push_str(&format!("{name:>10}"));
    }
    println!("{header}");
    let mut all = HostStats::default();
    for (name, stats) in hosts {
        let mut line = format!("{name:<24}");
        for v in stats.values() {
            line.push_str(&format!("{v:>10}"));
        }
        println!("{line}");
        all.add(stats);
    }
    let mut line = format!("{:<24}", "all hosts");
    for v in all.values() {
        line.push_str(&format!("{v:>10}"));
    }
    println!("{line}");

    // Only hosts produce Succeeded and Failed: their reports must match the table.
    let in_table = |status: Status| -> i64 {
        counts
            .iter()
            .filter(|r| r.status == status)
            .map(|r| r.count)
            .sum()
    };
    let (succeeded, failed) = (in_table(Status::Succeeded), in_table(Status::Failed));
    if all.succeeded as i64 == succeeded && all.failed as i64 == failed && all.errors == 0 {
        println!(
            "hosts reported {succeeded} successes and {failed} failures, as in the table; no host call failed"
        );
    } else {
        ok = false;
        println!(
            "MISMATCH: hosts reported {} successes / {} failures / {} errors; table has {succeeded} / {failed}",
            all.succeeded, all.failed, all.errors
        );
    }
    Ok(ok)
}
