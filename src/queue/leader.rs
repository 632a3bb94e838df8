//! Leadership: periodic work that one host at a time should do (retention, a
//! report, a sweep) goes to whoever holds a named row. Correctness never rests
//! on it: everything a host must do (recovering expired leases, promoting due
//! operations) any poller does. The row expires by the store's clock, so a
//! host that dies loses it after `ttl`, and on PostgreSQL a host whose clock
//! is wrong can neither keep it longer nor take it early.

use super::Queue;
use crate::error::{Error, Result};
use crate::lease;
use crate::store::Lead;
use std::time::Duration;

impl Queue {
    /// Takes the leadership `name` for `holder` (a host id), or keeps it if
    /// `holder` has it, for `ttl` from now; returns whether `holder` leads.
    /// Call it again before `ttl` passes to keep leading.
    pub fn try_lead(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool> {
        let store = self.open_store()?;
        check_name(name)?;
        lease::check_host_id(holder)?;
        if ttl.is_zero() {
            return Err(Error::InvalidArgument(
                "a leadership's ttl must be longer than zero".into(),
            ));
        }
        let ttl_ms = lease::duration_ms(ttl);
        store.write(|tx| {
            let (now, store_clock) = self.clock_in(tx)?;
            tx.lead(&Lead {
                name,
                holder,
                now,
                ttl_ms,
                store_clock,
            })
        })
    }

    /// Gives up the leadership `name` if `holder` holds it, so another host
    /// can take it at once (say, on shutdown).
    pub fn resign(&self, name: &str, holder: &str) -> Result<()> {
        let store = self.open_store()?;
        check_name(name)?;
        lease::check_host_id(holder)?;
        store.write(|tx| tx.resign(name, holder))
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 128 {
        return Err(Error::InvalidArgument(
            "a leadership's name must be 1 to 128 bytes".into(),
        ));
    }
    Ok(())
}
