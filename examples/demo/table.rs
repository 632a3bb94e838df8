//! The System Jobs table and the hosts' tallies, with the checks that every job is
//! accounted for.

use super::*;

/// Prints the System Jobs table and the hosts' tallies; checks that every submitted
/// job is in the file, Completed, and counted once. Returns whether all checks held.
pub(crate) fn print_table(
    q: &Queue,
    submitted: &[i64],
    hosts: &[(String, HostStats)],
) -> DemoResult<bool> {
    let mut ok = true;
    let counts = q.counts()?;
    let mut rows: BTreeMap<(State, Status), BTreeMap<i32, i64>> = BTreeMap::new();
    for r in &counts {
        *rows
            .entry((r.state, r.status))
            .or_default()
            .entry(r.operation_type)
            .or_insert(0) += r.count;
    }
    println!();
    println!("System Jobs");
    let mut header = format!("{:<22}", "State/Status");
    for (_, name) in TYPES {
        header.push_str(&format!("{name:>13}"));
    }
    header.push_str(&format!("{:>8}", "total"));
    println!("{header}");
    println!("{}", "-".repeat(header.len()));
    let mut column_totals: BTreeMap<i32, i64> = BTreeMap::new();
    for ((state, status), by_type) in &rows {
        let mut line = format!("{:<22}", label(*state, *status));
        for (t, _) in TYPES {
            line.push_str(&format!("{:>13}", by_type.get(&t).copied().unwrap_or(0)));
        }
        line.push_str(&format!("{:>8}", by_type.values().sum::<i64>()));
        println!("{line}");
        for (t, n) in by_type {
            *column_totals.entry(*t).or_insert(0) += n;
        }
    }
    println!("{}", "-".repeat(header.len()));
    let total: i64 = column_totals.values().sum();
    let mut line = format!("{:<22}", "total");
    for (t, _) in TYPES {
        line.push_str(&format!(
            "{:>13}",
            column_totals.get(&t).copied().unwrap_or(0)
        ));
    }
    line.push_str(&format!("{total:>8}"));
    println!("{line}");

    // Every submitted id is in the file and Completed; nothing else is there.
    let stored: Vec<Operation> = q.query(&Filter::default())?;
    let stored_ids: Vec<i64> = stored.iter().map(|op| op.id).collect();
    let open = stored
        .iter()
        .filter(|op| op.state != State::Completed)
        .count();
    let unknown_types = counts
        .iter()
        .filter(|r| TYPES.iter().all(|(t, _)| *t != r.operation_type))
        .count();
    if total == submitted.len() as i64 && stored_ids == submitted && open == 0 && unknown_types == 0
    {
        println!(
            "total {total} = {} submitted: every job accounted for, all Completed",
            submitted.len()
        );
    } else {
        ok = false;
        println!(
            "MISMATCH: total {total}, submitted {}, ids equal: {}, not Completed: {open}",
            submitted.len(),
            stored_ids == submitted
        );
    }

    println!();
    let mut header = format!("{:<24}", "host");
    for name in HostStats::FIELDS {
        header.push_str(&format!("{name:>10}"));
    }
    println!("{header}");
    let mut all = HostStats::default();
    for (name, stats) in hosts {
        let mut line = format!("{name:<24}");
        for v in stats.values() {
            line.push_str(&format!("{v:>10}"));
        }
        println!("{line}");
        all.add(stats);
    }
    let mut line = format!("{:<24}", "all hosts");
    for v in all.values() {
        line.push_str(&format!("{v:>10}"));
    }
    println!("{line}");

    // Only hosts produce Succeeded and Failed: their reports must match the table.
    let in_table = |status: Status| -> i64 {
        counts
            .iter()
            .filter(|r| r.status == status)
            .map(|r| r.count)
            .sum()
    };
    let (succeeded, failed) = (in_table(Status::Succeeded), in_table(Status::Failed));
    if all.succeeded as i64 == succeeded && all.failed as i64 == failed && all.errors == 0 {
        println!(
            "hosts reported {succeeded} successes and {failed} failures, as in the table; no host call failed"
        );
    } else {
        ok = false;
        println!(
            "MISMATCH: hosts reported {} successes / {} failures / {} errors; table has {succeeded} / {failed}",
            all.succeeded, all.failed, all.errors
        );
    }
    Ok(ok)
}
