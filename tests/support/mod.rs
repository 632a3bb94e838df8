//! Shared test fixtures: a fresh temporary directory per test (kept when the test
//! fails, for a post-mortem), a fresh queue of each store the suite runs against
//! (`store.rs`), a queue opened on a `ManualClock`, and small helpers that put
//! operations where a test needs them. Every helper goes through the public API,
//! except those in `raw.rs`, which reach into the store on purpose.
//!
//! `child.rs` is the one harness for tests that re-run their own binary as a child
//! process or `fork()`.
#![allow(dead_code)]

pub mod child;
pub mod ffi;
pub mod pg;
pub mod raw;
mod store;

pub use store::{Store, Target};

use asyncop::{
    Durability, Lease, ManualClock, Operation, OperationSpec, Options, PollOptions, Queue,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where every test clock starts: 2023-11-14T22:13:20Z, in ms.
pub const T0: i64 = 1_700_000_000_000;

/// The lease length of `Options::default()` (§13: 30 s).
pub const LEASE_MS: i64 = 30_000;

/// The default `restricted_types` of §9, transcribed from the spec.
pub const SPEC_RESTRICTED_TYPES: [i32; 10] = [9, 16, 18, 19, 20, 22, 24, 25, 27, 31];

/// A restricted type (§9) and an ordinary one.
pub const RESTRICTED_TYPE: i32 = 9;
pub const NORMAL_TYPE: i32 = 100;

/// A directory of its own for one test, removed when dropped.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// `<tmp>/asyncop-test-<pid>-<test>-<nanos>`.
    pub fn new(test: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos();
        let path = std::env::temp_dir().join(format!(
            "asyncop-test-{}-{test}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Same as `file`.
    pub fn join(&self, name: &str) -> PathBuf {
        self.file(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("test files kept in {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Options on a manual clock. `Durability::Normal`: these tests are about rules,
/// not power loss, and must stay fast.
pub fn options(clock: &ManualClock) -> Options {
    Options {
        sqlite: asyncop::SqliteOptions {
            durability: Durability::Normal,
            ..asyncop::SqliteOptions::default()
        },
        clock: Arc::new(clock.clone()),
        ..Options::default()
    }
}

/// One fresh queue of `store`, on a manual clock that starts at `T0`.
#[derive(Debug)]
pub struct Fixture {
    pub clock: ManualClock,
    pub q: Queue,
    /// Where the queue lives; `target.open(..)` opens it again.
    pub target: Target,
}

impl Fixture {
    pub fn new(store: Store, test: &str) -> Fixture {
        Fixture::with(store, test, |_| {})
    }

    /// Like `new`, after `tweak` adjusted the options.
    pub fn with(store: Store, test: &str, tweak: impl FnOnce(&mut Options)) -> Fixture {
        let target = store.fresh(test);
        let clock = ManualClock::new(T0);
        let mut opts = options(&clock);
        tweak(&mut opts);
        let q = target.open(opts).expect("open a new queue");
        Fixture { clock, q, target }
    }

    /// Opens a second handle on the same queue and clock.
    pub fn reopen(&self, tweak: impl FnOnce(&mut Options)) -> Queue {
        let mut opts = options(&self.clock);
        tweak(&mut opts);
        self.target.open(opts).expect("reopen the queue")
    }

    pub fn now(&self) -> i64 {
        self.q.now()
    }

    pub fn set(&self, ms: i64) {
        self.clock.set(ms);
    }

    pub fn advance(&self, ms: i64) {
        self.clock.advance(ms);
    }

    pub fn get(&self, id: i64) -> Operation {
        self.q.retrieve(id).expect("retrieve")
    }

    pub fn submit(&self, name: &str, operation_type: i32) -> i64 {
        self.q
            .submit(&OperationSpec::new(name, operation_type))
            .expect("submit")
    }

    pub fn submit_spec(&self, spec: OperationSpec) -> i64 {
        self.q.submit(&spec).expect("submit")
    }

    /// Claims with `PollOptions::default()` (one operation, no wait).
    pub fn poll(&self, host: &str) -> Option<Lease> {
        let mut leases = self.q.poll(host, &PollOptions::default()).expect("poll");
        assert!(leases.len() <= 1, "poll max 1 returned {leases:?}");
        leases.pop()
    }

    /// Claims exactly one operation and checks that it is `id`.
    pub fn claim(&self, host: &str, id: i64) -> Lease {
        let lease = self
            .poll(host)
            .unwrap_or_else(|| panic!("{host} expected to claim {id}, claimed nothing"));
        assert_eq!(lease.id, id, "{host} claimed the wrong operation");
        lease
    }

    /// Ids of every operation, in id order.
    pub fn all_ids(&self) -> Vec<i64> {
        self.q
            .query(&asyncop::Filter::default())
            .expect("query")
            .iter()
            .map(|o| o.id)
            .collect()
    }
}

/// Collects disagreements so that one run reports every one of them.
#[derive(Debug, Default)]
pub struct Mismatches {
    what: String,
    lines: Vec<String>,
    checked: usize,
}

impl Mismatches {
    pub fn new(what: &str) -> Mismatches {
        Mismatches {
            what: what.to_owned(),
            ..Mismatches::default()
        }
    }

    pub fn checked(&mut self) {
        self.checked += 1;
    }

    pub fn push(&mut self, line: String) {
        self.lines.push(line);
    }

    /// One checked cell of a table: `problems` is empty when it agrees with the spec.
    pub fn cell(&mut self, name: String, problems: Vec<String>) {
        self.checked();
        if !problems.is_empty() {
            self.push(format!("  {name}: {}", problems.join("; ")));
        }
    }

    /// Panics listing every mismatch, if any.
    pub fn finish(self) {
        println!("{}: {} cases checked", self.what, self.checked);
        assert!(
            self.lines.is_empty(),
            "{}: {} of {} cases disagree with the spec:\n{}",
            self.what,
            self.lines.len(),
            self.checked,
            self.lines.join("\n")
        );
        assert!(self.checked > 0, "{}: nothing was checked", self.what);
    }
}
