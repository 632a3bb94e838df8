//! The thread-safe public API. `Queue` is `Send + Sync` and a clone is a cheap
//! second reference to the same open queue. It asks `transition` what to write
//! and speaks to its store only through the storage interface (`store`).
//!
//! Every user call checks, in this order (§4): open (`Closed`) → arguments
//! (`InvalidArgument`) → row exists (`NotFound`) → restricted type → the
//! transition matrix → the write's compare-and-set (`InvalidStateChangeUnexpected`).
//!
//! - this module: opening, submitting, reading;
//! - `actions`: the user actions (§3.4, §4);
//! - `claims`: polls (waiting or not), the claim transaction, renewals;
//! - `outcomes`: host outcomes under a lease, `complete_many`;
//! - `complete_and_poll`: completions and the next claim in one transaction;
//! - `cleanup`: purge, the hourly purge after polls, auto-delete, held types.
//! - `stops`: the stop signals of running leases (§6.3).
//! - `upkeep`: maintenance on demand and `wait_for`.
//! - `observe`: the metrics and event hooks (`crate::metrics`).
//! - `records`: progress, a completed run's output, the attempt history.

mod actions;
mod claims;
mod cleanup;
mod complete_and_poll;
mod leader;
mod observe;
mod options;
mod outcomes;
mod records;
mod stops;
mod upkeep;

pub use cleanup::{PURGE_BATCH, PURGE_INTERVAL_MS, PURGE_LEADERSHIP};
pub use options::Options;
pub(crate) use records::expired_attempt;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::lease;
use crate::operation::{self, CountRow, Filter, Operation, OperationSpec};
use crate::settings::{Settings, SettingsUpdate};
use crate::stop::StopWatch;
use crate::store::postgres::{PgStore, is_postgres_target};
use crate::store::sqlite::SqliteStore;
use crate::store::{ChangeMark, NewOperation, Store};
use crate::transition;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    lease_ms: i64,
    settings: Settings,
    /// The hourly purge of this handle's polls (`cleanup`).
    purge: parking_lot::Mutex<cleanup::PurgeSchedule>,
    /// The leases whose stop signal this handle watches (§6.3).
    stops: StopWatch,
    /// The counters and histograms (`Queue::metrics`).
    metrics: crate::metrics::Metrics,
    /// The event hooks (`Queue::on_event`).
    hooks: crate::metrics::Hooks,
}

/// An open queue. Clone it to share it between threads.
#[derive(Debug, Clone)]
pub struct Queue {
    inner: Arc<Inner>,
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Queue>();
};

impl Queue {
    /// Opens (or creates) a queue. `target` is a file path (the SQLite store:
    /// fails with `Corrupt` and leaves the file untouched if it is not an
    /// asyncop database), or a PostgreSQL URL (`postgres://`, `postgresql://`)
    /// or key=value conninfo string (the PostgreSQL store, in the schema
    /// `Options::postgres.schema`, created or migrated on first use).
    pub fn open(target: impl AsRef<Path>, options: Options) -> Result<Queue> {
        lease::check_lease(options.lease)?;
        let update = options.settings_update();
        update.validate()?;
        let target = target.as_ref();
        let store: Box<dyn Store> = match target.to_str() {
            Some(t) if is_postgres_target(t) => {
                Box::new(PgStore::open(t, options.postgres.clone())?)
            }
            _ => Box::new(SqliteStore::open(
                target,
                options.sqlite,
                options.busy_timeout,
            )?),
        };
        Queue::with_store(store, &options, &update)
    }

    /// A queue over an open store: writes the settings of `update` and reads
    /// them all.
    fn with_store(
        store: Box<dyn Store>,
        options: &Options,
        update: &SettingsUpdate,
    ) -> Result<Queue> {
        let settings = if update.is_empty() {
            store.read(Settings::load)?
        } else {
            store.write(|tx| {
                update.write(tx)?;
                Settings::load(tx)
            })?
        };
        Ok(Queue {
            inner: Arc::new(Inner {
                store: Arc::from(store),
                clock: options.clock.clone(),
                lease_ms: lease::duration_ms(options.lease),
                settings,
                purge: parking_lot::Mutex::new(cleanup::PurgeSchedule::default()),
                stops: StopWatch::default(),
                metrics: Default::default(),
                hooks: Default::default(),
            }),
        })
    }

