//! How to open a queue.

use crate::clock::{Clock, SystemClock};
use crate::lease;
use crate::settings::SettingsUpdate;
use crate::store::postgres::PgOptions;
use crate::store::sqlite::SqliteOptions;
use crate::transition::Retention;
use std::sync::Arc;
use std::time::Duration;

/// How to open a queue. Host settings (timeouts, lease, clock, the store's
/// own options) are this handle's own. Queue-wide settings (`restricted_types`,
/// retry budget, back-off, `allow_delete_any`, `max_payload_bytes`, clean-up
/// and retention, `auto_delete_types`, `recurrence_updatable_types`) live in the
/// queue (§6.6): `None` keeps what the queue has (the defaults, on a new one);
/// `Some` writes the value, where every handle opened afterwards, in any
/// process, reads it.
#[derive(Debug, Clone)]
pub struct Options {
    /// The SQLite store's options: durability and the mode of a new file.
    pub sqlite: SqliteOptions,
    /// The PostgreSQL store's options: schema, pool size, connect timeout.
    pub postgres: PgOptions,
    /// A write that cannot get the write lock within this time returns `Busy`.
    pub busy_timeout: Duration,
    /// Lease length of claims made through this handle (default 30 s).
    pub lease: Duration,
    /// The handle's notion of now (`SystemClock` by default).
    pub clock: Arc<dyn Clock>,
    /// Queue-wide: operation types users may not cancel or pause (§9).
    pub restricted_types: Option<Vec<i32>>,
    /// Queue-wide: attempts in total, >= 1.
    pub max_attempts: Option<i32>,
    /// Queue-wide: the wait before the first retry.
    pub backoff_base: Option<Duration>,
    /// Queue-wide: the longest wait between retries.
    pub backoff_cap: Option<Duration>,
    /// Queue-wide: whether Delete is allowed in every state (§10).
    pub allow_delete_any: Option<bool>,
    /// Queue-wide payload limit in bytes: a submit whose data is longer is
    /// `InvalidArgument` and writes nothing. 1..=512 MiB
    /// ([`MAX_PAYLOAD_BYTES_CEILING`](crate::operation::MAX_PAYLOAD_BYTES_CEILING)),
    /// else `InvalidArgument` at open; the default is 16 MiB
    /// ([`DEFAULT_MAX_PAYLOAD_BYTES`](crate::operation::DEFAULT_MAX_PAYLOAD_BYTES)).
    pub max_payload_bytes: Option<u64>,
    /// Queue-wide: whether hosts purge expired Completed rows from their
    /// maintenance, at most hourly (§10; on by default).
    pub cleanup_enabled: Option<bool>,
    /// Queue-wide: how long Succeeded rows are kept (30 days by default;
    /// `Retention::Forever` keeps them until deleted by hand).
    pub retention_succeeded: Option<Retention>,
    /// Queue-wide: how long Failed rows are kept (60 days by default).
    pub retention_failed: Option<Retention>,
    /// Queue-wide: how long Canceled rows are kept (60 days by default).
    pub retention_canceled: Option<Retention>,
    /// Queue-wide: types whose one-shot successes are deleted at once instead
    /// of kept as 3/30 (§10; empty by default).
    pub auto_delete_types: Option<Vec<i32>>,
    /// Queue-wide: operation types whose series may get a new pattern through
    /// `Queue::set_recurrence` (§8); empty by default.
    pub recurrence_updatable_types: Option<Vec<i32>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sqlite: SqliteOptions::default(),
            postgres: PgOptions::default(),
            busy_timeout: Duration::from_secs(5),
            lease: lease::DEFAULT_LEASE,
            clock: Arc::new(SystemClock),
            restricted_types: None,
            max_attempts: None,
            backoff_base: None,
            backoff_cap: None,
            allow_delete_any: None,
            max_payload_bytes: None,
            cleanup_enabled: None,
            retention_succeeded: None,
            retention_failed: None,
            retention_canceled: None,
            auto_delete_types: None,
            recurrence_updatable_types: None,
        }
    }
}

impl Options {
    /// The queue-wide settings these options write at open.
    pub fn settings_update(&self) -> SettingsUpdate {
        SettingsUpdate {
            restricted_types: self.restricted_types.clone(),
            max_attempts: self.max_attempts,
            backoff_base: self.backoff_base,
            backoff_cap: self.backoff_cap,
            allow_delete_any: self.allow_delete_any,
            max_payload_bytes: self.max_payload_bytes,
            cleanup_enabled: self.cleanup_enabled,
            retention_succeeded: self.retention_succeeded,
            retention_failed: self.retention_failed,
            retention_canceled: self.retention_canceled,
            auto_delete_types: self.auto_delete_types.clone(),
            recurrence_updatable_types: self.recurrence_updatable_types.clone(),
        }
    }
}
