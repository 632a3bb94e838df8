//! §6.1, §6.4, §6.7, §7 as issue 15 made them cheap: a token's successor
//! becomes claimable exactly when its head leaves the unfinished states,
//! type filters and held types merge their heads by id, and due postponed
//! rows are promoted in due-time order, one bounded batch per claim.

use super::*;

fn poll_ids(f: &Fixture, options: &PollOptions) -> Vec<i64> {
    ids(&f.q.poll("h", options).unwrap())
}

/// Canceling a waiting middle link (0/0 → 3/32) releases nobody while the
/// head still runs; the last link follows the head (§7).
#[test]
fn canceling_a_waiting_middle_link_keeps_the_last_one_behind_the_head() {
    let f = Fixture::new(store(), "token-cancel-middle");
    let spec = |n: &str| OperationSpec::new(n, NORMAL_TYPE).dependency_token("m");
    let a = f.submit_spec(spec("a"));
    let b = f.submit_spec(spec("b"));
    let c = f.submit_spec(spec("c"));
    let la = f.claim("h", a);
    f.q.cancel(b).unwrap();
    assert_eq!(pair(&f.get(b)), (State::Completed, Status::Canceled));
    assert!(f.poll("h").is_none(), "c waits for the running a");
    f.q.complete(la.key()).unwrap();
    f.claim("h", c);
}

/// The successor becomes claimable exactly when its head completes, is
/// canceled by the user, or is deleted, and not before: each head is first
/// seen blocking in every unfinished state it can be in.
#[test]
fn the_successor_is_claimable_exactly_when_its_head_finishes() {
    let f = Fixture::with(store(), "token-exact", |o| o.allow_delete_any = Some(true));
    let spec = |n: &str, t: &str| OperationSpec::new(n, NORMAL_TYPE).dependency_token(t);
    // Completed by its host.
    let h1 = f.submit_spec(spec("h1", "x"));
    let s1 = f.submit_spec(spec("s1", "x"));
    let l1 = f.claim("h", h1);
    assert!(f.poll("h").is_none());
    f.q.complete(l1.key()).unwrap();
    f.claim("h", s1);
    // Postponed (Suspended), then canceled by the user.
    let h2 = f.submit_spec(spec("h2", "y"));
    let s2 = f.submit_spec(spec("s2", "y"));
    f.q.postpone(h2, T0 + 1_000_000).unwrap();
    assert!(f.poll("h").is_none(), "a postponed head blocks");
    f.q.cancel(h2).unwrap();
    f.claim("h", s2);
    // Ready and deleted.
    let h3 = f.submit_spec(spec("h3", "z"));
    let s3 = f.submit_spec(spec("s3", "z"));
    let only_other = PollOptions::default().operation_types([NORMAL_TYPE + 1]);
    assert!(poll_ids(&f, &only_other).is_empty());
    f.q.delete(h3).unwrap();
    f.claim("h", s3);
}

/// A held head keeps blocking its successor of another type (holding stops
/// claims, it does not finish anything); after the release, id order.
#[test]
fn a_held_head_still_blocks_and_releases_in_id_order() {
    let f = Fixture::new(store(), "token-held");
    let held = NORMAL_TYPE + 1;
    let head = f.submit_spec(OperationSpec::new("head", held).dependency_token("k"));
    let next = f.submit_spec(OperationSpec::new("next", NORMAL_TYPE).dependency_token("k"));
    let free = f.submit("free", NORMAL_TYPE);
    f.q.hold_type(held).unwrap();
    assert_eq!(poll_ids(&f, &PollOptions::default().max(5)), vec![free]);
    f.q.release_type(held).unwrap();
    let lh = f.claim("h", head);
    assert!(f.poll("h").is_none());
    f.q.complete(lh.key()).unwrap();
    f.claim("h", next);
}

/// A claim of several types takes their operations in id order across the
/// types (§6.1), leaving out held ones, however the list is written.
#[test]
fn a_claim_of_several_types_is_fifo_across_them() {
    let f = Fixture::new(store(), "types-merge");
    let types = [NORMAL_TYPE + 2, NORMAL_TYPE, NORMAL_TYPE + 1];
    let ids: Vec<i64> = (0..9)
        .map(|i| f.submit(&format!("op{i}"), types[i % 3]))
        .collect();
    f.q.hold_type(NORMAL_TYPE + 1).unwrap();
    let filter = PollOptions::default().max(4).operation_types(types);
    assert_eq!(poll_ids(&f, &filter), vec![ids[0], ids[1], ids[3], ids[4]]);
    assert_eq!(
        poll_ids(&f, &PollOptions::default().max(9)),
        vec![ids[6], ids[7]]
    );
}

/// Due postponed operations are promoted in due-time order, at most one
/// batch (`MAINTENANCE_BATCH`) per transaction, and a claim promotes before it
/// claims (§6.4): with more due than a batch, the claim takes the oldest id
/// among the first to fall due; a maintenance pass promotes the rest.
#[test]
fn promotion_is_in_due_time_order_one_batch_per_claim() {
    let f = Fixture::new(store(), "promotion-batches");
    let batch = asyncop::maintenance::MAINTENANCE_BATCH as i64;
    let n = batch + batch / 2;
    // The first submitted falls due last.
    let ids: Vec<i64> = (0..n)
        .map(|i| {
            f.submit_spec(
                OperationSpec::new(format!("p{i}"), NORMAL_TYPE).postpone_until(T0 + 1_000 + n - i),
            )
        })
        .collect();
    f.set(T0 + 10_000);
    // The first batch is the `batch` latest ids; the claim takes the lowest of them.
    let first = usize::try_from(n - batch).unwrap();
    f.claim("h", ids[first]);
    f.q.run_maintenance().unwrap();
    let suspended = Filter {
        state: Some(State::Suspended),
        ..Filter::default()
    };
    assert!(f.q.query(&suspended).unwrap().is_empty());
    f.claim("h", ids[0]);
}
