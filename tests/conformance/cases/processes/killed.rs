//! Killed workers: two of the worker processes are SIGKILLed while they hold leases.

use super::*;

// ---------------------------------------------------------------------------
// Child: a worker process
// ---------------------------------------------------------------------------

/// Entry point of the worker processes spawned by `killed_workers_lose_nothing`.
/// In a normal test run (no `ASYNCOP_TEST_CHILD=worker`) it returns at once.
///
/// Loops poll → log START for each claim → a little work → complete → log STOP
/// (only when `complete` returned Ok), and exits once every operation in the file
/// is Completed. Log lines:
/// `START <id> <token> <host> <claimed_at> <expires_at>`,
/// `STOP <id> <token> <host> <ms after complete returned>`,
/// `LOST <id> <token> <host> <ms>` (complete refused with LeaseLost).
#[test]
fn child_worker() {
    if !child::is_role("worker") {
        return;
    }
    let target = child::env(TARGET_ENV);
    let host = child::env(HOST_ENV);
    let queue = store()
        .open_target(
            &target,
            Options {
                lease: LEASE,
                ..Default::default()
            },
        )
        .unwrap();
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(child::env(LOG_ENV))
        .unwrap();
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let mut busy = 0u32;
    for round in 0u32.. {
        assert!(Instant::now() < deadline, "worker {host} timed out");
        // Batches of 1 to 4: a kill then lands while several leases are held.
        let options = PollOptions::default()
            .max(round % 4 + 1)
            .wait(Duration::from_millis(100));
        let leases = match queue.poll(&host, &options) {
            Ok(leases) => leases,
            Err(Error::Busy) => {
                busy += 1;
                continue;
            }
            Err(e) => panic!("worker {host}: poll failed: {e}"),
        };
        if leases.is_empty() {
            if all_completed(&queue) {
                break;
            }
            continue;
        }
        // Every claim is logged before any of the batch is worked on.
        let mut starts = String::new();
        for lease in &leases {
            assert_eq!(lease.host_id, host);
            assert_eq!(lease.data, child::short_payload(&lease.name), "payload of {}", lease.id);
            writeln!(
                starts,
                "START {} {} {host} {} {}",
                lease.id,
                lease.lock_token,
                lease.expires_at - LEASE_MS,
                lease.expires_at
            )
            .unwrap();
        }
        append(&mut log, &starts);
        for lease in &leases {
            if lease.id % 3 == 0 {
                thread::sleep(Duration::from_millis(2 + lease.id.unsigned_abs() % 4));
            }
            let result = loop {
                match queue.complete(lease.key()) {
                    Err(Error::Busy) => busy += 1,
                    other => break other,
                }
            };
            match result {
                Ok(status) => {
                    assert_eq!(status, Status::Succeeded);
                    let stop = format!(
                        "STOP {} {} {host} {}\n",
                        lease.id,
                        lease.lock_token,
                        now_ms()
                    );
                    append(&mut log, &stop);
                }
                Err(Error::LeaseLost { .. }) => {
                    let lost = format!(
                        "LOST {} {} {host} {}\n",
                        lease.id,
                        lease.lock_token,
                        now_ms()
                    );
                    append(&mut log, &lost);
                }
                Err(e) => panic!("worker {host}: complete of {} failed: {e}", lease.id),
            }
        }
    }
    eprintln!("worker {host}: done ({busy} Busy answers retried)");
}

// ---------------------------------------------------------------------------
/// SIGSTOPs the worker and looks at its (now still) log: if it shows a claim
/// without STOP, the worker holds that lease, and it is SIGKILLed; otherwise it
/// is resumed (SIGCONT) and the function returns false.
fn kill_while_holding(child: &mut Child, log_path: &Path, host: &str) -> bool {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: plain syscalls on the pid of our own, not yet reaped child.
    unsafe {
        assert_eq!(libc::kill(pid, libc::SIGSTOP), 0);
        let mut status = 0;
        assert_eq!(libc::waitpid(pid, &mut status, libc::WUNTRACED), pid);
        assert!(
            libc::WIFSTOPPED(status),
            "worker {host} was not running (wait status {status:#x})"
        );
    }
    if read_log(log_path, host, false).open_claims().is_empty() {
        // SAFETY: as above.
        unsafe { assert_eq!(libc::kill(pid, libc::SIGCONT), 0) };
        return false;
    }
    child.kill().unwrap(); // SIGKILL on Unix.
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{host}: {status:?}");
    true
}

