//! The cost of one payload at the default limit (16 MiB): submit it, claim it,
//! complete it, and print the time of each step. Run it under `/usr/bin/time -v`
//! to see the peak RSS, which should stay a small multiple of the payload (the
//! submitter's copy, SQLite's page cache and the lease's copy), not grow with it
//! the way an unbounded payload did.
//!
//! Run: `cargo build --release --example big_payload &&
//! /usr/bin/time -v target/release/examples/big_payload [bytes]`

use asyncop::operation::DEFAULT_MAX_PAYLOAD_BYTES;
use asyncop::{OperationSpec, Options, PollOptions, Queue};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let len: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => usize::try_from(DEFAULT_MAX_PAYLOAD_BYTES)?,
    };
    let dir = std::env::temp_dir().join(format!("asyncop-big-payload-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let queue = Queue::open(dir.join("q.db"), Options::default())?;
    let data = vec![0xA5u8; len];

    let t = Instant::now();
    let id = queue.submit(&OperationSpec::new("big", 1).data(data))?;
    let submit = t.elapsed();
    let t = Instant::now();
    let leases = queue.poll("host", &PollOptions::default())?;
    let poll = t.elapsed();
    let lease = leases.first().ok_or("nothing claimed")?;
    assert_eq!((lease.id, lease.data.len()), (id, len));
    let t = Instant::now();
    queue.complete(lease.key())?;
    let complete = t.elapsed();
    println!(
        "payload {len} bytes: submit {submit:?}, poll {poll:?}, complete {complete:?} (synchronous=FULL)"
    );
    queue.close();
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
