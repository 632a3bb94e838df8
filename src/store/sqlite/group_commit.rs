//! Group commit: every write of this process goes through one writer, which
//! commits the writes queued by concurrent threads together, in one transaction.
//!
//! The protocol is LevelDB's writer queue, without a writer thread: a caller
//! queues its command; if no leader is active it becomes the leader, otherwise
//! it sleeps on its own ticket. The leader takes every queued command, runs each
//! in its own savepoint inside one `BEGIN IMMEDIATE` transaction, commits, and
//! hands the leadership to the first command queued meanwhile, and only then,
//! once the commit is durable (`wal_sync`: the fsync runs while the next batch
//! does), answers each caller.
//! A lone caller runs its own command on its own thread, with no savepoint and
//! no hand-off: no thread switch, so a single caller is as fast as before, and
//! under contention one fsync is shared by a whole batch.

use super::wal_sync::{Pending as PendingSync, WalSync};
use super::write_tx::{WriteTx, run_sql};
use super::writer_lock::{WriterLock, WriterLockStats};
use super::writer_stats::WriterStats;
use crate::error::{Error, Result};
use parking_lot::{Condvar, Mutex, MutexGuard};
use rusqlite::Connection;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A queued command, type-erased: runs the caller's closure and says whether it
/// succeeded (its result stays with the caller).
type Job = Box<dyn FnOnce(&Connection) -> bool + Send + 'static>;

enum TicketState {
    Waiting,
    /// This caller is the leader now: it runs the next batch.
    Lead,
    /// The transaction holding the command ended: committed (`Ok`) or not.
    Done(Result<()>),
}

struct Ticket {
    state: Mutex<TicketState>,
    wake: Condvar,
}

impl Ticket {
    fn set(&self, state: TicketState) {
        *self.state.lock() = state;
        self.wake.notify_one();
    }
}

struct Command {
    job: Option<Job>,
    ticket: Arc<Ticket>,
    kind: WriteKind,
}

/// What a write is, for the commit of the batch that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteKind {
    /// Synced at the store's durability; wakes waiters if it changed a row.
    Normal,
    /// A progress report: wakes no waiter. Unless `durable`, a batch of only
    /// such reports is not synced (the next synced commit's fsync covers it;
    /// a power loss before that may lose it).
    Progress {
        /// Synced like a normal write.
        durable: bool,
    },
}

impl Drop for Command {
    /// Every caller is answered, even if the leader unwinds with its batch
    /// (its transaction is then rolled back by rusqlite's `Transaction` drop).
    fn drop(&mut self) {
        // The job first: it may borrow from the caller, who may return as soon
        // as it is answered.
        drop(self.job.take());
        let mut state = self.ticket.state.lock();
        if !matches!(*state, TicketState::Done(_)) {
            *state = TicketState::Done(Err(Error::Internal(
                "the write was abandoned: the group-commit leader failed".into(),
            )));
            self.ticket.wake.notify_one();
        }
    }
}

#[derive(Default)]
struct Pending {
    commands: Vec<Command>,
    leader_active: bool,
}

pub(super) struct GroupCommit {
    pending: Mutex<Pending>,
    stats: Mutex<WriterStats>,
    /// `Durability::Full`: what makes a commit durable after it.
    wal_sync: Option<WalSync>,
    /// The writer queue across processes (`writer_lock`), taken around every
    /// transaction, and how long to wait for it.
    side: Option<WriterLock>,
    side_timeout: Duration,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("stats", &*self.stats.lock())
            .finish_non_exhaustive()
    }
}

/// What the leader tells `write` about the batch it ran.
pub(super) struct BatchEnd {
    /// Some command changed a row, and the transaction committed.
    pub changed: bool,
}

impl GroupCommit {
    pub fn new(
        wal_sync: Option<WalSync>,
        side: Option<WriterLock>,
        side_timeout: Duration,
    ) -> GroupCommit {
        GroupCommit {
            pending: Mutex::new(Pending::default()),
            stats: Mutex::new(WriterStats::default()),
            wal_sync,
            side,
            side_timeout,
        }
    }

    /// What the side lock did (all zero without one).
    pub fn side_lock_stats(&self) -> WriterLockStats {
        self.side
            .as_ref()
            .map_or_else(WriterLockStats::default, WriterLock::stats)
    }

