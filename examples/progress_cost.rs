//! What a progress report costs next to a durable one: N reports under one
//! lease at `Durability::Full`, first as they are by default (not synced on
//! their own, no wake-up), then durable. With a PostgreSQL URL as the first
//! argument it measures that store (`synchronous_commit = off` vs on).
//!
//! `cargo run --release --example progress_cost [target] [n]`

use asyncop::{OperationSpec, Options, PollOptions, Progress, Queue};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = std::env::temp_dir().join(format!("asyncop-progress-cost-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let target = args
        .next()
        .unwrap_or_else(|| dir.join("queue.db").display().to_string());
    let n: u32 = args.next().map_or(Ok(500), |s| s.parse())?;
    let queue = Queue::open(&target, Options::default())?;
    let id = queue.submit(&OperationSpec::new("progress", 1))?;
    let lease = queue
        .poll("bench", &PollOptions::default())?
        .pop()
        .ok_or("nothing claimed")?;
    assert_eq!(lease.id, id);
    for durable in [false, true] {
        let started = Instant::now();
        for i in 0..n {
            let mut p = Progress::new(i32::try_from(i % 101)?, Some("step"));
            p.durable = durable;
            queue.report_progress(lease.key(), &p)?;
        }
        let per_call = started.elapsed() / n;
        let kind = if durable { "durable" } else { "default" };
        println!("{kind:>8} progress: {n} reports, {per_call:?} per report");
    }
    queue.complete(lease.key())?;
    queue.close();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
