//! The host side (§6): polls and claims, renewals, outcomes under a lease,
//! maintenance, and waiting for an operation to finish. Every move is decided
//! by `transition::host`; the fencing rule is `lease::held`.

use super::Queue;
use super::records::Records;
use crate::error::{Error, Result};
use crate::lease::{self, Lease, LeaseKey, PollOptions, Report};
use crate::maintenance;
use crate::operation::{self, Operation};
use crate::store::{ClaimRequest, HeldMove, Renewal, Write};
use crate::transition::{self, Change, ClaimMove, ErrorFields, Outcome, OutcomeContext, Status};
use std::time::{Duration, Instant};

/// The outcome rule of one host call: `transition::report` for one outcome,
/// or one of its named forms (`transition::complete`, ...).
type Decide<'a> = &'a (dyn Fn(Status, OutcomeContext) -> Option<Change> + Sync);

impl Queue {
    /// Claims up to `options.max` eligible operations for `host_id`, oldest
    /// first. With `options.wait`, waits up to that long for work: a submit or
    /// resume in this process wakes it at once, one in another process within
    /// about 1 ms. Each claim transaction first runs maintenance (§6.4).
    ///
    /// A poll also runs, after its claim and in short transactions of their
    /// own, the rest of a maintenance backlog that one batch did not clear
    /// (§6.4) and the hourly purge (§10, see `Queue::purge`).
    #[cfg_attr(feature = "tracing", tracing::instrument(target = "asyncop", level = "debug", name = "poll", skip_all, fields(host = host_id, max = options.max)))]
    pub fn poll(&self, host_id: &str, options: &PollOptions) -> Result<Vec<Lease>> {
        let (leases, more_due) = self.poll_claim(host_id, options)?;
        if more_due {
            self.maintenance_after_poll();
        }
        self.purge_after_poll(host_id);
        Ok(leases)
    }

    /// `poll` without the purge; also whether the last claim's maintenance
    /// batch was full (more may be due).
    fn poll_claim(&self, host_id: &str, options: &PollOptions) -> Result<(Vec<Lease>, bool)> {
        let store = self.open_store()?;
        lease::check_host_id(host_id)?;
        if options.max == 0 || options.max > lease::MAX_POLL {
            return Err(Error::InvalidArgument(format!(
                "poll max must be 1..={}, got {}",
                lease::MAX_POLL,
                options.max
            )));
        }
        let types = options.operation_types.as_deref();
        let Some(wait) = options.wait else {
            return self.claim(host_id, options.max, types);
        };
        let deadline = Instant::now() + wait;
        let mut first = true;
        loop {
            // Taken before looking, so that a commit made while we look still wakes us.
            let mark = store.change_mark()?;
            // After the first try, take the write lock only when a claim could succeed.
            if first || store.read(|tx| tx.may_have_work(self.now_in(tx)?, types))? {
                let (leases, more_due) = self.claim(host_id, options.max, types)?;
                if !leases.is_empty() || (more_due && Instant::now() >= deadline) {
                    return Ok((leases, more_due));
                }
                if more_due {
                    // Due work remains unpromoted: look again at once (§6.4).
                    continue;
                }
            }
            first = false;
            if Instant::now() >= deadline {
                return Ok((Vec::new(), false));
            }
            // Time alone can make work due (a postponed row, an expired lease).
            let due = store
                .read(|tx| match tx.next_due()? {
                    Some(t) => Ok(Some(t.saturating_sub(self.now_in(tx)?))),
                    None => Ok(None),
                })?
                .map(|in_ms| {
                    let wait_ms = u64::try_from(in_ms).unwrap_or(0);
                    Instant::now() + Duration::from_millis(wait_ms)
                });
            store.wait_change(mark, due.map_or(deadline, |d| d.min(deadline)))?;
        }
    }

