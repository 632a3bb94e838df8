//! SQLite store only: file modes, locks, WAL and -shm files of the queue file.
//!
//! Fault tests of the queue file itself (issue 10): what other processes, the
//! file system and the operating system do to it must give a clear error and
//! lose no acknowledged operation.
//!
//! - 16 processes creating one new file at once all open it (no spurious
//!   `Corrupt` "foreign database", no early `Busy`).
//! - A FIFO is refused at once; a directory that cannot take `-wal`/`-shm` is `Io`.
//! - New files are 0600 (0660 on request), whatever the umask.
//! - A full disk gives `Io`; every acknowledged operation is there afterwards
//!   and the file passes `integrity_check`.
//!
//! Child processes are this test binary run again with `--exact child` and
//! `ASYNCOP_FILE_SAFETY_CHILD=<role>`.
// These tests call the C ABI the way a C caller would, with arguments built just
// above each call; what makes each call sound is what the test is about, so the
// calls carry no SAFETY comments.
#![allow(clippy::undocumented_unsafe_blocks)]

mod support;

use asyncop::{Durability, Error, Filter, OperationSpec, Options, Queue};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::{NORMAL_TYPE, TempDir};

const CHILD_ENV: &str = "ASYNCOP_FILE_SAFETY_CHILD";

fn unix_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

fn normal() -> Options {
    Options {
        sqlite: asyncop::SqliteOptions {
            durability: Durability::Normal,
            ..asyncop::SqliteOptions::default()
        },
        ..Options::default()
    }
}

/// How a child reports an open: `ok <id>` or `err <name>: <message>`.
fn open_and_submit(path: &Path) -> String {
    match Queue::open(path, normal()).and_then(|q| q.submit(&OperationSpec::new("x", NORMAL_TYPE)))
    {
        Ok(id) => format!("ok {id}"),
        Err(e) => format!("err {}: {e}", e.name()),
    }
}

/// The body of every child process; a no-op in a normal test run.
#[test]
fn child() {
    let Ok(role) = std::env::var(CHILD_ENV) else {
        return;
    };
    let path = std::env::var("ASYNCOP_PATH").unwrap();
    match role.as_str() {
        "create" => {
            // Start together: spin until the agreed instant.
            let at: u64 = std::env::var("ASYNCOP_START_AT").unwrap().parse().unwrap();
            while unix_ms() < at {
                std::hint::spin_loop();
            }
            println!("{}", open_and_submit(Path::new(&path)));
        }
        "open" => println!("{}", open_and_submit(Path::new(&path))),
        other => panic!("unknown role {other}"),
    }
}

