//! The records of a running attempt and of attempts that ended in an error:
//! progress reports ([`Progress`]), the output a completed run stores, and
//! the bounded attempt history ([`Attempt`]).

use crate::error::{Error, Result};

/// The longest progress text, counted in characters: a longer one is
/// InvalidArgument (ASYNCOP_ERR_INVALID_ARG) and writes nothing.
/// C name: ASYNCOP_PROGRESS_TEXT_MAX_CHARS.
pub const MAX_PROGRESS_TEXT_CHARS: usize = 256;
/// The largest output a host may store on completion, 1 MiB: a larger one is
/// InvalidArgument (ASYNCOP_ERR_INVALID_ARG) and writes nothing (the lease is
/// still held). C name: ASYNCOP_OUTPUT_MAX_BYTES.
pub const MAX_OUTPUT_BYTES: usize = 1048576;
/// How many attempts that ended in an error an operation keeps: the newest
/// ones; an older row is deleted when a newer is recorded.
/// C name: ASYNCOP_ATTEMPTS_KEPT.
pub const ATTEMPTS_KEPT: usize = 20;

// The literal above is written out for the C header; this is its meaning.
const _: () = assert!(MAX_OUTPUT_BYTES == 1 << 20);

/// A progress report of a running attempt (`Queue::report_progress`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Percent done, 0..=100.
    pub percent: i32,
    /// A short text (at most [`MAX_PROGRESS_TEXT_CHARS`] characters, no NUL);
    /// `None` clears it.
    pub text: Option<String>,
    /// Commit it durably (a sync at `Durability::Full`, and a wake-up of
    /// waiting readers). By default a progress write is not synced on its own:
    /// the next durable commit covers it, and a power loss (SQLite) or a
    /// server crash (PostgreSQL) before that may lose the latest progress.
    pub durable: bool,
}

impl Progress {
    /// `percent` with an optional text, not synced on its own.
    pub fn new(percent: i32, text: Option<&str>) -> Progress {
        Progress {
            percent,
            text: text.map(str::to_owned),
            durable: false,
        }
    }

    /// The same report, committed durably.
    pub fn durable(mut self) -> Progress {
        self.durable = true;
        self
    }

    /// 0..=100 and a text within its limit, else InvalidArgument.
    pub(crate) fn check(&self) -> Result<()> {
        if !(0..=100).contains(&self.percent) {
            return Err(Error::InvalidArgument(format!(
                "progress must be 0..=100, got {}",
                self.percent
            )));
        }
        if let Some(text) = &self.text {
            crate::operation::check_text("progress text", text, MAX_PROGRESS_TEXT_CHARS)?;
            if text.contains('\0') {
                return Err(Error::InvalidArgument(
                    "progress text must not contain NUL".into(),
                ));
            }
        }
        Ok(())
    }
}

/// Checks an output against [`MAX_OUTPUT_BYTES`].
pub(crate) fn check_output(output: &[u8]) -> Result<()> {
    if output.len() > MAX_OUTPUT_BYTES {
        return Err(Error::InvalidArgument(format!(
            "output is {} bytes, more than the limit of {MAX_OUTPUT_BYTES} bytes",
            output.len()
        )));
    }
    Ok(())
}

/// How an attempt that is kept in the history ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AttemptEnding {
    /// The host reported a retryable failure (the operation was retried, or
    /// failed when the retry budget was spent: see its status).
    Retry,
    /// The host reported a permanent failure.
    Failed,
    /// The lease expired before the host reported (recovery, or poison).
    Expired,
}

impl AttemptEnding {
    /// Every ending, in code order.
    pub const ALL: [AttemptEnding; 3] = [
        AttemptEnding::Retry,
        AttemptEnding::Failed,
        AttemptEnding::Expired,
    ];

    /// The stored text: `retry`, `failed` or `expired`.
    pub const fn name(self) -> &'static str {
        match self {
            AttemptEnding::Retry => "retry",
            AttemptEnding::Failed => "failed",
            AttemptEnding::Expired => "expired",
        }
    }

    /// The C code (ASYNCOP_ENDING_*): retry 0, failed 1, expired 2.
    pub const fn code(self) -> i32 {
        match self {
            AttemptEnding::Retry => 0,
            AttemptEnding::Failed => 1,
            AttemptEnding::Expired => 2,
        }
    }

    /// The ending stored as `name`.
    pub fn from_name(name: &str) -> Option<AttemptEnding> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }
}

/// One attempt that ended in an error, as kept in the history
/// (`Queue::attempts`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Attempt {
    /// The operation.
    pub operation_id: i64,
    /// The lock token of the attempt's claim (one per attempt).
    pub lock_token: i64,
    /// When it was claimed (UTC ms).
    pub started_on: Option<i64>,
    /// When it ended (UTC ms): the report, or the recovery of the expired lease.
    pub ended_on: i64,
    /// The host that ran it.
    pub host_id: Option<String>,
    /// How it ended.
    pub ending: AttemptEnding,
    /// The reported error code (`LEASE_LOST_CODE` for an expiry).
    pub error_code: Option<i32>,
    /// The reported message (cut at 100,000 characters).
    pub message: Option<String>,
    /// The reported detail, e.g. a traceback (cut at 100,000 characters).
    pub detail: Option<String>,
}