    pub fn stats(&self) -> WriterStats {
        WriterStats {
            wal_syncs: self.wal_sync.as_ref().map_or(0, WalSync::syncs),
            ..*self.stats.lock()
        }
    }

    /// `Err` once a sync failed: the handle refuses every later call.
    pub fn ensure_intact(&self) -> Result<()> {
        self.wal_sync
            .as_ref()
            .map_or(Ok(()), WalSync::ensure_intact)
    }

    /// Starts `WriterStats::longest_hold` again from zero.
    pub fn reset_longest_hold(&self) {
        self.stats.lock().longest_hold = Duration::ZERO;
    }

    /// Commands queued and not yet taken by a leader.
    pub fn waiting(&self) -> usize {
        self.pending.lock().commands.len()
    }

    /// Runs `f` inside a write transaction shared with concurrent callers and
    /// returns its result once that transaction has committed. `conn` gives the
    /// leader the write connection (`None` once closed). `on_end` runs after
    /// each batch this thread led (to wake waiters), outside every lock.
    pub fn write<T: Send>(
        &self,
        conn: &Mutex<Option<Connection>>,
        kind: WriteKind,
        on_end: impl Fn(BatchEnd),
        f: impl FnOnce(&Connection) -> Result<T> + Send,
    ) -> Result<T> {
        let mut slot: Option<std::thread::Result<Result<T>>> = None;
        let ticket = Arc::new(Ticket {
            state: Mutex::new(TicketState::Waiting),
            wake: Condvar::new(),
        });
        {
            let slot_ref = &mut slot;
            let job: Box<dyn FnOnce(&Connection) -> bool + Send + '_> = Box::new(move |c| {
                // Caught here so that a panic in one caller's closure cannot take
                // the other callers' commands down with the leader; it is
                // resumed on the caller's own thread below.
                let result = panic::catch_unwind(AssertUnwindSafe(|| f(c)));
                let ok = matches!(result, Ok(Ok(_)));
                *slot_ref = Some(result);
                ok
            });
            // SAFETY: the job borrows `f` and `slot` from this stack frame. It is
            // run or dropped by a leader before this caller's ticket becomes
            // `Done` (`finish` and `Command::drop` drop a job before they answer),
            // and this function leaves the block only once its ticket is `Done`
            // (the wait cannot fail: parking_lot locks do not poison) or by
            // unwinding out of `lead`, which drops the batch it took, this job
            // among it, on the way. So the borrows outlive every use of the job.
            let job: Job = unsafe {
                std::mem::transmute::<Box<dyn FnOnce(&Connection) -> bool + Send + '_>, Job>(job)
            };
            let lead = {
                let mut pending = self.pending.lock();
                pending.commands.push(Command {
                    job: Some(job),
                    ticket: Arc::clone(&ticket),
                    kind,
                });
                !std::mem::replace(&mut pending.leader_active, true)
            };
            if lead {
                self.lead(conn, &on_end);
            }
            let mut state = ticket.state.lock();
            loop {
                match &*state {
                    TicketState::Done(result) => {
                        let result = result.clone();
                        drop(state);
                        result?;
                        break;
                    }
                    TicketState::Lead => {
                        *state = TicketState::Waiting;
                        drop(state);
                        self.lead(conn, &on_end);
                        state = ticket.state.lock();
                    }
                    TicketState::Waiting => ticket.wake.wait(&mut state),
                }
            }
        }
        match slot {
            Some(Ok(result)) => result,
            Some(Err(payload)) => panic::resume_unwind(payload),
            None => Err(Error::Internal(
                "a committed write did not run its command".into(),
            )),
        }
    }

    /// Runs one batch: every command queued now (this caller's among them).
    fn lead(&self, conn: &Mutex<Option<Connection>>, on_end: &impl Fn(BatchEnd)) {
        // Hands the leadership on even if this thread unwinds, so that no
        // caller waits for a leader that is gone.
        struct HandOff<'a>(&'a GroupCommit);
        impl Drop for HandOff<'_> {
            fn drop(&mut self) {
                let mut pending = self.0.pending.lock();
                match pending.commands.first() {
                    Some(next) => next.ticket.set(TicketState::Lead),
                    None => pending.leader_active = false,
                }
            }
        }
        let hand_off = HandOff(self);
        let batch = std::mem::take(&mut self.pending.lock().commands);
        let mut guard = conn.lock();
        let ran = run_batch(&mut guard, batch, self);
        drop(guard);
        drop(hand_off);
        // Outside every lock: the next batch runs while this one is synced.
        if let Some(Committed {
            batch,
            sync,
            changed,
        }) = ran
        {
            let result = match (sync, &self.wal_sync) {
                (Some(pending), Some(wal)) => {
                    let settled = wal.settle(pending, self.side.as_ref());
                    if settled.is_ok() {
                        self.stats.lock().synced_commits += 1;
                    }
                    settled
                }
                _ => Ok(()),
            };
            let ok = result.is_ok();
            finish(batch, result);
            if ok {
                on_end(BatchEnd { changed });
            }
        }
    }
}

