//! The second act: what the queue does over time, on a queue file of its own.
//!
//! * a recurring system job: one row is the whole series; after a run it waits,
//!   Suspended, for its next occurrence; Cancel ends the series;
//! * a progress bar drawn from what a running handler reports;
//! * a failed attempt kept in the attempt history after a later success, with the
//!   handler's output stored on completion;
//! * Cancel reaching a running handler through its stop signal, timed in this
//!   process and from another process (bounds: 50 ms and 250 ms);
//! * a whole operation type held during an "incident": claims skip it, its jobs
//!   keep their place, and run in order once it is released.

use super::*;
use asyncop::transition::time_text::iso_utc;
use asyncop::{AttemptEnding, Progress, StopReason};
use std::sync::mpsc;
use std::time::{SystemTime, UNIX_EPOCH};

const DIGEST: i32 = 200;
const RENDER: i32 = 201;
const LONG: i32 = 202;
const REPORT: i32 = 203;
const IN_PROCESS_BOUND: Duration = Duration::from_millis(50);
const CROSS_PROCESS_BOUND: Duration = Duration::from_millis(250);
const IN_PROCESS_ROUNDS: usize = 20;
const CROSS_PROCESS_ROUNDS: usize = 5;

/// Runs the act; returns whether every check held.
pub(crate) fn act(path: &Path) -> DemoResult<bool> {
    println!();
    println!("Life cycle (queue file {})", path.display());
    let q = Queue::open(
        path,
        Options {
            backoff_base: Some(Duration::from_millis(100)),
            backoff_cap: Some(Duration::from_millis(100)),
            ..Options::default()
        },
    )?;
    let mut ok = recurring(&q)?;
    ok &= progress_bar(&q)?;
    ok &= attempt_history(&q)?;
    ok &= cancel_in_process(&q)?;
    ok &= cancel_across_processes(&q, path)?;
    ok &= held_type(&q)?;
    q.close();
    Ok(ok)
}

/// Claims the one Ready job of `operation_type` (waiting up to 2 s for it).
fn claim(q: &Queue, host: &str, operation_type: i32) -> DemoResult<Lease> {
    let poll = PollOptions::default()
        .operation_types(vec![operation_type])
        .wait(Duration::from_secs(2));
    q.poll(host, &poll)?
        .pop()
        .ok_or_else(|| format!("no job of type {operation_type} to claim").into())
}

fn now_label(q: &Queue, id: i64) -> DemoResult<String> {
    let op = q.retrieve(id)?;
    Ok(label(op.state, op.status))
}

fn recurring(q: &Queue) -> DemoResult<bool> {
    let id =
        q.submit(&OperationSpec::new("hourly digest", DIGEST).recurring("FREQ=HOURLY;", None))?;
    let lease = claim(q, "digest-host", DIGEST)?;
    q.complete_with_output(lease.key(), b"digest sent to 12 subscribers")?;
    let op = q.retrieve(id)?;
    let next = op
        .postpone_until
        .ok_or("a series waits for its next occurrence")?;
    println!(
        "recurring: #{id} FREQ=HOURLY ran once -> {} until {} (the same row, next occurrence)",
        label(op.state, op.status),
        iso_utc(next)
    );
    // Cancel ends the series; it never becomes Succeeded.
    q.cancel(id)?;
    let ended = q.retrieve(id)?;
    println!(
        "recurring: cancel #{id} -> {} (the series ended)",
        label(ended.state, ended.status)
    );
    Ok(op.status == Status::Waiting && next > q.now() && ended.status == Status::Canceled)
}

fn bar(percent: i32, text: &str) -> String {
    let filled = usize::try_from(percent / 5).unwrap_or(0).min(20);
    format!(
        "[{}{}] {percent:>3}% {text}",
        "#".repeat(filled),
        "-".repeat(20 - filled)
    )
}

