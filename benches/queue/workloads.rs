//! The in-process workloads (W1, W2/W5/W2-1M, W3) and the W2-1M file.

use super::*;

// Workloads

pub(crate) fn now_ms() -> Res<i64> {
    Ok(i64::try_from(
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis(),
    )?)
}

/// Wall-clock nanoseconds: the one clock that two processes share.
pub(crate) fn now_ns() -> Res<u64> {
    Ok(u64::try_from(
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos(),
    )?)
}

pub(crate) fn rate(n: usize, elapsed: Duration) -> Value {
    Value::OpsPerSec(n as f64 / elapsed.as_secs_f64())
}

pub(crate) fn finish(h: Handle, value: Value) -> Res<Run> {
    let (journal_mode, synchronous) = h.pragmas()?;
    h.close();
    Ok(Run {
        value,
        journal_mode,
        synchronous,
    })
}

pub(crate) fn run_w1(imp: Impl, dur: Dur, path: &Path, n: usize) -> Res<Run> {
    let h = Handle::open(imp, path, dur)?;
    let before = h.tally()?;
    let spec = spec(payload());
    let started = Instant::now();
    for _ in 0..n {
        h.submit(&spec)?;
    }
    let elapsed = started.elapsed();
    let after = h.tally()?;
    let added = i64::try_from(n)?;
    if after.total != before.total + added || after.ready != before.ready + added {
        return Err(format!("submitted {n}, rows before {before:?}, after {after:?}").into());
    }
    finish(h, rate(n, elapsed))
}

/// W2, W5 and W2-1M: one worker in this thread.
pub(crate) fn run_drain(imp: Impl, dur: Dur, path: &Path, n: usize, max: u32) -> Res<Run> {
    let h = Handle::open(imp, path, dur)?;
    let before = h.tally()?;
    h.prefill(n)?;
    let started = Instant::now();
    let completed = h.drain("bench-0", max)?;
    let elapsed = started.elapsed();
    check_drained(before, h.tally()?, n, completed)?;
    finish(h, rate(n, elapsed))
}

pub(crate) fn run_w3(imp: Impl, dur: Dur, path: &Path, n: usize) -> Res<Run> {
    let h = Handle::open(imp, path, dur)?;
    let before = h.tally()?;
    h.prefill(n)?;
    // Connections are opened before the barrier, so the drain alone is timed.
    let barrier = Barrier::new(W3_THREADS);
    let (completed, elapsed) = thread::scope(|s| -> Res<(usize, Duration)> {
        let workers: Vec<_> = (0..W3_THREADS)
            .map(|i| {
                let seed = h.worker_seed();
                let barrier = &barrier;
                s.spawn(move || -> Res<(usize, Instant, Instant)> {
                    let worker = Handle::from_seed(seed, path, dur);
                    // Wait even after a failed open, or the others would wait forever.
                    barrier.wait();
                    let started = Instant::now();
                    let completed = worker?.drain(&format!("bench-{i}"), 1)?;
                    Ok((completed, started, Instant::now()))
                })
            })
            .collect();
        // The workers' own clocks: on 2 cores this thread may be descheduled
        // right after a barrier while the workers already drain.
        let mut completed = 0;
        let mut span: Option<(Instant, Instant)> = None;
        for w in workers {
            let (count, start, end) = w.join().map_err(|_| "a W3 worker panicked")??;
            completed += count;
            span = Some(span.map_or((start, end), |(s, e)| (s.min(start), e.max(end))));
        }
        let (start, end) = span.ok_or("no W3 workers")?;
        Ok((completed, end - start))
    })?;
    check_drained(before, h.tally()?, n, completed)?;
    finish(h, rate(n, elapsed))
}

/// Builds the W2-1M file: `rows` completed operations in one transaction, every
/// column as a real completed row would have it (asyncop: 3/30, claimed once).
pub(crate) fn build_big(imp: Impl, path: &Path, rows: usize) -> Res<()> {
    let rows = i64::try_from(rows)?;
    let now = now_ms()?;
    // Zero-padded names and increasing times: every index grows at its end, so
    // the build needs no large page cache (which would inflate the peak RSS).
    let series = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)";
    match imp {
        Impl::Asyncop => {
            let queue = Queue::open(path, Options::default())?;
            asyncop::store::sqlite::testing::write(&queue, |conn| {
                conn.execute(
                    &format!(
                        "{series} INSERT INTO operation (name, operation_type, state, status, \
                         data, lock_token, created_on, modified_on, started_on, completed_on, \
                         execution_time_span) \
                         SELECT printf('done-%08d', i), {OPERATION_TYPE}, 3, 30, \
                         zeroblob({PAYLOAD_LEN}), 1, ?2 - ?1 + i, ?2 - ?1 + i, ?2 - ?1 + i, \
                         ?2 - ?1 + i, 0 FROM n"
                    ),
                    params![rows, now],
                )?;
                Ok(())
            })?;
            queue.close();
        }
        Impl::Raw => {
            let db = RawDb::open(path, Dur::Full, true)?;
            db.in_tx(|conn| {
                conn.execute(
                    &format!(
                        "{series} INSERT INTO jobs (state, owner, payload, created) \
                         SELECT {RAW_DONE}, 'done', zeroblob({PAYLOAD_LEN}), ?2 - ?1 + i FROM n"
                    ),
                    params![rows, now],
                )?;
                Ok(())
            })?;
        }
        Impl::Disk => return Err("the disk cell has no W2-1M file".into()),
    }
    // Everything into the main file and synced (a plain connection is
    // synchronous=FULL), so that no writeback of the build overlaps a run.
    let conn = Connection::open(path)?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

pub(crate) fn sync_fs(dir: &Path) -> Res<()> {
    let dir = fs::File::open(dir)?;
    // SAFETY: syncfs takes any open descriptor of the file system; `dir` lives on.
    if unsafe { libc::syncfs(std::os::fd::AsRawFd::as_raw_fd(&dir)) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    Ok(())
}

pub(crate) fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-lock"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = fs::remove_file(p);
    }
}
