//! Every user action (§3.4, §4) through the real store, on an operation in every
//! (state, status) pair, for an ordinary and a restricted (§9) operation type.
//!
//! Expectations are transcribed from `operation-model.md` §3.4, §4, §9, §10 and §12; none
//! is computed by calling the code under test. For an accepted action the whole stored
//! row is compared with the row the spec's effects give; for a refused one the whole row
//! must equal the row before ("a refused call changes nothing, not even `modified_on`",
//! §6.6), which is why the clock moves between setting up and acting.

mod support;

use asyncop::error::Refusal;
use asyncop::transition::{Change, PostponeUntil, RetryCount};
use asyncop::{
    Clock, Error, Filter, LeaseKey, ManualClock, Operation, OperationSpec, Options, PollOptions,
    Queue, Report, State, Status,
};
use std::fmt::Write as _;
use support::{
    Fixture, LEASE_MS, Mismatches, NORMAL_TYPE, RESTRICTED_TYPE, SPEC_RESTRICTED_TYPES, T0,
    TempDir, options,
};

/// How long the clock moves between setting up and acting.
const STEP: i64 = 1_000;
/// The `pu` of a postponed operation at setup (submit with a future start, P2).
const SETUP_PU: i64 = T0 + 60_000;
/// The `pu` of a Postpone(t) request made while running (U9), at setup.
const SETUP_PENDING_PU: i64 = T0 + 120_000;
/// When actions run.
const NOW: i64 = T0 + STEP;
/// The t of Postpone(t > now).
const LATER: i64 = NOW + 90_000;

const ALL_STATES: [State; 4] = [
    State::Ready,
    State::Suspended,
    State::Locked,
    State::Completed,
];
const ALL_STATUSES: [Status; 8] = [
    Status::WaitingForResources,
    Status::Waiting,
    Status::InProgress,
    Status::Pausing,
    Status::Canceling,
    Status::Succeeded,
    Status::Failed,
    Status::Canceled,
];

/// The (state, status) pairs an operation can be in, each reached by real API calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pair {
    /// 0/0: submit (P1).
    Ready,
    /// 1/10 with pu: submit with a future `postpone_until` (P2).
    Postponed,
    /// 1/10 with pu null: claim, Pause, the host acknowledges (U4, §3.2).
    Paused,
    /// 1/10 with pu = back-off time and `retry_count` 1: claim, Retry (§6.5).
    BackingOff,
    /// 2/20: claim (P3).
    InProgress,
    /// 2/21 with pending pu null: claim, Pause (U4).
    Pausing,
    /// 2/21 with pending pu t: claim, Postpone(t) (U9).
    PausingPostponed,
    /// 2/22: claim, Cancel (U3).
    Canceling,
    /// 3/30: claim, complete.
    Succeeded,
    /// 3/31: claim, fail.
    Failed,
    /// 3/32: Cancel while Ready (U1).
    Canceled,
}

const PAIRS: [Pair; 11] = [
    Pair::Ready,
    Pair::Postponed,
    Pair::Paused,
    Pair::BackingOff,
    Pair::InProgress,
    Pair::Pausing,
    Pair::PausingPostponed,
    Pair::Canceling,
    Pair::Succeeded,
    Pair::Failed,
    Pair::Canceled,
];

impl Pair {
    /// The (state, status) the setup must produce: checked before any action.
    fn codes(self) -> (u8, u8) {
        match self {
            Pair::Ready => (0, 0),
            Pair::Postponed | Pair::Paused | Pair::BackingOff => (1, 10),
            Pair::InProgress => (2, 20),
            Pair::Pausing | Pair::PausingPostponed => (2, 21),
            Pair::Canceling => (2, 22),
            Pair::Succeeded => (3, 30),
            Pair::Failed => (3, 31),
            Pair::Canceled => (3, 32),
        }
    }

    fn is_locked(self) -> bool {
        self.codes().0 == 2
    }
}

/// One user action of §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Cancel,
    Pause,
    Resume,
    /// Postpone(t) with t > now.
    PostponeLater,
    /// Postpone(t) with t = now.
    PostponeNow,
    /// Postpone(t) with t < now.
    PostponePast,
    Delete,
    SetState(State, Option<Status>),
}

fn all_actions() -> Vec<Action> {
    let mut actions = vec![
        Action::Cancel,
        Action::Pause,
        Action::Resume,
        Action::PostponeLater,
        Action::PostponeNow,
        Action::PostponePast,
        Action::Delete,
    ];
    for state in ALL_STATES {
        actions.push(Action::SetState(state, None));
        for status in ALL_STATUSES {
            actions.push(Action::SetState(state, Some(status)));
        }
    }
    actions
}

