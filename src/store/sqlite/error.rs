//! SQLite's errors as the core's: a damaged value is `Corrupt`, lock
//! contention `Busy`, a file the process cannot reach `Io`.

use crate::error::Error;

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode;
        // A value read from the file that cannot be what the schema says (a NULL
        // in a NOT NULL column, a number out of range, text that is not UTF-8,
        // an invalid stored code): the row is damaged, not the library.
        match &e {
            rusqlite::Error::InvalidColumnType(col, name, ty) => {
                return Error::Corrupt(format!(
                    "a stored row is damaged: column {col} ({name}) holds {ty}"
                ));
            }
            rusqlite::Error::FromSqlConversionFailure(col, ty, cause) => {
                return Error::Corrupt(format!(
                    "a stored row is damaged: column {col} ({ty}) cannot be read: {cause}"
                ));
            }
            rusqlite::Error::IntegralValueOutOfRange(col, v) => {
                return Error::Corrupt(format!(
                    "a stored row is damaged: column {col} holds {v}, out of range"
                ));
            }
            rusqlite::Error::Utf8Error(col, cause) => {
                return Error::Corrupt(format!(
                    "a stored row is damaged: column {col} is not UTF-8 text: {cause}"
                ));
            }
            _ => {}
        }
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Busy,
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                Error::Corrupt(e.to_string())
            }
            Some(
                ErrorCode::CannotOpen
                | ErrorCode::SystemIoFailure
                | ErrorCode::ReadOnly
                | ErrorCode::DiskFull
                | ErrorCode::PermissionDenied
                | ErrorCode::FileLockingProtocolFailed,
            ) => Error::Io(e.to_string()),
            _ => Error::Internal(e.to_string()),
        }
    }
}
