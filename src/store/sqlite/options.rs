//! The SQLite store's options: durability and the mode of a new file.

use crate::error::{Error, Result};

/// How hard a commit presses data to disk (SQLite's `synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=FULL`: a call that returned OK survives power loss.
    #[default]
    Full,
    /// `synchronous=NORMAL`: survives a process crash; the last commits may be
    /// lost on power loss. Faster.
    Normal,
}

/// The options of the SQLite store (`Options::sqlite`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteOptions {
    /// How hard a commit presses data to disk (default `Full`).
    pub durability: Durability,
    /// Permission bits of a file this handle creates (the database; SQLite gives
    /// its `-wal` and `-shm` the same): `0o600` by default, so other local users
    /// cannot read payloads; `0o660` shares it with the file's group. Only
    /// read/write bits for owner and group are accepted ([`check_file_mode`]);
    /// existing files keep theirs.
    pub file_mode: u32,
}

/// The default `SqliteOptions::file_mode`: owner read/write only.
pub const DEFAULT_FILE_MODE: u32 = 0o600;

/// The bits `SqliteOptions::file_mode` may have: read/write for owner and group.
pub const ALLOWED_FILE_MODE: u32 = 0o660;

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            durability: Durability::Full,
            file_mode: DEFAULT_FILE_MODE,
        }
    }
}

/// Checks a `file_mode`: only bits of `0o660`, and at least `0o600` (the
/// owner must be able to read and write its queue); else `InvalidArgument`.
pub fn check_file_mode(mode: u32) -> Result<()> {
    if mode & !ALLOWED_FILE_MODE != 0 || mode & DEFAULT_FILE_MODE != DEFAULT_FILE_MODE {
        return Err(Error::InvalidArgument(format!(
            "file_mode must include 0o600 and have no bits outside 0o660, got 0o{mode:o}"
        )));
    }
    Ok(())
}
