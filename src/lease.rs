//! Claims, leases and fencing (§6.2, §6.3).
//!
//! A claim gives the host a [`Lease`]: the operation, its lock token (fencing
//! token, +1 on every claim) and an expiry. Every host call names the
//! operation and its token ([`LeaseKey`]); it is accepted only while the row is
//! Locked under that token and the lease has not expired, else `LeaseLost`.
//!
//! Defaults (§13): lease 30 s, renew every 10 s (at most a third of the lease).

use crate::error::{Error, Result};
use crate::operation::Operation;
use crate::transition::State;
use crate::transition::explain::pair_name;
use crate::transition::time_text::iso_utc;
use std::time::Duration;

/// Default lease length (§13).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// Recommended renewal period: a third of the default lease (§13).
pub const DEFAULT_RENEW_EVERY: Duration = Duration::from_secs(10);

/// The most operations one poll may claim (`PollOptions::max`, the `max` of
/// `asyncop_queue_poll`): a larger one is InvalidArgument (ASYNCOP_ERR_INVALID_ARG)
/// in every language, refused before anything is allocated or claimed.
/// C name: ASYNCOP_POLL_MAX; the Python and C# wrappers are tested against it.
pub const MAX_POLL: u32 = 65536;

/// What a host needs to name a claimed operation in later calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeaseKey {
    /// The operation.
    pub id: i64,
    /// The lock token of the claim (§6.3).
    pub lock_token: i64,
}

/// A claimed operation, handed to one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The operation.
    pub id: i64,
    /// Fencing token of this claim.
    pub lock_token: i64,
    /// The host that claimed it.
    pub host_id: String,
    /// Selects the handler.
    pub operation_type: i32,
    /// The operation's name.
    pub name: String,
    /// The payload.
    pub data: Vec<u8>,
    /// 1 for the first attempt; `retry_count + 1` at claim time.
    pub attempt: i32,
    /// The lease ends at this time unless renewed.
    pub expires_at: i64,
    /// The serialization key (§7).
    pub dependency_token: Option<String>,
    /// The free key linking related operations.
    pub correlation_id: Option<String>,
}

impl Lease {
    /// The key that names this claim in later host calls.
    pub fn key(&self) -> LeaseKey {
        LeaseKey {
            id: self.id,
            lock_token: self.lock_token,
        }
    }
}

impl From<&Lease> for LeaseKey {
    fn from(lease: &Lease) -> LeaseKey {
        lease.key()
    }
}

/// How a host claims work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollOptions {
    /// Claim at most this many operations (1..=[`MAX_POLL`]).
    pub max: u32,
    /// If nothing is claimable, wait up to this long for work (`None`: return at once).
    pub wait: Option<Duration>,
    /// Claim only these operation types (`None`: any). Skipped operations keep their place.
    pub operation_types: Option<Vec<i32>>,
}

impl Default for PollOptions {
    fn default() -> Self {
        PollOptions {
            max: 1,
            wait: None,
            operation_types: None,
        }
    }
}

impl PollOptions {
    /// Claims at most `max` operations.
    pub fn max(mut self, max: u32) -> Self {
        self.max = max;
        self
    }
    /// Waits up to `wait` for work when none is claimable.
    pub fn wait(mut self, wait: Duration) -> Self {
        self.wait = Some(wait);
        self
    }
    /// Claims only these operation types.
    pub fn operation_types(mut self, types: impl Into<Vec<i32>>) -> Self {
        self.operation_types = Some(types.into());
        self
    }
}

/// What a host reports with an outcome (§3.2, §5). Absent values become null.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// An HRESULT (as signed) or an asyncop code.
    pub error_code: Option<i32>,
    /// Technical detail; cut at 100,000 characters rather than refused.
    pub message: Option<String>,
    /// Text meant for end users; cut like `message`.
    pub friendly_message: Option<String>,
    /// For a Retry outcome: when to try again instead of the back-off time
    /// (never earlier than now).
    pub retry_at: Option<i64>,
    /// Long detail of a Retry or Failed outcome, e.g. a traceback: kept only in
    /// the attempt history (`Queue::attempts`), cut like `message`.
    pub detail: Option<String>,
}

impl Report {
    /// A report with an error code and a message.
    pub fn error(code: i32, message: impl Into<String>) -> Report {
        Report {
            error_code: Some(code),
            message: Some(message.into()),
            ..Default::default()
        }
    }
    /// The same report with a `detail` for the attempt history.
    pub fn detail(mut self, detail: impl Into<String>) -> Report {
        self.detail = Some(detail.into());
        self
    }
    /// A report with a message only.
    pub fn message(message: impl Into<String>) -> Report {
        Report {
            message: Some(message.into()),
            ..Default::default()
        }
    }
}

/// The fencing rule (§6.3): the row exists, is Locked, carries this token and
/// its lease is live at `now`. Returns the row, or `LeaseLost`.
pub(crate) fn held(row: Option<Operation>, key: LeaseKey, now: i64) -> Result<Operation> {
    let Some(row) = row else {
        return Err(lost(key, "the operation no longer exists".into()));
    };
    let host = row.host_id.as_deref().unwrap_or("?");
    let detail = if row.state != State::Locked {
        format!(
            "it is no longer Locked (now {}, {}/{})",
            pair_name(row.state.code(), row.status.code()),
            row.state.code(),
            row.status.code()
        )
    } else if row.lock_token != key.lock_token {
        format!(
            "host {host} claimed it again under lock token {}",
            row.lock_token
        )
    } else {
        match row.lease_expires_at {
            Some(t) if t > now => return Ok(row),
            Some(t) => format!(
                "the lease of host {host} expired at {} (now {})",
                iso_utc(t),
                iso_utc(now)
            ),
            None => format!("host {host} holds no lease"),
        }
    };
    Err(lost(key, detail))
}

pub(crate) fn lost(key: LeaseKey, detail: String) -> Error {
    Error::LeaseLost {
        id: key.id,
        lock_token: key.lock_token,
        detail,
    }
}

/// Checks a lease length: longer than 0. The one rule for `Options::lease`
/// and the C ABI's `asyncop_options_set_lease_ms`.
pub fn check_lease(lease: Duration) -> Result<()> {
    if lease.is_zero() {
        return Err(Error::InvalidArgument("lease must be longer than 0".into()));
    }
    Ok(())
}

pub(crate) fn check_host_id(host_id: &str) -> Result<()> {
    if host_id.is_empty() {
        return Err(Error::InvalidArgument("host_id must not be empty".into()));
    }
    crate::operation::check_text("host_id", host_id, crate::operation::MAX_NAME_CHARS)
}

pub(crate) fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
