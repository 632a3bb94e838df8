//! The stores the conformance suite runs against, and one test's place in one of
//! them. A case reaches its queue only through `Store` and `Target`, never through
//! a file path, so that adding a store is adding a variant here and one line in
//! `tests/conformance/main.rs`.

use super::TempDir;
use asyncop::{Error, Options, Queue};
use std::path::{Path, PathBuf};

/// Each store the suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// One SQLite file, `queue.db`, in a fresh temporary directory per test.
    Sqlite,
    /// A fresh schema per test in the database `ASYNCOP_TEST_POSTGRES` names
    /// (scripts/test starts a throwaway cluster and sets it).
    Postgres,
}

/// The PostgreSQL URL of the test cluster. `scripts/test` (and `scripts/pg-cluster`)
/// provide it; without it the PostgreSQL copy of the suite cannot run, and says so.
fn postgres_url() -> String {
    std::env::var("ASYNCOP_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "ASYNCOP_TEST_POSTGRES is not set: run the tests through scripts/test, or start a \
             cluster with `scripts/pg-cluster start DIR` and export the URL it prints"
        )
    })
}

/// A schema name no other test of any process uses.
fn fresh_schema(test: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let clean: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(30)
        .collect();
    format!(
        "t{}_{}_{clean}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl Store {
    /// A short name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Store::Sqlite => "sqlite",
            Store::Postgres => "postgres",
        }
    }

    /// A fresh, empty place for one queue of this store, plus a scratch directory
    /// for the test's own files. `test` names both (it shows in the temp dir's name).
    pub fn fresh(self, test: &str) -> Target {
        let dir = TempDir::new(test);
        let location = match self {
            Store::Sqlite => dir
                .file("queue.db")
                .to_str()
                .expect("UTF-8 temp path")
                .to_owned(),
            // "<schema> <url>": what `open_target` splits again, in any process.
            Store::Postgres => format!("{} {}", fresh_schema(test), postgres_url()),
        };
        Target {
            store: self,
            location,
            dir,
        }
    }

    /// Opens the queue that `Target::target()` named, e.g. in a child process.
    pub fn open_target(self, target: &str, options: Options) -> Result<Queue, Error> {
        match self {
            Store::Sqlite => Queue::open(target, options),
            Store::Postgres => {
                let (schema, url) = target.split_once(' ').expect("<schema> <url>");
                let mut options = options;
                options.postgres.schema = schema.to_owned();
                Queue::open(url, options)
            }
        }
    }
}

/// One test's queue of one store, and a scratch directory for the test's own files
/// (logs, flag files). Removed when dropped, kept when the test fails.
#[derive(Debug)]
pub struct Target {
    store: Store,
    /// What `Store::open_target` opens: for SQLite the file path.
    location: String,
    dir: TempDir,
}

impl Target {
    pub fn store(&self) -> Store {
        self.store
    }

    /// Opens (again) this target's queue.
    pub fn open(&self, options: Options) -> Result<Queue, Error> {
        self.store.open_target(&self.location, options)
    }

    /// A string another process passes to `Store::open_target` to open this queue.
    pub fn target(&self) -> String {
        self.location.clone()
    }

    /// A path for one of the test's own files; never the queue itself.
    pub fn scratch(&self, name: &str) -> PathBuf {
        assert_ne!(self.dir.file(name).to_str(), Some(self.location.as_str()));
        self.dir.file(name)
    }

    /// The store's own soundness check, from outside the library (after a crash).
    /// SQLite: `PRAGMA integrity_check` on a separate plain connection.
    pub fn assert_sound(&self) {
        match self.store {
            Store::Sqlite => {
                let conn = rusqlite::Connection::open(&self.location).unwrap();
                let mut stmt = conn.prepare("PRAGMA integrity_check").unwrap();
                let result: Vec<String> = stmt
                    .query_map([], |r| r.get(0))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap();
                assert_eq!(result, ["ok"], "integrity_check of {}", self.location);
            }
            // The server checks its own pages; the model's invariants are the library's.
            Store::Postgres => {
                let q = self
                    .open(Options::default())
                    .expect("reopen after the crash");
                q.check_integrity().expect("the model's invariants hold");
            }
        }
    }

    /// The queue file, for the SQLite-only tests.
    pub fn sqlite_path(&self) -> &Path {
        assert_eq!(self.store, Store::Sqlite, "a SQLite-only helper");
        Path::new(&self.location)
    }
}