#[test]
fn killed_workers_lose_nothing() {
    let started = Instant::now();
    let target = store().fresh("kill");
    let queue = target
        .open(Options {
            lease: LEASE,
            // Each lease expiry counts as an attempt (§6.4); a loaded machine must
            // not turn a slow worker's op into a poisoned one.
            max_attempts: Some(20),
            ..Default::default()
        })
        .unwrap();

    // Every fifth operation joins one of 7 dependency chains (§7).
    let specs: Vec<OperationSpec> = (0..OPERATIONS)
        .map(|i| {
            let name = format!("op-{i}");
            let spec = OperationSpec::new(&name, 1 + (i % 3) as i32).data(child::short_payload(&name));
            if i % 5 == 0 {
                spec.dependency_token(format!("chain-{}", i % 7))
            } else {
                spec
            }
        })
        .collect();
    let mut ids = Vec::new();
    for chunk in specs.chunks(250) {
        ids.extend(queue.submit_many(chunk).unwrap());
    }
    assert_eq!(ids.len(), OPERATIONS);

    let child_test = child::test_name(module_path!(), "child_worker");
    let mut children = Children::default();
    let spawn_worker = |children: &mut Children, n: usize| {
        let host = format!("w{n}");
        let log = target.scratch(&format!("{host}.log"));
        let child = child::spawn(
            &child_test,
            "worker",
            &[
                (TARGET_ENV, target.target()),
                (HOST_ENV, host.clone()),
                (LOG_ENV, log.to_str().unwrap().to_owned()),
            ],
            Stdio::null(),
        );
        children.0.push((host, child));
    };
    for n in 0..4 {
        spawn_worker(&mut children, n);
    }

    // Kill w0, then w1, each at a moment it holds at least one lease and has
    // made some progress; start a replacement after each kill.
    let victims = ["w0", "w1"];
    let mut killed_at: HashMap<&str, i64> = HashMap::new();
    for (k, victim) in victims.iter().enumerate() {
        let log_path = target.scratch(&format!("{victim}.log"));
        loop {
            check_deadline(started, &format!("waiting to kill {victim}"));
            let progress = read_log(&log_path, victim, true).stops.len();
            if progress >= 40 * (k + 1)
                && kill_while_holding(children.get(victim), &log_path, victim)
            {
                killed_at.insert(victim, now_ms());
                break;
            }
            thread::sleep(Duration::from_millis(3));
        }
        spawn_worker(&mut children, 4 + k);
    }

    // Everyone else runs until the queue is drained.
    for (host, child) in &mut children.0 {
        if victims.contains(&host.as_str()) {
            continue;
        }
        let status = loop {
            check_deadline(started, &format!("waiting for worker {host}"));
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "worker {host} failed: {status:?}");
    }
    let elapsed = started.elapsed();

    // -- the store: every operation Completed/Succeeded, none missing ---------
    let counts = queue.counts().unwrap();
    for row in &counts {
        assert_eq!(
            (row.state, row.status),
            (State::Completed, Status::Succeeded),
            "{row:?}"
        );
    }
    assert_eq!(
        counts.iter().map(|r| r.count).sum::<i64>(),
        OPERATIONS as i64
    );
    let ops: Vec<Operation> = queue.query(&Filter::default()).unwrap();
    assert_eq!(ops.iter().map(|o| o.id).collect::<Vec<_>>(), ids);

    // -- the logs ----------------------------------------------------------------
    let hosts: Vec<String> = (0..6).map(|n| format!("w{n}")).collect();
    let logs: HashMap<&str, WorkerLog> = hosts
        .iter()
        .map(|h| {
            (
                h.as_str(),
                read_log(&target.scratch(&format!("{h}.log")), h.as_str(), false),
            )
        })
        .collect();
    // Per operation: every claim (token → host, claim) and every successful complete.
    let mut claims: BTreeMap<i64, BTreeMap<i64, (&str, Start)>> = BTreeMap::new();
    let mut stops: BTreeMap<i64, Vec<(i64, &str, i64)>> = BTreeMap::new();
    for (host, log) in &logs {
        for (&(id, token), &start) in &log.starts {
            let earlier = claims.entry(id).or_default().insert(token, (host, start));
            assert!(
                earlier.is_none(),
                "op {id}: token {token} claimed by both {host} and {:?}",
                earlier.unwrap().0
            );
        }
        for (&(id, token), &at) in &log.stops {
            stops.entry(id).or_default().push((token, host, at));
        }
    }
    // A victim stopped while it waited for the reply to a complete: a store on a
    // server commits without its client (the ambiguous commit), so the operation
    // ends Completed under the victim's own token with no STOP line. That is the
    // victim's completion, and its hold ended by the kill at the latest.
    let mut landed = 0;
    for victim in victims {
        for (id, token) in logs[victim].open_claims() {
            let op = ops.iter().find(|o| o.id == id).unwrap();
            if op.lock_token == token {
                stops.entry(id).or_default().push((token, victim, killed_at[victim]));
                landed += 1;
            }
        }
    }

    let mut reclaimed = 0;
    for op in &ops {
        let id = op.id;
        let op_claims = claims
            .get(&id)
            .unwrap_or_else(|| panic!("op {id} is Completed but no worker logged a claim"));
        // Every claim was logged: the tokens are exactly 1..=lock_token (§6.3: +1 per claim).
        assert_eq!(
            op_claims.keys().copied().collect::<Vec<_>>(),
            (1..=op.lock_token).collect::<Vec<_>>(),
            "op {id}: logged tokens vs final lock_token"
        );
        // Every claim before the last ended by lease expiry, which counts as an attempt.
        assert_eq!(op.retry_count as i64, op.lock_token - 1, "op {id}");
        // Completed exactly once, under the last token, by the host that held it.
        let op_stops = stops.get(&id).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(
            op_stops.len(),
            1,
            "op {id}: successful completes {op_stops:?}"
        );
        let (stop_token, stop_host, stop_at) = op_stops[0];
        assert_eq!(stop_token, op.lock_token, "op {id}");
        assert_eq!(op_claims[&stop_token].0, stop_host, "op {id}");
        // No two holds overlap. A claim holds from its claim time until its
        // successful complete, or else until its lease expiry: the store's clock
        // is the same system clock, so these bounds are exact (§6.3, §6.4).
        let mut previous_end: Option<i64> = None;
        for (&token, &(host, claim)) in op_claims {
            assert_eq!(claim.token, token);
            if let Some(end) = previous_end {
                assert!(
                    claim.claimed_at >= end,
                    "op {id}: {host} claimed it (token {token}) at {} while the \
                     previous holder held it until {end}",
                    claim.claimed_at
                );
            }
            let end = if token == stop_token {
                assert!(stop_at >= claim.claimed_at);
                stop_at
            } else {
                claim.expires_at
            };
            previous_end = Some(end);
        }
        if op.lock_token > 1 {
            reclaimed += 1;
        }
    }

    // The kills hit held leases, and those operations were claimed again and
    // completed by another host.
    let mut killed_claims = 0;
    for victim in victims {
        let open = logs[victim].open_claims();
        assert!(!open.is_empty(), "{victim} held no lease when killed");
        for (id, token) in open {
            let op = ops.iter().find(|o| o.id == id).unwrap();
            if op.lock_token == token {
                continue; // its complete landed (counted above)
            }
            assert!(op.retry_count >= 1, "op {id} of killed {victim}: {op:?}");
            assert!(op.lock_token > token, "op {id} was not claimed again");
            assert_ne!(stops[&id][0].1, victim);
            killed_claims += 1;
        }
    }

    // Dependency chains (§7): no claim of an operation before its predecessor
    // with the same token was Completed.
    let mut last_in_chain: HashMap<&str, &Operation> = HashMap::new();
    for op in &ops {
        let Some(token) = op.dependency_token.as_deref() else {
            continue;
        };
        if let Some(previous) = last_in_chain.get(token) {
            let done = previous.completed_on.unwrap();
            let first_claim = claims[&op.id].values().map(|c| c.1.claimed_at).min();
            assert!(
                first_claim.unwrap() >= done,
                "op {} claimed before its predecessor {} completed",
                op.id,
                previous.id
            );
        }
        last_in_chain.insert(token, op);
    }
    assert_eq!(last_in_chain.len(), 7);

    let lost: usize = logs.values().map(|l| l.lost.len()).sum();
    eprintln!(
        "killed_workers_lose_nothing: {OPERATIONS} ops in {elapsed:?}; {killed_claims} leases \
         held by killed workers, {reclaimed} ops claimed more than once, {lost} LeaseLost completes, \
         {landed} completes that committed as their worker was killed"
    );
}

