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
//! * W4: the W2 drain with 4 processes (copies of this binary, `--child w4 ...`).
//! * W5: batched drain: poll 100, complete the 100 in one call (raw: one transaction).
//! * W2-1M: W2 on a file that already holds 1,000,000 completed operations.
//! * latency-inproc / latency-xproc (asyncop only): submit→start p50/p99 in ms, the
//!   worker blocked in a waiting poll in this process / in a child process.
//! * stop-inproc / stop-xproc (asyncop only): cancel→the running handler's stop
//!   signal, p50/p99 in ms, the handler in this process / in a child process
//!   (`queue/stop.rs`).
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

#[path = "queue/stop.rs"]
mod stop;

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

/// Send + Sync so that worker threads can hand their errors back.
type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

const RUNS: usize = 3;
const PAYLOAD_LEN: usize = 100;
const OPERATION_TYPE: i32 = 100;
const W3_THREADS: usize = 4;
const W4_PROCESSES: usize = 4;
const W5_BATCH: u32 = 100;
const LATENCY_GAP: Duration = Duration::from_millis(2);
/// A waiting worker that sees no work for this long means the submitter died.
const LATENCY_POLL_WAIT: Duration = Duration::from_secs(5);
/// How long a parent waits for its children to get ready, and a child for "go".
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a raw-sql worker keeps trying for the write lock before it fails.
const LOCK_GIVE_UP: Duration = Duration::from_secs(60);

/// Operations per run of each workload.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    w1: usize,
    w2: usize,
    w3: usize,
    w4: usize,
    w5: usize,
    w2_big: usize,
    /// Completed rows already in the W2-1M file.
    big_base: usize,
    latency_samples: usize,
    stop_samples: usize,
}

// Chosen so that a full run (3 runs of 28 cells, four 1M-row builds) takes
// about 1.5 minutes on the 2-core development machine, and stays well under 6
// minutes even if its shared disk syncs 3 times slower: FULL pays one fsync per
// commit, so its cells take most of the time (~1-2 s per run at these counts).
const FULL_SIZES: Sizes = Sizes {
    w1: 8_000,
    w2: 5_000,
    w3: 5_000,
    w4: 5_000,
    w5: 30_000,
    w2_big: 5_000,
    big_base: 1_000_000,
    latency_samples: 300,
    stop_samples: 100,
};

const QUICK_SIZES: Sizes = Sizes {
    w1: 200,
    w2: 200,
    w3: 200,
    w4: 200,
    w5: 200,
    w2_big: 200,
    big_base: 10_000,
    latency_samples: 50,
    stop_samples: 10,
};

// ---------------------------------------------------------------------------
// Cells: implementation × workload × durability
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Impl {
    Asyncop,
    Raw,
}

impl Impl {
    const ALL: [Impl; 2] = [Impl::Asyncop, Impl::Raw];

