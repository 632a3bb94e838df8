#![cfg(unix)]

//! SQLite store only: the writer queue across processes (the side lock
//! `<db>-lock`, src/store/sqlite/writer_lock.rs). Real processes (this test
//! binary run again as `child`, see `support::child`) drain one queue: every
//! operation is completed exactly once and every process finishes; a process
//! SIGKILLed while it holds the side lock (inside a write transaction) does not
//! stop the others: the kernel drops its lock and the waiter takes it. At
//! `Durability::Full` the processes share their WAL syncs (`wal_sync`): every
//! completion is still there, and no process synced more often than it
//! committed.
//!
//! No throughput is asserted: the benchmark (examples/drain_processes.rs) shows
//! the speed.

mod support;

use asyncop::store::sqlite::testing;
use asyncop::{Durability, OperationSpec, Options, PollOptions, Queue, SqliteOptions, Status};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::TempDir;
use support::child::{Children, Lines, env, is_role, spawn, test_name};

const PATH_ENV: &str = "ASYNCOP_TEST_QUEUE_PATH";
const HOST_ENV: &str = "ASYNCOP_TEST_HOST";
const FULL_ENV: &str = "ASYNCOP_TEST_FULL";
/// How long any child may take for any step.
const LIMIT: Duration = Duration::from_secs(60);

fn options() -> Options {
    options_at(Durability::Normal)
}

fn options_at(durability: Durability) -> Options {
    Options {
        sqlite: SqliteOptions {
            durability,
            ..SqliteOptions::default()
        },
        ..Options::default()
    }
}

fn spawn_child(children: &mut Children, role: &str, path: &Path, host: &str) -> Lines {
    spawn_child_at(children, role, path, host, Durability::Normal)
}

fn spawn_child_at(
    children: &mut Children,
    role: &str,
    path: &Path,
    host: &str,
    durability: Durability,
) -> Lines {
    let full = if durability == Durability::Full {
        "1"
    } else {
        "0"
    };
    let mut child = spawn(
        &test_name(module_path!(), "child"),
        role,
        &[
            (PATH_ENV, path.display().to_string()),
            (HOST_ENV, host.to_owned()),
            (FULL_ENV, full.to_owned()),
        ],
        Stdio::piped(),
    );
    let lines = Lines::new(child.stdout.take().unwrap());
    children.0.push((host.to_owned(), child));
    lines
}

/// The body of every child process; a no-op in a normal test run.
#[test]
fn child() {
    if is_role("drain") {
        drain_child();
    } else if is_role("hold") {
        hold_child();
    }
}

/// Drains the queue one claim at a time; prints the ids it completed, what
/// the side lock did and how many WAL syncs and transactions it made.
fn drain_child() {
    let durability = if env(FULL_ENV) == "1" {
        Durability::Full
    } else {
        Durability::Normal
    };
    let queue = Queue::open(env(PATH_ENV), options_at(durability)).unwrap();
    let host = env(HOST_ENV);
    println!("@@ready");
    let mut done = Vec::new();
    loop {
        let leases = queue.poll(&host, &PollOptions::default().max(1)).unwrap();
        if leases.is_empty() {
            break;
        }
        for lease in leases {
            assert_eq!(queue.complete(lease.key()).unwrap(), Status::Succeeded);
            done.push(lease.id);
        }
    }
    let stats = testing::writer_lock_stats(&queue).unwrap();
    let ids: Vec<String> = done.iter().map(i64::to_string).collect();
    println!("@@done {}", ids.join(","));
    println!("@@lock {} {}", stats.taken, stats.timed_out);
    let writer = testing::writer_stats(&queue).unwrap();
    println!(
        "@@writer {} {} {}",
        writer.wal_syncs, writer.synced_commits, writer.transactions
    );
    queue.close();
}

/// Holds a write transaction (and so the side lock) until killed.
fn hold_child() {
    let queue = Queue::open(env(PATH_ENV), options()).unwrap();
    testing::write(&queue, |_conn| -> asyncop::Result<()> {
        println!("@@holding");
        loop {
            std::thread::park();
        }
    })
    .unwrap();
}

#[test]
fn processes_draining_one_queue_complete_every_operation_exactly_once() {
    drain_in_processes(Durability::Normal);
}

#[test]
fn processes_draining_at_full_share_syncs_and_lose_nothing() {
    drain_in_processes(Durability::Full);
}

