//! Results: the printed table, the JSON file, the machine description and peak RSS.

use super::*;

pub(crate) fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::OpsPerSec(r) => format!("{r:.0} ops/s"),
        Value::LatencyMs { p50, p99 } => format!("p50 {p50:.3} ms, p99 {p99:.3} ms"),
        Value::Pages([s, c, d]) => format!("pages {s:.2}/{c:.2}/{d:.2}"),
    }
}

/// This process's peak resident set, `VmHWM`, in KiB. Not `getrusage`'s
/// `ru_maxrss`: Linux carries that across `execve`, so under `cargo bench` it
/// reports the size of cargo (which forked this process), and for a child the
/// size of this process at the spawn.
pub(crate) fn peak_rss_kib() -> Res<u64> {
    let status = fs::read_to_string("/proc/self/status")?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .ok_or("no VmHWM in /proc/self/status")?;
    Ok(kib.trim().trim_end_matches("kB").trim().parse()?)
}

/// The largest `VmHWM` the child processes reported.
pub(crate) static CHILDREN_PEAK_KIB: AtomicU64 = AtomicU64::new(0);

pub(crate) fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

pub(crate) fn machine() -> String {
    // SAFETY: uname only writes the struct it is given; all-zero is a valid utsname.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable utsname.
    let uname = if unsafe { libc::uname(&mut u) } == 0 {
        let field = |f: &[libc::c_char]| {
            let bytes: Vec<u8> = f
                .iter()
                .take_while(|&&c| c != 0)
                .map(|&c| c as u8)
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        format!(
            "{} {} {}",
            field(&u.sysname),
            field(&u.release),
            field(&u.machine)
        )
    } else {
        "unknown".to_owned()
    };
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown cpu".to_owned());
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    format!("{uname} / {cpu} / {cores} cores")
}

pub(crate) fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON number with `decimals` places; JSON has no NaN or infinity.
pub(crate) fn json_num(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        "null".to_owned()
    }
}

pub(crate) fn json_list(xs: &[f64], decimals: usize) -> String {
    let items: Vec<String> = xs.iter().map(|&x| json_num(x, decimals)).collect();
    format!("[{}]", items.join(", "))
}

/// (journal_mode, synchronous) of a cell: every run must have read back the
/// same. Empty for a failed cell (no runs).
pub(crate) fn cell_settings(cell: &Cell) -> Res<(&str, &str)> {
    let Some(first) = cell.runs.first() else {
        return Ok(("", ""));
    };
    for run in &cell.runs {
        if (&run.journal_mode, &run.synchronous) != (&first.journal_mode, &first.synchronous) {
            return Err(format!(
                "{} {} {}: runs read back different settings",
                cell.imp.name(),
                cell.workload.name(),
                cell.dur.name()
            )
            .into());
        }
    }
    Ok((&first.journal_mode, &first.synchronous))
}

/// What a cell's rows measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    OpsPerSec,
    LatencyMs,
    /// One row per step (submit, claim, complete).
    Pages,
}

fn metric(workload: Workload) -> Metric {
    match workload {
        Workload::LatencyInproc
        | Workload::LatencyXproc
        | Workload::StopInproc
        | Workload::StopXproc => Metric::LatencyMs,
        Workload::WalPages => Metric::Pages,
        _ => Metric::OpsPerSec,
    }
}

/// The steps of a wal-pages cell, in `Value::Pages` order.
const PAGE_STEPS: [&str; 3] = ["submit", "claim", "complete"];

/// Per cell: the run values, in columns (ops/s: one; latency: p50, p99; pages:
/// submit, claim, complete).
fn columns(cell: &Cell) -> Vec<Vec<f64>> {
    let mut out: Vec<Vec<f64>> = Vec::new();
    for run in &cell.runs {
        let values = match run.value {
            Value::OpsPerSec(r) => vec![r],
            Value::LatencyMs { p50, p99 } => vec![p50, p99],
            Value::Pages(p) => p.to_vec(),
        };
        out.resize(values.len(), Vec::new());
        for (column, v) in out.iter_mut().zip(values) {
            column.push(v);
        }
    }
    out
}

