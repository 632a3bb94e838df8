//! The thread-safe public API over the store. `Queue` is `Send + Sync` and a
//! clone is a cheap second reference to the same open file.
//!
//! Every user call checks, in this order (§4): open (`Closed`) → arguments
//! (`InvalidArgument`) → row exists (`NotFound`) → restricted type → the
//! transition matrix → the write's compare-and-set (`InvalidStateChangeUnexpected`).

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::lease::{self, Lease, LeaseKey, PollOptions, Report};
use crate::maintenance::{self, MaintenanceReport, RetryPolicy};
use crate::operation::{self, CountRow, Filter, Operation, OperationSpec};
use crate::store::{self, Durability, ErrorFields, Store, StoreOptions};
use crate::transition::{self, Outcome, OutcomeContext, State, Status, Step};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The documented default of `restricted_types` (§9).
pub const DEFAULT_RESTRICTED_TYPES: [i32; 10] = [9, 16, 18, 19, 20, 22, 24, 25, 27, 31];

/// How to open a queue. Host settings (durability, timeouts, lease, clock) are
/// this handle's own. Queue-wide settings (`restricted_types`, retry budget,
/// back-off, `allow_delete_any`, `max_payload_bytes`) live in the file (§6.6): `None` keeps what the
/// file has (the defaults, on a new file); `Some` writes the value to the file,
/// where every handle opened afterwards, in any process, reads it.
#[derive(Debug, Clone)]
pub struct Options {
    pub durability: Durability,
    /// A write that cannot get the write lock within this time returns `Busy`.
    pub busy_timeout: Duration,
    /// Lease length of claims made through this handle (default 30 s).
    pub lease: Duration,
    pub clock: Arc<dyn Clock>,
    pub restricted_types: Option<Vec<i32>>,
    pub max_attempts: Option<i32>,
    pub backoff_base: Option<Duration>,
    pub backoff_cap: Option<Duration>,
    pub allow_delete_any: Option<bool>,
    /// Queue-wide payload limit in bytes: a submit whose data is longer is
    /// `InvalidArgument` and writes nothing. 1..=512 MiB
    /// ([`operation::MAX_PAYLOAD_BYTES_CEILING`]), else `InvalidArgument` at open;
    /// the default is 16 MiB ([`operation::DEFAULT_MAX_PAYLOAD_BYTES`]).
    pub max_payload_bytes: Option<u64>,
    /// Permission bits of a file this handle creates (the database; SQLite gives
    /// its `-wal` and `-shm` the same): `0o600` by default, so other local users
    /// cannot read payloads; `0o660` shares it with the file's group. Only
    /// read/write bits for owner and group are accepted; existing files keep theirs.
    pub file_mode: u32,
}

/// The default `Options::file_mode`: owner read/write only.
pub const DEFAULT_FILE_MODE: u32 = 0o600;

/// The bits `Options::file_mode` may have: read/write for owner and group.
pub const ALLOWED_FILE_MODE: u32 = 0o660;

/// Checks an `Options::file_mode`: only bits of `0o660`, and at least `0o600`
/// (the owner must be able to read and write its queue); else `InvalidArgument`.
pub fn check_file_mode(mode: u32) -> Result<()> {
    if mode & !ALLOWED_FILE_MODE != 0 || mode & DEFAULT_FILE_MODE != DEFAULT_FILE_MODE {
        return Err(Error::InvalidArgument(format!(
            "file_mode must include 0o600 and have no bits outside 0o660, got 0o{mode:o}"
        )));
    }
    Ok(())
}

impl Default for Options {
    fn default() -> Self {
        Options {
            durability: Durability::Full,
            busy_timeout: Duration::from_secs(5),
            lease: lease::DEFAULT_LEASE,
            clock: Arc::new(SystemClock),
            restricted_types: None,
            max_attempts: None,
            backoff_base: None,
            backoff_cap: None,
            allow_delete_any: None,
            max_payload_bytes: None,
            file_mode: DEFAULT_FILE_MODE,
        }
    }
}

/// Queue-wide settings as read from the file at open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub restricted_types: Vec<i32>,
    pub retry: RetryPolicy,
    pub allow_delete_any: bool,
    /// The payload limit in bytes (setting `max_payload_bytes`; 16 MiB when absent).
    pub max_payload_bytes: u64,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    lease_ms: i64,
    settings: Settings,
}

/// An open queue file. Clone it to share it between threads.
#[derive(Debug, Clone)]
pub struct Queue {
    inner: Arc<Inner>,
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Queue>();
};

