//! The host side's claims (§6): polls (waiting or not), the claim
//! transaction with its maintenance (§6.4), and renewals. Outcomes are in
//! `outcomes`; the combined complete-and-claim in `complete_and_poll`.

use super::Queue;
use crate::error::{Error, Result};
use crate::lease::{self, Lease, LeaseKey, PollOptions};
use crate::maintenance::{self, MaintenanceReport};
use crate::operation;
use crate::store::{ClaimRequest, Renewal, Write};
use crate::transition::{self, ClaimMove, Status};
use std::time::{Duration, Instant};

/// What one claim inside a write transaction did.
pub(super) struct Claimed {
    /// The leases it took, oldest first.
    pub(super) leases: Vec<Lease>,
    /// The maintenance batch it ran first (§6.4).
    pub(super) report: MaintenanceReport,
    /// The transaction's now.
    pub(super) now: i64,
    /// The maintenance batch was full: more may be due (§6.4).
    pub(super) more_due: bool,
}

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
        self.upkeep_after_poll(host_id, more_due);
        Ok(leases)
    }

    /// What a poll does after its claim: the rest of a maintenance backlog
    /// (when the claim's batch was full) and the hourly purge.
    pub(super) fn upkeep_after_poll(&self, host_id: &str, more_due: bool) {
        if more_due {
            self.maintenance_after_poll();
        }
        self.purge_after_poll(host_id);
    }

    /// `poll` without the upkeep after it; also whether the last claim's
    /// maintenance batch was full (more may be due).
    fn poll_claim(&self, host_id: &str, options: &PollOptions) -> Result<(Vec<Lease>, bool)> {
        self.open_store()?;
        check_poll(host_id, options)?;
        let types = options.operation_types.as_deref();
        let Some(wait) = options.wait else {
            let claimed = self.claim(host_id, options.max, types)?;
            return Ok((claimed.leases, claimed.more_due));
        };
        self.wait_claim(host_id, options, Instant::now() + wait, true)
    }

    /// The waiting part of a poll: claims until `deadline`, woken by the
    /// change signal. With `first`, the first try claims at once; after that
    /// (and from the start without it) the write lock is taken only when a
    /// claim could succeed. Also returns whether the last claim's
    /// maintenance batch was full.
    pub(super) fn wait_claim(
        &self,
        host_id: &str,
        options: &PollOptions,
        deadline: Instant,
        mut first: bool,
    ) -> Result<(Vec<Lease>, bool)> {
        let store = self.open_store()?;
        let types = options.operation_types.as_deref();
        loop {
            // Taken before looking, so that a commit made while we look still wakes us.
            let mark = store.change_mark()?;
            if first || store.read(|tx| tx.may_have_work(self.now_in(tx)?, types))? {
                let Claimed {
                    leases, more_due, ..
                } = self.claim(host_id, options.max, types)?;
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
    fn claim(&self, host_id: &str, max: u32, types: Option<&[i32]>) -> Result<Claimed> {
        let started = Instant::now();
        let claimed = self
            .store()
            .write(|tx| self.claim_in(tx, host_id, max, types))?;
        self.observe_claim(
            &claimed.leases,
            &claimed.report,
            claimed.now,
            started.elapsed(),
        );
        Ok(claimed)
    }

    /// One claim inside a write transaction: maintenance (§6.4), then up to
    /// `max` eligible operations for `host_id`. The caller observes it
    /// (`observe_claim`) after the commit.
    pub(super) fn claim_in(
        &self,
        tx: &dyn Write,
        host_id: &str,
        max: u32,
        types: Option<&[i32]>,
    ) -> Result<Claimed> {
        let (now, store_clock) = self.clock_in(tx)?;
        let (report, more_due) = maintenance::run(tx, now, &self.inner.settings.retry)?;
        let change = ClaimMove::new(host_id, now, self.inner.lease_ms);
        let request = ClaimRequest {
            change: &change,
            max,
            types,
            store_clock,
        };
        let leases = tx
            .claim(&request)?
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
        Ok(Claimed {
            leases,
            report,
            now,
            more_due,
        })
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
}

/// The argument checks of a poll (before any transaction): the host id, and
/// `max` in 1..=`MAX_POLL`.
pub(super) fn check_poll(host_id: &str, options: &PollOptions) -> Result<()> {
    lease::check_host_id(host_id)?;
    if options.max == 0 || options.max > lease::MAX_POLL {
        return Err(Error::InvalidArgument(format!(
            "poll max must be 1..={}, got {}",
            lease::MAX_POLL,
            options.max
        )));
    }
    Ok(())
}
