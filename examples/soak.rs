//! Crash soak: `cargo build --release --example soak`, run through `scripts/soak`.
//!
//! Why: the unit and process tests kill one process at chosen points. Real hosts die at
//! any instant, several at once, while others keep claiming, renewing and completing on
//! the same file. This program keeps N worker processes and one submitter process busy on
//! one queue file while a killer SIGKILLs a random one of them every 50–300 ms (so kills
//! land inside transactions and while leases are held) and restarts it. Afterwards one
//! clean worker drains the queue, and the run checks what a crash must never break:
//!
//! 1. lost: every submit that returned Ok (the submitter logs ids only then) is in the file,
//!    with an intact payload;
//! 2. stuck: nothing is left Ready, Locked or due-Suspended after the drain (operations a
//!    user paused on purpose are reported, not counted);
//! 3. overlaps: per operation, logged claims have distinct, increasing lock tokens, a claim
//!    comes only after the previous lease ended (an outcome call was made) or expired, no
//!    stale token is accepted after a newer claim, and dependency tokens keep their order;
//! 4. completed twice: at most one accepted terminal outcome per operation, whose token is
//!    the row's final lock token;
//! 5. `PRAGMA integrity_check` is "ok".
//!
//! Roles (the program re-executes itself): `soak [run options]` is the orchestrator,
//! `soak worker FILE HOST LOG SEED LEASE_MS [drain DEADLINE_MS]`, `soak submitter FILE LOG
//! SEED BACKLOG`; `soak check --dir D` runs the checks again on a kept run. Every child
//! writes its log lines with one unbuffered `write` each, before (`call`) and after
//! (`done`, `claim`, `submit`) each queue call: a SIGKILL loses nothing already written
//! (the page cache keeps it), so the logs are the children's exact record.

use asyncop::{
    Error, Filter, Lease, LeaseKey, OperationSpec, Options, PollOptions, Queue, Report, State,
    Status,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Clock readings may differ by this much between a worker's reading and the queue's.
const TOLERANCE_MS: i64 = 10;
/// `error_code` of a lease expiry recorded by recovery (README: LeaseLost = 9).
const LEASE_LOST_CODE: i32 = asyncop::error::LEASE_LOST_CODE;

type AnyResult<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("worker") => worker_main(&args[1..]),
        Some("submitter") => submitter_main(&args[1..]),
        Some("check") => check_main(&args[1..]),
        _ => orchestrate(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("soak: error: {e}");
            ExitCode::from(2)
        }
    }
}

// -- small tools ---------------------------------------------------------------

/// SplitMix64: reproducible from `--seed`, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// An append-only log written with one `write` per line and no userspace buffer.
struct Log(File);

impl Log {
    fn create(path: &Path) -> AnyResult<Log> {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(Log)
            .map_err(|e| format!("open log {}: {e}", path.display()))
    }
    fn line(&mut self, text: &str) -> AnyResult<()> {
        let mut buf = String::with_capacity(text.len() + 1);
        buf.push_str(text);
        buf.push('\n');
        self.0
            .write_all(buf.as_bytes())
            .map_err(|e| format!("write log: {e}"))
    }
}

fn err_name(e: &Error) -> &'static str {
    match e {
        Error::LeaseLost { .. } => "LeaseLost",
        Error::Busy => "Busy",
        other => other.name(),
    }
}

/// Errors a child may meet in normal operation; anything else ends it with an error.
fn expected(e: &Error) -> bool {
    matches!(e, Error::LeaseLost { .. } | Error::Busy)
}

fn parse<T: std::str::FromStr>(what: &str, s: Option<&String>) -> AnyResult<T> {
    s.ok_or_else(|| format!("missing {what}"))?
        .parse()
        .map_err(|_| format!("bad {what}"))
}

/// A payload that carries its own check: 8 bytes of FNV-1a over the rest, then bytes.
fn payload(rng: &mut Rng) -> Vec<u8> {
    let len = match rng.range(0, 99) {
        0 => rng.range(32_768, 131_072),
        1..=9 => rng.range(1_024, 8_192),
        10..=19 => 0,
        _ => rng.range(1, 256),
    } as usize;
    let mut body = Vec::with_capacity(len + 8);
    let mut x = rng.next();
    for _ in 0..len {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        body.push((x >> 56) as u8);
    }
    let mut out = fnv(&body).to_le_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn payload_ok(data: &[u8]) -> bool {
    data.len() >= 8 && data[..8] == fnv(&data[8..]).to_le_bytes()
}

// -- worker ----------------------------------------------------------------------

/// What the worker will do with a lease after its work.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Plan {
    Complete,
    Fail,
    Retry,
    AckPause,
    AckCancel,
    Drop,
}

struct Worker {
    q: Queue,
    log: Log,
    host: String,
    rng: Rng,
    drain: bool,
    lease_ms: i64,
}