fn drain_in_processes(durability: Durability) {
    const PROCESSES: usize = 4;
    const OPERATIONS: usize = 400;
    let dir = TempDir::new("writer-queue-drain");
    let path = dir.file("queue.db");
    let queue = Queue::open(&path, options_at(durability)).unwrap();
    let ids = queue
        .submit_many(&vec![OperationSpec::new("job", 100); OPERATIONS])
        .unwrap();
    let mut children = Children::default();
    let lines: Vec<Lines> = (0..PROCESSES)
        .map(|i| spawn_child_at(&mut children, "drain", &path, &format!("p{i}"), durability))
        .collect();
    let mut completed: BTreeMap<i64, usize> = BTreeMap::new();
    let mut taken = 0;
    for l in &lines {
        assert_eq!(l.expect_marked(LIMIT), "ready");
    }
    for l in &lines {
        let done = l.expect_marked(LIMIT);
        let done = done.strip_prefix("done ").unwrap();
        for id in done.split(',').filter(|s| !s.is_empty()) {
            *completed.entry(id.parse().unwrap()).or_default() += 1;
        }
        let lock = l.expect_marked(LIMIT);
        let words: Vec<u64> = lock
            .strip_prefix("lock ")
            .unwrap()
            .split(' ')
            .map(|w| w.parse().unwrap())
            .collect();
        taken += words[0];
        assert_eq!(words[1], 0, "no writer gave up waiting for the side lock");
        let writer = l.expect_marked(LIMIT);
        let words: Vec<u64> = writer
            .strip_prefix("writer ")
            .unwrap()
            .split(' ')
            .map(|w| w.parse().unwrap())
            .collect();
        let (syncs, synced, transactions) = (words[0], words[1], words[2]);
        if durability == Durability::Full {
            assert_eq!(synced, transactions, "every commit was made durable");
            assert!(
                syncs <= synced,
                "a process syncs at most once per commit ({syncs} syncs, {synced} commits)"
            );
        } else {
            assert_eq!((syncs, synced), (0, 0), "NORMAL syncs nothing itself");
        }
    }
    let deadline = Instant::now() + LIMIT;
    for (name, child) in &mut children.0 {
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "{name} failed: {status}");
                break;
            }
            assert!(Instant::now() < deadline, "{name} is stuck");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    assert_eq!(
        completed.keys().copied().collect::<Vec<_>>(),
        ids,
        "every operation completed"
    );
    assert!(
        completed.values().all(|&n| n == 1),
        "none completed twice: {completed:?}"
    );
    // A claim and a completion per operation, plus the empty last claims
    // (a claim that finds nothing rolls back but still queued).
    assert!(
        taken >= 2 * OPERATIONS as u64,
        "the side lock was taken around the writes ({taken})"
    );
    for id in &ids {
        assert_eq!(queue.retrieve(*id).unwrap().status, Status::Succeeded);
    }
}

#[test]
fn a_process_killed_while_holding_the_side_lock_does_not_stop_the_others() {
    let dir = TempDir::new("writer-queue-kill");
    let path = dir.file("queue.db");
    let queue = Queue::open(&path, options()).unwrap();
    let mut children = Children::default();
    let lines = spawn_child(&mut children, "hold", &path, "holder");
    assert_eq!(lines.expect_marked(LIMIT), "holding");
    let writer = {
        let queue = queue.clone();
        std::thread::spawn(move || queue.submit(&OperationSpec::new("after", 100)))
    };
    // The submit waits in the side lock's queue, not in SQLite's busy handler.
    let deadline = Instant::now() + LIMIT;
    while testing::writer_lock_waiting(&path) != Some(1) {
        assert!(Instant::now() < deadline, "the submit never queued");
        std::thread::yield_now();
    }
    children.get("holder").kill().unwrap();
    children.get("holder").wait().unwrap();
    let id = writer.join().unwrap().unwrap();
    assert_eq!(
        queue.retrieve(id).unwrap().status,
        Status::WaitingForResources
    );
    let stats = testing::writer_lock_stats(&queue).unwrap();
    assert_eq!(
        (stats.waited, stats.timed_out),
        (1, 0),
        "the submit waited for the side lock and then got it: {stats:?}"
    );
    assert_eq!(testing::writer_lock_waiting(&path), Some(0));
}

#[test]
fn the_side_lock_file_has_the_database_permissions() {
    let dir = TempDir::new("writer-queue-mode");
    let path = dir.file("queue.db");
    let mut o = options();
    o.sqlite.file_mode = 0o640;
    let queue = Queue::open(&path, o).unwrap();
    queue.submit(&OperationSpec::new("x", 100)).unwrap();
    let mut lock = path.as_os_str().to_owned();
    lock.push("-lock");
    let meta = std::fs::metadata(&lock).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o640);
    assert_eq!(testing::writer_lock_stats(&queue).unwrap().taken, 1);
    // Readers never take it.
    queue.counts().unwrap();
    queue.retrieve(1).unwrap();
    assert_eq!(testing::writer_lock_stats(&queue).unwrap().taken, 1);
}