fn act(q: &Queue, id: i64, action: Action) -> Result<(), Error> {
    match action {
        Action::Cancel => q.cancel(id),
        Action::Pause => q.pause(id),
        Action::Resume => q.resume(id),
        Action::PostponeLater => q.postpone(id, LATER),
        Action::PostponeNow => q.postpone(id, q.now()),
        Action::PostponePast => q.postpone(id, q.now() - 1),
        Action::Delete => q.delete(id),
        Action::SetState(state, status) => q.set_state(id, state, status),
    }
}

/// What §4 says an action does.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    /// Refused with exactly this error; the row is unchanged.
    Refused(Error),
    /// Refused as InvalidArgument whose message contains this text (if any).
    InvalidArgument(Option<String>),
    /// Accepted without a write (U5).
    Unchanged,
    /// Accepted: the row moves to `status` with this effect on `pu`.
    Moved { status: Status, pu: Pu },
    /// Accepted: the row is gone (U10).
    Deleted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pu {
    Clear,
    Set(i64),
}

/// The Refusal the §12 template prints: the current pair and the target state.
fn refusal(cur: Status, target_state: u8) -> Refusal {
    let code = cur as u8;
    Refusal {
        state: code / 10,
        status: code,
        target_state,
    }
}

/// §4 "Cancel" row, §9.
fn expect_cancel(cur: Status, restricted: bool) -> Expect {
    use Status::*;
    if restricted {
        return Expect::Refused(Error::CannotCancel); // 0x80044F00 in every column
    }
    match cur {
        WaitingForResources => Expect::Moved {
            status: Canceled,
            pu: Pu::Clear,
        }, // U1
        Waiting => Expect::Moved {
            status: Canceled,
            pu: Pu::Clear,
        }, // U2
        InProgress | Pausing => Expect::Moved {
            status: Canceling,
            pu: Pu::Clear,
        }, // U3: pending pu cleared
        Canceling | Succeeded | Failed | Canceled => {
            Expect::Refused(Error::InvalidStateChange(refusal(cur, 3))) // 0x80044162
        }
    }
}

/// §4 "Pause" row, §9.
fn expect_pause(cur: Status, restricted: bool) -> Expect {
    use Status::*;
    if restricted {
        return Expect::Refused(Error::CannotPause); // 0x80044F01 in every column
    }
    match cur {
        InProgress => Expect::Moved {
            status: Pausing,
            pu: Pu::Clear,
        }, // U4: pu = null
        Pausing => Expect::Unchanged, // U5
        WaitingForResources | Waiting | Canceling | Succeeded | Failed | Canceled => {
            Expect::Refused(Error::InvalidStateChangeToSuspended(refusal(cur, 1))) // 0x80044167
        }
    }
}

/// §4 "Resume" row; restricted types get 0x80044166 in every column (§4, §9).
fn expect_resume(cur: Status, restricted: bool) -> Expect {
    match cur {
        Status::Waiting if !restricted => Expect::Moved {
            status: Status::WaitingForResources,
            pu: Pu::Clear,
        }, // U6, retry_count kept
        _ => Expect::Refused(Error::InvalidStateChangeToReady(refusal(cur, 0))),
    }
}

/// §4 "Postpone(t)" row with t > now; §9 for restricted types.
fn expect_postpone(cur: Status, restricted: bool, t: i64) -> Expect {
    use Status::*;
    match cur {
        WaitingForResources | Waiting => Expect::Moved {
            status: Waiting,
            pu: Pu::Set(t),
        }, // U7, U8 (for every type)
        InProgress if restricted => Expect::Refused(Error::CannotPause),
        InProgress => Expect::Moved {
            status: Pausing,
            pu: Pu::Set(t),
        }, // U9
        Pausing | Canceling | Succeeded | Failed | Canceled => {
            Expect::Refused(Error::InvalidStateChangeToSuspended(refusal(cur, 1)))
        }
    }
}

/// §4 "Delete" row and §10.
fn expect_delete(cur: Status, allow_delete_any: bool) -> Expect {
    if (cur as u8) / 10 == 3 || allow_delete_any {
        Expect::Deleted
    } else {
        Expect::Refused(Error::CannotDeleteUnlessCompleted) // 0x8004416a
    }
}

/// §4 "Generic set_state(state, status)".
fn expect_set_state(
    cur: Status,
    restricted: bool,
    id: i64,
    state: State,
    status: Option<Status>,
) -> Expect {
    let s = state as u8;
    if let Some(t) = status
        && (t as u8) / 10 != s
    {
        // §12: "{t} is not a valid status code for state code AsyncOperationState.{State}
        // on asyncoperation with Id {id}"
        let name = ["Ready", "Suspended", "Locked", "Completed"][usize::from(s)];
        return Expect::InvalidArgument(Some(format!(
            "{} is not a valid status code for state code AsyncOperationState.{name} \
             on asyncoperation with Id {id}",
            t as u8
        )));
    }
    match (s, status.map(|t| t as u8)) {
        (0, _) => expect_resume(cur, restricted),
        (1, _) => expect_pause(cur, restricted),
        // "only hosts lock operations"; the same answer for restricted types.
        (2, _) => Expect::Refused(Error::InvalidStateChange(refusal(cur, 2))),
        // "users cannot declare an outcome"; the same answer for restricted types.
        (3, Some(30 | 31)) => Expect::Refused(Error::InvalidStateChangeToComplete(refusal(cur, 3))),
        (3, _) => expect_cancel(cur, restricted), // a bare 3 means Canceled
        _ => unreachable!(),
    }
}

