//! W2 (one worker drains a pre-filled queue, one job per claim) three ways:
//! `separate` (poll max 1, then complete: two transactions per job, what the
//! benchmark's W2 does), `combined` (complete_and_poll max 1: one transaction
//! per job) and `combined:N` (complete_and_poll max N: one transaction per N
//! jobs, what a worker with prefetch N does). Prints jobs/s.
//!
//! Run: `cargo run --release --example one_commit_per_job -- MODE full|normal N DIR`,
//! e.g. `... -- combined full 5000 /tmp`; interleave the modes (A B A B ...) and
//! compare medians: the machine is shared.

use asyncop::{Durability, LeaseKey, OperationSpec, Options, PollOptions, Queue, Status};
use std::time::Instant;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn keys(leases: &[asyncop::Lease]) -> Vec<LeaseKey> {
    leases.iter().map(|l| l.key()).collect()
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, durability, n, dir] = &args[..] else {
        return Err("usage: one_commit_per_job MODE full|normal N DIR".into());
    };
    let n: usize = n.parse()?;
    let durability = match durability.as_str() {
        "full" => Durability::Full,
        "normal" => Durability::Normal,
        other => return Err(format!("durability {other:?}").into()),
    };
    let path = std::path::Path::new(dir).join(format!("ocpj-{}-{mode}.db", std::process::id()));
    let mut options = Options::default();
    options.sqlite.durability = durability;
    let q = Queue::open(&path, options)?;
    let specs: Vec<_> = (0..n)
        .map(|i| OperationSpec::new(format!("op{i}"), 1).data(vec![7u8; 100]))
        .collect();
    q.submit_many(&specs)?;
    let host = "bench-0";
    let started = Instant::now();
    let mut done = 0usize;
    if mode == "separate" {
        loop {
            let leases = q.poll(host, &PollOptions::default())?;
            if leases.is_empty() {
                break;
            }
            for lease in &leases {
                if q.complete(lease.key())? == Status::Succeeded {
                    done += 1;
                }
            }
        }
    } else {
        let max: u32 = match mode.strip_prefix("combined") {
            Some("") => 1,
            Some(rest) => rest.trim_start_matches(':').parse()?,
            None => return Err(format!("mode {mode:?}").into()),
        };
        let options = PollOptions::default().max(max);
        let mut leases = q.poll(host, &options)?;
        while !leases.is_empty() {
            let (results, next) = q.complete_and_poll(&keys(&leases), host, &options)?;
            done += results.iter().filter(|r| r.is_ok()).count();
            leases = next;
        }
    }
    let elapsed = started.elapsed();
    q.close();
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    if done != n {
        return Err(format!("completed {done} of {n}").into());
    }
    println!("{mode} {n} {:.0}", n as f64 / elapsed.as_secs_f64());
    Ok(())
}
