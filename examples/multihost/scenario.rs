//! The orchestrator: `multihost run [--smoke] --url URL --pg-dir DIR --dir DIR [options]`.
//! Per scenario: a fresh schema, the operations submitted, the fleet started, the faults
//! injected (see `faults.rs`), the drain awaited, the workers stopped, the checks run, one
//! summary line printed. Exit 0 only when every scenario passed.

use crate::check::{self, Input, Submitted};
use crate::faults::{self, Faults};
use crate::fleet::{Fleet, FleetConfig};
use crate::{AnyResult, Rng, mono_ms, parse};
use asyncop::{Filter, OperationSpec, Options, PgOptions, Queue, State};
use std::path::PathBuf;
use std::process::ExitCode;
use std::thread::sleep;
use std::time::{Duration, Instant};

pub const SCENARIOS: [&str; 4] = ["kill", "cut", "restart", "skew"];

pub struct Config {
    pub url: String,
    pub pg_dir: PathBuf,
    pub dir: PathBuf,
    pub seed: u64,
    pub lease_ms: u64,
    pub hosts: usize,
    pub per_host: usize,
    pub ops: usize,
    pub kills: u32,
    pub cuts: u32,
    pub restarts: u32,
    pub work: (u64, u64),
    pub drain_seconds: u64,
    pub scenarios: Vec<String>,
}

fn config(args: &[String]) -> AnyResult<Config> {
    let mut c = Config {
        url: String::new(),
        pg_dir: PathBuf::new(),
        dir: PathBuf::new(),
        seed: u64::try_from(crate::wall_ms()).unwrap_or(1),
        lease_ms: 2_000,
        hosts: 3,
        per_host: 2,
        ops: 6_000,
        kills: 20,
        cuts: 5,
        restarts: 6,
        work: (10, 60),
        drain_seconds: 600,
        scenarios: SCENARIOS.iter().map(|s| s.to_string()).collect(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--smoke" => {
                c.ops = 2_000;
                c.kills = 4;
                c.cuts = 1;
                c.restarts = 1;
                c.drain_seconds = 120;
            }
            "--url" => c.url = val()?.clone(),
            "--pg-dir" => c.pg_dir = parse(a, Some(val()?))?,
            "--dir" => c.dir = parse(a, Some(val()?))?,
            "--seed" => c.seed = parse(a, Some(val()?))?,
            "--lease-ms" => c.lease_ms = parse(a, Some(val()?))?,
            "--per-host" => c.per_host = parse(a, Some(val()?))?,
            "--ops" => c.ops = parse(a, Some(val()?))?,
            "--kills" => c.kills = parse(a, Some(val()?))?,
            "--cuts" => c.cuts = parse(a, Some(val()?))?,
            "--restarts" => c.restarts = parse(a, Some(val()?))?,
            "--work-min-ms" => c.work.0 = parse(a, Some(val()?))?,
            "--work-max-ms" => c.work.1 = parse(a, Some(val()?))?,
            "--drain-seconds" => c.drain_seconds = parse(a, Some(val()?))?,
            "--scenarios" => {
                c.scenarios = val()?.split(',').map(str::to_string).collect();
                if let Some(bad) = c
                    .scenarios
                    .iter()
                    .find(|s| !SCENARIOS.contains(&s.as_str()))
                {
                    return Err(format!("unknown scenario {bad}; known: {SCENARIOS:?}"));
                }
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if c.url.is_empty() || c.dir.as_os_str().is_empty() || c.pg_dir.as_os_str().is_empty() {
        return Err("need --url, --pg-dir and --dir".into());
    }
    if c.lease_ms < 500 || c.per_host == 0 || c.ops == 0 {
        return Err("need --lease-ms >= 500, --per-host >= 1, --ops >= 1".into());
    }
    Ok(c)
}

pub fn main(args: &[String]) -> AnyResult<ExitCode> {
    let c = config(args)?;
    println!(
        "multihost: seed {} hosts {} x {} workers, lease {} ms, {} operations per scenario, \
         scenarios {}",
        c.seed,
        c.hosts,
        c.per_host,
        c.lease_ms,
        c.ops,
        c.scenarios.join(",")
    );
    let mut failed = Vec::new();
    for (n, name) in c.scenarios.iter().enumerate() {
        match run(&c, name, n as u64) {
            Ok(true) => {}
            Ok(false) => failed.push(name.clone()),
            Err(e) => {
                println!("multihost: {name}: error: {e}");
                failed.push(name.clone());
            }
        }
    }
    println!(
        "multihost: {} scenarios passed, {} failed{}",
        c.scenarios.len() - failed.len(),
        failed.len(),
        if failed.is_empty() {
            String::new()
        } else {
            format!(" ({})", failed.join(", "))
        }
    );
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Opens the scenario's queue from the root namespace, retrying while the server restarts.
fn admin(c: &Config, schema: &str) -> AnyResult<Queue> {
    let options = Options {
        postgres: PgOptions {
            schema: schema.into(),
            pool_size: 2,
            connect_timeout: Duration::from_secs(3),
            ..PgOptions::default()
        },
        lease: Duration::from_millis(c.lease_ms),
        // A retry budget lease expiries never use up, and a short back-off.
        max_attempts: Some(1_000),
        backoff_base: Some(Duration::from_millis(100)),
        backoff_cap: Some(Duration::from_millis(500)),
        ..Options::default()
    };
    retry("open", || Queue::open(&c.url, options.clone()))
}

/// A call from the orchestrator, retried for up to 60 s (the server may be restarting).
pub fn retry<T>(what: &str, mut f: impl FnMut() -> asyncop::Result<T>) -> AnyResult<T> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) if Instant::now() < deadline => {
                eprintln!("multihost: {what}: {e} (retrying)");
                sleep(Duration::from_millis(500));
            }
            Err(e) => return Err(format!("{what}: {e}")),
        }
    }
}

