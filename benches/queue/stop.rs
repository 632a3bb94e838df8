//! stop-inproc / stop-xproc (asyncop only): how soon a running handler's stop
//! signal fires after a user cancels its operation (§6.3), in ms from just
//! before the `cancel` call to the handler seeing its signal. The handler
//! thread (stop-inproc) or a child process (stop-xproc) claims one operation,
//! takes its `stop_signal`, says it is ready, and blocks on the signal; the
//! parent then stamps the wall clock and cancels. No renewal is involved (the
//! lease is the default 30 s): the signal comes through the change signal.

use super::*;
use asyncop::StopReason;
use std::sync::mpsc;

/// The handler side: `n` times, claim one operation, take its stop signal, call
/// `ready(id)`, wait for the signal, note the wall clock, acknowledge the cancel.
fn stop_handler(
    queue: &Queue,
    host: &str,
    n: usize,
    ready: impl Fn(i64) -> Res<()>,
) -> Res<Vec<u64>> {
    let options = PollOptions::default().wait(LATENCY_POLL_WAIT);
    let mut seen = Vec::with_capacity(n);
    while seen.len() < n {
        let leases = queue.poll(host, &options)?;
        let [lease] = leases.as_slice() else {
            return Err(format!("claimed {} operations, expected one", leases.len()).into());
        };
        let signal = queue.stop_signal(lease.key())?;
        ready(lease.id)?;
        let reason = signal.wait(LATENCY_POLL_WAIT);
        let at = now_ns()?;
        if reason != Some(StopReason::Cancel) {
            return Err(format!("operation {}: stop signal {reason:?}", lease.id).into());
        }
        seen.push(at);
        if queue.acknowledge_cancel(lease.key())? != Status::Canceled {
            return Err(
                format!("operation {}: acknowledge_cancel did not cancel", lease.id).into(),
            );
        }
    }
    Ok(seen)
}

/// Every one of the `n` operations ended Canceled (3/32), none claimed twice.
fn check_canceled(h: &Handle, n: usize) -> Res<()> {
    let Handle::Asyncop(q) = h else {
        return Err("stop needs asyncop".into());
    };
    let counts = q.counts()?;
    let canceled: i64 = counts
        .iter()
        .filter(|c| c.status == Status::Canceled)
        .map(|c| c.count)
        .sum();
    let total: i64 = counts.iter().map(|c| c.count).sum();
    let n = i64::try_from(n)?;
    if canceled != n || total != n || h.tally()?.reclaimed != 0 {
        return Err(format!("{n} cancels, but the rows are {counts:?}").into());
    }
    Ok(())
}

/// Latencies from the cancel stamps and the handler's stamps, in order.
fn latencies(asked: &[u64], seen: &[u64]) -> Res<Vec<u64>> {
    if asked.len() != seen.len() {
        return Err(format!("{} cancels, {} stops seen", asked.len(), seen.len()).into());
    }
    asked
        .iter()
        .zip(seen)
        .map(|(a, s)| {
            s.checked_sub(*a)
                .ok_or_else(|| "a stop seen before its cancel: did the wall clock step?".into())
        })
        .collect()
}

/// The canceling side: `n` times, submit, wait until the handler is ready for
/// that id, stamp, cancel. Returns the stamps.
fn canceler(queue: &Queue, n: usize, wait_ready: impl Fn(i64) -> Res<()>) -> Res<Vec<u64>> {
    let mut asked = Vec::with_capacity(n);
    for _ in 0..n {
        let id = queue.submit(&spec(payload()))?;
        wait_ready(id)?;
        asked.push(now_ns()?);
        queue.cancel(id)?;
    }
    Ok(asked)
}

pub(crate) fn run_stop_inproc(dur: Dur, path: &Path, n: usize) -> Res<Run> {
    let h = Handle::open(Impl::Asyncop, path, dur)?;
    let queue = h.worker_seed().ok_or("stop needs asyncop")?;
    let (tx, rx) = mpsc::channel::<i64>();
    let (asked, seen) = thread::scope(|s| -> Res<(Vec<u64>, Vec<u64>)> {
        let worker = s.spawn(move || {
            stop_handler(&queue, "bench-stop", n, |id| {
                tx.send(id).map_err(|_| "the canceler is gone".into())
            })
        });
        let asked = canceler(h.worker_seed().as_ref().ok_or("no queue")?, n, |id| {
            let got = rx.recv_timeout(STARTUP_TIMEOUT)?;
            if got == id {
                Ok(())
            } else {
                Err(format!("submitted {id}, the handler claimed {got}").into())
            }
        });
        let seen = worker.join().map_err(|_| "the stop handler panicked")??;
        Ok((asked?, seen))
    })?;
    check_canceled(&h, n)?;
    finish(h, latency_value(latencies(&asked, &seen)?)?)
}

pub(crate) fn run_stop_xproc(dur: Dur, path: &Path, n: usize) -> Res<Run> {
    let h = Handle::open(Impl::Asyncop, path, dur)?;
    let queue = h.worker_seed().ok_or("stop needs asyncop")?;
    let path_str = path.to_str().ok_or("temp path is not UTF-8")?;
    let host = "bench-stop";
    let mut children = Children(vec![Children::spawn(&[
        "stop",
        dur.name(),
        path_str,
        host,
        &n.to_string(),
    ])?]);
    children.wait_ready(&[beside(path, &format!("ready-{host}"))])?;
    let asked = canceler(&queue, n, |id| {
        wait_for_file(&beside(path, &format!("stop-ready-{id}")))
    })?;
    children.wait_all()?;
    let report = fs::read_to_string(beside(path, &format!("result-{host}")))?;
    let mut lines = report.lines();
    read_child_header(lines.next().unwrap_or(""), &h.pragmas()?)?;
    let seen = lines
        .map(|l| l.trim().parse::<u64>())
        .collect::<Result<Vec<_>, _>>()?;
    check_canceled(&h, n)?;
    finish(h, latency_value(latencies(&asked, &seen)?)?)
}

/// `--child stop <durability> <path> <host> <samples>`.
pub(crate) fn child_stop(dur: &str, path: &Path, host: &str, samples: &str) -> Res<()> {
    let h = Handle::open(Impl::Asyncop, path, Dur::parse(dur)?)?;
    let queue = h.worker_seed().ok_or("stop needs asyncop")?;
    fs::write(beside(path, &format!("ready-{host}")), b"")?;
    let seen = stop_handler(&queue, host, samples.parse()?, |id| {
        Ok(fs::write(beside(path, &format!("stop-ready-{id}")), b"")?)
    })?;
    let mut report = child_header(&h)?;
    h.close();
    for s in seen {
        writeln!(report, "{s}")?;
    }
    fs::write(beside(path, &format!("result-{host}")), report)?;
    Ok(())
}
