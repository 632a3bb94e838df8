//! A first rough throughput figure (the real benchmark is `benches/`, a later issue):
//! submit one per call, and submit→claim→complete with one worker draining a
//! pre-filled queue, at both durability settings.
//!
//! Run: `cargo run --release --example throughput [ops]`

use asyncop::{Durability, OperationSpec, Options, PollOptions, Queue};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ops: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(5_000);
    let dir = std::env::temp_dir().join(format!("asyncop-throughput-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    println!(
        "{ops} operations per run, ~100-byte payloads, files in {}",
        dir.display()
    );
    println!(
        "{:<8} {:>16} {:>28}",
        "sync", "submit/s", "claim+complete/s (1 worker)"
    );
    for (label, durability) in [("FULL", Durability::Full), ("NORMAL", Durability::Normal)] {
        let path = dir.join(format!("{label}.db"));
        let _ = std::fs::remove_file(&path);
        let queue = Queue::open(
            &path,
            Options {
                durability,
                ..Default::default()
            },
        )?;
        let payload = vec![7u8; 100];

        let started = Instant::now();
        for i in 0..ops {
            queue.submit(&OperationSpec::new(format!("op-{i}"), 100).data(payload.clone()))?;
        }
        let submit_rate = ops as f64 / started.elapsed().as_secs_f64();

        let started = Instant::now();
        let mut done = 0;
        while done < ops {
            for lease in queue.poll("bench", &PollOptions::default())? {
                queue.complete(lease.key())?;
                done += 1;
            }
        }
        let drain_rate = ops as f64 / started.elapsed().as_secs_f64();
        println!("{label:<8} {submit_rate:>16.0} {drain_rate:>28.0}");
        queue.close();
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
