#![cfg(unix)]

//! The one harness for tests that run code in another process.
//!
//! * Re-running this test binary: a parent test spawns `current_exe()` with
//!   `--exact <child test>` and `ASYNCOP_TEST_CHILD=<role>` in the environment.
//!   The child test is an ordinary `#[test]` that returns at once unless the
//!   variable names its role (`is_role`). Children print `@@` lines; `Lines`
//!   reads them on a thread, so that waiting has a timeout.
//! * Forking: `fork_child` runs a closure in a forked child that leaves with
//!   `_exit`; `wait_exit` waits for it with a deadline and kills it if it hangs.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Names the role a child process plays; absent in a normal test run.
pub const CHILD_ENV: &str = "ASYNCOP_TEST_CHILD";
/// The store target (`Target::target()`) a child opens.
pub const TARGET_ENV: &str = "ASYNCOP_TEST_TARGET";

/// Whether this process is a child spawned to play `role`.
pub fn is_role(role: &str) -> bool {
    std::env::var(CHILD_ENV).as_deref() == Ok(role)
}

/// The full test name (as `--exact` wants it) of `test` in the module whose
/// `module_path!()` is `module`: the crate's name is not part of it.
pub fn test_name(module: &str, test: &str) -> String {
    match module.split_once("::") {
        Some((_, path)) => format!("{path}::{test}"),
        None => test.to_owned(),
    }
}

/// Spawns a copy of this test binary that runs only the test `child_test`
/// (a full name, see `test_name`) as `role`, with `env` added.
pub fn spawn(child_test: &str, role: &str, env: &[(&str, String)], stdout: Stdio) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", child_test, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, role)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::inherit());
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.spawn().unwrap()
}

/// A variable the parent set for this child.
pub fn env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| panic!("{key} is not set"))
}

/// A child process that is SIGKILLed and reaped on drop if still running, so a
/// failing test leaves no process behind.
pub struct Killable(pub Child);

impl Drop for Killable {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Every spawned child, by name; all still running are SIGKILLed and reaped on
/// drop, so a failing test leaves no process behind.
#[derive(Default)]
pub struct Children(pub Vec<(String, Child)>);

impl Children {
    pub fn get(&mut self, name: &str) -> &mut Child {
        &mut self
            .0
            .iter_mut()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no child {name}"))
            .1
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            if matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

/// Lines of a child's stdout, read on a thread so that waiting has a timeout.
pub struct Lines(mpsc::Receiver<String>);

impl Lines {
    pub fn new(stdout: ChildStdout) -> Lines {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines(rx)
    }

    /// The next line that carries a `@@` marker (libtest's own lines are
    /// skipped), from after the marker on; `None` at the end of the output.
    /// Panics if none comes within `timeout`.
    pub fn next_marked(&self, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.0.recv_timeout(left) {
                Ok(line) => {
                    if let Some(at) = line.find("@@") {
                        return Some(line[at + 2..].to_owned());
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return None,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("no line from the child within {timeout:?}")
                }
            }
        }
    }

    /// Like `next_marked`, and the output must not have ended.
    pub fn expect_marked(&self, timeout: Duration) -> String {
        self.next_marked(timeout)
            .unwrap_or_else(|| panic!("the child's output ended"))
    }
}

/// A distinct payload per name, 1 to 4 KiB, so that a torn or mixed-up row shows.
pub fn payload(name: &str) -> Vec<u8> {
    let mut seed = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let len = 1024 + (seed % 3072) as usize;
    let mut data = name.as_bytes().to_vec();
    data.push(0);
    while data.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        data.push(seed as u8);
    }
    data
}

/// A short payload per name (`payload of <name>`), for tests that move thousands.
pub fn short_payload(name: &str) -> Vec<u8> {
    format!("payload of {name}").into_bytes()
}

/// Forks; the child runs `f` (its return value is the exit code, 99 if it
/// panicked) and leaves with `_exit`, never returning.
pub fn fork_child(f: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: the child only runs `f` and `_exit`s, without unwinding.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(99);
        // SAFETY: leave the child without running the harness's exit handlers.
        unsafe { libc::_exit(code) };
    }
    pid
}

/// Waits for `pid` up to `limit`: its exit code, or 128 + the signal that ended
/// it; SIGKILLs it and returns None if it hangs.
pub fn wait_exit(pid: libc::pid_t, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        let mut status = 0;
        // SAFETY: plain waitpid on our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        assert!(r >= 0, "waitpid failed");
        if r == pid {
            return Some(if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                128 + libc::WTERMSIG(status)
            });
        }
        if Instant::now() >= deadline {
            // SAFETY: killing and reaping our own hung child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