fn expect(cur: Status, restricted: bool, id: i64, action: Action) -> Expect {
    match action {
        Action::Cancel => expect_cancel(cur, restricted),
        Action::Pause => expect_pause(cur, restricted),
        Action::Resume => expect_resume(cur, restricted),
        Action::PostponeLater => expect_postpone(cur, restricted, LATER),
        // "Postpone(t) needs t > now, else InvalidArgument" in every state.
        Action::PostponeNow | Action::PostponePast => Expect::InvalidArgument(None),
        Action::Delete => expect_delete(cur, false),
        Action::SetState(state, status) => expect_set_state(cur, restricted, id, state, status),
    }
}

/// The row after an accepted user move, from the effects of §3 and §3.4: state follows
/// the status; `pu` as the move says; entering Completed sets `completed_on`; the move is
/// a change, so `modified_on` = now. User moves never leave Locked, so host, lease,
/// lock token, `retry_count`, error fields and timings stay as they were.
fn moved_row(before: &Operation, status: Status, pu: Pu, now: i64) -> Operation {
    let mut row = before.clone();
    row.status = status;
    row.state = match (status as u8) / 10 {
        0 => State::Ready,
        1 => State::Suspended,
        2 => State::Locked,
        _ => State::Completed,
    };
    match pu {
        Pu::Clear => row.postpone_until = None,
        Pu::Set(t) => row.postpone_until = Some(t),
    }
    if row.state == State::Completed && before.state != State::Completed {
        row.completed_on = Some(now);
    }
    row.modified_on = now;
    row
}

/// A test's file with `count` operations of `operation_type` in `pair`.
struct Setup {
    clock: ManualClock,
    q: Queue,
    ids: Vec<i64>,
    /// The host's lease key of each operation that was claimed.
    keys: Vec<Option<LeaseKey>>,
}

/// Builds the pair with a setup handle that restricts no type (so that Pause and Cancel
/// can put even a restricted type into 2/21 or 2/22, as happens when `restricted_types`
/// changes while it runs), closes it, then opens the handle under test with `final_opts`
/// (which sets `restricted_types` to the spec's default list). Leaves the clock at NOW.
fn setup(
    dir: &TempDir,
    file: &str,
    pair: Pair,
    operation_type: i32,
    count: usize,
    final_opts: impl FnOnce(&mut Options),
) -> Setup {
    let clock = ManualClock::new(T0);
    let path = dir.file(file);
    let s = Queue::open(
        &path,
        Options {
            restricted_types: Some(Vec::new()),
            ..options(&clock)
        },
    )
    .expect("open setup handle");
    let specs: Vec<OperationSpec> = (0..count)
        .map(|i| {
            let spec = OperationSpec::new(format!("op-{i}"), operation_type)
                .data(format!("payload {i}").into_bytes())
                .correlation_id(format!("corr-{i}"));
            if pair == Pair::Postponed {
                spec.postpone_until(SETUP_PU)
            } else {
                spec
            }
        })
        .collect();
    let ids = s.submit_many(&specs).expect("submit_many");
    let mut keys = vec![None; count];
    let claims = !matches!(pair, Pair::Ready | Pair::Postponed | Pair::Canceled);
    if claims {
        let leases = s
            .poll(
                "host-a",
                &PollOptions::default().max(u32::try_from(count).unwrap()),
            )
            .expect("poll");
        assert_eq!(
            leases.iter().map(|l| l.id).collect::<Vec<_>>(),
            ids,
            "setup claims every operation in id order"
        );
        for (i, lease) in leases.iter().enumerate() {
            let key = lease.key();
            match pair {
                Pair::Paused => {
                    s.pause(key.id).unwrap();
                    assert_eq!(s.acknowledge_pause(key).unwrap(), Status::Waiting);
                }
                Pair::BackingOff => {
                    let st = s.retry(key, Report::error(-7, "transient")).unwrap();
                    assert_eq!(st, Status::Waiting);
                }
                Pair::Pausing => s.pause(key.id).unwrap(),
                Pair::PausingPostponed => s.postpone(key.id, SETUP_PENDING_PU).unwrap(),
                Pair::Canceling => s.cancel(key.id).unwrap(),
                Pair::Succeeded => assert_eq!(s.complete(key).unwrap(), Status::Succeeded),
                Pair::Failed => {
                    let st = s.fail(key, Report::error(-8, "permanent")).unwrap();
                    assert_eq!(st, Status::Failed);
                }
                Pair::InProgress => {}
                Pair::Ready | Pair::Postponed | Pair::Canceled => unreachable!(),
            }
            if pair.is_locked() {
                keys[i] = Some(key);
            }
        }
    }
    if pair == Pair::Canceled {
        for &id in &ids {
            s.cancel(id).unwrap();
        }
    }
    for &id in &ids {
        let op = s.retrieve(id).unwrap();
        assert_eq!(
            (op.state as u8, op.status as u8),
            pair.codes(),
            "setup of {pair:?}"
        );
    }
    s.close();
    let mut opts = Options {
        restricted_types: Some(SPEC_RESTRICTED_TYPES.to_vec()),
        ..options(&clock)
    };
    final_opts(&mut opts);
    let q = Queue::open(&path, opts).expect("open handle under test");
    // Well inside every lease (30 s), so that Locked rows stay live.
    clock.set(NOW);
    Setup {
        clock,
        q,
        ids,
        keys,
    }
}

