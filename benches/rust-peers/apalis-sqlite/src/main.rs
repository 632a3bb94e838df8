//! apalis-sqlite (crates.io `apalis-sqlite` with `apalis`, pinned in Cargo.toml) in one cell of
//! asyncop's benchmark: `--workload W1|W2|W3|W5 --durability FULL|NORMAL --ops N --dir DIR`,
//! one JSON line out.
//!
//! apalis-sqlite's `setup()` switches the file to WAL and runs `PRAGMA synchronous = OFF` on
//! whichever pooled connection it gets (`synchronous` is per connection). To measure every
//! cell at the durability it names, setup runs on a throwaway pool and the cell on a fresh pool
//! whose every connection is opened with `synchronous` set (read back after the run).
//!
//! A job's life in apalis-sqlite: a fetch claims up to `batch_size` jobs (one transaction),
//! the worker runs them, and their "lock" and "ack" events are written by the backend in one
//! transaction per drained batch of events. W2 and W3 fetch one job at a time (`batch_size`
//! 1, asyncop's W2 polls one); W5 fetches 100 (apalis's batching: the acks then share commits
//! too). The timed span ends when the file shows every job `Done`.

use apalis::prelude::*;
use apalis_sqlite::{Config, SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteStorage};
use futures::future::try_join_all;
use peer_common::{
    Args, Completions, Durability, Report, Res, W3_WORKERS, W5_BATCH, Workload, header_journal,
    main_with, payload_text, synchronous_name,
};
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

const IMPL: &str = "apalis-sqlite";
const QUEUE: &str = "bench";
/// A drain that has not finished after this long has lost jobs.
const DRAIN_GIVE_UP: Duration = Duration::from_secs(600);

/// The handlers' tally (a plain `async fn` handler reaches it here).
static DONE: OnceLock<Completions> = OnceLock::new();

fn main() -> std::process::ExitCode {
    main_with(run)
}

fn run(args: &Args) -> Res<Report> {
    let threads = if args.workload == Workload::W3 {
        W3_WORKERS
    } else {
        2
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?
        .block_on(run_async(args))
}

/// The job handler: counts the job by the index in its payload.
async fn handle(job: String) -> Result<(), BoxDynError> {
    DONE.get()
        .ok_or("no tally")?
        .record(job.as_bytes())
        .map_err(|e| -> BoxDynError { e.to_string().into() })?;
    Ok(())
}

fn options(path: &Path) -> Res<SqliteConnectOptions> {
    let url = format!("sqlite://{}", path.to_str().ok_or("path is not UTF-8")?);
    Ok(SqliteConnectOptions::from_str(&url)?.create_if_missing(true))
}

async fn count(pool: &SqlitePool, status: &str) -> Res<i64> {
    sqlx_count(
        pool,
        "SELECT COUNT(*) FROM Jobs WHERE status = ?1",
        Some(status),
    )
    .await
}

async fn sqlx_count(pool: &SqlitePool, sql: &'static str, bind: Option<&str>) -> Res<i64> {
    let mut q = sqlx::query_scalar(sql);
    if let Some(b) = bind {
        q = q.bind(b.to_owned());
    }
    Ok(q.fetch_one(pool).await?)
}

async fn run_async(args: &Args) -> Res<Report> {
    let n = args.ops;
    let path = args.fresh_db(IMPL)?;
    // setup(): migrations, WAL, and synchronous=OFF on one pooled connection: a throwaway pool.
    let setup_pool = SqlitePool::connect_with(options(&path)?).await?;
    SqliteStorage::setup(&setup_pool).await?;
    setup_pool.close().await;

    let pool = SqlitePoolOptions::new()
        .connect_with(options(&path)?.pragma("synchronous", args.durability.name()))
        .await?;
    let batch = if args.workload == Workload::W5 {
        W5_BATCH
    } else {
        1
    };
    let config = Config::default().queue(QUEUE).batch_size(batch);
    let mut storage = SqliteStorage::<String>::new(&pool).with_config(config);
    DONE.set(Completions::new(n))
        .map_err(|_| "tally set twice")?;
    let done = DONE.get().ok_or("no tally")?;

    let elapsed = match args.workload {
        Workload::W1 => {
            let started = Instant::now();
            for i in 0..n {
                storage.push(payload_text(i)).await?;
            }
            started.elapsed()
        }
        Workload::W2 | Workload::W3 | Workload::W5 => {
            // Untimed prefill through the batched push.
            storage
                .push_bulk((0..n).map(payload_text).collect())
                .await?;
            let workers = if args.workload == Workload::W3 {
                W3_WORKERS
            } else {
                1
            };
            let stop = Arc::new(AtomicBool::new(false));
            let started = Instant::now();
            let runs: Vec<_> = (0..workers)
                .map(|i| {
                    let worker = WorkerBuilder::new(format!("bench-{i}"))
                        .backend(storage.clone())
                        .build(handle);
                    let stop = stop.clone();
                    tokio::spawn(worker.run_until(async move {
                        while !stop.load(Ordering::SeqCst) {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                        Ok::<(), std::io::Error>(())
                    }))
                })
                .collect();
            // Done when every handler ran and the file shows every job Done (acks written).
            let want = i64::try_from(n)?;
            loop {
                if started.elapsed() > DRAIN_GIVE_UP {
                    stop.store(true, Ordering::SeqCst);
                    return Err(format!(
                        "drain stalled: handlers ran {} of {n}, {} Done after {DRAIN_GIVE_UP:?}",
                        done.total(),
                        count(&pool, "Done").await?
                    )
                    .into());
                }
                if done.total() >= n as u64 && count(&pool, "Done").await? >= want {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let elapsed = started.elapsed();
            stop.store(true, Ordering::SeqCst);
            for r in try_join_all(runs).await? {
                r?;
            }
            done.check()?;
            elapsed
        }
    };

    let synchronous: i64 = sqlx_count(&pool, "PRAGMA synchronous", None).await?;
    let total = sqlx_count(&pool, "SELECT COUNT(*) FROM Jobs", None).await?;
    let want_status = if args.workload == Workload::W1 {
        "Pending"
    } else {
        "Done"
    };
    let in_state = count(&pool, want_status).await?;
    pool.close().await;
    let want = i64::try_from(n)?;
    if total != want || in_state != want {
        return Err(format!(
            "after the run the file holds {total} jobs, {in_state} {want_status} ({n} jobs)"
        )
        .into());
    }
    // journal_mode from a separate connection that sets none (sqlx sets none by default).
    let check = SqlitePool::connect_with(options(&path)?).await?;
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&check)
        .await?;
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&check)
        .await?;
    check.close().await;
    let header = header_journal(&path)?;
    if (journal == "wal") != (header == "wal") {
        return Err(format!("journal_mode {journal} but the file header says {header}").into());
    }
    let mut report = Report::measured(args, IMPL, elapsed);
    report.journal_mode = journal;
    report.synchronous = synchronous_name(synchronous);
    report.note = format!(
        "SQLite {version}; WAL set by setup(); synchronous={} on every pooled connection \
         (setup()'s synchronous=OFF stays on a throwaway pool); payload: a 100-character \
         String, stored JSON-encoded; {}",
        match args.durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        },
        match args.workload {
            Workload::W1 => "push() one per call".to_owned(),
            Workload::W2 => "one worker, batch_size 1".to_owned(),
            Workload::W3 => format!("{W3_WORKERS} workers on one pool, batch_size 1"),
            Workload::W5 => format!("one worker, batch_size {W5_BATCH} (fetch and acks batched)"),
        }
    );
    peer_common::remove_db(&path);
    Ok(report)
}