fn child_command(role: &str, path: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child", "--nocapture", "--test-threads=1", "-q"])
        .env(CHILD_ENV, role)
        .env("ASYNCOP_PATH", path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    cmd
}

/// The child's report line (the test harness prints its own lines around it).
fn report(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find(|l| l.starts_with("ok ") || l.starts_with("err "))
        .unwrap_or("no report")
        .to_string()
}

#[test]
fn sixteen_processes_creating_one_file_at_once_all_open_it() {
    let dir = TempDir::new("create-race");
    let rounds = 30;
    let mut failures = Vec::new();
    for round in 0..rounds {
        let path = dir.file(&format!("q{round}.db"));
        let start_at = unix_ms() + 400;
        let children: Vec<_> = (0..16)
            .map(|_| {
                child_command("create", &path)
                    .env("ASYNCOP_START_AT", start_at.to_string())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let reports: Vec<String> = children
            .into_iter()
            .map(|c| report(&c.wait_with_output().unwrap()))
            .collect();
        let failed: Vec<String> = reports
            .iter()
            .filter(|r| !r.starts_with("ok "))
            .map(|r| format!("round {round}: {r}"))
            .collect();
        let q = Queue::open(&path, normal()).unwrap();
        let rows = q.query(&Filter::default()).unwrap().len();
        assert_eq!(
            rows,
            16 - failed.len(),
            "every acknowledged submit is there"
        );
        failures.extend(failed);
    }
    assert!(
        failures.is_empty(),
        "{} failed opens:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_fifo_is_refused_at_once_with_io() {
    let dir = TempDir::new("fifo");
    let path = dir.file("fifo");
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let started = Instant::now();
    let err = Queue::open(&path, normal()).expect_err("a FIFO is not a queue file");
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    assert!(err.to_string().contains("not a regular file"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_directory_that_cannot_take_the_wal_gives_io_not_corrupt() {
    let dir = TempDir::new("ro-dir");
    let sub = dir.file("ro");
    std::fs::create_dir(&sub).unwrap();
    let path = sub.join("q.db");
    let q = Queue::open(&path, normal()).unwrap();
    q.submit(&OperationSpec::new("x", NORMAL_TYPE)).unwrap();
    q.close();
    assert!(
        !sub.join("q.db-wal").exists(),
        "a clean close removes the WAL"
    );
    // SAFETY: no arguments.
    let root = unsafe { libc::geteuid() } == 0;
    let line = if root {
        // Root ignores directory permissions: open as `nobody`, who owns the
        // file but may not create anything in the directory.
        for p in [&sub, &path] {
            std::os::unix::fs::chown(p, Some(65534), Some(65534)).unwrap();
        }
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o555)).unwrap();
        let mut cmd = child_command("open", &path);
        std::os::unix::process::CommandExt::uid(&mut cmd, 65534);
        std::os::unix::process::CommandExt::gid(&mut cmd, 65534);
        report(&cmd.output().unwrap())
    } else {
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o555)).unwrap();
        open_and_submit(&path)
    };
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(line.starts_with("err Io:"), "{line}");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().mode() & 0o777
}

#[test]
fn new_files_are_private_or_group_shared_whatever_the_umask() {
    let dir = TempDir::new("modes");
    for (name, file_mode) in [("private.db", 0o600), ("group.db", 0o660)] {
        let path = dir.file(name);
        let q = Queue::open(
            &path,
            Options {
                sqlite: asyncop::SqliteOptions {
                    file_mode,
                    ..normal().sqlite
                },
                ..normal()
            },
        )
        .unwrap();
        q.submit(&OperationSpec::new("x", NORMAL_TYPE)).unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let p = dir.file(&format!("{name}{suffix}"));
            assert_eq!(mode(&p), file_mode, "{}", p.display());
        }
        q.close();
    }
    // An existing file keeps its mode; a mode outside 0660 is refused.
    let path = dir.file("private.db");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    Queue::open(&path, normal()).unwrap().close();
    assert_eq!(mode(&path), 0o640);
    for bad in [0o644, 0o666, 0o400, 0o1600] {
        let err = Queue::open(
            dir.file("bad.db"),
            Options {
                sqlite: asyncop::SqliteOptions {
                    file_mode: bad,
                    ..asyncop::SqliteOptions::default()
                },
                ..normal()
            },
        )
        .expect_err("mode outside 0660");
        assert!(matches!(err, Error::InvalidArgument(_)), "{bad:o}: {err:?}");
        assert!(!dir.file("bad.db").exists());
    }
}

fn ids(q: &Queue) -> Vec<i64> {
    let ops = q.query(&Filter::default()).unwrap();
    ops.iter().map(|o| o.id).collect()
}

/// Mounts a tmpfs of `size` at `dir` for the life of the value.
struct Tmpfs<'a>(&'a Path);

impl<'a> Tmpfs<'a> {
    fn mount(dir: &'a Path, size: &str) -> Tmpfs<'a> {
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "mount -t tmpfs failed (this test needs root)"
        );
        Tmpfs(dir)
    }
}

impl Drop for Tmpfs<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}

