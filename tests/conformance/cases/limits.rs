//! The limits of the core through `Queue`: how many operations one poll may claim
//! (`MAX_POLL`), and how large a payload may be (`max_payload_bytes`, a queue-wide
//! setting stored with the queue: 16 MiB by default, at most 512 MiB). Each refusal
//! is `InvalidArgument` and writes nothing. The same limits at the C ABI, and the
//! file modes, are in the SQLite-only `tests/limits.rs`.

use super::store;
use crate::support::{self, NORMAL_TYPE, T0, Target, options};
use asyncop::lease::MAX_POLL;
use asyncop::operation::{DEFAULT_MAX_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES_CEILING};
use asyncop::{Error, Filter, ManualClock, OperationSpec, Options, PollOptions, Queue};

const KIB: u64 = 1024;

fn open_with(target: &Target, tweak: impl FnOnce(&mut Options)) -> Result<Queue, Error> {
    let mut o = options(&ManualClock::new(T0));
    tweak(&mut o);
    target.open(o)
}

fn spec(len: usize) -> OperationSpec {
    OperationSpec::new("payload", NORMAL_TYPE).data(vec![0xA5; len])
}

fn total(queue: &Queue) -> usize {
    queue.query(&Filter::default()).unwrap().len()
}

fn expect_invalid<T: std::fmt::Debug>(r: Result<T, Error>, any_of: &[&str]) -> String {
    match r {
        Err(Error::InvalidArgument(m)) => {
            for want in any_of {
                assert!(m.contains(want), "message {m:?} lacks {want:?}");
            }
            m
        }
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

// -- poll max -------------------------------------------------------------------

#[test]
fn poll_accepts_max_up_to_max_poll_and_refuses_more() {
    let target = store().fresh("poll-max");
    let queue = open_with(&target, |_| {}).unwrap();
    assert_eq!(MAX_POLL, 65_536);
    let leases = queue
        .poll("host", &PollOptions::default().max(MAX_POLL))
        .unwrap();
    assert!(leases.is_empty());
    for max in [0, MAX_POLL + 1, u32::MAX] {
        expect_invalid(
            queue.poll("host", &PollOptions::default().max(max)),
            &["poll max"],
        );
    }
    // A refused poll claims nothing.
    let id = queue.submit(&spec(1)).unwrap();
    expect_invalid(
        queue.poll("host", &PollOptions::default().max(MAX_POLL + 1)),
        &["65536"],
    );
    assert_eq!(queue.retrieve(id).unwrap().state, asyncop::State::Ready);
    let leases = queue
        .poll("host", &PollOptions::default().max(MAX_POLL))
        .unwrap();
    assert_eq!(leases.len(), 1);
}

// -- payload limit: core ----------------------------------------------------------

#[test]
fn payload_at_the_limit_is_accepted_one_byte_over_is_refused_and_nothing_written() {
    let target = store().fresh("payload-limit");
    let queue = open_with(&target, |o| o.max_payload_bytes = Some(KIB)).unwrap();
    assert_eq!(queue.max_payload_bytes(), KIB);
    assert_eq!(queue.settings().max_payload_bytes, KIB);

    let id = queue.submit(&spec(1024)).unwrap();
    assert_eq!(queue.retrieve(id).unwrap().data.len(), 1024);
    expect_invalid(queue.submit(&spec(1025)), &["1025", "1024"]);
    assert_eq!(total(&queue), 1);

    // One oversized item refuses the whole batch.
    let m = expect_invalid(
        queue.submit_many(&[spec(10), spec(1024), spec(1025), spec(0)]),
        &["spec 2", "1025", "1024"],
    );
    assert!(m.contains("max_payload_bytes"), "{m}");
    assert_eq!(total(&queue), 1);
    let ids = queue.submit_many(&[spec(0), spec(1024)]).unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(total(&queue), 3);
}

#[test]
fn the_default_limit_is_16_mib() {
    let target = store().fresh("payload-default");
    let queue = open_with(&target, |_| {}).unwrap();
    assert_eq!(DEFAULT_MAX_PAYLOAD_BYTES, 16 * 1024 * 1024);
    assert_eq!(queue.max_payload_bytes(), DEFAULT_MAX_PAYLOAD_BYTES);
    let over = usize::try_from(DEFAULT_MAX_PAYLOAD_BYTES).unwrap() + 1;
    expect_invalid(queue.submit(&spec(over)), &["16777217", "16777216"]);
    assert_eq!(total(&queue), 0);
}

#[test]
fn a_non_default_limit_is_stored_in_the_file_for_other_handles() {
    let target = store().fresh("payload-persist");
    let first = open_with(&target, |o| o.max_payload_bytes = Some(2 * KIB)).unwrap();
    // A second handle opened meanwhile with no opinion reads the file's value.
    let second = open_with(&target, |_| {}).unwrap();
    assert_eq!(second.max_payload_bytes(), 2 * KIB);
    expect_invalid(second.submit(&spec(2049)), &["2049", "2048"]);
    second.submit(&spec(2048)).unwrap();
    first.close();
    second.close();
    let third = open_with(&target, |_| {}).unwrap();
    assert_eq!(third.max_payload_bytes(), 2 * KIB);
    assert_eq!(total(&third), 1);
    third.close();
    // Setting it again changes it for handles opened afterwards.
    let fourth = open_with(&target, |o| o.max_payload_bytes = Some(KIB)).unwrap();
    assert_eq!(fourth.max_payload_bytes(), KIB);
    fourth.close();
    assert_eq!(open_with(&target, |_| {}).unwrap().max_payload_bytes(), KIB);
}

#[test]
fn limits_outside_1_to_512_mib_are_refused_at_open_and_not_stored() {
    let target = store().fresh("payload-range");
    assert_eq!(MAX_PAYLOAD_BYTES_CEILING, 512 * 1024 * 1024);
    for bad in [0, MAX_PAYLOAD_BYTES_CEILING + 1, u64::MAX] {
        expect_invalid(
            open_with(&target, |o| o.max_payload_bytes = Some(bad)),
            &["max_payload_bytes", &bad.to_string()],
        );
    }
    let q = open_with(&target, |_| {}).unwrap();
    assert_eq!(q.max_payload_bytes(), DEFAULT_MAX_PAYLOAD_BYTES);
    q.close();
    for good in [1, MAX_PAYLOAD_BYTES_CEILING] {
        let q = open_with(&target, |o| o.max_payload_bytes = Some(good)).unwrap();
        assert_eq!(q.max_payload_bytes(), good);
        q.close();
    }
    let q = open_with(&target, |_| {}).unwrap();
    assert_eq!(q.max_payload_bytes(), MAX_PAYLOAD_BYTES_CEILING);
    q.submit(&spec(0)).unwrap();
}

#[test]
fn a_stored_limit_out_of_range_is_corrupt() {
    let target = store().fresh("payload-stored");
    for bad in ["0", "536870913", "-5", "lots"] {
        let q = open_with(&target, |_| {}).unwrap();
        support::raw::set_setting(&q, "max_payload_bytes", bad);
        q.close();
        match open_with(&target, |_| {}) {
            Err(Error::Corrupt(m)) => assert!(m.contains("max_payload_bytes"), "{m}"),
            other => panic!("{bad}: expected Corrupt, got {other:?}"),
        }
        // Setting a valid value repairs it.
        let q = open_with(&target, |o| o.max_payload_bytes = Some(KIB)).unwrap();
        assert_eq!(q.max_payload_bytes(), KIB);
        q.close();
    }
}

