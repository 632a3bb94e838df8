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
    }
}

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

/// (journal_mode, synchronous) of a cell: every run must have read back the same.
pub(crate) fn cell_settings(cell: &Cell) -> Res<(&str, &str)> {
    let first = cell.runs.first().ok_or("a cell without runs")?;
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

/// Per cell: the run values (ops/s, or p50 and p99).
pub(crate) fn series(cell: &Cell) -> (Vec<f64>, Vec<f64>) {
    let mut a = Vec::new();
    let mut b = Vec::new();
    for run in &cell.runs {
        match run.value {
            Value::OpsPerSec(r) => a.push(r),
            Value::LatencyMs { p50, p99 } => {
                a.push(p50);
                b.push(p99);
            }
        }
    }
    (a, b)
}

/// `rss`: peak RSS in MiB of this process and of the largest child.
pub(crate) fn write_json(path: &Path, cells: &[Cell], quick: bool, rss: (f64, f64)) -> Res<()> {
    let mut results = Vec::new();
    for cell in cells {
        let (journal, sync) = cell_settings(cell)?;
        let mut r = format!(
            "{{\"impl\": {}, \"workload\": {}, \"durability\": {}, \"journal_mode\": {}, \
             \"synchronous\": {}, ",
            json_str(cell.imp.name()),
            json_str(cell.workload.name()),
            json_str(cell.dur.name()),
            json_str(journal),
            json_str(sync),
        );
        let (a, b) = series(cell);
        if b.is_empty() {
            write!(
                r,
                "\"metric\": \"ops_per_sec\", \"value\": {}, \"runs\": {}, \"ops\": {}}}",
                json_num(median(&a), 1),
                json_list(&a, 1),
                cell.ops
            )?;
        } else {
            write!(
                r,
                "\"metric\": \"latency_ms\", \"p50\": {}, \"p99\": {}, \"runs_p50\": {}, \
                 \"runs_p99\": {}, \"samples\": {}}}",
                json_num(median(&a), 4),
                json_num(median(&b), 4),
                json_list(&a, 4),
                json_list(&b, 4),
                cell.ops
            )?;
        }
        results.push(r);
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

pub(crate) fn print_table(cells: &[Cell]) -> Res<()> {
    println!(
        "{:<13} {:<15} {:<6} {:<7} {:<6} {:>24}  runs",
        "impl", "workload", "dur", "journal", "sync", "median"
    );
    for cell in cells {
        let (journal, sync) = cell_settings(cell)?;
        let (a, b) = series(cell);
        let (value, runs) = if b.is_empty() {
            let runs: Vec<String> = a.iter().map(|r| format!("{r:.0}")).collect();
            (format!("{:.0} ops/s", median(&a)), runs.join(" "))
        } else {
            let runs: Vec<String> = a
                .iter()
                .zip(&b)
                .map(|(p50, p99)| format!("{p50:.3}/{p99:.3}"))
                .collect();
            (
                format!("p50 {:.3} p99 {:.3} ms", median(&a), median(&b)),
                runs.join(" "),
            )
        };
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