impl Worker {
    /// `call` before, `done` after: a kill between them leaves the outcome unknown.
    fn call<T>(
        &mut self,
        key: LeaseKey,
        kind: &str,
        f: impl FnOnce(&Queue) -> asyncop::Result<T>,
        status: impl Fn(&T) -> Status,
    ) -> AnyResult<Option<T>> {
        self.log.line(&format!(
            "call {} {} {} {kind}",
            key.id,
            key.lock_token,
            now_ms()
        ))?;
        let r = f(&self.q);
        self.done(key, kind, r.as_ref().map(&status))?;
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e) if expected(&e) => Ok(None),
            Err(e) => Err(format!("{kind} {}: {e}", key.id)),
        }
    }

    fn done(&mut self, key: LeaseKey, kind: &str, r: Result<Status, &Error>) -> AnyResult<()> {
        let text = match r {
            Ok(s) => format!("ok {}", s.code()),
            Err(e) => format!("{} -", err_name(e)),
        };
        self.log
            .line(&format!("done {} {} {kind} {text}", key.id, key.lock_token))
    }

    fn round(&mut self) -> AnyResult<usize> {
        let max = if self.rng.chance(50) {
            1
        } else {
            self.rng.range(2, 8) as u32
        };
        let leases: Vec<Lease> = match self.q.poll(
            &self.host,
            &PollOptions::default()
                .max(max)
                .wait(Duration::from_millis(200)),
        ) {
            Ok(l) => l,
            Err(Error::Busy) => return Ok(0),
            Err(e) => return Err(format!("poll: {e}")),
        };
        let lease_ms = self.lease_ms;
        for l in &leases {
            self.log.line(&format!(
                "claim {} {} {} {} {}",
                l.id,
                l.lock_token,
                self.host,
                l.expires_at - lease_ms,
                l.expires_at
            ))?;
            if !payload_ok(&l.data) {
                self.log
                    .line(&format!("badpayload {} {}", l.id, l.lock_token))?;
            }
        }
        // The "work": hold the leases for a while, renewing at safe points.
        let mut plans = Vec::with_capacity(leases.len());
        for l in &leases {
            // Mostly short, so that most kills land inside a call (a transaction or
            // its fsync) rather than in this sleep; leases are held either way.
            if !self.drain && self.rng.chance(40) {
                sleep(Duration::from_millis(self.rng.range(1, 15)));
            }
            let key = l.key();
            let plan = match self.call(key, "renew", |q| q.renew(key), |s| *s)? {
                None => Plan::Drop,
                Some(Status::Pausing) => Plan::AckPause,
                Some(Status::Canceling) if self.rng.chance(80) => Plan::AckCancel,
                Some(_) if self.drain => Plan::Complete,
                Some(_) => match self.rng.range(0, 99) {
                    0..=2 => Plan::Fail,
                    3..=9 => Plan::Retry,
                    _ => Plan::Complete,
                },
            };
            plans.push((key, plan));
        }
        let batch: Vec<LeaseKey> = plans
            .iter()
            .filter(|(_, p)| *p == Plan::Complete)
            .map(|(k, _)| *k)
            .collect();
        let many = batch.len() > 1 && self.rng.chance(60);
        if many {
            for k in &batch {
                self.log.line(&format!(
                    "call {} {} {} complete",
                    k.id,
                    k.lock_token,
                    now_ms()
                ))?;
            }
            match self.q.complete_many(&batch) {
                Ok(results) => {
                    for (k, r) in batch.iter().zip(&results) {
                        self.done(*k, "complete", r.as_ref().copied())?;
                        if let Err(e) = r
                            && !expected(e)
                        {
                            return Err(format!("complete_many {}: {e}", k.id));
                        }
                    }
                }
                Err(e) => {
                    for k in &batch {
                        self.done(*k, "complete", Err(&e))?;
                    }
                    if !expected(&e) {
                        return Err(format!("complete_many: {e}"));
                    }
                }
            }
        }
        for (key, plan) in plans {
            let id = key.id;
            match plan {
                Plan::Drop => {}
                Plan::Complete if many => {}
                Plan::Complete => {
                    self.call(key, "complete", |q| q.complete(key), |s| *s)?;
                }
                Plan::Fail => {
                    self.call(
                        key,
                        "fail",
                        |q| q.fail(key, Report::error(7, format!("soak fails {id}"))),
                        |s| *s,
                    )?;
                }
                Plan::Retry => {
                    self.call(
                        key,
                        "retry",
                        |q| q.retry(key, Report::error(8, "soak retries")),
                        |s| *s,
                    )?;
                }
                Plan::AckPause => {
                    self.call(key, "ack_pause", |q| q.acknowledge_pause(key), |s| *s)?;
                }
                Plan::AckCancel => {
                    self.call(key, "ack_cancel", |q| q.acknowledge_cancel(key), |s| *s)?;
                }
            }
        }
        Ok(leases.len())
    }
}

