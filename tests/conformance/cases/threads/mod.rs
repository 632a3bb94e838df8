//! Many threads on one queue file.
//!
//! * `eight_threads_complete_20000_exactly_once`: 8 hosts (threads, each with its own
//!   `host_id`) poll and complete 20,000 operations while the main thread submits them
//!   in batches. Every operation completes exactly once, every host call succeeds,
//!   nobody claims an operation twice (every lock token is 1), and the file ends with
//!   20,000 rows in 3/30 and nothing else.
//! * `submitters_workers_and_a_user_race`: submitter threads, worker threads and a user
//!   thread that pauses, cancels, postpones and resumes operations while they are
//!   queued or running. Refusals of user actions are expected races; host calls must
//!   never fail (a 30 s lease cannot expire here, so `LeaseLost` would be a bug).
//!
//! This file holds the shared helpers; the tests are in its submodules.

mod drain;
mod race;
mod tokens;

use super::store;
use asyncop::{
    Durability, Error, Filter, Lease, Operation, OperationSpec, Options, PollOptions, Queue, State,
    Status,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};


/// A small deterministic PRNG (xorshift64*), so the tests need no extra crate.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn seed() -> u64 {
    let seed = std::env::var("ASYNCOP_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("seed {seed} (set ASYNCOP_TEST_SEED to replay the user's choices)");
    seed
}

/// What one host thread saw.
#[derive(Default)]
struct HostLog {
    /// (id, lock_token) of every claim.
    claims: Vec<(i64, i64)>,
    /// Ids whose `complete` returned Ok(Succeeded).
    completed: Vec<i64>,
    /// Every host call that returned an error: (id, call, error). Must stay empty.
    errors: Vec<(i64, &'static str, Error)>,
}

/// Every row of the file, in id order.
fn all_rows(q: &Queue) -> Vec<Operation> {
    q.query(&Filter::default()).expect("query")
}

/// Counts per (state, status), summed over operation types.
fn counts_by_status(q: &Queue) -> BTreeMap<(State, Status), i64> {
    let mut by = BTreeMap::new();
    for row in q.counts().expect("counts") {
        *by.entry((row.state, row.status)).or_insert(0) += row.count;
    }
    by
}

