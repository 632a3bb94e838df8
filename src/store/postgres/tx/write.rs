//! The writes of `PgTx`.

use super::*;
use crate::attempt::{Attempt, Progress};
use crate::error::{Error, Result};
use crate::lease::LeaseKey;
use crate::operation::Operation;
use crate::store::{ClaimRequest, Claimed, HeldMove, Lead, NewOperation, Renewal, Write};
use crate::transition::{State, Status};
use postgres::types::ToSql;

const UPDATE: &str = "UPDATE operation SET state = $2, status = $3, postpone_until = $4, \
    host_id = $5, lease_expires_at = $6, retry_count = $7, error_code = $8, message = $9, \
    friendly_message = $10, modified_on = $11, completed_on = $12, execution_time_span = $13 \
    WHERE id = $1 AND state = $14 AND status = $15";

/// The claim statement: moves the `max` oldest eligible rows of state `from`
/// (of the types `$4` when `types`) to `to` for host `$1`, with the lease
/// ending at `$2` moved by as much as the claim's time is after `$3`.
pub(crate) fn claim_sql(
    from: State,
    to: Status,
    types: bool,
    max: u32,
    store_clock: bool,
) -> String {
    // MATERIALIZED: the picked rows are fixed before the UPDATE runs, so the
    // planner cannot turn the LIMIT into a loop that updates more rows.
    // With the store's clock, the claim's time is read by the claim itself,
    // after its snapshot: never earlier than a commit that snapshot sees
    // (a predecessor's completion), and the lease moves by as much.
    let at = if store_clock {
        format!("greatest($3::bigint, {CLOCK_MS})")
    } else {
        "$3::bigint".to_owned()
    };
    format!(
        "WITH picked AS MATERIALIZED ({}), \
             clock AS MATERIALIZED (SELECT {at} AS at) \
         UPDATE operation AS o SET state = {}, status = {}, host_id = $1, \
             lease_expires_at = $2::bigint + (clock.at - $3::bigint), lock_token = o.lock_token + 1, \
             started_on = clock.at, modified_on = clock.at, \
             progress = NULL, progress_text = NULL \
         FROM picked, clock WHERE o.id = picked.id \
         RETURNING o.id, o.lock_token, o.operation_type, o.name, o.data, o.retry_count, \
             o.dependency_token, o.correlation_id, o.lease_expires_at",
        eligible_sql(from, types.then_some("$4"), max, true),
        to.state().code(),
        to.code(),
    )
}

impl PgTx<'_> {
    fn update_row(&self, key: Option<LeaseKey>, cur: &Operation, next: &Operation) -> Result<bool> {
        let state = i32::from(next.state.code());
        let status = i32::from(next.status.code());
        let cur_state = i32::from(cur.state.code());
        let cur_status = i32::from(cur.status.code());
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![
            &cur.id,
            &state,
            &status,
            &next.postpone_until,
            &next.host_id,
            &next.lease_expires_at,
            &next.retry_count,
            &next.error_code,
            &next.message,
            &next.friendly_message,
            &next.modified_on,
            &next.completed_on,
            &next.execution_time_span,
            &cur_state,
            &cur_status,
        ];
        let held_sql;
        let sql = match &key {
            None => UPDATE,
            Some(key) => {
                params.push(&key.lock_token);
                held_sql = format!("{UPDATE} AND lock_token = $16");
                &held_sql
            }
        };
        Ok(self.execute(sql, &params)? == 1)
    }
}

