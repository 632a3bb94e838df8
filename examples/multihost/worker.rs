//! The worker process: claims, "works" (sleeps, renewing long work), completes, and logs
//! every step. It behaves as a real worker would on a flaky network: an error from a call
//! is logged, followed by a short sleep, and the loop goes on; after several errors in a
//! row it reopens its queue handle. A complete whose reply did not arrive (`Io`) is retried
//! a few times and then left to lease expiry. Batches are now and then completed with one
//! `complete_many` call.
//!
//! Log lines (space-separated; times are CLOCK_MONOTONIC ms, `expires_at` is the database's):
//! `HELLO host pid wall_ms mono`, `START id token host mono expires_at`,
//! `CALL id token kind mono [many]` (many: one key of a complete_many call),
//! `DONE id token kind result mono` (result `ok`, `LeaseLost`, or the error's name),
//! `STOP id token host mono how` (how: completed, lost, unknown), `ERR what mono message`.

use crate::{AnyResult, Log, Rng, mono_ms, parse, wall_ms};
use asyncop::{Error, Lease, LeaseKey, Options, PgOptions, PollOptions, Queue};
use std::process::ExitCode;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Errors in a row after which the worker drops its handle and opens a new one.
const REOPEN_AFTER: u32 = 5;
/// Attempts of one complete whose result stayed unknown.
const COMPLETE_TRIES: u32 = 3;

struct Worker {
    url: String,
    schema: String,
    host: String,
    lease_ms: u64,
    work: (u64, u64),
    q: Option<Queue>,
    log: Log,
    rng: Rng,
    errors_in_row: u32,
}

pub fn main(args: &[String]) -> AnyResult<ExitCode> {
    let url: String = parse("url", args.first())?;
    let schema: String = parse("schema", args.get(1))?;
    let host: String = parse("host", args.get(2))?;
    let log: std::path::PathBuf = parse("log", args.get(3))?;
    let seed: u64 = parse("seed", args.get(4))?;
    let lease_ms: u64 = parse("lease_ms", args.get(5))?;
    let work_min: u64 = parse("work_min", args.get(6))?;
    let work_max: u64 = parse("work_max", args.get(7))?;
    let mut w = Worker {
        url,
        schema,
        host,
        lease_ms,
        work: (work_min, work_max.max(work_min)),
        q: None,
        log: Log::create(&log)?,
        rng: Rng::new(seed),
        errors_in_row: 0,
    };
    // The wall clock as this process sees it: libfaketime's shift shows here.
    let hello = format!(
        "HELLO {} {} {} {}",
        w.host,
        std::process::id(),
        wall_ms(),
        mono_ms()
    );
    w.log.line(&hello);
    loop {
        w.round();
    }
}

fn result_name(r: &Result<asyncop::Status, Error>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.name(),
    }
}

impl Worker {
    fn error(&mut self, what: &str, e: &Error) {
        let line = format!("ERR {what} {} {e}", mono_ms());
        self.log.line(&line);
        self.errors_in_row += 1;
        if self.errors_in_row >= REOPEN_AFTER {
            self.log.line(&format!(
                "ERR reopen {} after {} errors",
                mono_ms(),
                REOPEN_AFTER
            ));
            self.q = None;
            self.errors_in_row = 0;
        }
        let pause = self.rng.range(100, 300);
        sleep(Duration::from_millis(pause));
    }

    /// The open handle, opening one (again) when needed; None after a failed open.
    fn queue(&mut self) -> Option<Queue> {
        if self.q.is_none() {
            let options = Options {
                lease: Duration::from_millis(self.lease_ms),
                postgres: PgOptions {
                    schema: self.schema.clone(),
                    pool_size: 2,
                    connect_timeout: Duration::from_secs(3),
                    ..PgOptions::default()
                },
                ..Options::default()
            };
            match Queue::open(&self.url, options) {
                Ok(q) => self.q = Some(q),
                Err(e) => {
                    self.error("open", &e);
                    return None;
                }
            }
        }
        self.q.clone()
    }

