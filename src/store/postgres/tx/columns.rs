//! `operation` rows as the core's `Operation`.

use crate::error::{Error, Result};
use crate::operation::Operation;
use crate::transition::{State, Status};
use postgres::Row;

pub(super) const COLUMNS: &str = "id, name, operation_type, state, status, data, dependency_token, \
    postpone_until, host_id, lease_expires_at, lock_token, retry_count, error_code, message, \
    friendly_message, created_on, modified_on, started_on, completed_on, execution_time_span, \
    recurrence_pattern, recurrence_start, correlation_id, is_waiting_for_event, progress, \
    progress_text, output";

pub(super) fn code<T>(value: i32, what: &str, from: fn(i64) -> Option<T>) -> Result<T> {
    from(i64::from(value)).ok_or_else(|| {
        Error::Corrupt(format!(
            "a stored row is damaged: invalid {what} code {value}"
        ))
    })
}

pub(super) fn operation_from_row(row: &Row) -> Result<Operation> {
    operation_from_columns(row, 0)
}

/// The operation in `row`'s columns from `at` on (in `COLUMNS` order).
pub(super) fn operation_from_columns(row: &Row, at: usize) -> Result<Operation> {
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
        progress: row.try_get(c(24))?,
        progress_text: row.try_get(c(25))?,
        output: row.try_get(c(26))?,
    })
}

pub(super) fn rows(rows: Vec<Row>) -> Result<Vec<Operation>> {
    rows.iter().map(operation_from_row).collect()
}
