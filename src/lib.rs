//! asyncop: a durable, embeddable queue of asynchronous operations ("system jobs")
//! on one SQLite file, with the life cycle of Dynamics 365's `AsyncOperation`.
//!
//! The normative model is `operation-model.md`; the modules follow it:
//! `transition` (pure state machine), `store` (schema and every statement),
//! `lease` (claims and fencing), `maintenance` (recovery, promotion, back-off),
//! `queue` (the thread-safe public API), `clock` (injectable time).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod clock;
pub mod error;
pub mod ffi;
pub mod lease;
pub mod maintenance;
pub mod operation;
pub mod queue;
pub mod store;
pub mod transition;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, Result};
pub use lease::{Lease, LeaseKey, PollOptions, Report};
pub use maintenance::{MaintenanceReport, RetryPolicy};
pub use operation::{CountRow, Filter, Operation, OperationSpec};
pub use queue::{DEFAULT_FILE_MODE, Options, Queue, Settings};
pub use store::Durability;
pub use transition::{Outcome, State, Status};
