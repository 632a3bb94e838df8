//! latency-inproc / latency-xproc: submit→start of a waiting poll.

use super::*;

pub(crate) fn stamped_spec(payload: &mut [u8]) -> Res<OperationSpec> {
    payload[..8].copy_from_slice(&now_ns()?.to_le_bytes());
    Ok(spec(payload.to_vec()))
}

/// Submit→start of one claimed operation, in nanoseconds.
pub(crate) fn latency_sample(lease: &Lease) -> Res<u64> {
    let started = now_ns()?;
    let stamp: [u8; 8] = lease
        .data
        .get(..8)
        .ok_or("payload without a stamp")?
        .try_into()?;
    started
        .checked_sub(u64::from_le_bytes(stamp))
        .ok_or_else(|| "start before submit: did the wall clock step?".into())
}

/// The latency worker: blocked in a waiting poll, takes `samples` operations one
/// by one, completes each.
pub(crate) fn latency_worker(queue: &Queue, host: &str, samples: usize) -> Res<Vec<u64>> {
    let options = PollOptions::default().wait(LATENCY_POLL_WAIT);
    let mut out = Vec::with_capacity(samples);
    while out.len() < samples {
        let leases = queue.poll(host, &options)?;
        if leases.is_empty() {
            return Err(format!("no work within {LATENCY_POLL_WAIT:?}: submitter gone?").into());
        }
        for lease in leases {
            out.push(latency_sample(&lease)?);
            expect_succeeded(queue.complete(lease.key())?)?;
        }
    }
    Ok(out)
}

/// The latency submitter: one operation at a time, `LATENCY_GAP` apart.
pub(crate) fn latency_submitter(queue: &Queue, samples: usize) -> Res<()> {
    let mut data = payload();
    for _ in 0..samples {
        queue.submit(&stamped_spec(&mut data)?)?;
        thread::sleep(LATENCY_GAP);
    }
    Ok(())
}

/// Lets the worker get into its waiting poll before the first submit.
pub(crate) const WORKER_SETTLE: Duration = Duration::from_millis(30);

pub(crate) fn run_latency_inproc(dur: Dur, path: &Path, n: usize) -> Res<Run> {
    let h = Handle::open(Impl::Asyncop, path, dur)?;
    let queue = h.worker_seed().ok_or("latency needs asyncop")?;
    let before = h.tally()?;
    let samples = thread::scope(|s| -> Res<Vec<u64>> {
        let worker = s.spawn(|| latency_worker(&queue, "bench-latency", n));
        thread::sleep(WORKER_SETTLE);
        let submitted = latency_submitter(&queue, n);
        let samples = worker.join().map_err(|_| "the latency worker panicked")??;
        submitted?;
        Ok(samples)
    })?;
    check_drained(before, h.tally()?, n, samples.len())?;
    finish(h, latency_value(samples)?)
}

pub(crate) fn run_latency_xproc(dur: Dur, path: &Path, n: usize) -> Res<Run> {
    let h = Handle::open(Impl::Asyncop, path, dur)?;
    let queue = h.worker_seed().ok_or("latency needs asyncop")?;
    let before = h.tally()?;
    let path_str = path.to_str().ok_or("temp path is not UTF-8")?;
    let host = "bench-latency";
    let mut children = Children(vec![Children::spawn(&[
        "latency",
        dur.name(),
        path_str,
        host,
        &n.to_string(),
    ])?]);
    children.wait_ready(&[beside(path, &format!("ready-{host}"))])?;
    thread::sleep(WORKER_SETTLE);
    latency_submitter(&queue, n)?;
    children.wait_all()?;
    let report = fs::read_to_string(beside(path, &format!("result-{host}")))?;
    let mut lines = report.lines();
    read_child_header(lines.next().unwrap_or(""), &h.pragmas()?)?;
    let samples = lines
        .map(|l| l.trim().parse::<u64>())
        .collect::<Result<Vec<_>, _>>()?;
    check_drained(before, h.tally()?, n, samples.len())?;
    finish(h, latency_value(samples)?)
}

/// `--child latency <durability> <path> <host> <samples>`.
pub(crate) fn child_latency(dur: &str, path: &Path, host: &str, samples: &str) -> Res<()> {
    let h = Handle::open(Impl::Asyncop, path, Dur::parse(dur)?)?;
    let queue = h.worker_seed().ok_or("latency needs asyncop")?;
    fs::write(beside(path, &format!("ready-{host}")), b"")?;
    let samples = latency_worker(&queue, host, samples.parse()?)?;
    let mut report = child_header(&h)?;
    h.close();
    for s in samples {
        writeln!(report, "{s}")?;
    }
    fs::write(beside(path, &format!("result-{host}")), report)?;
    Ok(())
}

/// Nearest-rank percentile of sorted values.
pub(crate) fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub(crate) fn latency_value(mut samples: Vec<u64>) -> Res<Value> {
    if samples.is_empty() {
        return Err("no latency samples".into());
    }
    samples.sort_unstable();
    let ms = |ns: u64| ns as f64 / 1e6;
    Ok(Value::LatencyMs {
        p50: ms(percentile(&samples, 0.50)),
        p99: ms(percentile(&samples, 0.99)),
    })
}
