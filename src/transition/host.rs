//! Host and platform events (§3.1–§3.3): creation, the claim, renewal, host
//! outcomes, lease expiry and promotion. `None` means the event does not apply
//! to the current status; for host calls the queue reports that as `LeaseLost`.

use super::{Change, Outcome, PostponeUntil, RetryCount, State, Status};

/// How a submitted operation starts (P1, P2): its status and `postpone_until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Creation {
    /// 0/0, or 1/10 when it is postponed.
    pub status: Status,
    /// The postpone time kept on the row (only for 1/10).
    pub postpone_until: Option<i64>,
}

/// P1/P2: an operation submitted with a `postpone_until` later than `now`
/// starts Suspended (1/10) until then; any other starts Ready (0/0), with the
/// time dropped.
pub fn submit(postpone_until: Option<i64>, now: i64) -> Creation {
    match postpone_until {
        Some(t) if t > now => Creation {
            status: Status::Waiting,
            postpone_until: Some(t),
        },
        _ => Creation {
            status: Status::WaitingForResources,
            postpone_until: None,
        },
    }
}

/// P3: the claim takes only 0/0.
pub fn claim(cur: Status) -> Option<Change> {
    (cur == Status::WaitingForResources)
        .then(|| Change::to(Status::InProgress, PostponeUntil::Keep))
}

/// The one status a claim takes, read from [`claim`]'s table (§3.5: exactly
/// one status is claimable, and it is the only status of its state; a store
/// may rely on that, e.g. by walking an index of that state).
pub fn claimable() -> Status {
    let mut from = Status::ALL.into_iter().filter(|s| claim(*s).is_some());
    let first = from.next().unwrap_or(Status::WaitingForResources);
    debug_assert!(from.next().is_none() && first.state().default_status() == first);
    first
}

/// Lease renewal: no move; returns the status the host must act on (20, 21 or 22).
pub fn renew(cur: Status) -> Option<Status> {
    (cur.state() == State::Locked).then_some(cur)
}

/// What the retry budget says about the attempt being reported (§6.5),
/// computed by [`RetryPolicy::plan`](super::RetryPolicy::plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPlan {
    /// `retry_count + 1 >= max_attempts`: no attempt left.
    pub exhausted: bool,
    /// When the next attempt may start (the back-off time).
    pub at: i64,
}

/// Facts about the operation that decide a host outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutcomeContext {
    /// Whether the operation is a recurring series (§8).
    pub recurring: bool,
    /// For a series, its next occurrence (§8); `None` for one-shot, or for a
    /// series with no occurrence left (none before the year 10000).
    pub next_occurrence: Option<i64>,
    /// The retry budget after this attempt.
    pub retry: RetryPlan,
}

/// P5: a host reports an outcome under a valid lease (§3.2 table).
pub fn report(cur: Status, outcome: Outcome, ctx: OutcomeContext) -> Option<Change> {
    use PostponeUntil::{Clear, Keep, Set};
    use Status::{Canceled, Canceling, Failed, InProgress, Pausing, Succeeded, Waiting};
    let change = match (cur, outcome) {
        (InProgress | Pausing | Canceling, Outcome::Failed) => Change::to(Failed, Clear),
        (InProgress | Pausing | Canceling, Outcome::Canceled) => Change::to(Canceled, Clear),
        (Canceling, _) => match outcome {
            // A finished one-shot run is recorded as such, even under Canceling.
            Outcome::Succeeded if !ctx.recurring => Change::to(Succeeded, Clear),
            _ => Change::to(Canceled, Clear),
        },
        (InProgress | Pausing, Outcome::Succeeded) => match ctx.next_occurrence {
            None if !ctx.recurring => Change::to(Succeeded, Clear),
            // A series never reaches 3/30 (§8): with no occurrence left it
            // ends as Failed, with a message saying why (`series_ended`).
            None => Change::to(Failed, Clear),
            Some(next) => {
                let pu = if cur == Pausing { Keep } else { Set(next) };
                Change::to(Waiting, pu).retry(RetryCount::Reset)
            }
        },
        (InProgress | Pausing, Outcome::Retry) if ctx.retry.exhausted => {
            Change::to(Failed, Clear).retry(RetryCount::Increment)
        }
        (InProgress | Pausing, Outcome::Retry) => {
            let pu = if cur == Pausing {
                Keep
            } else {
                Set(ctx.retry.at)
            };
            Change::to(Waiting, pu).retry(RetryCount::Increment)
        }
        (InProgress, Outcome::Suspended) => Change::to(Waiting, Clear),
        (Pausing, Outcome::Suspended) => Change::to(Waiting, Keep),
        _ => return None,
    };
    Some(change)
}

