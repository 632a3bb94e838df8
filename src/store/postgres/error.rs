//! PostgreSQL's errors as the core's: contention and timeouts `Busy`, a server
//! that cannot be reached `Io`, a value that cannot be what the schema says
//! `Corrupt`, anything else `Internal`.

use crate::error::Error;
use postgres::error::SqlState;

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        let Some(code) = e.code() else {
            // No SQLSTATE: the connection (I/O, TLS, a closed socket) or a value
            // that could not be converted from its column.
            // With its causes ("error performing TLS handshake: invalid peer
            // certificate: UnknownIssuer"): the top line alone does not say what to fix.
            let text = with_causes(&e);
            if text.contains("error deserializing column") {
                return Error::Corrupt(format!("a stored row is damaged: {text}"));
            }
            return Error::Io(format!("PostgreSQL: {text}"));
        };
        let text = match e.as_db_error() {
            Some(db) => format!("PostgreSQL {}: {}", code.code(), db.message()),
            None => e.to_string(),
        };
        if *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
            || *code == SqlState::LOCK_NOT_AVAILABLE
            || *code == SqlState::QUERY_CANCELED
        {
            return Error::Busy;
        }
        // Two claimers raced for one dependency token (retried; this is what is left).
        if e.as_db_error().and_then(|db| db.constraint())
            == Some(super::retry::ONE_LOCKED_PER_TOKEN)
        {
            return Error::Busy;
        }
        match code.code().get(..2) {
            // Connection exceptions, authorization, invalid catalog (no such database),
            // operator intervention (shutdown), insufficient resources.
            Some("08" | "28" | "3D" | "57" | "53") => Error::Io(text),
            Some("22" | "23" | "XX") => Error::Corrupt(text),
            _ => Error::Internal(text),
        }
    }
}

/// `e` and its causes, "top: cause: cause".
pub(super) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}
