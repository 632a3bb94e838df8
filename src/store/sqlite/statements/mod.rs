//! The statements, one file per command family: `rows` (one row by id,
//! insert, compare-and-set update, delete), `claims` (claim, renew),
//! `maintenance` (expired leases, due postponed rows, waiting polls), `query`
//! (System Jobs views, integrity), `settings`, `cleanup` (purge pages and
//! held types), `history` (progress, output, attempt history).

pub mod claims;
pub mod cleanup;
pub mod history;
pub mod maintenance;
pub mod query;
pub mod rows;
pub mod settings;
pub mod watch;