/// Ready or Locked rows, or Suspended rows with a due time: work the drain must finish.
fn open_work(q: &Queue) -> AnyResult<usize> {
    let mut n = 0;
    for c in q.counts().map_err(|e| format!("counts: {e}"))? {
        if matches!(c.state, State::Ready | State::Locked) {
            n += usize::try_from(c.count).unwrap_or(0);
        }
    }
    let suspended = q
        .query(&Filter {
            state: Some(State::Suspended),
            ..Filter::default()
        })
        .map_err(|e| format!("query: {e}"))?;
    Ok(n + suspended
        .iter()
        .filter(|o| o.postpone_until.is_some())
        .count())
}

fn worker_main(args: &[String]) -> AnyResult<ExitCode> {
    let file: PathBuf = parse("file", args.first())?;
    let host: String = parse("host", args.get(1))?;
    let log: PathBuf = parse("log", args.get(2))?;
    let seed: u64 = parse("seed", args.get(3))?;
    let lease_ms: u64 = parse("lease_ms", args.get(4))?;
    let drain_deadline = match args.get(5).map(String::as_str) {
        Some("drain") => {
            Some(Instant::now() + Duration::from_millis(parse::<u64>("deadline", args.get(6))?))
        }
        _ => None,
    };
    let q = Queue::open(
        &file,
        Options {
            lease: Duration::from_millis(lease_ms),
            ..Options::default()
        },
    )
    .map_err(|e| format!("open {}: {e}", file.display()))?;
    let mut w = Worker {
        q,
        log: Log::create(&log)?,
        host,
        rng: Rng::new(seed),
        drain: drain_deadline.is_some(),
        lease_ms: i64::try_from(lease_ms).unwrap_or(i64::MAX),
    };
    loop {
        let got = w.round()?;
        if let Some(deadline) = drain_deadline
            && got == 0
        {
            if open_work(&w.q)? == 0 {
                return Ok(ExitCode::SUCCESS);
            }
            if Instant::now() >= deadline {
                eprintln!("soak: drain deadline passed with work left");
                return Ok(ExitCode::from(3));
            }
        }
    }
}

// -- submitter -------------------------------------------------------------------

fn submitter_main(args: &[String]) -> AnyResult<ExitCode> {
    let file: PathBuf = parse("file", args.first())?;
    let log: PathBuf = parse("log", args.get(1))?;
    let seed: u64 = parse("seed", args.get(2))?;
    let backlog: usize = parse("backlog", args.get(3))?;
    let q = Queue::open(&file, Options::default())
        .map_err(|e| format!("open {}: {e}", file.display()))?;
    let mut log = Log::create(&log)?;
    let mut rng = Rng::new(seed);
    // Ids of this incarnation that a user may act on (no dependency token: pausing one
    // of those would hold back its successors for good), and the ones it paused.
    let mut independent: Vec<i64> = Vec::new();
    let mut paused: Vec<i64> = Vec::new();
    let mut n: u64 = 0;
    let mut throttled = false;
    loop {
        n += 1;
        if throttled || n.is_multiple_of(16) {
            let mut busy = 0usize;
            for c in q.counts().map_err(|e| format!("counts: {e}"))? {
                if matches!(c.state, State::Ready | State::Locked) {
                    busy += usize::try_from(c.count).unwrap_or(0);
                }
            }
            throttled = busy > backlog;
            if throttled {
                sleep(Duration::from_millis(50));
                continue;
            }
        }
        let count = if rng.chance(60) { 1 } else { rng.range(2, 20) };
        let specs: Vec<OperationSpec> = (0..count)
            .map(|i| {
                let mut spec =
                    OperationSpec::new(format!("soak {n}.{i}"), 100 + rng.range(0, 2) as i32)
                        .data(payload(&mut rng));
                if rng.chance(15) {
                    spec = spec.dependency_token(format!("dep-{}", rng.range(0, 7)));
                }
                if rng.chance(3) {
                    spec = spec.postpone_until(now_ms() + rng.range(200, 1_500) as i64);
                }
                spec
            })
            .collect();
        let result = if count == 1 {
            q.submit(&specs[0]).map(|id| vec![id])
        } else {
            q.submit_many(&specs)
        };
        let ids = match result {
            Ok(ids) => ids,
            Err(Error::Busy) => continue,
            Err(e) => return Err(format!("submit: {e}")),
        };
        // One write for the whole batch: the acknowledged set.
        let text: Vec<String> = ids.iter().map(|id| format!("submit {id}")).collect();
        log.line(&text.join("\n"))?;
        for (id, spec) in ids.iter().zip(&specs) {
            if spec.dependency_token.is_none() {
                independent.push(*id);
            }
        }
        if independent.len() > 200 {
            independent.drain(..100);
        }
        // A user steering some of them.
        if rng.chance(8) && !independent.is_empty() {
            let id = independent[rng.range(0, independent.len() as u64 - 1) as usize];
            let (kind, id, r) = match rng.range(0, 99) {
                // Pause and Postpone-while-running act on a Locked operation (U4, U9):
                // pick one a worker holds now, so that its host has to stop it.
                0..=14 => {
                    let running = q
                        .query(&Filter {
                            state: Some(State::Locked),
                            limit: Some(50),
                            ..Filter::default()
                        })
                        .map_err(|e| format!("query: {e}"))?;
                    let running: Vec<i64> = running
                        .iter()
                        .filter(|o| o.dependency_token.is_none())
                        .map(|o| o.id)
                        .collect();
                    let id = if running.is_empty() {
                        id
                    } else {
                        running[rng.range(0, running.len() as u64 - 1) as usize]
                    };
                    ("pause", id, q.pause(id))
                }
                15..=54 if !paused.is_empty() => {
                    let at = rng.range(0, paused.len() as u64 - 1) as usize;
                    let p = paused.swap_remove(at);
                    ("resume", p, q.resume(p))
                }
                55..=79 => (
                    "postpone",
                    id,
                    q.postpone(id, now_ms() + rng.range(300, 1_500) as i64),
                ),
                _ => ("cancel", id, q.cancel(id)),
            };
            if kind == "pause" && r.is_ok() {
                paused.push(id);
            }
            let res = match &r {
                Ok(()) => "ok",
                Err(e) => err_name(e),
            };
            log.line(&format!("action {kind} {id} {res}"))?;
        }
    }
}

