//! The Rust half of asyncop's benchmark: the public Rust API (`asyncop-rust`)
//! against `raw-sql`, the physical limit of a queue on the same bundled SQLite
//! (one table, one partial index, plain statements, no queue logic).
//!
//! Run: `cargo bench --bench queue -- [--quick] [--out PATH]`
//!
//! Workloads (ops/s unless noted), each at `synchronous=FULL` and `NORMAL`:
//! * W1: submit, one per call, 1 thread.
//! * W2: submit→claim→complete: 1 worker drains a pre-filled queue, one per poll.
//! * W3: the W2 drain with 4 threads (asyncop: one shared `Queue`; raw: a connection each).
//! * W4-1p / W4-4p / W4-8p: the W2 drain by 1, 4 and 8 processes (copies of this
//!   binary, `--child w4 ...`), unbatched, so that scaling reads from one run.
//! * W5: batched drain: poll 100, complete the 100 in one call (raw: claim 100 in
//!   one transaction, complete the 100 in one transaction: batched against batched).
//! * W2-1M: W2 on a file that already holds 1,000,000 completed operations.
//! * latency-inproc / latency-xproc (asyncop only): submit→start p50/p99 in ms, the
//!   worker blocked in a waiting poll in this process / in a child process.
//! * stop-inproc / stop-xproc (asyncop only): cancel→the running handler's stop
//!   signal, p50/p99 in ms, the handler in this process / in a child process
//!   (`queue/stop.rs`).
//! * wal-pages (NORMAL): WAL pages per submit / claim / complete (`queue/wal_pages.rs`).
//! * fsync-4k (`disk`): the disk's own limit, 4 KiB written in place and
//!   `fdatasync`ed, in the directory of the queue files (`queue/disk.rs`).
//!
//! raw-sql is the fair limit (`queue/raw.rs`): the fastest claim statements SQLite
//! allows, cached, with literal limits, and asyncop's own busy handler.
//!
//! A cell that fails (any implementation, any workload) is reported as failed
//! with its error, and the rest of the run and the JSON are still written; the
//! process then exits non-zero only if an asyncop cell failed.
//!
//! `--only W[,W...]` runs only those workloads (by name, e.g. `stop-inproc`).
//!
//! Every figure is the median of 3 runs, interleaved (run 1 of every cell, then
//! run 2 of every cell, ...) so that machine noise spreads over all cells alike.
//! Every drain is checked afterwards by counting rows per state: a benchmark
//! that silently lost or repeated work would be worthless.
//!
//! Without `--bench` (which `cargo bench` passes and `cargo test --benches`
//! does not), the binary runs as a smoke test: quick counts, and no JSON file
//! unless `--out` is given.

mod cells;
mod disk;
mod handle;
mod latency;
mod procs;
mod raw;
mod report;
mod stop;
mod wal_pages;
mod workloads;

use asyncop::{Durability, Lease, LeaseKey, OperationSpec, Options, PollOptions, Queue, Status};
use rusqlite::{Connection, params};
use std::collections::HashMap;
use std::error::Error;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cells::*;
use disk::*;
use handle::*;
use latency::*;
use procs::*;
use raw::*;
use report::*;
use wal_pages::*;
use workloads::*;

/// Send + Sync so that worker threads can hand their errors back.
type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

// Driver

/// Deleted with everything in it when the benchmark ends, however it ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn plan(sizes: &Sizes) -> Vec<Cell> {
    let mut cells = Vec::new();
    let mut add = |imp, workload: Workload, dur| {
        cells.push(Cell {
            imp,
            workload,
            dur,
            ops: workload.ops(sizes),
            runs: Vec::new(),
            error: None,
        });
    };
    use Workload::*;
    add(Impl::Disk, Fsync, Dur::Full);
    let w4 = W4_PROCESSES.map(W4);
    for workload in [W1, W2, W3].into_iter().chain(w4).chain([W5, W2Big]) {
        for dur in Dur::ALL {
            for imp in Impl::ALL {
                add(imp, workload, dur);
            }
        }
    }
    for workload in [LatencyInproc, LatencyXproc, StopInproc, StopXproc] {
        for dur in Dur::ALL {
            add(Impl::Asyncop, workload, dur);
        }
    }
    for imp in Impl::ALL {
        add(imp, WalPages, Dur::Normal);
    }
    cells
}

/// The W2-1M files, per (implementation, durability): the path, or why it could not be built.
type BigFiles = HashMap<(Impl, Dur), Result<PathBuf, String>>;

