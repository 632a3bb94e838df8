//! The storage interface: what a store must do, and nothing about how.
//!
//! A store persists operations and settings and wakes waiters; it decides no
//! rule. The queue asks `transition` what to write and hands the store the
//! result: a new row ([`NewOperation`]), a claim ([`ClaimMove`]), a renewal
//! ([`Renewal`]) or the next version of a row, written under a compare-and-set.
//! The command set is explicit (River's driver interface, effectum's command
//! enum): [`Read`] for one consistent snapshot, [`Write`] inside one write
//! transaction, [`Store`] for the transactions, the change signal and the
//! life of the handle. Each store lives in its own folder (`sqlite`) and is
//! proven by the conformance suite (`tests/conformance`).

pub mod postgres;
pub mod sqlite;

use crate::attempt::{Attempt, Progress};
use crate::error::{Error, Result};
use crate::lease::LeaseKey;
use crate::operation::{CountRow, Filter, HeldType, Operation, OperationSpec};
use crate::transition::{ClaimMove, Status};
use std::any::Any;
use std::fmt::Debug;
use std::time::Instant;

/// A new row as `transition::submit` decided it (P1/P2).
#[derive(Debug, Clone, Copy)]
pub struct NewOperation<'a> {
    /// What the submitter gave (already validated).
    pub spec: &'a OperationSpec,
    /// The start status: 0/0, or 1/10 when postponed.
    pub status: Status,
    /// The postpone time kept on the row.
    pub postpone_until: Option<i64>,
    /// `created_on` and `modified_on`.
    pub now: i64,
    /// A series' pattern (as given) and first occurrence; `None` for one-shot.
    pub recurrence: Option<(&'a str, i64)>,
}

/// The eligible operations a claim may take (§6.1, §7): Ready ones that no
/// earlier unfinished operation with the same dependency token blocks,
/// optionally only of `types`, oldest first.
#[derive(Debug, Clone, Copy)]
pub struct ClaimRequest<'a> {
    /// The move and its columns, as `transition` decided them.
    pub change: &'a ClaimMove,
    /// Take at most this many (1..=`MAX_POLL`).
    pub max: u32,
    /// Take only these operation types (`None`: any).
    pub types: Option<&'a [i32]>,
    /// `change.now` came from the store's clock: the store reads its clock
    /// again inside the claim itself, so that the claim's time is not earlier
    /// than a commit its snapshot sees (and moves the lease expiry by as much).
    pub store_clock: bool,
}

/// A row taken by a claim: what the host needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The operation's id.
    pub id: i64,
    /// The lock token after the claim.
    pub lock_token: i64,
    /// The operation type.
    pub operation_type: i32,
    /// The operation's name.
    pub name: String,
    /// The payload.
    pub data: Vec<u8>,
    /// Retries used before this attempt.
    pub retry_count: i32,
    /// The dependency token.
    pub dependency_token: Option<String>,
    /// The correlation id.
    pub correlation_id: Option<String>,
    /// When the lease ends unless renewed, as written.
    pub lease_expires_at: i64,
}

/// A lease renewal: push the lease of `key` to `lease_expires_at`, if it is
/// still held at `now` (the fencing rule of `lease::held`: Locked, the same
/// lock token, the lease not expired).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renewal {
    /// The operation and the lock token of the claim.
    pub key: LeaseKey,
    /// The time of the renewal.
    pub now: i64,
    /// The new expiry.
    pub lease_expires_at: i64,
}

/// One page of Completed rows for a purge (§10), in (`completed_on`, `id`)
/// order by the index of Completed rows: those completed before `before`,
/// strictly after the cursor `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompletedPage {
    /// Only rows with `completed_on` < this.
    pub before: i64,
    /// Only rows after this (`completed_on`, `id`); `None` from the start.
    pub after: Option<(i64, i64)>,
    /// At most this many rows.
    pub limit: u32,
}

/// A Completed row as a purge sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompletedRow {
    /// The operation's id.
    pub id: i64,
    /// Its final status.
    pub status: Status,
    /// When it completed.
    pub completed_on: i64,
}

