//! A running attempt's records through the real store (issue 13, items 4 and
//! 5): progress under a live lease (fenced, reset by a claim), the output a
//! completed run stores (size-limited), and the bounded history of attempts
//! that ended in an error (Retry, Failed, lease expiry). Every time rule runs
//! on the injected `ManualClock`.

mod attempts;
mod output;
mod progress;

use super::store;
use crate::support;
use asyncop::attempt::{ATTEMPTS_KEPT, MAX_OUTPUT_BYTES, MAX_PROGRESS_TEXT_CHARS};
use asyncop::error::LEASE_LOST_CODE;
use asyncop::{AttemptEnding, Error, LeaseKey, Progress, Report, State, Status};
use support::{Fixture, LEASE_MS, NORMAL_TYPE};

/// Longer than any back-off of the default policy (its cap is one hour).
const PAST_BACKOFF_MS: i64 = 3_600_000;

fn lease_lost<T: std::fmt::Debug>(r: Result<T, Error>, key: LeaseKey) -> bool {
    matches!(r, Err(Error::LeaseLost { id, lock_token, .. }) if id == key.id && lock_token == key.lock_token)
}

fn invalid<T: std::fmt::Debug>(r: Result<T, Error>) -> bool {
    matches!(r, Err(Error::InvalidArgument(_)))
}
