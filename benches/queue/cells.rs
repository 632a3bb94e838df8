//! The benchmark's cells: implementation × workload × durability, their sizes and results.

use super::*;

pub(crate) const RUNS: usize = 3;
pub(crate) const PAYLOAD_LEN: usize = 100;
pub(crate) const OPERATION_TYPE: i32 = 100;
pub(crate) const W3_THREADS: usize = 4;
/// The W4 cells: the same drain by 1, 4 and 8 processes, one cell each.
pub(crate) const W4_PROCESSES: [usize; 3] = [1, 4, 8];
pub(crate) const W5_BATCH: u32 = 100;
pub(crate) const LATENCY_GAP: Duration = Duration::from_millis(2);
/// A waiting worker that sees no work for this long means the submitter died.
pub(crate) const LATENCY_POLL_WAIT: Duration = Duration::from_secs(5);
/// How long a parent waits for its children to get ready, and a child for "go".
pub(crate) const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// The raw-sql connections' busy timeout: asyncop's default (`Options::busy_timeout`).
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a raw-sql worker keeps trying for the write lock before it fails.
pub(crate) const LOCK_GIVE_UP: Duration = Duration::from_secs(60);

/// Operations per run of each workload.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    pub(crate) w1: usize,
    pub(crate) w2: usize,
    pub(crate) w3: usize,
    pub(crate) w4: usize,
    pub(crate) w5: usize,
    pub(crate) w2_big: usize,
    /// Completed rows already in the W2-1M file.
    pub(crate) big_base: usize,
    pub(crate) latency_samples: usize,
    pub(crate) stop_samples: usize,
    /// Calls per step (submit, claim, complete) of the wal-pages cells.
    pub(crate) wal_calls: usize,
    /// 4 KiB write + fdatasync rounds of the disk's fsync-4k cell.
    pub(crate) fsyncs: usize,
}

// Every FULL throughput cell runs at least 3,000 operations (a stable median:
// FULL pays one fsync per commit, whose time varies with the disk's other
// users); a full run takes a few minutes on the 2-core development machine.
pub(crate) const FULL_SIZES: Sizes = Sizes {
    w1: 8_000,
    w2: 5_000,
    w3: 5_000,
    w4: 5_000,
    w5: 30_000,
    w2_big: 5_000,
    big_base: 1_000_000,
    latency_samples: 300,
    stop_samples: 100,
    wal_calls: 1_000,
    fsyncs: 3_000,
};

pub(crate) const QUICK_SIZES: Sizes = Sizes {
    w1: 200,
    w2: 200,
    w3: 200,
    w4: 200,
    w5: 200,
    w2_big: 200,
    big_base: 10_000,
    latency_samples: 50,
    stop_samples: 10,
    wal_calls: 100,
    fsyncs: 100,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Impl {
    Asyncop,
    Raw,
    /// The disk itself (the fsync-4k cell): not a queue, so not in `ALL`.
    Disk,
}

impl Impl {
    pub(crate) const ALL: [Impl; 2] = [Impl::Asyncop, Impl::Raw];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Impl::Asyncop => "asyncop-rust",
            Impl::Raw => "raw-sql",
            Impl::Disk => "disk",
        }
    }

    pub(crate) fn parse(s: &str) -> Res<Impl> {
        Impl::ALL
            .into_iter()
            .find(|i| i.name() == s)
            .ok_or_else(|| format!("unknown implementation {s:?}").into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Dur {
    Full,
    Normal,
}

impl Dur {
    pub(crate) const ALL: [Dur; 2] = [Dur::Full, Dur::Normal];

    /// Also the `PRAGMA synchronous` value the raw connections set.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Dur::Full => "FULL",
            Dur::Normal => "NORMAL",
        }
    }

    pub(crate) fn parse(s: &str) -> Res<Dur> {
        Dur::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| format!("unknown durability {s:?}").into())
    }

    pub(crate) fn asyncop(self) -> Durability {
        match self {
            Dur::Full => Durability::Full,
            Dur::Normal => Durability::Normal,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Workload {
    W1,
    W2,
    W3,
    /// The W2 drain by this many processes.
    W4(usize),
    W5,
    W2Big,
    LatencyInproc,
    LatencyXproc,
    StopInproc,
    StopXproc,
    /// WAL pages written per submit, claim and complete (`wal_pages.rs`).
    WalPages,
    /// The disk's limit: 4 KiB written in place and `fdatasync`ed (`disk.rs`).
    Fsync,
}

impl Workload {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::W1 => "W1",
            Workload::W2 => "W2",
            Workload::W3 => "W3",
            Workload::W4(1) => "W4-1p",
            Workload::W4(4) => "W4-4p",
            Workload::W4(8) => "W4-8p",
            Workload::W4(_) => "W4-np",
            Workload::W5 => "W5",
            Workload::W2Big => "W2-1M",
            Workload::LatencyInproc => "latency-inproc",
            Workload::LatencyXproc => "latency-xproc",
            Workload::StopInproc => "stop-inproc",
            Workload::StopXproc => "stop-xproc",
            Workload::WalPages => "wal-pages",
            Workload::Fsync => "fsync-4k",
        }
    }

    pub(crate) fn ops(self, sizes: &Sizes) -> usize {
        match self {
            Workload::W1 => sizes.w1,
            Workload::W2 => sizes.w2,
            Workload::W3 => sizes.w3,
            Workload::W4(_) => sizes.w4,
            Workload::W5 => sizes.w5,
            Workload::W2Big => sizes.w2_big,
            Workload::LatencyInproc | Workload::LatencyXproc => sizes.latency_samples,
            Workload::StopInproc | Workload::StopXproc => sizes.stop_samples,
            Workload::WalPages => sizes.wal_calls,
            Workload::Fsync => sizes.fsyncs,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Value {
    OpsPerSec(f64),
    LatencyMs {
        p50: f64,
        p99: f64,
    },
    /// WAL pages (frames) per call: submit, claim, complete.
    Pages([f64; 3]),
}

/// One run of one cell, with the settings read back from the file afterwards.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub(crate) value: Value,
    pub(crate) journal_mode: String,
    pub(crate) synchronous: String,
}

#[derive(Debug)]
pub(crate) struct Cell {
    pub(crate) imp: Impl,
    pub(crate) workload: Workload,
    pub(crate) dur: Dur,
    pub(crate) ops: usize,
    pub(crate) runs: Vec<Run>,
    /// Why the cell failed (its runs are then dropped; the rest of the run goes on).
    pub(crate) error: Option<String>,
}
