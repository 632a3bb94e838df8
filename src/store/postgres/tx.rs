//! The storage interface's commands on one PostgreSQL transaction.

use super::pool::{Failure, STATEMENT_CACHE};
use super::retry::{Fault, fault_of};
use super::text_row;
use crate::error::{Error, Result};
use crate::lease::LeaseKey;
use crate::operation::{CountRow, Filter, Operation};
use crate::store::{ClaimRequest, Claimed, HeldMove, Lead, NewOperation, Read, Renewal, Write};
use crate::transition::{self, State, Status};
use postgres::types::ToSql;
use postgres::{Client, Row, SimpleQueryMessage, Statement};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

const COLUMNS: &str = "id, name, operation_type, state, status, data, dependency_token, \
    postpone_until, host_id, lease_expires_at, lock_token, retry_count, error_code, message, \
    friendly_message, created_on, modified_on, started_on, completed_on, execution_time_span, \
    recurrence_pattern, recurrence_start, correlation_id, is_waiting_for_event";

/// A transaction of `PgStore`, and whether it changed something waiters care about.
pub(super) struct PgTx<'a> {
    /// The connection, inside the transaction `begin` opened.
    tx: RefCell<&'a mut Client>,
    /// The server's clock when the transaction began (read with BEGIN).
    clock: Option<i64>,
    /// The connection's prepared statements, by text.
    statements: RefCell<&'a mut HashMap<String, Statement>>,
    /// A row changed that waiters care about (a `NOTIFY` at commit).
    changed: Cell<bool>,
    /// A row changed at all (a renewal too): a lost commit reply must then be
    /// resolved, not ignored.
    wrote: Cell<bool>,
    /// Why the last statement failed, if running the transaction again may help.
    fault: Cell<Option<Fault>>,
    /// Rows `prefetch` read (and locked), each handed out once by `get`.
    prefetched: RefCell<HashMap<i64, Operation>>,
    /// The due postponed rows `expired_leases` read along, at its `now`.
    due: RefCell<Option<(i64, Vec<Operation>)>>,
    /// A write transaction: `get` locks the row (`FOR UPDATE`), so that the
    /// decision taken on it and the compare-and-set that writes it see the
    /// same row, as under SQLite's single writer.
    writes: bool,
}

impl<'a> PgTx<'a> {
    /// A transaction that `begin` opened on `client`, whose clock it read.
    pub(super) fn new(
        client: &'a mut Client,
        statements: &'a mut HashMap<String, Statement>,
        writes: bool,
        begun: Begun,
    ) -> PgTx<'a> {
        PgTx {
            tx: RefCell::new(client),
            clock: Some(begun.clock),
            statements: RefCell::new(statements),
            changed: Cell::new(false),
            wrote: Cell::new(false),
            fault: Cell::new(None),
            prefetched: RefCell::new(begun.rows),
            due: RefCell::new(None),
            writes,
        }
    }

    /// Whether a write of this transaction changed a row.
    pub(super) fn changed(&self) -> bool {
        self.changed.get()
    }

    /// Whether a statement of this transaction changed a row.
    pub(super) fn wrote(&self) -> bool {
        self.wrote.get()
    }

    /// Why the transaction failed, if running it again may help.
    pub(super) fn fault(&self) -> Option<Fault> {
        self.fault.get()
    }

    fn noted<T>(&self, result: std::result::Result<T, postgres::Error>) -> Result<T> {
        result.map_err(|e| {
            self.fault.set(fault_of(&e));
            e.into()
        })
    }

    /// `sql` prepared on this connection (once, while the cache has room).
    fn statement(&self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let prepared = self.tx.borrow_mut().prepare(sql);
        let prepared = self.noted(prepared)?;
        let mut cache = self.statements.borrow_mut();
        if cache.len() < STATEMENT_CACHE {
            cache.insert(sql.to_owned(), prepared.clone());
        }
        Ok(prepared)
    }

    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let statement = self.statement(sql)?;
        let result = self.tx.borrow_mut().query(&statement, params);
        self.noted(result)
    }

    /// A statement that changes the rows it returns.
    fn query_writing(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let rows = self.query(sql, params)?;
        if !rows.is_empty() {
            self.wrote.set(true);
        }
        Ok(rows)
    }

    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let statement = self.statement(sql)?;
        let result = self.tx.borrow_mut().execute(&statement, params);
        let n = self.noted(result)?;
        if n > 0 {
            self.changed.set(true);
            self.wrote.set(true);
        }
        Ok(n)
    }
}

