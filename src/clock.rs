//! The handle's notion of "now" (§1): UTC milliseconds since the Unix epoch.
//! Injected so that postpone, lease expiry and back-off are tested without sleeping.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The source of "now" of a queue handle (`Options::clock`).
pub trait Clock: Send + Sync + Debug {
    /// Current time in UTC milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;

    /// Whether this is the machine's own clock. A store with a clock of its own
    /// (PostgreSQL's, shared by every host) is then used instead, so that hosts
    /// whose clocks disagree still agree on leases and due times; a clock set
    /// for a test (`ManualClock`) is always used as it is.
    fn is_system(&self) -> bool {
        false
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            // A clock set before 1970 is a broken machine; 0 keeps ordering sane.
            Err(_) => 0,
        }
    }

    fn is_system(&self) -> bool {
        true
    }
}

/// A clock that moves only when told to. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock that reads `start_ms` until moved.
    pub fn new(start_ms: i64) -> Self {
        ManualClock(Arc::new(AtomicI64::new(start_ms)))
    }
    /// Sets the time to `ms` (every clone sees it).
    pub fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }
    /// Moves the time forward by `ms`.
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