impl Write for PgTx<'_> {
    fn insert(&self, row: &NewOperation<'_>) -> Result<i64> {
        let spec = row.spec;
        let token = spec.token();
        if let Some(t) = token {
            // Submits of one token are serialised until commit, so that per-token
            // id order is commit order (a claim relies on it).
            self.query(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 1))",
                &[&t],
            )?;
        }
        let state = i32::from(row.status.state().code());
        let status = i32::from(row.status.code());
        let found = self.query_writing(
            "INSERT INTO operation (name, operation_type, state, status, data, dependency_token, \
             postpone_until, correlation_id, created_on, modified_on, recurrence_pattern, \
             recurrence_start) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11) RETURNING id",
            &[
                &spec.name,
                &spec.operation_type,
                &state,
                &status,
                &spec.data,
                &token,
                &row.postpone_until,
                &spec.correlation_id,
                &row.now,
                &row.recurrence.map(|(pattern, _)| pattern),
                &row.recurrence.map(|(_, start)| start),
            ],
        )?;
        self.changed.set(true);
        let id = found
            .first()
            .ok_or_else(|| Error::Internal("INSERT returned no id".into()))?;
        Ok(id.try_get(0)?)
    }

    fn claim(&self, request: &ClaimRequest<'_>) -> Result<Vec<Claimed>> {
        let change = request.change;
        let sql = claim_sql(
            change.from.state(),
            change.to,
            request.types.is_some(),
            request.max,
            request.store_clock,
        );
        let found = match request.types {
            Some(t) => {
                let t = t.to_vec();
                self.query_writing(
                    &sql,
                    &[&change.host_id, &change.lease_expires_at, &change.now, &t],
                )?
            }
            None => self.query_writing(
                &sql,
                &[&change.host_id, &change.lease_expires_at, &change.now],
            )?,
        };
        // No wake-up for a claim: it makes nothing claimable and finishes
        // nothing (`query_writing` still marks the transaction as written).
        let mut claimed = found
            .iter()
            .map(|r| {
                Ok(Claimed {
                    id: r.try_get(0)?,
                    lock_token: r.try_get(1)?,
                    operation_type: r.try_get(2)?,
                    name: r.try_get(3)?,
                    data: r.try_get(4)?,
                    retry_count: r.try_get(5)?,
                    dependency_token: r.try_get(6)?,
                    correlation_id: r.try_get(7)?,
                    lease_expires_at: r.try_get(8)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        claimed.sort_by_key(|c| c.id);
        Ok(claimed)
    }

    fn renew(&self, renewal: &Renewal) -> Result<Option<Status>> {
        let key = renewal.key;
        let found = self.query_writing(
            "UPDATE operation SET lease_expires_at = $4 \
             WHERE id = $1 AND state = 2 AND lock_token = $2 AND lease_expires_at > $3 \
             RETURNING status",
            &[
                &key.id,
                &key.lock_token,
                &renewal.now,
                &renewal.lease_expires_at,
            ],
        )?;
        match found.first() {
            Some(r) => Ok(Status::from_code(i64::from(r.try_get::<_, i32>(0)?))),
            None => Ok(None),
        }
    }

    fn update_held(&self, key: LeaseKey, cur: &Operation, next: &Operation) -> Result<bool> {
        self.update_row(Some(key), cur, next)
    }

    fn update_held_many(&self, moves: &[HeldMove<'_>]) -> Result<Vec<bool>> {
        // One statement for the batch: the new rows as arrays, each written
        // where the row still has its read (state, status) and lock token.
        let col = |f: &dyn Fn(&HeldMove<'_>) -> Option<i64>| -> Vec<Option<i64>> {
            moves.iter().map(f).collect()
        };
        let int = |f: &dyn Fn(&HeldMove<'_>) -> i32| -> Vec<i32> { moves.iter().map(f).collect() };
        let text = |f: &dyn Fn(&HeldMove<'_>) -> Option<String>| -> Vec<Option<String>> {
            moves.iter().map(f).collect()
        };
        let ids: Vec<i64> = moves.iter().map(|m| m.key.id).collect();
        let tokens: Vec<i64> = moves.iter().map(|m| m.key.lock_token).collect();
        let state = int(&|m| i32::from(m.next.state.code()));
        let status = int(&|m| i32::from(m.next.status.code()));
        let cur_state = int(&|m| i32::from(m.cur.state.code()));
        let cur_status = int(&|m| i32::from(m.cur.status.code()));
        let retry_count = int(&|m| m.next.retry_count);
        let error_code: Vec<Option<i32>> = moves.iter().map(|m| m.next.error_code).collect();
        let postpone_until = col(&|m| m.next.postpone_until);
        let lease_expires_at = col(&|m| m.next.lease_expires_at);
        let modified_on = col(&|m| Some(m.next.modified_on));
        let completed_on = col(&|m| m.next.completed_on);
        let span = col(&|m| m.next.execution_time_span);
        let host_id = text(&|m| m.next.host_id.clone());
        let message = text(&|m| m.next.message.clone());
        let friendly = text(&|m| m.next.friendly_message.clone());
        let found = self.query_writing(
            "UPDATE operation AS o SET state = n.state, status = n.status, \
                 postpone_until = n.postpone_until, host_id = n.host_id, \
                 lease_expires_at = n.lease_expires_at, retry_count = n.retry_count, \
                 error_code = n.error_code, message = n.message, \
                 friendly_message = n.friendly_message, modified_on = n.modified_on, \
                 completed_on = n.completed_on, execution_time_span = n.execution_time_span \
             FROM unnest($1::bigint[], $2::int[], $3::int[], $4::bigint[], $5::text[], \
                 $6::bigint[], $7::int[], $8::int[], $9::text[], $10::text[], $11::bigint[], \
                 $12::bigint[], $13::bigint[], $14::int[], $15::int[], $16::bigint[]) \
                 AS n(id, state, status, postpone_until, host_id, lease_expires_at, retry_count, \
                      error_code, message, friendly_message, modified_on, completed_on, \
                      execution_time_span, cur_state, cur_status, lock_token) \
             WHERE o.id = n.id AND o.state = n.cur_state AND o.status = n.cur_status \
                 AND o.lock_token = n.lock_token \
             RETURNING o.id",
            &[
                &ids,
                &state,
                &status,
                &postpone_until,
                &host_id,
                &lease_expires_at,
                &retry_count,
                &error_code,
                &message,
                &friendly,
                &modified_on,
                &completed_on,
                &span,
                &cur_state,
                &cur_status,
                &tokens,
            ],
        )?;
        if !found.is_empty() {
            self.changed.set(true);
        }
        let written: std::collections::HashSet<i64> = found
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<_, _>>()?;
        Ok(ids.iter().map(|id| written.contains(id)).collect())
    }

    fn update(&self, cur: &Operation, next: &Operation) -> Result<bool> {
        self.update_row(None, cur, next)
    }

    fn update_recurrence(&self, cur: &Operation, pattern: &str, now: i64) -> Result<bool> {
        let state = i32::from(cur.state.code());
        let status = i32::from(cur.status.code());
        Ok(self.execute(
            "UPDATE operation SET recurrence_pattern = $2, modified_on = $3 \
             WHERE id = $1 AND state = $4 AND status = $5",
            &[&cur.id, &pattern, &now, &state, &status],
        )? == 1)
    }

    fn delete(&self, cur: &Operation) -> Result<bool> {
        let state = i32::from(cur.state.code());
        let status = i32::from(cur.status.code());
        let deleted = self.execute(
            "DELETE FROM operation WHERE id = $1 AND state = $2 AND status = $3",
            &[&cur.id, &state, &status],
        )? == 1;
        if deleted {
            self.delete_attempts(&[cur.id])?;
        }
        Ok(deleted)
    }

    fn delete_completed(&self, ids: &[i64]) -> Result<usize> {
        self.delete_completed_rows(ids)
    }

    fn hold_type(&self, operation_type: i32, now: i64) -> Result<bool> {
        self.insert_held_type(operation_type, now)
    }

    fn release_type(&self, operation_type: i32) -> Result<bool> {
        self.delete_held_type(operation_type)
    }

    fn set_progress(&self, id: i64, progress: &Progress) -> Result<()> {
        self.write_progress(id, progress)
    }

    fn set_output(&self, id: i64, output: Option<&[u8]>) -> Result<()> {
        self.write_output(id, output)
    }

    fn record_attempt(&self, attempt: &Attempt, keep: usize) -> Result<()> {
        self.insert_attempt(attempt, keep)
    }

    fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.execute(
            "INSERT INTO setting (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }

    fn lead(&self, lead: &Lead<'_>) -> Result<bool> {
        // By the database's clock unless time is pinned: a host whose clock is
        // ahead cannot take a leadership that has not expired.
        let at = if lead.store_clock {
            format!("greatest($3::bigint, {CLOCK_MS})")
        } else {
            "$3::bigint".to_owned()
        };
        let sql = format!(
            "INSERT INTO leader AS l (name, holder, expires_at) \
             SELECT $1, $2, at + $4 FROM (SELECT {at} AS at) AS clock \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                 expires_at = excluded.expires_at \
             WHERE l.holder = excluded.holder OR l.expires_at <= excluded.expires_at - $4 \
             RETURNING 1"
        );
        // Not a change waiters care about: no wake-up.
        let won = self.query_writing(&sql, &[&lead.name, &lead.holder, &lead.now, &lead.ttl_ms])?;
        Ok(!won.is_empty())
    }

    fn resign(&self, name: &str, holder: &str) -> Result<()> {
        self.query_writing(
            "DELETE FROM leader WHERE name = $1 AND holder = $2 RETURNING 1",
            &[&name, &holder],
        )?;
        Ok(())
    }
}
