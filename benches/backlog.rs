//! The backlog half of the benchmark (issue 15, items 7 and 8): what a claim
//! costs past what it skips, how long maintenance holds the write lock while
//! a backlog falls due or expires at once, and what `counts()` costs as the
//! table grows. `Durability::Normal`: the figures are about the walk and the
//! lock, not the fsync.
//!
//! `cargo bench --bench backlog -- [--quick] [--out PATH]` runs every case 3
//! times and writes the rows `benches/report.py` reads (target/bench/
//! backlog.json): claim-empty, claim-past-blocked-100k,
//! claim-past-filtered-100k, claim-past-held-100k (ms, median of 50 polls),
//! lock-hold-due-1M, lock-hold-expire-1M (the longest write-lock hold, ms),
//! counts-1k, counts-1M (ms, median of 50 calls). `--quick` uses 1/100 of
//! the sizes (rows named by their real size, so the targets read "not
//! measured").
//!
//! `cargo bench --bench backlog -- CASE` runs one case and prints one line:
//! `empty`, `blocked-N` (N Ready operations wait behind a dependency token
//! whose head runs), `filtered-N` (N Ready operations of another type ahead
//! of a type-filtered poll), `held-N` (N Ready operations of a held type
//! ahead of an unfiltered poll), `due-N` (N postponed operations fall due at
//! once; the polls of one worker take them), `expire-N` (N leases expire at
//! once), `counts-N` (N rows), or `w2-N` (the benchmark's W2 drain of N
//! operations, one per poll).

use asyncop::store::sqlite::testing;
use asyncop::{Durability, ManualClock, OperationSpec, Options, PollOptions, Queue};
use std::sync::Arc;
use std::time::{Duration, Instant};

const T0: i64 = 1_700_000_000_000;
const TYPE: i32 = 100;
const REPS: usize = 50;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// `n` rows of one statement: Ready of `operation_type` with `token`, or
/// (with `due`) postponed until `due`.
fn insert(
    q: &Queue,
    n: usize,
    operation_type: i32,
    token: Option<&str>,
    due: Option<i64>,
) -> Res<()> {
    let token = token.map(str::to_owned);
    let (state, status) = if due.is_some() { (1, 10) } else { (0, 0) };
    testing::write(q, move |conn| {
        conn.execute(
            "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1) \
             INSERT INTO operation (name, operation_type, state, status, data, dependency_token, \
                 postpone_until, created_on, modified_on) \
             SELECT 'skipped', ?2, ?3, ?4, x'', ?5, ?6, ?7, ?7 FROM k",
            rusqlite::params![n as i64, operation_type, state, status, token, due, T0],
        )?;
        Ok(())
    })?;
    Ok(())
}

fn median_ms(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1e3
}

/// Median time of a poll that claims the one eligible operation submitted
/// just before it (then completed, outside the timing).
fn claim_median(q: &Queue, poll: &PollOptions) -> Res<f64> {
    let mut times = Vec::new();
    for _ in 0..REPS {
        let id = q.submit(&OperationSpec::new("eligible", TYPE))?;
        let started = Instant::now();
        let leases = q.poll("host", poll)?;
        times.push(started.elapsed());
        if leases.len() != 1 || leases[0].id != id {
            return Err(format!("claimed {leases:?}, expected {id}").into());
        }
        q.complete(leases[0].key())?;
    }
    Ok(median_ms(times))
}

/// One case's figure: the value the JSON row carries (ms) and a line for people.
struct Measured {
    ms: f64,
    line: String,
}