    fn name(self) -> &'static str {
        match self {
            Impl::Asyncop => "asyncop-rust",
            Impl::Raw => "raw-sql",
        }
    }

    fn parse(s: &str) -> Res<Impl> {
        Impl::ALL
            .into_iter()
            .find(|i| i.name() == s)
            .ok_or_else(|| format!("unknown implementation {s:?}").into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Dur {
    Full,
    Normal,
}

impl Dur {
    const ALL: [Dur; 2] = [Dur::Full, Dur::Normal];

    /// Also the `PRAGMA synchronous` value the raw connections set.
    fn name(self) -> &'static str {
        match self {
            Dur::Full => "FULL",
            Dur::Normal => "NORMAL",
        }
    }

    fn parse(s: &str) -> Res<Dur> {
        Dur::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| format!("unknown durability {s:?}").into())
    }

    fn asyncop(self) -> Durability {
        match self {
            Dur::Full => Durability::Full,
            Dur::Normal => Durability::Normal,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    W1,
    W2,
    W3,
    W4,
    W5,
    W2Big,
    LatencyInproc,
    LatencyXproc,
    StopInproc,
    StopXproc,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::W1 => "W1",
            Workload::W2 => "W2",
            Workload::W3 => "W3",
            Workload::W4 => "W4",
            Workload::W5 => "W5",
            Workload::W2Big => "W2-1M",
            Workload::LatencyInproc => "latency-inproc",
            Workload::LatencyXproc => "latency-xproc",
            Workload::StopInproc => "stop-inproc",
            Workload::StopXproc => "stop-xproc",
        }
    }

    fn ops(self, sizes: &Sizes) -> usize {
        match self {
            Workload::W1 => sizes.w1,
            Workload::W2 => sizes.w2,
            Workload::W3 => sizes.w3,
            Workload::W4 => sizes.w4,
            Workload::W5 => sizes.w5,
            Workload::W2Big => sizes.w2_big,
            Workload::LatencyInproc | Workload::LatencyXproc => sizes.latency_samples,
            Workload::StopInproc | Workload::StopXproc => sizes.stop_samples,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Value {
    OpsPerSec(f64),
    LatencyMs { p50: f64, p99: f64 },
}

/// One run of one cell, with the settings read back from the file afterwards.
#[derive(Debug, Clone)]
struct Run {
    value: Value,
    journal_mode: String,
    synchronous: String,
}

#[derive(Debug)]
struct Cell {
    imp: Impl,
    workload: Workload,
    dur: Dur,
    ops: usize,
    runs: Vec<Run>,
}

// ---------------------------------------------------------------------------
// raw-sql: the minimal queue
// ---------------------------------------------------------------------------

const RAW_SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS jobs (
        id INTEGER PRIMARY KEY, state INTEGER NOT NULL, owner TEXT, payload BLOB, created INTEGER);
    CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (id) WHERE state = 0;";
/// raw-sql states: 0 ready, 1 claimed, 2 done.
const RAW_DONE: i64 = 2;

/// raw-sql `BEGIN IMMEDIATE`s that hit the 5 s busy timeout and were tried
/// again: in this process, plus what the children reported.
static BUSY_TIMEOUTS: AtomicU64 = AtomicU64::new(0);

struct RawDb {
    conn: Connection,
}

impl RawDb {
    fn open(path: &Path, dur: Dur, create: bool) -> Res<RawDb> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_millis(5000))?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(format!("raw-sql: journal_mode is {mode}, not wal").into());
        }
        conn.pragma_update(None, "synchronous", dur.name())?;
        if create {
            conn.execute_batch(RAW_SCHEMA)?;
        }
        Ok(RawDb { conn })
    }

    /// `BEGIN IMMEDIATE`, waiting as long as it takes (up to `LOCK_GIVE_UP`).
    /// SQLite's default busy handler sleeps up to 100 ms between tries while the
    /// other workers take the lock back within microseconds, so under contention
    /// (W3, W4 at FULL) one connection can starve past the 5 s busy timeout. A
    /// worker of a real minimal queue would try again rather than die: so does
    /// this one, and each such timeout is logged and counted (`BUSY_TIMEOUTS`).
    fn begin(&self) -> Res<()> {
        let started = Instant::now();
        loop {
            match self.conn.prepare_cached("BEGIN IMMEDIATE")?.execute([]) {
                Ok(_) => return Ok(()),
                Err(e)
                    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                        && started.elapsed() < LOCK_GIVE_UP =>
                {
                    BUSY_TIMEOUTS.fetch_add(1, Ordering::Relaxed);
                    eprintln!(
                        "raw-sql (pid {}): no write lock within the busy timeout ({:.1} s so far); trying again",
                        std::process::id(),
                        started.elapsed().as_secs_f64()
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// `BEGIN IMMEDIATE; f; COMMIT`, all through cached statements.
    fn in_tx<T>(&self, f: impl FnOnce(&Connection) -> Res<T>) -> Res<T> {
        self.begin()?;
        match f(&self.conn) {
            Ok(value) => {
                self.conn.prepare_cached("COMMIT")?.execute([])?;
                Ok(value)
            }
            Err(e) => {
                // Best effort: the error being returned is the one that matters.
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn insert(conn: &Connection, payload: &[u8]) -> Res<()> {
        conn.prepare_cached("INSERT INTO jobs (state, payload, created) VALUES (0, ?1, ?2)")?
            .execute(params![payload, now_ms()?])?;
        Ok(())
    }

    fn submit(&self, payload: &[u8]) -> Res<()> {
        self.in_tx(|conn| RawDb::insert(conn, payload))
    }

    fn submit_many(&self, n: usize, payload: &[u8]) -> Res<()> {
        self.in_tx(|conn| (0..n).try_for_each(|_| RawDb::insert(conn, payload)))
    }

    /// Claims up to `max` ready jobs, oldest first; returns their ids.
    fn claim(&self, owner: &str, max: u32) -> Res<Vec<i64>> {
        // The limit is written into the SQL, one cached statement per batch size:
        // a bound LIMIT is a value the planner used, so SQLite re-prepares the
        // statement after every rebind (rusqlite clears bindings when a cached
        // statement returns to the cache), which a physical limit must not pay.
        let sql = format!(
            "UPDATE jobs SET state = 1, owner = ?1 WHERE id IN \
             (SELECT id FROM jobs WHERE state = 0 ORDER BY id LIMIT {max}) RETURNING id, payload"
        );
        self.in_tx(|conn| {
            let mut stmt = conn.prepare_cached(&sql)?;
            // Every row must be read: the UPDATE must run to its end before COMMIT.
            // The payload is fetched, as a worker would, and dropped.
            let rows = stmt.query_map(params![owner], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?;
            let mut ids = Vec::new();
            for row in rows {
                ids.push(row?.0);
            }
            Ok(ids)
        })
    }

    /// Completes `ids` (claimed by `owner`) in one transaction; each must change one row.
    fn complete(&self, ids: &[i64], owner: &str) -> Res<()> {
        self.in_tx(|conn| {
            let mut stmt = conn.prepare_cached(
                "UPDATE jobs SET state = 2 WHERE id = ?1 AND state = 1 AND owner = ?2",
            )?;
            for &id in ids {
                if stmt.execute(params![id, owner])? != 1 {
                    return Err(format!("raw-sql: job {id} was not claimed by {owner}").into());
                }
            }
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------
// One handle over either implementation
// ---------------------------------------------------------------------------

fn payload() -> Vec<u8> {
    vec![7u8; PAYLOAD_LEN]
}

fn spec(data: Vec<u8>) -> OperationSpec {
    OperationSpec::new("bench", OPERATION_TYPE).data(data)
}

/// Rows of a queue file, per state.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    total: i64,
    ready: i64,
    done: i64,
    /// asyncop rows claimed more than once (fencing token past 1); always 0 for raw-sql.
    reclaimed: i64,
}

enum Handle {
    Asyncop(Queue),
    Raw(RawDb),
}

impl Handle {
    fn open(imp: Impl, path: &Path, dur: Dur) -> Res<Handle> {
        Ok(match imp {
            Impl::Asyncop => Handle::Asyncop(Queue::open(
                path,
                Options {
                    sqlite: asyncop::SqliteOptions {
                        durability: dur.asyncop(),
                        ..asyncop::SqliteOptions::default()
                    },
                    ..Default::default()
                },
            )?),
            Impl::Raw => Handle::Raw(RawDb::open(path, dur, true)?),
        })
    }

    /// What a worker thread needs to get its own handle: a clone of the shared
    /// `Queue` for asyncop (the API is meant to be shared), nothing for raw-sql
    /// (each worker opens its own connection).
    fn worker_seed(&self) -> Option<Queue> {
        match self {
            Handle::Asyncop(q) => Some(q.clone()),
            Handle::Raw(_) => None,
        }
    }

    fn from_seed(seed: Option<Queue>, path: &Path, dur: Dur) -> Res<Handle> {
        Ok(match seed {
            Some(q) => Handle::Asyncop(q),
            None => Handle::Raw(RawDb::open(path, dur, false)?),
        })
    }

    fn submit(&self, spec: &OperationSpec) -> Res<()> {
        match self {
            Handle::Asyncop(q) => {
                q.submit(spec)?;
            }
            Handle::Raw(db) => db.submit(&spec.data)?,
        }
        Ok(())
    }

    /// `n` operations in one transaction (not timed).
    fn prefill(&self, n: usize) -> Res<()> {
        match self {
            Handle::Asyncop(q) => {
                q.submit_many(&vec![spec(payload()); n])?;
            }
            Handle::Raw(db) => db.submit_many(n, &payload())?,
        }
        Ok(())
    }

    /// One claim of up to `max` and the completion of what it got; returns how many
    /// (0: the queue is empty). With `max` 1 the completion is one call (W2); with
    /// more, one batch call (W5).
    fn drain_step(&self, host: &str, max: u32) -> Res<usize> {
        match self {
            Handle::Asyncop(q) => {
                let leases = q.poll(host, &PollOptions::default().max(max))?;
                if max == 1 {
                    for lease in &leases {
                        expect_succeeded(q.complete(lease.key())?)?;
                    }
                } else if !leases.is_empty() {
                    complete_batch(q, &leases)?;
                }
                Ok(leases.len())
            }
            Handle::Raw(db) => {
                let ids = db.claim(host, max)?;
                if !ids.is_empty() {
                    db.complete(&ids, host)?;
                }
                Ok(ids.len())
            }
        }
    }

    /// Drains until a claim finds nothing; returns how many this worker completed.
    fn drain(&self, host: &str, max: u32) -> Res<usize> {
        let mut done = 0;
        loop {
            match self.drain_step(host, max)? {
                0 => return Ok(done),
                n => done += n,
            }
        }
    }

    /// `PRAGMA journal_mode` and `synchronous` as this handle's connection has them.
    fn pragmas(&self) -> Res<(String, String)> {
        let read = |conn: &Connection| -> rusqlite::Result<(String, i64)> {
            Ok((
                conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
            ))
        };
        let (mode, sync) = match self {
            // The writer connection: the one whose commits were measured.
            Handle::Asyncop(q) => {
                asyncop::store::sqlite::testing::write(q, |conn| Ok(read(conn)?))?
            }
            Handle::Raw(db) => read(&db.conn)?,
        };
        let sync = match sync {
            0 => "OFF".to_owned(),
            1 => "NORMAL".to_owned(),
            2 => "FULL".to_owned(),
            3 => "EXTRA".to_owned(),
            n => format!("{n}?"),
        };
        Ok((mode.to_lowercase(), sync))
    }

    fn tally(&self) -> Res<Tally> {
        let mut t = Tally::default();
        match self {
            Handle::Asyncop(q) => {
                for row in q.counts()? {
                    t.total += row.count;
                    match row.status {
                        Status::WaitingForResources => t.ready += row.count,
                        Status::Succeeded => t.done += row.count,
                        _ => {}
                    }
                }
                t.reclaimed = asyncop::store::sqlite::testing::read(q, |conn| {
                    Ok(conn.query_row(
                        "SELECT count(*) FROM operation WHERE lock_token > 1",
                        [],
                        |r| r.get(0),
                    )?)
                })?;
            }
            Handle::Raw(db) => {
                let mut stmt = db
                    .conn
                    .prepare("SELECT state, count(*) FROM jobs GROUP BY state")?;
                let rows =
                    stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
                for row in rows {
                    let (state, count) = row?;
                    t.total += count;
                    match state {
                        0 => t.ready += count,
                        RAW_DONE => t.done += count,
                        _ => {}
                    }
                }
            }
        }
        Ok(t)
    }

    fn close(self) {
        match self {
            Handle::Asyncop(q) => q.close(),
            Handle::Raw(db) => drop(db),
        }
    }
}

fn expect_succeeded(status: Status) -> Res<()> {
    if status == Status::Succeeded {
        Ok(())
    } else {
        Err(format!("complete returned {status:?}, not Succeeded").into())
    }
}

/// W5's batch outcome: every lease of one poll completed as Succeeded in one
/// call (one transaction, a savepoint per lease). The outer `?` is the batch
/// failing as a whole; each inner result must be Succeeded too.
fn complete_batch(queue: &Queue, leases: &[Lease]) -> Res<()> {
    let keys: Vec<LeaseKey> = leases.iter().map(Lease::key).collect();
    let outcomes = queue.complete_many(&keys)?;
    for outcome in outcomes {
        expect_succeeded(outcome?)?;
    }
    Ok(())
}

/// After a drain of `n` operations that the workers report as `completed`:
/// exactly `n` rows more than `before`, all done, nothing ready or in between,
/// nothing claimed twice. A complete succeeds once per row at most, so `n`
/// successful completes and `n` more done rows mean each was done exactly once.
fn check_drained(before: Tally, after: Tally, n: usize, completed: usize) -> Res<()> {
    let n = i64::try_from(n)?;
    let completed = i64::try_from(completed)?;
    if after.total != before.total + n
        || after.done != before.done + n
        || after.done != after.total
        || after.ready != 0
        || after.reclaimed != 0
        || completed != n
    {
        return Err(format!(
            "lost or repeated work: {n} operations drained, workers completed {completed}; \
             rows before {before:?}, after {after:?}"
        )
        .into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------

fn now_ms() -> Res<i64> {
    Ok(i64::try_from(
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis(),
    )?)
}

/// Wall-clock nanoseconds: the one clock that two processes share.
fn now_ns() -> Res<u64> {
    Ok(u64::try_from(
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos(),
    )?)
}

fn rate(n: usize, elapsed: Duration) -> Value {
    Value::OpsPerSec(n as f64 / elapsed.as_secs_f64())
}

fn finish(h: Handle, value: Value) -> Res<Run> {
    let (journal_mode, synchronous) = h.pragmas()?;
    h.close();
    Ok(Run {
        value,
        journal_mode,
        synchronous,
    })
}

fn run_w1(imp: Impl, dur: Dur, path: &Path, n: usize) -> Res<Run> {
    let h = Handle::open(imp, path, dur)?;
    let before = h.tally()?;
    let spec = spec(payload());
    let started = Instant::now();
    for _ in 0..n {
        h.submit(&spec)?;
    }
    let elapsed = started.elapsed();
    let after = h.tally()?;
    let added = i64::try_from(n)?;
    if after.total != before.total + added || after.ready != before.ready + added {
        return Err(format!("submitted {n}, rows before {before:?}, after {after:?}").into());
    }
    finish(h, rate(n, elapsed))
}

/// W2, W5 and W2-1M: one worker in this thread.
fn run_drain(imp: Impl, dur: Dur, path: &Path, n: usize, max: u32) -> Res<Run> {
    let h = Handle::open(imp, path, dur)?;
    let before = h.tally()?;
    h.prefill(n)?;
    let started = Instant::now();
    let completed = h.drain("bench-0", max)?;
    let elapsed = started.elapsed();
    check_drained(before, h.tally()?, n, completed)?;
    finish(h, rate(n, elapsed))
}

fn run_w3(imp: Impl, dur: Dur, path: &Path, n: usize) -> Res<Run> {
    let h = Handle::open(imp, path, dur)?;
    let before = h.tally()?;
    h.prefill(n)?;
    // Connections are opened before the barrier, so the drain alone is timed.
    let barrier = Barrier::new(W3_THREADS);
    let (completed, elapsed) = thread::scope(|s| -> Res<(usize, Duration)> {
        let workers: Vec<_> = (0..W3_THREADS)
            .map(|i| {
                let seed = h.worker_seed();
                let barrier = &barrier;
                s.spawn(move || -> Res<(usize, Instant, Instant)> {
                    let worker = Handle::from_seed(seed, path, dur);
                    // Wait even after a failed open, or the others would wait forever.
                    barrier.wait();
                    let started = Instant::now();
                    let completed = worker?.drain(&format!("bench-{i}"), 1)?;
                    Ok((completed, started, Instant::now()))
                })
            })
            .collect();
        // The workers' own clocks: on 2 cores this thread may be descheduled
        // right after a barrier while the workers already drain.
        let mut completed = 0;
        let mut span: Option<(Instant, Instant)> = None;
        for w in workers {
            let (count, start, end) = w.join().map_err(|_| "a W3 worker panicked")??;
            completed += count;
            span = Some(span.map_or((start, end), |(s, e)| (s.min(start), e.max(end))));
        }
        let (start, end) = span.ok_or("no W3 workers")?;
        Ok((completed, end - start))
    })?;
    check_drained(before, h.tally()?, n, completed)?;
    finish(h, rate(n, elapsed))
}

/// Child processes, killed and reaped on drop unless already waited for, so that
/// no error path leaves one running.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            if matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

impl Children {
    fn spawn(args: &[&str]) -> Res<Child> {
        Ok(Command::new(std::env::current_exe()?)
            .arg("--child")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()?)
    }

    /// Waits until every child has created its ready file; fails at once if one exits.
    fn wait_ready(&mut self, files: &[PathBuf]) -> Res<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while !files.iter().all(|f| f.exists()) {
            for child in &mut self.0 {
                if let Some(status) = child.try_wait()? {
                    return Err(format!("a child exited before it was ready: {status}").into());
                }
            }
            if Instant::now() > deadline {
                return Err("children not ready in time".into());
            }
            thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }

    fn wait_all(&mut self) -> Res<()> {
        for child in &mut self.0 {
            let status = child.wait()?;
            if !status.success() {
                return Err(format!("a child failed: {status}").into());
            }
        }
        Ok(())
    }
}

/// A signal file next to the queue file: `<path>.<what>`.
fn beside(path: &Path, what: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{what}"));
    PathBuf::from(s)
}

fn wait_for_file(path: &Path) -> Res<()> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    while !path.exists() {
        if Instant::now() > deadline {
            return Err(format!("{} did not appear", path.display()).into());
        }
        thread::sleep(Duration::from_micros(200));
    }
    Ok(())
}

/// The first line of a child's report: `journal_mode synchronous peak_kib busy_timeouts`.
fn child_header(h: &Handle) -> Res<String> {
    let (mode, sync) = h.pragmas()?;
    Ok(format!(
        "{mode} {sync} {} {}\n",
        peak_rss_kib()?,
        BUSY_TIMEOUTS.load(Ordering::Relaxed)
    ))
}

/// Checks that a child's connection had the settings the parent's has, and
/// records its peak RSS and busy timeouts.
fn read_child_header(line: &str, parent: &(String, String)) -> Res<()> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let [mode, sync, peak, busy] = words[..] else {
        return Err(format!("bad child report {line:?}").into());
    };
    if (mode, sync) != (parent.0.as_str(), parent.1.as_str()) {
        return Err(format!("child ran with {mode}/{sync}, parent with {parent:?}").into());
    }
    CHILDREN_PEAK_KIB.fetch_max(peak.parse()?, Ordering::Relaxed);
    BUSY_TIMEOUTS.fetch_add(busy.parse()?, Ordering::Relaxed);
    Ok(())
}

fn run_w4(imp: Impl, dur: Dur, path: &Path, n: usize) -> Res<Run> {
    // The parent keeps its handle open through the run, as W3's does: a child's
    // exit is then never the last close, which would checkpoint the WAL.
    let h = Handle::open(imp, path, dur)?;
    let before = h.tally()?;
    h.prefill(n)?;
    let path_str = path.to_str().ok_or("temp path is not UTF-8")?;
    let hosts: Vec<String> = (0..W4_PROCESSES).map(|i| format!("bench-{i}")).collect();
    let mut children = Children(Vec::new());
    for host in &hosts {
        children.0.push(Children::spawn(&[
            "w4",
            imp.name(),
            dur.name(),
            path_str,
            host,
        ])?);
    }
    let ready: Vec<PathBuf> = hosts
        .iter()
        .map(|h| beside(path, &format!("ready-{h}")))
        .collect();
    children.wait_ready(&ready)?;
    // Started before "go" exists: the children may run before this thread does again.
    let started = Instant::now();
    fs::write(beside(path, "go"), b"")?;
    children.wait_all()?;
    let elapsed = started.elapsed();
    let parent = h.pragmas()?;
    let mut per_process = Vec::new();
    for host in &hosts {
        let report = fs::read_to_string(beside(path, &format!("result-{host}")))?;
        let mut lines = report.lines();
        read_child_header(lines.next().unwrap_or(""), &parent)?;
        per_process.push(lines.next().unwrap_or("").trim().parse::<usize>()?);
    }
    // How fairly the write lock went round: the busy handlers differ.
    eprintln!(
        "  {} W4 {}: completed per process {per_process:?}",
        imp.name(),
        dur.name()
    );
    let completed = per_process.iter().sum();
    check_drained(before, h.tally()?, n, completed)?;
    finish(h, rate(n, elapsed))
}

/// `--child w4 <impl> <durability> <path> <host>`: open, report ready, wait for
/// go, drain, report `journal_mode synchronous` and the count.
fn child_w4(imp: &str, dur: &str, path: &Path, host: &str) -> Res<()> {
    let dur = Dur::parse(dur)?;
    let h = match Impl::parse(imp)? {
        Impl::Asyncop => Handle::open(Impl::Asyncop, path, dur)?,
        Impl::Raw => Handle::Raw(RawDb::open(path, dur, false)?),
    };
    fs::write(beside(path, &format!("ready-{host}")), b"")?;
    wait_for_file(&beside(path, "go"))?;
    let completed = h.drain(host, 1)?;
    let header = child_header(&h)?;
    h.close();
    fs::write(
        beside(path, &format!("result-{host}")),
        format!("{header}{completed}\n"),
    )?;
    Ok(())
}

fn stamped_spec(payload: &mut [u8]) -> Res<OperationSpec> {
    payload[..8].copy_from_slice(&now_ns()?.to_le_bytes());
    Ok(spec(payload.to_vec()))
}

/// Submit→start of one claimed operation, in nanoseconds.
fn latency_sample(lease: &Lease) -> Res<u64> {
    let started = now_ns()?;
    let stamp: [u8; 8] = lease
        .data
        .get(..8)
        .ok_or("payload without a stamp")?
        .try_into()?;
    started
        .checked_sub(u64::from_le_bytes(stamp))
        .ok_or_else(|| "start before submit: did the wall clock step?".into())
}

/// The latency worker: blocked in a waiting poll, takes `samples` operations one
/// by one, completes each.
fn latency_worker(queue: &Queue, host: &str, samples: usize) -> Res<Vec<u64>> {
    let options = PollOptions::default().wait(LATENCY_POLL_WAIT);
    let mut out = Vec::with_capacity(samples);
    while out.len() < samples {
        let leases = queue.poll(host, &options)?;
        if leases.is_empty() {
            return Err(format!("no work within {LATENCY_POLL_WAIT:?}: submitter gone?").into());
        }
        for lease in leases {
            out.push(latency_sample(&lease)?);
            expect_succeeded(queue.complete(lease.key())?)?;
        }
    }
    Ok(out)
}

/// The latency submitter: one operation at a time, `LATENCY_GAP` apart.
fn latency_submitter(queue: &Queue, samples: usize) -> Res<()> {
    let mut data = payload();
    for _ in 0..samples {
        queue.submit(&stamped_spec(&mut data)?)?;
        thread::sleep(LATENCY_GAP);
    }
    Ok(())
}

/// Lets the worker get into its waiting poll before the first submit.
const WORKER_SETTLE: Duration = Duration::from_millis(30);

fn run_latency_inproc(dur: Dur, path: &Path, n: usize) -> Res<Run> {
    let h = Handle::open(Impl::Asyncop, path, dur)?;
    let queue = h.worker_seed().ok_or("latency needs asyncop")?;
    let before = h.tally()?;
    let samples = thread::scope(|s| -> Res<Vec<u64>> {
        let worker = s.spawn(|| latency_worker(&queue, "bench-latency", n));
        thread::sleep(WORKER_SETTLE);
        let submitted = latency_submitter(&queue, n);
        let samples = worker.join().map_err(|_| "the latency worker panicked")??;
        submitted?;
        Ok(samples)
    })?;
    check_drained(before, h.tally()?, n, samples.len())?;
    finish(h, latency_value(samples)?)
}

fn run_latency_xproc(dur: Dur, path: &Path, n: usize) -> Res<Run> {
    let h = Handle::open(Impl::Asyncop, path, dur)?;
    let queue = h.worker_seed().ok_or("latency needs asyncop")?;
    let before = h.tally()?;
    let path_str = path.to_str().ok_or("temp path is not UTF-8")?;
    let host = "bench-latency";
    let mut children = Children(vec![Children::spawn(&[
        "latency",
        dur.name(),
        path_str,
        host,
        &n.to_string(),
    ])?]);
    children.wait_ready(&[beside(path, &format!("ready-{host}"))])?;
    thread::sleep(WORKER_SETTLE);
    latency_submitter(&queue, n)?;
    children.wait_all()?;
    let report = fs::read_to_string(beside(path, &format!("result-{host}")))?;
    let mut lines = report.lines();
    read_child_header(lines.next().unwrap_or(""), &h.pragmas()?)?;
    let samples = lines
        .map(|l| l.trim().parse::<u64>())
        .collect::<Result<Vec<_>, _>>()?;
    check_drained(before, h.tally()?, n, samples.len())?;
    finish(h, latency_value(samples)?)
}

/// `--child latency <durability> <path> <host> <samples>`.
fn child_latency(dur: &str, path: &Path, host: &str, samples: &str) -> Res<()> {
    let h = Handle::open(Impl::Asyncop, path, Dur::parse(dur)?)?;
    let queue = h.worker_seed().ok_or("latency needs asyncop")?;
    fs::write(beside(path, &format!("ready-{host}")), b"")?;
    let samples = latency_worker(&queue, host, samples.parse()?)?;
    let mut report = child_header(&h)?;
    h.close();
    for s in samples {
        writeln!(report, "{s}")?;
    }
    fs::write(beside(path, &format!("result-{host}")), report)?;
    Ok(())
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn latency_value(mut samples: Vec<u64>) -> Res<Value> {
    if samples.is_empty() {
        return Err("no latency samples".into());
    }
    samples.sort_unstable();
    let ms = |ns: u64| ns as f64 / 1e6;
    Ok(Value::LatencyMs {
        p50: ms(percentile(&samples, 0.50)),
        p99: ms(percentile(&samples, 0.99)),
    })
}

/// Builds the W2-1M file: `rows` completed operations in one transaction, every
/// column as a real completed row would have it (asyncop: 3/30, claimed once).
fn build_big(imp: Impl, path: &Path, rows: usize) -> Res<()> {
    let rows = i64::try_from(rows)?;
    let now = now_ms()?;
    // Zero-padded names and increasing times: every index grows at its end, so
    // the build needs no large page cache (which would inflate the peak RSS).
    let series = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)";
    match imp {
        Impl::Asyncop => {
            let queue = Queue::open(path, Options::default())?;
            asyncop::store::sqlite::testing::write(&queue, |conn| {
                conn.execute(
                    &format!(
                        "{series} INSERT INTO operation (name, operation_type, state, status, \
                         data, lock_token, created_on, modified_on, started_on, completed_on, \
                         execution_time_span) \
                         SELECT printf('done-%08d', i), {OPERATION_TYPE}, 3, 30, \
                         zeroblob({PAYLOAD_LEN}), 1, ?2 - ?1 + i, ?2 - ?1 + i, ?2 - ?1 + i, \
                         ?2 - ?1 + i, 0 FROM n"
                    ),
                    params![rows, now],
                )?;
                Ok(())
            })?;
            queue.close();
        }
        Impl::Raw => {
            let db = RawDb::open(path, Dur::Full, true)?;
            db.in_tx(|conn| {
                conn.execute(
                    &format!(
                        "{series} INSERT INTO jobs (state, owner, payload, created) \
                         SELECT {RAW_DONE}, 'done', zeroblob({PAYLOAD_LEN}), ?2 - ?1 + i FROM n"
                    ),
                    params![rows, now],
                )?;
                Ok(())
            })?;
        }
    }
    // Everything into the main file and synced (a plain connection is
    // synchronous=FULL), so that no writeback of the build overlaps a run.
    let conn = Connection::open(path)?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

fn sync_fs(dir: &Path) -> Res<()> {
    let dir = fs::File::open(dir)?;
    // SAFETY: syncfs takes any open descriptor of the file system; `dir` lives on.
    if unsafe { libc::syncfs(std::os::fd::AsRawFd::as_raw_fd(&dir)) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    Ok(())
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = fs::remove_file(p);
    }
}

// ---------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------

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
        });
    };
    use Workload::*;
    for workload in [W1, W2, W3, W4, W5, W2Big] {
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
    cells
}

fn run_cell(cell: &Cell, dir: &Path, big: &HashMap<(Impl, Dur), PathBuf>) -> Res<Run> {
    let (imp, dur, n) = (cell.imp, cell.dur, cell.ops);
    if cell.workload == Workload::W2Big {
        // The same big file for all three runs; each run adds its own operations.
        let path = big.get(&(imp, dur)).ok_or("missing W2-1M file")?;
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
        Workload::W4 => run_w4(imp, dur, &path, n),
        Workload::W5 => run_drain(imp, dur, &path, n, W5_BATCH),
        Workload::LatencyInproc => run_latency_inproc(dur, &path, n),
        Workload::LatencyXproc => run_latency_xproc(dur, &path, n),
        Workload::StopInproc => stop::run_stop_inproc(dur, &path, n),
        Workload::StopXproc => stop::run_stop_xproc(dur, &path, n),
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

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn describe(value: &Value) -> String {
    match value {
        Value::OpsPerSec(r) => format!("{r:.0} ops/s"),
        Value::LatencyMs { p50, p99 } => format!("p50 {p50:.3} ms, p99 {p99:.3} ms"),
    }
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

/// This process's peak resident set, `VmHWM`, in KiB. Not `getrusage`'s
/// `ru_maxrss`: Linux carries that across `execve`, so under `cargo bench` it
/// reports the size of cargo (which forked this process), and for a child the
/// size of this process at the spawn.
fn peak_rss_kib() -> Res<u64> {
    let status = fs::read_to_string("/proc/self/status")?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .ok_or("no VmHWM in /proc/self/status")?;
    Ok(kib.trim().trim_end_matches("kB").trim().parse()?)
}

/// The largest `VmHWM` the child processes reported.
static CHILDREN_PEAK_KIB: AtomicU64 = AtomicU64::new(0);

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn machine() -> String {
    // SAFETY: uname only writes the struct it is given; all-zero is a valid utsname.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable utsname.
    let uname = if unsafe { libc::uname(&mut u) } == 0 {
        let field = |f: &[libc::c_char]| {
            let bytes: Vec<u8> = f
                .iter()
                .take_while(|&&c| c != 0)
                .map(|&c| c as u8)
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        format!(
            "{} {} {}",
            field(&u.sysname),
            field(&u.release),
            field(&u.machine)
        )
    } else {
        "unknown".to_owned()
    };
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown cpu".to_owned());
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    format!("{uname} / {cpu} / {cores} cores")
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON number with `decimals` places; JSON has no NaN or infinity.
fn json_num(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        "null".to_owned()
    }
}

fn json_list(xs: &[f64], decimals: usize) -> String {
    let items: Vec<String> = xs.iter().map(|&x| json_num(x, decimals)).collect();
    format!("[{}]", items.join(", "))
}

/// (journal_mode, synchronous) of a cell: every run must have read back the same.
fn cell_settings(cell: &Cell) -> Res<(&str, &str)> {
    let first = cell.runs.first().ok_or("a cell without runs")?;
    for run in &cell.runs {
        if (&run.journal_mode, &run.synchronous) != (&first.journal_mode, &first.synchronous) {
            return Err(format!(
                "{} {} {}: runs read back different settings",
                cell.imp.name(),
                cell.workload.name(),
                cell.dur.name()
            )
            .into());
        }
    }
    Ok((&first.journal_mode, &first.synchronous))
}

/// Per cell: the run values (ops/s, or p50 and p99).
fn series(cell: &Cell) -> (Vec<f64>, Vec<f64>) {
    let mut a = Vec::new();
    let mut b = Vec::new();
    for run in &cell.runs {
        match run.value {
            Value::OpsPerSec(r) => a.push(r),
            Value::LatencyMs { p50, p99 } => {
                a.push(p50);
                b.push(p99);
            }
        }
    }
    (a, b)
}

/// `rss`: peak RSS in MiB of this process and of the largest child.
fn write_json(path: &Path, cells: &[Cell], quick: bool, rss: (f64, f64)) -> Res<()> {
    let mut results = Vec::new();
    for cell in cells {
        let (journal, sync) = cell_settings(cell)?;
        let mut r = format!(
            "{{\"impl\": {}, \"workload\": {}, \"durability\": {}, \"journal_mode\": {}, \
             \"synchronous\": {}, ",
            json_str(cell.imp.name()),
            json_str(cell.workload.name()),
            json_str(cell.dur.name()),
            json_str(journal),
            json_str(sync),
        );
        let (a, b) = series(cell);
        if b.is_empty() {
            write!(
                r,
                "\"metric\": \"ops_per_sec\", \"value\": {}, \"runs\": {}, \"ops\": {}}}",
                json_num(median(&a), 1),
                json_list(&a, 1),
                cell.ops
            )?;
        } else {
            write!(
                r,
                "\"metric\": \"latency_ms\", \"p50\": {}, \"p99\": {}, \"runs_p50\": {}, \
                 \"runs_p99\": {}, \"samples\": {}}}",
                json_num(median(&a), 4),
                json_num(median(&b), 4),
                json_list(&a, 4),
                json_list(&b, 4),
                cell.ops
            )?;
        }
        results.push(r);
    }
    let json = format!(
        "{{\"source\": \"rust\", \"machine\": {}, \"sqlite_version\": {},\n \"quick\": {quick}, \
         \"peak_rss_mib\": {}, \"children_peak_rss_mib\": {},\n \"results\": [\n  {}\n ]}}\n",
        json_str(&machine()),
        json_str(rusqlite::version()),
        json_num(rss.0, 1),
        json_num(rss.1, 1),
        results.join(",\n  ")
    );
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, json)?;
    Ok(())
}

fn print_table(cells: &[Cell]) -> Res<()> {
    println!(
        "{:<13} {:<15} {:<6} {:<7} {:<6} {:>24}  runs",
        "impl", "workload", "dur", "journal", "sync", "median"
    );
    for cell in cells {
        let (journal, sync) = cell_settings(cell)?;
        let (a, b) = series(cell);
        let (value, runs) = if b.is_empty() {
            let runs: Vec<String> = a.iter().map(|r| format!("{r:.0}")).collect();
            (format!("{:.0} ops/s", median(&a)), runs.join(" "))
        } else {
            let runs: Vec<String> = a
                .iter()
                .zip(&b)
                .map(|(p50, p99)| format!("{p50:.3}/{p99:.3}"))
                .collect();
            (
                format!("p50 {:.3} p99 {:.3} ms", median(&a), median(&b)),
                runs.join(" "),
            )
        };
        println!(
            "{:<13} {:<15} {:<6} {:<7} {:<6} {:>24}  {}",
            cell.imp.name(),
            cell.workload.name(),
            cell.dur.name(),
            journal,
            sync,
            value,
            runs
        );
    }
    Ok(())
}

fn child_main(args: &[String]) -> Res<()> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args[..] {
        ["w4", imp, dur, path, host] => child_w4(imp, dur, Path::new(path), host),
        ["latency", dur, path, host, samples] => child_latency(dur, Path::new(path), host, samples),
        ["stop", dur, path, host, samples] => stop::child_stop(dur, Path::new(path), host, samples),
        _ => Err(format!("bad child arguments {args:?}").into()),
    }
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
            build_big(imp, &path, sizes.big_base)?;
            eprintln!(
                "built {} with {} completed rows in {:.1} s",
                path.display(),
                sizes.big_base,
                t.elapsed().as_secs_f64()
            );
            big.insert((imp, dur), path);
        }
    }
    // The builds wrote ~1.6 GB (each file's WAL, then the file) and freed their
    // WALs: flush the file system now, so that deferred writeback and journal
    // work land here rather than in the first round's runs.
    sync_fs(&dir.0)?;

    for run in 1..=RUNS {
        for cell in &mut cells {
            let t = Instant::now();
            let result = run_cell(cell, &dir.0, &big).map_err(|e| {
                format!(
                    "{} {} {} run {run}: {e}",
                    cell.imp.name(),
                    cell.workload.name(),
                    cell.dur.name()
                )
            })?;
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
    for path in big.values() {
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
    Ok(())
}