/// The reads of one consistent snapshot.
pub trait Read {
    /// The store's own clock in UTC ms, if it has one shared by every host
    /// (PostgreSQL: the server's); `None` for a store of one machine (SQLite).
    fn now(&self) -> Result<Option<i64>>;
    /// One row by id.
    fn get(&self, id: i64) -> Result<Option<Operation>>;
    /// Rows matching `filter`, in ascending id (§11).
    fn query(&self, filter: &Filter) -> Result<Vec<Operation>>;
    /// Non-empty (state, status, operation_type) groups with their sizes, sorted by those keys.
    fn counts(&self) -> Result<Vec<CountRow>>;
    /// One queue-wide setting as stored (§6.6), `None` when absent.
    fn setting(&self, key: &str) -> Result<Option<String>>;
    /// Locked rows whose lease expired at or before `now` (§6.4), at most
    /// `limit`, so that one maintenance batch stays small whatever the
    /// backlog: SQLite gives the earliest expiries (then id), PostgreSQL the
    /// oldest ids (its index of leased rows is by id).
    fn expired_leases(&self, now: i64, limit: u32) -> Result<Vec<Operation>>;
    /// Suspended rows whose `postpone_until` is due at `now` (§6.4): the
    /// `limit` that fell due first (by `postpone_until`, then id).
    fn due_postponed(&self, now: i64, limit: u32) -> Result<Vec<Operation>>;
    /// The earliest time a lease expires or a postponed row becomes due: when
    /// a waiting poll must look again even if nothing is committed.
    fn next_due(&self) -> Result<Option<i64>>;
    /// Whether a claim for `types` could find work at `now`: an eligible
    /// operation, an expired lease or a due postponed row. Lets a waiting poll
    /// skip the write transaction while nothing it could take is there.
    fn may_have_work(&self, now: i64, types: Option<&[i32]>) -> Result<bool>;
    /// The store's own structural check: `Ok(())` or `Corrupt` with what it found.
    fn check_integrity(&self) -> Result<()>;
    /// The held operation types (claims skip them), by type.
    fn held_types(&self) -> Result<Vec<HeldType>>;
    /// One page of Completed rows for a purge (see [`CompletedPage`]).
    fn completed_page(&self, page: &CompletedPage) -> Result<Vec<CompletedRow>>;
    /// The status and lock token of each of the rows `ids` that exist, in
    /// ascending id, in one statement: what a stop watch compares with the
    /// leases it watches (§6.3). Missing ids are left out.
    fn lease_states(&self, ids: &[i64]) -> Result<Vec<LeaseState>>;
    /// The kept attempts of one operation that ended in an error, oldest
    /// first (ascending lock token); empty for an unknown id.
    fn attempts(&self, operation_id: i64) -> Result<Vec<Attempt>>;
}

/// One row as a stop watch sees it (`Read::lease_states`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseState {
    /// The operation.
    pub id: i64,
    /// Its status now (the state follows from it).
    pub status: Status,
    /// Its lock token now.
    pub lock_token: i64,
}

