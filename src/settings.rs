//! Queue-wide settings (§6.6, §9, §10): stored in the queue, shared by every
//! handle of every process, read once at open. The defaults live here alone;
//! a store seeds a new queue with them (checked by `tests/conformance`).

use crate::error::{Error, Result};
use crate::lease::duration_ms;
use crate::operation::{self, DEFAULT_MAX_PAYLOAD_BYTES};
use crate::store::{Read, Write};
use crate::transition::{Retention, RetentionPolicy, RetryPolicy};
use std::time::Duration;

/// The documented default of `restricted_types` (§9).
pub const DEFAULT_RESTRICTED_TYPES: [i32; 10] = [9, 16, 18, 19, 20, 22, 24, 25, 27, 31];

/// The stored keys.
mod key {
    pub const RESTRICTED_TYPES: &str = "restricted_types";
    pub const MAX_ATTEMPTS: &str = "max_attempts";
    pub const BACKOFF_BASE_MS: &str = "backoff_base_ms";
    pub const BACKOFF_CAP_MS: &str = "backoff_cap_ms";
    pub const ALLOW_DELETE_ANY: &str = "allow_delete_any";
    pub const MAX_PAYLOAD_BYTES: &str = "max_payload_bytes";
    pub const CLEANUP_ENABLED: &str = "cleanup_enabled";
    pub const RETENTION_SUCCEEDED_MS: &str = "retention_succeeded_ms";
    pub const RETENTION_FAILED_MS: &str = "retention_failed_ms";
    pub const RETENTION_CANCELED_MS: &str = "retention_canceled_ms";
    pub const AUTO_DELETE_TYPES: &str = "auto_delete_types";
    pub const RECURRENCE_UPDATABLE_TYPES: &str = "recurrence_updatable_types";
}

/// The stored key of the time of the last purge started from maintenance
/// (UTC ms, by the store's clock): not a setting users set, the state of the
/// hourly schedule (§10).
pub const LAST_PURGE_AT: &str = "last_purge_at";

/// The stored value of a retention kept forever ("none", §10).
pub const RETENTION_NONE: &str = "none";

/// Queue-wide settings as read from the queue at open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Operation types users may not cancel or pause (§9).
    pub restricted_types: Vec<i32>,
    /// The retry budget and back-off (§6.5).
    pub retry: RetryPolicy,
    /// Whether Delete is allowed in every state, not only Completed (§10).
    pub allow_delete_any: bool,
    /// The payload limit in bytes (16 MiB when absent).
    pub max_payload_bytes: u64,
    /// Whether maintenance purges expired Completed rows (at most hourly, §10).
    pub cleanup_enabled: bool,
    /// How long Completed rows of each final status are kept (§10).
    pub retention: RetentionPolicy,
    /// Types whose one-shot successes are deleted instead of kept (§10).
    pub auto_delete_types: Vec<i32>,
    /// Operation types whose series may get a new pattern (`set_recurrence`,
    /// §8); empty by default.
    pub recurrence_updatable_types: Vec<i32>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            restricted_types: DEFAULT_RESTRICTED_TYPES.to_vec(),
            retry: RetryPolicy::default(),
            allow_delete_any: false,
            max_payload_bytes: DEFAULT_MAX_PAYLOAD_BYTES,
            cleanup_enabled: true,
            retention: RetentionPolicy::default(),
            auto_delete_types: Vec::new(),
            recurrence_updatable_types: Vec::new(),
        }
    }
}

