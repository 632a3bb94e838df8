//! What every Rust peer binary of `benches/rust-peers` shares: the arguments of one cell,
//! the payloads (asyncop's benchmark shape: 100 bytes), the exactly-once check and the one
//! JSON object each invocation prints.
//!
//! A cell is `--workload W1|W2|W3|W5 --durability FULL|NORMAL --ops N --dir DIR`:
//! * W1: N submits, one per transaction, one thread.
//! * W2: one worker drains N pre-filled jobs (the prefill is not timed), claim + complete per
//!   job through the peer's normal API.
//! * W3: the W2 drain with 4 threads or tasks.
//! * W5: the drain batched (claim 100, complete 100), where the peer has a batch API.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Errors of a cell: a message is all the orchestrator needs.
pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Bytes of every job's payload, as in asyncop's `benches/queue.rs`.
pub const PAYLOAD_LEN: usize = 100;
/// Workers of W3, as in asyncop's `benches/queue.rs`.
pub const W3_WORKERS: usize = 4;
/// Jobs per claim and per completion of W5, as in asyncop's `benches/queue.rs`.
pub const W5_BATCH: usize = 100;
/// Digits of the job index at the start of each payload.
const INDEX_DIGITS: usize = 20;

/// The workloads a peer can be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Submit, one per transaction.
    W1,
    /// One worker drains a pre-filled queue.
    W2,
    /// Four workers drain a pre-filled queue.
    W3,
    /// One worker drains a pre-filled queue in batches.
    W5,
}

impl Workload {
    /// The name used on the command line and in the output.
    pub fn name(self) -> &'static str {
        match self {
            Workload::W1 => "W1",
            Workload::W2 => "W2",
            Workload::W3 => "W3",
            Workload::W5 => "W5",
        }
    }

    fn parse(s: &str) -> Res<Workload> {
        [Workload::W1, Workload::W2, Workload::W3, Workload::W5]
            .into_iter()
            .find(|w| w.name() == s)
            .ok_or_else(|| format!("unknown workload {s:?} (W1, W2, W3 or W5)").into())
    }
}

/// The durability a cell asks for (`PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=FULL`.
    Full,
    /// `synchronous=NORMAL`.
    Normal,
}

impl Durability {
    /// The name used on the command line, in the output and in `PRAGMA synchronous`.
    pub fn name(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }

    fn parse(s: &str) -> Res<Durability> {
        match s {
            "FULL" => Ok(Durability::Full),
            "NORMAL" => Ok(Durability::Normal),
            _ => Err(format!("unknown durability {s:?} (FULL or NORMAL)").into()),
        }
    }
}

/// One cell's arguments.
#[derive(Debug, Clone)]
pub struct Args {
    /// What to run.
    pub workload: Workload,
    /// At which `synchronous`.
    pub durability: Durability,
    /// Jobs submitted (W1) or drained (W2, W3, W5).
    pub ops: usize,
    /// Where the fresh database files go.
    pub dir: PathBuf,
}

impl Args {
    /// Parses `--workload W --durability D --ops N --dir DIR` (all required).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Res<Args> {
        let (mut workload, mut durability, mut ops, mut dir) = (None, None, None, None);
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--workload" => workload = Some(Workload::parse(&value()?)?),
                "--durability" => durability = Some(Durability::parse(&value()?)?),
                "--ops" => ops = Some(value()?.parse::<usize>()?),
                "--dir" => dir = Some(PathBuf::from(value()?)),
                other => {
                    return Err(format!(
                        "unknown argument {other:?}; usage: --workload W1|W2|W3|W5 \
                         --durability FULL|NORMAL --ops N --dir DIR"
                    )
                    .into());
                }
            }
        }
        let ops = ops.ok_or("--ops is required")?;
        if ops == 0 {
            return Err("--ops must be at least 1".into());
        }
        Ok(Args {
            workload: workload.ok_or("--workload is required")?,
            durability: durability.ok_or("--durability is required")?,
            ops,
            dir: dir.ok_or("--dir is required")?,
        })
    }

    /// A fresh database path in `dir` for this cell: any file of that name (and its
    /// `-wal`, `-shm`, `-journal`) from an earlier run is removed first.
    pub fn fresh_db(&self, peer: &str) -> Res<PathBuf> {
        fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(format!(
            "{peer}-{}-{}-{}.db",
            self.workload.name(),
            self.durability.name(),
            std::process::id()
        ));
        remove_db(&path);
        Ok(path)
    }
}

/// Removes a database file and its companions (best effort: they may not exist).
pub fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = fs::remove_file(p);
    }
}

/// Job `index`'s payload: the index in decimal, then filler, `PAYLOAD_LEN` ASCII bytes in all
/// (text, so that peers whose payloads are JSON carry the same 100 bytes).
pub fn payload_text(index: usize) -> String {
    let mut s = format!("{index:0INDEX_DIGITS$}");
    s.extend(std::iter::repeat_n('x', PAYLOAD_LEN - INDEX_DIGITS));
    s
}

/// [`payload_text`] as bytes.
pub fn payload(index: usize) -> Vec<u8> {
    payload_text(index).into_bytes()
}

/// The job index a payload carries.
pub fn payload_index(payload: &[u8]) -> Res<usize> {
    if payload.len() != PAYLOAD_LEN {
        return Err(format!("payload of {} bytes, not {PAYLOAD_LEN}", payload.len()).into());
    }
    Ok(std::str::from_utf8(&payload[..INDEX_DIGITS])?.parse()?)
}

/// How many times each job was completed, counted by the handlers (by the index in the
/// payload, so that the peer's own ids need not be trusted).
#[derive(Debug)]
pub struct Completions {
    counts: Vec<AtomicU32>,
}

