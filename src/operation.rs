//! The public records: what a submitter gives (`OperationSpec`), what a reader
//! gets back (`Operation`), and how to ask (`Filter`, `CountRow`).

use crate::error::{Error, Result};
use crate::transition::{State, Status};

/// Text limit of §5, counted in characters: a `name`, `dependency_token`,
/// `correlation_id` or host id longer than this is InvalidArgument
/// (ASYNCOP_ERR_INVALID_ARG). C name: ASYNCOP_NAME_MAX_CHARS.
pub const MAX_NAME_CHARS: usize = 256;
/// Text limit of §5, counted in characters: a host's `message` and
/// `friendly_message` are cut here rather than refused. C name: ASYNCOP_MESSAGE_MAX_CHARS.
pub const MAX_MESSAGE_CHARS: usize = 100000;

/// The default payload limit of a queue, 16 MiB (`Options::max_payload_bytes`,
/// `asyncop_options_set_max_payload_bytes`): a submit whose data is longer is
/// InvalidArgument (ASYNCOP_ERR_INVALID_ARG) and writes nothing.
/// C name: ASYNCOP_PAYLOAD_DEFAULT_MAX.
pub const DEFAULT_MAX_PAYLOAD_BYTES: u64 = 16777216;
/// The hard ceiling of a queue's payload limit, 512 MiB: a larger limit is
/// InvalidArgument when set, a larger stored one Corrupt at open. Payloads
/// are held whole in memory by submitter and host (and SQLite refuses values
/// of 1 GB and more). C name: ASYNCOP_PAYLOAD_CEILING.
pub const MAX_PAYLOAD_BYTES_CEILING: u64 = 536870912;

// The literals above are written out for the C header; these are their meaning.
const _: () =
    assert!(DEFAULT_MAX_PAYLOAD_BYTES == 16 << 20 && MAX_PAYLOAD_BYTES_CEILING == 512 << 20);

/// One operation as stored (§5). A snapshot: it does not change when the row does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Operation {
    /// Unique, increasing, never reused.
    pub id: i64,
    /// Not unique, may be empty.
    pub name: String,
    /// Selects the handler (> 0).
    pub operation_type: i32,
    /// `statecode`.
    pub state: State,
    /// `statuscode`; belongs to `state`.
    pub status: Status,
    /// The opaque payload.
    pub data: Vec<u8>,
    /// Serialization key (§7).
    pub dependency_token: Option<String>,
    /// Not before this time (UTC ms): a postponed or backed-off operation.
    pub postpone_until: Option<i64>,
    /// The host holding the lease; set exactly while Locked.
    pub host_id: Option<String>,
    /// When the lease ends unless renewed; set exactly while Locked.
    pub lease_expires_at: Option<i64>,
    /// Fencing token: +1 on every claim (§6.3).
    pub lock_token: i64,
    /// Attempts that ended in Retry or lease expiry.
    pub retry_count: i32,
    /// The last reported error code (an HRESULT or an asyncop code).
    pub error_code: Option<i32>,
    /// The last reported technical message.
    pub message: Option<String>,
    /// The last reported message meant for end users.
    pub friendly_message: Option<String>,
    /// When it was submitted (UTC ms).
    pub created_on: i64,
    /// When it last moved (UTC ms).
    pub modified_on: i64,
    /// When the last attempt was claimed (UTC ms).
    pub started_on: Option<i64>,
    /// When it entered Completed (UTC ms).
    pub completed_on: Option<i64>,
    /// How long the last attempt ran, in ms.
    pub execution_time_span: Option<i64>,
    /// The recurrence rule of a recurring operation (§8).
    pub recurrence_pattern: Option<String>,
    /// The first occurrence of a recurring operation (§8).
    pub recurrence_start: Option<i64>,
    /// Free key linking related operations.
    pub correlation_id: Option<String>,
    /// Dynamics' flag, kept for compatibility.
    pub is_waiting_for_event: bool,
    /// The running attempt's progress, 0..=100, as its host last reported it;
    /// `None` until reported, and again when a new attempt starts.
    pub progress: Option<i32>,
    /// The running attempt's short progress text; reset like `progress`.
    pub progress_text: Option<String>,
    /// What the host stored when the operation completed (size-limited).
    pub output: Option<Vec<u8>>,
}

