//! §4 as a matrix: every action on its own operation in every (state, status) pair.

use super::*;

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
    target: &Target,
    pair: Pair,
    operation_type: i32,
    count: usize,
    final_opts: impl FnOnce(&mut Options),
) -> Setup {
    let clock = ManualClock::new(T0);
    let s = target
        .open(Options {
            restricted_types: Some(Vec::new()),
            ..options(&clock)
        })
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
    let q = target.open(opts).expect("open handle under test");
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
    let actions = all_actions();
    let mut m = Mismatches::new(&format!("§4 matrix, type {operation_type}"));
    for (p, pair) in PAIRS.into_iter().enumerate() {
        let target = store().fresh(&format!("{test}-pair-{p}"));
        let su = setup(
            &target,
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
    let mut m = Mismatches::new("allow_delete_any");
    for (p, pair) in PAIRS.into_iter().enumerate() {
        for operation_type in [NORMAL_TYPE, RESTRICTED_TYPE] {
            let target = store().fresh(&format!("allow-delete-any-{p}-{operation_type}"));
            let su = setup(
                &target,
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
