//! Queues for the command's tests: a fresh SQLite file, or a fresh schema in
//! the PostgreSQL database of `ASYNCOP_TEST_POSTGRES` (when it is set), made
//! and filled with the library; and the real `asyncop` binary run on them.

#![allow(dead_code)]

use asyncop::{OperationSpec, Options, PollOptions, Queue};
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// A queue and how to name it on the command line.
pub struct Target {
    /// The library's handle on it.
    pub q: Queue,
    /// TARGET for the command.
    pub target: String,
    /// `--schema` for the command (PostgreSQL).
    pub schema: Option<String>,
    file: Option<std::path::PathBuf>,
}

impl Drop for Target {
    fn drop(&mut self) {
        self.q.close();
        if let Some(file) = &self.file {
            for suffix in ["", "-wal", "-shm", "-lock"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
    }
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A fresh SQLite queue file.
pub fn sqlite(test: &str) -> Target {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let file =
        std::env::temp_dir().join(format!("asyncop-cli-{}-{n}-{test}.db", std::process::id()));
    let q = Queue::open(&file, Options::default()).expect("open the queue file");
    Target {
        q,
        target: file.display().to_string(),
        schema: None,
        file: Some(file),
    }
}

/// A fresh schema on the test PostgreSQL, if `ASYNCOP_TEST_POSTGRES` is set.
pub fn postgres(test: &str) -> Option<Target> {
    let url = std::env::var("ASYNCOP_TEST_POSTGRES").ok()?;
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let schema = format!("cli{}_{n}_{}", std::process::id(), test.replace('-', "_"));
    let mut options = Options::default();
    options.postgres.schema = schema.clone();
    let q = Queue::open(&url, options).expect("open the PostgreSQL queue");
    Some(Target {
        q,
        target: url,
        schema: Some(schema),
        file: None,
    })
}

/// The test on SQLite, then on PostgreSQL when it is configured.
pub fn each_store(test: &str, case: impl Fn(&Target)) {
    case(&sqlite(test));
    if let Some(pg) = postgres(test) {
        case(&pg);
    }
}

/// What the command did.
pub struct Run {
    /// The exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    fn of(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Target {
    fn command(&self, command: &str, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_asyncop"));
        c.arg(command).arg(&self.target).args(args);
        c.env_remove("ASYNCOP_SCHEMA");
        if let Some(schema) = &self.schema {
            c.arg("--schema").arg(schema);
        }
        c
    }

    /// `asyncop COMMAND TARGET ARGS...` with stdin closed (not a terminal).
    pub fn run(&self, command: &str, args: &[&str]) -> Run {
        let output = self
            .command(command, args)
            .stdin(Stdio::null())
            .output()
            .expect("run asyncop");
        Run::of(output)
    }

    /// The same with `input` on stdin (a pipe).
    pub fn run_with_input(&self, command: &str, args: &[&str], input: &str) -> Run {
        let mut child = self
            .command(command, args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run asyncop");
        let mut stdin = child.stdin.take().expect("stdin");
        let _ = stdin.write_all(input.as_bytes());
        drop(stdin);
        Run::of(child.wait_with_output().expect("wait for asyncop"))
    }

    /// A second handle on the queue, opened with `options` changed by `f`
    /// (queue-wide settings are written at open and persist).
    pub fn reopen(&self, f: impl FnOnce(&mut Options)) -> Queue {
        let mut options = Options::default();
        if let Some(schema) = &self.schema {
            options.postgres.schema = schema.clone();
        }
        f(&mut options);
        Queue::open(&self.target, options).expect("reopen the queue")
    }

    /// Submits a job.
    pub fn submit(&self, name: &str, operation_type: i32) -> i64 {
        self.q
            .submit(&OperationSpec::new(name, operation_type))
            .expect("submit")
    }

    /// Claims the job `id` (of its type) for host `h`.
    pub fn claim(&self, id: i64, operation_type: i32) -> asyncop::Lease {
        let leases = self
            .q
            .poll(
                "h",
                &PollOptions::default().operation_types(vec![operation_type]),
            )
            .expect("poll");
        let lease = leases.into_iter().next().expect("a claim");
        assert_eq!(lease.id, id);
        lease
    }
}
