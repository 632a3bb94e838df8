//! Which PostgreSQL failures a call retries, and for how long.
//!
//! A transaction that a serialization failure or a deadlock rolled back is run
//! again a few times (the server chose a victim; the next run usually passes).
//! A lost connection (a server restart, a dropped link, an idle connection
//! killed by a proxy) is reconnected and the transaction run again until
//! `PgOptions::retry_timeout`. A commit whose reply was lost is neither: the
//! store asks the server whether that transaction committed (`txid_status`)
//! before it decides, so a call never reports a failure for a write that
//! landed, and never runs a write twice.

use postgres::error::SqlState;
use std::error::Error as _;
use std::time::{Duration, Instant};

/// The unique index that keeps one Locked operation per dependency token: two
/// claimers that race for one token trip it, and the loser's claim, run again,
/// sees the winner's row and passes it by.
pub(super) const ONE_LOCKED_PER_TOKEN: &str = "operation_one_locked_per_token";

/// Times a conflicted transaction (40001, 40P01, the per-token index) is run
/// again before the call gives `Busy`.
pub(super) const MAX_CONFLICT_RETRIES: u32 = 8;

/// Why a statement failed, when running the transaction again may help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    /// The server rolled the transaction back to resolve a conflict.
    Conflict,
    /// The connection is gone; a new one may work.
    Connection,
}

/// What `e` says about running the transaction again; `None`: it would fail
/// the same way (a bad value, a missing table, a refused password).
pub(super) fn fault_of(e: &postgres::Error) -> Option<Fault> {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
            || (*code == SqlState::UNIQUE_VIOLATION
                && db.constraint() == Some(ONE_LOCKED_PER_TOKEN))
        {
            return Some(Fault::Conflict);
        }
        // Connection exceptions; the server shutting down, crashed or starting.
        let lost = code.code().starts_with("08")
            || *code == SqlState::ADMIN_SHUTDOWN
            || *code == SqlState::CRASH_SHUTDOWN
            || *code == SqlState::CANNOT_CONNECT_NOW;
        return lost.then_some(Fault::Connection);
    }
    let io = e.source().is_some_and(|s| s.is::<std::io::Error>());
    (e.is_closed() || io || e.to_string().starts_with("timeout")).then_some(Fault::Connection)
}

/// The retries one call has left.
#[derive(Debug)]
pub(super) struct Retries {
    deadline: Instant,
    conflicts: u32,
    pause: Duration,
}

impl Retries {
    /// Retries that end `timeout` from now.
    pub(super) fn new(timeout: Duration) -> Retries {
        Retries {
            deadline: Instant::now() + timeout,
            conflicts: 0,
            pause: Duration::from_millis(10),
        }
    }

    /// Whether to run the transaction again after `fault`; if so, it has
    /// waited first (briefly after a conflict, growing after a lost connection).
    pub(super) fn again(&mut self, fault: Fault) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        let wait = match fault {
            Fault::Conflict => {
                self.conflicts += 1;
                if self.conflicts > MAX_CONFLICT_RETRIES {
                    return false;
                }
                // Jittered by the clock's nanoseconds, so two victims do not collide again.
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.subsec_nanos());
                let jitter = u64::from(nanos % 1000);
                Duration::from_micros(500 * u64::from(self.conflicts) + jitter)
            }
            Fault::Connection => {
                let wait = self.pause;
                self.pause = (self.pause * 2).min(Duration::from_millis(500));
                wait
            }
        };
        std::thread::sleep(wait.min(self.deadline - now));
        true
    }
}
