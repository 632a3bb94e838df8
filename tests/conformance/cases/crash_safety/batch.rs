//! A killed batch submitter (`submit_many`).

use super::*;

// ---------------------------------------------------------------------------
// Batches (submit_many)
// ---------------------------------------------------------------------------

/// The size of batch `b`: 1 to 16.
fn batch_size(b: u64) -> u64 {
    1 + (b * 7) % 16
}

/// Entry point of the process spawned by `killed_batch_submitter_loses_no_returned_batch`.
/// In a normal test run (no `ASYNCOP_TEST_CHILD=batcher`) it returns at once.
/// Submits batch b of `r<round>-b<b>-j<j>-n<n>` (j < n) with `submit_many` for
/// b = 0, 1, … and prints `@@BATCH <b> <id,id,…>` after each returned Ok.
#[test]
fn child_batch_submitter() {
    if !child::is_role("batcher") {
        return;
    }
    let queue = store().open_target(&child::env(TARGET_ENV), Options::default()).unwrap();
    let round = child::env(ROUND_ENV);
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let mut out = std::io::stdout();
    for b in 0u64.. {
        assert!(Instant::now() < deadline, "batch submitter was not killed");
        let n = batch_size(b);
        let specs: Vec<OperationSpec> = (0..n)
            .map(|j| {
                let name = format!("r{round}-b{b}-j{j}-n{n}");
                OperationSpec::new(&name, 2).data(child::payload(&name))
            })
            .collect();
        let ids = queue.submit_many(&specs).unwrap();
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        writeln!(out, "@@BATCH {b} {}", ids.join(",")).unwrap();
        out.flush().unwrap();
    }
}

/// (round, batch, j, n) from `r<round>-b<b>-j<j>-n<n>`.
fn parse_batch_name(name: &str) -> (u64, u64, u64, u64) {
    let parts: Vec<u64> = name
        .split('-')
        .map(|p| {
            p[1..]
                .parse()
                .unwrap_or_else(|_| panic!("bad name {name:?}"))
        })
        .collect();
    assert_eq!(parts.len(), 4, "bad name {name:?}");
    (parts[0], parts[1], parts[2], parts[3])
}

#[test]
fn killed_batch_submitter_loses_no_returned_batch() {
    let target = store().fresh("batch");
    target.open(Options::default()).unwrap().close();
    // id → name of every operation of every batch the child reported.
    let mut printed: BTreeMap<i64, String> = BTreeMap::new();
    // Batches reported per round.
    let mut reported: Vec<u64> = Vec::new();
    for round in 0..ROUNDS {
        let kill_after = [40, 12, 70][round];
        let (child, lines) = spawn(
            &child::test_name(module_path!(), "child_batch_submitter"),
            "batcher",
            &target,
            round,
        );
        let mut this_round = Vec::new();
        while this_round.len() < kill_after {
            this_round.push(lines.next_marked(LINE_TIMEOUT).expect("batch submitter ended early"));
        }
        thread::sleep(jitter());
        this_round.extend(kill(child, &lines));

        let mut previous = printed.keys().next_back().copied().unwrap_or(0);
        for (b, line) in this_round.iter().enumerate() {
            let b = b as u64;
            let f: Vec<&str> = line.split(' ').collect();
            assert_eq!(f.len(), 3, "{line:?}");
            assert_eq!(
                (f[0], f[1]),
                ("BATCH", b.to_string().as_str()),
                "batch order"
            );
            let ids: Vec<i64> = f[2].split(',').map(|s| s.parse().unwrap()).collect();
            let n = batch_size(b);
            assert_eq!(ids.len() as u64, n, "{line:?}");
            // Ids are in `specs` order (§5: strictly increasing).
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "{line:?}");
            assert!(ids[0] > previous, "{line:?} after id {previous}");
            previous = ids[n as usize - 1];
            for (j, id) in ids.into_iter().enumerate() {
                let name = format!("r{round}-b{b}-j{j}-n{n}");
                assert!(printed.insert(id, name).is_none(), "{line:?}");
            }
        }

        let (queue, rows) = reopen_and_check(&target, Options::default());
        for (&id, name) in &printed {
            let op = queue.retrieve(id).unwrap();
            assert_eq!(&op.name, name, "op {id}");
            assert!(op.data == child::payload(name), "torn data: {}", summary(&op));
        }
        // All or none: every batch in the file is whole, reported or not.
        let mut batches: BTreeMap<(u64, u64), BTreeSet<u64>> = BTreeMap::new();
        for row in &rows {
            let (r, b, j, n) = parse_batch_name(&row.name);
            assert!(j < n, "{}", row.name);
            batches.entry((r, b)).or_default().insert(j);
        }
        for (&(r, b), members) in &batches {
            assert_eq!(
                members.len() as u64,
                batch_size(b),
                "batch {b} of round {r} is partly in the file: {members:?}"
            );
        }
        // Per round, at most one committed batch went unreported (the kill came
        // between commit and print), and it is the next one in order.
        reported.push(this_round.len() as u64);
        let mut unreported: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
        for row in rows.iter().filter(|r| !printed.contains_key(&r.id)) {
            let (r, b, _, _) = parse_batch_name(&row.name);
            unreported.entry(r).or_default().insert(b);
        }
        for (&r, unreported_batches) in &unreported {
            assert_eq!(
                unreported_batches,
                &BTreeSet::from([reported[r as usize]]),
                "round {r}"
            );
        }
        eprintln!(
            "batch submitter round {round}: {} batches reported, {} rows in the file",
            this_round.len(),
            rows.len()
        );
        queue.close();
    }
}