impl Completions {
    /// For jobs `0..n`.
    pub fn new(n: usize) -> Completions {
        Completions {
            counts: (0..n).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    /// One completion of the job whose payload this is; returns its index.
    pub fn record(&self, payload: &[u8]) -> Res<usize> {
        let index = payload_index(payload)?;
        self.counts
            .get(index)
            .ok_or_else(|| format!("job index {index} out of range"))?
            .fetch_add(1, Ordering::SeqCst);
        Ok(index)
    }

    /// Completions recorded, all jobs together.
    pub fn total(&self) -> u64 {
        self.counts
            .iter()
            .map(|c| u64::from(c.load(Ordering::SeqCst)))
            .sum()
    }

    /// Every job completed exactly once, or an error saying how many were not and which.
    pub fn check(&self) -> Res<()> {
        let (mut missing, mut repeated, mut first_bad) = (0usize, 0usize, None);
        for (i, c) in self.counts.iter().enumerate() {
            match c.load(Ordering::SeqCst) {
                1 => continue,
                0 => missing += 1,
                _ => repeated += 1,
            }
            first_bad.get_or_insert(i);
        }
        if missing + repeated == 0 {
            Ok(())
        } else {
            Err(format!(
                "EXACTLY-ONCE VIOLATED: of {} jobs, {missing} never completed and {repeated} \
                 completed more than once (first: job {})",
                self.counts.len(),
                first_bad.unwrap_or(0)
            )
            .into())
        }
    }
}

/// The persistent journal mode as the file's header says it (bytes 18 and 19: 2 = WAL,
/// 1 = a rollback journal), a cross-check of the `PRAGMA journal_mode` read back.
pub fn header_journal(path: &Path) -> Res<&'static str> {
    let bytes = fs::read(path)?;
    match bytes.get(18..20) {
        Some([2, 2]) => Ok("wal"),
        Some([1, 1]) => Ok("rollback"),
        Some(other) => Err(format!("unexpected file format bytes {other:?}").into()),
        None => Err(format!("{} has no database header", path.display()).into()),
    }
}

/// `PRAGMA synchronous`'s number as its name.
pub fn synchronous_name(n: i64) -> String {
    match n {
        0 => "OFF".into(),
        1 => "NORMAL".into(),
        2 => "FULL".into(),
        3 => "EXTRA".into(),
        n => format!("{n}?"),
    }
}

/// What one invocation prints: one JSON object on one line.
#[derive(Debug, Clone)]
pub struct Report {
    /// The implementation's name, with its settings where it has more than one.
    pub imp: String,
    /// The cell's workload.
    pub workload: Workload,
    /// The cell's durability as asked for.
    pub durability: Durability,
    /// `PRAGMA journal_mode` read back from the file by a separate connection.
    pub journal_mode: String,
    /// `PRAGMA synchronous` of the connection that committed (read back where possible).
    pub synchronous: String,
    /// ops/s; `None`: not applicable (the note says why).
    pub value: Option<f64>,
    /// Jobs submitted or drained.
    pub ops: usize,
    /// Settings, caveats, the SQLite version.
    pub note: String,
}

impl Report {
    /// A measured cell: `ops` jobs in `elapsed`.
    pub fn measured(args: &Args, imp: &str, elapsed: Duration) -> Report {
        Report {
            imp: imp.to_owned(),
            workload: args.workload,
            durability: args.durability,
            journal_mode: String::new(),
            synchronous: String::new(),
            value: Some(args.ops as f64 / elapsed.as_secs_f64()),
            ops: args.ops,
            note: String::new(),
        }
    }

    /// A cell the peer cannot run, with why.
    pub fn not_applicable(args: &Args, imp: &str, why: &str) -> Report {
        Report {
            imp: imp.to_owned(),
            workload: args.workload,
            durability: args.durability,
            journal_mode: "n/a".into(),
            synchronous: "n/a".into(),
            value: None,
            ops: 0,
            note: format!("n/a: {why}"),
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> String {
        let value = match self.value {
            Some(v) => format!("{v:.1}"),
            None => "null".into(),
        };
        format!(
            "{{\"impl\": {}, \"workload\": {}, \"durability\": {}, \"journal_mode\": {}, \
             \"synchronous\": {}, \"value\": {value}, \"ops\": {}, \"note\": {}}}",
            json_str(&self.imp),
            json_str(self.workload.name()),
            json_str(self.durability.name()),
            json_str(&self.journal_mode),
            json_str(&self.synchronous),
            self.ops,
            json_str(&self.note)
        )
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The whole binary: parses the arguments, runs the cell, prints its JSON object; an error
/// goes to stderr and the exit code is 1.
pub fn main_with(run: impl FnOnce(&Args) -> Res<Report>) -> std::process::ExitCode {
    let result = Args::parse(std::env::args().skip(1)).and_then(|args| run(&args));
    match result {
        Ok(report) => {
            println!("{}", report.to_json());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_carry_their_index() {
        let p = payload(42);
        assert_eq!(p.len(), PAYLOAD_LEN);
        assert_eq!(payload_index(&p).unwrap(), 42);
    }

    #[test]
    fn completions_catch_missing_and_repeated_jobs() {
        let c = Completions::new(3);
        for i in 0..3 {
            c.record(&payload(i)).unwrap();
        }
        c.check().unwrap();
        c.record(&payload(1)).unwrap();
        assert!(
            c.check()
                .unwrap_err()
                .to_string()
                .contains("1 completed more than once")
        );
        let c = Completions::new(2);
        c.record(&payload(0)).unwrap();
        assert!(
            c.check()
                .unwrap_err()
                .to_string()
                .contains("1 never completed")
        );
        assert!(c.record(&payload(5)).is_err());
    }
}