    #[cfg_attr(feature = "tracing", tracing::instrument(target = "asyncop", level = "debug", name = "claim", skip_all, fields(host = host_id, max)))]
    fn claim(&self, host_id: &str, max: u32, types: Option<&[i32]>) -> Result<(Vec<Lease>, bool)> {
        let started = Instant::now();
        let (claimed, (report, more_due), now) = self.store().write(|tx| {
            let (now, store_clock) = self.clock_in(tx)?;
            let report = maintenance::run(tx, now, &self.inner.settings.retry)?;
            let change = ClaimMove::new(host_id, now, self.inner.lease_ms);
            let request = ClaimRequest {
                change: &change,
                max,
                types,
                store_clock,
            };
            Ok((tx.claim(&request)?, report, now))
        })?;
        let took = started.elapsed();
        let leases: Vec<Lease> = claimed
            .into_iter()
            .map(|c| Lease {
                id: c.id,
                lock_token: c.lock_token,
                host_id: host_id.to_owned(),
                operation_type: c.operation_type,
                name: c.name,
                data: c.data,
                attempt: c.retry_count.saturating_add(1),
                expires_at: c.lease_expires_at,
                dependency_token: c.dependency_token,
                correlation_id: c.correlation_id,
            })
            .collect();
        self.observe_claim(&leases, &report, now, took);
        Ok((leases, more_due))
    }

    /// Extends the lease by the lease length from now and returns the current
    /// status: `InProgress`, or `Pausing`/`Canceling` when a user asked the host
    /// to stop at its next safe point (then report Suspended or Canceled).
    #[cfg_attr(feature = "tracing", tracing::instrument(target = "asyncop", level = "debug", name = "renew", skip_all, fields(id = key.id, lock_token = key.lock_token)))]
    pub fn renew(&self, key: LeaseKey) -> Result<Status> {
        let store = self.open_store()?;
        operation::check_id(key.id)?;
        store.write(|tx| {
            let now = self.now_in(tx)?;
            let renewal = Renewal {
                key,
                now,
                lease_expires_at: now.saturating_add(self.inner.lease_ms),
            };
            match tx.renew(&renewal)?.and_then(transition::renew) {
                Some(status) => Ok(status),
                None => Err(lease::held(tx.get(key.id)?, key, now)
                    .err()
                    .unwrap_or_else(|| lease::lost(key, "the lease is not live".into()))),
            }
        })
    }

    /// Reports an outcome under a live lease (§3.2); returns the new status.
    pub fn report(&self, key: LeaseKey, outcome: Outcome, report: Report) -> Result<Status> {
        let decide = |s, ctx| transition::report(s, outcome, ctx);
        self.host_outcome(key, &decide, report, Records::of(outcome))
    }

    /// One host outcome decided by `decide`, leaving `records` (the attempt
    /// history, the output) in the same transaction.
    #[cfg_attr(feature = "tracing", tracing::instrument(target = "asyncop", level = "debug", name = "commit", skip_all, fields(id = key.id, lock_token = key.lock_token)))]
    pub(super) fn host_outcome(
        &self,
        key: LeaseKey,
        decide: Decide<'_>,
        report: Report,
        records: Records<'_>,
    ) -> Result<Status> {
        let store = self.open_store()?;
        operation::check_id(key.id)?;
        let detail = report.detail.map(operation::truncate_message);
        // Texts are cut before the write lock is taken, not while it is held.
        let errors = ErrorFields {
            error_code: report.error_code,
            message: report.message.map(operation::truncate_message),
            friendly_message: report.friendly_message.map(operation::truncate_message),
        };
        let started = Instant::now();
        let (row, next) = self.outcome_of(key, || {
            store.write_rows(&[key.id], |tx| {
                let (row, next) = self.report_in(tx, key, decide, &errors, report.retry_at)?;
                self.keep_records(tx, key, &row, &next, &errors, detail.as_deref(), &records)?;
                Ok((row, next))
            })
        })?;
        let status = next.status;
        self.observe_outcomes(records.outcome(), &[(row, next)], started.elapsed());
        Ok(status)
    }

