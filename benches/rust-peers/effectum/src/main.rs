//! effectum (crates.io `effectum`, pinned in Cargo.toml) in one cell of asyncop's benchmark:
//! `--workload W1|W2|W3|W5 --durability FULL|NORMAL --ops N --dir DIR`, one JSON line out.
//!
//! effectum has one setting of its own: its writer connection runs `PRAGMA journal = wal`
//! and `PRAGMA synchronous = normal`. `journal` is not a pragma, so SQLite ignores it and the
//! file keeps a rollback journal (read back below from a separate connection and from the
//! file header). So:
//! * `--durability FULL` runs effectum at its own settings (rollback journal, synchronous
//!   NORMAL: each commit still syncs the journal and the database file), the cells compared
//!   with asyncop at FULL;
//! * `--durability NORMAL` runs it at WAL+NORMAL (the file switched to WAL before effectum
//!   opens it; WAL persists in the file), compared with asyncop at NORMAL.
//!
//! effectum is async (tokio): a worker takes jobs and completes each when its runner returns.

#[path = "../../common/sqlite_probe.rs"]
mod sqlite_probe;

use effectum::{Job, JobRunner, Queue, RunningJob, Worker};
use peer_common::{
    Args, Completions, Durability, Report, Res, W3_WORKERS, Workload, header_journal, main_with,
    payload, synchronous_name,
};
use rusqlite::Connection;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const JOB_TYPE: &str = "bench";
/// A drain that has not finished after this long has lost jobs.
const DRAIN_GIVE_UP: Duration = Duration::from_secs(600);

fn main() -> std::process::ExitCode {
    main_with(run)
}

fn impl_name(durability: Durability) -> &'static str {
    match durability {
        Durability::Full => "effectum (own settings)",
        Durability::Normal => "effectum (WAL+NORMAL)",
    }
}

fn run(args: &Args) -> Res<Report> {
    let imp = impl_name(args.durability);
    if args.workload == Workload::W5 {
        return Ok(Report::not_applicable(
            args,
            imp,
            "effectum has no batch claim or completion (a worker runs and completes jobs one \
             by one; Queue::add_jobs batches submits only)",
        ));
    }
    let path = args.fresh_db("effectum")?;
    if args.durability == Durability::Normal {
        let conn = Connection::open(&path)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if mode != "wal" {
            return Err(format!("could not switch the file to WAL: {mode}").into());
        }
    }
    // From here on, the first connection opened is effectum's writer.
    sqlite_probe::install(None)?;
    let threads = if args.workload == Workload::W3 {
        W3_WORKERS
    } else {
        2
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    let (elapsed, synchronous) = rt.block_on(run_async(args, &path))?;

    let conn = Connection::open(&path)?;
    let journal: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    let (succeeded, total): (i64, i64) = conn.query_row(
        "SELECT COUNT(*) FILTER (WHERE status = 'succeeded'), COUNT(*) FROM jobs",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let active: i64 = conn.query_row("SELECT COUNT(*) FROM active_jobs", [], |r| r.get(0))?;
    drop(conn);
    let n = i64::try_from(args.ops)?;
    let (want_succeeded, want_active) = match args.workload {
        Workload::W1 => (0, n),
        _ => (n, 0),
    };
    if total != n || succeeded != want_succeeded || active != want_active {
        return Err(format!(
            "after the run the file holds {total} jobs, {succeeded} succeeded, {active} active \
             ({n} jobs)"
        )
        .into());
    }
    let header = header_journal(&path)?;
    if (journal == "wal") != (header == "wal") {
        return Err(format!("journal_mode {journal} but the file header says {header}").into());
    }
    let mut report = Report::measured(args, imp, elapsed);
    report.journal_mode = journal;
    report.synchronous = synchronous_name(synchronous);
    report.note = format!(
        "SQLite {}; effectum asks for `PRAGMA journal = wal`, which SQLite ignores (not a \
         pragma): {}; synchronous=normal set by effectum on its writer, read back; {}",
        sqlite_probe::sqlite_version(),
        match args.durability {
            Durability::Full => "at its own settings the file keeps a rollback journal",
            Durability::Normal =>
                "for this cell the file was switched to WAL before effectum opened it",
        },
        match args.workload {
            Workload::W1 => "Job::add_to one per call".to_owned(),
            Workload::W2 => "one Worker, concurrency 1".to_owned(),
            _ => format!("one Worker, concurrency {W3_WORKERS}, on {W3_WORKERS} runtime threads"),
        }
    );
    peer_common::remove_db(&path);
    Ok(report)
}

/// The timed part; returns it and the writer connection's `synchronous`.
async fn run_async(args: &Args, path: &Path) -> Res<(Duration, i64)> {
    let n = args.ops;
    let queue = Queue::new(path).await?;
    let done = Arc::new(Completions::new(n));
    let elapsed = match args.workload {
        Workload::W1 => {
            let started = Instant::now();
            for i in 0..n {
                Job::builder(JOB_TYPE)
                    .payload(payload(i))
                    .add_to(&queue)
                    .await?;
            }
            started.elapsed()
        }
        Workload::W2 | Workload::W3 => {
            // Untimed prefill, one transaction.
            let jobs = (0..n)
                .map(|i| Job::builder(JOB_TYPE).payload(payload(i)).build())
                .collect();
            queue.add_jobs(jobs).await?;
            let runner = JobRunner::builder(
                JOB_TYPE,
                |job: RunningJob, done: Arc<Completions>| async move {
                    done.record(&job.payload)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                },
            )
            .build();
            let concurrency = if args.workload == Workload::W3 {
                W3_WORKERS as u16
            } else {
                1
            };
            let started = Instant::now();
            let worker = Worker::builder(&queue, done.clone())
                .jobs([runner])
                .min_concurrency(concurrency)
                .max_concurrency(concurrency)
                .build()
                .await?;
            while worker.counts().finished < n as u64 {
                if started.elapsed() > DRAIN_GIVE_UP {
                    return Err(format!(
                        "drain stalled: {} of {n} finished after {DRAIN_GIVE_UP:?}",
                        worker.counts().finished
                    )
                    .into());
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let elapsed = started.elapsed();
            worker.unregister(Some(Duration::from_secs(10))).await?;
            done.check()?;
            elapsed
        }
        Workload::W5 => unreachable!("n/a above"),
    };
    let synchronous = sqlite_probe::synchronous_of(0)?;
    queue.close(Duration::from_secs(10)).await?;
    Ok((elapsed, synchronous))
}