/// Settings a handle asks to write at open (`Options`): `None` keeps what the
/// queue has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsUpdate {
    /// New `restricted_types`.
    pub restricted_types: Option<Vec<i32>>,
    /// New retry budget (>= 1).
    pub max_attempts: Option<i32>,
    /// New back-off base.
    pub backoff_base: Option<Duration>,
    /// New back-off cap.
    pub backoff_cap: Option<Duration>,
    /// New `allow_delete_any`.
    pub allow_delete_any: Option<bool>,
    /// New payload limit (1..=512 MiB).
    pub max_payload_bytes: Option<u64>,
    /// New `cleanup_enabled`.
    pub cleanup_enabled: Option<bool>,
    /// New retention of Succeeded rows.
    pub retention_succeeded: Option<Retention>,
    /// New retention of Failed rows.
    pub retention_failed: Option<Retention>,
    /// New retention of Canceled rows.
    pub retention_canceled: Option<Retention>,
    /// New `auto_delete_types`.
    pub auto_delete_types: Option<Vec<i32>>,
    /// New `recurrence_updatable_types`.
    pub recurrence_updatable_types: Option<Vec<i32>>,
}

impl SettingsUpdate {
    /// Whether anything is to be written (a write transaction is needed).
    pub fn is_empty(&self) -> bool {
        *self == SettingsUpdate::default()
    }

    /// The argument checks, before the queue is opened.
    pub fn validate(&self) -> Result<()> {
        if let Some(n) = self.max_attempts {
            check_max_attempts(n)?;
        }
        if let Some(n) = self.max_payload_bytes {
            operation::check_max_payload_bytes(n)?;
        }
        if let Some(types) = &self.auto_delete_types {
            for &t in types {
                operation::check_operation_type(t)?;
            }
        }
        Ok(())
    }

    /// Writes the values that are set.
    pub fn write(&self, tx: &dyn Write) -> Result<()> {
        if let Some(types) = &self.restricted_types {
            tx.set_setting(key::RESTRICTED_TYPES, &write_list(types))?;
        }
        if let Some(types) = &self.recurrence_updatable_types {
            tx.set_setting(key::RECURRENCE_UPDATABLE_TYPES, &write_list(types))?;
        }
        if let Some(n) = self.max_attempts {
            tx.set_setting(key::MAX_ATTEMPTS, &n.to_string())?;
        }
        if let Some(d) = self.backoff_base {
            tx.set_setting(key::BACKOFF_BASE_MS, &duration_ms(d).to_string())?;
        }
        if let Some(d) = self.backoff_cap {
            tx.set_setting(key::BACKOFF_CAP_MS, &duration_ms(d).to_string())?;
        }
        if let Some(b) = self.allow_delete_any {
            tx.set_setting(key::ALLOW_DELETE_ANY, if b { "1" } else { "0" })?;
        }
        if let Some(n) = self.max_payload_bytes {
            tx.set_setting(key::MAX_PAYLOAD_BYTES, &n.to_string())?;
        }
        if let Some(b) = self.cleanup_enabled {
            tx.set_setting(key::CLEANUP_ENABLED, if b { "1" } else { "0" })?;
        }
        let retentions = [
            (key::RETENTION_SUCCEEDED_MS, self.retention_succeeded),
            (key::RETENTION_FAILED_MS, self.retention_failed),
            (key::RETENTION_CANCELED_MS, self.retention_canceled),
        ];
        for (k, retention) in retentions {
            if let Some(r) = retention {
                let value = r
                    .ms()
                    .map_or(RETENTION_NONE.to_owned(), |ms| ms.to_string());
                tx.set_setting(k, &value)?;
            }
        }
        if let Some(types) = &self.auto_delete_types {
            let list: Vec<String> = types.iter().map(i32::to_string).collect();
            tx.set_setting(key::AUTO_DELETE_TYPES, &list.join(","))?;
        }
        Ok(())
    }
}

