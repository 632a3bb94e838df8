//! Cross-process wake-up: a waiting poll in one process and a submit in another.

use super::*;

// ---------------------------------------------------------------------------
// Cross-process wake-up
// ---------------------------------------------------------------------------

/// Entry point of the waiting process spawned by
/// `submit_in_one_process_wakes_poll_in_another`. In a normal test run (no
/// `ASYNCOP_TEST_CHILD=waiter`) it returns at once.
///
/// For each round: prints `@@READY <round>`, waits in `poll(wait = 5 s)` on the
/// empty queue, and prints `@@GOT <round> <id> <µs since epoch at poll return>`
/// (or `@@TIMEOUT <round>`), then completes the operation.
#[test]
fn child_waiter() {
    if !child::is_role("waiter") {
        return;
    }
    let queue = store()
        .open_target(&child::env(TARGET_ENV), Options::default())
        .unwrap();
    let rounds: u32 = child::env(ROUNDS_ENV).parse().unwrap();
    let mut out = std::io::stdout();
    for round in 0..rounds {
        writeln!(out, "@@READY {round}").unwrap();
        out.flush().unwrap();
        let leases = queue
            .poll(
                "waiter",
                &PollOptions::default().wait(Duration::from_secs(5)),
            )
            .unwrap();
        let returned_at = now_us();
        match leases.as_slice() {
            [lease] => {
                writeln!(out, "@@GOT {round} {} {returned_at}", lease.id).unwrap();
                out.flush().unwrap();
                assert_eq!(queue.complete(lease.key()).unwrap(), Status::Succeeded);
            }
            [] => {
                writeln!(out, "@@TIMEOUT {round}").unwrap();
                out.flush().unwrap();
            }
            more => panic!("poll with max 1 returned {} leases", more.len()),
        }
    }
}

#[test]
fn submit_in_one_process_wakes_poll_in_another() {
    const ROUNDS: u32 = 5;
    let target = store().fresh("wake");
    let queue = target.open(Options::default()).unwrap();
    let (mut children, lines) =
        spawn_rounds_child(module_path!(), "child_waiter", "waiter", target.target(), ROUNDS);

    let mut latencies_us = Vec::new();
    for round in 0..ROUNDS {
        assert_eq!(
            lines.expect_marked(Duration::from_secs(30)),
            format!("READY {round}")
        );
        // Let the child get past its first, empty claim and into its wait.
        thread::sleep(Duration::from_millis(200));
        let id = queue
            .submit(&OperationSpec::new(format!("wake-{round}"), 1))
            .unwrap();
        let submitted_at = now_us();
        let got = lines.expect_marked(Duration::from_secs(30));
        let returned_at: i64 = got
            .strip_prefix(&format!("GOT {round} {id} "))
            .unwrap_or_else(|| panic!("round {round}: submitted {id}, child said {got:?}"))
            .parse()
            .unwrap();
        latencies_us.push(returned_at - submitted_at);
    }
    let status = children.get("waiter").wait().unwrap();
    assert!(status.success(), "waiter: {status:?}");
    assert!(all_completed(&queue));
    eprintln!(
        "cross-process wake-up latencies (submit returned → poll returned), µs: {latencies_us:?}"
    );
    // The spec asks for a wake-up within 50 ms across processes (the store checks
    // `PRAGMA data_version` every 1 ms). The bound here is ten times the 50 ms, so that
    // a loaded 2-core CI machine running other tests at the same time does not
    // fail it; the printed values show the real latency.
    let worst = *latencies_us.iter().max().unwrap();
    assert!(
        worst < 500_000,
        "a poll in another process woke {worst} µs after the submit: {latencies_us:?}"
    );
}

