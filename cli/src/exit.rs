//! Exit codes a script can rely on, and the failure that carries one.

use asyncop::Error;
use std::fmt;

/// The process exit codes (README "Operating asyncop" has the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Everything asked for was done.
    Ok = 0,
    /// Bad command line or argument (`InvalidArgument`), or a bulk action
    /// without `--yes` when stdin is not a terminal.
    Usage = 1,
    /// No such job, or no queue file at the path.
    NotFound = 2,
    /// The job's state (or its restricted type) forbids the action: the
    /// refusals with an HRESULT.
    Refused = 3,
    /// The store was busy, or the job changed meanwhile: retrying may work.
    Busy = 4,
    /// The store failed: closed, I/O, corrupt, internal.
    Store = 5,
    /// The user declined at the confirmation prompt.
    Declined = 6,
}

impl Exit {
    /// The exit code of a library error.
    pub fn of(error: &Error) -> Exit {
        match error {
            Error::InvalidArgument(_) => Exit::Usage,
            Error::NotFound { .. } => Exit::NotFound,
            Error::Busy | Error::InvalidStateChangeUnexpected => Exit::Busy,
            Error::Closed | Error::Io(_) | Error::Corrupt(_) | Error::Internal(_) => Exit::Store,
            _ => Exit::Refused,
        }
    }

    /// As a process exit code.
    pub fn code(self) -> std::process::ExitCode {
        std::process::ExitCode::from(self as u8)
    }
}

/// Why a command stopped: the exit code and a message for stderr.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub exit: Exit,
    /// What went wrong, in words.
    pub message: String,
}

impl Failure {
    /// A failure with this code and message.
    pub fn new(exit: Exit, message: impl Into<String>) -> Failure {
        Failure {
            exit,
            message: message.into(),
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::new(Exit::of(&error), describe(&error))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// An error as `Name (0xHRESULT): message`, the HRESULT where the model has one.
pub fn describe(error: &Error) -> String {
    format!("{}: {error}", label(error))
}

/// An error's name and HRESULT: `AsyncOperationCannotCancel (0x80044F00)`.
pub fn label(error: &Error) -> String {
    match error.hresult() {
        Some(h) => format!("{} (0x{:08X})", error.name(), h as u32),
        None => error.name().to_owned(),
    }
}

/// The result of a command.
pub type Outcome = Result<(), Failure>;
