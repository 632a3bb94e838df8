//! Fork safety of the core (src/store/fork.rs): a child forked while other
//! threads are inside SQLite can open its own queue (it used to hang on a SQLite
//! mutex inherited locked), and a child's queue keeps working while its parent
//! closes and reopens the same file (SQLite's inherited lock bookkeeping would
//! otherwise let the parent delete the WAL or truncate the -shm under it).
//!
//! Children only call asyncop and `_exit`; results travel through exit codes.
//! Each test serialises its forks against the other test in this file.

mod support;

use asyncop::{OperationSpec, Options, PollOptions, Queue};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::TempDir;

static FORKS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Waits for `pid` up to `limit`; SIGKILLs it and returns None if it hangs.
fn wait_exit(pid: libc::pid_t, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        let mut status = 0;
        // SAFETY: plain waitpid on our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
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

/// Forks; the child runs `f` (its return value is the exit code) and never returns.
fn fork_child(f: impl FnOnce() -> i32) -> libc::pid_t {
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

#[test]
fn a_child_forked_while_threads_use_sqlite_can_open_its_own_queue() {
    let _serial = FORKS.lock().unwrap_or_else(|p| p.into_inner());
    let dir = TempDir::new("fork-busy");
    let path = dir.file("queue.db");
    let queue = Queue::open(&path, Options::default()).unwrap();
    let id = queue.submit(&OperationSpec::new("seed", 100)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let busy: Vec<_> = (0..3)
        .map(|t| {
            let (q, stop) = (queue.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if t == 0 {
                        // Paced: an unpaced writer starves other processes'
                        // BEGIN IMMEDIATE into Busy (SQLite's busy wait is not fair).
                        q.submit(&OperationSpec::new("busy", 100)).unwrap();
                        std::thread::sleep(Duration::from_micros(300));
                    } else {
                        q.retrieve(id).unwrap();
                        q.counts().unwrap();
                    }
                }
            })
        })
        .collect();
    let mut hung = 0;
    let mut failed = 0;
    let mut codes = Vec::new();
    for round in 0..40 {
        let child_path = path.clone();
        let pid = fork_child(move || {
            let path = child_path;
            let own = match Queue::open(&path, Options::default()) {
                Ok(q) => q,
                Err(e) => {
                    let _ = std::fs::write(
                        path.with_extension(format!("{round}.err")),
                        format!("{e:?}"),
                    );
                    return 2;
                }
            };
            match own.submit(&OperationSpec::new(format!("child {round}"), 101)) {
                Ok(_) => 0,
                Err(e) => {
                    let _ = std::fs::write(
                        path.with_extension(format!("{round}.err")),
                        format!("{e:?}"),
                    );
                    3
                }
            }
        });
        match wait_exit(pid, Duration::from_secs(10)) {
            None => hung += 1,
            Some(0) => {}
            Some(code) => {
                failed += 1;
                let why = std::fs::read_to_string(path.with_extension(format!("{round}.err")));
                codes.push(format!("{code}: {}", why.unwrap_or_default()));
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in busy {
        t.join().unwrap();
    }
    assert_eq!(
        (hung, failed),
        (0, 0),
        "of 40 forked children: {hung} hung, {failed} failed: {codes:?}"
    );
    let children = queue
        .query(&asyncop::Filter {
            operation_type: Some(101),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(children.len(), 40);
}

#[test]
fn a_childs_queue_survives_its_parent_closing_and_reopening_the_file() {
    let _serial = FORKS.lock().unwrap_or_else(|p| p.into_inner());
    let dir = TempDir::new("fork-parent-close");
    let path = dir.file("queue.db");
    let queue = Queue::open(&path, Options::default()).unwrap();
    queue.submit(&OperationSpec::new("parent", 100)).unwrap();
    // The parent has live connections (and a -shm node) when it forks.
    assert_eq!(queue.poll("p", &PollOptions::default()).unwrap().len(), 1);

    let mut ready = [0; 2];
    let mut go = [0; 2];
    // SAFETY: two pipes for the handshake.
    unsafe {
        assert_eq!(libc::pipe(ready.as_mut_ptr()), 0);
        assert_eq!(libc::pipe(go.as_mut_ptr()), 0);
    }
    let child_path = path.clone();
    let pid = fork_child(move || {
        let Ok(own) = Queue::open(&child_path, Options::default()) else {
            return 2;
        };
        let Ok(_) = own.submit(&OperationSpec::new("child before", 101)) else {
            return 3;
        };
        let mut byte = [1u8];
        // SAFETY: our end of the pipes.
        unsafe {
            libc::write(ready[1], byte.as_ptr().cast(), 1);
            libc::read(go[0], byte.as_mut_ptr().cast(), 1);
        }
        // The parent has closed and reopened the file meanwhile.
        for i in 0..50 {
            if own
                .submit(&OperationSpec::new(format!("child after {i}"), 101))
                .is_err()
            {
                return 4;
            }
        }
        match own.poll("child", &PollOptions::default().max(100)) {
            Ok(leases) if !leases.is_empty() => {
                for l in leases {
                    if own.complete(l.key()).is_err() {
                        return 5;
                    }
                }
                0
            }
            _ => 6,
        }
    });
    let mut byte = [0u8];
    // SAFETY: our end of the pipe.
    assert_eq!(
        unsafe { libc::read(ready[0], byte.as_mut_ptr().cast(), 1) },
        1
    );

    // The parent's last connection closes: it must not delete the WAL the child uses...
    queue.close();
    drop(queue);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    assert!(
        std::path::Path::new(&wal).exists(),
        "the parent's close deleted the WAL under its child"
    );
    // ...and reopening must not reset the -shm the child has mapped.
    let reopened = Queue::open(&path, Options::default()).unwrap();
    reopened
        .submit(&OperationSpec::new("parent again", 100))
        .unwrap();
    // SAFETY: our end of the pipe.
    assert_eq!(unsafe { libc::write(go[1], byte.as_ptr().cast(), 1) }, 1);
    assert_eq!(
        wait_exit(pid, Duration::from_secs(30)),
        Some(0),
        "the child failed or hung"
    );

    let all = reopened.query(&asyncop::Filter::default()).unwrap();
    assert_eq!(all.len(), 1 + 1 + 50 + 1, "{all:#?}");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    // SAFETY: closing our pipe ends.
    unsafe {
        for fd in [ready[0], ready[1], go[0], go[1]] {
            libc::close(fd);
        }
    }
}
