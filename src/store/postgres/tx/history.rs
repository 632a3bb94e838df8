//! The statements of an attempt's records on `PgTx`: progress, a completed
//! run's output, and the attempt history. `write.rs` and `read.rs` delegate
//! the storage interface's commands here.

use super::*;
use crate::attempt::{Attempt, AttemptEnding, Progress};
use crate::error::{Error, Result};

impl PgTx<'_> {
    /// Writes the progress of row `id` (held by the caller). Not a change
    /// waiters care about: no `NOTIFY`. Unless durable, the commit does not
    /// wait for its WAL flush (`synchronous_commit = off`, for this
    /// transaction only): a server crash may lose the latest progress, never
    /// anything else.
    pub(super) fn write_progress(&self, id: i64, progress: &Progress) -> Result<()> {
        let sql = if progress.durable {
            "UPDATE operation SET progress = $2, progress_text = $3 WHERE id = $1 RETURNING 1"
        } else {
            "UPDATE operation SET progress = $2, progress_text = $3 \
             FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed \
             WHERE id = $1 RETURNING 1"
        };
        self.query_writing(sql, &[&id, &progress.percent, &progress.text])?;
        Ok(())
    }

    /// Writes (or clears) the output of row `id`.
    pub(super) fn write_output(&self, id: i64, output: Option<&[u8]>) -> Result<()> {
        self.execute(
            "UPDATE operation SET output = $2 WHERE id = $1",
            &[&id, &output],
        )?;
        Ok(())
    }

    /// Inserts `attempt` (once per lock token) and deletes the operation's
    /// attempts older than the newest `keep`.
    pub(super) fn insert_attempt(&self, attempt: &Attempt, keep: usize) -> Result<()> {
        self.execute(
            "INSERT INTO attempt (operation_id, lock_token, started_on, ended_on, host_id, \
                 ending, error_code, message, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (operation_id, lock_token) DO NOTHING",
            &[
                &attempt.operation_id,
                &attempt.lock_token,
                &attempt.started_on,
                &attempt.ended_on,
                &attempt.host_id,
                &attempt.ending.name(),
                &attempt.error_code,
                &attempt.message,
                &attempt.detail,
            ],
        )?;
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        self.execute(
            "DELETE FROM attempt WHERE operation_id = $1 AND lock_token <= ( \
                 SELECT lock_token FROM attempt WHERE operation_id = $1 \
                 ORDER BY lock_token DESC LIMIT 1 OFFSET $2)",
            &[&attempt.operation_id, &keep],
        )?;
        Ok(())
    }

    /// The kept attempts of `operation_id`, oldest first.
    pub(super) fn read_attempts(&self, operation_id: i64) -> Result<Vec<Attempt>> {
        let found = self.query(
            "SELECT operation_id, lock_token, started_on, ended_on, host_id, ending, \
                 error_code, message, detail \
             FROM attempt WHERE operation_id = $1 ORDER BY lock_token",
            &[&operation_id],
        )?;
        found
            .iter()
            .map(|r| {
                let ending: String = r.try_get(5)?;
                let ending = AttemptEnding::from_name(&ending).ok_or_else(|| {
                    Error::Corrupt(format!(
                        "a stored attempt is damaged: invalid ending {ending:?}"
                    ))
                })?;
                Ok(Attempt {
                    operation_id: r.try_get(0)?,
                    lock_token: r.try_get(1)?,
                    started_on: r.try_get(2)?,
                    ended_on: r.try_get(3)?,
                    host_id: r.try_get(4)?,
                    ending,
                    error_code: r.try_get(6)?,
                    message: r.try_get(7)?,
                    detail: r.try_get(8)?,
                })
            })
            .collect()
    }
}
