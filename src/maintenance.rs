//! Housekeeping that keeps the queue moving (§6.4, §6.5): recovery of expired
//! leases (with poison protection), promotion of due postponed operations,
//! and the retry back-off schedule. It runs inside every claim transaction and
//! can be run on its own (`Queue::run_maintenance`).

use crate::error::{LEASE_LOST_CODE, Result};
use crate::store::{self, ErrorFields};
use crate::transition::{self, RetryPlan};
use rusqlite::Connection;

/// The queue-wide retry budget and back-off (§6.5). Defaults: 4 attempts in
/// total; waits of 5 s, 10 s, 20 s, ... doubling, capped at 1 h; no jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, >= 1; 1 disables retries.
    pub max_attempts: i32,
    pub backoff_base_ms: i64,
    pub backoff_cap_ms: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            backoff_base_ms: 5_000,
            backoff_cap_ms: 3_600_000,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry_count` (1 for the first retry):
    /// min(cap, base × 2^(retry_count − 1)).
    pub fn backoff_ms(&self, retry_count: i32) -> i64 {
        let doublings = u32::try_from(retry_count.saturating_sub(1))
            .unwrap_or(0)
            .min(62);
        let wait = self.backoff_base_ms.saturating_mul(1i64 << doublings);
        wait.min(self.backoff_cap_ms)
    }

    /// What the budget says about an attempt that ends now as Retry or as a
    /// lease expiry, for an operation whose `retry_count` is `retry_count` before
    /// it. A retry time asked for by the handler wins, but never earlier than now.
    pub fn plan(&self, retry_count: i32, now: i64, requested_at: Option<i64>) -> RetryPlan {
        let after = retry_count.saturating_add(1);
        let at = match requested_at {
            Some(t) => t.max(now),
            None => now.saturating_add(self.backoff_ms(after)),
        };
        RetryPlan {
            exhausted: after >= self.max_attempts,
            at,
        }
    }
}

/// What one maintenance pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    /// Expired leases returned to Ready or Suspended (or Canceled, for 2/22).
    pub recovered: usize,
    /// Expired leases that exhausted the retry budget and ended as 3/31.
    pub poisoned: usize,
    /// Suspended operations whose `postpone_until` was due, now Ready.
    pub promoted: usize,
}

/// Recovery, then promotion (§6.4), inside the caller's write transaction.
pub(crate) fn run(conn: &Connection, now: i64, policy: &RetryPolicy) -> Result<MaintenanceReport> {
    let mut report = MaintenanceReport::default();
    for row in store::expired_leases(conn, now)? {
        let plan = policy.plan(row.retry_count, now, None);
        let Some(change) = transition::lease_expired(row.status, plan.exhausted) else {
            continue;
        };
        let host = row.host_id.as_deref().unwrap_or("?");
        let poisoned = change.status == transition::Status::Failed;
        let message = if poisoned {
            format!(
                "lease of host {host} expired on attempt {}; the retry budget of {} attempts is used up",
                row.retry_count + 1,
                policy.max_attempts
            )
        } else {
            format!(
                "lease of host {host} expired on attempt {}",
                row.retry_count + 1
            )
        };
        let errors = ErrorFields {
            error_code: Some(LEASE_LOST_CODE),
            message: Some(message),
            friendly_message: None,
        };
        let next = store::next_row(&row, &change, now, Some(&errors));
        if store::update(conn, &row, &next)? {
            if poisoned {
                report.poisoned += 1;
            } else {
                report.recovered += 1;
            }
        }
    }
    for row in store::due_postponed(conn, now)? {
        let Some(change) = transition::postpone_due(row.status, row.postpone_until, now) else {
            continue;
        };
        let next = store::next_row(&row, &change, now, None);
        if store::update(conn, &row, &next)? {
            report.promoted += 1;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_base_and_stops_at_cap() {
        let p = RetryPolicy::default();
        let waits: Vec<i64> = (1..=12).map(|n| p.backoff_ms(n)).collect();
        assert_eq!(
            waits,
            [
                5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000,
                2_560_000, 3_600_000, 3_600_000
            ]
        );
        // Huge retry counts and bases saturate instead of overflowing.
        assert_eq!(p.backoff_ms(i32::MAX), 3_600_000);
        let big = RetryPolicy {
            max_attempts: 100,
            backoff_base_ms: i64::MAX / 2,
            backoff_cap_ms: i64::MAX,
        };
        assert_eq!(big.backoff_ms(50), i64::MAX);
    }

    #[test]
    fn plan_counts_this_attempt_and_honours_requested_time() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.plan(0, 1_000, None),
            RetryPlan {
                exhausted: false,
                at: 6_000
            }
        );
        assert_eq!(
            p.plan(2, 1_000, None),
            RetryPlan {
                exhausted: false,
                at: 21_000
            }
        );
        assert_eq!(
            p.plan(3, 1_000, None),
            RetryPlan {
                exhausted: true,
                at: 41_000
            }
        );
        assert_eq!(p.plan(0, 1_000, Some(50_000)).at, 50_000);
        assert_eq!(
            p.plan(0, 1_000, Some(10)).at,
            1_000,
            "never earlier than now"
        );
        let once = RetryPolicy {
            max_attempts: 1,
            ..p
        };
        assert!(
            once.plan(0, 0, None).exhausted,
            "max_attempts 1 disables retries"
        );
    }
}
