//! The user actions (§3.4, §4): each decided by `transition::user` on a
//! snapshot, then written with a compare-and-set on the snapshot's (state, status).

use super::Queue;
use crate::error::{Error, Result};
use crate::operation::{self, Operation};
use crate::transition::{self, State, Status, Step};

impl Queue {
    /// Validates against a snapshot, then writes with compare-and-set on its
    /// (state, status): a change in between gives `InvalidStateChangeUnexpected`.
    #[cfg_attr(
        feature = "tracing",
        tracing::instrument(
            target = "asyncop",
            level = "debug",
            name = "user_action",
            skip_all,
            fields(id)
        )
    )]
    fn user_action(
        &self,
        id: i64,
        decide: impl FnOnce(&Operation, bool) -> Result<Step>,
    ) -> Result<()> {
        let store = self.open_store()?;
        operation::check_id(id)?;
        let cur = store.read(|tx| tx.get(id))?.ok_or(Error::NotFound { id })?;
        let step = decide(&cur, self.is_restricted(cur.operation_type))?;
        let written: Option<Option<Operation>> = match step {
            Step::Unchanged => return Ok(()),
            // The write re-reads the row (§6.6): the move was decided on the snapshot's
            // (state, status), but the host's fields (lease, token, retries, errors) may
            // have moved on since, and must be kept as they are now.
            Step::Move(change) => store.write_rows(&[id], |tx| match tx.get(id)? {
                Some(fresh) if (fresh.state, fresh.status) == (cur.state, cur.status) => {
                    let next = transition::apply(&fresh, &change, self.now_in(tx)?, None);
                    Ok(tx.update(&fresh, &next)?.then_some(Some(next)))
                }
                _ => Ok(None),
            })?,
            Step::Delete => store.write(|tx| tx.delete(&cur))?.then_some(None),
        };
        if let Some(next) = written {
            self.observe_user_action(&cur, next.as_ref());
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
}

impl Queue {
    /// Gives a series a new recurrence pattern (§8). Checks, in order: open,
    /// id (`InvalidArgument`), the row (`NotFound`), a one-shot operation
    /// (`CannotUpdateNonrecurring`, 0x80044168), a type not in
    /// `recurrence_updatable_types` (`CannotUpdateRecurring`, 0x80044169), a
    /// Completed series (`InvalidStateChange`, 0x80044162), the pattern
    /// (`InvalidArgument`; empty too). The pattern takes effect at the next
    /// scheduling, counted from the series' `recurrence_start`; a pending
    /// `postpone_until` stays as it is. The row is read and written in one
    /// transaction, so a host's move in between cannot be lost or refused.
    pub fn set_recurrence(&self, id: i64, pattern: &str) -> Result<()> {
        let store = self.open_store()?;
        operation::check_id(id)?;
        let updatable = &self.inner.settings.recurrence_updatable_types;
        store.write_rows(&[id], |tx| {
            let cur = tx.get(id)?.ok_or(Error::NotFound { id })?;
            let recurring = cur
                .recurrence_pattern
                .as_deref()
                .is_some_and(|p| !p.trim().is_empty());
            transition::set_recurrence(
                cur.status,
                recurring,
                updatable.contains(&cur.operation_type),
                pattern,
            )?;
            let now = self.now_in(tx)?;
            if tx.update_recurrence(&cur, pattern, now)? {
                Ok(())
            } else {
                Err(Error::InvalidStateChangeUnexpected)
            }
        })
    }
}