/// The writes, inside one write transaction (which may also read).
pub trait Write: Read {
    /// Inserts a new operation; returns its id (ids are never reused, §5).
    fn insert(&self, row: &NewOperation<'_>) -> Result<i64>;
    /// Moves the eligible operations of `request` as its `ClaimMove` says;
    /// returns them in id order.
    fn claim(&self, request: &ClaimRequest<'_>) -> Result<Vec<Claimed>>;
    /// Renews a held lease; returns the row's status, or `None` when the lease
    /// is not held (wrong token, expired, not Locked, gone).
    fn renew(&self, renewal: &Renewal) -> Result<Option<Status>>;
    /// A host outcome: writes `next` if the row still has `cur`'s (state,
    /// status) and `key`'s lock token. False when it does not (or is gone).
    fn update_held(&self, key: LeaseKey, cur: &Operation, next: &Operation) -> Result<bool>;
    /// `update_held` for each of `moves` (distinct ids), in one statement where
    /// the store can; one result per move, in order.
    fn update_held_many(&self, moves: &[HeldMove<'_>]) -> Result<Vec<bool>> {
        moves
            .iter()
            .map(|m| self.update_held(m.key, m.cur, &m.next))
            .collect()
    }
    /// A user action or maintenance move: writes `next` if the row still has
    /// `cur`'s (state, status). False when it does not (or is gone).
    fn update(&self, cur: &Operation, next: &Operation) -> Result<bool>;
    /// A pattern update (§8): writes `pattern` and `modified_on = now` if the
    /// row still has `cur`'s (state, status). False when it does not (or is gone).
    fn update_recurrence(&self, cur: &Operation, pattern: &str, now: i64) -> Result<bool>;
    /// Deletes the row if it still has `cur`'s (state, status), and its
    /// attempt history.
    fn delete(&self, cur: &Operation) -> Result<bool>;
    /// Deletes the rows `ids` that are Completed, and their attempt
    /// history; returns how many rows were deleted.
    fn delete_completed(&self, ids: &[i64]) -> Result<usize>;
    /// Holds `operation_type` since `now` (claims skip it); false when it was
    /// already held (the first time is kept).
    fn hold_type(&self, operation_type: i32, now: i64) -> Result<bool>;
    /// Releases `operation_type`; false when it was not held. A release wakes
    /// waiting polls, as any change that makes work claimable.
    fn release_type(&self, operation_type: i32) -> Result<bool>;
    /// Writes a running attempt's progress on row `id`, which the caller has
    /// just found held (`lease::held`) in this transaction. Wakes no waiter;
    /// unless `progress.durable`, the store need not sync this commit on its
    /// own (PostgreSQL: `synchronous_commit = off` for the transaction).
    fn set_progress(&self, id: i64, progress: &Progress) -> Result<()>;
    /// Writes the output of row `id`'s completed run (`None` clears it).
    fn set_output(&self, id: i64, output: Option<&[u8]>) -> Result<()>;
    /// Records an attempt that ended in an error, then deletes the
    /// operation's older attempts beyond the newest `keep`.
    fn record_attempt(&self, attempt: &Attempt, keep: usize) -> Result<()>;
    /// Writes one queue-wide setting.
    fn set_setting(&self, key: &str, value: &str) -> Result<()>;
    /// Takes or keeps the leadership `lead.name` for `lead.holder` until
    /// `lead.now + lead.ttl_ms`, if nobody else holds it unexpired at
    /// `lead.now`; returns whether `lead.holder` now holds it.
    fn lead(&self, lead: &Lead<'_>) -> Result<bool>;
    /// Gives up the leadership `name` if `holder` holds it.
    fn resign(&self, name: &str, holder: &str) -> Result<()>;
}

/// One host outcome of a batch (`Write::update_held_many`).
#[derive(Debug, Clone)]
pub struct HeldMove<'a> {
    /// The lease it is reported under.
    pub key: LeaseKey,
    /// The row as read.
    pub cur: &'a Operation,
    /// The row `transition::apply` computed.
    pub next: Operation,
}

/// A bid for one leadership row (`Write::lead`).
#[derive(Debug, Clone, Copy)]
pub struct Lead<'a> {
    /// The leadership, e.g. `"purge"`.
    pub name: &'a str,
    /// Who bids (a host id).
    pub holder: &'a str,
    /// The time the bid is judged at (UTC ms).
    pub now: i64,
    /// How long the leadership lasts unless renewed by another bid.
    pub ttl_ms: i64,
    /// Judge it by the store's own clock instead of `now` when it has one
    /// (PostgreSQL), so that hosts with wrong clocks cannot steal it.
    pub store_clock: bool,
}

/// A point in the history of the store, to wait for the next change after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeMark {
    /// Commits of this handle's process seen so far.
    pub local: u64,
    /// The store's own marker of commits by anyone (SQLite: `data_version`).
    pub external: i64,
}

/// An open store: transactions, the change signal, and its life.
pub trait Store: Send + Sync + Debug {
    /// What was opened, for people: the absolute file path of a SQLite store
    /// (a store on a server would name it without credentials).
    fn target(&self) -> &str;
    /// Whether `close` or `abandon` ran.
    fn is_closed(&self) -> bool;
    /// Closes the store; later calls give `Closed`. Calls in flight finish first.
    fn close(&self);
    /// Like `close`, but leaks what a forked child must not close.
    fn abandon(&self);
    /// Runs `f` in one write transaction, committed before this returns `Ok`;
    /// an `Err` from `f` undoes what `f` wrote. Use `write` (on `dyn Store`).
    fn write_dyn(&self, f: &mut (dyn FnMut(&dyn Write) -> Result<()> + Send)) -> Result<()>;
    /// `write_dyn` for a transaction that first `get`s the rows `ids`: a
    /// server store reads (and locks) them with BEGIN, in the same round trip.
    fn write_rows_dyn(
        &self,
        ids: &[i64],
        f: &mut (dyn FnMut(&dyn Write) -> Result<()> + Send),
    ) -> Result<()> {
        let _ = ids;
        self.write_dyn(f)
    }
    /// `write_rows_dyn` for a progress report: a commit that wakes no waiter
    /// and, unless `durable`, need not be synced on its own (SQLite commits it
    /// with `synchronous = NORMAL`: in WAL mode the next synced commit covers
    /// it; a power loss before that may lose it, never corrupt).
    fn write_progress_dyn(
        &self,
        ids: &[i64],
        durable: bool,
        f: &mut (dyn FnMut(&dyn Write) -> Result<()> + Send),
    ) -> Result<()> {
        let _ = durable;
        self.write_rows_dyn(ids, f)
    }
    /// Runs `f` on one consistent snapshot. Use `read` (on `dyn Store`).
    fn read_dyn(&self, f: &mut dyn FnMut(&dyn Read) -> Result<()>) -> Result<()>;
    /// Where the store stands now; pass it to `wait_change`.
    fn change_mark(&self) -> Result<ChangeMark>;
    /// Blocks until a commit after `mark` (of any handle, any process) or
    /// `deadline`; returns whether a change was seen.
    fn wait_change(&self, mark: ChangeMark, deadline: Instant) -> Result<bool>;
    /// The concrete store, for the store's own tests and tools.
    fn as_any(&self) -> &dyn Any;
}

impl dyn Store + '_ {
    /// Runs `f` in one write transaction and returns its value once committed.
    /// A store may run `f` more than once (a server store retries a
    /// transaction that a serialization failure, a deadlock or a lost
    /// connection rolled back), so `f` only reads and writes through `tx`.
    pub fn write<T: Send>(&self, mut f: impl FnMut(&dyn Write) -> Result<T> + Send) -> Result<T> {
        let mut value = None;
        self.write_dyn(&mut |tx| {
            value = Some(f(tx)?);
            Ok(())
        })?;
        value.ok_or_else(ran_not)
    }

