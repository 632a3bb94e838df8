//! CPU per call of the three W2 calls through the Rust API: submit, poll (one
//! lease) and complete, and per job of the benchmark's W2 drain (each step one
//! complete_and_poll that completes the last job and claims the next), at
//! `synchronous=NORMAL` (no fsync: what is left is the library and SQLite).
//! `examples/call_cost.py` does the same through the Python package; the
//! difference is the Python layer's cost per call (per job for the drain: two
//! calls, claim and complete).
//!
//! Run: `cargo run --release --example call_cost -- [n] [rounds]` (default 3000, 5).
//! Prints, per round, µs of process CPU time (user + system) per call (per job
//! for the drain), and the min and median over the rounds.

use asyncop::{Durability, OperationSpec, Options, PollOptions, Queue, SqliteOptions};
use std::time::Duration;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn cpu() -> Duration {
    // SAFETY: getrusage fills the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above; RUSAGE_SELF is always valid.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn per_call(n: usize, mut f: impl FnMut(usize) -> Res<()>) -> Res<f64> {
    let start = cpu();
    for i in 0..n {
        f(i)?;
    }
    Ok((cpu() - start).as_secs_f64() * 1e6 / n as f64)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(Ok(3000), |s| s.parse())?;
    let rounds: usize = args.get(2).map_or(Ok(5), |s| s.parse())?;
    let dir = std::env::temp_dir().join(format!("asyncop-call-cost-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let queue = Queue::open(
        dir.join("q.db"),
        Options {
            sqlite: SqliteOptions {
                durability: Durability::Normal,
                ..SqliteOptions::default()
            },
            ..Options::default()
        },
    )?;
    let spec = OperationSpec::new("job", 100).data(vec![7u8; 100]);
    let poll = PollOptions::default().max(1);
    let (mut s, mut p, mut c, mut d) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        s.push(per_call(n, |_| {
            queue.submit(&spec)?;
            Ok(())
        })?);
        let mut leases = Vec::with_capacity(n);
        p.push(per_call(n, |_| {
            leases.extend(queue.poll("host", &poll)?);
            Ok(())
        })?);
        if leases.len() != n {
            return Err(format!("claimed {} of {n}", leases.len()).into());
        }
        c.push(per_call(n, |i| {
            queue.complete(leases[i].key())?;
            Ok(())
        })?);
        for _ in 0..n {
            queue.submit(&spec)?;
        }
        let mut leases = queue.poll("host", &poll)?;
        d.push(per_call(n, |_| {
            let keys: Vec<_> = leases.iter().map(|l| l.key()).collect();
            let (results, next) = queue.complete_and_poll(&keys, "host", &poll)?;
            for result in results {
                result?;
            }
            leases = next;
            Ok(())
        })?);
        println!(
            "round {round}: submit {:.1} µs, poll {:.1} µs, complete {:.1} µs, drain {:.1} µs",
            s[round], p[round], c[round], d[round]
        );
    }
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "rust min: submit {:.1} µs, poll {:.1} µs, complete {:.1} µs, drain {:.1} µs",
        min(&s),
        min(&p),
        min(&c),
        min(&d)
    );
    println!(
        "rust median: submit {:.1} µs, poll {:.1} µs, complete {:.1} µs, drain {:.1} µs",
        median(s),
        median(p),
        median(c),
        median(d)
    );
    queue.close();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
