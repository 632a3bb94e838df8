//! qoxide (crates.io `qoxide`, pinned in Cargo.toml) in one cell of asyncop's benchmark:
//! `--workload W1|W2|W3|W5 --durability FULL|NORMAL --ops N --dir DIR`, one JSON line out.
//!
//! qoxide's own settings: `journal_mode=WAL`, `busy_timeout=5000`, `synchronous` left at
//! SQLite's default (FULL). NORMAL is set on each of its connections by an auto-extension
//! (qoxide has no setting for it and keeps its connection private); both are read back.

#[path = "../../common/sqlite_probe.rs"]
mod sqlite_probe;

use peer_common::{
    Args, Completions, Durability, Report, Res, W3_WORKERS, Workload, header_journal, main_with,
    payload, synchronous_name,
};
use qoxide::QoxideQueue;
use rusqlite::{Connection, ErrorCode};
use std::path::Path;
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const IMPL: &str = "qoxide";

/// `reserve()` calls that failed with SQLITE_BUSY (W3: its deferred transaction reads, then
/// writes; a worker whose snapshot went stale gets "database is locked" at once) and were
/// tried again, as a real worker would.
static BUSY_RETRIES: AtomicU64 = AtomicU64::new(0);

/// `complete()` calls that waited out the 5 s busy timeout and were tried again.
static COMPLETE_BUSY_RETRIES: AtomicU64 = AtomicU64::new(0);

fn main() -> std::process::ExitCode {
    main_with(run)
}

fn open(path: &Path) -> Res<QoxideQueue> {
    let path = path.to_str().ok_or("database path is not UTF-8")?;
    Ok(QoxideQueue::builder().path(path).build()?)
}

fn is_busy(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
}