#[test]
fn a_full_disk_gives_io_and_loses_no_acknowledged_operation() {
    // SAFETY: no arguments.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test mounts a small tmpfs and needs root (CI runs as root)"
    );
    let dir = TempDir::new("disk-full");
    let mnt = dir.file("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let _fs = Tmpfs::mount(&mnt, "4m");
    let path = mnt.join("q.db");
    let q = Queue::open(&path, Options::default()).unwrap();
    // Leave ~400 KB free, so the queue fills the rest quickly.
    let filler = mnt.join("filler");
    let free = {
        // SAFETY: statvfs fills the struct; the path is a valid C string.
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        let c = std::ffi::CString::new(mnt.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0);
        st.f_bavail * st.f_frsize
    };
    std::fs::write(&filler, vec![0u8; usize::try_from(free - 400_000).unwrap()]).unwrap();
    let payload = vec![7u8; 8_000];
    let mut acknowledged = Vec::new();
    let mut errors = Vec::new();
    for i in 0..400 {
        match q.submit(&OperationSpec::new(format!("op {i}"), NORMAL_TYPE).data(payload.clone())) {
            Ok(id) => acknowledged.push(id),
            Err(e) => errors.push(e),
        }
    }
    assert!(!errors.is_empty(), "the disk never filled up");
    assert!(
        acknowledged.len() > 5,
        "{} submits before the disk was full",
        acknowledged.len()
    );
    for e in &errors {
        assert!(matches!(e, Error::Io(_)), "{e:?}");
        assert!(e.to_string().to_lowercase().contains("full"), "{e}");
    }
    // Reads still work and see every acknowledged operation.
    assert_eq!(ids(&q), acknowledged);
    q.close();
    // Room again: the queue reopens with everything and takes new work.
    std::fs::remove_file(&filler).unwrap();
    let q = Queue::open(&path, Options::default()).unwrap();
    assert_eq!(ids(&q), acknowledged);
    q.submit(&OperationSpec::new("after", NORMAL_TYPE)).unwrap();
    q.close();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn a_wal_deleted_under_the_queue_fails_the_next_call_loudly() {
    let dir = TempDir::new("wal-deleted");
    let path = dir.file("q.db");
    let q = Queue::open(&path, normal()).unwrap();
    let first = q.submit(&OperationSpec::new("x", NORMAL_TYPE)).unwrap();
    std::fs::remove_file(dir.file("q.db-wal")).unwrap();
    // The commit went to a file without a name: the call must not say OK.
    let err = q
        .submit(&OperationSpec::new("y", NORMAL_TYPE))
        .expect_err("a commit into a deleted WAL is not acknowledged");
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    assert!(err.to_string().contains("deleted or replaced"), "{err}");
    // And every later call refuses too.
    assert!(matches!(q.retrieve(first), Err(Error::Io(_))));
    assert!(matches!(
        q.submit(&OperationSpec::new("z", NORMAL_TYPE)),
        Err(Error::Io(_))
    ));
}

#[test]
fn a_wal_replaced_by_a_rename_fails_the_next_call_loudly() {
    let dir = TempDir::new("wal-renamed");
    let path = dir.file("q.db");
    let q = Queue::open(&path, normal()).unwrap();
    q.submit(&OperationSpec::new("x", NORMAL_TYPE)).unwrap();
    std::fs::write(dir.file("other"), b"").unwrap();
    std::fs::rename(dir.file("other"), dir.file("q.db-wal")).unwrap();
    let err = q
        .submit(&OperationSpec::new("y", NORMAL_TYPE))
        .expect_err("a commit into a replaced WAL is not acknowledged");
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    // A chmod of the WAL (an event, but no change of its name) is not a loss.
    let dir2 = TempDir::new("wal-chmod");
    let q2 = Queue::open(dir2.file("q.db"), normal()).unwrap();
    q2.submit(&OperationSpec::new("x", NORMAL_TYPE)).unwrap();
    let wal = dir2.file("q.db-wal");
    std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o600)).unwrap();
    q2.submit(&OperationSpec::new("y", NORMAL_TYPE)).unwrap();
}