    /// Closes the queue for every clone of this handle; later calls give `Closed`.
    /// Idempotent.
    pub fn close(&self) {
        self.inner.store.close();
        self.inner.stops.shut_down(true);
    }

    /// Closes without closing the store's connections (they are leaked): for a
    /// forked child that inherited this handle, where a close could damage the
    /// parent's file.
    pub fn abandon(&self) {
        self.inner.store.abandon();
        self.inner.stops.shut_down(false);
    }

    /// Whether `close` or `abandon` ran (on any clone).
    pub fn is_closed(&self) -> bool {
        self.inner.store.is_closed()
    }

    /// The handle's clock reading: UTC ms since the epoch. With the system
    /// clock on a store that has a clock of its own (PostgreSQL), the store's
    /// (one round trip; the machine's clock if the store cannot be reached).
    pub fn now(&self) -> i64 {
        if self.inner.clock.is_system()
            && let Ok(Some(t)) = self.store().read(|tx| tx.now())
        {
            return t;
        }
        self.inner.clock.now_ms()
    }

    /// "Now" inside a transaction: the store's clock when it has one and the
    /// handle runs on the system clock, else the handle's clock.
    pub(crate) fn now_in(&self, tx: &dyn crate::store::Read) -> Result<i64> {
        Ok(self.clock_in(tx)?.0)
    }

    /// `now_in`, and whether it is the store's clock (a claim reads it again).
    pub(crate) fn clock_in(&self, tx: &dyn crate::store::Read) -> Result<(i64, bool)> {
        if self.inner.clock.is_system()
            && let Some(t) = tx.now()?
        {
            return Ok((t, true));
        }
        Ok((self.inner.clock.now_ms(), false))
    }

    /// The queue-wide settings read at open.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// What was opened, for messages and logs: the queue file's absolute path.
    pub fn target(&self) -> &str {
        self.inner.store.target()
    }

    /// Whether two handles are clones of one open queue.
    pub fn same_queue(a: &Queue, b: &Queue) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// The lease length of claims made through this handle, in ms.
    pub fn lease_ms(&self) -> i64 {
        self.inner.lease_ms
    }

    /// The store, for `testing` hooks.
    pub(crate) fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    fn open_store(&self) -> Result<&dyn Store> {
        if self.is_closed() {
            Err(Error::Closed)
        } else {
            Ok(self.store())
        }
    }

    fn is_restricted(&self, operation_type: i32) -> bool {
        self.inner
            .settings
            .restricted_types
            .contains(&operation_type)
    }

    // -- submitting -----------------------------------------------------------

    /// This queue's payload limit in bytes (`Settings::max_payload_bytes`).
    pub fn max_payload_bytes(&self) -> u64 {
        self.inner.settings.max_payload_bytes
    }

    /// `InvalidArgument` if a payload of `len` bytes exceeds this queue's limit.
    /// Submits check it; the C ABI checks it before copying the caller's data.
    pub fn check_payload_len(&self, len: usize) -> Result<()> {
        operation::check_payload_len(len, self.max_payload_bytes())
    }

    fn validate(&self, spec: &OperationSpec) -> Result<()> {
        spec.validate()?;
        self.check_payload_len(spec.data.len())
    }