fn parse_list(value: &str) -> Result<Vec<i32>> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| Error::Corrupt(format!("bad type list setting {value:?}")))
        })
        .collect()
}

fn parse_setting<T: std::str::FromStr>(key: &str, value: Option<String>, default: T) -> Result<T> {
    match value {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| Error::Corrupt(format!("bad setting {key} = {v:?}"))),
    }
}

fn load_settings(conn: &rusqlite::Connection, options: &Options) -> Result<Settings> {
    let list = |v: &[i32]| v.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
    if let Some(types) = &options.restricted_types {
        store::set_setting(conn, "restricted_types", &list(types))?;
    }
    if let Some(n) = options.max_attempts {
        if n < 1 {
            return Err(Error::InvalidArgument(format!(
                "max_attempts must be >= 1, got {n}"
            )));
        }
        store::set_setting(conn, "max_attempts", &n.to_string())?;
    }
    if let Some(d) = options.backoff_base {
        store::set_setting(conn, "backoff_base_ms", &lease::duration_ms(d).to_string())?;
    }
    if let Some(d) = options.backoff_cap {
        store::set_setting(conn, "backoff_cap_ms", &lease::duration_ms(d).to_string())?;
    }
    if let Some(b) = options.allow_delete_any {
        store::set_setting(conn, "allow_delete_any", if b { "1" } else { "0" })?;
    }
    if let Some(n) = options.max_payload_bytes {
        // Checked by `Queue::open` before the file was opened.
        store::set_setting(conn, "max_payload_bytes", &n.to_string())?;
    }
    let max_payload_bytes = parse_setting(
        "max_payload_bytes",
        store::setting(conn, "max_payload_bytes")?,
        operation::DEFAULT_MAX_PAYLOAD_BYTES,
    )?;
    if operation::check_max_payload_bytes(max_payload_bytes).is_err() {
        return Err(Error::Corrupt(format!(
            "bad setting max_payload_bytes = {max_payload_bytes}"
        )));
    }
    let defaults = RetryPolicy::default();
    let restricted_types = match store::setting(conn, "restricted_types")? {
        Some(v) => parse_list(&v)?,
        None => DEFAULT_RESTRICTED_TYPES.to_vec(),
    };
    Ok(Settings {
        restricted_types,
        retry: RetryPolicy {
            max_attempts: parse_setting(
                "max_attempts",
                store::setting(conn, "max_attempts")?,
                defaults.max_attempts,
            )?,
            backoff_base_ms: parse_setting(
                "backoff_base_ms",
                store::setting(conn, "backoff_base_ms")?,
                defaults.backoff_base_ms,
            )?,
            backoff_cap_ms: parse_setting(
                "backoff_cap_ms",
                store::setting(conn, "backoff_cap_ms")?,
                defaults.backoff_cap_ms,
            )?,
        },
        allow_delete_any: parse_setting::<i32>(
            "allow_delete_any",
            store::setting(conn, "allow_delete_any")?,
            0,
        )? != 0,
        max_payload_bytes,
    })
}

impl Queue {
    /// Opens (or creates) the queue file at `path`. Fails with `Corrupt` and
    /// leaves the file untouched if it is not an asyncop database.
    pub fn open(path: impl AsRef<Path>, options: Options) -> Result<Queue> {
        if options.lease.is_zero() {
            return Err(Error::InvalidArgument("lease must be longer than 0".into()));
        }
        check_file_mode(options.file_mode)?;
        if let Some(n) = options.max_payload_bytes {
            operation::check_max_payload_bytes(n)?;
        }
        let store = Store::open(
            path,
            StoreOptions {
                durability: options.durability,
                busy_timeout: options.busy_timeout,
                file_mode: options.file_mode,
            },
        )?;
        let writes_settings = options.restricted_types.is_some()
            || options.max_attempts.is_some()
            || options.backoff_base.is_some()
            || options.backoff_cap.is_some()
            || options.allow_delete_any.is_some()
            || options.max_payload_bytes.is_some();
        let settings = if writes_settings {
            store.write(|conn| load_settings(conn, &options))?
        } else {
            store.read(|conn| load_settings(conn, &options))?
        };
        Ok(Queue {
            inner: Arc::new(Inner {
                store,
                clock: options.clock,
                lease_ms: lease::duration_ms(options.lease),
                settings,
            }),
        })
    }

    /// Closes the file for every clone of this handle; later calls give `Closed`.
    /// Idempotent.
    pub fn close(&self) {
        self.inner.store.close();
    }

    /// Closes without closing the SQLite connections (they are leaked): for a
    /// forked child that inherited this handle, where a close could damage the
    /// parent's file.
    pub fn abandon(&self) {
        self.inner.store.abandon();
    }

