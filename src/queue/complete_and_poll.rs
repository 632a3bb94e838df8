//! One commit per job (§6.9): completing leases and claiming the next ones
//! for the same host in ONE write transaction, what a worker does between two
//! jobs. The completions are `complete_many`'s (`Queue::complete_many_in`),
//! the claim is `poll`'s (`Queue::claim_in`, with its maintenance): one rule
//! in one place, only the transaction is shared.

use super::Queue;
use super::claims::check_poll;
use crate::error::Result;
use crate::lease::{Lease, LeaseKey, PollOptions};
use crate::operation;
use crate::transition::{Outcome, Status};
use std::time::Instant;

impl Queue {
    /// Completes every lease in `keys` (3/30) and claims up to `options.max`
    /// operations for `host_id`, in one write transaction (one commit, one
    /// sync). Returns the completions' results in `keys` order, exactly as
    /// `complete_many` gives them (a lost lease gets its `LeaseLost` and does
    /// not hold back the others), and the new leases, exactly as a poll
    /// claims them (maintenance first, oldest eligible first, only
    /// `options.operation_types`, held types skipped). The claim runs after
    /// the completions, so it sees them: a completion that unblocks the next
    /// operation of its dependency token lets the same call claim it.
    ///
    /// Arguments are checked before the transaction: a bad id, host id or
    /// `max` is `InvalidArgument` and writes nothing (no completion either).
    /// The outer `Err` always means nothing was written. Empty `keys` is a
    /// plain `poll`.
    ///
    /// With `options.wait` and nothing to claim in the transaction, the
    /// completions are committed first and the call then waits like `poll`
    /// (until `wait` after the call began). An error while waiting (after the
    /// commit) ends the wait: the call still returns the completions'
    /// results, with no lease. Like `poll`, it runs the hourly purge after
    /// its claim.
    #[cfg_attr(feature = "tracing", tracing::instrument(target = "asyncop", level = "debug", name = "complete_and_poll", skip_all, fields(n = keys.len(), host = host_id, max = options.max)))]
    pub fn complete_and_poll(
        &self,
        keys: &[LeaseKey],
        host_id: &str,
        options: &PollOptions,
    ) -> Result<(Vec<Result<Status>>, Vec<Lease>)> {
        let store = self.open_store()?;
        for key in keys {
            operation::check_id(key.id)?;
        }
        check_poll(host_id, options)?;
        if keys.is_empty() {
            return Ok((Vec::new(), self.poll(host_id, options)?));
        }
        let types = options.operation_types.as_deref();
        let ids: Vec<i64> = keys.iter().map(|k| k.id).collect();
        let paused: Vec<_> = keys.iter().map(|k| self.inner.stops.pause(*k)).collect();
        let started = Instant::now();
        let written = store.write_rows(&ids, |tx| {
            let completed = self.complete_many_in(tx, keys)?;
            let claimed = self.claim_in(tx, host_id, options.max, types)?;
            Ok((completed, claimed))
        });
        for (key, paused) in keys.iter().zip(paused) {
            self.inner.stops.resume(*key, paused, written.is_ok());
        }
        let ((results, moves), claimed) = written?;
        let took = started.elapsed();
        self.observe_outcomes(Some(Outcome::Succeeded), &moves, took);
        self.observe_claim(&claimed.leases, &claimed.report, claimed.now, took);
        let (leases, more_due) = match options.wait {
            Some(wait) if claimed.leases.is_empty() && !claimed.more_due => self
                .wait_claim(host_id, options, started + wait, false)
                .unwrap_or_default(),
            _ => (claimed.leases, claimed.more_due),
        };
        self.upkeep_after_poll(host_id, more_due);
        Ok((results, leases))
    }
}
