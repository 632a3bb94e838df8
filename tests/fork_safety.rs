//! Fork safety of the core (src/store/fork.rs): a child forked while other
//! threads are inside SQLite can open its own queue (it used to hang on a SQLite
//! mutex inherited locked), and a child's queue keeps working while its parent
//! closes and reopens the same file (SQLite's inherited lock bookkeeping would
//! otherwise let the parent delete the WAL or truncate the -shm under it).
//!
//! The C ABI in a forked child (`forked_child_gets_forked_and_opens_its_own_queue`,
//! moved here from the FFI tests): calls on handles inherited from the parent give
//! `ASYNCOP_ERR_FORKED`, and the child can open and use its own queue.
//!
//! SQLite store only: the fork protection is SQLite's (inherited locks and WAL).
//!
//! Children only call asyncop and `_exit`; results travel through exit codes (and a
//! pipe). Each test serialises its forks against the other tests in this file
//! (`FORKS`): when one forks, no other test of this binary is inside asyncop. The
//! fork harness is `support::child`.
// These tests call the C ABI the way a C caller would, with arguments built just
// above each call; what makes each call sound is what the test is about, so the
// calls carry no SAFETY comments.
#![allow(clippy::undocumented_unsafe_blocks)]

mod support;

use asyncop::ffi::asyncop_status::*;
use asyncop::ffi::operation::*;
use asyncop::ffi::queue::*;
use asyncop::ffi::*;
use asyncop::{OperationSpec, Options, PollOptions, Queue};
use std::ffi::CStr;
use std::io::Read;
use std::os::fd::FromRawFd;
use std::ptr::{null, null_mut};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use support::TempDir;
use support::child::{fork_child, wait_exit};
use support::ffi::*;

static FORKS: std::sync::Mutex<()> = std::sync::Mutex::new(());

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

// ---------------------------------------------------------------------------
// The C ABI in a forked child
// ---------------------------------------------------------------------------

/// What the child reports, in order.
const CHILD_STEPS: [&str; 12] = [
    "retrieve on the inherited queue",
    "length of its last error message",
    "operation_id on an inherited snapshot",
    "submit on the inherited queue",
    "close of the inherited queue",
    "retrieve on the inherited queue after its close",
    "free of the inherited snapshot",
    "open of a new queue on the same file",
    "submit on the new queue",
    "id the child submitted",
    "retrieve on the new queue",
    "close of the new queue",
];

/// Runs in the forked child: no printing, no panics escaping, no exit of its own.
fn child_steps(q: usize, op: usize, path: &CStr) -> [i64; CHILD_STEPS.len()] {
    let q = q as *mut asyncop_queue;
    let op = op as *mut asyncop_operation;
    let mut out = [i64::MIN; CHILD_STEPS.len()];
    let mut got = null_mut();
    out[0] = unsafe { asyncop_queue_retrieve(q, 1, &mut got) } as i64;
    out[1] = unsafe { asyncop_last_error_message(null_mut(), 0) } as i64;
    let mut id = 0;
    out[2] = unsafe { asyncop_operation_id(op, &mut id) } as i64;
    out[3] = submit_rc(q, c"child via the parent's handle", TYPE, &mut id) as i64;
    out[4] = unsafe { asyncop_queue_close(q) } as i64;
    out[5] = unsafe { asyncop_queue_retrieve(q, 1, &mut got) } as i64;
    out[6] = unsafe { asyncop_operation_free(op) } as i64;
    let mut mine = null_mut();
    out[7] = unsafe { asyncop_queue_open(path.as_ptr(), null(), &mut mine) } as i64;
    if out[7] != ASYNCOP_OK as i64 {
        return out;
    }
    let mut new_id = 0;
    out[8] = submit_rc(mine, c"from the child", TYPE, &mut new_id) as i64;
    out[9] = new_id;
    out[10] = unsafe { asyncop_queue_retrieve(mine, new_id, &mut got) } as i64;
    if out[10] == ASYNCOP_OK as i64 {
        let _ = unsafe { asyncop_operation_free(got) };
    }
    out[11] = unsafe { asyncop_queue_close(mine) } as i64;
    out
}

