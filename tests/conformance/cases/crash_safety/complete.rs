//! A killed completer (poll + complete).

use super::*;

// ---------------------------------------------------------------------------
// Poll + complete
// ---------------------------------------------------------------------------

/// Entry point of the process spawned by `killed_completer_loses_no_operation`.
/// In a normal test run (no `ASYNCOP_TEST_CHILD=completer`) it returns at once.
/// Claims batches of 1 to 3 (lease 1 s) and completes them, printing
/// `@@CLAIM <id> <token>` after each claim and `@@DONE <id> <token>` after each
/// complete returned Ok, until it is killed.
#[test]
fn child_completer() {
    if !child::is_role("completer") {
        return;
    }
    let queue = store()
        .open_target(
            &child::env(TARGET_ENV),
            Options {
                lease: COMPLETER_LEASE,
                ..Default::default()
            },
        )
        .unwrap();
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let mut out = std::io::stdout();
    for round in 0u32.. {
        assert!(Instant::now() < deadline, "completer was not killed");
        let options = PollOptions::default()
            .max(round % 3 + 1)
            .wait(Duration::from_millis(100));
        let leases = queue.poll("completer", &options).unwrap();
        for lease in &leases {
            writeln!(out, "@@CLAIM {} {}", lease.id, lease.lock_token).unwrap();
        }
        out.flush().unwrap();
        for lease in &leases {
            assert_eq!(queue.complete(lease.key()).unwrap(), Status::Succeeded);
            writeln!(out, "@@DONE {} {}", lease.id, lease.lock_token).unwrap();
            out.flush().unwrap();
        }
    }
}

#[test]
fn killed_completer_loses_no_operation() {
    const PER_ROUND: usize = 150;
    let target = store().fresh("complete");
    let mut all_ids: Vec<i64> = Vec::new();
    // Ops whose claim a kill interrupted, over all rounds.
    let mut interrupted: BTreeSet<i64> = BTreeSet::new();
    for round in 0..ROUNDS {
        {
            let queue = target.open(Options::default()).unwrap();
            let specs: Vec<OperationSpec> = (0..PER_ROUND)
                .map(|i| {
                    let name = format!("c{round}-{i}");
                    OperationSpec::new(&name, 3).data(child::payload(&name))
                })
                .collect();
            all_ids.extend(queue.submit_many(&specs).unwrap());
            queue.close();
        }
        let kill_after = [70, 25, 110][round];
        let (child, lines) = spawn(
            &child::test_name(module_path!(), "child_completer"),
            "completer",
            &target,
            round,
        );
        let mut seen = Vec::new();
        let mut done_lines = 0;
        while done_lines < kill_after {
            let line = lines.next_marked(LINE_TIMEOUT).expect("completer ended early");
            done_lines += usize::from(line.starts_with("DONE"));
            seen.push(line);
        }
        thread::sleep(jitter());
        seen.extend(kill(child, &lines));
        let killed_at = SystemClock.now_ms();

        let mut claimed: BTreeMap<i64, i64> = BTreeMap::new();
        let mut done: BTreeSet<i64> = BTreeSet::new();
        for line in &seen {
            let f: Vec<&str> = line.split(' ').collect();
            assert_eq!(f.len(), 3, "{line:?}");
            let (id, token): (i64, i64) = (f[1].parse().unwrap(), f[2].parse().unwrap());
            match f[0] {
                "CLAIM" => assert!(claimed.insert(id, token).is_none(), "{line:?}"),
                "DONE" => {
                    assert_eq!(claimed.get(&id), Some(&token), "{line:?}");
                    assert!(done.insert(id), "{line:?}");
                }
                _ => panic!("bad line {line:?}"),
            }
        }

        // This handle drains the rest below, with the default 30 s lease: its own
        // claims cannot expire while it works.
        let (queue, rows) = reopen_and_check(&target, Options::default());
        // No operation lost: every submitted id is still there, nothing else is.
        assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), all_ids);
        // Claims the kill left Locked, and ops completed after their last print.
        let mut locked = BTreeSet::new();
        let mut completed_unreported = BTreeSet::new();
        for row in &rows {
            let row_round: usize = row.name[1..].split('-').next().unwrap().parse().unwrap();
            let state = (row.state, row.status);
            if row_round < round || done.contains(&row.id) {
                assert_eq!(
                    state,
                    (State::Completed, Status::Succeeded),
                    "{}",
                    summary(row)
                );
                continue;
            }
            match state {
                (State::Ready, Status::WaitingForResources) => {
                    assert_eq!(row.lock_token, 0, "{}", summary(row));
                }
                (State::Locked, Status::InProgress) => {
                    // Its lease runs out by itself.
                    assert_eq!(row.host_id.as_deref(), Some("completer"));
                    assert!(row.lease_expires_at.unwrap() <= killed_at + 1000);
                    locked.insert(row.id);
                }
                (State::Completed, Status::Succeeded) => {
                    assert!(claimed.contains_key(&row.id), "{}", summary(row));
                    completed_unreported.insert(row.id);
                }
                other => panic!("{other:?} after the kill: {}", summary(row)),
            }
        }
        // One complete at a time: at most one committed without its print.
        assert!(completed_unreported.len() <= 1, "{completed_unreported:?}");
        interrupted.extend(&locked);
        // Everything the completer reported claimed but not done is still held by
        // it, or was completed just before the kill.
        for &id in claimed.keys().filter(|id| !done.contains(id)) {
            assert!(
                locked.contains(&id) || completed_unreported.contains(&id),
                "claimed op {id} is neither Locked nor Completed"
            );
        }

        // Drain the rest here: the killed claims come back after their lease (§6.4).
        let deadline = Instant::now() + Duration::from_secs(30);
        while queue
            .counts()
            .unwrap()
            .iter()
            .any(|c| c.state != State::Completed)
        {
            assert!(Instant::now() < deadline, "operations did not come back");
            let options = PollOptions::default()
                .max(50)
                .wait(Duration::from_millis(200));
            for lease in queue.poll("drainer", &options).unwrap() {
                assert_eq!(queue.complete(lease.key()).unwrap(), Status::Succeeded);
            }
        }
        let rows = queue.query(&Filter::default()).unwrap();
        assert_eq!(rows.len(), all_ids.len());
        for row in &rows {
            assert_eq!(
                (row.state, row.status),
                (State::Completed, Status::Succeeded)
            );
            if interrupted.contains(&row.id) {
                // Claimed again once the killed claim's lease expired: one attempt lost.
                assert_eq!(
                    (row.lock_token, row.retry_count),
                    (2, 1),
                    "{}",
                    summary(row)
                );
            } else {
                assert_eq!(
                    (row.lock_token, row.retry_count),
                    (1, 0),
                    "{}",
                    summary(row)
                );
            }
        }
        eprintln!(
            "completer round {round}: {} done, {} Locked and {} completed unreported at the kill",
            done.len(),
            locked.len(),
            completed_unreported.len()
        );
        queue.close();
    }
}