fn code<T>(value: i32, what: &str, from: fn(i64) -> Option<T>) -> Result<T> {
    from(i64::from(value)).ok_or_else(|| {
        Error::Corrupt(format!(
            "a stored row is damaged: invalid {what} code {value}"
        ))
    })
}

fn operation_from_row(row: &Row) -> Result<Operation> {
    operation_from_columns(row, 0)
}

/// The operation in `row`'s columns from `at` on (in `COLUMNS` order).
fn operation_from_columns(row: &Row, at: usize) -> Result<Operation> {
    let c = |i: usize| at + i;
    Ok(Operation {
        id: row.try_get(c(0))?,
        name: row.try_get(c(1))?,
        operation_type: row.try_get(c(2))?,
        state: code(row.try_get(c(3))?, "state", State::from_code)?,
        status: code(row.try_get(c(4))?, "status", Status::from_code)?,
        data: row.try_get(c(5))?,
        dependency_token: row.try_get(c(6))?,
        postpone_until: row.try_get(c(7))?,
        host_id: row.try_get(c(8))?,
        lease_expires_at: row.try_get(c(9))?,
        lock_token: row.try_get(c(10))?,
        retry_count: row.try_get(c(11))?,
        error_code: row.try_get(c(12))?,
        message: row.try_get(c(13))?,
        friendly_message: row.try_get(c(14))?,
        created_on: row.try_get(c(15))?,
        modified_on: row.try_get(c(16))?,
        started_on: row.try_get(c(17))?,
        completed_on: row.try_get(c(18))?,
        execution_time_span: row.try_get(c(19))?,
        recurrence_pattern: row.try_get(c(20))?,
        recurrence_start: row.try_get(c(21))?,
        correlation_id: row.try_get(c(22))?,
        is_waiting_for_event: row.try_get(c(23))?,
    })
}

fn rows(rows: Vec<Row>) -> Result<Vec<Operation>> {
    rows.iter().map(operation_from_row).collect()
}

/// Ready rows no earlier unfinished operation with the same token blocks, and
/// whose token has no Locked operation (ids are taken before commits land, so
/// the second condition covers what the per-token submit lock cannot see).
fn eligible_sql(state: State, types: bool) -> String {
    let type_filter = if types {
        "AND c.operation_type = ANY($4)"
    } else {
        ""
    };
    format!(
        "SELECT c.id FROM operation AS c WHERE c.state = {state} {type_filter} \
           AND (c.dependency_token IS NULL OR NOT EXISTS ( \
               SELECT 1 FROM operation AS p WHERE p.dependency_token = c.dependency_token \
               AND ((p.state < {done} AND p.id < c.id) OR p.state = {locked})))",
        state = state.code(),
        done = State::Completed.code(),
        locked = State::Locked.code(),
    )
}

const UPDATE: &str = "UPDATE operation SET state = $2, status = $3, postpone_until = $4, \
    host_id = $5, lease_expires_at = $6, retry_count = $7, error_code = $8, message = $9, \
    friendly_message = $10, modified_on = $11, completed_on = $12, execution_time_span = $13 \
    WHERE id = $1 AND state = $14 AND status = $15";

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

/// The server's clock in UTC ms, read when the expression runs.
const CLOCK_MS: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

