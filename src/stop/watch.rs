//! The stop watch of one queue handle: the leases its hosts watch, and ONE
//! background thread that, after each change of the store, reads their rows in
//! one read (`Read::lease_states`) and sets the stop signal of each lease whose
//! row asks it to stop (`transition::stop::stop_reason`).
//!
//! The thread starts on the first watched lease and ends after `IDLE_EXIT`
//! without one, at `close`, or when the handle is dropped; while nothing is
//! watched it is parked and reads nothing. It never writes. It holds the store
//! only weakly, so it keeps no dropped handle open. In a forked child it is not
//! started (the child's inherited handle is not used: it opens its own).

use super::{SignalShared, StopReason, StopSignal};
use crate::lease::LeaseKey;
use crate::store::{ChangeMark, Store};
use crate::transition::stop::stop_reason;
use parking_lot::{Condvar, Mutex};
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long one wait on the change signal lasts before the thread looks
/// whether a lease was added meanwhile (a user request that committed between
/// a claim and its registration is then seen within this).
const SLICE: Duration = Duration::from_millis(20);
/// How long the thread stays parked with nothing to watch before it ends.
const IDLE_EXIT: Duration = Duration::from_secs(10);
/// How long the thread backs off after a failed read (the store busy or
/// unreachable): it then reads again, as after a change.
const RETRY_AFTER: Duration = Duration::from_millis(50);

/// One watched lease.
#[derive(Debug)]
pub(crate) struct Entry {
    lock_token: i64,
    signal: Weak<SignalShared>,
}

#[derive(Debug, Default)]
struct Registry {
    leases: HashMap<i64, Entry>,
    /// +1 on every new lease: the thread reads again when it moved.
    generation: u64,
    /// The thread is alive (or starting).
    running: bool,
    /// `close` ran, or the handle was dropped: the thread ends.
    shutdown: bool,
}

#[derive(Debug, Default)]
struct Shared {
    registry: Mutex<Registry>,
    /// Wakes the parked thread (a lease to watch, shutdown).
    wake: Condvar,
}

/// The watched leases of one queue handle and their thread.
#[derive(Debug)]
pub(crate) struct StopWatch {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// The process that opened the handle.
    pid: u32,
}

impl Default for StopWatch {
    fn default() -> Self {
        StopWatch {
            shared: Arc::default(),
            thread: Mutex::new(None),
            pid: std::process::id(),
        }
    }
}

impl StopWatch {
    /// The signal of lease `key`, watched from now on (the same signal for
    /// the same key while it is watched). Starts the thread if needed.
    pub(crate) fn watch(
        &self,
        store: Weak<dyn Store>,
        key: LeaseKey,
    ) -> crate::error::Result<StopSignal> {
        let mut reg = self.shared.registry.lock();
        if reg.shutdown {
            return Err(crate::error::Error::Closed);
        }
        if let Some(entry) = reg.leases.get(&key.id)
            && entry.lock_token == key.lock_token
            && let Some(signal) = StopSignal::upgrade(&entry.signal)
        {
            return Ok(signal);
        }
        let signal = StopSignal::default();
        let replaced = reg.leases.insert(
            key.id,
            Entry {
                lock_token: key.lock_token,
                signal: signal.downgrade(),
            },
        );
        if let Some(old) = replaced.and_then(|e| StopSignal::upgrade(&e.signal)) {
            // An older claim of the same operation: this process lost it.
            old.fire(StopReason::LeaseLost);
            old.end();
        }
        reg.generation = reg.generation.wrapping_add(1);
        self.shared.wake.notify_all();
        if !reg.running && std::process::id() == self.pid {
            let shared = Arc::clone(&self.shared);
            let handle = std::thread::Builder::new()
                .name("asyncop-stop-watch".into())
                .spawn(move || run(&shared, &store))
                .map_err(|e| {
                    crate::error::Error::Internal(format!("could not start the stop watch: {e}"))
                })?;
            reg.running = true;
            drop(reg);
            // The previous thread (if any) has ended or is ending: `running` was false.
            let old = self.thread.lock().replace(handle);
            if let Some(old) = old {
                let _ = old.join();
            }
        }
        Ok(signal)
    }

    /// Stops watching `key` (its outcome was reported): its signal ends.
    pub(crate) fn finish(&self, key: LeaseKey) {
        let mut reg = self.shared.registry.lock();
        let ours = reg
            .leases
            .get(&key.id)
            .is_some_and(|e| e.lock_token == key.lock_token);
        if ours && let Some(entry) = reg.leases.remove(&key.id) {
            drop(reg);
            if let Some(signal) = StopSignal::upgrade(&entry.signal) {
                signal.end();
            }
        }
    }

    /// Stops watching `key` while this handle writes its outcome, so that the
    /// thread cannot read the row this very outcome wrote and call it lost.
    /// Pass the result to `resume`.
    pub(crate) fn pause(&self, key: LeaseKey) -> Option<Entry> {
        let mut reg = self.shared.registry.lock();
        match reg.leases.get(&key.id) {
            Some(e) if e.lock_token == key.lock_token => reg.leases.remove(&key.id),
            _ => None,
        }
    }

