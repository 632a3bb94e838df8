//! The child processes of the PostgreSQL benchmark's W4 and latency cells: this
//! binary with `--child`, talking to the parent over stdin/stdout ("ready", then
//! "go" for W4, then one line per handled operation and "end").

use crate::Res;
use crate::workloads::{
    LATENCY_GAP, LATENCY_POLL_WAIT, PAYLOAD_LEN, PROCESSES, Value, WORKER_SETTLE, check_drained,
    drain, expect_succeeded, open, prefill, rate, spec,
};
use asyncop::{LeaseKey, PollOptions, Queue};
use std::io::{BufRead, BufReader, Write as _};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Child processes, killed and reaped on drop unless already waited for.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            if matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

fn spawn_child(args: &[&str]) -> Res<(Child, BufReader<ChildStdout>)> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("--child")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let out = BufReader::new(child.stdout.take().ok_or("no child stdout")?);
    Ok((child, out))
}

fn read_line(out: &mut BufReader<ChildStdout>) -> Res<String> {
    let mut line = String::new();
    if out.read_line(&mut line)? == 0 {
        return Err("a child exited early (see its error above)".into());
    }
    Ok(line.trim().to_owned())
}

/// A child's result lines after its "ready": `id lock_token [sample_ns]` each,
/// up to the final `end`.
fn read_results(out: &mut BufReader<ChildStdout>) -> Res<Vec<Vec<i64>>> {
    let mut rows = Vec::new();
    loop {
        let line = read_line(out)?;
        if line == "end" {
            return Ok(rows);
        }
        rows.push(
            line.split_whitespace()
                .map(str::parse)
                .collect::<Result<_, _>>()?,
        );
    }
}

pub(crate) fn run_w4(queue: &Queue, url: &str, n: usize) -> Res<Value> {
    let ids = prefill(queue, n)?;
    let mut children = Children(Vec::new());
    let mut outs = Vec::new();
    for i in 0..PROCESSES {
        let (child, mut out) = spawn_child(&["w4", url, &format!("bench-{i}")])?;
        children.0.push(child);
        if read_line(&mut out)? != "ready" {
            return Err("a W4 child did not say ready".into());
        }
        outs.push(out);
    }
    // Every child has its connection open: the drain alone is timed.
    let started = Instant::now();
    for child in &mut children.0 {
        writeln!(child.stdin.as_mut().ok_or("no child stdin")?, "go")?;
    }
    let mut handled = Vec::new();
    let mut per_process = Vec::new();
    for out in &mut outs {
        let rows = read_results(out)?;
        per_process.push(rows.len());
        for row in rows {
            let [id, lock_token] = row[..] else {
                return Err(format!("bad W4 child row {row:?}").into());
            };
            handled.push(LeaseKey { id, lock_token });
        }
    }
    let elapsed = started.elapsed();
    for child in &mut children.0 {
        if !child.wait()?.success() {
            return Err("a W4 child failed".into());
        }
    }
    eprintln!("  W4: completed per process {per_process:?}");
    check_drained(queue, &ids, &handled)?;
    Ok(rate(n, elapsed))
}

fn now_ns() -> Res<i64> {
    Ok(i64::try_from(
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos(),
    )?)
}

/// Submit→claim across processes: the worker (a child) waits in `poll` with a
/// wait; this process submits one stamped operation every `LATENCY_GAP`.
pub(crate) fn run_latency(queue: &Queue, url: &str, n: usize) -> Res<Value> {
    let (child, mut out) = spawn_child(&["latency", url, "bench-latency", &n.to_string()])?;
    let mut children = Children(vec![child]);
    if read_line(&mut out)? != "ready" {
        return Err("the latency child did not say ready".into());
    }
    thread::sleep(WORKER_SETTLE);
    let mut ids = Vec::with_capacity(n);
    let mut data = vec![7u8; PAYLOAD_LEN];
    for _ in 0..n {
        data[..8].copy_from_slice(&now_ns()?.to_le_bytes());
        ids.push(queue.submit(&spec(data.clone()))?);
        thread::sleep(LATENCY_GAP);
    }
    let rows = read_results(&mut out)?;
    if !children.0[0].wait()?.success() {
        return Err("the latency child failed".into());
    }
    let mut handled = Vec::new();
    let mut samples = Vec::new();
    for row in rows {
        let [id, lock_token, ns] = row[..] else {
            return Err(format!("bad latency child row {row:?}").into());
        };
        handled.push(LeaseKey { id, lock_token });
        samples.push(ns);
    }
    check_drained(queue, &ids, &handled)?;
    samples.sort_unstable();
    let pct = |p: f64| {
        let rank = (p * samples.len() as f64).ceil() as usize;
        samples[rank.clamp(1, samples.len()) - 1] as f64 / 1e6
    };
    if samples.is_empty() {
        return Err("no latency samples".into());
    }
    Ok(Value::LatencyMs {
        p50: pct(0.50),
        p99: pct(0.99),
    })
}

/// `--child w4 URL HOST` / `--child latency URL HOST SAMPLES`.
pub(crate) fn child_main(args: &[String]) -> Res<()> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (kind, url, host, samples) = match args[..] {
        ["w4", url, host] => ("w4", url, host, 0),
        ["latency", url, host, samples] => ("latency", url, host, samples.parse()?),
        _ => return Err(format!("bad child arguments {args:?}").into()),
    };
    let queue = open(url)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "ready")?;
    stdout.flush()?;
    let mut report = String::new();
    if kind == "w4" {
        let mut go = String::new();
        std::io::stdin().read_line(&mut go)?;
        for key in drain(&queue, host, 1)? {
            report.push_str(&format!("{} {}\n", key.id, key.lock_token));
        }
    } else {
        let options = PollOptions::default().wait(LATENCY_POLL_WAIT);
        let mut taken = 0;
        while taken < samples {
            let leases = queue.poll(host, &options)?;
            if leases.is_empty() {
                return Err("no work within the wait: submitter gone?".into());
            }
            for lease in leases {
                let at = now_ns()?;
                let stamp: [u8; 8] = lease.data.get(..8).ok_or("no stamp")?.try_into()?;
                let ns = at - i64::from_le_bytes(stamp);
                expect_succeeded(queue.complete(lease.key())?)?;
                report.push_str(&format!("{} {} {ns}\n", lease.id, lease.lock_token));
                taken += 1;
            }
        }
    }
    queue.close();
    writeln!(stdout, "{report}end")?;
    stdout.flush()?;
    Ok(())
}