fn describe(r: &Result<(), Error>) -> String {
    match r {
        Ok(()) => "Ok(())".into(),
        Err(e) => format!("Err({e:?}) [{e}]"),
    }
}

/// Runs every action on its own operation in every pair, for one operation type.
fn run_matrix(test: &str, operation_type: i32, restricted: bool) {
    let dir = TempDir::new(test);
    let actions = all_actions();
    let mut m = Mismatches::new(&format!("§4 matrix, type {operation_type}"));
    for (p, pair) in PAIRS.into_iter().enumerate() {
        let su = setup(
            &dir,
            &format!("pair-{p}.db"),
            pair,
            operation_type,
            actions.len(),
            |_| {},
        );
        assert_eq!(su.clock.now_ms(), NOW);
        for (i, &action) in actions.iter().enumerate() {
            let id = su.ids[i];
            let before = su.q.retrieve(id).unwrap();
            let expected = expect(before.status, restricted, id, action);
            let result = act(&su.q, id, action);
            let after = su.q.retrieve(id);
            let cell = format!("{pair:?} {action:?} (id {id})");
            m.checked();
            let mut problems = String::new();
            match &expected {
                Expect::Refused(err) => {
                    if result.as_ref().err() != Some(err) {
                        let _ = write!(
                            problems,
                            " result {} expected Err({err:?}) [{err}];",
                            describe(&result)
                        );
                    }
                }
                Expect::InvalidArgument(text) => match &result {
                    Err(e @ Error::InvalidArgument(_)) => {
                        if let Some(text) = text
                            && !e.to_string().contains(text.as_str())
                        {
                            let _ = write!(problems, " message {e:?} lacks {text:?};");
                        }
                    }
                    other => {
                        let _ = write!(
                            problems,
                            " result {} expected InvalidArgument;",
                            describe(other)
                        );
                    }
                },
                Expect::Unchanged | Expect::Moved { .. } | Expect::Deleted => {
                    if result.is_err() {
                        let _ = write!(problems, " result {} expected Ok(());", describe(&result));
                    }
                }
            }
            let expected_row = match &expected {
                Expect::Refused(_) | Expect::InvalidArgument(_) | Expect::Unchanged => {
                    Some(before.clone())
                }
                Expect::Moved { status, pu } => Some(moved_row(&before, *status, *pu, NOW)),
                Expect::Deleted => None,
            };
            match (expected_row, after) {
                (Some(row), Ok(stored)) => {
                    if stored != row {
                        let _ = write!(
                            problems,
                            " stored row differs:\n      stored   {stored:?}\n      expected {row:?};"
                        );
                    }
                }
                (Some(_), Err(e)) => {
                    let _ = write!(problems, " row should exist, retrieve gave {e:?};");
                }
                (None, Ok(stored)) => {
                    let _ = write!(problems, " row should be deleted, still {stored:?};");
                }
                (None, Err(e)) => {
                    if e != (Error::NotFound { id }) {
                        let _ = write!(problems, " deleted row: retrieve gave {e:?};");
                    }
                }
            }
            if !problems.is_empty() {
                m.push(format!("  {cell}:{problems}"));
            }
        }
        // User moves inside Locked keep the host's lease (§3.4): after every action, a
        // row that is still Locked still accepts its host's key, and renew reports the
        // status the host must act on.
        for (i, key) in su.keys.iter().enumerate() {
            if let (Some(key), Ok(op)) = (key, su.q.retrieve(su.ids[i]))
                && op.state == State::Locked
            {
                let renewed = su.q.renew(*key);
                if renewed != Ok(op.status) {
                    m.push(format!(
                        "  {pair:?} {:?}: the host's renew gave {renewed:?}, row is {:?}",
                        actions[i], op.status
                    ));
                }
            }
        }
    }
    m.finish();
}