/// The cases of a full run: (row name, case, size) at full size; `--quick`
/// divides every size by 100.
const CASES: [(&str, &str, usize); 8] = [
    ("claim-empty", "empty", 0),
    ("claim-past-blocked", "blocked", 100_000),
    ("claim-past-filtered", "filtered", 100_000),
    ("claim-past-held", "held", 100_000),
    ("lock-hold-due", "due", 1_000_000),
    ("lock-hold-expire", "expire", 1_000_000),
    ("counts", "counts", 1_000),
    ("counts", "counts", 1_000_000),
];
const RUNS: usize = 3;

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let quick = args.iter().any(|a| a == "--quick");
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);
    let single = args.iter().find(|a| {
        !a.starts_with("--") && Some(a.as_str()) != out.as_ref().and_then(|p| p.to_str())
    });
    if let Some(case) = single {
        let (kind, n) = match case.split_once('-') {
            Some((k, n)) => (k.to_owned(), n.parse::<usize>()?),
            None => (case.clone(), 0),
        };
        println!("{}", run_case(&kind, n)?.line);
        return Ok(());
    }
    let out = out.unwrap_or_else(|| {
        std::path::PathBuf::from("target/bench").join(if quick {
            "backlog-quick.json"
        } else {
            "backlog.json"
        })
    });
    let mut rows = Vec::new();
    for (name, kind, full) in CASES {
        let n = if quick { full / 100 } else { full };
        let workload = if n == 0 {
            name.to_owned()
        } else {
            format!("{name}-{}", size_label(n))
        };
        let mut runs = Vec::new();
        let mut error = None;
        for run in 1..=RUNS {
            match run_case(kind, n) {
                Ok(m) => {
                    eprintln!("  run {run}/{RUNS} {workload}: {}", m.line);
                    runs.push(m.ms);
                }
                Err(e) => {
                    eprintln!("  run {run}/{RUNS} {workload}: FAILED: {e}");
                    error = Some(e.to_string());
                    break;
                }
            }
        }
        let mut sorted = runs.clone();
        sorted.sort_by(f64::total_cmp);
        let value = (error.is_none() && !sorted.is_empty()).then(|| sorted[sorted.len() / 2]);
        rows.push(row_json(&workload, value, &runs, n, error.as_deref()));
    }
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, format!("[\n{}\n]\n", rows.join(",\n")))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

/// 1000 -> "1k", 100000 -> "100k", 1000000 -> "1M".
fn size_label(n: usize) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000 && n.is_multiple_of(1_000) {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

/// One row in the format `benches/report.py` reads (its docstring).
fn row_json(
    workload: &str,
    value: Option<f64>,
    runs: &[f64],
    n: usize,
    error: Option<&str>,
) -> String {
    let text = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let value = value.map_or("null".to_owned(), |v| format!("{v:.4}"));
    let runs: Vec<String> = runs.iter().map(|r| format!("{r:.4}")).collect();
    let error = error.map_or(String::new(), |e| format!(", \"error\": {}", text(e)));
    format!(
        "  {{\"impl\": \"asyncop-rust\", \"workload\": {}, \"durability\": \"NORMAL\", \"value\": {value}, \
         \"unit\": \"ms\", \"runs\": [{}], \"ops\": {n}, \"note\": {}{error}}}",
        text(workload),
        runs.join(", "),
        text(note_of(workload)),
    )
}

fn note_of(workload: &str) -> &'static str {
    if workload.starts_with("claim") {
        "median of 50 polls that each claim the one eligible operation"
    } else if workload.starts_with("lock-hold") {
        "longest write-lock hold (BEGIN IMMEDIATE to COMMIT) while one worker polls until the backlog is gone"
    } else {
        "median of 50 counts() calls"
    }
}

