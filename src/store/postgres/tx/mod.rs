//! The storage interface's commands on one PostgreSQL transaction: `PgTx`
//! and its statements here, the reads in `read.rs`, the writes in `write.rs`,
//! an attempt's records (progress, output, history) in `history.rs`,
//! row conversion in `columns.rs`, clean-up and held types in `cleanup.rs`,
//! and the transaction's BEGIN and COMMIT in `framing.rs`.

mod cleanup;
mod columns;
mod framing;
mod history;
mod read;
mod write;

pub(super) use framing::{begin, commit, rollback};
pub(super) use write::claim_sql;

use super::pool::STATEMENT_CACHE;
use super::retry::{Fault, fault_of};
use crate::error::Result;
use crate::operation::Operation;
use crate::transition::State;
use columns::{COLUMNS, code, operation_from_columns, operation_from_row, rows};
use framing::Begun;
use postgres::types::ToSql;
use postgres::{Client, Row, Statement};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

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
    /// Rows BEGIN read (and locked), each handed out once by `get`.
    begun_rows: RefCell<HashMap<i64, Operation>>,
    /// The due postponed rows `expired_leases` read along, at its `now`
    /// and limit.
    due: RefCell<Option<(i64, u32, Vec<Operation>)>>,
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
            begun_rows: RefCell::new(begun.rows),
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

/// The ids of the `max` oldest eligible rows (§6.1, §6.7, §7), FIFO by id:
/// Ready rows not `blocked` (schema version 4: no earlier unfinished row of
/// their token) of a type not held. They sit in `operation_ready_type`
/// (type, id), and the statement takes the head of each type it may take
/// there (a LATERAL per type) and merges them by id: a row waiting behind a
/// token, of a type not asked for or of a held type is never visited. The
/// types are the array `types_param` (distinct), or without a filter those
/// that have eligible rows, found by a skip-scan of the index (one seek per
/// type). With `lock`, each head is taken `FOR UPDATE SKIP LOCKED`: up to
/// `max` rows per type are locked, of which the `max` oldest are used.
///
/// The type is bounded by a range (`>= x AND <= x`), not `= x`, and the
/// order is (type, id): an equality would make (type, id) order the same as
/// id order, and the planner, which cannot know how many rows of the type
/// `x` (a value of the outer row) has, would then walk the primary key in id
/// order and filter, through every skipped row. Only `operation_ready_type`
/// gives this order.
fn eligible_sql(state: State, types_param: Option<&str>, max: u32, lock: bool) -> String {
    let state = state.code();
    let ready = format!("FROM operation WHERE state = {state} AND NOT blocked");
    let types = match types_param {
        Some(p) => format!("SELECT DISTINCT x FROM unnest({p}::int[]) AS u(x)"),
        None => format!(
            "WITH RECURSIVE ready_type(x) AS ( \
                 SELECT min(operation_type) {ready} \
                 UNION ALL SELECT (SELECT min(operation_type) {ready} AND operation_type > r.x) \
                 FROM ready_type AS r WHERE r.x IS NOT NULL) \
             SELECT x FROM ready_type WHERE x IS NOT NULL"
        ),
    };
    let lock = if lock { " FOR UPDATE SKIP LOCKED" } else { "" };
    format!(
        "SELECT h.id FROM ({types}) AS t(x) CROSS JOIN LATERAL ( \
             SELECT c.id FROM operation AS c \
             WHERE c.operation_type >= t.x AND c.operation_type <= t.x \
                 AND c.state = {state} AND NOT c.blocked \
             ORDER BY c.operation_type, c.id LIMIT {max}{lock}) AS h \
         WHERE NOT EXISTS (SELECT 1 FROM held_type AS ht WHERE ht.operation_type = t.x) \
         ORDER BY h.id LIMIT {max}"
    )
}

/// The counts per (state, status, type): each group's row of
/// `operation_count` plus its pending changes (schema version 5), so the
/// cost grows with the groups and the changes not yet folded, not the rows.
pub(super) const COUNTS: &str = "SELECT status / 10, status, operation_type, sum(n)::bigint \
    FROM (SELECT status, operation_type, n FROM operation_count \
          UNION ALL SELECT status, operation_type, n FROM operation_count_change) AS c \
    GROUP BY status, operation_type HAVING sum(n) <> 0 ORDER BY status, operation_type";

/// The server's clock in UTC ms, read when the expression runs.
const CLOCK_MS: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
