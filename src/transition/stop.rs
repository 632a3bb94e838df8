//! Why a running handler must stop (§6.3): the rule a stop watch applies to
//! the row of a lease it watches. Pure: the watch reads, this decides.

use super::Status;

/// Why a host should stop the handler of a lease at its next safe point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopReason {
    /// A user paused or postponed the operation (2/21 Pausing): stop, then
    /// acknowledge the pause (→ 1/10).
    Pause,
    /// A user canceled the operation (2/22 Canceling): stop, then acknowledge
    /// the cancel (→ 3/32).
    Cancel,
    /// The lease is no longer held under its lock token: the operation left
    /// Locked (its lease expired and maintenance took it back, it was deleted)
    /// or was claimed again. Every host call under it gives `LeaseLost`.
    LeaseLost,
}

impl StopReason {
    /// The C ABI's number for it (`ASYNCOP_STOP_*`): 1 pause, 2 cancel,
    /// 3 lease lost (0 is "no stop").
    pub fn code(self) -> i32 {
        match self {
            StopReason::Pause => 1,
            StopReason::Cancel => 2,
            StopReason::LeaseLost => 3,
        }
    }
}

/// The stop a lease with `lock_token` must make when its row reads `row`
/// (status and lock token; `None` when the row is gone), or `None` to go on.
/// The time alone is not judged: an expired lease is seen when maintenance
/// moves its row (the next claim anywhere), or by the next host call.
pub fn stop_reason(row: Option<(Status, i64)>, lock_token: i64) -> Option<StopReason> {
    match row {
        Some((status, token)) if token == lock_token => match status {
            Status::InProgress => None,
            Status::Pausing => Some(StopReason::Pause),
            Status::Canceling => Some(StopReason::Cancel),
            _ => Some(StopReason::LeaseLost),
        },
        _ => Some(StopReason::LeaseLost),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_progress_goes_on_and_a_user_request_stops() {
        assert_eq!(stop_reason(Some((Status::InProgress, 4)), 4), None);
        assert_eq!(
            stop_reason(Some((Status::Pausing, 4)), 4),
            Some(StopReason::Pause)
        );
        assert_eq!(
            stop_reason(Some((Status::Canceling, 4)), 4),
            Some(StopReason::Cancel)
        );
    }

    #[test]
    fn another_token_another_state_or_no_row_is_a_lost_lease() {
        let lost = Some(StopReason::LeaseLost);
        assert_eq!(stop_reason(Some((Status::InProgress, 5)), 4), lost);
        assert_eq!(stop_reason(Some((Status::Canceling, 5)), 4), lost);
        assert_eq!(stop_reason(Some((Status::Waiting, 4)), 4), lost);
        assert_eq!(stop_reason(Some((Status::Succeeded, 4)), 4), lost);
        assert_eq!(stop_reason(None, 4), lost);
    }
}
