//! Host-side rules through the real store: fencing (§6.3), dependency tokens (§7),
//! postpone promotion (§6.4), retries and back-off (§6.5), poison protection (§6.4),
//! host outcomes from Pausing and Canceling (§3.2), lease expiry (§3.3), restricted
//! types (§9), queue-wide settings (§6.6), waiting, submit validation (§5) and queries
//! (§11), one submodule per section. Every time-dependent rule runs on an injected
//! `ManualClock`; only the wake-up tests use real time, and only for the wait itself.
//!
//! Expected values are transcribed from `operation-model.md`, never computed by the code
//! under test.

mod complete_and_poll;
mod eligibility;
mod expiry;
mod fencing;
mod leader;
mod metrics;
mod ordering;
mod outcomes;
mod promotion;
mod query;
mod query_keys;
mod recurrence;
mod series;
mod retries;
mod settings;
pub(crate) mod stops;
mod submit;
mod waiting;
mod writes;

use super::store;
use crate::support;
use asyncop::error::LEASE_LOST_CODE;
use asyncop::{
    CountRow, Error, Filter, LeaseKey, MaintenanceReport, Operation, OperationSpec, PollOptions,
    Report, State, Status,
};
use std::time::{Duration, Instant};
use support::{Fixture, LEASE_MS, NORMAL_TYPE, RESTRICTED_TYPE, SPEC_RESTRICTED_TYPES, T0};

fn lease_lost(r: Result<Status, Error>, key: LeaseKey) -> bool {
    matches!(r, Err(Error::LeaseLost { id, lock_token, .. }) if id == key.id && lock_token == key.lock_token)
}

fn pair(op: &Operation) -> (State, Status) {
    (op.state, op.status)
}

fn ids(leases: &[asyncop::Lease]) -> Vec<i64> {
    leases.iter().map(|l| l.id).collect()
}
