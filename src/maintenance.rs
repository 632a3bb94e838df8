//! Housekeeping that keeps the queue moving (§6.4, §6.5): recovery of expired
//! leases (with poison protection), promotion of due postponed operations,
//! each decided by `transition` (the back-off schedule is `transition::retry`).
//! It works in batches of at most [`MAINTENANCE_BATCH`] rows of each kind, so
//! that no transaction holds the write lock for long whatever the backlog:
//! every claim transaction runs one batch before it claims, a poll whose
//! batch was full runs more in transactions of their own after its claim,
//! and `Queue::run_maintenance` runs batches until nothing is due.

use crate::error::{LEASE_LOST_CODE, Result};
use crate::store::Write;
use crate::transition::time_text::iso_utc;
use crate::transition::{self, ErrorFields};

pub use crate::transition::RetryPolicy;

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

impl MaintenanceReport {
    /// Both reports' counts added.
    pub(crate) fn add(&mut self, other: &MaintenanceReport) {
        self.recovered += other.recovered;
        self.poisoned += other.poisoned;
        self.promoted += other.promoted;
    }
}

/// At most this many expired leases, and this many due postponed rows, are
/// moved by one batch (§6.4): about a millisecond of write lock each.
pub const MAINTENANCE_BATCH: u32 = 100;

/// One batch of recovery, then promotion (§6.4), inside the caller's write
/// transaction: the earliest expired leases and the earliest due postponed
/// rows, at most [`MAINTENANCE_BATCH`] of each. Also returns whether a batch
/// was full, i.e. whether more may be due.
pub(crate) fn run(
    tx: &dyn Write,
    now: i64,
    policy: &RetryPolicy,
) -> Result<(MaintenanceReport, bool)> {
    let mut report = MaintenanceReport::default();
    let expired = tx.expired_leases(now, MAINTENANCE_BATCH)?;
    let mut more = expired.len() >= MAINTENANCE_BATCH as usize;
    for row in expired {
        let plan = policy.plan(row.retry_count, now, None);
        let Some(change) = transition::lease_expired(row.status, plan.exhausted) else {
            continue;
        };
        let host = row.host_id.as_deref().unwrap_or("?");
        let at = row
            .lease_expires_at
            .map_or_else(String::new, |t| format!(" at {}", iso_utc(t)));
        let poisoned = change.status == transition::Status::Failed;
        let message = if poisoned {
            format!(
                "lease of host {host} expired{at} on attempt {}; the retry budget of {} attempts is used up",
                row.retry_count + 1,
                policy.max_attempts
            )
        } else {
            format!(
                "lease of host {host} expired{at} on attempt {}",
                row.retry_count + 1
            )
        };
        let errors = ErrorFields {
            error_code: Some(LEASE_LOST_CODE),
            message: Some(message),
            friendly_message: None,
        };
        let next = transition::apply(&row, &change, now, Some(&errors));
        if tx.update(&row, &next)? {
            // The attempt ended without a report: kept in the history.
            let attempt = crate::queue::expired_attempt(&row, now, &errors);
            tx.record_attempt(&attempt, crate::attempt::ATTEMPTS_KEPT)?;
            if poisoned {
                report.poisoned += 1;
            } else {
                report.recovered += 1;
            }
        }
    }
    let due = tx.due_postponed(now, MAINTENANCE_BATCH)?;
    more |= due.len() >= MAINTENANCE_BATCH as usize;
    for row in due {
        let Some(change) = transition::postpone_due(row.status, row.postpone_until, now) else {
            continue;
        };
        let next = transition::apply(&row, &change, now, None);
        if tx.update(&row, &next)? {
            report.promoted += 1;
        }
    }
    Ok((report, more))
}