/// The JSON rows of one cell (three for wal-pages, one otherwise); a failed
/// cell's rows have a null value, no runs, and its error in `error` and `note`.
fn json_rows(cell: &Cell) -> Res<Vec<String>> {
    let (journal, sync) = cell_settings(cell)?;
    let head = |workload: &str| {
        format!(
            "{{\"impl\": {}, \"workload\": {}, \"durability\": {}, \"journal_mode\": {}, \
             \"synchronous\": {}, ",
            json_str(cell.imp.name()),
            json_str(workload),
            json_str(cell.dur.name()),
            json_str(journal),
            json_str(sync),
        )
    };
    let tail = match &cell.error {
        Some(e) => format!(
            ", \"error\": {}, \"note\": {}}}",
            json_str(e),
            json_str(&format!("FAILED: {e}"))
        ),
        None => "}".to_owned(),
    };
    let cols = columns(cell);
    let col = |i: usize| cols.get(i).cloned().unwrap_or_default();
    let med = |xs: &[f64], d: usize| {
        if xs.is_empty() {
            "null".to_owned()
        } else {
            json_num(median(xs), d)
        }
    };
    Ok(match metric(cell.workload) {
        Metric::OpsPerSec => vec![format!(
            "{}\"metric\": \"ops_per_sec\", \"value\": {}, \"runs\": {}, \"ops\": {}{tail}",
            head(cell.workload.name()),
            med(&col(0), 1),
            json_list(&col(0), 1),
            cell.ops
        )],
        Metric::LatencyMs => vec![format!(
            "{}\"metric\": \"latency_ms\", \"p50\": {}, \"p99\": {}, \"runs_p50\": {}, \
             \"runs_p99\": {}, \"samples\": {}{tail}",
            head(cell.workload.name()),
            med(&col(0), 4),
            med(&col(1), 4),
            json_list(&col(0), 4),
            json_list(&col(1), 4),
            cell.ops
        )],
        Metric::Pages => PAGE_STEPS
            .iter()
            .enumerate()
            .map(|(i, step)| {
                format!(
                    "{}\"metric\": \"wal_pages_per_call\", \"value\": {}, \"runs\": {}, \
                     \"ops\": {}{tail}",
                    head(&format!("wal-pages-{step}")),
                    med(&col(i), 3),
                    json_list(&col(i), 3),
                    cell.ops
                )
            })
            .collect(),
    })
}

/// `rss`: peak RSS in MiB of this process and of the largest child.
pub(crate) fn write_json(path: &Path, cells: &[Cell], quick: bool, rss: (f64, f64)) -> Res<()> {
    let mut results = Vec::new();
    for cell in cells {
        results.extend(json_rows(cell)?);
    }
    let json = format!(
        "{{\"source\": \"rust\", \"machine\": {}, \"sqlite_version\": {},\n \"quick\": {quick}, \
         \"peak_rss_mib\": {}, \"children_peak_rss_mib\": {},\n \"results\": [\n  {}\n ]}}\n",
        json_str(&machine()),
        json_str(rusqlite::version()),
        json_num(rss.0, 1),
        json_num(rss.1, 1),
        results.join(",\n  ")
    );
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, json)?;
    Ok(())
}

/// One cell's value and runs, as the printed table shows them.
fn printed(cell: &Cell) -> (String, String) {
    if let Some(e) = &cell.error {
        return ("FAILED".to_owned(), e.clone());
    }
    let cols = columns(cell);
    let runs = |fmt: &dyn Fn(&[f64]) -> String| -> String {
        (0..cell.runs.len())
            .map(|r| fmt(&cols.iter().map(|c| c[r]).collect::<Vec<_>>()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let meds: Vec<f64> = cols.iter().map(|c| median(c)).collect();
    match (metric(cell.workload), meds.as_slice()) {
        (Metric::OpsPerSec, [r]) => (format!("{r:.0} ops/s"), runs(&|v| format!("{:.0}", v[0]))),
        (Metric::LatencyMs, [p50, p99]) => (
            format!("p50 {p50:.3} p99 {p99:.3} ms"),
            runs(&|v| format!("{:.3}/{:.3}", v[0], v[1])),
        ),
        (Metric::Pages, [s, c, d]) => (
            format!("pages {s:.2}/{c:.2}/{d:.2}"),
            runs(&|v| format!("{:.2}/{:.2}/{:.2}", v[0], v[1], v[2])),
        ),
        _ => ("?".to_owned(), String::new()),
    }
}

pub(crate) fn print_table(cells: &[Cell]) -> Res<()> {
    println!(
        "{:<13} {:<15} {:<6} {:<7} {:<6} {:>24}  runs",
        "impl", "workload", "dur", "journal", "sync", "median"
    );
    for cell in cells {
        let (journal, sync) = cell_settings(cell)?;
        let (value, runs) = printed(cell);
        println!(
            "{:<13} {:<15} {:<6} {:<7} {:<6} {:>24}  {}",
            cell.imp.name(),
            cell.workload.name(),
            cell.dur.name(),
            journal,
            sync,
            value,
            runs
        );
    }
    Ok(())
}