/// What a submitter supplies (§5). Everything else is set by the library and hosts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationSpec {
    /// Not unique, may be empty, at most 256 characters.
    pub name: String,
    /// Selects the handler; must be > 0.
    pub operation_type: i32,
    /// Opaque payload, never interpreted.
    pub data: Vec<u8>,
    /// Serialization key (§7); `None` or empty means independent.
    pub dependency_token: Option<String>,
    /// A time later than now creates the operation Suspended (1/10) until then.
    pub postpone_until: Option<i64>,
    /// Free key linking related operations.
    pub correlation_id: Option<String>,
    /// A recurrence rule (§8: `FREQ=…;INTERVAL=…`) makes the operation a
    /// series that reuses its row; `None` or empty: one-shot.
    pub recurrence_pattern: Option<String>,
    /// The first occurrence of a series (UTC ms; default: now). Only with a pattern.
    pub recurrence_start: Option<i64>,
}

impl OperationSpec {
    /// A spec with this name and type, no data and no options.
    pub fn new(name: impl Into<String>, operation_type: i32) -> Self {
        OperationSpec {
            name: name.into(),
            operation_type,
            ..Default::default()
        }
    }
    /// Sets the payload.
    pub fn data(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.data = data.into();
        self
    }
    /// Sets the dependency token (§7).
    pub fn dependency_token(mut self, token: impl Into<String>) -> Self {
        self.dependency_token = Some(token.into());
        self
    }
    /// Postpones the start until `t` (UTC ms).
    pub fn postpone_until(mut self, t: i64) -> Self {
        self.postpone_until = Some(t);
        self
    }
    /// Sets the correlation id.
    pub fn correlation_id(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = Some(id.into());
        self
    }
    /// Makes it a recurring series (§8) from `start` (`None`: now).
    pub fn recurring(mut self, pattern: impl Into<String>, start: Option<i64>) -> Self {
        self.recurrence_pattern = Some(pattern.into());
        self.recurrence_start = start;
        self
    }

    /// The parsed recurrence pattern; `None` for a one-shot operation.
    pub(crate) fn pattern(&self) -> Result<Option<crate::transition::recurrence::Pattern>> {
        match &self.recurrence_pattern {
            Some(p) => crate::transition::recurrence::Pattern::parse(p),
            None => Ok(None),
        }
    }

    /// Argument checks of §5, before anything touches the store.
    pub(crate) fn validate(&self) -> Result<()> {
        check_text("name", &self.name, MAX_NAME_CHARS)?;
        check_operation_type(self.operation_type)?;
        if let Some(t) = &self.dependency_token {
            check_text("dependency_token", t, MAX_NAME_CHARS)?;
        }
        if let Some(c) = &self.correlation_id {
            check_text("correlation_id", c, MAX_NAME_CHARS)?;
        }
        let recurring = self.pattern()?.is_some();
        if !recurring && self.recurrence_start.is_some() {
            return Err(Error::InvalidArgument(
                "recurrence_start needs a recurrence_pattern".into(),
            ));
        }
        if recurring && self.postpone_until.is_some() {
            return Err(Error::InvalidArgument(
                "a recurring operation starts at its recurrence_start, not at postpone_until"
                    .into(),
            ));
        }
        Ok(())
    }

    /// An empty token means none (§5).
    pub(crate) fn token(&self) -> Option<&str> {
        self.dependency_token.as_deref().filter(|t| !t.is_empty())
    }
}

pub(crate) fn check_text(what: &str, text: &str, max_chars: usize) -> Result<()> {
    // Byte length bounds the char count from above, so the common case skips counting.
    if text.len() > max_chars && text.chars().count() > max_chars {
        return Err(Error::InvalidArgument(format!(
            "{what} is longer than {max_chars} characters"
        )));
    }
    Ok(())
}

/// Checks an operation type (§5): it must be > 0. The one rule for submits,
/// query filters and the C ABI's `asyncop_spec_new`.
pub fn check_operation_type(operation_type: i32) -> Result<()> {
    if operation_type <= 0 {
        return Err(Error::InvalidArgument(format!(
            "operation_type must be > 0, got {operation_type}"
        )));
    }
    Ok(())
}

/// Checks a payload limit: 1..=[`MAX_PAYLOAD_BYTES_CEILING`] bytes.
pub fn check_max_payload_bytes(limit: u64) -> Result<()> {
    if limit == 0 || limit > MAX_PAYLOAD_BYTES_CEILING {
        return Err(Error::InvalidArgument(format!(
            "max_payload_bytes must be 1..={MAX_PAYLOAD_BYTES_CEILING}, got {limit}"
        )));
    }
    Ok(())
}