/// Submits the operations: postponed ones first (lowest ids, so that once due they are
/// at the head of the queue and their claim latency measures promotion, not backlog),
/// then the rest, a fifth of them under one of eight dependency tokens.
fn submit(c: &Config, q: &Queue, rng: &mut Rng) -> AnyResult<Vec<Submitted>> {
    let postponed = c.ops / 30;
    let now = retry("now", || Ok(q.now()))?;
    let mut specs = Vec::with_capacity(c.ops);
    let mut meta = Vec::with_capacity(c.ops);
    for i in 0..c.ops {
        let mut spec = OperationSpec::new(format!("mh {i}"), 1).data(i.to_le_bytes().to_vec());
        let mut due = None;
        let mut token = None;
        if i < postponed {
            let t = now + rng.range(2_000, 15_000) as i64;
            spec = spec.postpone_until(t);
            due = Some(t);
        } else if rng.chance(20) {
            let t = format!("dep-{}", rng.range(0, 7));
            spec = spec.dependency_token(t.clone());
            token = Some(t);
        }
        specs.push(spec);
        meta.push((due, token));
    }
    let mut out = Vec::with_capacity(c.ops);
    for (chunk, m) in specs.chunks(250).zip(meta.chunks(250)) {
        let ids = retry("submit", || q.submit_many(chunk))?;
        for (id, (due, token)) in ids.into_iter().zip(m) {
            out.push(Submitted {
                id,
                due: *due,
                token: token.clone(),
            });
        }
    }
    Ok(out)
}

/// Whether every operation of the queue is Completed (nothing Ready, Locked or Suspended).
fn drained(q: &Queue) -> bool {
    match q.counts() {
        Ok(rows) => rows
            .iter()
            .all(|r| r.state == State::Completed || r.count == 0),
        Err(_) => false,
    }
}