    /// The new row of `spec` at `now`, as `transition::submit` decides it.
    /// A series (§8) starts at its `recurrence_start` (default now): as if
    /// postponed to it.
    fn new_row(spec: &OperationSpec, now: i64) -> NewOperation<'_> {
        let recurrence = spec
            .recurrence_pattern
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| (p, spec.recurrence_start.unwrap_or(now)));
        let postpone = match recurrence {
            Some((_, start)) => Some(start),
            None => spec.postpone_until,
        };
        let creation = transition::submit(postpone, now);
        NewOperation {
            spec,
            status: creation.status,
            postpone_until: creation.postpone_until,
            now,
            recurrence,
        }
    }

    /// Adds one operation; returns its id once committed (so it survives a crash).
    /// `InvalidArgument` (nothing written) for bad fields or data longer than
    /// `max_payload_bytes`.
    #[cfg_attr(feature = "tracing", tracing::instrument(target = "asyncop", level = "debug", name = "submit", skip_all, fields(operation_type = spec.operation_type)))]
    pub fn submit(&self, spec: &OperationSpec) -> Result<i64> {
        let store = self.open_store()?;
        self.validate(spec)?;
        let (id, status, now) = store.write(|tx| {
            let now = self.now_in(tx)?;
            let row = Queue::new_row(spec, now);
            Ok((tx.insert(&row)?, row.status, now))
        })?;
        self.observe_submits(&[(id, spec.operation_type, status)], now);
        Ok(id)
    }

    /// Adds several operations in one transaction: all or none. Ids are in `specs` order.
    /// One invalid spec (a bad field, data over `max_payload_bytes`) refuses the batch.
    pub fn submit_many(&self, specs: &[OperationSpec]) -> Result<Vec<i64>> {
        let store = self.open_store()?;
        for (i, spec) in specs.iter().enumerate() {
            self.validate(spec).map_err(|e| match e {
                Error::InvalidArgument(m) => Error::InvalidArgument(format!("spec {i}: {m}")),
                other => other,
            })?;
        }
        let (rows, now) = store.write(|tx| {
            let now = self.now_in(tx)?;
            let rows = specs
                .iter()
                .map(|spec| {
                    let row = Queue::new_row(spec, now);
                    Ok((tx.insert(&row)?, spec.operation_type, row.status))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((rows, now))
        })?;
        self.observe_submits(&rows, now);
        Ok(rows.into_iter().map(|(id, _, _)| id).collect())
    }

    // -- reading --------------------------------------------------------------

    /// The operation with this id, or `NotFound`.
    pub fn retrieve(&self, id: i64) -> Result<Operation> {
        let store = self.open_store()?;
        operation::check_id(id)?;
        store.read(|tx| tx.get(id))?.ok_or(Error::NotFound { id })
    }

    /// Operations matching `filter`, in ascending id (creation order).
    pub fn query(&self, filter: &Filter) -> Result<Vec<Operation>> {
        let store = self.open_store()?;
        if let (Some(state), Some(status)) = (filter.state, filter.status) {
            transition::check_state_status(state, status)?;
        }
        if let Some(t) = filter.operation_type {
            operation::check_operation_type(t)?;
        }
        store.read(|tx| tx.query(filter))
    }

    /// Every non-empty (state, status, operation_type) group with its size,
    /// and whether its type is held (one snapshot).
    pub fn counts(&self) -> Result<Vec<CountRow>> {
        self.open_store()?.read(|tx| {
            let held = tx.held_types()?;
            let mut rows = tx.counts()?;
            for row in &mut rows {
                row.held = held.iter().any(|h| h.operation_type == row.operation_type);
            }
            Ok(rows)
        })
    }

    /// A point in the store's history: pass it to `wait_change` to wait for
    /// the next commit after it (of any handle, process or host). Take the
    /// mark before reading, so a change between the read and the wait is not missed.
    pub fn change_mark(&self) -> Result<ChangeMark> {
        self.open_store()?.change_mark()
    }

    /// Blocks until a commit after `mark` or until `timeout` passes (no busy
    /// loop: the store's change signal). `false`: the timeout passed with no
    /// change. `true`: a change was seen, or may have been (PostgreSQL also
    /// wakes every few hundred ms to look, in case a notification was lost),
    /// so read again and compare. For readers that follow the queue, e.g.
    /// `asyncop watch`.
    pub fn wait_change(&self, mark: ChangeMark, timeout: Duration) -> Result<bool> {
        let store = self.open_store()?;
        store.wait_change(mark, Instant::now() + timeout)
    }

    /// Checks the store's structure (SQLite: `PRAGMA quick_check`, every page,
    /// record and NOT NULL/CHECK constraint; not index contents) on a read
    /// snapshot: `Ok(())`, or `Corrupt` with the first lines of the report.
    /// It reads the whole file, so its cost grows with the file; writers are not blocked.
    pub fn check_integrity(&self) -> Result<()> {
        self.open_store()?.read(|tx| tx.check_integrity())
    }
}
