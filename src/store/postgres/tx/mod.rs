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

/// Ready rows no earlier unfinished operation with the same token blocks,
/// whose token has no Locked operation (ids are taken before commits land, so
/// the second condition covers what the per-token submit lock cannot see),
/// and whose type is not held (§6.7: a primary-key probe of the small
/// `held_type` table per row visited, in the same walk).
fn eligible_sql(state: State, types: bool) -> String {
    let type_filter = if types {
        "AND c.operation_type = ANY($4)"
    } else {
        ""
    };
    format!(
        "SELECT c.id FROM operation AS c WHERE c.state = {state} {type_filter} \
           AND NOT EXISTS (SELECT 1 FROM held_type AS h WHERE h.operation_type = c.operation_type) \
           AND (c.dependency_token IS NULL OR NOT EXISTS ( \
               SELECT 1 FROM operation AS p WHERE p.dependency_token = c.dependency_token \
               AND ((p.state < {done} AND p.id < c.id) OR p.state = {locked})))",
        state = state.code(),
        done = State::Completed.code(),
        locked = State::Locked.code(),
    )
}

/// The server's clock in UTC ms, read when the expression runs.
const CLOCK_MS: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
