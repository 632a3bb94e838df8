//! Issue 14 §3: the library's counters, latency histograms, their Prometheus
//! rendering, and the event hooks, after a known sequence of calls.

use super::*;
use asyncop::{Event, EventKind, Outcome};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const DAY_MS: i64 = 86_400_000;

/// Registers a hook that keeps every event.
fn recorder(f: &Fixture) -> Arc<Mutex<Vec<Event>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    f.q.on_event(Box::new(move |e: &Event| keep.lock().unwrap().push(e.clone())));
    seen
}

/// submit 4; a succeeds, b fails, c is canceled while Ready, d's lease
/// expires once and its second attempt retries; a is purged after 31 days.
fn known_sequence(f: &Fixture) -> [i64; 4] {
    let [a, b, c, d] = ["a", "b", "c", "d"].map(|n| f.submit(n, NORMAL_TYPE));
    let la = f.claim("h1", a);
    assert_eq!(f.q.complete(la.key()), Ok(Status::Succeeded));
    let lb = f.claim("h2", b);
    assert_eq!(
        f.q.report(lb.key(), Outcome::Failed, Report::message("no")),
        Ok(Status::Failed)
    );
    f.q.cancel(c).unwrap();
    f.claim("h3", d);
    f.advance(LEASE_MS);
    f.q.run_maintenance().unwrap();
    let ld = f.claim("h4", d);
    assert_eq!(f.q.retry(ld.key(), Report::message("again")), Ok(Status::Waiting));
    assert_eq!(f.q.purge(f.now() + 31 * DAY_MS), Ok(1));
    [a, b, c, d]
}

#[test]
fn counters_after_a_known_sequence() {
    let f = Fixture::new(store(), "metrics_counters");
    known_sequence(&f);
    let m = f.q.metrics();
    assert_eq!(m.submitted, 4);
    assert_eq!(m.claims, 4);
    // succeeded, failed, canceled, retried, suspended
    assert_eq!(m.outcomes, [1, 1, 0, 1, 0]);
    assert_eq!((m.outcome("failed"), m.outcome("retried")), (1, 1));
    assert_eq!(m.user_actions, 1);
    assert_eq!((m.recoveries, m.poisoned), (1, 0));
    assert_eq!(m.purged, 1);
    assert_eq!(m.claim_seconds.count, 4);
    assert_eq!(m.commit_seconds.count, 3);
    assert_eq!(m.claim_seconds.cumulative.last(), Some(&4));
    // A clone shares the counters.
    assert_eq!(f.q.clone().metrics(), m);
}

#[test]
fn hooks_see_every_change_with_its_fields() {
    let f = Fixture::new(store(), "metrics_events");
    let seen = recorder(&f);
    let t0 = f.now();
    let [a, _, c, d] = known_sequence(&f);
    let events = seen.lock().unwrap().clone();
    let of = |id: i64| -> Vec<&Event> { events.iter().filter(|e| e.id == id).collect() };
    let ready = Some((State::Ready, Status::WaitingForResources));
    let running = Some((State::Locked, Status::InProgress));
    let ea = of(a);
    assert_eq!(ea.len(), 3, "{ea:?}");
    assert_eq!((ea[0].kind, ea[0].from, ea[0].to), (EventKind::Submitted, None, ready));
    assert_eq!((ea[0].operation_type, ea[0].at, ea[0].count), (NORMAL_TYPE, t0, 1));
    assert_eq!((ea[1].kind, ea[1].from, ea[1].to), (EventKind::Claimed, ready, running));
    assert_eq!(ea[1].host.as_deref(), Some("h1"));
    assert_eq!((ea[2].kind, ea[2].from), (EventKind::Outcome, running));
    assert_eq!(ea[2].to, Some((State::Completed, Status::Succeeded)));
    assert_eq!(ea[2].host.as_deref(), Some("h1"));
    let ec = of(c);
    assert_eq!((ec[1].kind, ec[1].from), (EventKind::UserAction, ready));
    assert_eq!(ec[1].to, Some((State::Completed, Status::Canceled)));
    let ed: Vec<_> = of(d).iter().map(|e| e.kind).collect();
    assert_eq!(
        ed,
        [EventKind::Submitted, EventKind::Claimed, EventKind::Claimed, EventKind::Outcome]
    );
    let batches: Vec<_> = of(0).iter().map(|e| (e.kind, e.count)).collect();
    assert_eq!(batches, [(EventKind::Recovered, 1), (EventKind::Purged, 1)]);
}