impl Settings {
    /// Reads the settings; an absent key has its default, a value that does
    /// not parse (or a payload limit out of range) is `Corrupt`.
    pub fn load(tx: &dyn Read) -> Result<Settings> {
        let defaults = Settings::default();
        let max_payload_bytes = parse(
            key::MAX_PAYLOAD_BYTES,
            tx.setting(key::MAX_PAYLOAD_BYTES)?,
            defaults.max_payload_bytes,
        )?;
        if operation::check_max_payload_bytes(max_payload_bytes).is_err() {
            return Err(Error::Corrupt(format!(
                "bad setting max_payload_bytes = {max_payload_bytes}"
            )));
        }
        let restricted_types = match tx.setting(key::RESTRICTED_TYPES)? {
            Some(v) => parse_list(&v)?,
            None => defaults.restricted_types,
        };
        let recurrence_updatable_types = match tx.setting(key::RECURRENCE_UPDATABLE_TYPES)? {
            Some(v) => parse_list(&v)?,
            None => defaults.recurrence_updatable_types,
        };
        let retry = RetryPolicy {
            max_attempts: parse(
                key::MAX_ATTEMPTS,
                tx.setting(key::MAX_ATTEMPTS)?,
                defaults.retry.max_attempts,
            )?,
            backoff_base_ms: parse(
                key::BACKOFF_BASE_MS,
                tx.setting(key::BACKOFF_BASE_MS)?,
                defaults.retry.backoff_base_ms,
            )?,
            backoff_cap_ms: parse(
                key::BACKOFF_CAP_MS,
                tx.setting(key::BACKOFF_CAP_MS)?,
                defaults.retry.backoff_cap_ms,
            )?,
        };
        let allow_delete_any = parse::<i32>(
            key::ALLOW_DELETE_ANY,
            tx.setting(key::ALLOW_DELETE_ANY)?,
            i32::from(defaults.allow_delete_any),
        )? != 0;
        let cleanup_enabled = parse::<i32>(
            key::CLEANUP_ENABLED,
            tx.setting(key::CLEANUP_ENABLED)?,
            i32::from(defaults.cleanup_enabled),
        )? != 0;
        let retention = RetentionPolicy {
            succeeded: parse_retention(
                tx,
                key::RETENTION_SUCCEEDED_MS,
                defaults.retention.succeeded,
            )?,
            failed: parse_retention(tx, key::RETENTION_FAILED_MS, defaults.retention.failed)?,
            canceled: parse_retention(tx, key::RETENTION_CANCELED_MS, defaults.retention.canceled)?,
        };
        let auto_delete_types = match tx.setting(key::AUTO_DELETE_TYPES)? {
            Some(v) => parse_list(&v)?,
            None => defaults.auto_delete_types,
        };
        Ok(Settings {
            restricted_types,
            retry,
            allow_delete_any,
            max_payload_bytes,
            cleanup_enabled,
            retention,
            auto_delete_types,
            recurrence_updatable_types,
        })
    }
}

/// Checks a retry budget (§6.5): at least one attempt. The one rule for
/// `Options::max_attempts` and the C ABI's `asyncop_options_set_max_attempts`.
pub fn check_max_attempts(max_attempts: i32) -> Result<()> {
    if max_attempts < 1 {
        return Err(Error::InvalidArgument(format!(
            "max_attempts must be >= 1, got {max_attempts}"
        )));
    }
    Ok(())
}

/// A stored retention: ms >= 0, or "none" (also an empty value) for forever.
fn parse_retention(tx: &dyn Read, key: &str, default: Retention) -> Result<Retention> {
    match tx.setting(key)? {
        None => Ok(default),
        Some(v) if v.trim().is_empty() || v.trim().eq_ignore_ascii_case(RETENTION_NONE) => {
            Ok(Retention::Forever)
        }
        Some(v) => match v.trim().parse::<i64>() {
            Ok(ms) if ms >= 0 => Ok(Retention::from_ms(Some(ms))),
            _ => Err(Error::Corrupt(format!("bad setting {key} = {v:?}"))),
        },
    }
}

fn write_list(types: &[i32]) -> String {
    let list: Vec<String> = types.iter().map(i32::to_string).collect();
    list.join(",")
}

fn parse_list(value: &str) -> Result<Vec<i32>> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| Error::Corrupt(format!("bad type list setting {value:?}")))
        })
        .collect()
}

fn parse<T: std::str::FromStr>(key: &str, value: Option<String>, default: T) -> Result<T> {
    match value {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| Error::Corrupt(format!("bad setting {key} = {v:?}"))),
    }
}