    /// A host outcome inside a write transaction: the row as read and as written.
    fn report_in(
        &self,
        tx: &dyn Write,
        key: LeaseKey,
        decide: Decide<'_>,
        errors: &ErrorFields,
        retry_at: Option<i64>,
    ) -> Result<(Operation, Operation)> {
        let now = self.now_in(tx)?;
        let row = lease::held(tx.get(key.id)?, key, now)?;
        let next = self.decide_outcome(&row, key, decide, errors, retry_at, now)?;
        if self.write_outcome(tx, key, &row, &next)? {
            Ok((row, next))
        } else {
            Err(outcome_lost(key, &row))
        }
    }

    /// The row a host outcome leaves, or `LeaseLost` when none applies.
    fn decide_outcome(
        &self,
        row: &Operation,
        key: LeaseKey,
        decide: Decide<'_>,
        errors: &ErrorFields,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<Operation> {
        let ctx = OutcomeContext {
            recurring: row
                .recurrence_pattern
                .as_deref()
                .is_some_and(|p| !p.trim().is_empty()),
            next_occurrence: next_occurrence(row, now)?,
            retry: self
                .inner
                .settings
                .retry
                .plan(row.retry_count, now, retry_at),
        };
        let change = decide(row.status, ctx).ok_or_else(|| outcome_lost(key, row))?;
        let one_shot = OutcomeContext {
            recurring: false,
            ..ctx
        };
        if let Some(message) = transition::series_ended(&ctx, decide(row.status, one_shot)) {
            let ended = ErrorFields {
                message: Some(message),
                ..ErrorFields::default()
            };
            return Ok(transition::apply(row, &change, now, Some(&ended)));
        }
        Ok(transition::apply(row, &change, now, Some(errors)))
    }

    /// Completes every lease (3/30) in one transaction. A lease that was lost
    /// gets its `LeaseLost` in the result and does not hold the others back:
    /// each completion is one compare-and-set `UPDATE`, so a refused one wrote
    /// nothing (no savepoint needed). The outer `Err` means nothing was written
    /// (closed, busy, I/O). Results are in `keys` order.
    #[cfg_attr(feature = "tracing", tracing::instrument(target = "asyncop", level = "debug", name = "commit_many", skip_all, fields(n = keys.len())))]
    pub fn complete_many(&self, keys: &[LeaseKey]) -> Result<Vec<Result<Status>>> {
        let store = self.open_store()?;
        for key in keys {
            operation::check_id(key.id)?;
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let none = ErrorFields::default();
        let ids: Vec<i64> = keys.iter().map(|k| k.id).collect();
        let paused: Vec<_> = keys.iter().map(|k| self.inner.stops.pause(*k)).collect();
        let started = Instant::now();
        let results = store.write_rows(&ids, |tx| {
            let now = self.now_in(tx)?;
            // Decide each first, then write them all in one compare-and-set
            // (one statement on a server). A key repeated in the batch finds
            // its operation completed by the first: LeaseLost, as one by one.
            let mut results: Vec<Option<Result<Status>>> = vec![None; keys.len()];
            let mut rows = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for (i, &key) in keys.iter().enumerate() {
                let decided = lease::held(tx.get(key.id)?, key, now).and_then(|row| {
                    let next =
                        self.decide_outcome(&row, key, &transition::complete, &none, None, now)?;
                    Ok((row, next))
                });
                match decided {
                    Ok(_) if !seen.insert(key.id) => {
                        let why = "it was completed earlier in this batch".to_owned();
                        results[i] = Some(Err(lease::lost(key, why)));
                    }
                    Ok(pair) => rows.push((i, key, pair)),
                    Err(lost @ Error::LeaseLost { .. }) => results[i] = Some(Err(lost)),
                    // Anything else is the store failing: give up the whole batch.
                    Err(e) => return Err(e),
                }
            }
            // Auto-deleted successes (§10) are deleted one by one; the rest
            // are written in one batch.
            let (deleted, kept): (Vec<_>, Vec<_>) = rows
                .iter()
                .partition(|(_, _, (row, next))| self.auto_deletes(row, next));
            let moves: Vec<HeldMove<'_>> = kept
                .iter()
                .map(|(_, key, (row, next))| HeldMove {
                    key: *key,
                    cur: row,
                    next: next.clone(),
                })
                .collect();
            let mut written = tx.update_held_many(&moves)?;
            for (_, _, (row, _)) in &deleted {
                written.push(tx.delete(row)?);
            }
            let completed = Records::of(Outcome::Succeeded);
            let mut moves = Vec::new();
            for ((i, key, (row, next)), done) in kept.iter().chain(&deleted).zip(written) {
                if done {
                    self.keep_records(tx, *key, row, next, &none, None, &completed)?;
                    moves.push((row.clone(), next.clone()));
                }
                results[*i] = Some(if done {
                    Ok(next.status)
                } else {
                    Err(outcome_lost(*key, row))
                });
            }
            let results = results
                .into_iter()
                .map(|r| {
                    r.unwrap_or_else(|| Err(Error::Internal("a batch result is missing".into())))
                })
                .collect();
            Ok((results, moves))
        });
        for (key, paused) in keys.iter().zip(paused) {
            self.inner.stops.resume(*key, paused, results.is_ok());
        }
        let (results, moves) = results?;
        self.observe_outcomes(Some(Outcome::Succeeded), &moves, started.elapsed());
        Ok(results)
    }

    /// The work finished: 3/30.
    pub fn complete(&self, key: LeaseKey) -> Result<Status> {
        let records = Records::of(Outcome::Succeeded);
        self.host_outcome(key, &transition::complete, Report::default(), records)
    }

    /// The work failed for good: 3/31.
    pub fn fail(&self, key: LeaseKey, report: Report) -> Result<Status> {
        self.host_outcome(key, &transition::fail, report, Records::of(Outcome::Failed))
    }

    /// A retryable failure: 1/10 until the back-off time, or 3/31 when the budget is spent.
    pub fn retry(&self, key: LeaseKey, report: Report) -> Result<Status> {
        self.host_outcome(
            key,
            &transition::fail_retryable,
            report,
            Records::of(Outcome::Retry),
        )
    }

    /// A suspend-class failure: 1/10 with no time set, until a user resumes it.
    pub fn suspend(&self, key: LeaseKey, report: Report) -> Result<Status> {
        let records = Records::of(Outcome::Suspended);
        self.host_outcome(key, &transition::suspend, report, records)
    }

    /// The host stopped after seeing Pausing: 1/10 (paused, or postponed until the requested time).
    pub fn acknowledge_pause(&self, key: LeaseKey) -> Result<Status> {
        let records = Records::of(Outcome::Suspended);
        self.host_outcome(
            key,
            &transition::acknowledge_pause,
            Report::default(),
            records,
        )
    }

    /// The host stopped after seeing Canceling: 3/32.
    pub fn acknowledge_cancel(&self, key: LeaseKey) -> Result<Status> {
        let records = Records::of(Outcome::Canceled);
        self.host_outcome(
            key,
            &transition::acknowledge_cancel,
            Report::default(),
            records,
        )
    }
}

/// `LeaseLost` for an outcome that no longer applies to `row`.
fn outcome_lost(key: LeaseKey, row: &Operation) -> Error {
    lease::lost(
        key,
        format!(
            "no outcome applies to status {} ({})",
            row.status.code(),
            transition::explain::pair_name(row.state.code(), row.status.code())
        ),
    )
}

/// A series' next occurrence strictly after `now` (§8: missed ones are
/// skipped); `None` for a one-shot operation, or a series with none left.
fn next_occurrence(row: &Operation, now: i64) -> Result<Option<i64>> {
    let Some(text) = row.recurrence_pattern.as_deref() else {
        return Ok(None);
    };
    let pattern = transition::recurrence::Pattern::parse(text)
        .map_err(|e| Error::Corrupt(format!("operation {}: stored {e}", row.id)))?;
    Ok(pattern.and_then(|p| p.next_after(row.recurrence_start.unwrap_or(row.created_on), now)))
}
