//! How a worker thread runs one claimed job: its handler, then the outcome
//! the handler's [`JobOutcome`] maps to (or the stop of a prefetched job
//! that never started).

use super::job::{Job, JobOutcome};
use super::shared::Shared;
use super::stats::Count;
use crate::error::{Error, Result, TYPE_NOT_RECOGNIZED_HRESULT};
use crate::lease::Report;
use crate::transition::Status;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Runs `job` and reports its outcome. True for a success without output,
/// whose completion waits for the thread's next claim (its lease stays
/// tracked and renewed until then).
pub(super) fn run_job(shared: &Shared, job: &Job) -> bool {
    let result = run_and_report(shared, job);
    let deferred = matches!(result, Ok(true));
    match result {
        Ok(_) => {}
        Err(Error::LeaseLost { .. }) => shared.count(Count::LeaseLost),
        Err(_) => shared.count(Count::Errors),
    }
    if !deferred {
        shared.forget(job);
    }
    deferred
}

fn run_and_report(shared: &Shared, job: &Job) -> Result<bool> {
    let queue = &shared.queue;
    let key = job.key();
    let Some(handler) = shared.handlers.get(job.lease.operation_type) else {
        let message = format!(
            "The operation type of the async operation was not recognized. (type {})",
            job.lease.operation_type
        );
        queue.fail(key, Report::error(TYPE_NOT_RECOGNIZED_HRESULT, message))?;
        shared.count(Count::Unrecognized);
        return Ok(false);
    };
    if job.prefetched && job.stop_requested() {
        // Paused, canceled, lost or shut down while it waited its turn: never run.
        stop_at_safe_point(shared, job, false)?;
        return Ok(false);
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| handler(job))).unwrap_or_else(|payload| {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown payload".into());
        JobOutcome::Retry(Report::message(format!("the handler panicked: {text}")))
    });
    // A lease handle's outcome ends the signal: the handler reported itself.
    let outcome = if job.signal.is_ended() {
        JobOutcome::Handled
    } else {
        outcome
    };
    match outcome {
        JobOutcome::Succeeded => return Ok(true),
        JobOutcome::SucceededWithOutput(output) => {
            match queue.complete_with_output(key, &output) {
                Ok(_) => {}
                // Refused before anything was written (too long): complete without it.
                Err(Error::InvalidArgument(_)) => {
                    queue.complete(key)?;
                }
                Err(e) => return Err(e),
            }
            shared.count(Count::Completed);
        }
        JobOutcome::Retry(report) => {
            queue.retry(key, report)?;
            shared.count(Count::Retried);
        }
        JobOutcome::Fail(report) => {
            queue.fail(key, report)?;
            shared.count(Count::Failed);
        }
        JobOutcome::Suspend(report) => {
            queue.suspend(key, report)?;
            shared.count(Count::Suspended);
        }
        JobOutcome::Stopped => stop_at_safe_point(shared, job, true)?,
        JobOutcome::Handled => shared.count(Count::Handled),
    }
    Ok(false)
}

/// Ends a job that stopped (or, `started` false, never ran): the latest
/// request wins (a pause may have become a cancel), read by a renewal.
fn stop_at_safe_point(shared: &Shared, job: &Job, started: bool) -> Result<()> {
    let queue = &shared.queue;
    let key = job.key();
    match queue.renew(key)? {
        Status::Canceling => {
            queue.acknowledge_cancel(key)?;
            shared.count(Count::Canceled);
        }
        Status::Pausing => {
            queue.acknowledge_pause(key)?;
            shared.count(Count::Paused);
        }
        _ if started => {
            let why = if job.shutdown_requested() {
                "worker shutdown"
            } else {
                "stop requested"
            };
            queue.retry(
                key,
                Report::message(format!("stopped before finishing ({why})")),
            )?;
            shared.count(Count::Retried);
        }
        _ => {
            // Given back by a stop past its timeout: claimable again at once;
            // the attempt counts, as for any released lease.
            let report = Report {
                message: Some("released before it started (worker shutdown)".into()),
                retry_at: Some(queue.now()),
                ..Default::default()
            };
            queue.retry(key, report)?;
            shared.count(Count::Released);
        }
    }
    Ok(())
}
