//! The storage interface's commands on one SQLite connection: each delegates
//! to its statement.

use super::statements::{claims, cleanup, history, maintenance, query, rows, settings, watch};
use crate::attempt::{Attempt, Progress};
use crate::error::Result;
use crate::lease::LeaseKey;
use crate::operation::{CountRow, Filter, HeldType, Operation};
use crate::store::{
    ClaimRequest, Claimed, CompletedPage, CompletedRow, Lead, LeaseState, NewOperation, Read,
    Renewal, Write,
};
use crate::transition::Status;
use rusqlite::Connection;

/// A connection inside a read or write transaction of `SqliteStore`.
pub(super) struct SqliteTx<'c> {
    conn: &'c Connection,
}

impl<'c> SqliteTx<'c> {
    pub(super) fn new(conn: &'c Connection) -> SqliteTx<'c> {
        SqliteTx { conn }
    }
}

impl Read for SqliteTx<'_> {
    fn now(&self) -> Result<Option<i64>> {
        // One machine: the handle's clock is the only clock.
        Ok(None)
    }

    fn get(&self, id: i64) -> Result<Option<Operation>> {
        rows::get(self.conn, id)
    }

    fn query(&self, filter: &Filter) -> Result<Vec<Operation>> {
        query::query(self.conn, filter)
    }

    fn counts(&self) -> Result<Vec<CountRow>> {
        query::counts(self.conn)
    }

    fn setting(&self, key: &str) -> Result<Option<String>> {
        settings::setting(self.conn, key)
    }

    fn expired_leases(&self, now: i64, limit: u32) -> Result<Vec<Operation>> {
        maintenance::expired_leases(self.conn, now, limit)
    }

    fn due_postponed(&self, now: i64, limit: u32) -> Result<Vec<Operation>> {
        maintenance::due_postponed(self.conn, now, limit)
    }

    fn next_due(&self) -> Result<Option<i64>> {
        maintenance::next_due(self.conn)
    }

    fn may_have_work(&self, now: i64, types: Option<&[i32]>) -> Result<bool> {
        maintenance::may_have_work(self.conn, now, types)
    }

    fn check_integrity(&self) -> Result<()> {
        query::quick_check(self.conn)
    }

    fn held_types(&self) -> Result<Vec<HeldType>> {
        cleanup::held_types(self.conn)
    }

    fn completed_page(&self, page: &CompletedPage) -> Result<Vec<CompletedRow>> {
        cleanup::completed_page(self.conn, page)
    }

    fn lease_states(&self, ids: &[i64]) -> Result<Vec<LeaseState>> {
        watch::lease_states(self.conn, ids)
    }

    fn attempts(&self, operation_id: i64) -> Result<Vec<Attempt>> {
        history::attempts(self.conn, operation_id)
    }
}

impl Write for SqliteTx<'_> {
    fn insert(&self, row: &NewOperation<'_>) -> Result<i64> {
        rows::insert(self.conn, row)
    }

    fn claim(&self, request: &ClaimRequest<'_>) -> Result<Vec<Claimed>> {
        claims::claim(self.conn, request)
    }

    fn renew(&self, renewal: &Renewal) -> Result<Option<Status>> {
        claims::renew(self.conn, renewal)
    }

    fn update_held(&self, key: LeaseKey, cur: &Operation, next: &Operation) -> Result<bool> {
        rows::update(self.conn, Some(key), cur, next)
    }

    fn update(&self, cur: &Operation, next: &Operation) -> Result<bool> {
        rows::update(self.conn, None, cur, next)
    }

    fn update_recurrence(&self, cur: &Operation, pattern: &str, now: i64) -> Result<bool> {
        rows::update_recurrence(self.conn, cur, pattern, now)
    }

    fn delete(&self, cur: &Operation) -> Result<bool> {
        rows::delete(self.conn, cur)
    }

    fn set_progress(&self, id: i64, progress: &Progress) -> Result<()> {
        history::set_progress(self.conn, id, progress)
    }

    fn set_output(&self, id: i64, output: Option<&[u8]>) -> Result<()> {
        history::set_output(self.conn, id, output)
    }

    fn record_attempt(&self, attempt: &Attempt, keep: usize) -> Result<()> {
        history::record_attempt(self.conn, attempt, keep)
    }

    fn delete_completed(&self, ids: &[i64]) -> Result<usize> {
        cleanup::delete_completed(self.conn, ids)
    }

    fn hold_type(&self, operation_type: i32, now: i64) -> Result<bool> {
        cleanup::hold_type(self.conn, operation_type, now)
    }

    fn release_type(&self, operation_type: i32) -> Result<bool> {
        cleanup::release_type(self.conn, operation_type)
    }

    fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        settings::set_setting(self.conn, key, value)
    }

    fn lead(&self, lead: &Lead<'_>) -> Result<bool> {
        settings::lead(self.conn, lead)
    }

    fn resign(&self, name: &str, holder: &str) -> Result<()> {
        settings::resign(self.conn, name, holder)
    }
}
