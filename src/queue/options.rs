//! How to open a queue.

use crate::clock::{Clock, SystemClock};
use crate::lease;
use crate::settings::SettingsUpdate;
use crate::store::postgres::PgOptions;
use crate::store::sqlite::SqliteOptions;
use std::sync::Arc;
use std::time::Duration;

/// How to open a queue. Host settings (timeouts, lease, clock, the store's
/// own options) are this handle's own. Queue-wide settings (`restricted_types`,
/// retry budget, back-off, `allow_delete_any`, `max_payload_bytes`,
/// `recurrence_updatable_types`) live in the
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
            recurrence_updatable_types: self.recurrence_updatable_types.clone(),
        }
    }
}