impl Read for PgTx<'_> {
    fn now(&self) -> Result<Option<i64>> {
        // Read with BEGIN (no round trip of its own). Statements that must not
        // run earlier than a commit their snapshot sees read it again
        // themselves (the claim: `greatest($now, clock)`).
        Ok(self.clock)
    }

    fn get(&self, id: i64) -> Result<Option<Operation>> {
        // Once: after a write to it, the row must be read again.
        if let Some(op) = self.prefetched.borrow_mut().remove(&id) {
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
        let conditions: [(&str, Option<&(dyn ToSql + Sync)>); 7] = [
            ("state =", state.as_ref().map(|v| v as _)),
            ("status =", status.as_ref().map(|v| v as _)),
            (
                "operation_type =",
                filter.operation_type.as_ref().map(|v| v as _),
            ),
            ("name =", filter.name.as_ref().map(|v| v as _)),
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

    fn counts(&self) -> Result<Vec<CountRow>> {
        let found = self.query(
            "SELECT state, status, operation_type, count(*) FROM operation \
             GROUP BY state, status, operation_type ORDER BY state, status, operation_type",
            &[],
        )?;
        found
            .iter()
            .map(|r| {
                Ok(CountRow {
                    state: code(r.try_get(0)?, "state", State::from_code)?,
                    status: code(r.try_get(1)?, "status", Status::from_code)?,
                    operation_type: r.try_get(2)?,
                    count: r.try_get(3)?,
                })
            })
            .collect()
    }

    fn setting(&self, key: &str) -> Result<Option<String>> {
        let found = self.query("SELECT value FROM setting WHERE key = $1", &[&key])?;
        Ok(found.first().map(|r| r.try_get(0)).transpose()?)
    }

    fn expired_leases(&self, now: i64) -> Result<Vec<Operation>> {
        // One round trip for both of maintenance's looks: the due postponed
        // rows come along, kept for `due_postponed` when no lease expired (a
        // recovery may make a row due, and must then be seen). SKIP LOCKED: a
        // row another poller is recovering or promoting is its business.
        let found = self.query(
            &format!(
                "WITH expired AS (SELECT {COLUMNS} FROM operation \
                     WHERE state = 2 AND lease_expires_at <= $1 ORDER BY id FOR UPDATE SKIP LOCKED), \
                 due AS (SELECT {COLUMNS} FROM operation WHERE state = 1 \
                     AND postpone_until IS NOT NULL AND postpone_until <= $1 \
                     ORDER BY id FOR UPDATE SKIP LOCKED) \
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
        expired.sort_by_key(|o| o.id);
        due.sort_by_key(|o| o.id);
        if expired.is_empty() {
            *self.due.borrow_mut() = Some((now, due));
        }
        Ok(expired)
    }

    fn due_postponed(&self, now: i64) -> Result<Vec<Operation>> {
        if let Some((at, due)) = self.due.borrow_mut().take()
            && at == now
        {
            return Ok(due);
        }
        rows(self.query(
            &format!(
                "SELECT {COLUMNS} FROM operation WHERE state = 1 AND postpone_until IS NOT NULL \
                 AND postpone_until <= $1 ORDER BY id FOR UPDATE SKIP LOCKED"
            ),
            &[&now],
        )?)
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
            "SELECT EXISTS ({} LIMIT 1) \
                 OR EXISTS (SELECT 1 FROM operation WHERE state = 2 AND lease_expires_at <= $1) \
                 OR EXISTS (SELECT 1 FROM operation WHERE state = 1 \
                            AND postpone_until IS NOT NULL AND postpone_until <= $1)",
            eligible_sql(claimable, types.is_some()).replace("$4", "$2")
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
             postpone_until, correlation_id, created_on, modified_on) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
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
        // MATERIALIZED: the picked rows are fixed before the UPDATE runs, so the
        // planner cannot turn the LIMIT into a loop that updates more rows.
        // With the store's clock, the claim's time is read by the claim itself,
        // after its snapshot: never earlier than a commit that snapshot sees
        // (a predecessor's completion), and the lease moves by as much.
        let at = if request.store_clock {
            format!("greatest($3::bigint, {CLOCK_MS})")
        } else {
            "$3::bigint".to_owned()
        };
        let sql = format!(
            "WITH picked AS MATERIALIZED ({} ORDER BY c.id LIMIT {} FOR UPDATE SKIP LOCKED), \
                 clock AS MATERIALIZED (SELECT {at} AS at) \
             UPDATE operation AS o SET state = {}, status = {}, host_id = $1, \
                 lease_expires_at = $2::bigint + (clock.at - $3::bigint), lock_token = o.lock_token + 1, \
                 started_on = clock.at, modified_on = clock.at \
             FROM picked, clock WHERE o.id = picked.id \
             RETURNING o.id, o.lock_token, o.operation_type, o.name, o.data, o.retry_count, \
                 o.dependency_token, o.correlation_id, o.lease_expires_at",
            eligible_sql(change.from.state(), request.types.is_some()),
            request.max,
            change.to.state().code(),
            change.to.code(),
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

    fn delete(&self, cur: &Operation) -> Result<bool> {
        let state = i32::from(cur.state.code());
        let status = i32::from(cur.status.code());
        Ok(self.execute(
            "DELETE FROM operation WHERE id = $1 AND state = $2 AND status = $3",
            &[&cur.id, &state, &status],
        )? == 1)
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

/// What `begin` read in the round trip of BEGIN.
pub(super) struct Begun {
    /// The server's clock.
    pub(super) clock: i64,
    /// The transaction's id (a write): what the store asks about if the reply
    /// to COMMIT is lost.
    pub(super) txid: Option<i64>,
    /// The rows asked for, read and locked (`FOR UPDATE`).
    pub(super) rows: HashMap<i64, Operation>,
}

/// Opens a transaction on `client` and reads, in the same round trip, the
/// server's clock, for a write the transaction id, and the rows `ids` (locked:
/// the transaction is about to decide on them).
pub(super) fn begin(
    client: &mut Client,
    writes: bool,
    ids: &[i64],
) -> std::result::Result<Begun, Failure> {
    let mut sql = if writes {
        format!("BEGIN; SELECT {CLOCK_MS}, txid_current()")
    } else {
        format!("BEGIN READ ONLY; SELECT {CLOCK_MS}")
    };
    if !ids.is_empty() {
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        let lock = if writes { " FOR UPDATE" } else { "" };
        sql.push_str(&format!(
            "; SELECT {COLUMNS} FROM operation WHERE id IN ({}) ORDER BY id{lock}",
            list.join(",")
        ));
    }
    let mut begun = Begun {
        clock: 0,
        txid: None,
        rows: HashMap::new(),
    };
    for message in client.simple_query(&sql).map_err(Failure::of)? {
        let SimpleQueryMessage::Row(row) = message else {
            continue;
        };
        if row.len() <= 2 {
            let number = |i| {
                row.try_get(i)
                    .ok()
                    .flatten()
                    .and_then(|v: &str| v.parse().ok())
            };
            begun.clock = number(0).unwrap_or(0);
            begun.txid = number(1);
        } else {
            let op = text_row::operation(&row)?;
            begun.rows.insert(op.id, op);
        }
    }
    Ok(begun)
}

/// Ends the transaction: COMMIT, preceded in the same round trip by the
/// wake-up `NOTIFY` when `notify` names a channel (delivered at commit).
pub(super) fn commit(
    client: &mut Client,
    notify: Option<&str>,
) -> std::result::Result<(), postgres::Error> {
    match notify {
        // The channel is `asyncop_<schema>`, a checked identifier: safe as a literal.
        Some(channel) => client.batch_execute(&format!("NOTIFY \"{channel}\"; COMMIT")),
        None => client.batch_execute("COMMIT"),
    }
}

/// Ends the transaction without keeping anything; false if that failed, and
/// the connection must then not be used again (on a lost connection the
/// server rolls back by itself).
pub(super) fn rollback(client: &mut Client) -> bool {
    client.batch_execute("ROLLBACK").is_ok()
}
