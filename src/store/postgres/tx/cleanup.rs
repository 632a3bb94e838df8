//! The statements of clean-up (§10) and held types on `PgTx`: a page of
//! Completed rows by the index of Completed rows, their deletion with their
//! attempt history, and the `held_type` rows that claims skip.

use super::*;
use crate::error::{Error, Result};
use crate::operation::HeldType;
use crate::store::{CompletedPage, CompletedRow};
use crate::transition::Status;

impl PgTx<'_> {
    /// A page of Completed rows older than `page.before`, after its cursor,
    /// in (`completed_on`, `id`) order.
    pub(super) fn completed_page_rows(&self, page: &CompletedPage) -> Result<Vec<CompletedRow>> {
        let (at, id) = page.after.unwrap_or((i64::MIN, i64::MIN));
        let found = self.query(
            &format!(
                "SELECT id, status, completed_on FROM operation \
                 WHERE state = 3 AND completed_on < $1 AND completed_on >= $2 \
                   AND (completed_on > $2 OR id > $3) \
                 ORDER BY completed_on, id LIMIT {}",
                page.limit
            ),
            &[&page.before, &at, &id],
        )?;
        found
            .iter()
            .map(|r| {
                let id: i64 = r.try_get(0)?;
                let status: i32 = r.try_get(1)?;
                Ok(CompletedRow {
                    id,
                    status: Status::from_code(i64::from(status)).ok_or_else(|| {
                        Error::Corrupt(format!("operation {id}: invalid status {status}"))
                    })?,
                    completed_on: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// Deletes the attempt history of the operations `ids`.
    pub(super) fn delete_attempts(&self, ids: &[i64]) -> Result<()> {
        if !ids.is_empty() {
            let ids = ids.to_vec();
            self.query_writing(
                "DELETE FROM attempt WHERE operation_id = ANY($1) RETURNING 1",
                &[&ids],
            )?;
        }
        Ok(())
    }

    /// Deletes the rows `ids` that are Completed, and their attempt history.
    /// No wake-up: deleting finished rows makes nothing claimable.
    pub(super) fn delete_completed_rows(&self, ids: &[i64]) -> Result<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        let wanted = ids.to_vec();
        let found = self.query_writing(
            "DELETE FROM operation WHERE id = ANY($1) AND state = 3 RETURNING id",
            &[&wanted],
        )?;
        let deleted: Vec<i64> = found
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<_, _>>()?;
        self.delete_attempts(&deleted)?;
        Ok(deleted.len())
    }

    /// The held operation types, by type.
    pub(super) fn held_type_rows(&self) -> Result<Vec<HeldType>> {
        let found = self.query(
            "SELECT operation_type, held_on FROM held_type ORDER BY operation_type",
            &[],
        )?;
        found
            .iter()
            .map(|r| {
                Ok(HeldType {
                    operation_type: r.try_get(0)?,
                    held_on: r.try_get(1)?,
                })
            })
            .collect()
    }

    /// Holds a type; false when it was already held. No wake-up: holding
    /// makes nothing claimable.
    pub(super) fn insert_held_type(&self, operation_type: i32, now: i64) -> Result<bool> {
        let found = self.query_writing(
            "INSERT INTO held_type (operation_type, held_on) VALUES ($1, $2) \
             ON CONFLICT (operation_type) DO NOTHING RETURNING 1",
            &[&operation_type, &now],
        )?;
        Ok(!found.is_empty())
    }

    /// Releases a type; false when it was not held. Wakes waiting polls
    /// (a `NOTIFY` at commit): its operations are claimable again.
    pub(super) fn delete_held_type(&self, operation_type: i32) -> Result<bool> {
        Ok(self.execute(
            "DELETE FROM held_type WHERE operation_type = $1",
            &[&operation_type],
        )? == 1)
    }
}
