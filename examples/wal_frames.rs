//! How many pages each call writes to the WAL: asyncop's submit, claim and
//! complete against the same three steps of the benchmark's raw-SQL queue (one
//! table, one partial index). At `synchronous=NORMAL` a commit costs about one
//! `write` per page, so this ratio is most of the gap between the two.
//!
//! Run: `cargo run --release --example wal_frames`
//!
//! Method: `wal_autocheckpoint = 0`, so the WAL only grows; each step runs 1,000
//! times (one transaction each) after 2,000 operations were queued, and the growth
//! of the `-wal` file is divided by the frame size (page + 24-byte header).

use asyncop::{Durability, OperationSpec, Options, PollOptions, Queue};
use rusqlite::{Connection, params};
use std::path::{Path, PathBuf};

const N: usize = 1000;
const PAYLOAD: [u8; 100] = [7; 100];

fn wal_len(db: &Path) -> Result<u64, Box<dyn std::error::Error>> {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    Ok(std::fs::metadata(PathBuf::from(wal))?.len())
}

/// Frames written per call by each of the three steps.
fn per_call(
    db: &Path,
    page: u64,
    mut step: impl FnMut(usize) -> StepResult,
) -> Result<[f64; 3], Box<dyn std::error::Error>> {
    let mut out = [0.0; 3];
    for (k, slot) in out.iter_mut().enumerate() {
        let before = wal_len(db)?;
        for i in 0..N {
            step(k * N + i)?;
        }
        *slot = (wal_len(db)? - before) as f64 / (page + 24) as f64 / N as f64;
    }
    Ok(out)
}

type StepResult = Result<(), Box<dyn std::error::Error>>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("asyncop-wal-frames-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    let path = dir.join("asyncop.db");
    let queue = Queue::open(
        &path,
        Options {
            sqlite: asyncop::SqliteOptions {
                durability: Durability::Normal,
                ..asyncop::SqliteOptions::default()
            },
            ..Default::default()
        },
    )?;
    asyncop::store::sqlite::testing::write(&queue, |c| {
        c.execute_batch("PRAGMA wal_autocheckpoint = 0")?;
        Ok(())
    })?;
    let page: i64 = asyncop::store::sqlite::testing::read(&queue, |c| {
        Ok(c.query_row("PRAGMA page_size", [], |r| r.get(0))?)
    })?;
    let page = u64::try_from(page)?;
    let specs: Vec<_> = (0..2000)
        .map(|i| OperationSpec::new(format!("pre-{i}"), 1).data(PAYLOAD))
        .collect();
    queue.submit_many(&specs)?;
    let mut leases = Vec::new();
    let ours = per_call(&path, page, |i| {
        match i / N {
            0 => {
                queue.submit(&OperationSpec::new(format!("op-{i}"), 1).data(PAYLOAD))?;
            }
            1 => leases.extend(queue.poll("host", &PollOptions::default())?),
            _ => {
                queue.complete(leases[i - 2 * N].key())?;
            }
        }
        Ok(())
    })?;
    queue.close();

    let raw_path = dir.join("raw.db");
    let conn = Connection::open(&raw_path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;
         CREATE TABLE jobs (id INTEGER PRIMARY KEY, state INTEGER NOT NULL, owner TEXT,
                            payload BLOB, created INTEGER);
         CREATE INDEX jobs_ready ON jobs (id) WHERE state = 0;",
    )?;
    conn.execute_batch("BEGIN")?;
    for _ in 0..2000 {
        conn.execute(
            "INSERT INTO jobs (state, payload, created) VALUES (0, ?1, 1)",
            [&PAYLOAD[..]],
        )?;
    }
    conn.execute_batch("COMMIT")?;
    let mut claimed = Vec::new();
    let raw = per_call(&raw_path, page, |i| {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        match i / N {
            0 => {
                conn.prepare_cached(
                    "INSERT INTO jobs (state, payload, created) VALUES (0, ?1, 1)",
                )?
                .execute([&PAYLOAD[..]])?;
            }
            1 => claimed.push(
                conn.prepare_cached(
                    "UPDATE jobs SET state = 1, owner = 'host' WHERE id IN \
                 (SELECT id FROM jobs WHERE state = 0 ORDER BY id LIMIT 1) RETURNING id",
                )?
                .query_row([], |r| r.get::<_, i64>(0))?,
            ),
            _ => {
                conn.prepare_cached(
                    "UPDATE jobs SET state = 2 WHERE id = ?1 AND state = 1 AND owner = 'host'",
                )?
                .execute(params![claimed[i - 2 * N]])?;
            }
        }
        conn.execute_batch("COMMIT")?;
        Ok(())
    })?;
    drop(conn);
    std::fs::remove_dir_all(&dir)?;

    println!(
        "WAL frames ({page}-byte pages) written per call, synchronous=NORMAL, {N} calls each:"
    );
    println!(
        "{:<10} {:>8} {:>8} {:>10}",
        "", "submit", "claim", "complete"
    );
    println!(
        "{:<10} {:>8.2} {:>8.2} {:>10.2}",
        "asyncop", ours[0], ours[1], ours[2]
    );
    println!(
        "{:<10} {:>8.2} {:>8.2} {:>10.2}",
        "raw-sql", raw[0], raw[1], raw[2]
    );
    Ok(())
}
