//! Multi-host fault tests on PostgreSQL (issue 12), run through `scripts/multihost`.
//!
//! Why: one machine's process tests cannot show what several hosts sharing one PostgreSQL
//! queue do when a host dies, loses its network, or runs on a wrong clock, or when the
//! server restarts. `scripts/multihost` builds three network namespaces joined to a bridge
//! (PostgreSQL listens on the bridge address) and runs this program, which drains
//! thousands of operations (some with dependency tokens, some postponed) with worker
//! processes in each namespace while it injects one kind of fault per scenario:
//!
//! * `kill`: SIGKILL of all workers of one host while they hold leases, several times;
//! * `cut`: one host's link down for longer than the lease, then up again: another host
//!   finishes its work, its late completes get LeaseLost;
//! * `restart`: `pg_ctl restart -m fast` mid-run: the workers reconnect and finish;
//! * `skew`: one host runs at +5 min and two at -5 min (libfaketime); the +5 min host is
//!   killed for good half-way, so the -5 min hosts alone must recover and promote on time.
//!
//! Each worker logs (one unbuffered `write` per line, so a SIGKILL loses nothing written)
//! START/CALL/DONE/STOP lines with the operation, its lock token (fencing token), its host
//! and CLOCK_MONOTONIC times (one clock for every process, whatever libfaketime does to
//! the wall clock); claim times are the database's (`expires_at - lease`). After the drain
//! `check.rs` asserts, per scenario: every submitted operation Succeeded exactly once, none
//! lost; no claim while an earlier lease of the same operation could still be live, and no
//! stale token accepted after a newer claim (overlaps); dependency-token order; for
//! postponed operations, no claim before their due time (and, under skew, none late).
//!
//! Roles (the program re-executes itself): `multihost run [options]` orchestrates (see
//! `scenario.rs`), `multihost worker URL SCHEMA HOST LOG SEED LEASE_MS WORK_MIN WORK_MAX`.

mod check;
mod faults;
mod fleet;
mod logs;
mod scenario;
mod worker;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) type AnyResult<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("worker") => worker::main(&args[1..]),
        Some("run") => scenario::main(&args[1..]),
        _ => Err(
            "usage: multihost run [--smoke] --url URL --pg-dir DIR --dir DIR [...] \
                  | multihost worker URL SCHEMA HOST LOG SEED LEASE_MS WORK_MIN WORK_MAX"
                .into(),
        ),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("multihost: error: {e}");
            ExitCode::from(2)
        }
    }
}

/// SplitMix64: reproducible from a seed, no dependency.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    /// True with probability `percent`/100.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// CLOCK_MONOTONIC in ms: the same clock in every process of the machine, in every
/// network namespace, and not shifted by libfaketime (FAKETIME_DONT_FAKE_MONOTONIC=1).
pub(crate) fn mono_ms() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_MONOTONIC)");
    ts.tv_sec * 1_000 + ts.tv_nsec / 1_000_000
}

/// The wall clock in ms since the epoch, as this process sees it (faked under libfaketime).
pub(crate) fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// An append-only log written with one `write` per line and no userspace buffer.
pub(crate) struct Log(File);

impl Log {
    pub(crate) fn create(path: &Path) -> AnyResult<Log> {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(Log)
            .map_err(|e| format!("open log {}: {e}", path.display()))
    }
    pub(crate) fn line(&mut self, text: &str) {
        let mut buf = String::with_capacity(text.len() + 1);
        buf.push_str(text);
        buf.push('\n');
        // A log that cannot be written makes the run unverifiable: stop at once.
        if let Err(e) = self.0.write_all(buf.as_bytes()) {
            eprintln!("multihost: write log: {e}");
            std::process::exit(4);
        }
    }
}

pub(crate) fn parse<T: std::str::FromStr>(what: &str, s: Option<&String>) -> AnyResult<T> {
    s.ok_or_else(|| format!("missing {what}"))?
        .parse()
        .map_err(|_| format!("bad {what}"))
}
