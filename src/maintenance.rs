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