/// A handler reports progress in ten steps; the "user" reads the operation
/// and draws a bar whenever it moved.
fn progress_bar(q: &Queue) -> DemoResult<bool> {
    let id = q.submit(&OperationSpec::new("render 10 tiles", RENDER))?;
    let lease = claim(q, "render-host", RENDER)?;
    let handler = {
        let q = q.clone();
        thread::spawn(move || -> Result<(), Error> {
            for step in 1..=10 {
                thread::sleep(Duration::from_millis(40));
                let text = format!("tile {step}/10");
                q.report_progress(lease.key(), &Progress::new(step * 10, Some(&text)))?;
            }
            q.complete_with_output(lease.key(), b"10 tiles, 2.4 MB")?;
            Ok(())
        })
    };
    let mut last = None;
    let mut shown = 0;
    loop {
        let op = q.retrieve(id)?;
        if op.state == State::Completed {
            break;
        }
        if op.progress.is_some() && op.progress != last {
            last = op.progress;
            // Every other step, to keep the output short.
            if last.unwrap_or(0) % 20 == 0 {
                let text = op.progress_text.unwrap_or_default();
                println!("progress: #{id} {}", bar(last.unwrap_or(0), &text));
                shown += 1;
            }
        }
        thread::sleep(Duration::from_millis(10));
    }
    handler
        .join()
        .map_err(|_| "the render handler panicked")??;
    let done = q.retrieve(id)?;
    let output = String::from_utf8_lossy(done.output.as_deref().unwrap_or_default()).into_owned();
    println!(
        "progress: #{id} {} with output {output:?}",
        label(done.state, done.status)
    );
    Ok(done.status == Status::Succeeded && shown > 0 && !output.is_empty())
}

/// An attempt that fails with a retryable error is kept in the history after
/// the next attempt succeeds.
fn attempt_history(q: &Queue) -> DemoResult<bool> {
    let id = q.submit(&OperationSpec::new("export ledger", REPORT))?;
    let first = claim(q, "export-host", REPORT)?;
    let detail = "Traceback (most recent call last):\n  File \"export.py\", line 42, in run\nTimeoutError: ledger service did not answer";
    q.retry(
        first.key(),
        Report::error(E_TIMEOUT, "ledger service timed out").detail(detail),
    )?;
    // Back-off is 100 ms here; the retry comes back by itself.
    let second = claim(q, "export-host", REPORT)?;
    q.complete(second.key())?;
    let attempts = q.attempts(id)?;
    for a in &attempts {
        println!(
            "history: #{id} attempt {} ended {} at {}: 0x{:08X} {:?} (detail: {} lines)",
            a.lock_token,
            a.ending.name(),
            iso_utc(a.ended_on),
            a.error_code.unwrap_or(0) as u32,
            a.message.as_deref().unwrap_or(""),
            a.detail.as_deref().map_or(0, |d| d.lines().count())
        );
    }
    println!(
        "history: #{id} is {}; its failed attempt is still in the history",
        now_label(q, id)?
    );
    Ok(q.retrieve(id)?.status == Status::Succeeded
        && attempts.len() == 1
        && attempts[0].ending == AttemptEnding::Retry)
}

fn summary(name: &str, mut samples: Vec<Duration>, bound: Duration) -> bool {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let p50 = samples[samples.len() / 2];
    let max = samples[samples.len() - 1];
    let within = max <= bound;
    println!(
        "cancel: {name}: {} runs, cancel -> handler's stop signal p50 {:.2} ms, max {:.2} ms: {} the {} ms bound",
        samples.len(),
        ms(p50),
        ms(max),
        if within { "within" } else { "OVER" },
        bound.as_millis()
    );
    within
}

/// A handler thread waits on its stop signal (it would work for 30 s); the
/// user cancels from the main thread.
fn cancel_in_process(q: &Queue) -> DemoResult<bool> {
    let mut samples = Vec::new();
    for round in 0..IN_PROCESS_ROUNDS {
        let id = q.submit(&OperationSpec::new(format!("long job {round}"), LONG))?;
        let lease = claim(q, "long-host", LONG)?;
        let signal = q.stop_signal(lease.key())?;
        let (tx, rx) = mpsc::channel();
        let handler = {
            let q = q.clone();
            thread::spawn(move || -> Result<(), Error> {
                let reason = signal.wait(Duration::from_secs(30));
                let seen = Instant::now();
                if reason == Some(StopReason::Cancel) {
                    q.acknowledge_cancel(lease.key())?;
                }
                let _ = tx.send((reason, seen));
                Ok(())
            })
        };
        let asked = Instant::now();
        q.cancel(id)?;
        let (reason, seen) = rx.recv_timeout(Duration::from_secs(30))?;
        handler.join().map_err(|_| "a long handler panicked")??;
        if reason != Some(StopReason::Cancel) || q.retrieve(id)?.status != Status::Canceled {
            println!("cancel: #{id}: the handler saw {reason:?}");
            return Ok(false);
        }
        samples.push(seen.saturating_duration_since(asked));
    }
    Ok(summary("in this process", samples, IN_PROCESS_BOUND))
}

