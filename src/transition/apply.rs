//! The columns a move writes. A store is handed the row these functions
//! compute (or, for the set-based claim, a [`ClaimMove`]) and writes it under a
//! compare-and-set; it decides nothing itself.

use super::{Change, PostponeUntil, RetryCount, State, Status, claim, claimable};
use crate::operation::Operation;

/// Error fields a host outcome or the library writes with a move (§5: a report
/// replaces all three; absent values become null).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorFields {
    /// An HRESULT (as signed) or an asyncop code.
    pub error_code: Option<i32>,
    /// Technical detail.
    pub message: Option<String>,
    /// Text meant for end users.
    pub friendly_message: Option<String>,
}

/// The row after `change` at `now`, with the effects the states imply (§3):
/// leaving Locked clears the host and lease and measures the attempt
/// (`execution_time_span`); entering Completed stamps `completed_on`; every
/// move stamps `modified_on`; `errors`, when given, replace the error fields.
pub fn apply(
    cur: &Operation,
    change: &Change,
    now: i64,
    errors: Option<&ErrorFields>,
) -> Operation {
    let mut next = cur.clone();
    next.status = change.status;
    next.state = change.status.state();
    match change.postpone_until {
        PostponeUntil::Keep => {}
        PostponeUntil::Clear => next.postpone_until = None,
        PostponeUntil::Set(t) => next.postpone_until = Some(t),
    }
    match change.retry_count {
        RetryCount::Keep => {}
        RetryCount::Increment => next.retry_count = cur.retry_count.saturating_add(1),
        RetryCount::Reset => next.retry_count = 0,
    }
    if cur.state == State::Locked && next.state != State::Locked {
        next.host_id = None;
        next.lease_expires_at = None;
        next.execution_time_span = cur.started_on.map(|s| now.saturating_sub(s).max(0));
    }
    if next.state == State::Completed && cur.state != State::Completed {
        next.completed_on = Some(now);
    }
    if let Some(e) = errors {
        next.error_code = e.error_code;
        next.message = e.message.clone();
        next.friendly_message = e.friendly_message.clone();
    }
    next.modified_on = now;
    next
}

/// A claim (P3) as a store must write it, for every row it takes. Claims are
/// set-based (a store picks the eligible rows and moves them in one
/// statement), so the move is decided here once for the whole batch:
/// rows in status `from` get status `to`, the host, the lease expiry, the next
/// lock token, `started_on` = `modified_on` = `now`, and no progress (a new
/// attempt's progress starts unreported); see [`ClaimMove::apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimMove {
    /// The only claimable status (the one [`claim`] accepts).
    pub from: Status,
    /// The status a claimed row gets ([`claim`]'s change).
    pub to: Status,
    /// The host that gets the leases.
    pub host_id: String,
    /// When the leases end unless renewed.
    pub lease_expires_at: i64,
    /// The time of the claim.
    pub now: i64,
}

impl ClaimMove {
    /// The claim of P3 as [`claim`] decides it, for `host_id` at `now` with a
    /// lease of `lease_ms`. The statuses are read from the table, not restated.
    pub fn new(host_id: &str, now: i64, lease_ms: i64) -> ClaimMove {
        let from = claimable();
        let to = claim(from).map_or(Status::InProgress, |change| change.status);
        ClaimMove {
            from,
            to,
            host_id: host_id.to_owned(),
            lease_expires_at: now.saturating_add(lease_ms),
            now,
        }
    }

    /// The row a store must leave after claiming `cur` (which had status `from`).
    pub fn apply(&self, cur: &Operation) -> Operation {
        let mut next = cur.clone();
        next.status = self.to;
        next.state = self.to.state();
        next.host_id = Some(self.host_id.clone());
        next.lease_expires_at = Some(self.lease_expires_at);
        next.lock_token = cur.lock_token.saturating_add(1);
        next.started_on = Some(self.now);
        next.modified_on = self.now;
        // A new attempt starts with no progress reported.
        next.progress = None;
        next.progress_text = None;
        next
    }
}
