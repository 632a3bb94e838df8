//! Child processes: W4's drain by several processes of this binary.

use super::*;

/// Child processes, killed and reaped on drop unless already waited for, so that
/// no error path leaves one running.
pub(crate) struct Children(pub(crate) Vec<Child>);

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

impl Children {
    pub(crate) fn spawn(args: &[&str]) -> Res<Child> {
        Ok(Command::new(std::env::current_exe()?)
            .arg("--child")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()?)
    }

    /// Waits until every child has created its ready file; fails at once if one exits.
    pub(crate) fn wait_ready(&mut self, files: &[PathBuf]) -> Res<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while !files.iter().all(|f| f.exists()) {
            for child in &mut self.0 {
                if let Some(status) = child.try_wait()? {
                    return Err(format!("a child exited before it was ready: {status}").into());
                }
            }
            if Instant::now() > deadline {
                return Err("children not ready in time".into());
            }
            thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }

    pub(crate) fn wait_all(&mut self) -> Res<()> {
        for child in &mut self.0 {
            let status = child.wait()?;
            if !status.success() {
                return Err(format!("a child failed: {status}").into());
            }
        }
        Ok(())
    }
}

/// A signal file next to the queue file: `<path>.<what>`.
pub(crate) fn beside(path: &Path, what: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{what}"));
    PathBuf::from(s)
}

pub(crate) fn wait_for_file(path: &Path) -> Res<()> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    while !path.exists() {
        if Instant::now() > deadline {
            return Err(format!("{} did not appear", path.display()).into());
        }
        thread::sleep(Duration::from_micros(200));
    }
    Ok(())
}

/// The first line of a child's report: `journal_mode synchronous peak_kib busy_timeouts`.
pub(crate) fn child_header(h: &Handle) -> Res<String> {
    let (mode, sync) = h.pragmas()?;
    Ok(format!(
        "{mode} {sync} {} {}\n",
        peak_rss_kib()?,
        BUSY_TIMEOUTS.load(Ordering::Relaxed)
    ))
}

/// Checks that a child's connection had the settings the parent's has, and
/// records its peak RSS and busy timeouts.
pub(crate) fn read_child_header(line: &str, parent: &(String, String)) -> Res<()> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let [mode, sync, peak, busy] = words[..] else {
        return Err(format!("bad child report {line:?}").into());
    };
    if (mode, sync) != (parent.0.as_str(), parent.1.as_str()) {
        return Err(format!("child ran with {mode}/{sync}, parent with {parent:?}").into());
    }
    CHILDREN_PEAK_KIB.fetch_max(peak.parse()?, Ordering::Relaxed);
    BUSY_TIMEOUTS.fetch_add(busy.parse()?, Ordering::Relaxed);
    Ok(())
}

pub(crate) fn run_w4(imp: Impl, dur: Dur, path: &Path, n: usize, processes: usize) -> Res<Run> {
    // The parent keeps its handle open through the run, as W3's does: a child's
    // exit is then never the last close, which would checkpoint the WAL.
    let h = Handle::open(imp, path, dur)?;
    let before = h.tally()?;
    h.prefill(n)?;
    let path_str = path.to_str().ok_or("temp path is not UTF-8")?;
    let hosts: Vec<String> = (0..processes).map(|i| format!("bench-{i}")).collect();
    let mut children = Children(Vec::new());
    for host in &hosts {
        children.0.push(Children::spawn(&[
            "w4",
            imp.name(),
            dur.name(),
            path_str,
            host,
        ])?);
    }
    let ready: Vec<PathBuf> = hosts
        .iter()
        .map(|h| beside(path, &format!("ready-{h}")))
        .collect();
    children.wait_ready(&ready)?;
    // Started before "go" exists: the children may run before this thread does again.
    let started = Instant::now();
    fs::write(beside(path, "go"), b"")?;
    children.wait_all()?;
    let elapsed = started.elapsed();
    let parent = h.pragmas()?;
    let mut per_process = Vec::new();
    for host in &hosts {
        let report = fs::read_to_string(beside(path, &format!("result-{host}")))?;
        let mut lines = report.lines();
        read_child_header(lines.next().unwrap_or(""), &parent)?;
        per_process.push(lines.next().unwrap_or("").trim().parse::<usize>()?);
    }
    // How fairly the write lock went round: the busy handlers differ.
    eprintln!(
        "  {} W4 ({processes} processes) {}: completed per process {per_process:?}",
        imp.name(),
        dur.name()
    );
    let completed = per_process.iter().sum();
    check_drained(before, h.tally()?, n, completed)?;
    finish(h, rate(n, elapsed))
}

/// `--child w4 <impl> <durability> <path> <host>`: open, report ready, wait for
/// go, drain, report `journal_mode synchronous` and the count.
pub(crate) fn child_w4(imp: &str, dur: &str, path: &Path, host: &str) -> Res<()> {
    let dur = Dur::parse(dur)?;
    let h = match Impl::parse(imp)? {
        Impl::Asyncop => Handle::open(Impl::Asyncop, path, dur)?,
        Impl::Raw => Handle::Raw(RawDb::open(path, dur, false)?),
        Impl::Disk => return Err("the disk cell has no child processes".into()),
    };
    fs::write(beside(path, &format!("ready-{host}")), b"")?;
    wait_for_file(&beside(path, "go"))?;
    let completed = h.drain(host, 1)?;
    let header = child_header(&h)?;
    h.close();
    fs::write(
        beside(path, &format!("result-{host}")),
        format!("{header}{completed}\n"),
    )?;
    Ok(())
}