#[test]
fn every_user_action_in_every_state_for_an_ordinary_type() {
    run_matrix("matrix-ordinary", NORMAL_TYPE, false);
}

#[test]
fn every_user_action_in_every_state_for_a_restricted_type() {
    run_matrix("matrix-restricted", RESTRICTED_TYPE, true);
}

/// §10: with `allow_delete_any` Delete succeeds in every column, and a host holding a
/// deleted Locked operation gets LeaseLost on its next call (host calls never say NotFound).
#[test]
fn allow_delete_any_deletes_in_every_state_and_the_host_loses_its_lease() {
    let dir = TempDir::new("allow-delete-any");
    let mut m = Mismatches::new("allow_delete_any");
    for (p, pair) in PAIRS.into_iter().enumerate() {
        for operation_type in [NORMAL_TYPE, RESTRICTED_TYPE] {
            let su = setup(
                &dir,
                &format!("pair-{p}-{operation_type}.db"),
                pair,
                operation_type,
                1,
                |o| o.allow_delete_any = Some(true),
            );
            assert!(su.q.settings().allow_delete_any);
            let id = su.ids[0];
            m.checked();
            if let Err(e) = su.q.delete(id) {
                m.push(format!(
                    "  {pair:?} type {operation_type}: delete gave {e:?}"
                ));
                continue;
            }
            if su.q.retrieve(id) != Err(Error::NotFound { id }) {
                m.push(format!("  {pair:?} type {operation_type}: row still there"));
            }
            if let Some(key) = su.keys[0] {
                let calls: [(&str, Result<Status, Error>); 4] = [
                    ("renew", su.q.renew(key)),
                    ("complete", su.q.complete(key)),
                    ("fail", su.q.fail(key, Report::message("late"))),
                    ("acknowledge_cancel", su.q.acknowledge_cancel(key)),
                ];
                for (name, r) in calls {
                    if !matches!(r, Err(Error::LeaseLost { id: i, lock_token, .. }) if i == id && lock_token == key.lock_token)
                    {
                        m.push(format!(
                            "  {pair:?} type {operation_type}: {name} after delete gave {r:?}, expected LeaseLost"
                        ));
                    }
                }
                if su.q.retrieve(id) != Err(Error::NotFound { id }) {
                    m.push(format!("  {pair:?}: a host call brought the row back"));
                }
            }
        }
    }
    m.finish();
}

/// Without `allow_delete_any` (the default), the setting is off in a new file.
#[test]
fn delete_is_refused_unless_completed_by_default() {
    let f = Fixture::new("delete-default");
    assert!(!f.q.settings().allow_delete_any);
    let id = f.submit("x", NORMAL_TYPE);
    let before = f.get(id);
    f.advance(STEP);
    let err = f.q.delete(id).unwrap_err();
    assert_eq!(err, Error::CannotDeleteUnlessCompleted);
    assert_eq!(err.hresult(), Some(0x8004_416a_u32 as i32));
    assert_eq!(
        err.to_string(),
        "Cannot delete async operation unless it is in Completed state."
    );
    assert_eq!(f.get(id), before);
}

/// U10 removes the row; ids are never reused, not even the highest one after its
/// delete, and not after reopening the file (§5).
#[test]
fn delete_removes_the_row_and_ids_are_never_reused() {
    let f = Fixture::new("ids-never-reused");
    let a = f.submit("a", NORMAL_TYPE);
    let b = f.submit("b", NORMAL_TYPE);
    let c = f.submit("c", NORMAL_TYPE);
    assert!(a > 0 && a < b && b < c, "ids {a} {b} {c}");
    for id in [a, b, c] {
        f.q.cancel(id).unwrap();
    }
    f.advance(STEP);
    f.q.delete(c).unwrap();
    assert_eq!(f.q.retrieve(c), Err(Error::NotFound { id: c }));
    assert_eq!(f.q.delete(c), Err(Error::NotFound { id: c }));
    assert_eq!(f.all_ids(), vec![a, b]);
    let d = f.submit("d", NORMAL_TYPE);
    assert!(d > c, "id {d} reuses or precedes the deleted id {c}");
    f.q.cancel(d).unwrap();
    f.q.delete(d).unwrap();
    f.q.delete(b).unwrap();
    f.q.delete(a).unwrap();
    assert!(f.all_ids().is_empty());
    f.q.close();
    let q = f.reopen(|_| {});
    let e = q.submit(&OperationSpec::new("e", NORMAL_TYPE)).unwrap();
    assert!(e > d, "id {e} after reopening reuses or precedes {d}");
}

