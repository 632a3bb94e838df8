//! A killed submitter, alone and with four threads sharing commits (group commit).

use super::*;

// ---------------------------------------------------------------------------
// Single submits
// ---------------------------------------------------------------------------

/// Entry point of the process spawned by `killed_submitter_loses_no_returned_submit`.
/// In a normal test run (no `ASYNCOP_TEST_CHILD=submitter`) it returns at once.
/// Submits `r<round>-i<i>` for i = 0, 1, … and prints `@@ID <id> <name>` after
/// each submit returned Ok, until it is killed.
#[test]
fn child_submitter() {
    if !child::is_role("submitter") {
        return;
    }
    let queue = store().open_target(&child::env(TARGET_ENV), Options::default()).unwrap();
    let round = child::env(ROUND_ENV);
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let mut out = std::io::stdout();
    for i in 0u64.. {
        assert!(Instant::now() < deadline, "submitter was not killed");
        let name = format!("r{round}-i{i}");
        let id = queue
            .submit(&OperationSpec::new(&name, 1).data(child::payload(&name)))
            .unwrap();
        writeln!(out, "@@ID {id} {name}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn killed_submitter_loses_no_returned_submit() {
    let target = store().fresh("submit");
    target.open(Options::default()).unwrap().close();
    // id → name of every submit the child reported as returned.
    let mut printed: BTreeMap<i64, String> = BTreeMap::new();
    // Submits reported per round.
    let mut reported: Vec<usize> = Vec::new();
    for round in 0..ROUNDS {
        let kill_after = [200, 60, 330][round];
        let (child, lines) = spawn(
            &child::test_name(module_path!(), "child_submitter"),
            "submitter",
            &target,
            round,
        );
        let mut this_round = Vec::new();
        while this_round.len() < kill_after {
            this_round.push(lines.next_marked(LINE_TIMEOUT).expect("submitter ended early"));
        }
        thread::sleep(jitter());
        this_round.extend(kill(child, &lines));

        let mut previous = printed.keys().next_back().copied().unwrap_or(0);
        for (i, line) in this_round.iter().enumerate() {
            let f: Vec<&str> = line.split(' ').collect();
            assert_eq!(f.len(), 3, "{line:?}");
            assert_eq!(f[0], "ID", "{line:?}");
            assert_eq!(f[2], format!("r{round}-i{i}"), "lines in submit order");
            let id: i64 = f[1].parse().unwrap();
            // Ids strictly increase and are never reused, also across kills (§5).
            assert!(id > previous, "{line:?} after id {previous}");
            previous = id;
            assert!(printed.insert(id, f[2].to_owned()).is_none(), "{line:?}");
        }
        reported.push(this_round.len());

        let (queue, rows) = reopen_and_check(&target, Options::default());
        for (&id, name) in &printed {
            let op = queue.retrieve(id).unwrap();
            assert_eq!(&op.name, name, "op {id}");
            assert!(op.data == child::payload(name), "torn data: {}", summary(&op));
            assert_eq!(
                (op.state, op.status),
                (State::Ready, Status::WaitingForResources)
            );
        }
        // Per round, at most one submit committed without being reported: the
        // one the kill interrupted between commit and print, the next in order.
        let mut unreported: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
        for row in rows.iter().filter(|r| !printed.contains_key(&r.id)) {
            let r: usize = row.name[1..].split('-').next().unwrap().parse().unwrap();
            unreported.entry(r).or_default().push(&row.name);
        }
        for (&r, names) in &unreported {
            assert_eq!(names, &[format!("r{r}-i{}", reported[r])], "round {r}");
        }
        eprintln!(
            "submitter round {round}: {} submits reported, {} rows in the file",
            this_round.len(),
            rows.len()
        );
        queue.close();
    }
}

// ---------------------------------------------------------------------------
// Concurrent submits (group commit)
// ---------------------------------------------------------------------------

const SUBMIT_THREADS: usize = 4;

/// Entry point of the process spawned by `killed_group_commit_loses_no_returned_submit`.
/// In a normal test run (no `ASYNCOP_TEST_CHILD=threads`) it returns at once.
/// Four threads submit `r<round>-t<t>-i<i>` through one queue, so their
/// submits share transactions; each prints `@@ID <id> <name>` after its submit
/// returned Ok, and thread 0 prints `@@STATS <transactions> <commands>` now and then.
#[test]
fn child_threaded_submitter() {
    if !child::is_role("threads") {
        return;
    }
    let queue = store().open_target(&child::env(TARGET_ENV), Options::default()).unwrap();
    let round = child::env(ROUND_ENV);
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let threads: Vec<_> = (0..SUBMIT_THREADS)
        .map(|t| {
            let queue = queue.clone();
            let round = round.clone();
            thread::spawn(move || {
                for i in 0u64.. {
                    assert!(Instant::now() < deadline, "submitter was not killed");
                    let name = format!("r{round}-t{t}-i{i}");
                    let id = queue
                        .submit(&OperationSpec::new(&name, 1).data(child::payload(&name)))
                        .unwrap();
                    let mut line = format!("@@ID {id} {name}\n");
                    if t == 0 && i % 50 == 0
                        && let Some((transactions, commands)) =
                            crate::support::raw::writer_stats(&queue)
                    {
                        line += &format!("@@STATS {transactions} {commands}\n");
                    }
                    // One write per line set, under the stdout lock: lines never interleave.
                    let mut out = std::io::stdout().lock();
                    out.write_all(line.as_bytes()).unwrap();
                    out.flush().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// (round, thread, i) from `r<round>-t<t>-i<i>`.
fn parse_thread_name(name: &str) -> (usize, usize, u64) {
    let parts: Vec<u64> = name.split('-').map(|p| p[1..].parse().unwrap()).collect();
    (parts[0] as usize, parts[1] as usize, parts[2])
}

#[test]
fn killed_group_commit_loses_no_returned_submit() {
    let target = store().fresh("threads");
    target.open(Options::default()).unwrap().close();
    let mut printed: BTreeMap<i64, String> = BTreeMap::new();
    // Per (round, thread): how many submits were reported.
    let mut reported: BTreeMap<(usize, usize), u64> = BTreeMap::new();
    for round in 0..ROUNDS {
        let kill_after = [400, 150, 700][round];
        let (child, lines) = spawn(
            &child::test_name(module_path!(), "child_threaded_submitter"),
            "threads",
            &target,
            round,
        );
        let mut this_round = Vec::new();
        while this_round.len() < kill_after {
            this_round.push(lines.next_marked(LINE_TIMEOUT).expect("submitter ended early"));
        }
        thread::sleep(jitter());
        this_round.extend(kill(child, &lines));
        let mut stats = String::new();
        for line in &this_round {
            let f: Vec<&str> = line.split(' ').collect();
            if f[0] == "STATS" {
                stats = line.clone();
                continue;
            }
            assert_eq!((f.len(), f[0]), (3, "ID"), "{line:?}");
            let (r, t, i) = parse_thread_name(f[2]);
            assert_eq!(r, round);
            let next = reported.entry((r, t)).or_default();
            assert_eq!(i, *next, "thread {t}: lines in submit order");
            *next += 1;
            assert!(
                printed
                    .insert(f[1].parse().unwrap(), f[2].to_owned())
                    .is_none()
            );
        }
        let (queue, rows) = reopen_and_check(&target, Options::default());
        for (&id, name) in &printed {
            let op = queue.retrieve(id).unwrap();
            assert_eq!(&op.name, name, "op {id}: a submit that returned is missing");
        }
        // Per thread at most one committed submit went unreported (killed between
        // its commit and its print), and it is that thread's next one.
        let mut unreported: BTreeMap<(usize, usize), Vec<u64>> = BTreeMap::new();
        for row in rows.iter().filter(|r| !printed.contains_key(&r.id)) {
            let (r, t, i) = parse_thread_name(&row.name);
            unreported.entry((r, t)).or_default().push(i);
        }
        for (key, items) in &unreported {
            assert_eq!(
                items,
                &[reported.get(key).copied().unwrap_or(0)],
                "round {} thread {}",
                key.0,
                key.1
            );
        }
        eprintln!(
            "threaded submitter round {round}: {} submits reported, {} rows; last {stats}",
            printed.len(),
            rows.len()
        );
        queue.close();
    }
}

