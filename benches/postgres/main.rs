//! The PostgreSQL half of asyncop's benchmark, Rust side: asyncop's Rust API on a
//! PostgreSQL server (`asyncop-rust`). The peers (graphile-worker, pg-boss,
//! Procrastinate) and asyncop's Python package run in `benches/postgres/peers.py`
//! against the same server with the same workloads and counts.
//!
//! Run: `cargo bench --bench postgres -- --url postgres://... [--quick] [--out PATH]`
//! (`scripts/bench` starts a throwaway cluster and passes its URL; without `--url`
//! the URL comes from `ASYNCOP_BENCH_POSTGRES`, and without either the run is
//! skipped with a message, so that `cargo test --benches` needs no server).
//!
//! Workloads (ops/s unless noted), at the server's own durability
//! (`synchronous_commit = on`, `fsync = on`: read back and recorded):
//! * W1: submit, one per call (one transaction each), 1 thread.
//! * W2: one worker drains a pre-filled queue: poll(max 1) + complete per operation.
//! * W3: the W2 drain with 4 threads sharing one `Queue` (its pool: 4 connections).
//! * W4: the W2 drain with 4 processes (copies of this binary, `--child w4 ...`).
//! * W5: batched drain: poll(max 100) + `complete_many` of the 100.
//! * latency-xproc: submit→claim p50/p99 in ms, the worker blocked in a waiting
//!   poll in a child process, the submitter here, one submit every 20 ms.
//!
//! Every run gets a fresh database (CREATE DATABASE, dropped afterwards), so runs
//! never see each other's rows. Every drain is checked: the handled ids must be
//! exactly the submitted ones, each once, each claimed with lock token 1, and
//! the queue must count them all Succeeded. Each value is the median of 3 runs,
//! interleaved (run 1 of every cell, then run 2, ...).

mod procs;
mod workloads;

use postgres::{Client, NoTls};
use std::error::Error;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use workloads::{Value, Workload};

/// Send + Sync so that worker threads can hand their errors back.
pub(crate) type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

const IMPL: &str = "asyncop-rust";

/// Operations per run (latency: samples): the counts of `peers.py` (`SIZES`, which
/// `scripts/bench` uses), so that a standalone run is comparable with its rows.
/// A full run of this side alone takes well under a minute on the 2-core
/// development machine, where a commit waits ~1 ms for its WAL fsync.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    pub(crate) w1: usize,
    pub(crate) w2: usize,
    pub(crate) w3: usize,
    pub(crate) w4: usize,
    pub(crate) w5: usize,
    pub(crate) latency: usize,
    pub(crate) runs: usize,
}

const FULL: Sizes = Sizes {
    w1: 500,
    w2: 500,
    w3: 500,
    w4: 500,
    w5: 2_000,
    latency: 100,
    runs: 3,
};

/// A smoke run: every cell once with tiny counts (a few seconds).
const QUICK: Sizes = Sizes {
    w1: 40,
    w2: 40,
    w3: 40,
    w4: 40,
    w5: 200,
    latency: 15,
    runs: 1,
};

/// The server a run talks to: the URL of its maintenance database, and the
/// connection that creates and drops the per-run databases.
pub(crate) struct Server {
    url: String,
    admin: Client,
}

static NEXT_DB: AtomicU64 = AtomicU64::new(0);

impl Server {
    fn connect(url: &str) -> Res<Server> {
        let admin = Client::connect(url, NoTls)
            .map_err(|e| format!("cannot connect to the benchmark server: {e}"))?;
        Ok(Server {
            url: url.to_owned(),
            admin,
        })
    }

    fn setting(&mut self, name: &str) -> Res<String> {
        Ok(self
            .admin
            .query_one(&format!("SHOW {name}"), &[])?
            .try_get(0)?)
    }

    /// A fresh, empty database; returns its name and URL.
    fn create_db(&mut self) -> Res<(String, String)> {
        let name = format!(
            "asyncop_bench_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed)
        );
        self.admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))?;
        let url = with_dbname(&self.url, &name)?;
        Ok((name, url))
    }

    /// FORCE: a child that died mid-run may still hold a connection.
    fn drop_db(&mut self, name: &str) -> Res<()> {
        self.admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))?;
        Ok(())
    }
}

/// `url` with its database name replaced (a `postgres://` URL; query kept).
fn with_dbname(url: &str, db: &str) -> Res<String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let rest = base
        .strip_prefix("postgres://")
        .or_else(|| base.strip_prefix("postgresql://"))
        .ok_or("the benchmark needs a postgres:// URL")?;
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    Ok(format!("postgres://{authority}/{db}{query}"))
}

