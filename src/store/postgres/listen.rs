//! Wake-ups: a commit here wakes this handle's waiters at once; a commit
//! anywhere reaches them through `LISTEN`/`NOTIFY` on one listening
//! connection per handle, with a look every `POLL_FALLBACK` as the fallback.

use super::{POLL_FALLBACK, PgStore};
use crate::error::Result;
use crate::store::ChangeMark;
use parking_lot::{Condvar, Mutex};
use postgres::Client;
use postgres::fallible_iterator::FallibleIterator;
use std::time::{Duration, Instant};

/// Wakes this handle's waiters when a write commits (here or anywhere).
#[derive(Debug, Default)]
pub(super) struct Notifier {
    /// (local commits, notifications received)
    generation: Mutex<(u64, i64)>,
    changed: Condvar,
}

impl Notifier {
    /// Wakes every waiter, to look again (the store closed).
    pub(super) fn wake_all(&self) {
        self.changed.notify_all();
    }
}

impl PgStore {
    pub(super) fn bump_local(&self) {
        let mut g = self.notifier.generation.lock();
        g.0 = g.0.wrapping_add(1);
        self.notifier.changed.notify_all();
    }

    /// Reads what the listening connection has received, without waiting, if
    /// no waiter is reading it. A handle whose callers never wait would
    /// otherwise leave notifications unread: the server's backend then
    /// blocks on a full socket and the database-wide NOTIFY queue, which it
    /// can no longer trim, grows until every NOTIFY fails.
    pub(super) fn drain_listener(&self) {
        let Some(mut guard) = self.listener.try_lock() else {
            return;
        };
        let Some(listener) = guard.as_mut() else {
            return;
        };
        let mut heard = false;
        let lost = loop {
            match listener.notifications().iter().next() {
                Ok(Some(_)) => heard = true,
                Ok(None) => break false,
                Err(_) => break true,
            }
        };
        if lost {
            // Gone: the next wait listens again.
            *guard = None;
        }
        drop(guard);
        if heard {
            let mut g = self.notifier.generation.lock();
            g.1 = g.1.wrapping_add(1);
            self.notifier.changed.notify_all();
        }
    }

    /// Listens again after the listening connection was lost. Failing that,
    /// waiters fall back to polling until the next try.
    fn relisten(&self, slot: &mut Option<Client>) {
        if let Ok(mut c) = self.pool.connect()
            && c.batch_execute(&format!("LISTEN \"{}\"", self.channel))
                .is_ok()
        {
            *slot = Some(c);
        }
    }

    pub(super) fn mark(&self) -> Result<ChangeMark> {
        self.check_open()?;
        let g = *self.notifier.generation.lock();
        Ok(ChangeMark {
            local: g.0,
            external: g.1,
        })
    }

    pub(super) fn wait(&self, mark: ChangeMark, deadline: Instant) -> Result<bool> {
        loop {
            self.check_open()?;
            let seen = |g: &(u64, i64)| g.0 != mark.local || g.1 != mark.external;
            if seen(&self.notifier.generation.lock()) {
                return Ok(true);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            let slice = (deadline - now).min(POLL_FALLBACK);
            // One waiter at a time reads the listening connection; the others
            // wait for what it hears.
            let Some(mut guard) = self.listener.try_lock() else {
                let mut g = self.notifier.generation.lock();
                if !seen(&g) && self.notifier.changed.wait_for(&mut g, slice).timed_out() {
                    // The fallback: the caller looks again.
                    return Ok(true);
                }
                continue;
            };
            let Some(listener) = guard.as_mut() else {
                self.check_open()?;
                // Lost earlier: listen again, and look (notifications were missed).
                self.relisten(&mut guard);
                if guard.is_none() {
                    std::thread::sleep(slice.min(Duration::from_millis(100)));
                }
                return Ok(true);
            };
            let heard = listener
                .notifications()
                .timeout_iter(slice)
                .next()
                .map(|n| n.is_some());
            let Ok(heard) = heard else {
                // The connection is gone: drop it; the next wait listens again.
                *guard = None;
                return Ok(true);
            };
            if heard {
                // Drain what else arrived: one wake-up is enough.
                while let Ok(Some(_)) = listener.notifications().iter().next() {}
            }
            drop(guard);
            let mut g = self.notifier.generation.lock();
            if heard {
                g.1 = g.1.wrapping_add(1);
            }
            self.notifier.changed.notify_all();
            if !heard && !seen(&g) {
                // The fallback: the caller looks again.
                return Ok(true);
            }
        }
    }
}
