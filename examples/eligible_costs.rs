//! What a claim costs past what it skips, and how long maintenance holds the
//! write lock (issue 15, items 7 and 8). One case per run, printed as one
//! line; `benches/NOTES.md` has the interleaved figures against the build
//! before.
//!
//! `cargo run --release --example eligible_costs -- CASE` where CASE is
//! `empty`, `blocked-N` (N Ready operations wait behind a dependency token
//! whose head runs), `filtered-N` (N Ready operations of another type ahead
//! of a type-filtered poll), `held-N` (N Ready operations of a held type
//! ahead of an unfiltered poll), or `due-N` (N postponed operations fall due
//! at once; the polls of one worker take them), or `w2-N` (the benchmark's
//! W2 drain of N operations, one per poll). `Durability::Normal`: the
//! figures are about the walk and the lock, not the fsync.

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

fn main() -> Res<()> {
    let case = std::env::args()
        .nth(1)
        .ok_or("usage: eligible_costs CASE")?;
    let (kind, n) = match case.split_once('-') {
        Some((k, n)) => (k.to_owned(), n.parse::<usize>()?),
        None => (case.clone(), 0),
    };
    let dir = std::env::temp_dir().join(format!("eligible-costs-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
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
    let line = match kind.as_str() {
        "empty" => format!(
            "claim on an empty queue: {:.3} ms",
            claim_median(&q, &poll)?
        ),
        "blocked" => {
            q.submit(&OperationSpec::new("head", TYPE).dependency_token("t"))?;
            q.poll("head-host", &poll)?;
            insert(&q, n, TYPE, Some("t"), None)?;
            format!("claim past {n} blocked: {:.3} ms", claim_median(&q, &poll)?)
        }
        "filtered" => {
            insert(&q, n, TYPE + 1, None, None)?;
            poll = poll.operation_types([TYPE]);
            format!(
                "type-filtered claim past {n} other-type: {:.3} ms",
                claim_median(&q, &poll)?
            )
        }
        "held" => {
            insert(&q, n, TYPE + 2, None, None)?;
            q.hold_type(TYPE + 2)?;
            format!("claim past {n} held: {:.3} ms", claim_median(&q, &poll)?)
        }
        "due" => {
            insert(&q, n, TYPE, None, Some(T0 + 1_000))?;
            testing::reset_longest_hold(&q)?;
            clock.set(T0 + 2_000);
            let started = Instant::now();
            let mut longest_poll = Duration::ZERO;
            let mut polls = 0u64;
            loop {
                let t = Instant::now();
                let leases = q.poll("host", &poll)?;
                longest_poll = longest_poll.max(t.elapsed());
                polls += 1;
                for l in &leases {
                    q.complete(l.key())?;
                }
                let left: bool = testing::read(&q, |c| {
                    Ok(c.query_row(
                        "SELECT EXISTS (SELECT 1 FROM operation INDEXED BY operation_postponed \
                         WHERE state = 1 AND postpone_until IS NOT NULL)",
                        [],
                        |r| r.get(0),
                    )?)
                })?;
                if !left {
                    break;
                }
            }
            let hold = longest_hold(&q)?;
            format!(
                "{n} due: all promoted after {polls} polls in {:.0} ms; longest poll {:.1} ms; longest write-lock hold {hold}",
                started.elapsed().as_secs_f64() * 1e3,
                longest_poll.as_secs_f64() * 1e3
            )
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
            format!(
                "W2 NORMAL: {:.0} ops/s",
                n as f64 / started.elapsed().as_secs_f64()
            )
        }
        other => return Err(format!("unknown case {other}").into()),
    };
    println!("{line}");
    q.close();
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// The store's longest write-lock hold since the set-up (`WriterStats`).
fn longest_hold(q: &Queue) -> Res<String> {
    let hold = testing::writer_stats(q)?.longest_hold;
    Ok(format!("{:.1} ms", hold.as_secs_f64() * 1e3))
}
