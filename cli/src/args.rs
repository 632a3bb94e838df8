//! The command line's grammar (clap derive): every subcommand, its TARGET and options.

use asyncop::{State, Status};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;

/// See and steer the jobs of an asyncop queue.
///
/// TARGET, the first argument of every command, is a queue file path or a
/// PostgreSQL URL (postgres://...). Exit codes: 0 ok, 1 usage or bad argument,
/// 2 not found, 3 refused by the job's state, 4 busy or changed meanwhile
/// (retry), 5 store failure (closed, I/O, corrupt, internal), 6 declined at the
/// confirmation prompt.
#[derive(Debug, Parser)]
#[command(name = "asyncop", version, about, long_about)]
pub struct Cli {
    /// The PostgreSQL schema of the queue (PostgreSQL targets only).
    #[arg(long, global = true, env = "ASYNCOP_SCHEMA", default_value = "asyncop")]
    pub schema: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The System Jobs grid: jobs in id order, filtered.
    Jobs {
        /// A queue file path or a postgres:// URL.
        target: String,
        /// Which jobs.
        #[command(flatten)]
        filter: FilterArgs,
        /// At most this many jobs (default 100).
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Only jobs with a larger id (the next page: the last id shown).
        #[arg(long, value_name = "ID")]
        after: Option<i64>,
        /// Print the jobs as JSON (the library's Operation records).
        #[arg(long)]
        json: bool,
    },
    /// Every field of one job, its attempt history and progress.
    Show {
        /// A queue file path or a postgres:// URL.
        target: String,
        /// The job's id.
        id: i64,
        /// Print {"operation": ..., "attempts": [...]} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// How many jobs per state/status and type, with totals and held types.
    Counts {
        /// A queue file path or a postgres:// URL.
        target: String,
        /// Print {"rows": [CountRow...], "held": [HeldType...]} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Cancel jobs: Ready or Suspended ones at once, running ones by their host.
    Cancel(ActionArgs),
    /// Pause jobs: waiting ones at once, running ones by their host.
    Pause(ActionArgs),
    /// Resume paused or postponed jobs.
    Resume(ActionArgs),
    /// Postpone jobs until a time (--until) or for a while (--by).
    Postpone {
        /// The jobs.
        #[command(flatten)]
        action: ActionArgs,
        /// ISO 8601 time, e.g. 2026-12-05T10:00:00Z (UTC unless an offset is given).
        #[arg(long, required_unless_present = "by", conflicts_with = "by")]
        until: Option<String>,
        /// A duration from now: 90s, 10m, 2h, 1d (or a sum: 1h30m).
        #[arg(long)]
        by: Option<String>,
    },
    /// Delete completed jobs (any job if the queue allows it).
    Delete(ActionArgs),
    /// Hold every job of a type: hosts skip them until it is released.
    Hold {
        /// A queue file path or a postgres:// URL.
        target: String,
        /// The operation type.
        #[arg(value_name = "TYPE")]
        operation_type: i32,
    },
    /// Release a held type: its jobs are claimable again.
    Release {
        /// A queue file path or a postgres:// URL.
        target: String,
        /// The operation type.
        #[arg(value_name = "TYPE")]
        operation_type: i32,
    },
    /// Delete the completed jobs past their retention (a progress bar on a terminal).
    Purge {
        /// A queue file path or a postgres:// URL.
        target: String,
    },
    /// One maintenance pass: recover expired leases, poison, promote postponed jobs.
    Maintenance {
        /// A queue file path or a postgres:// URL.
        target: String,
    },
    /// A live view of the counts and the newest jobs, redrawn on every change (Ctrl-C ends).
    Watch {
        /// A queue file path or a postgres:// URL.
        target: String,
        /// How many of the newest jobs to show.
        #[arg(long, default_value_t = 10)]
        newest: u32,
        /// Stop after this many frames (default: run until Ctrl-C).
        #[arg(long)]
        frames: Option<u64>,
    },
    /// Serve the System Jobs page.
    Serve {
        /// A queue file path or a postgres:// URL.
        target: String,
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// The token every request must carry (required for a non-loopback bind).
        #[arg(long, env = "ASYNCOP_TOKEN")]
        token: Option<String>,
        /// Refuse every state-changing request.
        #[arg(long)]
        read_only: bool,
    },
}

/// The jobs an action applies to: ids, or a filter (then a confirmation).
#[derive(Debug, Args)]
pub struct ActionArgs {
    /// A queue file path or a postgres:// URL.
    pub target: String,
    /// The jobs' ids (or give a filter instead).
    pub ids: Vec<i64>,
    /// Instead of ids: every job matching these.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Do not ask before a bulk action (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// A filter on jobs.
#[derive(Debug, Args, Default, Clone)]
pub struct FilterArgs {
    /// State: ready, suspended, locked, completed (or 0..3).
    #[arg(long, value_parser = parse_state)]
    pub state: Option<State>,
    /// Status: its name (e.g. waiting, inprogress, failed) or code (0, 10, 20, 21, 22, 30, 31, 32).
    #[arg(long, value_parser = parse_status)]
    pub status: Option<Status>,
    /// Operation type.
    #[arg(long = "type", value_name = "TYPE")]
    pub operation_type: Option<i32>,
    /// Name prefix.
    #[arg(long, value_name = "PREFIX")]
    pub name: Option<String>,
    /// Correlation id.
    #[arg(long, value_name = "ID")]
    pub correlation: Option<String>,
}

impl FilterArgs {
    /// Whether no criterion is given.
    pub fn is_empty(&self) -> bool {
        self.state.is_none()
            && self.status.is_none()
            && self.operation_type.is_none()
            && self.name.is_none()
            && self.correlation.is_none()
    }

    /// The library's filter.
    pub fn to_filter(&self) -> asyncop::Filter {
        asyncop::Filter {
            state: self.state,
            status: self.status,
            operation_type: self.operation_type,
            name_prefix: self.name.clone(),
            correlation_id: self.correlation.clone(),
            ..asyncop::Filter::default()
        }
    }

    /// The criteria in words, for the confirmation prompt.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = self.state {
            parts.push(format!("state {s}"));
        }
        if let Some(s) = self.status {
            parts.push(format!("status {s}"));
        }
        if let Some(t) = self.operation_type {
            parts.push(format!("type {t}"));
        }
        if let Some(n) = &self.name {
            parts.push(format!("name starting {n:?}"));
        }
        if let Some(c) = &self.correlation {
            parts.push(format!("correlation id {c:?}"));
        }
        parts.join(", ")
    }
}

/// A code or a name, case and `_`/`-` insensitive.
fn by_name_or_code<T: Copy + std::fmt::Display>(
    text: &str,
    all: &[T],
    code: impl Fn(T) -> u8,
    what: &str,
) -> Result<T, String> {
    let wanted: String = text
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .collect::<String>()
        .to_ascii_lowercase();
    all.iter()
        .copied()
        .find(|v| v.to_string().to_ascii_lowercase() == wanted || code(*v).to_string() == wanted)
        .ok_or_else(|| {
            let names: Vec<String> = all.iter().map(|v| format!("{v} ({})", code(*v))).collect();
            format!("unknown {what} {text:?}: one of {}", names.join(", "))
        })
}

fn parse_state(text: &str) -> Result<State, String> {
    by_name_or_code(text, &State::ALL, State::code, "state")
}

fn parse_status(text: &str) -> Result<Status, String> {
    by_name_or_code(text, &Status::ALL, Status::code, "status")
}
