//! Leadership rows: one holder at a time, kept by bidding again, lost after
//! its ttl by the store's clock, given up by resigning.

use super::*;
use std::sync::{Arc, Barrier};

const TTL: Duration = Duration::from_secs(10);

#[test]
fn one_holder_until_its_ttl_passes() {
    let f = Fixture::new(store(), "leader-ttl");
    assert!(f.q.try_lead("purge", "host-a", TTL).unwrap());
    assert!(!f.q.try_lead("purge", "host-b", TTL).unwrap(), "held by a");
    // Another name is another leadership.
    assert!(f.q.try_lead("report", "host-b", TTL).unwrap());
    // A keeps it by bidding again before the ttl passes.
    f.advance(9_000);
    assert!(f.q.try_lead("purge", "host-a", TTL).unwrap());
    f.advance(9_000);
    assert!(!f.q.try_lead("purge", "host-b", TTL).unwrap(), "renewed by a at +9 s");
    // A stops bidding: at its expiry B takes over, and A is refused.
    f.advance(1_000);
    assert!(f.q.try_lead("purge", "host-b", TTL).unwrap());
    assert!(!f.q.try_lead("purge", "host-a", TTL).unwrap());
}

#[test]
fn resigning_frees_it_at_once() {
    let f = Fixture::new(store(), "leader-resign");
    assert!(f.q.try_lead("purge", "host-a", TTL).unwrap());
    // Resigning what one does not hold changes nothing.
    f.q.resign("purge", "host-b").unwrap();
    assert!(!f.q.try_lead("purge", "host-b", TTL).unwrap());
    f.q.resign("purge", "host-a").unwrap();
    assert!(f.q.try_lead("purge", "host-b", TTL).unwrap());
}

#[test]
fn racing_bidders_get_one_leader() {
    let f = Fixture::new(store(), "leader-race");
    const BIDDERS: usize = 8;
    for round in 0..5 {
        let start = Arc::new(Barrier::new(BIDDERS));
        let name = format!("round-{round}");
        let bidders: Vec<_> = (0..BIDDERS)
            .map(|i| {
                let (q, start, name) = (f.q.clone(), start.clone(), name.clone());
                std::thread::spawn(move || {
                    start.wait();
                    q.try_lead(&name, &format!("host-{i}"), TTL).unwrap()
                })
            })
            .collect();
        let won = bidders
            .into_iter()
            .map(|b| b.join().unwrap())
            .filter(|won| *won)
            .count();
        assert_eq!(won, 1, "round {round}");
    }
}

#[test]
fn bad_bids_are_refused() {
    let f = Fixture::new(store(), "leader-bad");
    for (name, holder, ttl) in [
        ("", "host-a", TTL),
        ("purge", "", TTL),
        ("purge", "host-a", Duration::ZERO),
    ] {
        let e = f.q.try_lead(name, holder, ttl).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{name:?} {holder:?} {ttl:?}: {e:?}");
    }
    assert!(f.q.try_lead("purge", "host-a", TTL).unwrap(), "nothing was taken");
}