struct Cell {
    workload: Workload,
    ops: usize,
    runs: Vec<Value>,
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_list(xs: &[f64], decimals: usize) -> String {
    let items: Vec<String> = xs.iter().map(|x| format!("{x:.decimals$}")).collect();
    format!("[{}]", items.join(", "))
}

/// One JSON row in the shape of `rust.json`'s (report.py reads both).
fn json_row(cell: &Cell, durability: &str) -> String {
    let head = format!(
        "{{\"impl\": {}, \"workload\": {}, \"durability\": {}, ",
        json_str(IMPL),
        json_str(cell.workload.name()),
        json_str(durability)
    );
    match cell.workload {
        Workload::Latency => {
            let p50: Vec<f64> = cell.runs.iter().map(Value::primary).collect();
            let p99: Vec<f64> = cell.runs.iter().map(Value::p99).collect();
            format!(
                "{head}\"metric\": \"latency_ms\", \"p50\": {:.4}, \"p99\": {:.4}, \
                 \"runs_p50\": {}, \"runs_p99\": {}, \"samples\": {}}}",
                median(&p50),
                median(&p99),
                json_list(&p50, 4),
                json_list(&p99, 4),
                cell.ops
            )
        }
        _ => {
            let r: Vec<f64> = cell.runs.iter().map(Value::primary).collect();
            format!(
                "{head}\"metric\": \"ops_per_sec\", \"value\": {:.1}, \"runs\": {}, \"ops\": {}}}",
                median(&r),
                json_list(&r, 1),
                cell.ops
            )
        }
    }
}

struct Args {
    url: Option<String>,
    quick: bool,
    out: Option<PathBuf>,
    /// `--only W2`: run one workload (for profiling; writes no JSON).
    only: Option<String>,
}

fn parse_args(args: &[String]) -> Res<Args> {
    let mut a = Args {
        url: std::env::var("ASYNCOP_BENCH_POSTGRES")
            .ok()
            .filter(|s| !s.is_empty()),
        quick: false,
        out: None,
        only: None,
    };
    let mut bench = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => a.quick = true,
            "--bench" => bench = true,
            "--url" => a.url = Some(it.next().ok_or("--url needs a URL")?.clone()),
            "--out" => a.out = Some(PathBuf::from(it.next().ok_or("--out needs a path")?)),
            "--only" => a.only = Some(it.next().ok_or("--only needs a workload")?.clone()),
            "-h" | "--help" => {
                println!(
                    "usage: cargo bench --bench postgres -- [--url URL] [--quick] [--out PATH] [--only W]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)").into()),
        }
    }
    if a.only.is_some() {
        a.out = None;
    } else if !bench {
        // `cargo test --benches`: a smoke run that overwrites no results.
        a.quick = true;
    } else if a.out.is_none() {
        a.out = Some(PathBuf::from("target/bench/postgres-rust.json"));
    }
    Ok(a)
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--child") => workloads::child_main(&args[1..]),
        Some("--cell") => cell_main(&args[1..]),
        _ => run_main(&args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let violation = e.to_string().contains(workloads::VIOLATION);
            std::process::ExitCode::from(if violation { 3 } else { 1 })
        }
    }
}

/// `--cell WORKLOAD URL N`: one run of one cell on the (empty) database `URL`,
/// printed as one JSON line, as `node-peers.mjs` and `py_peers.py` do: this is
/// how `peers.py` interleaves asyncop-rust's runs with the peers' runs.
fn cell_main(args: &[String]) -> Res<()> {
    let [workload, url, n] = args else {
        return Err("usage: --cell WORKLOAD URL N".into());
    };
    let workload = Workload::parse(workload).ok_or("unknown workload")?;
    match workloads::run(workload, url, n.parse()?)? {
        Value::OpsPerSec(r) => println!("{{\"ops_per_sec\": {r:.3}}}"),
        Value::LatencyMs { p50, p99 } => println!("{{\"p50\": {p50:.4}, \"p99\": {p99:.4}}}"),
    }
    Ok(())
}

fn run_main(args: &[String]) -> Res<()> {
    let args = parse_args(args)?;
    let Some(url) = args.url else {
        eprintln!(
            "postgres bench: skipped: no server (pass --url or set ASYNCOP_BENCH_POSTGRES; \
             scripts/bench starts one)"
        );
        return Ok(());
    };
    let sizes = if args.quick { QUICK } else { FULL };
    let mut server = Server::connect(&url)?;
    let sync_commit = server.setting("synchronous_commit")?;
    let fsync = server.setting("fsync")?;
    let version = server.setting("server_version")?;
    let durability = format!("synchronous_commit={sync_commit}");
    eprintln!(
        "asyncop PostgreSQL benchmark ({}): PostgreSQL {version}, {durability}, fsync={fsync}",
        if args.quick { "quick" } else { "full" }
    );
    let started = Instant::now();
    let mut cells: Vec<Cell> = Workload::ALL
        .into_iter()
        .filter(|w| args.only.as_deref().is_none_or(|o| o == w.name()))
        .map(|workload| Cell {
            workload,
            ops: workload.ops(&sizes),
            runs: Vec::new(),
        })
        .collect();
    for run in 1..=sizes.runs {
        for cell in &mut cells {
            let (db, db_url) = server.create_db()?;
            let t = Instant::now();
            let result = workloads::run(cell.workload, &db_url, cell.ops);
            server.drop_db(&db)?;
            let value =
                result.map_err(|e| format!("{IMPL} {} run {run}: {e}", cell.workload.name()))?;
            eprintln!(
                "[run {run}/{}] {IMPL} {:<14} {:>30}  ({:.2} s)",
                sizes.runs,
                cell.workload.name(),
                value.describe(),
                t.elapsed().as_secs_f64()
            );
            cell.runs.push(value);
        }
    }
    let rows: Vec<String> = cells.iter().map(|c| json_row(c, &durability)).collect();
    for row in &rows {
        println!("{row}");
    }
    if let Some(out) = &args.out {
        let json = format!(
            "{{\"source\": \"postgres-rust\", \"quick\": {}, \"server_version\": {}, \
             \"synchronous_commit\": {}, \"fsync\": {},\n \"results\": [\n  {}\n ]}}\n",
            args.quick,
            json_str(&version),
            json_str(&sync_commit),
            json_str(&fsync),
            rows.join(",\n  ")
        );
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(out, json)?;
        eprintln!("wrote {}", out.display());
    }
    eprintln!("total {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