/// §4 check order: Closed → InvalidArgument → NotFound → restricted type → matrix.
#[test]
fn check_order_of_user_actions() {
    let f = Fixture::new("check-order");
    // A restricted operation in 3/30: the matrix would say 0x80044162 / 0x80044167, the
    // restricted-type step says CannotCancel / CannotPause first.
    let r = f.submit("restricted", RESTRICTED_TYPE);
    let lease = f.claim("h", r);
    f.q.complete(lease.key()).unwrap();
    let before = f.get(r);
    f.advance(STEP);
    assert_eq!(f.q.cancel(r), Err(Error::CannotCancel));
    assert_eq!(f.q.pause(r), Err(Error::CannotPause));
    assert_eq!(
        f.q.set_state(r, State::Completed, None),
        Err(Error::CannotCancel)
    );
    assert_eq!(
        f.q.set_state(r, State::Suspended, Some(Status::Waiting)),
        Err(Error::CannotPause)
    );
    assert_eq!(f.get(r), before);

    // Unknown ids: NotFound, after the argument checks.
    let unknown = 1_000_000;
    let not_found = Err(Error::NotFound { id: unknown });
    let now = f.now();
    assert_eq!(f.q.cancel(unknown), not_found);
    assert_eq!(f.q.pause(unknown), not_found);
    assert_eq!(f.q.resume(unknown), not_found);
    assert_eq!(f.q.postpone(unknown, now + 1), not_found);
    assert_eq!(f.q.delete(unknown), not_found);
    assert_eq!(f.q.retrieve(unknown), Err(Error::NotFound { id: unknown }));
    for state in ALL_STATES {
        assert_eq!(f.q.set_state(unknown, state, None), not_found, "{state:?}");
    }
    // Arguments precede the row lookup.
    assert!(matches!(
        f.q.postpone(unknown, now),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        f.q.set_state(unknown, State::Ready, Some(Status::Waiting)),
        Err(Error::InvalidArgument(_))
    ));

    // id <= 0 is InvalidArgument for every call, before anything else.
    for id in [0, -1, i64::MIN] {
        let calls: [(&str, Result<(), Error>); 7] = [
            ("cancel", f.q.cancel(id)),
            ("pause", f.q.pause(id)),
            ("resume", f.q.resume(id)),
            ("postpone", f.q.postpone(id, now + 1)),
            ("delete", f.q.delete(id)),
            ("set_state", f.q.set_state(id, State::Completed, None)),
            ("retrieve", f.q.retrieve(id).map(|_| ())),
        ];
        for (name, r) in calls {
            assert!(
                matches!(r, Err(Error::InvalidArgument(_))),
                "{name}({id}) gave {r:?}"
            );
        }
        assert_eq!(
            f.q.renew(LeaseKey { id, lock_token: 1 })
                .map(|_| ())
                .map_err(|e| e.name()),
            Err("InvalidArgument")
        );
    }

    // Closed comes first of all: even before a bad id or a bad argument.
    let other = f.q.clone();
    f.q.close();
    assert!(other.is_closed());
    for id in [r, 0, -5, unknown] {
        let calls: [(&str, Result<(), Error>); 10] = [
            ("cancel", other.cancel(id)),
            ("pause", other.pause(id)),
            ("resume", other.resume(id)),
            ("postpone later", other.postpone(id, now + 1)),
            ("postpone now", other.postpone(id, now)),
            ("delete", other.delete(id)),
            ("set_state", other.set_state(id, State::Completed, None)),
            (
                "set_state mismatched",
                other.set_state(id, State::Ready, Some(Status::Failed)),
            ),
            ("retrieve", other.retrieve(id).map(|_| ())),
            (
                "renew",
                other.renew(LeaseKey { id, lock_token: 1 }).map(|_| ()),
            ),
        ];
        for (name, r) in calls {
            assert_eq!(r, Err(Error::Closed), "{name}({id}) on a closed queue");
        }
    }
    assert_eq!(
        other.submit(&OperationSpec::new("", 0)).map(|_| ()),
        Err(Error::Closed)
    );
    assert_eq!(
        other.poll("", &PollOptions::default()).map(|_| ()),
        Err(Error::Closed)
    );
    assert_eq!(
        other.query(&Filter::default()).map(|_| ()),
        Err(Error::Closed)
    );
    assert_eq!(other.counts().map(|_| ()), Err(Error::Closed));
    assert_eq!(other.run_maintenance().map(|_| ()), Err(Error::Closed));
    assert_eq!(Error::Closed.to_string(), "the queue is closed");
}