// -- orchestrator ----------------------------------------------------------------

struct Config {
    seconds: u64,
    kills: u64,
    workers: usize,
    dir: PathBuf,
    seed: u64,
    lease_ms: u64,
    kill_min_ms: u64,
    kill_max_ms: u64,
    max_attempts: i32,
    backlog: usize,
    drain_seconds: u64,
}

fn config(args: &[String]) -> AnyResult<Config> {
    let mut c = Config {
        seconds: 600,
        kills: u64::MAX,
        workers: 4,
        dir: std::env::temp_dir().join(format!("asyncop-soak-{}", std::process::id())),
        seed: u64::try_from(now_ms()).unwrap_or(1),
        lease_ms: 1_500,
        kill_min_ms: 50,
        kill_max_ms: 300,
        max_attempts: 25,
        backlog: 1_500,
        drain_seconds: 300,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--smoke" => {
                c.seconds = 40;
                c.kills = 60;
                c.kill_min_ms = 200;
                c.kill_max_ms = 700;
                c.backlog = 600;
                c.drain_seconds = 120;
            }
            "--seconds" => c.seconds = parse(a, Some(val()?))?,
            "--kills" => c.kills = parse(a, Some(val()?))?,
            "--workers" => c.workers = parse(a, Some(val()?))?,
            "--dir" => c.dir = parse(a, Some(val()?))?,
            "--seed" => c.seed = parse(a, Some(val()?))?,
            "--lease-ms" => c.lease_ms = parse(a, Some(val()?))?,
            "--kill-min-ms" => c.kill_min_ms = parse(a, Some(val()?))?,
            "--kill-max-ms" => c.kill_max_ms = parse(a, Some(val()?))?,
            "--max-attempts" => c.max_attempts = parse(a, Some(val()?))?,
            "--backlog" => c.backlog = parse(a, Some(val()?))?,
            "--drain-seconds" => c.drain_seconds = parse(a, Some(val()?))?,
            other => {
                return Err(format!(
                    "unknown argument {other}\nusage: soak [--smoke] [--seconds S] [--kills K] \
                     [--workers N] [--dir D] [--seed X] [--lease-ms L] [--kill-min-ms A] \
                     [--kill-max-ms B] [--max-attempts M] [--backlog B] [--drain-seconds S]"
                ));
            }
        }
    }
    if c.workers == 0 || c.kill_min_ms > c.kill_max_ms || c.lease_ms == 0 {
        return Err("need --workers >= 1, --lease-ms >= 1 and kill-min <= kill-max".into());
    }
    Ok(c)
}

/// One of the killable children, restarted under a new name after each kill.
struct Slot {
    name: String,
    incarnation: u32,
    child: Option<Child>,
}

struct Run<'a> {
    c: &'a Config,
    exe: PathBuf,
    file: PathBuf,
    logs: PathBuf,
    unexpected_exits: u64,
}