/// Checks a payload of `len` bytes against the queue's limit.
pub(crate) fn check_payload_len(len: usize, limit: u64) -> Result<()> {
    if u64::try_from(len).map_or(true, |n| n > limit) {
        return Err(Error::InvalidArgument(format!(
            "data is {len} bytes, more than this queue's limit of {limit} bytes (max_payload_bytes)"
        )));
    }
    Ok(())
}

pub(crate) fn check_id(id: i64) -> Result<()> {
    if id <= 0 {
        return Err(Error::InvalidArgument(format!(
            "operation id must be > 0, got {id} (AsyncOperationMissingId)"
        )));
    }
    Ok(())
}

/// Cuts a message at `MAX_MESSAGE_CHARS` characters: reporting a failure must not fail (§5).
pub(crate) fn truncate_message(text: String) -> String {
    if text.len() <= MAX_MESSAGE_CHARS {
        return text;
    }
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text,
    }
}

/// Query filter (§11). Fields are ANDed; `None` matches everything.
/// Results come in ascending `id` (creation order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Filter {
    /// Only this state.
    pub state: Option<State>,
    /// Only this status (must belong to `state` when both are set).
    pub status: Option<Status>,
    /// Only this type.
    pub operation_type: Option<i32>,
    /// Only this exact name.
    pub name: Option<String>,
    /// Only this dependency token.
    pub dependency_token: Option<String>,
    /// Only this exact correlation id.
    pub correlation_id: Option<String>,
    /// Only names that start with this text (compared as Unicode code points,
    /// case-sensitive; no wildcards). Stores read it as the range
    /// [`prefix`, [`prefix_end`]) of the name index, never as a LIKE scan.
    pub name_prefix: Option<String>,
    /// `completed_on` < t.
    pub completed_before: Option<i64>,
    /// Only ids greater than this: keyset paging, stable while rows change.
    pub after_id: Option<i64>,
    /// At most this many rows; `None` for all.
    pub limit: Option<u32>,
    /// Skip this many rows first.
    pub offset: Option<u32>,
}

/// The least text greater than every text that starts with `prefix`, in
/// code point order (which is UTF-8 byte order): `prefix` with its last
/// character that can grow moved to the next code point and the rest
/// dropped. `None` when there is none (an empty prefix, or one of U+10FFFF
/// only): the range then has no upper end.
pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// One group of `counts()`: how many operations share (state, status, operation_type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CountRow {
    /// The state of the group.
    pub state: State,
    /// The status of the group.
    pub status: Status,
    /// The type of the group.
    pub operation_type: i32,
    /// How many operations it holds.
    pub count: i64,
    /// Whether the type is held (claims skip it; `Queue::hold_type`).
    pub held: bool,
}

/// A held operation type (`Queue::hold_type`): claims skip its operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HeldType {
    /// The operation type.
    pub operation_type: i32,
    /// When it was held (UTC ms).
    pub held_on: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_characters_and_cuts_on_a_boundary() {
        let short = "é".repeat(MAX_MESSAGE_CHARS);
        assert_eq!(truncate_message(short.clone()), short);
        let long = "é".repeat(MAX_MESSAGE_CHARS + 5);
        let cut = truncate_message(long);
        assert_eq!(cut.chars().count(), MAX_MESSAGE_CHARS);
        assert!(cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn a_prefix_ends_at_the_next_code_point() {
        assert_eq!(prefix_end("report-").as_deref(), Some("report."));
        assert_eq!(prefix_end("az").as_deref(), Some("a{"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_end("é").as_deref(), Some("ê"));
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("\u{10FFFF}"), None);
        // Every text with the prefix lies in [prefix, end), in byte order too.
        for name in ["report-", "report-a", "report-\u{10FFFF}\u{10FFFF}"] {
            let end = prefix_end("report-").unwrap();
            assert!(name.as_bytes() >= b"report-".as_slice() && name.as_bytes() < end.as_bytes());
        }
        assert!("report.".as_bytes() >= prefix_end("report-").unwrap().as_bytes());
    }

    #[test]
    fn text_limits_count_characters_not_bytes() {
        assert!(check_text("name", &"ü".repeat(MAX_NAME_CHARS), MAX_NAME_CHARS).is_ok());
        assert!(check_text("name", &"ü".repeat(MAX_NAME_CHARS + 1), MAX_NAME_CHARS).is_err());
        assert!(check_id(0).is_err() && check_id(-1).is_err() && check_id(1).is_ok());
    }
}