fn run_cell(cell: &Cell, dir: &Path, big: &BigFiles) -> Res<Run> {
    let (imp, dur, n) = (cell.imp, cell.dur, cell.ops);
    if cell.workload == Workload::W2Big {
        // The same big file for all three runs; each run adds its own operations.
        let path = big.get(&(imp, dur)).ok_or("missing W2-1M file")?;
        let path = path
            .as_ref()
            .map_err(|e| format!("building the W2-1M file: {e}"))?;
        return run_drain(imp, dur, path, n, 1);
    }
    let path = dir.join(format!(
        "{}-{}-{}.db",
        imp.name(),
        cell.workload.name(),
        dur.name()
    ));
    remove_db(&path);
    let run = match cell.workload {
        Workload::W1 => run_w1(imp, dur, &path, n),
        Workload::W2 => run_drain(imp, dur, &path, n, 1),
        Workload::W3 => run_w3(imp, dur, &path, n),
        Workload::W4(processes) => run_w4(imp, dur, &path, n, processes),
        Workload::W5 => run_drain(imp, dur, &path, n, W5_BATCH),
        Workload::LatencyInproc => run_latency_inproc(dur, &path, n),
        Workload::LatencyXproc => run_latency_xproc(dur, &path, n),
        Workload::StopInproc => stop::run_stop_inproc(dur, &path, n),
        Workload::StopXproc => stop::run_stop_xproc(dur, &path, n),
        Workload::WalPages => run_wal_pages(imp, dur, &path, n),
        Workload::Fsync => run_fsync(&path, n),
        Workload::W2Big => unreachable!("handled above"),
    };
    remove_db(&path);
    for f in fs::read_dir(dir)? {
        let f = f?.path();
        if f.to_string_lossy().contains(".db.") {
            fs::remove_file(f)?; // W4's, latency's and stop's signal files
        }
    }
    run
}

struct Args {
    quick: bool,
    out: Option<PathBuf>,
    /// Run only these workloads (by name); `None`: all.
    only: Option<Vec<String>>,
}

fn parse_args(args: &[String]) -> Res<Args> {
    let mut quick = false;
    let mut out = None;
    let mut only = None;
    let mut bench = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--bench" => bench = true,
            "--out" => out = Some(PathBuf::from(it.next().ok_or("--out needs a path")?)),
            "--only" => {
                let list = it.next().ok_or("--only needs workload names")?;
                only = Some(list.split(',').map(str::to_owned).collect());
            }
            "-h" | "--help" => {
                println!(
                    "usage: cargo bench --bench queue -- [--quick] [--out PATH] [--only W[,W...]]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)").into()),
        }
    }
    if !bench {
        // `cargo test --benches`: a smoke run that overwrites no results.
        eprintln!("(no --bench: smoke test with --quick counts)");
        quick = true;
    } else if out.is_none() {
        out = Some(PathBuf::from("target/bench/rust.json"));
    }
    Ok(Args { quick, out, only })
}

fn child_main(args: &[String]) -> Res<()> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args[..] {
        ["w4", imp, dur, path, host] => child_w4(imp, dur, Path::new(path), host),
        ["latency", dur, path, host, samples] => child_latency(dur, Path::new(path), host, samples),
        ["stop", dur, path, host, samples] => stop::child_stop(dur, Path::new(path), host, samples),
        ["cell", workload, dur, ops] => child_cell(workload, dur, ops),
        _ => Err(format!("bad child arguments {args:?}").into()),
    }
}

