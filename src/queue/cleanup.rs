//! Clean-up (§10) and held types (§6.7): `purge` in short batches, the hourly
//! purge that polls run after their claim, auto-delete on success, and
//! holding and releasing whole operation types.
//!
//! A purge deletes at most `PURGE_BATCH` rows per write transaction, found
//! by one range of the index of Completed rows (a cursor over
//! (`completed_on`, `id`), so no row is walked twice), each batch committed
//! on its own: other writers get the write lock between batches.

use super::Queue;
use crate::error::Result;
use crate::lease::LeaseKey;
use crate::operation::{self, HeldType, Operation};
use crate::settings::LAST_PURGE_AT;
use crate::store::{CompletedPage, Lead, Store, Write};
use crate::transition;
use std::time::{Duration, Instant};

/// Rows one purge transaction examines (and deletes at most).
pub const PURGE_BATCH: u32 = 500;

/// The pause between two batches of `purge`: the write lock is free for it.
const BATCH_PAUSE: Duration = Duration::from_millis(1);

/// Maintenance starts a purge at most this often (by the store's clock).
pub const PURGE_INTERVAL_MS: i64 = 60 * 60 * 1000;

/// How often a handle looks whether the hourly purge is due (by its clock):
/// between looks, a poll costs nothing more.
const PURGE_CHECK_MS: i64 = 60 * 1000;

/// The leadership that runs the hourly purge on a store shared by hosts.
pub const PURGE_LEADERSHIP: &str = "purge";

/// How long the purge leadership lasts: the leader renews it at each hourly
/// purge; if it stops, another host takes over after this.
const PURGE_LEAD_TTL_MS: i64 = 2 * PURGE_INTERVAL_MS;

/// How long one poll spends on a running purge after its claim (at least
/// one batch): a large backlog is spread over the next polls.
const POLL_PURGE_BUDGET: Duration = Duration::from_millis(50);

/// The handle's part of the hourly purge: when to look again, and the purge
/// under way (its time and cursor), continued by the next polls.
#[derive(Debug, Default)]
pub(super) struct PurgeSchedule {
    next_check: i64,
    run: Option<PurgeRun>,
}

#[derive(Debug, Clone, Copy)]
struct PurgeRun {
    now: i64,
    after: Option<(i64, i64)>,
}

/// What one purge batch did.
struct Batch {
    deleted: u64,
    after: Option<(i64, i64)>,
    done: bool,
}

impl Queue {
    /// Deletes the Completed operations whose `completed_on` is older at `now`
    /// (UTC ms) than the retention of their status (§10), with their attempt
    /// history; returns how many were deleted. Runs in short transactions of
    /// at most `PURGE_BATCH` rows each, so other writers are not held up.
    /// Anyone may call it at any time; hosts also run it hourly (see `poll`).
    pub fn purge(&self, now: i64) -> Result<u64> {
        self.purge_with_progress(now, |_| {})
    }

    /// `purge`, calling `progress` with the number deleted so far after each
    /// committed batch (for a progress bar, e.g. `asyncop purge`).
    pub fn purge_with_progress(&self, now: i64, mut progress: impl FnMut(u64)) -> Result<u64> {
        let store = self.open_store()?;
        let mut run = PurgeRun { now, after: None };
        let mut deleted = 0;
        loop {
            let batch = self.purge_batch(store, run)?;
            deleted += batch.deleted;
            progress(deleted);
            if batch.done {
                return Ok(deleted);
            }
            run.after = batch.after;
            // Let writers that wait for the lock (other processes retry
            // every millisecond at most) take it before the next batch.
            std::thread::sleep(BATCH_PAUSE);
        }
    }

    /// One purge transaction: a page of Completed rows older than the latest
    /// cutoff, of which the due ones are deleted.
    fn purge_batch(&self, store: &dyn Store, run: PurgeRun) -> Result<Batch> {
        let policy = self.inner.settings.retention;
        let Some(before) = policy.latest_cutoff(run.now) else {
            return Ok(Batch {
                deleted: 0,
                after: None,
                done: true,
            });
        };
        store
            .write(|tx| {
                let page = tx.completed_page(&CompletedPage {
                    before,
                    after: run.after,
                    limit: PURGE_BATCH,
                })?;
                let due: Vec<i64> = page
                    .iter()
                    .filter(|r| policy.is_due(r.status, Some(r.completed_on), run.now))
                    .map(|r| r.id)
                    .collect();
                let deleted = tx.delete_completed(&due)?;
                Ok(Batch {
                    deleted: u64::try_from(deleted).unwrap_or(u64::MAX),
                    after: page.last().map(|r| (r.completed_on, r.id)),
                    done: page.len() < PURGE_BATCH as usize,
                })
            })
            .inspect(|batch| self.observe_purge(batch.deleted, run.now))
    }

