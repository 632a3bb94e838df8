//! Output: stored on completion, size-limited, replaced by each run of a series.

use super::*;

/// `complete_with_output` stores the bytes as they are; `retrieve` returns them.
#[test]
fn output_is_stored_on_completion() {
    let f = Fixture::new(store(), "output-stored");
    let id = f.submit("x", NORMAL_TYPE);
    let lease = f.claim("h", id);
    let output = vec![0u8, 1, 2, 255, 0];
    assert_eq!(f.q.complete_with_output(lease.key(), &output), Ok(Status::Succeeded));
    let op = f.get(id);
    assert_eq!((op.state, op.status), (State::Completed, Status::Succeeded));
    assert_eq!(op.output, Some(output));
    // A plain completion stores none; an empty output is stored as empty.
    let id2 = f.submit("y", NORMAL_TYPE);
    let lease = f.claim("h", id2);
    f.q.complete(lease.key()).unwrap();
    assert_eq!(f.get(id2).output, None);
    let id3 = f.submit("z", NORMAL_TYPE);
    let lease = f.claim("h", id3);
    f.q.complete_with_output(lease.key(), &[]).unwrap();
    assert_eq!(f.get(id3).output, Some(Vec::new()));
}

/// Exactly `MAX_OUTPUT_BYTES` is stored; one byte more is InvalidArgument,
/// writes nothing, and the lease is still held.
#[test]
fn output_over_the_limit_is_refused() {
    let f = Fixture::new(store(), "output-limit");
    let id = f.submit("x", NORMAL_TYPE);
    let lease = f.claim("h", id);
    let big = vec![7u8; MAX_OUTPUT_BYTES + 1];
    assert!(invalid(f.q.complete_with_output(lease.key(), &big)));
    let op = f.get(id);
    assert_eq!((op.status, op.output), (Status::InProgress, None));
    let max = vec![7u8; MAX_OUTPUT_BYTES];
    assert_eq!(f.q.complete_with_output(lease.key(), &max), Ok(Status::Succeeded));
    assert_eq!(f.get(id).output.map(|o| o.len()), Some(MAX_OUTPUT_BYTES));
}

/// Fenced: a stale token gets `LeaseLost` and stores nothing.
#[test]
fn output_needs_the_lease() {
    let f = Fixture::new(store(), "output-fenced");
    let id = f.submit("x", NORMAL_TYPE);
    let first = f.claim("h1", id);
    f.advance(LEASE_MS);
    f.q.run_maintenance().unwrap();
    let second = f.claim("h2", id);
    let r = f.q.complete_with_output(first.key(), b"stale");
    assert!(lease_lost(r, first.key()));
    f.q.complete_with_output(second.key(), b"fresh").unwrap();
    assert_eq!(f.get(id).output.as_deref(), Some(&b"fresh"[..]));
}

/// A recurring series: each run's output replaces the last run's, and a run
/// completed without output clears it.
#[test]
fn each_run_of_a_series_replaces_the_output() {
    let f = Fixture::new(store(), "output-series");
    let spec = asyncop::OperationSpec::new("tick", NORMAL_TYPE).recurring("FREQ=MINUTELY", None);
    let id = f.submit_spec(spec);
    let lease = f.claim("h", id);
    assert_eq!(f.q.complete_with_output(lease.key(), b"run 1"), Ok(Status::Waiting));
    assert_eq!(f.get(id).output.as_deref(), Some(&b"run 1"[..]));
    f.advance(60_000);
    let lease = f.claim("h", id);
    assert_eq!(f.get(id).output.as_deref(), Some(&b"run 1"[..]), "kept while the next runs");
    f.q.complete_with_output(lease.key(), b"run 2").unwrap();
    assert_eq!(f.get(id).output.as_deref(), Some(&b"run 2"[..]));
    f.advance(60_000);
    let lease = f.claim("h", id);
    f.q.complete(lease.key()).unwrap();
    assert_eq!(f.get(id).output, None);
}

/// A completion in a batch also clears a previous run's output.
#[test]
fn a_batch_completion_clears_a_previous_output() {
    let f = Fixture::new(store(), "output-batch");
    let spec = asyncop::OperationSpec::new("tick", NORMAL_TYPE).recurring("FREQ=MINUTELY", None);
    let id = f.submit_spec(spec);
    let lease = f.claim("h", id);
    f.q.complete_with_output(lease.key(), b"run 1").unwrap();
    f.advance(60_000);
    let lease = f.claim("h", id);
    let results = f.q.complete_many(&[lease.key()]).unwrap();
    assert_eq!(results, vec![Ok(Status::Waiting)]);
    assert_eq!(f.get(id).output, None);
}