fn epoch_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros())
}

/// `demo --stop-worker <file> <rounds>`: claims a LONG job, says "ready ID",
/// waits on its stop signal, and on Cancel says "stopped ID MICROS" (the
/// wall-clock time it saw the signal), `rounds` times.
pub(crate) fn stop_worker(path: &Path, rounds: usize) -> DemoResult<bool> {
    use std::io::Write;
    let q = Queue::open(path, Options::default())?;
    let mut out = std::io::stdout();
    for _ in 0..rounds {
        let lease = claim(&q, "stop-worker", LONG)?;
        let signal = q.stop_signal(lease.key())?;
        writeln!(out, "ready {}", lease.id)?;
        out.flush()?;
        let reason = signal.wait(Duration::from_secs(30));
        let seen = epoch_micros();
        if reason != Some(StopReason::Cancel) {
            return Err(format!("job #{}: the stop signal said {reason:?}", lease.id).into());
        }
        q.acknowledge_cancel(lease.key())?;
        writeln!(out, "stopped {} {seen}", lease.id)?;
        out.flush()?;
    }
    q.close();
    Ok(true)
}

/// The same, with the handler in another process.
fn cancel_across_processes(q: &Queue, path: &Path) -> DemoResult<bool> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("--stop-worker")
        .arg(path)
        .arg(CROSS_PROCESS_ROUNDS.to_string())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().ok_or("no worker stdout")?).lines();
    let mut samples = Vec::new();
    for round in 0..CROSS_PROCESS_ROUNDS {
        let id = q.submit(&OperationSpec::new(
            format!("remote long job {round}"),
            LONG,
        ))?;
        let ready = lines.next().ok_or("the stop worker ended early")??;
        if ready != format!("ready {id}") {
            return Err(format!("stop worker: expected ready {id}, got {ready:?}").into());
        }
        let asked = epoch_micros();
        q.cancel(id)?;
        let stopped = lines.next().ok_or("the stop worker ended early")??;
        let seen: u128 = stopped
            .strip_prefix(&format!("stopped {id} "))
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| format!("stop worker: unexpected {stopped:?}"))?;
        let micros = u64::try_from(seen.saturating_sub(asked)).unwrap_or(u64::MAX);
        samples.push(Duration::from_micros(micros));
    }
    let exited = child.wait()?.success();
    Ok(summary("from another process", samples, CROSS_PROCESS_BOUND) && exited)
}

/// Holds a type: claims skip its jobs (they stay Ready, in order) until release.
fn held_type(q: &Queue) -> DemoResult<bool> {
    q.hold_type(REPORT)?;
    let held: Vec<i64> = (1..=3)
        .map(|n| q.submit(&OperationSpec::new(format!("quarterly report {n}"), REPORT)))
        .collect::<Result<_, _>>()?;
    let other = q.submit(&OperationSpec::new("render cover", RENDER))?;
    println!(
        "held type: hold {REPORT}, submit {} (type {REPORT}) and #{other} (type {RENDER})",
        ids(&held)
    );
    let claimed = q.poll("any-host", &PollOptions::default().max(10))?;
    let claimed_ids: Vec<i64> = claimed.iter().map(|l| l.id).collect();
    for lease in &claimed {
        q.complete(lease.key())?;
    }
    let shown_held = q
        .counts()?
        .iter()
        .any(|r| r.operation_type == REPORT && r.held && r.state == State::Ready);
    println!(
        "held type: a poll for any type claimed {} only; {} stay {} (counts show the type held: {shown_held})",
        ids(&claimed_ids),
        ids(&held),
        states_of(q, &held)?
    );
    q.release_type(REPORT)?;
    let after = q.poll("any-host", &PollOptions::default().max(10))?;
    let after_ids: Vec<i64> = after.iter().map(|l| l.id).collect();
    for lease in &after {
        q.complete(lease.key())?;
    }
    println!(
        "held type: release {REPORT}: the next poll claimed {} in order -> {}",
        ids(&after_ids),
        states_of(q, &held)?
    );
    Ok(claimed_ids == vec![other] && shown_held && after_ids == held)
}