impl Run<'_> {
    fn spawn(&self, slot: &mut Slot) -> AnyResult<()> {
        slot.incarnation += 1;
        let tag = format!("{}-{}", slot.name, slot.incarnation);
        let log = self.logs.join(format!("{tag}.log"));
        let seed = self
            .c
            .seed
            .wrapping_mul(1_000_003)
            .wrapping_add(fnv(tag.as_bytes()));
        let mut cmd = Command::new(&self.exe);
        if slot.name == "submitter" {
            cmd.arg("submitter")
                .arg(&self.file)
                .arg(&log)
                .arg(seed.to_string())
                .arg(self.c.backlog.to_string());
        } else {
            cmd.arg("worker")
                .arg(&self.file)
                .arg(&tag)
                .arg(&log)
                .arg(seed.to_string())
                .arg(self.c.lease_ms.to_string());
        }
        let child = cmd
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn {tag}: {e}"))?;
        slot.child = Some(child);
        Ok(())
    }

    /// SIGKILL (`Child::kill` on Unix) and reap.
    fn kill(&self, slot: &mut Slot) -> AnyResult<()> {
        if let Some(mut child) = slot.child.take() {
            let _ = child.kill();
            child
                .wait()
                .map_err(|e| format!("wait {}: {e}", slot.name))?;
        }
        Ok(())
    }

    /// Restarts a child that ended by itself (an unexpected error: counted and reported).
    fn reap_exited(&mut self, slot: &mut Slot) -> AnyResult<()> {
        let exited = match slot.child.as_mut() {
            Some(c) => c.try_wait().map_err(|e| format!("try_wait: {e}"))?,
            None => None,
        };
        if let Some(status) = exited {
            eprintln!(
                "soak: {}-{} exited by itself: {status}",
                slot.name, slot.incarnation
            );
            self.unexpected_exits += 1;
            slot.child = None;
            self.spawn(slot)?;
        }
        Ok(())
    }
}

fn orchestrate(args: &[String]) -> AnyResult<ExitCode> {
    let c = config(args)?;
    let started = Instant::now();
    std::fs::create_dir_all(&c.dir).map_err(|e| format!("create {}: {e}", c.dir.display()))?;
    let file = c.dir.join("queue.db");
    let logs = c.dir.join("logs");
    if file.exists() || logs.exists() {
        return Err(format!(
            "{} already holds a soak run; give a fresh --dir",
            c.dir.display()
        ));
    }
    std::fs::create_dir_all(&logs).map_err(|e| format!("create logs: {e}"))?;
    println!(
        "soak: dir {} seed {} workers {} lease {} ms, kill every {}-{} ms for {} s or {} kills",
        c.dir.display(),
        c.seed,
        c.workers,
        c.lease_ms,
        c.kill_min_ms,
        c.kill_max_ms,
        c.seconds,
        if c.kills == u64::MAX {
            "unlimited".to_string()
        } else {
            c.kills.to_string()
        }
    );
    // Queue-wide settings go into the file once: a retry budget the kills do not use up
    // in normal runs, and a short back-off so retried work comes back within the run.
    Queue::open(
        &file,
        Options {
            max_attempts: Some(c.max_attempts),
            backoff_base: Some(Duration::from_millis(100)),
            backoff_cap: Some(Duration::from_millis(1_000)),
            ..Options::default()
        },
    )
    .map_err(|e| format!("create {}: {e}", file.display()))?
    .close();

    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut run = Run {
        c: &c,
        exe,
        file: file.clone(),
        logs: logs.clone(),
        unexpected_exits: 0,
    };
    let mut slots: Vec<Slot> = (0..c.workers)
        .map(|i| Slot {
            name: format!("w{i}"),
            incarnation: 0,
            child: None,
        })
        .chain(std::iter::once(Slot {
            name: "submitter".into(),
            incarnation: 0,
            child: None,
        }))
        .collect();
    for slot in &mut slots {
        run.spawn(slot)?;
    }
    let mut rng = Rng::new(c.seed);
    let mut kills = 0u64;
    let mut submitter_kills = 0u64;
    let end = started + Duration::from_secs(c.seconds);
    while Instant::now() < end && kills < c.kills {
        let wait = Instant::now() + Duration::from_millis(rng.range(c.kill_min_ms, c.kill_max_ms));
        while Instant::now() < wait {
            sleep(Duration::from_millis(5));
            for slot in &mut slots {
                run.reap_exited(slot)?;
            }
        }
        let victim = rng.range(0, slots.len() as u64 - 1) as usize;
        run.kill(&mut slots[victim])?;
        kills += 1;
        if slots[victim].name == "submitter" {
            submitter_kills += 1;
        }
        run.spawn(&mut slots[victim])?;
    }
    let killing = started.elapsed();
    // Stop everyone the same way (these kills are not counted).
    for slot in &mut slots {
        run.kill(slot)?;
    }
    println!(
        "soak: killer stopped after {:.1} s and {kills} kills ({submitter_kills} of the submitter); draining",
        killing.as_secs_f64()
    );
    let drain_log = logs.join("drain.log");
    let drain_started = Instant::now();
    let status = Command::new(&run.exe)
        .arg("worker")
        .arg(&file)
        .arg("drain")
        .arg(&drain_log)
        .arg(c.seed.to_string())
        .arg(c.lease_ms.to_string())
        .arg("drain")
        .arg((c.drain_seconds * 1_000).to_string())
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("drain: {e}"))?;
    println!(
        "soak: drain {} in {:.1} s",
        if status.success() {
            "finished"
        } else {
            "FAILED"
        },
        drain_started.elapsed().as_secs_f64()
    );
    let report = check(&c, &file, &logs)?;
    let deaths = Deaths {
        kills,
        submitter_kills,
        unexpected_exits: run.unexpected_exits,
    };
    Ok(summarize(
        &c,
        &report,
        &deaths,
        status.success(),
        started.elapsed(),
    ))
}

