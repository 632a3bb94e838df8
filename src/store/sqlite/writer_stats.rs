//! What the writer of one store has done, counted for tests and the benchmark.

use std::time::Duration;

/// What the writer has committed so far (for tests and the benchmark): a
/// `commands / transactions` ratio above 1 is group commit at work.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriterStats {
    /// Committed write transactions.
    pub transactions: u64,
    /// Commands (calls of `Store::write`) in those transactions.
    pub commands: u64,
    /// The longest time a write transaction held the write lock, from its
    /// BEGIN IMMEDIATE to its COMMIT (or rollback), since the store opened
    /// or `reset_longest_hold`.
    pub longest_hold: Duration,
    /// fsyncs of the WAL this store made after its commits (`Durability::Full`
    /// only); below `synced_commits` when syncs were shared.
    pub wal_syncs: u64,
    /// Commits made durable after the commit (`Durability::Full` only), by
    /// this store's sync or by one of another thread or process that covered it.
    pub synced_commits: u64,
}