    /// The hourly purge, after a poll's claim (never inside it): looks at most
    /// once a minute whether it is due, starts it when this host may, and
    /// runs batches for up to `POLL_PURGE_BUDGET`; the rest is left to the
    /// next polls. Errors are left for the next poll: the claim stands.
    pub(super) fn purge_after_poll(&self, host_id: &str) {
        if !self.inner.settings.cleanup_enabled {
            return;
        }
        // Another thread of this handle is on it.
        let Some(mut schedule) = self.inner.purge.try_lock() else {
            return;
        };
        let store = self.store();
        if schedule.run.is_none() {
            let now = self.inner.clock.now_ms();
            if now < schedule.next_check {
                return;
            }
            schedule.next_check = now.saturating_add(PURGE_CHECK_MS);
            match self.start_purge(store, host_id) {
                Ok(Some(at)) => {
                    schedule.run = Some(PurgeRun {
                        now: at,
                        after: None,
                    })
                }
                _ => return,
            }
        }
        let started = Instant::now();
        while let Some(run) = schedule.run {
            match self.purge_batch(store, run) {
                Ok(batch) if batch.done => schedule.run = None,
                Ok(batch) => {
                    schedule.run = Some(PurgeRun {
                        after: batch.after,
                        ..run
                    })
                }
                Err(_) => return,
            }
            if started.elapsed() >= POLL_PURGE_BUDGET {
                return;
            }
        }
    }

    /// Starts the hourly purge if it is due by the store's clock
    /// (`last_purge_at` an hour or more ago) and, on a store shared by hosts
    /// (one with a clock of its own), this host leads `PURGE_LEADERSHIP`.
    /// Returns the purge's time, written as the new `last_purge_at`.
    fn start_purge(&self, store: &dyn Store, host_id: &str) -> Result<Option<i64>> {
        let last_purge = |tx: &dyn crate::store::Read| -> Result<i64> {
            Ok(tx
                .setting(LAST_PURGE_AT)?
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0))
        };
        let due = store
            .read(|tx| Ok(self.now_in(tx)?.saturating_sub(last_purge(tx)?) >= PURGE_INTERVAL_MS))?;
        if !due {
            return Ok(None);
        }
        store.write(|tx| {
            let (now, store_clock) = self.clock_in(tx)?;
            if tx.now()?.is_some() {
                let lead = Lead {
                    name: PURGE_LEADERSHIP,
                    holder: host_id,
                    now,
                    ttl_ms: PURGE_LEAD_TTL_MS,
                    store_clock,
                };
                if !tx.lead(&lead)? {
                    return Ok(None);
                }
            }
            if now.saturating_sub(last_purge(tx)?) < PURGE_INTERVAL_MS {
                return Ok(None);
            }
            tx.set_setting(LAST_PURGE_AT, &now.to_string())?;
            Ok(Some(now))
        })
    }

    /// Writes a host outcome's row, or deletes it (and its attempt history)
    /// when auto-delete applies (§10); false when the row moved meanwhile.
    pub(super) fn write_outcome(
        &self,
        tx: &dyn Write,
        key: LeaseKey,
        row: &Operation,
        next: &Operation,
    ) -> Result<bool> {
        if self.auto_deletes(row, next) {
            tx.delete(row)
        } else {
            tx.update_held(key, row, next)
        }
    }

    /// Whether the outcome `row` → `next` deletes the row instead (§10).
    pub(super) fn auto_deletes(&self, row: &Operation, next: &Operation) -> bool {
        transition::auto_deletes(
            row.operation_type,
            row.recurrence_pattern.is_some(),
            next.status,
            &self.inner.settings.auto_delete_types,
        )
    }

    // -- held types -----------------------------------------------------------

    /// Holds every operation of `operation_type` (§6.7): claims of every
    /// handle, process and host skip them from the commit on, and they keep
    /// their place and state; running ones are not touched. Restricted types
    /// can be held. Holding a held type changes nothing.
    pub fn hold_type(&self, operation_type: i32) -> Result<()> {
        let store = self.open_store()?;
        operation::check_operation_type(operation_type)?;
        store.write(|tx| {
            let now = self.now_in(tx)?;
            tx.hold_type(operation_type, now).map(drop)
        })
    }

    /// Releases a held type: its operations are claimable again, in their
    /// order, and waiting polls wake. Releasing a type not held changes nothing.
    pub fn release_type(&self, operation_type: i32) -> Result<()> {
        let store = self.open_store()?;
        operation::check_operation_type(operation_type)?;
        store.write(|tx| tx.release_type(operation_type).map(drop))
    }

    /// The held types with the time each was held, by type.
    pub fn held_types(&self) -> Result<Vec<HeldType>> {
        self.open_store()?.read(|tx| tx.held_types())
    }
}
