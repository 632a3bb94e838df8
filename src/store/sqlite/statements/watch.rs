//! The statement of a stop watch: the leases of many rows in one read.

use crate::error::{Error, Result};
use crate::store::LeaseState;
use crate::transition::Status;
use rusqlite::Connection;

/// The status and lock token of each existing row of `ids`, by id. The ids go
/// in as one JSON array, so any number of them is one cached statement.
pub fn lease_states(conn: &Connection, ids: &[i64]) -> Result<Vec<LeaseState>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = format!(
        "[{}]",
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    );
    let mut stmt = conn.prepare_cached(
        "SELECT id, status, lock_token FROM operation \
         WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id",
    )?;
    let rows = stmt.query_map([list], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, status, lock_token) = row?;
        let status = Status::from_code(status)
            .ok_or_else(|| Error::Corrupt(format!("operation {id}: invalid status {status}")))?;
        out.push(LeaseState {
            id,
            status,
            lock_token,
        });
    }
    Ok(out)
}
