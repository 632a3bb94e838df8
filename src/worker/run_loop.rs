//! A handler thread's loop: take the next claimed job (or claim new ones,
//! completing this thread's finished jobs in the same transaction), run it,
//! repeat until the worker stops; then complete what is left.

use super::job::Job;
use super::run_job::run_job;
use super::shared::Shared;
use super::stats::Count;
use crate::error::{Error, Result};
use crate::lease::PollOptions;
use crate::transition::Status;

/// The body of one handler thread.
pub(super) fn work_loop(shared: &Shared) {
    // This thread's successes, completed with its next claim.
    let mut done: Vec<Job> = Vec::new();
    while let Some(job) = next_job(shared, &mut done) {
        if run_job(shared, &job) {
            done.push(job);
        }
    }
    flush(shared, &mut done);
}

/// The next job to run: a claimed one not started yet, else the first of a
/// new claim (which also completes `done`; the rest of the batch is queued
/// for any idle thread). A thread that just finished claims at once without
/// waiting; when that finds nothing, one thread at a time waits in the
/// library for work and the others wait here. None: stop (the worker stops
/// and nothing is queued, or the queue is closed).
fn next_job(shared: &Shared, done: &mut Vec<Job>) -> Option<Job> {
    let mut fresh = true;
    loop {
        let waits = !fresh;
        {
            let mut turns = shared.turns.lock();
            if let Some(job) = turns.queued.pop_front() {
                return Some(job);
            }
            if shared.stopping() {
                return None;
            }
            if waits {
                if turns.claim_waiting {
                    shared.turns_changed.wait_for(&mut turns, shared.poll_wait);
                    continue;
                }
                turns.claim_waiting = true;
            }
        }
        let claimed = claim(shared, done, waits);
        if waits {
            let mut turns = shared.turns.lock();
            turns.claim_waiting = false;
            shared.turns_changed.notify_all();
        }
        let mut jobs = claimed?;
        if !jobs.is_empty() {
            let first = jobs.remove(0);
            let mut turns = shared.turns.lock();
            turns.queued.extend(jobs);
            shared.turns_changed.notify_all();
            return Some(first);
        }
        fresh = false;
    }
}

/// Completes `done` and claims up to `prefetch` jobs in one transaction
/// (waiting up to `poll_wait` for work if `wait`). None when the queue is
/// closed; on any other failure nothing was written and `done` is kept
/// (still renewed) for the next try.
fn claim(shared: &Shared, done: &mut Vec<Job>, wait: bool) -> Option<Vec<Job>> {
    let keys: Vec<_> = done.iter().map(Job::key).collect();
    let mut options = PollOptions::default().max(shared.prefetch);
    if wait {
        options = options.wait(shared.poll_wait);
    }
    if let Some(types) = &shared.types {
        options = options.operation_types(types.clone());
    }
    let (results, leases) = match shared
        .queue
        .complete_and_poll(&keys, &shared.host_id, &options)
    {
        Ok(claimed) => claimed,
        Err(Error::Closed) => return None,
        Err(Error::Busy) => return Some(Vec::new()),
        Err(_) => {
            shared.count(Count::Errors);
            // Back off: the next claim waits, and a stop wakes this one.
            let mut turns = shared.turns.lock();
            if !shared.stopping() {
                shared.turns_changed.wait_for(&mut turns, shared.poll_wait);
            }
            return Some(Vec::new());
        }
    };
    settle(shared, done, results);
    let mut jobs: Vec<Job> = leases
        .into_iter()
        .map(|lease| Job::new(&shared.queue, lease, shared.shutdown.clone()))
        .collect();
    for job in jobs.iter_mut().skip(1) {
        job.prefetched = true;
    }
    for job in &jobs {
        shared.track(job);
    }
    Some(jobs)
}

/// Counts and forgets the deferred successes of one committed batch.
fn settle(shared: &Shared, done: &mut Vec<Job>, results: Vec<Result<Status>>) {
    for (job, result) in done.iter().zip(results) {
        match result {
            Ok(_) => shared.count(Count::Completed),
            Err(Error::LeaseLost { .. }) => shared.count(Count::LeaseLost),
            Err(_) => shared.count(Count::Errors),
        }
        shared.forget(job);
    }
    done.clear();
}

/// Completes the deferred successes of a thread that ends.
fn flush(shared: &Shared, done: &mut Vec<Job>) {
    if done.is_empty() {
        return;
    }
    let keys: Vec<_> = done.iter().map(Job::key).collect();
    match shared.queue.complete_many(&keys) {
        Ok(results) => settle(shared, done, results),
        Err(_) => {
            // Not written: the leases expire and the jobs run again (at-least-once).
            let results = done.iter().map(|_| Err(Error::Busy)).collect();
            settle(shared, done, results);
        }
    }
}