/// `soak check --dir D [--lease-ms L]`: the checks again on a kept run (post-mortem).
fn check_main(args: &[String]) -> AnyResult<ExitCode> {
    let c = config(args)?;
    let started = Instant::now();
    let report = check(&c, &c.dir.join("queue.db"), &c.dir.join("logs"))?;
    let deaths = Deaths {
        kills: 0,
        submitter_kills: 0,
        unexpected_exits: 0,
    };
    Ok(summarize(&c, &report, &deaths, true, started.elapsed()))
}

/// What the killer did (not in the logs).
struct Deaths {
    kills: u64,
    submitter_kills: u64,
    unexpected_exits: u64,
}

/// Prints the figures, the first details, and the summary line; the exit code.
fn summarize(
    c: &Config,
    report: &Findings,
    deaths: &Deaths,
    drain_ok: bool,
    total: Duration,
) -> ExitCode {
    println!(
        "soak: figures: submitted (rows) {}, acknowledged {}, completed {} (succeeded {}, \
         failed {}, canceled {}), poisoned {}, left paused {}, kills {} ({} of the \
         submitter; worker deaths mid-call {}, holding leases {}), lost {}, bad payloads {}, stuck {}, overlaps {}, \
         completed twice {}, claims {}, unexpected child exits {}, duration {:.1} s",
        report.rows,
        report.acknowledged,
        report.completed,
        report.succeeded,
        report.failed,
        report.canceled,
        report.poisoned,
        report.paused,
        deaths.kills,
        deaths.submitter_kills,
        report.kills_mid_call,
        report.kills_holding,
        report.lost,
        report.bad_payloads,
        report.stuck,
        report.overlaps,
        report.twice,
        report.claims,
        deaths.unexpected_exits,
        total.as_secs_f64()
    );
    println!("soak: accepted user actions: {:?}", report.actions);
    for detail in report.details.iter().take(20) {
        println!("soak:   {detail}");
    }
    let checks = [
        ("lost", report.lost == 0 && report.bad_payloads == 0),
        ("stuck", report.stuck == 0 && drain_ok),
        ("overlaps", report.overlaps == 0),
        ("completed twice", report.twice == 0),
        ("integrity", report.integrity == "ok"),
    ];
    let failed: Vec<&str> = checks.iter().filter(|c| !c.1).map(|c| c.0).collect();
    if !failed.is_empty() {
        println!(
            "soak: failed checks: {} (integrity_check: {}); files kept in {}",
            failed.join(", "),
            report.integrity,
            c.dir.display()
        );
    }
    println!(
        "soak: {} passed, {} failed",
        checks.len() - failed.len(),
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

// -- the checks ------------------------------------------------------------------

#[derive(Default)]
struct Findings {
    rows: usize,
    acknowledged: usize,
    completed: usize,
    succeeded: usize,
    failed: usize,
    canceled: usize,
    poisoned: usize,
    paused: usize,
    claims: usize,
    kills_mid_call: usize,
    kills_holding: usize,
    lost: usize,
    bad_payloads: usize,
    stuck: usize,
    overlaps: usize,
    twice: usize,
    integrity: String,
    details: Vec<String>,
    /// Accepted user actions of the submitter, per kind.
    actions: BTreeMap<String, usize>,
}

/// One renew or outcome call on a lease; `result` is None when the log ends before it.
struct CallRec {
    start: i64,
    kind: String,
    result: Option<(bool, i64)>,
}

#[derive(Default)]
struct LeaseRec {
    host: String,
    claimed: i64,
    calls: Vec<CallRec>,
}

impl LeaseRec {
    fn outcome_calls(&self) -> impl Iterator<Item = &CallRec> {
        self.calls.iter().filter(|c| c.kind != "renew")
    }
    /// The earliest time this lease can have ended: the start of the first outcome call
    /// that may have been accepted (an unanswered one may have committed before the kill),
    /// or else its expiry after the last renewal known to be accepted (an unanswered
    /// renewal may not have committed, so it proves nothing).
    fn earliest_end(&self, lease_ms: i64) -> i64 {
        let renewed = self
            .calls
            .iter()
            .filter(|c| c.kind == "renew" && c.result.is_some_and(|r| r.0))
            .map(|c| c.start)
            .fold(self.claimed, i64::max);
        let expiry = renewed + lease_ms;
        self.outcome_calls()
            .filter(|c| c.result.is_none_or(|r| r.0))
            .map(|c| c.start)
            .fold(expiry, i64::min)
    }
}

fn check(c: &Config, file: &Path, logs: &Path) -> AnyResult<Findings> {
    let lease_ms = i64::try_from(c.lease_ms).unwrap_or(i64::MAX);
    let mut r = Findings::default();
    let mut acknowledged: HashSet<i64> = HashSet::new();
    // id → token → lease record; a duplicate token is an overlap at once.
    let mut leases: HashMap<i64, BTreeMap<i64, LeaseRec>> = HashMap::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(logs)
        .map_err(|e| format!("read {}: {e}", logs.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in &entries {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
        let whole = text.ends_with('\n');
        let lines: Vec<&str> = text.lines().collect();
        // Calls of this log still waiting for their `done`, per (id, token).
        let mut open: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
        let mut held: HashSet<(i64, i64)> = HashSet::new();
        let mut last_is_call = false;
        for (i, line) in lines.iter().enumerate() {
            if i + 1 == lines.len() && !whole {
                break; // a line cut by the kill
            }
            let f: Vec<&str> = line.split(' ').collect();
            let num = |k: usize| f.get(k).and_then(|s| s.parse::<i64>().ok());
            last_is_call = false;
            match (f[0], num(1), num(2)) {
                ("submit", Some(id), _) => {
                    acknowledged.insert(id);
                }
                ("claim", Some(id), Some(token)) => {
                    r.claims += 1;
                    held.insert((id, token));
                    let rec = LeaseRec {
                        host: f.get(3).unwrap_or(&"?").to_string(),
                        claimed: num(4).unwrap_or(0),
                        calls: Vec::new(),
                    };
                    // A token handed out twice: the first record keeps both leases' calls.
                    match leases.entry(id).or_default().entry(token) {
                        std::collections::btree_map::Entry::Occupied(prev) => {
                            r.overlaps += 1;
                            r.details.push(format!(
                                "op {id}: token {token} handed to {} and again to {}",
                                prev.get().host,
                                rec.host
                            ));
                        }
                        std::collections::btree_map::Entry::Vacant(v) => {
                            v.insert(rec);
                        }
                    }
                }
                ("call", Some(id), Some(token)) => {
                    last_is_call = true;
                    let Some(rec) = leases.get_mut(&id).and_then(|m| m.get_mut(&token)) else {
                        return Err(format!("{}: call without claim: {line}", path.display()));
                    };
                    rec.calls.push(CallRec {
                        start: num(3).unwrap_or(0),
                        kind: f.get(4).unwrap_or(&"?").to_string(),
                        result: None,
                    });
                    open.entry((id, token))
                        .or_default()
                        .push(rec.calls.len() - 1);
                }
                ("done", Some(id), Some(token)) => {
                    let ok = f.get(4) == Some(&"ok");
                    let status = num(5).unwrap_or(-1);
                    let slot = open.get_mut(&(id, token)).filter(|v| !v.is_empty());
                    let Some(slot) = slot else {
                        return Err(format!("{}: done without call: {line}", path.display()));
                    };
                    let at = slot.remove(0);
                    if let Some(rec) = leases.get_mut(&id).and_then(|m| m.get_mut(&token)) {
                        rec.calls[at].result = Some((ok, status));
                        let kind = f.get(3).copied().unwrap_or("");
                        if kind != "renew" || !ok {
                            held.remove(&(id, token));
                        }
                    }
                }
                ("action", _, _) if f.get(3) == Some(&"ok") => {
                    *r.actions.entry(f[1].to_string()).or_default() += 1;
                }
                ("badpayload", Some(id), _) => {
                    r.bad_payloads += 1;
                    r.details.push(format!("op {id}: payload damaged"));
                }
                _ => {}
            }
        }
        let killed = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('w'));
        if killed {
            r.kills_mid_call += usize::from(last_is_call);
            r.kills_holding += usize::from(!held.is_empty());
        }
    }
    r.acknowledged = acknowledged.len();

    let q = Queue::open(file, Options::default()).map_err(|e| format!("reopen: {e}"))?;
    let rows = q
        .query(&Filter::default())
        .map_err(|e| format!("query: {e}"))?;
    r.rows = rows.len();
    let by_id: HashMap<i64, &asyncop::Operation> = rows.iter().map(|o| (o.id, o)).collect();

    // 1. lost
    let mut missing: Vec<i64> = acknowledged
        .iter()
        .copied()
        .filter(|id| !by_id.contains_key(id))
        .collect();
    missing.sort_unstable();
    r.lost = missing.len();
    for id in missing.iter().take(5) {
        r.details.push(format!("op {id}: acknowledged but missing"));
    }
    for o in &rows {
        if !payload_ok(&o.data) {
            r.bad_payloads += 1;
            r.details
                .push(format!("op {}: stored payload damaged", o.id));
        }
    }

    // 2. stuck, and the figures of the final states.
    for o in &rows {
        match (o.state, o.status) {
            (State::Completed, s) => {
                r.completed += 1;
                match s {
                    Status::Succeeded => r.succeeded += 1,
                    Status::Canceled => r.canceled += 1,
                    _ if o.error_code == Some(LEASE_LOST_CODE) => r.poisoned += 1,
                    _ => r.failed += 1,
                }
            }
            (State::Suspended, _) if o.postpone_until.is_none() => r.paused += 1,
            _ => {
                r.stuck += 1;
                r.details.push(format!(
                    "op {}: stuck at {}/{} (token {}, host {:?})",
                    o.id,
                    o.state.code(),
                    o.status.code(),
                    o.lock_token,
                    o.host_id
                ));
            }
        }
    }

    // 3. overlaps and 4. completed twice, per operation.
    for (&id, per) in &leases {
        let row = by_id.get(&id);
        if let Some(row) = row
            && let Some((&max_token, _)) = per.iter().next_back()
            && max_token > row.lock_token
        {
            r.overlaps += 1;
            r.details.push(format!(
                "op {id}: claimed under token {max_token} but the row says {}",
                row.lock_token
            ));
        }
        let list: Vec<(&i64, &LeaseRec)> = per.iter().collect();
        for pair in list.windows(2) {
            let ((&ta, a), (&tb, b)) = (pair[0], pair[1]);
            if b.claimed < a.claimed {
                r.overlaps += 1;
                r.details.push(format!(
                    "op {id}: token {tb} claimed at {} before token {ta} at {}",
                    b.claimed, a.claimed
                ));
            }
            let end = a.earliest_end(lease_ms);
            if b.claimed < end - TOLERANCE_MS {
                r.overlaps += 1;
                r.details.push(format!(
                    "op {id}: token {tb} claimed by {} at {} while token {ta} of {} \
                     could not have ended before {end}",
                    b.host, b.claimed, a.host
                ));
            }
        }
        // Fencing: nothing under an older token is accepted after a newer claim.
        for (&ta, a) in per {
            for (&tb, b) in per.range(ta + 1..) {
                for call in &a.calls {
                    if call.result.is_some_and(|x| x.0) && call.start > b.claimed + TOLERANCE_MS {
                        r.overlaps += 1;
                        r.details.push(format!(
                            "op {id}: {} under token {ta} accepted at {} after token {tb} \
                             was claimed at {}",
                            call.kind, call.start, b.claimed
                        ));
                    }
                }
            }
        }
        // 4. Accepted terminal outcomes (status >= 30).
        let terminal: Vec<(i64, i64)> = per
            .iter()
            .flat_map(|(&t, l)| {
                l.outcome_calls()
                    .filter_map(move |c| c.result.filter(|x| x.0 && x.1 >= 30).map(|x| (t, x.1)))
            })
            .collect();
        if terminal.len() > 1 {
            r.twice += 1;
            r.details.push(format!(
                "op {id}: {} accepted terminal outcomes {terminal:?}",
                terminal.len()
            ));
        }
        if let (Some(&(t, status)), Some(row)) = (terminal.last(), row)
            && (t != row.lock_token || i64::from(row.status.code()) != status)
        {
            r.twice += 1;
            r.details.push(format!(
                "op {id}: terminal outcome {status} under token {t}, but the row is {}/{} \
                 with token {}",
                row.state.code(),
                row.status.code(),
                row.lock_token
            ));
        }
    }
    // Dependency tokens (§7): an operation is first claimed only after every earlier one
    // with its token completed.
    let mut by_token: BTreeMap<&str, Vec<&asyncop::Operation>> = BTreeMap::new();
    for o in &rows {
        if let Some(t) = o.dependency_token.as_deref() {
            by_token.entry(t).or_default().push(o);
        }
    }
    for ops in by_token.values() {
        for pair in ops.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let first_claim = leases
                .get(&b.id)
                .and_then(|m| m.values().map(|l| l.claimed).min());
            if let (Some(claimed), Some(done)) = (first_claim, a.completed_on)
                && claimed < done
            {
                r.overlaps += 1;
                r.details.push(format!(
                    "op {}: claimed at {claimed} before op {} of its dependency token completed \
                     at {done}",
                    b.id, a.id
                ));
            }
        }
    }
    q.close();
    drop(q);

    // 5. integrity, read-only, after every process is gone.
    let conn = rusqlite::Connection::open_with_flags(
        file,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("open read-only: {e}"))?;
    let lines: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut s| {
            s.query_map([], |row| row.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<String>>>()
        })
        .map_err(|e| format!("integrity_check: {e}"))?;
    r.integrity = lines.join("; ");
    Ok(r)
}
