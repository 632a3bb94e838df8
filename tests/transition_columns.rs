//! The columns a move writes (`transition::apply`, `transition::ClaimMove`) and
//! the start of an operation (`transition::submit`): the pure functions whose
//! results every store writes as given. Expectations are transcribed from
//! `docs/operation-model.md` (§3 effects of leaving Locked and entering
//! Completed, §5 fields, P1–P3), not computed by the code under test.

use asyncop::Operation;
use asyncop::transition::{
    self as tr, Change, ClaimMove, ErrorFields, PostponeUntil, RetryCount, State, Status,
};

const NOW: i64 = 1_700_000_000_000;

/// A row in `status`, with every field set to something recognisable.
fn row(status: Status) -> Operation {
    let locked = status.state() == State::Locked;
    Operation {
        id: 7,
        name: "op".into(),
        operation_type: 100,
        state: status.state(),
        status,
        data: b"payload".to_vec(),
        dependency_token: Some("tok".into()),
        postpone_until: Some(NOW + 5_000),
        host_id: locked.then(|| "host-a".to_string()),
        lease_expires_at: locked.then_some(NOW + 30_000),
        lock_token: 3,
        retry_count: 1,
        error_code: Some(5),
        message: Some("old".into()),
        friendly_message: Some("old friendly".into()),
        created_on: NOW - 60_000,
        modified_on: NOW - 10_000,
        started_on: Some(NOW - 2_000),
        completed_on: None,
        execution_time_span: None,
        recurrence_pattern: None,
        recurrence_start: None,
        correlation_id: Some("corr".into()),
        is_waiting_for_event: false,
        progress: Some(40),
        progress_text: Some("halfway".into()),
        output: None,
    }
}

fn change(status: Status, pu: PostponeUntil, rc: RetryCount) -> Change {
    Change {
        status,
        postpone_until: pu,
        retry_count: rc,
    }
}

#[test]
fn submit_starts_ready_unless_postponed_into_the_future() {
    // P1: no pu, or a pu not later than now → 0/0 with pu dropped.
    for pu in [None, Some(NOW), Some(NOW - 1)] {
        let c = tr::submit(pu, NOW);
        assert_eq!(
            (c.status, c.postpone_until),
            (Status::WaitingForResources, None),
            "{pu:?}"
        );
    }
    // P2: pu > now → 1/10 until then.
    let c = tr::submit(Some(NOW + 1), NOW);
    assert_eq!(
        (c.status, c.postpone_until),
        (Status::Waiting, Some(NOW + 1))
    );
}

#[test]
fn leaving_locked_clears_host_and_lease_and_measures_the_attempt() {
    let cur = row(Status::InProgress);
    let next = tr::apply(
        &cur,
        &change(Status::Succeeded, PostponeUntil::Clear, RetryCount::Keep),
        NOW,
        None,
    );
    assert_eq!(
        (next.state, next.status),
        (State::Completed, Status::Succeeded)
    );
    assert_eq!(next.host_id, None);
    assert_eq!(next.lease_expires_at, None);
    assert_eq!(next.execution_time_span, Some(2_000), "now - started_on");
    assert_eq!(
        next.completed_on,
        Some(NOW),
        "entering Completed stamps completed_on"
    );
    assert_eq!(next.postpone_until, None);
    assert_eq!(next.modified_on, NOW);
    // The lock token and started_on stay: they describe the last claim.
    assert_eq!((next.lock_token, next.started_on), (3, Some(NOW - 2_000)));
    // Without a report the error fields are kept.
    assert_eq!(next.message.as_deref(), Some("old"));
}

#[test]
fn moves_inside_locked_keep_the_lease() {
    let cur = row(Status::InProgress);
    let next = tr::apply(
        &cur,
        &change(
            Status::Pausing,
            PostponeUntil::Set(NOW + 9),
            RetryCount::Keep,
        ),
        NOW,
        None,
    );
    assert_eq!(next.status, Status::Pausing);
    assert_eq!(next.host_id.as_deref(), Some("host-a"));
    assert_eq!(next.lease_expires_at, Some(NOW + 30_000));
    assert_eq!(next.execution_time_span, None);
    assert_eq!(next.completed_on, None);
    assert_eq!(next.postpone_until, Some(NOW + 9));
}

#[test]
fn retry_counts_and_postpone_times_follow_the_change() {
    let cur = row(Status::InProgress);
    let inc = tr::apply(
        &cur,
        &change(
            Status::Waiting,
            PostponeUntil::Set(NOW + 1),
            RetryCount::Increment,
        ),
        NOW,
        None,
    );
    assert_eq!((inc.retry_count, inc.postpone_until), (2, Some(NOW + 1)));
    let reset = tr::apply(
        &cur,
        &change(Status::Waiting, PostponeUntil::Keep, RetryCount::Reset),
        NOW,
        None,
    );
    assert_eq!(
        (reset.retry_count, reset.postpone_until),
        (0, Some(NOW + 5_000))
    );
}

#[test]
fn a_report_replaces_all_three_error_fields() {
    let cur = row(Status::InProgress);
    let errors = ErrorFields {
        error_code: Some(42),
        message: None,
        friendly_message: Some("try later".into()),
    };
    let next = tr::apply(
        &cur,
        &change(
            Status::Waiting,
            PostponeUntil::Set(NOW + 1),
            RetryCount::Increment,
        ),
        NOW,
        Some(&errors),
    );
    assert_eq!(next.error_code, Some(42));
    assert_eq!(next.message, None, "§5: absent values become null");
    assert_eq!(next.friendly_message.as_deref(), Some("try later"));
}

#[test]
fn completed_on_is_stamped_once() {
    // Nothing moves out of Completed, but apply must not restamp a Completed row.
    let mut cur = row(Status::Canceled);
    cur.completed_on = Some(NOW - 1);
    let next = tr::apply(
        &cur,
        &change(Status::Canceled, PostponeUntil::Clear, RetryCount::Keep),
        NOW,
        None,
    );
    assert_eq!(next.completed_on, Some(NOW - 1));
}

#[test]
fn the_claim_takes_only_0_0_and_writes_the_lease() {
    // §3.5: only 0/0 is claimable, to 2/20.
    assert_eq!(tr::claimable(), Status::WaitingForResources);
    let claim = ClaimMove::new("host-b", NOW, 30_000);
    assert_eq!(
        (claim.from, claim.to),
        (Status::WaitingForResources, Status::InProgress)
    );
    assert_eq!(claim.lease_expires_at, NOW + 30_000);
    let mut cur = row(Status::WaitingForResources);
    cur.postpone_until = None;
    let next = claim.apply(&cur);
    assert_eq!(
        (next.state, next.status),
        (State::Locked, Status::InProgress)
    );
    assert_eq!(next.host_id.as_deref(), Some("host-b"));
    assert_eq!(next.lease_expires_at, Some(NOW + 30_000));
    assert_eq!(
        next.lock_token, 4,
        "§6.3: the fencing token changes on every claim"
    );
    assert_eq!((next.started_on, next.modified_on), (Some(NOW), NOW));
    assert_eq!(next.retry_count, 1, "a claim does not count an attempt");
    // A huge lease saturates instead of overflowing.
    assert_eq!(
        ClaimMove::new("h", i64::MAX - 1, 30_000).lease_expires_at,
        i64::MAX
    );
}
