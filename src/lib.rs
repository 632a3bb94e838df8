//! asyncop: a durable, embeddable queue of asynchronous operations ("system jobs")
//! with the life cycle of Dynamics 365's `AsyncOperation`, on one SQLite file.
//!
//! The normative model is `docs/operation-model.md`; the modules follow it:
//! `transition` (every rule, pure), `queue` (the thread-safe public API),
//! `store` (the storage interface; `store::sqlite` implements it), `settings`
//! (queue-wide settings), `lease` (claims and fencing), `maintenance`
//! (recovery, promotion), `operation` (the records), `clock` (injectable time),
//! `error`, `worker` (handler threads with background renewal) and `ffi`
//! (the C ABI).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod attempt;
pub mod clock;
pub mod error;
pub mod ffi;
pub mod lease;
pub mod maintenance;
pub mod metrics;
pub mod operation;
pub mod queue;
pub mod settings;
pub mod stop;
pub mod store;
#[doc(hidden)]
pub mod testing;
pub mod transition;
pub mod worker;

pub use attempt::{Attempt, AttemptEnding, Progress};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, Result};
pub use lease::{Lease, LeaseKey, PollOptions, Report};
pub use maintenance::MaintenanceReport;
pub use metrics::{Event, EventHookId, EventKind, MetricsSnapshot};
pub use operation::{CountRow, Filter, HeldType, Operation, OperationSpec};
pub use queue::{Options, Queue};
pub use settings::Settings;
pub use stop::{StopReason, StopSignal};
pub use store::postgres::{PgOptions, SslMode};
pub use store::sqlite::{DEFAULT_FILE_MODE, Durability, SqliteOptions};
pub use transition::{Outcome, Retention, RetentionPolicy, RetryPolicy, State, Status};
pub use worker::{Job, JobOutcome, Worker, WorkerStats};
