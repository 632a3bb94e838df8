//! A worker's knobs, with the Python and C# workers' defaults and limits.

use crate::error::{Error, Result};
use std::time::Duration;

/// The default number of jobs one thread claims at once.
pub const DEFAULT_PREFETCH: u32 = 16;
/// The most jobs one thread may claim at once.
pub const MAX_PREFETCH: u32 = 256;
/// The most handler threads of one worker.
pub const MAX_THREADS: u32 = 1024;
/// The default time one poll waits for work; it bounds how soon idle threads
/// notice a stop.
pub const DEFAULT_POLL_WAIT: Duration = Duration::from_secs(1);

/// How a worker runs; checked by its setters, fixed once it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Config {
    pub(super) host_id: String,
    pub(super) threads: u32,
    pub(super) poll_wait: Duration,
    /// `None`: a third of the queue's lease.
    pub(super) renew_every: Option<Duration>,
    pub(super) prefetch: u32,
    pub(super) claim_unhandled: bool,
}

impl Config {
    pub(super) fn new(host_id: &str, threads: u32) -> Result<Config> {
        crate::lease::check_host_id(host_id)?;
        check_threads(threads)?;
        Ok(Config {
            host_id: host_id.to_owned(),
            threads,
            poll_wait: DEFAULT_POLL_WAIT,
            renew_every: None,
            prefetch: DEFAULT_PREFETCH,
            claim_unhandled: false,
        })
    }

    /// The renewal period for a queue whose lease is `lease`: the one set
    /// (more than 0, less than the lease) or a third of the lease.
    pub(super) fn renew_every(&self, lease: Duration) -> Result<Duration> {
        match self.renew_every {
            None => Ok((lease / 3).max(Duration::from_millis(1))),
            Some(every) if every < lease => Ok(every),
            Some(every) => Err(Error::InvalidArgument(format!(
                "renew_every ({} ms) must be less than the queue's lease ({} ms)",
                every.as_millis(),
                lease.as_millis()
            ))),
        }
    }
}

pub(super) fn check_threads(threads: u32) -> Result<()> {
    if !(1..=MAX_THREADS).contains(&threads) {
        return Err(Error::InvalidArgument(format!(
            "threads must be 1..={MAX_THREADS}, got {threads}"
        )));
    }
    Ok(())
}

pub(super) fn check_prefetch(prefetch: u32) -> Result<()> {
    if !(1..=MAX_PREFETCH).contains(&prefetch) {
        return Err(Error::InvalidArgument(format!(
            "prefetch must be 1..={MAX_PREFETCH}, got {prefetch}"
        )));
    }
    Ok(())
}

pub(super) fn check_poll_wait(wait: Duration) -> Result<()> {
    if wait.is_zero() {
        return Err(Error::InvalidArgument(
            "poll_wait must be at least 1 ms".into(),
        ));
    }
    Ok(())
}

pub(super) fn check_renew_every(every: Duration) -> Result<()> {
    if every.is_zero() {
        return Err(Error::InvalidArgument(
            "renew_every must be at least 1 ms".into(),
        ));
    }
    Ok(())
}
