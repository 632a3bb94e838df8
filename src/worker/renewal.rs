//! The renewal thread: renews the lease of every claimed job (running,
//! prefetched, or finished and waiting for its completion) every
//! `renew_every`, so no handler renews. A pause, cancel or lost lease reaches
//! the handler through its stop signal, not through this thread.

use super::shared::Shared;
use super::stats::Count;
use crate::error::Error;
use std::time::{Duration, Instant};

/// The body of the renewal thread: ends once the worker stops and its handler
/// threads have ended.
pub(super) fn renew_loop(shared: &Shared) {
    let tick = (shared.renew_every / 4).clamp(Duration::from_millis(5), Duration::from_millis(500));
    loop {
        if shared.stopping() && shared.turns.lock().alive == 0 {
            return;
        }
        let now = Instant::now();
        let due: Vec<_> = {
            let mut active = shared.active.lock();
            active
                .values_mut()
                .filter(|r| r.next <= now)
                .map(|r| {
                    r.next = now + shared.renew_every;
                    r.key
                })
                .collect()
        };
        for key in due {
            match shared.queue.renew(key) {
                // Pausing / Canceling: the stop signal tells the handler.
                Ok(_) => {}
                // Lost (the signal tells it), finished meanwhile, queue closed.
                Err(Error::LeaseLost { .. } | Error::Closed) => {}
                Err(Error::Busy) => {
                    if let Some(r) = shared.active.lock().get_mut(&key.id) {
                        r.next = now; // again at the next tick
                    }
                }
                Err(_) => shared.count(Count::Errors),
            }
        }
        let mut active = shared.active.lock();
        shared.renewer_wake.wait_for(&mut active, tick);
    }
}
