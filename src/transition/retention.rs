//! Retention and auto-delete (§10) as pure rules: which Completed rows a
//! purge deletes at a given time, and whether a success deletes its row
//! instead of writing 3/30. No I/O; the queue applies them in short batches.

use super::{State, Status};
use std::time::Duration;

/// How long Completed rows of one status are kept (§10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Retention {
    /// Kept until deleted by hand ("none"): a purge never deletes them.
    Forever,
    /// Deleted by a purge once `completed_on` is older than this.
    After(Duration),
}

impl Retention {
    /// The retention in ms (saturating), `None` for `Forever`.
    pub fn ms(self) -> Option<i64> {
        match self {
            Retention::Forever => None,
            Retention::After(d) => Some(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        }
    }

    /// The retention of `ms` milliseconds; `None` (or a negative value) is `Forever`.
    pub fn from_ms(ms: Option<i64>) -> Retention {
        match ms.and_then(|m| u64::try_from(m).ok()) {
            Some(m) => Retention::After(Duration::from_millis(m)),
            None => Retention::Forever,
        }
    }
}

/// The retention of each final status (§10): 30 days for Succeeded, 60 for
/// Failed and 60 for Canceled by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RetentionPolicy {
    /// Succeeded rows (3/30).
    pub succeeded: Retention,
    /// Failed rows (3/31).
    pub failed: Retention,
    /// Canceled rows (3/32).
    pub canceled: Retention,
}

/// One day in ms.
const DAY_MS: u64 = 24 * 60 * 60 * 1000;

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            succeeded: Retention::After(Duration::from_millis(30 * DAY_MS)),
            failed: Retention::After(Duration::from_millis(60 * DAY_MS)),
            canceled: Retention::After(Duration::from_millis(60 * DAY_MS)),
        }
    }
}

impl RetentionPolicy {
    /// The retention of `status`; `Forever` for a status that is not final.
    pub fn of(&self, status: Status) -> Retention {
        match status {
            Status::Succeeded => self.succeeded,
            Status::Failed => self.failed,
            Status::Canceled => self.canceled,
            _ => Retention::Forever,
        }
    }

    /// Rows of `status` completed before this time are due for deletion at
    /// `now`; `None` when the status is kept forever.
    pub fn cutoff(&self, status: Status, now: i64) -> Option<i64> {
        self.of(status).ms().map(|ms| now.saturating_sub(ms))
    }

    /// The latest cutoff of the three statuses at `now`: no row completed at
    /// or after it is due. `None` when every status is kept forever.
    pub fn latest_cutoff(&self, now: i64) -> Option<i64> {
        [Status::Succeeded, Status::Failed, Status::Canceled]
            .into_iter()
            .filter_map(|s| self.cutoff(s, now))
            .max()
    }

    /// Whether a purge at `now` deletes a row in (`state`, `status`) completed
    /// at `completed_on`: Completed, and strictly older than its retention.
    pub fn is_due(&self, status: Status, completed_on: Option<i64>, now: i64) -> bool {
        status.state() == State::Completed
            && matches!((self.cutoff(status, now), completed_on), (Some(cut), Some(at)) if at < cut)
    }
}

/// Whether an outcome that leaves `next` deletes the row instead (§10
/// auto-delete): a one-shot operation (`recurring` false) becoming
/// Succeeded, of a type in `auto_delete_types`. Failed and Canceled rows are
/// kept; recurring runs never trigger it.
pub fn auto_deletes(
    operation_type: i32,
    recurring: bool,
    next: Status,
    auto_delete_types: &[i32],
) -> bool {
    next == Status::Succeeded && !recurring && auto_delete_types.contains(&operation_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn defaults_are_30_60_60_days() {
        let p = RetentionPolicy::default();
        assert_eq!(p.of(Status::Succeeded).ms(), Some(30 * DAY));
        assert_eq!(p.of(Status::Failed).ms(), Some(60 * DAY));
        assert_eq!(p.of(Status::Canceled).ms(), Some(60 * DAY));
        assert_eq!(p.of(Status::WaitingForResources), Retention::Forever);
    }

    #[test]
    fn due_strictly_after_the_retention() {
        let p = RetentionPolicy::default();
        let now = 100 * DAY;
        assert!(p.is_due(Status::Succeeded, Some(now - 30 * DAY - 1), now));
        assert!(!p.is_due(Status::Succeeded, Some(now - 30 * DAY), now));
        assert!(!p.is_due(Status::Failed, Some(now - 31 * DAY), now));
        assert!(p.is_due(Status::Canceled, Some(now - 61 * DAY), now));
        assert!(!p.is_due(Status::InProgress, Some(0), now));
        assert!(!p.is_due(Status::Succeeded, None, now));
        assert_eq!(p.latest_cutoff(now), Some(now - 30 * DAY));
    }

    #[test]
    fn forever_is_never_due() {
        let p = RetentionPolicy {
            succeeded: Retention::Forever,
            ..RetentionPolicy::default()
        };
        assert!(!p.is_due(Status::Succeeded, Some(i64::MIN), 0));
        assert_eq!(p.latest_cutoff(100 * DAY), Some(40 * DAY));
        let none = RetentionPolicy {
            succeeded: Retention::Forever,
            failed: Retention::Forever,
            canceled: Retention::Forever,
        };
        assert_eq!(none.latest_cutoff(0), None);
        assert_eq!(Retention::from_ms(None), Retention::Forever);
        assert_eq!(Retention::from_ms(Some(5)).ms(), Some(5));
    }

    #[test]
    fn auto_delete_only_one_shot_successes_of_listed_types() {
        assert!(auto_deletes(7, false, Status::Succeeded, &[7]));
        assert!(!auto_deletes(7, true, Status::Succeeded, &[7]));
        assert!(!auto_deletes(7, false, Status::Failed, &[7]));
        assert!(!auto_deletes(7, false, Status::Canceled, &[7]));
        assert!(!auto_deletes(8, false, Status::Succeeded, &[7]));
    }
}