/// The §12 names, HRESULTs and messages of refusals as the caller sees them.
#[test]
fn refusals_carry_their_hresult_and_documented_message() {
    let f = Fixture::new("hresults");
    let done = f.submit("done", NORMAL_TYPE);
    let lease = f.claim("h", done);
    f.q.complete(lease.key()).unwrap();
    let ready = f.submit("ready", NORMAL_TYPE);
    let waiting = f.submit_spec(OperationSpec::new("waiting", NORMAL_TYPE).postpone_until(T0 + 9));
    let restricted = f.submit("restricted", RESTRICTED_TYPE);
    f.advance(STEP);
    let template = |s: u8, t: u8, target: u8| {
        format!(
            "The state transition requested is not valid for the current state. \
             Current state: {s}, current status: {t}, target state: {target}"
        )
    };
    let cases: Vec<(Result<(), Error>, u32, &str, String)> = vec![
        (
            f.q.cancel(done),
            0x8004_4162,
            "AsyncOperationInvalidStateChange",
            template(3, 30, 3),
        ),
        (
            f.q.set_state(done, State::Completed, None),
            0x8004_4162,
            "AsyncOperationInvalidStateChange",
            template(3, 30, 3),
        ),
        (
            f.q.set_state(ready, State::Locked, None),
            0x8004_4162,
            "AsyncOperationInvalidStateChange",
            template(0, 0, 2),
        ),
        (
            f.q.set_state(ready, State::Completed, Some(Status::Succeeded)),
            0x8004_4165,
            "AsyncOperationInvalidStateChangeToComplete",
            template(0, 0, 3),
        ),
        (
            f.q.resume(ready),
            0x8004_4166,
            "AsyncOperationInvalidStateChangeToReady",
            template(0, 0, 0),
        ),
        (
            f.q.set_state(done, State::Ready, None),
            0x8004_4166,
            "AsyncOperationInvalidStateChangeToReady",
            template(3, 30, 0),
        ),
        (
            f.q.pause(waiting),
            0x8004_4167,
            "AsyncOperationInvalidStateChangeToSuspended",
            template(1, 10, 1),
        ),
        (
            f.q.postpone(done, f.now() + 1),
            0x8004_4167,
            "AsyncOperationInvalidStateChangeToSuspended",
            template(3, 30, 1),
        ),
        (
            f.q.delete(ready),
            0x8004_416a,
            "AsyncOperationCannotDeleteUnlessCompleted",
            "Cannot delete async operation unless it is in Completed state.".into(),
        ),
        (
            f.q.cancel(restricted),
            0x8004_4F00,
            "AsyncOperationCannotCancel",
            "This system job cannot be canceled.".into(),
        ),
        (
            f.q.pause(restricted),
            0x8004_4F01,
            "AsyncOperationCannotPause",
            "This system job cannot be paused.".into(),
        ),
        (
            f.q.resume(restricted),
            0x8004_4166,
            "AsyncOperationInvalidStateChangeToReady",
            template(0, 0, 0),
        ),
    ];
    for (i, (result, hresult, name, message)) in cases.into_iter().enumerate() {
        let err = result.expect_err("refused");
        assert_eq!(err.hresult(), Some(hresult as i32), "case {i}: {err:?}");
        assert_eq!(err.name(), name, "case {i}");
        assert_eq!(err.to_string(), message, "case {i}");
        assert!(!err.is_retryable(), "case {i}");
    }
    // The mismatched-pair wording of §12.
    let err =
        f.q.set_state(ready, State::Ready, Some(Status::Waiting))
            .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)));
    assert_eq!(err.hresult(), None);
    assert!(
        err.to_string().contains(&format!(
            "10 is not a valid status code for state code AsyncOperationState.Ready \
             on asyncoperation with Id {ready}"
        )),
        "{err}"
    );
    let unexpected = Error::InvalidStateChangeUnexpected;
    assert_eq!(unexpected.hresult(), Some(0x8004_4163_u32 as i32));
    assert_eq!(
        unexpected.to_string(),
        "The target state could not be set because the state was changed by another process."
    );
    assert!(unexpected.is_retryable());
    let nf = Error::NotFound { id: 42 };
    assert_eq!(nf.hresult(), None);
    assert!(nf.to_string().contains("42"), "{nf}");
}

/// §4 last step, §6.6: a write validated against a stale snapshot must not apply. The
/// store's compare-and-set refuses it (the Queue reports that as 0x80044163) and the
/// row keeps what the other action wrote.
#[test]
fn compare_and_set_refuses_a_stale_snapshot() {
    let f = Fixture::new("compare-and-set");
    let id = f.submit("contested", NORMAL_TYPE);
    let stale = asyncop::testing::read(&f.q, |c| c.get(id))
        .unwrap()
        .expect("row exists");
    assert_eq!(stale, f.get(id));
    f.advance(STEP);
    // Another user cancels it after our validation.
    f.q.cancel(id).unwrap();
    let after_cancel = f.get(id);
    assert_eq!(after_cancel.status, Status::Canceled);
    f.advance(STEP);
    let now = f.now();
    // Our move, validated against the stale 0/0 snapshot: Postpone (U7).
    let change = Change {
        status: Status::Waiting,
        postpone_until: PostponeUntil::Set(now + 60_000),
        retry_count: RetryCount::Keep,
    };
    let written = asyncop::testing::write(&f.q, |c| {
        let next = asyncop::transition::apply(&stale, &change, now, None);
        c.update(&stale, &next)
    })
    .unwrap();
    assert!(!written, "a stale compare-and-set must not write");
    assert_eq!(f.get(id), after_cancel, "the stale write changed the row");
    // A stale delete is refused the same way.
    let deleted = asyncop::testing::write(&f.q, |c| c.delete(&stale)).unwrap();
    assert!(!deleted);
    assert_eq!(f.get(id), after_cancel);
    // With a fresh snapshot the same statement applies (the harness is sound).
    let fresh = f.get(id);
    let deleted = asyncop::testing::write(&f.q, |c| c.delete(&fresh)).unwrap();
    assert!(deleted);
    assert_eq!(f.q.retrieve(id), Err(Error::NotFound { id }));
}

