//! A row of `operation` in PostgreSQL's text format, as a simple query returns
//! it: how BEGIN's round trip brings the rows a transaction decides on.

use super::pool::Failure;
use crate::error::Error;
use crate::operation::Operation;
use crate::transition::{State, Status};
use postgres::SimpleQueryRow;
use std::str::FromStr;

fn damaged(what: &str) -> Failure {
    Error::Corrupt(format!("a stored row is damaged: column {what}")).into()
}

/// Column `i` (`name` for messages) as text; `None` for NULL.
fn text<'r>(row: &'r SimpleQueryRow, i: usize, name: &str) -> Result<Option<&'r str>, Failure> {
    row.try_get(i).map_err(|_| damaged(name))
}

fn number<T: FromStr>(row: &SimpleQueryRow, i: usize, name: &str) -> Result<Option<T>, Failure> {
    text(row, i, name)?
        .map(|v| v.parse().map_err(|_| damaged(name)))
        .transpose()
}

fn required<T>(value: Option<T>, name: &str) -> Result<T, Failure> {
    value.ok_or_else(|| damaged(name))
}

fn owned(row: &SimpleQueryRow, i: usize, name: &str) -> Result<Option<String>, Failure> {
    Ok(text(row, i, name)?.map(str::to_owned))
}

/// `bytea` in the hex output format (`\x0a1b…`, the server default).
fn bytes(row: &SimpleQueryRow, i: usize, name: &str) -> Result<Vec<u8>, Failure> {
    required(optional_bytes(row, i, name)?, name)
}

/// A nullable `bytea` column.
fn optional_bytes(row: &SimpleQueryRow, i: usize, name: &str) -> Result<Option<Vec<u8>>, Failure> {
    let Some(hex) = text(row, i, name)? else {
        return Ok(None);
    };
    let hex = hex.strip_prefix("\\x").ok_or_else(|| damaged(name))?;
    if hex.len() % 2 != 0 {
        return Err(damaged(name));
    }
    (0..hex.len())
        .step_by(2)
        .map(|at| {
            hex.get(at..at + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| damaged(name))
        })
        .collect::<Result<Vec<u8>, Failure>>()
        .map(Some)
}

/// The operation in `row`, whose columns are `tx::COLUMNS` in order.
pub(super) fn operation(row: &SimpleQueryRow) -> Result<Operation, Failure> {
    let state: i64 = required(number(row, 3, "state")?, "state")?;
    let status: i64 = required(number(row, 4, "status")?, "status")?;
    Ok(Operation {
        id: required(number(row, 0, "id")?, "id")?,
        name: required(owned(row, 1, "name")?, "name")?,
        operation_type: required(number(row, 2, "operation_type")?, "operation_type")?,
        state: State::from_code(state).ok_or_else(|| damaged("state"))?,
        status: Status::from_code(status).ok_or_else(|| damaged("status"))?,
        data: bytes(row, 5, "data")?,
        dependency_token: owned(row, 6, "dependency_token")?,
        postpone_until: number(row, 7, "postpone_until")?,
        host_id: owned(row, 8, "host_id")?,
        lease_expires_at: number(row, 9, "lease_expires_at")?,
        lock_token: required(number(row, 10, "lock_token")?, "lock_token")?,
        retry_count: required(number(row, 11, "retry_count")?, "retry_count")?,
        error_code: number(row, 12, "error_code")?,
        message: owned(row, 13, "message")?,
        friendly_message: owned(row, 14, "friendly_message")?,
        created_on: required(number(row, 15, "created_on")?, "created_on")?,
        modified_on: required(number(row, 16, "modified_on")?, "modified_on")?,
        started_on: number(row, 17, "started_on")?,
        completed_on: number(row, 18, "completed_on")?,
        execution_time_span: number(row, 19, "execution_time_span")?,
        recurrence_pattern: owned(row, 20, "recurrence_pattern")?,
        recurrence_start: number(row, 21, "recurrence_start")?,
        correlation_id: owned(row, 22, "correlation_id")?,
        is_waiting_for_event: match required(
            text(row, 23, "is_waiting_for_event")?,
            "is_waiting_for_event",
        )? {
            "t" => true,
            "f" => false,
            _ => return Err(damaged("is_waiting_for_event")),
        },
        progress: number(row, 24, "progress")?,
        progress_text: owned(row, 25, "progress_text")?,
        output: optional_bytes(row, 26, "output")?,
    })
}