    fn round(&mut self) {
        let Some(q) = self.queue() else { return };
        let max = if self.rng.chance(50) {
            1
        } else {
            self.rng.range(2, 4) as u32
        };
        let options = PollOptions::default()
            .max(max)
            .wait(Duration::from_millis(300));
        let leases = match q.poll(&self.host, &options) {
            Ok(l) => l,
            Err(e) => return self.error("poll", &e),
        };
        self.errors_in_row = 0;
        for l in &leases {
            let line = format!(
                "START {} {} {} {} {}",
                l.id,
                l.lock_token,
                self.host,
                mono_ms(),
                l.expires_at
            );
            self.log.line(&line);
        }
        let single = leases.len() == 1;
        // A batch is now and then completed with one complete_many call.
        if !single && self.rng.chance(40) {
            let mut held = Vec::with_capacity(leases.len());
            for l in &leases {
                if self.work(&q, l, false) {
                    held.push(l.key());
                }
            }
            return self.finish_many(&q, &held);
        }
        for l in &leases {
            if self.work(&q, l, single) {
                self.finish(&q, l.key());
            }
        }
    }

    /// Works on one lease; whether it is still held (a refused renewal ends it).
    fn work(&mut self, q: &Queue, l: &Lease, single: bool) -> bool {
        let key = l.key();
        // Mostly short work; now and then (alone in its batch) longer than the lease, so
        // renewals happen and faults land on them too.
        let (total, renew_every) = if single && self.rng.chance(1) {
            (self.lease_ms * 3 / 2, Some(self.lease_ms / 3))
        } else {
            (self.rng.range(self.work.0, self.work.1), None)
        };
        let started = Instant::now();
        let mut renewed = started;
        let total = Duration::from_millis(total);
        while started.elapsed() < total {
            let left = total.saturating_sub(started.elapsed());
            sleep(left.min(Duration::from_millis(50)));
            if let Some(every) = renew_every
                && renewed.elapsed() >= Duration::from_millis(every)
            {
                renewed = Instant::now();
                let r = self.call(q, key, "renew", |q| q.renew(key));
                if r.is_err() {
                    self.stop(key, "lost");
                    return false;
                }
            }
        }
        true
    }

    /// Completes a batch in one call; a key whose result is unknown goes on alone.
    fn finish_many(&mut self, q: &Queue, keys: &[LeaseKey]) {
        if keys.is_empty() {
            return;
        }
        for k in keys {
            let line = format!("CALL {} {} complete {} many", k.id, k.lock_token, mono_ms());
            self.log.line(&line);
        }
        let results = q.complete_many(keys);
        let results: Vec<Result<asyncop::Status, Error>> = match results {
            Ok(r) => r,
            Err(e) => keys.iter().map(|_| Err(e.clone())).collect(),
        };
        for (k, r) in keys.iter().zip(results) {
            let line = format!(
                "DONE {} {} complete {} {}",
                k.id,
                k.lock_token,
                result_name(&r),
                mono_ms()
            );
            self.log.line(&line);
            match r {
                Ok(_) => self.stop(*k, "completed"),
                Err(Error::LeaseLost { .. }) => self.stop(*k, "lost"),
                Err(e) => {
                    self.error("complete_many", &e);
                    self.finish(q, *k);
                }
            }
        }
    }

    /// Completes one lease, retrying while the result is unknown.
    fn finish(&mut self, q: &Queue, key: LeaseKey) {
        for _ in 0..COMPLETE_TRIES {
            match self.call(q, key, "complete", |q| q.complete(key)) {
                Ok(_) => return self.stop(key, "completed"),
                Err(Error::LeaseLost { .. }) => return self.stop(key, "lost"),
                Err(e) => self.error("complete", &e),
            }
        }
        self.stop(key, "unknown");
    }

    /// CALL before, DONE after: a kill between them leaves the result unknown.
    fn call(
        &mut self,
        q: &Queue,
        key: LeaseKey,
        kind: &str,
        f: impl FnOnce(&Queue) -> asyncop::Result<asyncop::Status>,
    ) -> asyncop::Result<asyncop::Status> {
        let line = format!("CALL {} {} {kind} {}", key.id, key.lock_token, mono_ms());
        self.log.line(&line);
        let r = f(q);
        let line = format!(
            "DONE {} {} {kind} {} {}",
            key.id,
            key.lock_token,
            result_name(&r),
            mono_ms()
        );
        self.log.line(&line);
        r
    }

    fn stop(&mut self, key: LeaseKey, how: &str) {
        let line = format!(
            "STOP {} {} {} {} {how}",
            key.id,
            key.lock_token,
            self.host,
            mono_ms()
        );
        self.log.line(&line);
    }
}