    /// `write` for a transaction that first `get`s the rows `ids` (see
    /// `Store::write_rows_dyn`).
    pub fn write_rows<T: Send>(
        &self,
        ids: &[i64],
        mut f: impl FnMut(&dyn Write) -> Result<T> + Send,
    ) -> Result<T> {
        let mut value = None;
        self.write_rows_dyn(ids, &mut |tx| {
            value = Some(f(tx)?);
            Ok(())
        })?;
        value.ok_or_else(ran_not)
    }

    /// `write_rows` for a progress report (see `Store::write_progress_dyn`).
    pub fn write_progress<T: Send>(
        &self,
        ids: &[i64],
        durable: bool,
        mut f: impl FnMut(&dyn Write) -> Result<T> + Send,
    ) -> Result<T> {
        let mut value = None;
        self.write_progress_dyn(ids, durable, &mut |tx| {
            value = Some(f(tx)?);
            Ok(())
        })?;
        value.ok_or_else(ran_not)
    }

    /// Runs `f` on one consistent snapshot (more than once if a server store
    /// retries it, as `write`).
    pub fn read<T>(&self, mut f: impl FnMut(&dyn Read) -> Result<T>) -> Result<T> {
        let mut value = None;
        self.read_dyn(&mut |tx| {
            value = Some(f(tx)?);
            Ok(())
        })?;
        value.ok_or_else(ran_not)
    }
}

fn ran_not() -> Error {
    Error::Internal("a store committed without running the transaction body".into())
}