    pub fn is_closed(&self) -> bool {
        self.inner.store.is_closed()
    }

    /// The handle's clock reading: UTC ms since the epoch.
    pub fn now(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn path(&self) -> &Path {
        self.inner.store.path()
    }

    /// The store, for callers that compose their own statements (tests, tools).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    fn open_store(&self) -> Result<&Store> {
        if self.is_closed() {
            Err(Error::Closed)
        } else {
            Ok(&self.inner.store)
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

    /// Adds one operation; returns its id once committed (so it survives a crash).
    /// `InvalidArgument` (nothing written) for bad fields or data longer than
    /// `max_payload_bytes`.
    pub fn submit(&self, spec: &OperationSpec) -> Result<i64> {
        let store = self.open_store()?;
        self.validate(spec)?;
        store.write(|conn| store::insert(conn, spec, self.now()))
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
        store.write(|conn| {
            let now = self.now();
            specs
                .iter()
                .map(|spec| store::insert(conn, spec, now))
                .collect()
        })
    }

    // -- reading --------------------------------------------------------------

    /// The operation with this id, or `NotFound`.
    pub fn retrieve(&self, id: i64) -> Result<Operation> {
        let store = self.open_store()?;
        operation::check_id(id)?;
        store
            .read(|conn| store::get(conn, id))?
            .ok_or(Error::NotFound { id })
    }

    /// Operations matching `filter`, in ascending id (creation order).
    pub fn query(&self, filter: &Filter) -> Result<Vec<Operation>> {
        let store = self.open_store()?;
        if let (Some(state), Some(status)) = (filter.state, filter.status)
            && status.state() != state
        {
            return Err(Error::InvalidArgument(format!(
                "{} is not a valid status code for state code AsyncOperationState.{state}",
                status.code()
            )));
        }
        store.read(|conn| store::query(conn, filter))
    }

    /// Every non-empty (state, status, operation_type) group with its size.
    pub fn counts(&self) -> Result<Vec<CountRow>> {
        self.open_store()?.read(store::counts)
    }

    /// Checks the file's structure with SQLite's `PRAGMA quick_check` (every
    /// page, record and NOT NULL/CHECK constraint; not index contents) on a read
    /// connection: `Ok(())`, or `Corrupt` with the first lines of the report.
    /// It reads the whole file, so its cost grows with the file; writers are not blocked.
    pub fn check_integrity(&self) -> Result<()> {
        self.open_store()?.read(store::quick_check)
    }

    // -- user actions (§3.4, §4) ----------------------------------------------

    /// Validates against a snapshot, then writes with compare-and-set on its
    /// (state, status): a change in between gives `InvalidStateChangeUnexpected`.
    fn user_action(
        &self,
        id: i64,
        decide: impl FnOnce(&Operation, bool) -> Result<Step>,
    ) -> Result<()> {
        let store = self.open_store()?;
        operation::check_id(id)?;
        let cur = store
            .read(|conn| store::get(conn, id))?
            .ok_or(Error::NotFound { id })?;
        let step = decide(&cur, self.is_restricted(cur.operation_type))?;
        let written = match step {
            Step::Unchanged => return Ok(()),
            // The write re-reads the row (§6.6): the move was decided on the snapshot's
            // (state, status), but the host's fields (lease, token, retries, errors) may
            // have moved on since, and must be kept as they are now.
            Step::Move(change) => store.write(|conn| match store::get(conn, id)? {
                Some(fresh) if (fresh.state, fresh.status) == (cur.state, cur.status) => {
                    let next = store::next_row(&fresh, &change, self.now(), None);
                    store::update(conn, &fresh, &next)
                }
                _ => Ok(false),
            })?,
            Step::Delete => store.write(|conn| store::delete(conn, &cur))?,
        };
        if written {
            Ok(())
        } else {
            Err(Error::InvalidStateChangeUnexpected)
        }
    }

    /// Cancel (U1–U3): Ready or Suspended → 3/32; Locked → 2/22 for the host to stop.
    pub fn cancel(&self, id: i64) -> Result<()> {
        self.user_action(id, |cur, restricted| {
            transition::cancel(cur.status, restricted)
        })
    }

    /// Pause (U4, U5): a running operation → 2/21; its host stops it into 1/10.
    pub fn pause(&self, id: i64) -> Result<()> {
        self.user_action(id, |cur, restricted| {
            transition::pause(cur.status, restricted)
        })
    }

    /// Resume (U6): Suspended → Ready at once.
    pub fn resume(&self, id: i64) -> Result<()> {
        self.user_action(id, |cur, restricted| {
            transition::resume(cur.status, restricted)
        })
    }

    /// Postpone until `until` (U7–U9); `until` must be later than now.
    pub fn postpone(&self, id: i64, until: i64) -> Result<()> {
        let now = self.now();
        self.open_store()?;
        operation::check_id(id)?;
        // An argument error: it precedes the row lookup in the check order.
        transition::check_postpone_time(until, now)?;
        self.user_action(id, |cur, restricted| {
            transition::postpone(cur.status, restricted, until, now)
        })
    }

    /// Delete (U10): only Completed rows, unless `allow_delete_any`.
    pub fn delete(&self, id: i64) -> Result<()> {
        let any = self.inner.settings.allow_delete_any;
        self.user_action(id, |cur, _| transition::delete(cur.status, any))
    }

    /// The design card's generic state change (§4): (0) Resume, (1) Pause,
    /// (3) or (3, 32) Cancel; (3, 30/31) and (2, ..) are refused.
    pub fn set_state(&self, id: i64, state: State, status: Option<Status>) -> Result<()> {
        self.open_store()?;
        operation::check_id(id)?;
        let request = transition::parse_set_state(
            id,
            state.code().into(),
            status.map(|s| i64::from(s.code())),
        )?;
        self.user_action(id, |cur, restricted| {
            transition::set_state(cur.status, restricted, request)
        })
    }

    /// The design card's `set_postpone_until`: exactly Postpone.
    pub fn set_postpone_until(&self, id: i64, until: i64) -> Result<()> {
        self.postpone(id, until)
    }

    // -- hosts (§6) -----------------------------------------------------------

    /// Claims up to `options.max` eligible operations for `host_id`, oldest
    /// first. With `options.wait`, waits up to that long for work: a submit or
    /// resume in this process wakes it at once, one in another process within
    /// about 1 ms. Each claim transaction first runs maintenance (§6.4).
    pub fn poll(&self, host_id: &str, options: &PollOptions) -> Result<Vec<Lease>> {
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
            let now = self.now();
            // After the first try, take the write lock only when a claim could succeed.
            if first || store.read(|conn| store::may_have_work(conn, now, types))? {
                let leases = self.claim(host_id, options.max, types)?;
                if !leases.is_empty() {
                    return Ok(leases);
                }
            }
            first = false;
            if Instant::now() >= deadline {
                return Ok(Vec::new());
            }
            // Time alone can make work due (a postponed row, an expired lease).
            let due = store.read(store::next_due)?.map(|t| {
                let wait_ms = u64::try_from(t.saturating_sub(self.now())).unwrap_or(0);
                Instant::now() + Duration::from_millis(wait_ms)
            });
            store.wait_change(mark, due.map_or(deadline, |d| d.min(deadline)))?;
        }
    }

    fn claim(&self, host_id: &str, max: u32, types: Option<&[i32]>) -> Result<Vec<Lease>> {
        let lease_ms = self.inner.lease_ms;
        let (claimed, expires_at) = self.inner.store.write(|conn| {
            let now = self.now();
            maintenance::run(conn, now, &self.inner.settings.retry)?;
            let expires_at = now.saturating_add(lease_ms);
            Ok((
                store::claim(conn, host_id, expires_at, now, max, types)?,
                expires_at,
            ))
        })?;
        Ok(claimed
            .into_iter()
            .map(|c| Lease {
                id: c.id,
                lock_token: c.lock_token,
                host_id: host_id.to_owned(),
                operation_type: c.operation_type,
                name: c.name,
                data: c.data,
                attempt: c.retry_count.saturating_add(1),
                expires_at,
                dependency_token: c.dependency_token,
                correlation_id: c.correlation_id,
            })
            .collect())
    }

    /// Extends the lease by the lease length from now and returns the current
    /// status: `InProgress`, or `Pausing`/`Canceling` when a user asked the host
    /// to stop at its next safe point (then report Suspended or Canceled).
    pub fn renew(&self, key: LeaseKey) -> Result<Status> {
        let store = self.open_store()?;
        operation::check_id(key.id)?;
        store.write(|conn| {
            let now = self.now();
            let status = store::renew(
                conn,
                key.id,
                key.lock_token,
                now,
                now.saturating_add(self.inner.lease_ms),
            )?;
            match status.and_then(transition::renew) {
                Some(status) => Ok(status),
                None => Err(lease::held(store::get(conn, key.id)?, key, now)
                    .err()
                    .unwrap_or_else(|| lease::lost(key, "the lease is not live".into()))),
            }
        })
    }

    /// Reports an outcome under a live lease (§3.2); returns the new status.
    pub fn report(&self, key: LeaseKey, outcome: Outcome, report: Report) -> Result<Status> {
        let store = self.open_store()?;
        operation::check_id(key.id)?;
        // Texts are cut before the write lock is taken, not while it is held.
        let errors = ErrorFields {
            error_code: report.error_code,
            message: report.message.map(operation::truncate_message),
            friendly_message: report.friendly_message.map(operation::truncate_message),
        };
        store.write(|conn| self.report_in(conn, key, outcome, &errors, report.retry_at))
    }

    /// `report` inside a write transaction.
    fn report_in(
        &self,
        conn: &rusqlite::Connection,
        key: LeaseKey,
        outcome: Outcome,
        errors: &ErrorFields,
        retry_at: Option<i64>,
    ) -> Result<Status> {
        let now = self.now();
        let row = lease::held(store::get(conn, key.id)?, key, now)?;
        let ctx = OutcomeContext {
            next_occurrence: None,
            retry: self
                .inner
                .settings
                .retry
                .plan(row.retry_count, now, retry_at),
        };
        let lost = || {
            lease::lost(
                key,
                format!("no outcome applies to status {}", row.status.code()),
            )
        };
        let change = transition::report(row.status, outcome, ctx).ok_or_else(lost)?;
        let next = store::next_row(&row, &change, now, Some(errors));
        if store::update(conn, &row, &next)? {
            Ok(next.status)
        } else {
            Err(lost())
        }
    }

    /// Completes every lease (3/30) in one transaction. A lease that was lost
    /// gets its `LeaseLost` in the result and does not hold the others back:
    /// each completion is one compare-and-set `UPDATE`, so a refused one wrote
    /// nothing (no savepoint needed). The outer `Err` means nothing was written
    /// (closed, busy, I/O). Results are in `keys` order.
    pub fn complete_many(&self, keys: &[LeaseKey]) -> Result<Vec<Result<Status>>> {
        let store = self.open_store()?;
        for key in keys {
            operation::check_id(key.id)?;
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let none = ErrorFields::default();
        store.write(|conn| {
            keys.iter()
                .map(
                    |&key| match self.report_in(conn, key, Outcome::Succeeded, &none, None) {
                        Err(lost @ Error::LeaseLost { .. }) => Ok(Err(lost)),
                        // Anything else is the file failing: give up the whole batch.
                        other => other.map(Ok),
                    },
                )
                .collect()
        })
    }

    /// The work finished: 3/30.
    pub fn complete(&self, key: LeaseKey) -> Result<Status> {
        self.report(key, Outcome::Succeeded, Report::default())
    }

    /// The work failed for good: 3/31.
    pub fn fail(&self, key: LeaseKey, report: Report) -> Result<Status> {
        self.report(key, Outcome::Failed, report)
    }

    /// A retryable failure: 1/10 until the back-off time, or 3/31 when the budget is spent.
    pub fn retry(&self, key: LeaseKey, report: Report) -> Result<Status> {
        self.report(key, Outcome::Retry, report)
    }

    /// A suspend-class failure: 1/10 with no time set, until a user resumes it.
    pub fn suspend(&self, key: LeaseKey, report: Report) -> Result<Status> {
        self.report(key, Outcome::Suspended, report)
    }

    /// The host stopped after seeing Pausing: 1/10 (paused, or postponed until the requested time).
    pub fn acknowledge_pause(&self, key: LeaseKey) -> Result<Status> {
        self.report(key, Outcome::Suspended, Report::default())
    }

    /// The host stopped after seeing Canceling: 3/32.
    pub fn acknowledge_cancel(&self, key: LeaseKey) -> Result<Status> {
        self.report(key, Outcome::Canceled, Report::default())
    }

    /// One maintenance pass (§6.4) in its own transaction.
    pub fn run_maintenance(&self) -> Result<MaintenanceReport> {
        self.open_store()?
            .write(|conn| maintenance::run(conn, self.now(), &self.inner.settings.retry))
    }

    /// Waits until the operation is Completed or `timeout` passes, and returns
    /// its latest snapshot either way (check `state`). The SDK's "retrieve until
    /// state 3", without polling the file in a loop.
    pub fn wait_for(&self, id: i64, timeout: Duration) -> Result<Operation> {
        let store = self.open_store()?;
        let deadline = Instant::now() + timeout;
        loop {
            let mark = store.change_mark()?;
            let op = self.retrieve(id)?;
            if op.state == State::Completed || Instant::now() >= deadline {
                return Ok(op);
            }
            store.wait_change(mark, deadline)?;
        }
    }
}
