//! The grid's filters, as the page and `/api/jobs` take them, and the paged read.

use crate::actions::parse_utc;
use asyncop::{Filter, Operation, Queue, State, Status};
use serde::Deserialize;

/// The grid's query string: every field optional, empty means "any".
#[derive(Debug, Default, Clone, Deserialize)]
pub struct GridQuery {
    /// A state name (`Ready`) or code (`0`).
    pub state: Option<String>,
    /// A status name (`InProgress`) or code (`20`).
    pub status: Option<String>,
    /// An operation type.
    #[serde(rename = "type")]
    pub operation_type: Option<String>,
    /// A name prefix.
    pub name: Option<String>,
    /// Created at or after this UTC date-time.
    pub from: Option<String>,
    /// Created before this UTC date-time.
    pub to: Option<String>,
    /// Keyset paging: only ids greater than this.
    pub after: Option<String>,
    /// Rows per page (default 50, at most 500).
    pub limit: Option<String>,
}

/// One page of the grid.
#[derive(Debug, serde::Serialize)]
pub struct Page {
    /// The rows, by id.
    pub jobs: Vec<Operation>,
    /// The `after` of the next page, when there may be one.
    pub next_after: Option<i64>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn coded<T: Copy + std::fmt::Display>(
    text: &str,
    all: &[T],
    code: impl Fn(T) -> u8,
    what: &str,
) -> Result<T, String> {
    all.iter()
        .copied()
        .find(|v| v.to_string().eq_ignore_ascii_case(text) || code(*v).to_string() == text)
        .ok_or_else(|| format!("{text:?} is not a {what}"))
}

impl GridQuery {
    /// The library's filter (without the time range, which the store does not index).
    pub fn filter(&self) -> Result<(Filter, u32, Option<i64>, Option<i64>), String> {
        let mut f = Filter::default();
        if let Some(s) = given(&self.state) {
            f.state = Some(coded(s, &State::ALL, State::code, "state")?);
        }
        if let Some(s) = given(&self.status) {
            let status = coded(s, &Status::ALL, Status::code, "status")?;
            if f.state.is_some_and(|st| st != status.state()) {
                return Err(format!(
                    "status {status} does not belong to state {}",
                    f.state.map(|s| s.to_string()).unwrap_or_default()
                ));
            }
            f.status = Some(status);
        }
        if let Some(t) = given(&self.operation_type) {
            f.operation_type = Some(
                t.parse()
                    .map_err(|_| format!("{t:?} is not a type number"))?,
            );
        }
        f.name_prefix = given(&self.name).map(str::to_string);
        if let Some(a) = given(&self.after) {
            f.after_id = Some(a.parse().map_err(|_| format!("{a:?} is not an id"))?);
        }
        let limit = match given(&self.limit) {
            Some(l) => l
                .parse::<u32>()
                .map_err(|_| format!("{l:?} is not a row count"))?
                .clamp(1, 500),
            None => 50,
        };
        let from = given(&self.from).map(parse_utc).transpose()?;
        let to = given(&self.to).map(parse_utc).transpose()?;
        Ok((f, limit, from, to))
    }

    /// Reads one page; blocking. The time range is applied here, reading the
    /// store's pages of 500 until the page is full.
    pub fn read(&self, queue: &Queue) -> Result<Page, String> {
        let (mut filter, limit, from, to) = self.filter()?;
        let in_range = |op: &Operation| {
            from.is_none_or(|f| op.created_on >= f) && to.is_none_or(|t| op.created_on < t)
        };
        let mut jobs = Vec::new();
        let chunk = if from.is_some() || to.is_some() {
            500
        } else {
            limit
        };
        loop {
            filter.limit = Some(chunk);
            let rows = queue
                .query(&filter)
                .map_err(|e| format!("{}: {e}", e.name()))?;
            let exhausted = rows.len() < chunk as usize;
            for op in rows {
                filter.after_id = Some(op.id);
                if in_range(&op) {
                    jobs.push(op);
                    if jobs.len() == limit as usize {
                        let next_after = filter.after_id;
                        return Ok(Page { jobs, next_after });
                    }
                }
            }
            if exhausted {
                return Ok(Page {
                    jobs,
                    next_after: None,
                });
            }
        }
    }
}