fn run(c: &Config, name: &str, n: u64) -> AnyResult<bool> {
    let started = Instant::now();
    let schema = format!("mh_{name}_{}", std::process::id());
    let dir = c.dir.join(name);
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("create {}: {e}", logs.display()))?;
    let seed = c.seed.wrapping_add(n * 7_919);
    let mut rng = Rng::new(seed);
    let q = admin(c, &schema)?;
    let submitted = submit(c, &q, &mut rng)?;
    // CLOCK_REALTIME minus CLOCK_MONOTONIC, read back to back in this unfaked process: the
    // server runs on this machine, so its clock_timestamp() is the same CLOCK_REALTIME.
    // The database's reading is compared with it (within one round trip) as a check.
    let offset = crate::wall_ms() - mono_ms();
    let (db_diff, rtt) = retry("clock", || {
        let before = mono_ms();
        let db = q.now();
        let after = mono_ms();
        Ok((db - ((before + after) / 2 + offset), after - before))
    })?;
    let skew = name == "skew";
    // Under skew: h1 and h3 at -5 min, h2 at +5 min (killed for good half-way).
    let faketime: Vec<Option<String>> = (1..=c.hosts)
        .map(|h| skew.then(|| if h == 2 { "+300" } else { "-300" }.to_string()))
        .collect();
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut fleet = Fleet::start(
        FleetConfig {
            exe,
            url: c.url.clone(),
            schema: schema.clone(),
            logs: logs.clone(),
            seed,
            lease_ms: c.lease_ms,
            work: c.work,
            faketime: faketime.clone(),
        },
        c.hosts,
        c.per_host,
    )?;
    let mut f = Faults::default();
    let terminated_before = faults::terminated_connections(c);
    let fault_result = faults::inject(c, name, &mut fleet, &mut rng, &mut f);
    let deadline = started + Duration::from_secs(c.drain_seconds);
    let mut finished = fault_result.is_ok();
    while finished && !drained(&q) {
        if Instant::now() >= deadline {
            finished = false;
            break;
        }
        fleet.reap()?;
        sleep(Duration::from_millis(250));
    }
    // Late calls (a restored link) come back within a lease; then stop everyone.
    sleep(Duration::from_millis(c.lease_ms));
    fleet.stop_all();
    f.terminated = faults::terminated_connections(c).saturating_sub(terminated_before);
    let drain = started.elapsed();
    let rows = retry("query", || q.query(&Filter::default()))?;
    let findings = check::run(&Input {
        logs: &logs,
        lease_ms: c.lease_ms as i64,
        offset,
        submitted: &submitted,
        rows: &rows,
        skew,
        faketime: &faketime,
    })?;
    q.close();
    // The checks compare the database's times with this machine's clock: they must agree.
    let clock_ok = (db_diff.abs() - rtt / 2) <= 20;
    let ok = finished && clock_ok && findings.passed(name, &f);
    println!(
        "multihost: {name}: operations {} (dependency {}, postponed {}), claims {} (batched completes {}), kills {} ({} workers, \
         {} holding leases), link cuts {} ({} holding leases), restarts {} ({} connections terminated), LeaseLost completes {} \
         (renewals {}), ambiguous completes {}, taken over {}, lost {}, overlaps {}, completed twice {}, \
         order violations {}, early {}, late {} (longest due-to-claim {} ms), slow recoveries {}, worker errors {}, \
         unexpected exits {}, database clock - this clock {} ms (round trip {} ms), {:.1} s: {}",
        submitted.len(),
        submitted.iter().filter(|s| s.token.is_some()).count(),
        submitted.iter().filter(|s| s.due.is_some()).count(),
        findings.claims,
        findings.batched_completes,
        f.kills,
        f.killed_workers,
        f.kills_holding,
        f.cuts,
        f.cuts_holding,
        f.restarts,
        f.terminated,
        findings.lease_lost_completes,
        findings.lease_lost_renews,
        findings.ambiguous,
        findings.taken_over,
        findings.lost,
        findings.overlaps,
        findings.twice,
        findings.order,
        findings.early,
        findings.late,
        findings.max_promotion_ms,
        findings.slow_recoveries,
        findings.worker_errors,
        fleet.unexpected_exits,
        db_diff,
        rtt,
        drain.as_secs_f64(),
        if ok { "ok" } else { "FAILED" }
    );
    if let Err(e) = &fault_result {
        println!("multihost: {name}:   fault injection failed: {e}");
    }
    if !clock_ok {
        println!("multihost: {name}:   the database's clock is not this machine's ({db_diff} ms)");
    }
    if !finished && fault_result.is_ok() {
        println!(
            "multihost: {name}:   the drain did not finish within {} s",
            c.drain_seconds
        );
    }
    for line in findings.notes.iter().take(25) {
        println!("multihost: {name}:   {line}");
    }
    Ok(ok)
}