fn expected_child(step: usize, value: i64) -> bool {
    let forked = ASYNCOP_ERR_FORKED as i64;
    let ok = ASYNCOP_OK as i64;
    match step {
        0 | 2 | 3 | 5 => value == forked,
        1 | 9 => value > 0,
        _ => value == ok,
    }
}

#[test]

fn forked_child_gets_forked_and_opens_its_own_queue() {
    // No other test of this binary forks meanwhile (see the module docs).
    let _serial = FORKS.lock().unwrap_or_else(|p| p.into_inner());
    let dir = TempDir::new("ffi-fork");
    let path = dir.file("queue.db");
    let path_c = c_path(&path);
    let q = open_queue(&path);
    let parent_id = submit(q, "from the parent");
    let op = retrieve(q, parent_id);

    let mut fds = [0 as libc::c_int; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (qh, oph) = (q as usize, op as usize);
    let pid = fork_child(|| {
        // The child: report through the pipe and the exit code, then _exit.
        unsafe { libc::close(fds[0]) };
        let report = std::panic::catch_unwind(|| child_steps(qh, oph, &path_c));
        let code = match &report {
            Ok(steps) => steps
                .iter()
                .enumerate()
                .position(|(i, v)| !expected_child(i, *v))
                .map_or(0, |i| i as i32 + 1),
            Err(_) => 100,
        };
        if let Ok(steps) = report {
            let mut bytes = [0u8; CHILD_STEPS.len() * 8];
            for (chunk, v) in bytes.chunks_exact_mut(8).zip(steps) {
                chunk.copy_from_slice(&v.to_ne_bytes());
            }
            let mut written = 0;
            while written < bytes.len() {
                let n = unsafe {
                    libc::write(
                        fds[1],
                        bytes[written..].as_ptr().cast(),
                        bytes.len() - written,
                    )
                };
                if n <= 0 {
                    break;
                }
                written += n as usize;
            }
        }
        code
    });

    // The parent.
    unsafe { libc::close(fds[1]) };
    let code = wait_exit(pid, Duration::from_secs(60))
        .unwrap_or_else(|| panic!("the forked child hung (a lock inherited across fork?)"));
    let mut bytes = Vec::new();
    unsafe { std::fs::File::from_raw_fd(fds[0]) }
        .read_to_end(&mut bytes)
        .unwrap();
    assert!(
        code < 128,
        "the child did not exit normally (signal {})",
        code - 128
    );
    assert_ne!(code, 100, "the child panicked");
    assert_eq!(
        bytes.len(),
        CHILD_STEPS.len() * 8,
        "short report from the child (exit {code})"
    );
    let steps: Vec<i64> = bytes
        .chunks_exact(8)
        .map(|c| i64::from_ne_bytes(c.try_into().unwrap()))
        .collect();
    for (i, (what, value)) in CHILD_STEPS.iter().zip(&steps).enumerate() {
        let shown = i32::try_from(*value).map_or_else(
            |_| value.to_string(),
            |v| format!("{value} ({})", status_name(v)),
        );
        assert!(
            expected_child(i, *value),
            "child step {i}, {what}: got {shown}"
        );
    }
    assert_eq!(code, 0, "child exit code");
    let child_id = steps[9];

    // The parent's handles still work and see the child's operation.
    assert_eq!(op_id(op), parent_id);
    let child_op = retrieve(q, child_id);
    assert_eq!(op_name(child_op), "from the child");
    check(unsafe { asyncop_operation_free(child_op) }, ASYNCOP_OK);
    assert_eq!(all_ids(q), vec![parent_id, child_id]);
    let after = submit(q, "parent after the fork");
    assert!(after > child_id);
    check(unsafe { asyncop_operation_free(op) }, ASYNCOP_OK);
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
}