/// A batch whose transaction committed, to answer once it is durable.
struct Committed {
    batch: Vec<Command>,
    /// What makes it durable (`None`: nothing to sync).
    sync: Option<PendingSync>,
    /// Some command changed a row.
    changed: bool,
}

/// One transaction for the whole batch; a savepoint per command when there is
/// more than one, so a failing command never undoes another. `None` when every
/// command was answered already (the error that ended the transaction, or a
/// rollback of a batch with nothing to keep).
fn run_batch(
    conn: &mut MutexGuard<'_, Option<Connection>>,
    mut batch: Vec<Command>,
    group: &GroupCommit,
) -> Option<Committed> {
    let Some(conn) = conn.as_mut() else {
        finish(batch, Err(Error::Closed));
        return None;
    };
    let quiet = batch.iter().all(|c| c.kind != WriteKind::Normal);
    let durable = group.wal_sync.is_some()
        && batch
            .iter()
            .any(|c| c.kind != WriteKind::Progress { durable: false });
    // Declared before `tx`: released after the commit or the rollback.
    let side = group
        .side
        .as_ref()
        .and_then(|side| side.acquire(group.side_timeout));
    let held_since = Instant::now();
    let tx = match WriteTx::begin(conn) {
        Ok(tx) => tx,
        Err(e) => {
            finish(batch, Err(e));
            return None;
        }
    };
    let before = tx.conn.total_changes();
    let single = batch.len() == 1;
    let mut any_ok = false;
    for command in &mut batch {
        let Some(job) = command.job.take() else {
            continue;
        };
        if single {
            any_ok = job(tx.conn);
            continue;
        }
        if let Err(e) = run_sql(tx.conn, "SAVEPOINT command") {
            finish(batch, Err(e));
            return None;
        }
        let ok = job(tx.conn);
        any_ok |= ok;
        let end = if ok {
            run_sql(tx.conn, "RELEASE command")
        } else {
            run_sql(tx.conn, "ROLLBACK TO command")
                .and_then(|()| run_sql(tx.conn, "RELEASE command"))
        };
        if let Err(e) = end {
            finish(batch, Err(e));
            return None;
        }
    }
    if !any_ok {
        // Nothing to keep: a rollback is cheaper than a commit (no fsync).
        drop(tx);
        note_hold(&group.stats, held_since);
        finish(batch, Ok(()));
        return None;
    }
    let changed = !quiet && tx.conn.total_changes() != before;
    let committed = tx.commit();
    let sync = (committed.is_ok() && durable).then(|| WalSync::note(side.as_ref()));
    drop(side);
    note_hold(&group.stats, held_since);
    if let Err(e) = committed {
        finish(batch, Err(e));
        return None;
    }
    {
        let mut stats = group.stats.lock();
        stats.transactions += 1;
        stats.commands += batch.len() as u64;
    }
    Some(Committed {
        batch,
        sync,
        changed,
    })
}

/// Keeps the longest write-lock hold in `stats`.
fn note_hold(stats: &Mutex<WriterStats>, since: Instant) {
    let held = since.elapsed();
    let mut stats = stats.lock();
    stats.longest_hold = stats.longest_hold.max(held);
}

fn finish(batch: Vec<Command>, result: Result<()>) {
    for mut command in batch {
        // A job not run (the transaction never started) is dropped before its
        // caller is answered: the caller's borrows end with it.
        drop(command.job.take());
        command.ticket.set(TicketState::Done(result.clone()));
    }
}
