//! A running attempt's records: progress reports under a lease, the output a
//! completed run stores, and the history of attempts that ended in an error.

use super::Queue;
use crate::attempt::{self, ATTEMPTS_KEPT, Attempt, AttemptEnding, Progress};
use crate::error::{Error, Result};
use crate::lease::{self, LeaseKey, Report};
use crate::operation::{self, Operation};
use crate::store::Write;
use crate::transition::{self, ErrorFields, Outcome, Status};

/// What a host outcome leaves besides the row, in the same transaction.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Records<'a> {
    /// The attempt goes into the history with this ending.
    ending: Option<AttemptEnding>,
    /// The run completed: its output replaces the last run's (`None` clears it).
    output: Option<Option<&'a [u8]>>,
    /// The outcome reported, for the metrics.
    outcome: Option<Outcome>,
}

impl<'a> Records<'a> {
    /// The records of `outcome`: an error is kept in the history
    /// (`transition::attempt_ending`); a completion writes its output.
    pub(super) fn of(outcome: Outcome) -> Records<'a> {
        Records {
            ending: transition::attempt_ending(outcome),
            output: (outcome == Outcome::Succeeded).then_some(None),
            outcome: Some(outcome),
        }
    }

    /// The outcome reported (`None`: a plain completion's records).
    pub(super) fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// A completion that stores `output`.
    fn with_output(mut self, output: &'a [u8]) -> Records<'a> {
        self.output = Some(Some(output));
        self
    }
}

impl Queue {
    /// Reports the progress of a running attempt under its live lease
    /// (fenced like every host call: `LeaseLost` for a stale token) and
    /// returns the operation's status (`InProgress`, or `Pausing`/`Canceling`
    /// when a user asked the host to stop). `percent` outside 0..=100, or a
    /// text over `MAX_PROGRESS_TEXT_CHARS` characters, is `InvalidArgument`.
    /// The write wakes no waiting poll and, unless `progress.durable`, is not
    /// synced on its own (see `Progress::durable`); it does not renew the lease.
    pub fn report_progress(&self, key: LeaseKey, progress: &Progress) -> Result<Status> {
        let store = self.open_store()?;
        operation::check_id(key.id)?;
        progress.check()?;
        store.write_progress(&[key.id], progress.durable, |tx| {
            let now = self.now_in(tx)?;
            let row = lease::held(tx.get(key.id)?, key, now)?;
            tx.set_progress(key.id, progress)?;
            Ok(row.status)
        })
    }

    /// `complete`, storing `output` (at most `MAX_OUTPUT_BYTES`, else
    /// `InvalidArgument` and nothing is written) as the operation's output.
    /// For a recurring series, each run's output replaces the last run's.
    pub fn complete_with_output(&self, key: LeaseKey, output: &[u8]) -> Result<Status> {
        self.open_store()?;
        attempt::check_output(output)?;
        let records = Records::of(Outcome::Succeeded).with_output(output);
        self.host_outcome(key, &transition::complete, Report::default(), records)
    }

    /// The kept attempts of operation `id` that ended in an error (at most
    /// `ATTEMPTS_KEPT`, the newest), oldest first; `NotFound` when there is no
    /// such operation. A later success does not erase them; deleting the
    /// operation does.
    pub fn attempts(&self, id: i64) -> Result<Vec<Attempt>> {
        let store = self.open_store()?;
        operation::check_id(id)?;
        store.read(|tx| {
            if tx.get(id)?.is_none() {
                return Err(Error::NotFound { id });
            }
            tx.attempts(id)
        })
    }

    /// After a host outcome moved `row` to `next` under `key`: its records.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn keep_records(
        &self,
        tx: &dyn Write,
        key: LeaseKey,
        row: &Operation,
        next: &Operation,
        errors: &ErrorFields,
        detail: Option<&str>,
        records: &Records<'_>,
    ) -> Result<()> {
        if let Some(ending) = records.ending {
            let mut attempt = ended_attempt(row, ending, next.modified_on, errors);
            attempt.lock_token = key.lock_token;
            attempt.detail = detail.map(str::to_owned);
            tx.record_attempt(&attempt, ATTEMPTS_KEPT)?;
        }
        if let Some(output) = records.output
            && (output.is_some() || row.output.is_some())
        {
            tx.set_output(row.id, output)?;
        }
        Ok(())
    }
}

/// The history's record of `row`'s attempt whose lease expired, as
/// maintenance recovered it at `now` with `errors`.
pub(crate) fn expired_attempt(row: &Operation, now: i64, errors: &ErrorFields) -> Attempt {
    ended_attempt(row, AttemptEnding::Expired, now, errors)
}

/// `row`'s current attempt (its lock token, start and host) as it ended at
/// `ended_on` with `errors`; no detail.
fn ended_attempt(
    row: &Operation,
    ending: AttemptEnding,
    ended_on: i64,
    errors: &ErrorFields,
) -> Attempt {
    Attempt {
        operation_id: row.id,
        lock_token: row.lock_token,
        started_on: row.started_on,
        ended_on,
        host_id: row.host_id.clone(),
        ending,
        error_code: errors.error_code,
        message: errors.message.clone(),
        detail: None,
    }
}