/// Two handles (as two processes would) cancel the same operations at once. Each
/// operation is canceled exactly once; the loser gets 0x80044162 (it validated after the
/// winner's write) or 0x80044163 (it validated before it); the row is the winner's.
#[test]
fn racing_cancels_have_one_winner_each() {
    let f = Fixture::new("racing-cancels");
    let specs: Vec<OperationSpec> = (0..150)
        .map(|i| OperationSpec::new(format!("r{i}"), NORMAL_TYPE))
        .collect();
    let ids = f.q.submit_many(&specs).unwrap();
    f.advance(STEP);
    let other = f.reopen(|_| {});
    let run = |q: Queue, ids: Vec<i64>| {
        std::thread::spawn(move || ids.iter().map(|&id| q.cancel(id)).collect::<Vec<_>>())
    };
    let a = run(f.q.clone(), ids.clone());
    let b = run(other, ids.clone());
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    let mut unexpected = 0;
    let lost = Error::InvalidStateChange(Refusal {
        state: 3,
        status: 32,
        target_state: 3,
    });
    for (i, &id) in ids.iter().enumerate() {
        let outcomes = [&a[i], &b[i]];
        let wins = outcomes.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "op {id}: {outcomes:?}");
        for r in outcomes {
            match r {
                Ok(()) => {}
                Err(Error::InvalidStateChangeUnexpected) => unexpected += 1,
                Err(e) => assert_eq!(e, &lost, "op {id}"),
            }
        }
        let op = f.get(id);
        assert_eq!((op.state, op.status), (State::Completed, Status::Canceled));
        assert_eq!(op.completed_on, Some(T0 + STEP));
    }
    println!(
        "racing cancels: {unexpected} of {} losers saw 0x80044163",
        ids.len()
    );
}

/// Postpone on a Locked row keeps host and lease (U9) and the lease stays live.
#[test]
fn user_moves_inside_locked_keep_the_lease_live() {
    let f = Fixture::new("locked-moves");
    let id = f.submit("x", NORMAL_TYPE);
    let lease = f.claim("h", id);
    f.advance(STEP);
    f.q.postpone(id, f.now() + 5_000).unwrap();
    let op = f.get(id);
    assert_eq!((op.state, op.status), (State::Locked, Status::Pausing));
    assert_eq!(op.host_id.as_deref(), Some("h"));
    assert_eq!(op.lease_expires_at, Some(T0 + LEASE_MS));
    assert_eq!(f.q.renew(lease.key()), Ok(Status::Pausing));
    f.q.cancel(id).unwrap();
    let op = f.get(id);
    assert_eq!((op.status, op.postpone_until), (Status::Canceling, None));
    assert_eq!(f.q.renew(lease.key()), Ok(Status::Canceling));
    assert_eq!(f.q.acknowledge_cancel(lease.key()), Ok(Status::Canceled));
}

/// §4 last step, §6.6: when the write lock is not obtained within the busy timeout the
/// call returns Busy (retryable) and nothing changes; reads still work meanwhile.
#[test]
fn a_held_write_lock_gives_busy_and_changes_nothing() {
    let f = Fixture::with("busy", |o| {
        o.busy_timeout = std::time::Duration::from_millis(100)
    });
    let id = f.submit("x", NORMAL_TYPE);
    let before = f.get(id);
    f.advance(STEP);
    let blocker = rusqlite::Connection::open(&f.path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    assert_eq!(f.q.cancel(id), Err(Error::Busy));
    assert_eq!(f.q.postpone(id, f.now() + 1_000), Err(Error::Busy));
    assert_eq!(
        f.q.submit(&OperationSpec::new("y", NORMAL_TYPE))
            .map(|_| ()),
        Err(Error::Busy)
    );
    assert!(Error::Busy.is_retryable());
    assert_eq!(f.get(id), before, "reads work and nothing changed");
    // Refusals decided before the write still come first.
    assert!(matches!(
        f.q.resume(id),
        Err(Error::InvalidStateChangeToReady(_))
    ));
    blocker.execute_batch("ROLLBACK").unwrap();
    drop(blocker);
    f.q.cancel(id).unwrap();
    assert_eq!(f.get(id).status, Status::Canceled);
    assert_eq!(f.all_ids(), vec![id]);
}