    /// After the outcome of `key`: its signal ends (`ended`: the outcome was
    /// written or the lease is lost), or the lease is watched again.
    pub(crate) fn resume(&self, key: LeaseKey, paused: Option<Entry>, ended: bool) {
        let Some(entry) = paused else {
            return;
        };
        if ended {
            if let Some(signal) = StopSignal::upgrade(&entry.signal) {
                signal.end();
            }
            return;
        }
        let mut reg = self.shared.registry.lock();
        if reg.shutdown || reg.leases.contains_key(&key.id) {
            return;
        }
        reg.leases.insert(key.id, entry);
        reg.generation = reg.generation.wrapping_add(1);
        self.shared.wake.notify_all();
    }

    /// Ends the thread and every signal (the queue closed). With `join`, waits
    /// for the thread to end (never from the thread itself).
    pub(crate) fn shut_down(&self, join: bool) {
        let entries: Vec<Entry> = {
            let mut reg = self.shared.registry.lock();
            reg.shutdown = true;
            self.shared.wake.notify_all();
            reg.leases.drain().map(|(_, e)| e).collect()
        };
        for entry in entries {
            if let Some(signal) = StopSignal::upgrade(&entry.signal) {
                signal.end();
            }
        }
        if join && std::process::id() == self.pid {
            let handle = self.thread.lock().take();
            if let Some(handle) = handle
                && handle.thread().id() != std::thread::current().id()
            {
                let _ = handle.join();
            }
        }
    }

    /// How many leases are watched now (for tests and tools).
    pub(crate) fn watched(&self) -> usize {
        self.shared.registry.lock().leases.len()
    }
}

impl Drop for StopWatch {
    fn drop(&mut self) {
        // Possibly on the watch thread itself (it held the last reference to
        // the store): never join here.
        self.shut_down(false);
    }
}

/// The thread: park while nothing is watched; else read after each change.
fn run(shared: &Shared, store: &Weak<dyn Store>) {
    // The mark of the last read; `None`: read (again) now.
    let mut last: Option<ChangeMark> = None;
    let mut seen_generation = 0u64;
    while let Some(generation) = park(shared) {
        let store = match store.upgrade() {
            Some(store) if !store.is_closed() => store,
            _ => {
                shared.registry.lock().running = false;
                return;
            }
        };
        if last.is_none() || generation != seen_generation {
            seen_generation = generation;
            // Taken before reading, so that a commit during the read wakes us.
            match store.change_mark().and_then(|mark| {
                look(shared, store.as_ref())?;
                Ok(mark)
            }) {
                Ok(mark) => last = Some(mark),
                Err(_) => {
                    last = None;
                    if !back_off(shared, store) {
                        return;
                    }
                    continue;
                }
            }
        }
        let Some(mark) = last else { continue };
        match store.wait_change(mark, Instant::now() + SLICE) {
            Ok(false) => {}
            Ok(true) => last = None,
            Err(_) => {
                last = None;
                if !back_off(shared, store) {
                    return;
                }
            }
        }
    }
}

/// After a failed read or wait: ends the thread (false) if the store is
/// closed, else waits `RETRY_AFTER` (or until shutdown) without holding it.
fn back_off(shared: &Shared, store: Arc<dyn Store>) -> bool {
    let closed = store.is_closed();
    drop(store);
    let mut reg = shared.registry.lock();
    if !closed && !reg.shutdown {
        let _ = shared.wake.wait_for(&mut reg, RETRY_AFTER);
    }
    if closed || reg.shutdown {
        reg.running = false;
        return false;
    }
    true
}

/// Waits while nothing is watched; the registry's generation, or `None` when
/// the thread should end (shutdown, or idle for `IDLE_EXIT`).
fn park(shared: &Shared) -> Option<u64> {
    let mut reg = shared.registry.lock();
    loop {
        if reg.shutdown {
            reg.running = false;
            return None;
        }
        reg.leases.retain(|_, e| e.signal.strong_count() > 0);
        if !reg.leases.is_empty() {
            return Some(reg.generation);
        }
        if shared.wake.wait_for(&mut reg, IDLE_EXIT).timed_out()
            && reg.leases.is_empty()
            && !reg.shutdown
        {
            reg.running = false;
            return None;
        }
    }
}

/// One read of every watched row; fires (and stops watching) each lease whose
/// row asks it to stop.
fn look(shared: &Shared, store: &dyn Store) -> crate::error::Result<()> {
    let watched: Vec<(i64, i64)> = {
        let reg = shared.registry.lock();
        let mut v: Vec<(i64, i64)> = reg
            .leases
            .iter()
            .map(|(id, e)| (*id, e.lock_token))
            .collect();
        v.sort_unstable();
        v
    };
    if watched.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = watched.iter().map(|(id, _)| *id).collect();
    let rows = store.read(|tx| tx.lease_states(&ids))?;
    let by_id: HashMap<i64, (crate::transition::Status, i64)> = rows
        .into_iter()
        .map(|r| (r.id, (r.status, r.lock_token)))
        .collect();
    for (id, token) in watched {
        let Some(reason) = stop_reason(by_id.get(&id).copied(), token) else {
            continue;
        };
        let entry = {
            let mut reg = shared.registry.lock();
            match reg.leases.get(&id) {
                Some(e) if e.lock_token == token => reg.leases.remove(&id),
                _ => None,
            }
        };
        if let Some(signal) = entry.and_then(|e| StopSignal::upgrade(&e.signal)) {
            signal.fire(reason);
        }
    }
    Ok(())
}