/// `--child cell <W1|W2> <durability> <ops>`: one run of one asyncop-rust cell
/// on a fresh file; prints `seconds journal_mode synchronous`. The Python
/// benchmark runs it interleaved with its own cells, so that the Python layer's
/// cost per call is measured against the Rust API in the same run.
fn child_cell(workload: &str, dur: &str, ops: &str) -> Res<()> {
    let workload = [Workload::W1, Workload::W2]
        .into_iter()
        .find(|w| w.name() == workload)
        .ok_or_else(|| format!("--child cell runs W1 or W2, not {workload:?}"))?;
    let cell = Cell {
        imp: Impl::Asyncop,
        workload,
        dur: Dur::parse(dur)?,
        ops: ops.parse()?,
        runs: Vec::new(),
        error: None,
    };
    let dir = TempDir(std::env::temp_dir().join(format!("asyncop-cell-{}", std::process::id())));
    fs::create_dir_all(&dir.0)?;
    let run = run_cell(&cell, &dir.0, &HashMap::new())?;
    let Value::OpsPerSec(rate) = run.value else {
        return Err("a W1/W2 cell without a rate".into());
    };
    println!(
        "{} {} {}",
        cell.ops as f64 / rate,
        run.journal_mode,
        run.synchronous
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    match run_main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return child_main(&args[1..]);
    }
    let args = parse_args(&args)?;
    let sizes = if args.quick { QUICK_SIZES } else { FULL_SIZES };
    let dir = TempDir(std::env::temp_dir().join(format!("asyncop-bench-{}", std::process::id())));
    fs::create_dir_all(&dir.0)?;
    let started = Instant::now();
    eprintln!(
        "asyncop queue benchmark ({}): SQLite {}, files in {}",
        if args.quick { "quick" } else { "full" },
        rusqlite::version(),
        dir.0.display()
    );

    let mut cells = plan(&sizes);
    if let Some(only) = &args.only {
        cells.retain(|c| only.iter().any(|w| w == c.workload.name()));
        if cells.is_empty() {
            return Err(format!("--only {only:?} names no workload").into());
        }
    }
    // One W2-1M file per (implementation, durability), each built the same way.
    // Not a copy of one: 200 MB of copied, still dirty pages would be written
    // back during the copy's first run, and slow that run alone.
    let mut big = HashMap::new();
    let needs_big = cells.iter().any(|c| c.workload == Workload::W2Big);
    for imp in Impl::ALL {
        for dur in Dur::ALL {
            if !needs_big {
                continue;
            }
            let t = Instant::now();
            let path = dir.0.join(format!("{}-big-{}.db", imp.name(), dur.name()));
            let built = match build_big(imp, &path, sizes.big_base) {
                Ok(()) => {
                    eprintln!(
                        "built {} with {} completed rows in {:.1} s",
                        path.display(),
                        sizes.big_base,
                        t.elapsed().as_secs_f64()
                    );
                    Ok(path)
                }
                Err(e) => {
                    eprintln!("could not build {}: {e}", path.display());
                    remove_db(&path);
                    Err(e.to_string())
                }
            };
            big.insert((imp, dur), built);
        }
    }
    // The builds wrote ~1.6 GB (each file's WAL, then the file) and freed their
    // WALs: flush the file system now, so that deferred writeback and journal
    // work land here rather than in the first round's runs.
    sync_fs(&dir.0)?;

    for run in 1..=RUNS {
        for cell in &mut cells {
            if cell.error.is_some() {
                continue;
            }
            let t = Instant::now();
            let result = match run_cell(cell, &dir.0, &big) {
                Ok(result) => result,
                Err(e) => {
                    // Reported in its cell; the other cells and the JSON go on.
                    let error = format!("failed in run {run}: {e}");
                    eprintln!(
                        "[run {run}/{RUNS}] {:<13} {:<15} {:<6} FAILED: {e}",
                        cell.imp.name(),
                        cell.workload.name(),
                        cell.dur.name()
                    );
                    cell.runs.clear();
                    cell.error = Some(error);
                    continue;
                }
            };
            eprintln!(
                "[run {run}/{RUNS}] {:<13} {:<15} {:<6} {:>32}  ({:.2} s)",
                cell.imp.name(),
                cell.workload.name(),
                cell.dur.name(),
                describe(&result.value),
                t.elapsed().as_secs_f64()
            );
            cell.runs.push(result);
        }
    }
    for path in big.values().flatten() {
        remove_db(path);
    }
    print_table(&cells)?;
    let rss = (
        mib(peak_rss_kib()?),
        mib(CHILDREN_PEAK_KIB.load(Ordering::Relaxed)),
    );
    println!(
        "peak RSS: {:.1} MiB (benchmark process), {:.1} MiB (largest child process)",
        rss.0, rss.1
    );
    println!(
        "raw-sql BEGIN IMMEDIATEs that waited out the 5 s busy timeout and tried again: {}",
        BUSY_TIMEOUTS.load(Ordering::Relaxed)
    );
    if let Some(out) = &args.out {
        write_json(out, &cells, args.quick, rss)?;
        eprintln!("wrote {}", out.display());
    }
    eprintln!("total {:.1} s", started.elapsed().as_secs_f64());
    let failed: Vec<String> = cells
        .iter()
        .filter(|c| c.imp == Impl::Asyncop && c.error.is_some())
        .map(|c| format!("{} {}", c.workload.name(), c.dur.name()))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("asyncop cells failed: {}", failed.join(", ")).into())
    }
}
