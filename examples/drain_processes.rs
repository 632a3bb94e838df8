//! How a W2 drain (claim one, complete it, one transaction each) scales with
//! worker processes on one SQLite file: the benchmark's W4 at any process count.
//!
//! Run: `cargo run --release --example drain_processes -- <normal|full> <procs,...> <n> [rounds]`
//! e.g. `... -- normal 1,4,8 5000 3`. For each round and each process count:
//! a fresh file, `n` operations queued, the processes (copies of this binary)
//! open the queue and wait for "go", then drain until a claim finds nothing.
//! Prints one line per cell: processes, operations/s, ratio to one process in
//! the same round (when 1 is in the list), and how many each process completed.
//! Every operation must be completed exactly once or the run fails.

use asyncop::{Durability, OperationSpec, Options, PollOptions, Queue, SqliteOptions, Status};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const STARTUP: Duration = Duration::from_secs(30);

fn options(dur: &str) -> Res<Options> {
    let durability = match dur {
        "normal" => Durability::Normal,
        "full" => Durability::Full,
        other => return Err(format!("durability {other:?}: normal or full").into()),
    };
    Ok(Options {
        sqlite: SqliteOptions {
            durability,
            ..SqliteOptions::default()
        },
        ..Options::default()
    })
}

fn beside(path: &Path, what: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{what}"));
    PathBuf::from(s)
}

fn wait_for(path: &Path) -> Res<()> {
    let deadline = Instant::now() + STARTUP;
    while !path.exists() {
        if Instant::now() > deadline {
            return Err(format!("{} did not appear", path.display()).into());
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    Ok(())
}

/// `--child <path> <dur> <host>`: open, say ready, wait for go, drain, report the count.
fn child(path: &Path, dur: &str, host: &str) -> Res<()> {
    let queue = Queue::open(path, options(dur)?)?;
    std::fs::write(beside(path, &format!("ready-{host}")), b"")?;
    wait_for(&beside(path, "go"))?;
    let poll = PollOptions::default().max(1);
    let mut done = 0usize;
    loop {
        let leases = queue.poll(host, &poll)?;
        if leases.is_empty() {
            break;
        }
        for lease in &leases {
            if queue.complete(lease.key())? != Status::Succeeded {
                return Err("a completion did not succeed".into());
            }
            done += 1;
        }
    }
    queue.close();
    std::fs::write(beside(path, &format!("result-{host}")), format!("{done}\n"))?;
    Ok(())
}

struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            if matches!(c.try_wait(), Ok(None)) {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }
}

/// One cell: returns operations per second and the per-process counts.
fn cell(dir: &Path, dur: &str, procs: usize, n: usize) -> Res<(f64, Vec<usize>)> {
    let path = dir.join(format!("drain-{procs}.db"));
    let queue = Queue::open(&path, options(dur)?)?;
    queue.submit_many(&vec![OperationSpec::new("job", 100).data(vec![7; 100]); n])?;
    let hosts: Vec<String> = (0..procs).map(|i| format!("p{i}")).collect();
    let mut children = Children(Vec::new());
    for host in &hosts {
        children.0.push(
            Command::new(std::env::current_exe()?)
                .args(["--child", path.to_str().ok_or("path not UTF-8")?, dur, host])
                .stdin(Stdio::null())
                .spawn()?,
        );
    }
    for host in &hosts {
        wait_for(&beside(&path, &format!("ready-{host}")))?;
    }
    let started = Instant::now();
    std::fs::write(beside(&path, "go"), b"")?;
    for c in &mut children.0 {
        if !c.wait()?.success() {
            return Err("a child failed".into());
        }
    }
    let elapsed = started.elapsed();
    let mut counts = Vec::new();
    for host in &hosts {
        let text = std::fs::read_to_string(beside(&path, &format!("result-{host}")))?;
        counts.push(text.trim().parse::<usize>()?);
    }
    let succeeded = queue
        .counts()?
        .iter()
        .filter(|c| c.status == Status::Succeeded)
        .map(|c| c.count)
        .sum::<i64>();
    if counts.iter().sum::<usize>() != n || succeeded != n as i64 {
        return Err(format!("drained {counts:?}, {succeeded} succeeded, of {n}").into());
    }
    queue.close();
    Ok((n as f64 / elapsed.as_secs_f64(), counts))
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        let [_, _, path, dur, host] = &args[..] else {
            return Err("--child <path> <dur> <host>".into());
        };
        return child(Path::new(path), dur, host);
    }
    let (Some(dur), Some(procs), Some(n)) = (args.get(1), args.get(2), args.get(3)) else {
        return Err("usage: drain_processes <normal|full> <procs,...> <n> [rounds]".into());
    };
    let procs: Vec<usize> = procs.split(',').map(str::parse).collect::<Result<_, _>>()?;
    let n: usize = n.parse()?;
    let rounds: usize = args.get(4).map_or(Ok(1), |r| r.parse())?;
    let dir = std::env::temp_dir().join(format!("asyncop-drain-{}", std::process::id()));
    for round in 0..rounds {
        let mut one = None;
        for &p in &procs {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir)?;
            let (rate, counts) = cell(&dir, dur, p, n)?;
            if p == 1 {
                one = Some(rate);
            }
            let ratio = one.map_or(String::new(), |o| format!(" {:.2}x", rate / o));
            println!(
                "round {round} {dur} procs {p}: {rate:.0} ops/s{ratio} per process {counts:?}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