/// Runs one case on a fresh queue file (removed afterwards).
fn run_case(kind: &str, n: usize) -> Res<Measured> {
    let dir =
        std::env::temp_dir().join(format!("asyncop-backlog-{}-{kind}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run_case_in(&dir, kind, n);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_case_in(dir: &std::path::Path, kind: &str, n: usize) -> Res<Measured> {
    let clock = ManualClock::new(T0);
    let options = Options {
        sqlite: asyncop::SqliteOptions {
            durability: Durability::Normal,
            ..asyncop::SqliteOptions::default()
        },
        clock: Arc::new(clock.clone()),
        ..Options::default()
    };
    let q = Queue::open(dir.join("q.db"), options)?;
    let mut poll = PollOptions::default();
    let claim = |what: String, q: &Queue, poll: &PollOptions| -> Res<Measured> {
        let ms = claim_median(q, poll)?;
        Ok(Measured {
            ms,
            line: format!("{what}: {ms:.3} ms"),
        })
    };
    let measured = match kind {
        "empty" => claim("claim on an empty queue".into(), &q, &poll)?,
        "blocked" => {
            q.submit(&OperationSpec::new("head", TYPE).dependency_token("t"))?;
            q.poll("head-host", &poll)?;
            insert(&q, n, TYPE, Some("t"), None)?;
            claim(format!("claim past {n} blocked"), &q, &poll)?
        }
        "filtered" => {
            insert(&q, n, TYPE + 1, None, None)?;
            poll = poll.operation_types([TYPE]);
            claim(
                format!("type-filtered claim past {n} other-type"),
                &q,
                &poll,
            )?
        }
        "held" => {
            insert(&q, n, TYPE + 2, None, None)?;
            q.hold_type(TYPE + 2)?;
            claim(format!("claim past {n} held"), &q, &poll)?
        }
        "due" => {
            insert(&q, n, TYPE, None, Some(T0 + 1_000))?;
            drain_backlog(
                &q,
                &clock,
                n,
                "due",
                "SELECT EXISTS (SELECT 1 FROM operation INDEXED BY operation_postponed WHERE state = 1 AND postpone_until IS NOT NULL)",
            )?
        }
        "expire" => {
            insert_locked(&q, n)?;
            drain_backlog(
                &q,
                &clock,
                n,
                "expired",
                "SELECT EXISTS (SELECT 1 FROM operation INDEXED BY operation_lease WHERE state = 2 AND host_id = 'dead')",
            )?
        }
        "counts" => {
            insert_completed(&q, n)?;
            let mut times = Vec::new();
            for _ in 0..REPS {
                let started = Instant::now();
                let groups = q.counts()?;
                times.push(started.elapsed());
                let total: i64 = groups.iter().map(|g| g.count).sum();
                if total != n as i64 {
                    return Err(format!("counts() sums to {total}, expected {n}").into());
                }
            }
            let ms = median_ms(times);
            Measured {
                ms,
                line: format!("counts() over {n} rows: {ms:.3} ms"),
            }
        }
        "w2" => {
            // The benchmark's W2 at NORMAL: drain a pre-filled queue, one per poll.
            let specs: Vec<OperationSpec> = (0..n)
                .map(|i| OperationSpec::new(format!("op{i}"), TYPE).data(vec![7u8; 100]))
                .collect();
            q.submit_many(&specs)?;
            let started = Instant::now();
            let mut done = 0;
            while let Some(lease) = q.poll("host", &poll)?.pop() {
                q.complete(lease.key())?;
                done += 1;
            }
            if done != n {
                return Err(format!("drained {done} of {n}").into());
            }
            let secs = started.elapsed().as_secs_f64();
            Measured {
                ms: secs * 1e3,
                line: format!("W2 NORMAL: {:.0} ops/s", n as f64 / secs),
            }
        }
        other => return Err(format!("unknown case {other}").into()),
    };
    q.close();
    Ok(measured)
}

/// Lets `n` rows fall due (or expire) at once, then polls as one worker until
/// `left_sql` says none is left; the figure is the store's longest write-lock
/// hold in that time (`WriterStats::longest_hold`).
fn drain_backlog(
    q: &Queue,
    clock: &ManualClock,
    n: usize,
    what: &str,
    left_sql: &'static str,
) -> Res<Measured> {
    testing::reset_longest_hold(q)?;
    clock.set(T0 + 2_000);
    let started = Instant::now();
    let mut longest_poll = Duration::ZERO;
    let mut polls = 0u64;
    loop {
        let t = Instant::now();
        let leases = q.poll("host", &PollOptions::default())?;
        longest_poll = longest_poll.max(t.elapsed());
        polls += 1;
        for l in &leases {
            q.complete(l.key())?;
        }
        let left: bool = testing::read(q, |c| Ok(c.query_row(left_sql, [], |r| r.get(0))?))?;
        if !left {
            break;
        }
    }
    let hold = testing::writer_stats(q)?.longest_hold.as_secs_f64() * 1e3;
    Ok(Measured {
        ms: hold,
        line: format!(
            "{n} {what}: all taken after {polls} polls in {:.0} ms; longest poll {:.1} ms; longest write-lock hold {hold:.1} ms",
            started.elapsed().as_secs_f64() * 1e3,
            longest_poll.as_secs_f64() * 1e3
        ),
    })
}

/// `n` operations Locked by a host that died (its leases expire at T0 + 1 s).
fn insert_locked(q: &Queue, n: usize) -> Res<()> {
    testing::write(q, move |conn| {
        conn.execute(
            "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1) \
             INSERT INTO operation (name, operation_type, state, status, data, host_id, \
                 lease_expires_at, lock_token, started_on, created_on, modified_on) \
             SELECT 'expiring', ?2, 2, 20, x'', 'dead', ?3, 1, ?4, ?4, ?4 FROM k",
            rusqlite::params![n as i64, TYPE, T0 + 1_000, T0],
        )?;
        Ok(())
    })?;
    Ok(())
}

/// `n` Completed operations of three statuses and four types.
fn insert_completed(q: &Queue, n: usize) -> Res<()> {
    testing::write(q, move |conn| {
        conn.execute(
            "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1) \
             INSERT INTO operation (name, operation_type, state, status, data, lock_token, \
                 started_on, completed_on, created_on, modified_on) \
             SELECT 'done', ?2 + i % 4, 3, 30 + i % 3, x'', 1, ?3, ?3, ?3, ?3 FROM k",
            rusqlite::params![n as i64, TYPE, T0],
        )?;
        Ok(())
    })?;
    Ok(())
}
