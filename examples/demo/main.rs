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
//! * Then a second act on a queue file of its own (`lifecycle.rs`): a recurring job,
//!   a progress bar drawn from a running handler, a failed attempt kept in the attempt
//!   history, a Cancel reaching a running handler in this process and in another one
//!   (timed against the 50 ms and 250 ms bounds), and a whole type held and released.

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

mod hosts;
mod lifecycle;
mod table;
mod user;

use hosts::{HostStats, worker_loop, worker_process};
use std::time::{Duration, Instant};
use table::print_table;
use user::{ids, play_user, states_of};

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
        Some("--stop-worker") if args.len() == 3 => match args[2].parse() {
            Ok(rounds) => lifecycle::stop_worker(Path::new(&args[1]), rounds),
            Err(_) => Err("--stop-worker: rounds must be a number".into()),
        },
        None | Some("--keep") if args.len() <= 1 => demo(!args.is_empty()),
        _ => Err("usage: demo [--keep] | demo --worker <queue-file> <host-id> | demo --stop-worker <queue-file> <rounds>".into()),
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

    let second: PathBuf =
        std::env::temp_dir().join(format!("asyncop-demo-{}-lifecycle.db", std::process::id()));
    remove_db(&second);
    let act_ok = lifecycle::act(&second)?;
    if !act_ok {
        println!("the life-cycle act FAILED a check");
    }
    ok &= act_ok;
    if keep {
        println!("queue files kept: {} {}", path.display(), second.display());
    } else {
        remove_db(&path);
        remove_db(&second);
    }
    println!(
        "{} in {:.1} s",
        if ok { "OK" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    Ok(ok)
}