#[test]
fn a_panicking_hook_does_not_break_the_queue_or_other_hooks() {
    let f = Fixture::new(store(), "metrics_panic");
    let id = f.q.on_event(Box::new(|_: &Event| panic!("a broken hook")));
    let seen = recorder(&f);
    let a = f.submit("a", NORMAL_TYPE);
    let lease = f.claim("h", a);
    assert_eq!(f.q.complete(lease.key()), Ok(Status::Succeeded));
    assert_eq!(seen.lock().unwrap().len(), 3);
    assert!(f.q.remove_event_hook(id));
    assert!(!f.q.remove_event_hook(id));
    // A hook may call the queue: no store lock is held.
    let q = f.q.clone();
    let states = Arc::new(Mutex::new(Vec::new()));
    let keep = states.clone();
    f.q.on_event(Box::new(move |e: &Event| {
        keep.lock().unwrap().push(q.retrieve(e.id).map(|o| o.status).ok());
    }));
    f.submit("b", NORMAL_TYPE);
    assert_eq!(*states.lock().unwrap(), [Some(Status::WaitingForResources)]);
}

/// Parses the text format back: `series -> value`, checking every series
/// has a `# TYPE` and every sample line has a name, a value and only labels.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut typed = Vec::new();
    let mut samples = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("a TYPE line names a kind");
            assert!(["counter", "histogram"].contains(&kind), "{line}");
            typed.push(name.to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a sample line");
        let name = series.split('{').next().unwrap();
        assert!(
            typed.iter().any(|t| name == t || name.strip_prefix(t.as_str()).is_some_and(|s| ["_bucket", "_sum", "_count"].contains(&s))),
            "{name} has no TYPE"
        );
        samples.insert(series.to_owned(), value.parse::<f64>().expect("a number"));
    }
    samples
}

#[test]
fn prometheus_text_parses_back_to_the_counters() {
    let f = Fixture::new(store(), "metrics_prometheus");
    known_sequence(&f);
    let m = f.q.metrics();
    let text = m.to_prometheus("");
    let s = parse(&text);
    assert_eq!(s["asyncop_claims_total"], 4.0);
    assert_eq!(s["asyncop_submitted_total"], 4.0);
    assert_eq!(s["asyncop_lease_expiries_total"], 1.0);
    assert_eq!(s["asyncop_purged_total"], 1.0);
    assert_eq!(s["asyncop_completions_total{outcome=\"succeeded\"}"], 1.0);
    assert_eq!(s["asyncop_completions_total{outcome=\"retried\"}"], 1.0);
    assert_eq!(s["asyncop_claim_seconds_bucket{le=\"+Inf\"}"], 4.0);
    assert_eq!(s["asyncop_claim_seconds_count"], 4.0);
    assert_eq!(s["asyncop_commit_seconds_count"], 3.0);
    let mut last = 0.0;
    for le in ["0.0005", "0.001", "0.01", "0.1", "1", "10", "+Inf"] {
        let v = s[&format!("asyncop_commit_seconds_bucket{{le=\"{le}\"}}")];
        assert!(v >= last, "buckets are cumulative");
        last = v;
    }
    let labelled = parse(&m.to_prometheus("queue=\"jobs\""));
    assert_eq!(labelled["asyncop_claims_total{queue=\"jobs\"}"], 4.0);
    assert!(labelled.contains_key("asyncop_claim_seconds_bucket{queue=\"jobs\",le=\"+Inf\"}"));
}