/// Reserve and complete until `reserve` finds nothing; returns how many this worker did.
fn drain(q: &mut QoxideQueue, done: &Completions) -> Res<usize> {
    let mut count = 0;
    loop {
        match q.reserve() {
            Ok((id, data)) => {
                done.record(&data)?;
                complete(q, id)?;
                count += 1;
            }
            Err(rusqlite::Error::QueryReturnedNoRows) => return Ok(count),
            Err(e) if is_busy(&e) => {
                BUSY_RETRIES.fetch_add(1, Ordering::Relaxed);
                thread::yield_now();
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// `complete(id)`, tried again after SQLITE_BUSY: its autocommit UPDATE waits in SQLite's
/// default busy handler (sleeps of up to 100 ms), under which one of 4 connections at FULL
/// can starve past qoxide's 5 s busy timeout; a real worker would try again (the UPDATE is
/// idempotent), as asyncop's raw-sql baseline does with its `BEGIN IMMEDIATE`.
fn complete(q: &QoxideQueue, id: i64) -> Res<()> {
    loop {
        match q.complete(id) {
            Ok(()) => return Ok(()),
            Err(e) if is_busy(&e) => {
                COMPLETE_BUSY_RETRIES.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// `n` jobs added one per call (qoxide has no batch add), at `synchronous=OFF` on the main
/// connection so that the untimed prefill is quick; the cell's level is put back after.
fn prefill(q: &mut QoxideQueue, n: usize) -> Res<()> {
    let level = sqlite_probe::synchronous_of(0)?;
    sqlite_probe::set_synchronous(0, 0)?;
    for i in 0..n {
        q.add(payload(i))?;
    }
    sqlite_probe::set_synchronous(0, level)
}

fn run(args: &Args) -> Res<Report> {
    if args.workload == Workload::W5 {
        return Ok(Report::not_applicable(
            args,
            IMPL,
            "qoxide has no batch API (reserve() takes one message, complete() finishes one)",
        ));
    }
    let level = match args.durability {
        Durability::Full => None,
        Durability::Normal => Some(1),
    };
    sqlite_probe::install(level)?;
    let path = args.fresh_db(IMPL)?;
    let n = args.ops;
    let mut q = open(&path)?;
    let done = Completions::new(n);
    let mut workers = Vec::new();
    let elapsed = match args.workload {
        Workload::W1 => {
            let started = Instant::now();
            for i in 0..n {
                q.add(payload(i))?;
            }
            started.elapsed()
        }
        Workload::W2 => {
            prefill(&mut q, n)?;
            let started = Instant::now();
            let count = drain(&mut q, &done)?;
            let elapsed = started.elapsed();
            if count != n {
                return Err(format!("drained {count} of {n}").into());
            }
            elapsed
        }
        Workload::W3 => {
            prefill(&mut q, n)?;
            let (elapsed, queues) = drain_threads(&path, &done)?;
            workers = queues;
            elapsed
        }
        Workload::W5 => unreachable!("returned above"),
    };
    // Read back while every connection is open: all must have the same level.
    let levels = sqlite_probe::synchronous_of_all()?;
    if levels.iter().any(|l| *l != levels[0]) {
        return Err(format!("connections disagree on synchronous: {levels:?}").into());
    }
    let size = q.size()?;
    let expected_done = if args.workload == Workload::W1 { 0 } else { n };
    if size.total != n || size.completed != expected_done || size.reserved != 0 || size.dead != 0 {
        return Err(format!("after the run qoxide reports {size:?} for {n} jobs").into());
    }
    if args.workload != Workload::W1 {
        done.check()?;
    }
    drop(workers);
    drop(q);
    let journal: String =
        Connection::open(&path)?.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    let header = header_journal(&path)?;
    if (journal == "wal") != (header == "wal") {
        return Err(format!("journal_mode {journal} but the file header says {header}").into());
    }
    let mut report = Report::measured(args, IMPL, elapsed);
    report.journal_mode = journal;
    report.synchronous = synchronous_name(levels[0]);
    report.note = format!(
        "SQLite {}; WAL and busy_timeout=5000 set by qoxide; synchronous {}; {}",
        sqlite_probe::sqlite_version(),
        match args.durability {
            Durability::Full => "left at SQLite's default as qoxide does",
            Durability::Normal => "set to NORMAL on each connection by an auto-extension",
        },
        match args.workload {
            Workload::W1 => "add() one per call".to_owned(),
            Workload::W3 => format!(
                "{W3_WORKERS} threads, a QoxideQueue (connection) each; reserve() retried after \
                 SQLITE_BUSY {} times, complete() after its 5 s busy timeout {} times",
                BUSY_RETRIES.load(Ordering::Relaxed),
                COMPLETE_BUSY_RETRIES.load(Ordering::Relaxed)
            ),
            _ => "reserve() + complete() per job".to_owned(),
        }
    );
    peer_common::remove_db(&path);
    Ok(report)
}

/// W3: `W3_WORKERS` threads, each with its own queue (qoxide's queue is one connection and
/// `&mut`), opened before the start line; the span from the first start to the last end.
fn drain_threads(path: &Path, done: &Completions) -> Res<(Duration, Vec<QoxideQueue>)> {
    let barrier = Barrier::new(W3_WORKERS);
    thread::scope(|s| {
        let handles: Vec<_> = (0..W3_WORKERS)
            .map(|_| {
                let barrier = &barrier;
                s.spawn(move || -> Res<(usize, Instant, Instant, QoxideQueue)> {
                    let q = open(path);
                    barrier.wait();
                    let mut q = q?;
                    let started = Instant::now();
                    let count = drain(&mut q, done)?;
                    Ok((count, started, Instant::now(), q))
                })
            })
            .collect();
        let (mut total, mut span, mut queues) = (0, None::<(Instant, Instant)>, Vec::new());
        for h in handles {
            let (count, start, end, q) = h.join().map_err(|_| "a W3 worker panicked")??;
            total += count;
            span = Some(span.map_or((start, end), |(s, e)| (s.min(start), e.max(end))));
            queues.push(q);
        }
        let (start, end) = span.ok_or("no workers")?;
        if total != done.total() as usize {
            return Err(format!("workers counted {total}, handlers {}", done.total()).into());
        }
        Ok((end - start, queues))
    })
}