/// Whether a host's report ends a series for want of a next occurrence: the
/// run succeeded (`as_one_shot`, the same report decided as if one-shot, is
/// 3/30) and there is no occurrence before the year 10000. Returns the
/// message the library stores with the 3/31 it becomes, else `None`.
pub fn series_ended(ctx: &OutcomeContext, as_one_shot: Option<Change>) -> Option<String> {
    let succeeded = as_one_shot.is_some_and(|c| c.status == Status::Succeeded);
    (ctx.recurring && ctx.next_occurrence.is_none() && succeeded).then(|| {
        "the recurring series has no occurrence left before the year 10000, so it ended \
         (a series never becomes Completed/Succeeded)"
            .to_owned()
    })
}

/// A successful run (§3.2 row "Succeeded"): `Queue::complete`.
pub fn complete(cur: Status, ctx: OutcomeContext) -> Option<Change> {
    report(cur, Outcome::Succeeded, ctx)
}

/// A permanent failure (§3.2 row "Failed"): `Queue::fail`.
pub fn fail(cur: Status, ctx: OutcomeContext) -> Option<Change> {
    report(cur, Outcome::Failed, ctx)
}

/// A retryable failure (§3.2 rows "Retry"): `Queue::retry`.
pub fn fail_retryable(cur: Status, ctx: OutcomeContext) -> Option<Change> {
    report(cur, Outcome::Retry, ctx)
}

/// A suspend-class failure (§3.2 row "Suspended"): `Queue::suspend`.
pub fn suspend(cur: Status, ctx: OutcomeContext) -> Option<Change> {
    report(cur, Outcome::Suspended, ctx)
}

/// The host stopped at a safe point after seeing Pausing, the Suspended
/// outcome: `Queue::acknowledge_pause`.
pub fn acknowledge_pause(cur: Status, ctx: OutcomeContext) -> Option<Change> {
    report(cur, Outcome::Suspended, ctx)
}

/// The host stopped at a safe point after seeing Canceling, the Canceled
/// outcome: `Queue::acknowledge_cancel`.
pub fn acknowledge_cancel(cur: Status, ctx: OutcomeContext) -> Option<Change> {
    report(cur, Outcome::Canceled, ctx)
}

/// P6: the lease expired (§3.3). `exhausted` is the retry budget after counting this attempt.
pub fn lease_expired(cur: Status, exhausted: bool) -> Option<Change> {
    use PostponeUntil::{Clear, Keep};
    let change = match cur {
        Status::InProgress if exhausted => Change::to(Status::Failed, Clear),
        Status::InProgress => Change::to(Status::WaitingForResources, Clear),
        Status::Pausing if exhausted => Change::to(Status::Failed, Clear),
        Status::Pausing => Change::to(Status::Waiting, Keep),
        // The user's Cancel is honoured: the operation does not run again.
        Status::Canceling => return Some(Change::to(Status::Canceled, Clear)),
        _ => return None,
    };
    Some(change.retry(RetryCount::Increment))
}

/// P4: a Suspended operation whose `postpone_until` is due becomes Ready.
pub fn postpone_due(cur: Status, postpone_until: Option<i64>, now: i64) -> Option<Change> {
    match (cur, postpone_until) {
        (Status::Waiting, Some(pu)) if pu <= now => Some(Change::to(
            Status::WaitingForResources,
            PostponeUntil::Clear,
        )),
        _ => None,
    }
}
