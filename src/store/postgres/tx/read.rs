//! The reads of `PgTx`.

use super::*;
use crate::error::{Error, Result};
use crate::operation::{CountRow, Filter, HeldType, Operation};
use crate::store::{CompletedPage, CompletedRow, LeaseState, Read};
use crate::transition::{self, State, Status};
use postgres::types::ToSql;

impl Read for PgTx<'_> {
    fn now(&self) -> Result<Option<i64>> {
        // Read with BEGIN (no round trip of its own). Statements that must not
        // run earlier than a commit their snapshot sees read it again
        // themselves (the claim: `greatest($now, clock)`).
        Ok(self.clock)
    }

    fn get(&self, id: i64) -> Result<Option<Operation>> {
        // Once: after a write to it, the row must be read again.
        if let Some(op) = self.begun_rows.borrow_mut().remove(&id) {
            return Ok(Some(op));
        }
        let lock = if self.writes { " FOR UPDATE" } else { "" };
        let found = self.query(
            &format!("SELECT {COLUMNS} FROM operation WHERE id = $1{lock}"),
            &[&id],
        )?;
        found.first().map(operation_from_row).transpose()
    }

    fn query(&self, filter: &Filter) -> Result<Vec<Operation>> {
        let state = filter.state.map(|s| i32::from(s.code()));
        let status = filter.status.map(|s| i32::from(s.code()));
        // A prefix is a range of the name index, compared in the "C" collation
        // (UTF-8 byte order, as the index is built) whatever the database's is.
        let prefix = filter.name_prefix.as_deref().filter(|p| !p.is_empty());
        let prefix_end = prefix.and_then(crate::operation::prefix_end);
        let conditions: [(&str, Option<&(dyn ToSql + Sync)>); 10] = [
            ("state =", state.as_ref().map(|v| v as _)),
            ("status =", status.as_ref().map(|v| v as _)),
            (
                "operation_type =",
                filter.operation_type.as_ref().map(|v| v as _),
            ),
            ("name COLLATE \"C\" =", filter.name.as_ref().map(|v| v as _)),
            (
                "correlation_id =",
                filter.correlation_id.as_ref().map(|v| v as _),
            ),
            ("name COLLATE \"C\" >=", prefix.as_ref().map(|v| v as _)),
            ("name COLLATE \"C\" <", prefix_end.as_ref().map(|v| v as _)),
            (
                "dependency_token =",
                filter.dependency_token.as_ref().map(|v| v as _),
            ),
            (
                "completed_on <",
                filter.completed_before.as_ref().map(|v| v as _),
            ),
            ("id >", filter.after_id.as_ref().map(|v| v as _)),
        ];
        let mut sql = format!("SELECT {COLUMNS} FROM operation WHERE true");
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::new();
        for (clause, value) in conditions {
            if let Some(value) = value {
                params.push(value);
                sql.push_str(&format!(" AND {clause} ${}", params.len()));
            }
        }
        sql.push_str(" ORDER BY id");
        if let Some(l) = filter.limit {
            sql.push_str(&format!(" LIMIT {l}"));
        }
        if let Some(o) = filter.offset {
            sql.push_str(&format!(" OFFSET {o}"));
        }
        rows(self.query(&sql, &params)?)
    }

    /// O(groups): the counts kept per (status, type) by the triggers of
    /// schema version 5, plus their pending changes.
    fn counts(&self) -> Result<Vec<CountRow>> {
        let found = self.query(COUNTS, &[])?;
        found
            .iter()
            .map(|r| {
                Ok(CountRow {
                    state: code(r.try_get(0)?, "state", State::from_code)?,
                    status: code(r.try_get(1)?, "status", Status::from_code)?,
                    operation_type: r.try_get(2)?,
                    count: r.try_get(3)?,
                    // Filled in by `Queue::counts` from `held_types` in the same snapshot.
                    held: false,
                })
            })
            .collect()
    }

    fn setting(&self, key: &str) -> Result<Option<String>> {
        let found = self.query("SELECT value FROM setting WHERE key = $1", &[&key])?;
        Ok(found.first().map(|r| r.try_get(0)).transpose()?)
    }

    fn expired_leases(&self, now: i64, limit: u32) -> Result<Vec<Operation>> {
        // One round trip for both of maintenance's looks: the due postponed
        // rows come along, kept for `due_postponed` when no lease expired (a
        // recovery may make a row due, and must then be seen). SKIP LOCKED: a
        // row another poller is recovering or promoting is its business.
        let found = self.query(
            &format!(
                "WITH expired AS (SELECT {COLUMNS} FROM operation \
                     WHERE state = 2 AND lease_expires_at <= $1 \
                     ORDER BY id LIMIT {limit} FOR UPDATE SKIP LOCKED), \
                 due AS (SELECT {COLUMNS} FROM operation WHERE state = 1 \
                     AND postpone_until IS NOT NULL AND postpone_until <= $1 \
                     ORDER BY postpone_until LIMIT {limit} FOR UPDATE SKIP LOCKED) \
                 SELECT true, * FROM expired UNION ALL SELECT false, * FROM due"
            ),
            &[&now],
        )?;
        let mut expired = Vec::new();
        let mut due = Vec::new();
        for row in &found {
            let op = operation_from_columns(row, 1)?;
            if row.try_get::<_, bool>(0)? {
                expired.push(op);
            } else {
                due.push(op);
            }
        }
        // Leased rows are indexed by id (a renewal changes no indexed
        // column), so a batch of expired leases is the oldest ids, not the
        // earliest expiries; due rows come in due-time order, ties by id.
        expired.sort_by_key(|o| o.id);
        due.sort_by_key(|o| (o.postpone_until, o.id));
        if expired.is_empty() {
            *self.due.borrow_mut() = Some((now, limit, due));
        }
        Ok(expired)
    }

    fn due_postponed(&self, now: i64, limit: u32) -> Result<Vec<Operation>> {
        if let Some((at, read_limit, due)) = self.due.borrow_mut().take()
            && at == now
            && read_limit == limit
        {
            return Ok(due);
        }
        // The index gives due-time order; ties are put in id order here.
        let mut due = rows(self.query(
            &format!(
                "SELECT {COLUMNS} FROM operation WHERE state = 1 AND postpone_until IS NOT NULL \
                 AND postpone_until <= $1 ORDER BY postpone_until LIMIT {limit} \
                 FOR UPDATE SKIP LOCKED"
            ),
            &[&now],
        )?)?;
        due.sort_by_key(|o| (o.postpone_until, o.id));
        Ok(due)
    }

    fn next_due(&self) -> Result<Option<i64>> {
        let found = self.query(
            "SELECT min(t) FROM ( \
                 SELECT min(postpone_until) AS t FROM operation \
                     WHERE state = 1 AND postpone_until IS NOT NULL \
                 UNION ALL SELECT min(lease_expires_at) FROM operation WHERE state = 2) AS due",
            &[],
        )?;
        Ok(found.first().map(|r| r.try_get(0)).transpose()?.flatten())
    }

    fn may_have_work(&self, now: i64, types: Option<&[i32]>) -> Result<bool> {
        let claimable = transition::claimable().state();
        let sql = format!(
            "SELECT EXISTS ({}) \
                 OR EXISTS (SELECT 1 FROM operation WHERE state = 2 AND lease_expires_at <= $1) \
                 OR EXISTS (SELECT 1 FROM operation WHERE state = 1 \
                            AND postpone_until IS NOT NULL AND postpone_until <= $1)",
            eligible_sql(claimable, types.map(|_| "$2"), 1, false)
        );
        let found = match types {
            Some(t) => {
                let t = t.to_vec();
                self.query(&sql, &[&now, &t])?
            }
            None => self.query(&sql, &[&now])?,
        };
        Ok(found
            .first()
            .map(|r| r.try_get(0))
            .transpose()?
            .unwrap_or(false))
    }

    fn attempts(&self, operation_id: i64) -> Result<Vec<crate::attempt::Attempt>> {
        self.read_attempts(operation_id)
    }

    fn check_integrity(&self) -> Result<()> {
        // PostgreSQL checks pages itself; this checks what the model adds.
        let found = self.query(
            "SELECT count(*) FROM operation WHERE state <> status / 10 \
                 OR (state = 2) <> (host_id IS NOT NULL)",
            &[],
        )?;
        let bad: i64 = found
            .first()
            .map(|r| r.try_get(0))
            .transpose()?
            .unwrap_or(0);
        if bad == 0 {
            Ok(())
        } else {
            Err(Error::Corrupt(format!(
                "{bad} rows break the model's invariants"
            )))
        }
    }

    fn held_types(&self) -> Result<Vec<HeldType>> {
        self.held_type_rows()
    }

    fn completed_page(&self, page: &CompletedPage) -> Result<Vec<CompletedRow>> {
        self.completed_page_rows(page)
    }

    fn lease_states(&self, ids: &[i64]) -> Result<Vec<LeaseState>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = ids.to_vec();
        let found = self.query(
            "SELECT id, status, lock_token FROM operation WHERE id = ANY($1) ORDER BY id",
            &[&ids],
        )?;
        found
            .iter()
            .map(|r| {
                Ok(LeaseState {
                    id: r.try_get(0)?,
                    status: code(r.try_get(1)?, "status", Status::from_code)?,
                    lock_token: r.try_get(2)?,
                })
            })
            .collect()
    }
}
