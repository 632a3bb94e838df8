//! The hosts: the same loop runs in the threads and in the worker process.

use super::*;

/// What one host did. `runs` counts claims (attempts); the others count how the
/// attempts ended, as the host call that ended them reported.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct HostStats {
    pub(crate) runs: u64,
    pub(crate) succeeded: u64,
    pub(crate) retried: u64,
    pub(crate) failed: u64,
    pub(crate) paused: u64,
    pub(crate) canceled: u64,
    pub(crate) errors: u64,
}

impl HostStats {
    pub(crate) const FIELDS: [&'static str; 7] = [
        "runs",
        "succeeded",
        "retried",
        "failed",
        "paused",
        "canceled",
        "errors",
    ];

    pub(crate) fn values(&self) -> [u64; 7] {
        [
            self.runs,
            self.succeeded,
            self.retried,
            self.failed,
            self.paused,
            self.canceled,
            self.errors,
        ]
    }

    pub(crate) fn add(&mut self, other: &HostStats) {
        self.runs += other.runs;
        self.succeeded += other.succeeded;
        self.retried += other.retried;
        self.failed += other.failed;
        self.paused += other.paused;
        self.canceled += other.canceled;
        self.errors += other.errors;
    }

    /// Counts the status an outcome call returned. A Cancel that arrives between the
    /// host's last renewal and its report turns a retry or a pause into 3/32 (§3.2).
    fn record(&mut self, status: Status, waiting_means_paused: bool) {
        match status {
            Status::Succeeded => self.succeeded += 1,
            Status::Failed => self.failed += 1,
            Status::Canceled => self.canceled += 1,
            Status::Waiting if waiting_means_paused => self.paused += 1,
            _ => self.retried += 1,
        }
    }

    /// One line the worker process prints for its parent: `stats runs=3 succeeded=2 ...`.
    pub(crate) fn to_line(self) -> String {
        let mut line = String::from("stats");
        for (name, value) in Self::FIELDS.iter().zip(self.values()) {
            line.push_str(&format!(" {name}={value}"));
        }
        line
    }

    pub(crate) fn parse(line: &str) -> Option<HostStats> {
        let mut values = [0u64; 7];
        let mut parts = line.split_whitespace();
        if parts.next() != Some("stats") {
            return None;
        }
        for (slot, part) in values.iter_mut().zip(parts) {
            *slot = part.split_once('=')?.1.parse().ok()?;
        }
        let [runs, succeeded, retried, failed, paused, canceled, errors] = values;
        Some(HostStats {
            runs,
            succeeded,
            retried,
            failed,
            paused,
            canceled,
            errors,
        })
    }
}

/// Claims jobs until `stop` is set; runs each claimed job to its end.
pub(crate) fn worker_loop(q: &Queue, host: &str, stop: &AtomicBool) -> HostStats {
    // Up to two jobs per claim; with nothing to do, wait up to 100 ms for work. A
    // submit or resume wakes the wait at once (in another process within ~10 ms).
    let poll = PollOptions::default()
        .max(2)
        .wait(Duration::from_millis(100));
    let mut stats = HostStats::default();
    while !stop.load(Ordering::SeqCst) {
        match q.poll(host, &poll) {
            Ok(leases) => {
                for lease in &leases {
                    stats.runs += 1;
                    if let Err(e) = run_job(q, lease, &mut stats) {
                        stats.errors += 1;
                        eprintln!("{host}: job #{}: {}", lease.id, describe(&e));
                    }
                }
            }
            Err(e) => {
                stats.errors += 1;
                eprintln!("{host}: poll: {}", describe(&e));
                thread::sleep(Duration::from_millis(100));
            }
        }
    }
    stats
}

/// The handlers. Each works in a few steps; the end of a step is a safe point where
/// the host renews its lease and learns whether a user asked it to stop.
fn run_job(q: &Queue, lease: &Lease, stats: &mut HostStats) -> Result<(), Error> {
    let key = lease.key();
    let (steps, step_ms) = match lease.operation_type {
        SEND_EMAIL => (2, 6),
        RESIZE_IMAGE => (4, 10),
        SYNC_CRM => (2, 8),
        SQM => (8, 40),
        _ => {
            let report = Report::error(TYPE_NOT_RECOGNIZED_HRESULT, "no handler for this type");
            stats.record(q.fail(key, report)?, false);
            return Ok(());
        }
    };
    for _ in 0..steps {
        thread::sleep(Duration::from_millis(step_ms + lease.id as u64 % 5));
        // A real host renews once per renewal period (10 s by default); these jobs
        // are short, so the demo renews at every step, which also lets it notice a
        // Pause or Cancel within milliseconds.
        match q.renew(key)? {
            Status::Pausing => {
                stats.record(q.acknowledge_pause(key)?, true);
                return Ok(());
            }
            Status::Canceling => {
                stats.record(q.acknowledge_cancel(key)?, false);
                return Ok(());
            }
            _ => {}
        }
    }
    let status = match lease.data.as_slice() {
        b"flaky" if lease.attempt == 1 => q.retry(
            key,
            Report::error(E_TIMEOUT, "421 mail server busy; try again later"),
        )?,
        b"corrupt" => q.fail(
            key,
            Report::error(E_INVALID_DATA, "image header is corrupt"),
        )?,
        _ => q.complete(key)?,
    };
    stats.record(status, false);
    Ok(())
}

/// `demo --worker <file> <host-id>`: a host in its own process. It runs until its
/// stdin closes (the parent's way to stop it), then prints its stats line.
pub(crate) fn worker_process(path: &Path, host: &str) -> DemoResult<bool> {
    // Queue-wide settings (the back-off) are read from the file the parent set up.
    let q = Queue::open(path, Options::default())?;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            stop.store(true, Ordering::SeqCst);
        });
    }
    let stats = worker_loop(&q, host, &stop);
    q.close();
    println!("{}", stats.to_line());
    Ok(stats.errors == 0)
}
