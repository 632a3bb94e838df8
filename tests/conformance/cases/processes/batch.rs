//! Batch claims across processes: exactly once, and fair.

use super::*;

// ---------------------------------------------------------------------------
// Batch claims across processes
// ---------------------------------------------------------------------------

const GO_ENV: &str = "ASYNCOP_TEST_GO";
const BATCH_WORKERS: usize = 4;
const BATCH_OPERATIONS: usize = 4000;

/// Entry point of the processes spawned by
/// `batch_claims_are_exactly_once_and_fair_across_processes`. In a normal test
/// run (no `ASYNCOP_TEST_CHILD=batcher`) it returns at once.
///
/// Waits for the go file, then loops poll(max 10) → complete_many, logging
/// `DONE <id> <token>` for each lease whose completion returned Ok, until every
/// operation in the file is Completed.
#[test]
fn child_batch_worker() {
    if !child::is_role("batcher") {
        return;
    }
    let target = child::env(TARGET_ENV);
    let host = child::env(HOST_ENV);
    let go = child::env(GO_ENV);
    let queue = store().open_target(&target, Options::default()).unwrap();
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(child::env(LOG_ENV))
        .unwrap();
    let deadline = Instant::now() + CHILD_TIMEOUT;
    while !Path::new(&go).exists() {
        assert!(Instant::now() < deadline, "no go file");
        thread::sleep(Duration::from_millis(1));
    }
    let options = PollOptions::default()
        .max(10)
        .wait(Duration::from_millis(50));
    loop {
        assert!(Instant::now() < deadline, "batch worker {host} timed out");
        let leases = queue.poll(&host, &options).unwrap();
        if leases.is_empty() {
            if all_completed(&queue) {
                break;
            }
            continue;
        }
        let keys: Vec<_> = leases.iter().map(|l| l.key()).collect();
        let results = queue.complete_many(&keys).unwrap();
        let mut text = String::new();
        for (lease, result) in leases.iter().zip(results) {
            assert_eq!(
                result,
                Ok(Status::Succeeded),
                "{host}: lease of {}",
                lease.id
            );
            writeln!(text, "DONE {} {}", lease.id, lease.lock_token).unwrap();
        }
        append(&mut log, &text);
    }
}

#[test]
fn batch_claims_are_exactly_once_and_fair_across_processes() {
    let target = store().fresh("batch_fair");
    let queue = target.open(Options::default()).unwrap();
    let specs: Vec<OperationSpec> = (0..BATCH_OPERATIONS)
        .map(|i| OperationSpec::new(format!("op{i}"), 1))
        .collect();
    let mut ids = queue.submit_many(&specs).unwrap();
    let go = target.scratch("go");
    let child_test = child::test_name(module_path!(), "child_batch_worker");
    let mut children = Children::default();
    for w in 0..BATCH_WORKERS {
        let host = format!("batcher-{w}");
        let child = child::spawn(
            &child_test,
            "batcher",
            &[
                (TARGET_ENV, target.target()),
                (HOST_ENV, host.clone()),
                (
                    LOG_ENV,
                    target.scratch(&format!("{host}.log"))
                        .to_str()
                        .unwrap()
                        .to_owned(),
                ),
                (GO_ENV, go.to_str().unwrap().to_owned()),
            ],
            Stdio::null(),
        );
        children.0.push((host, child));
    }
    File::create(&go).unwrap();
    let start = Instant::now();
    for w in 0..BATCH_WORKERS {
        let host = format!("batcher-{w}");
        loop {
            check_deadline(start, "batch workers");
            if let Some(status) = children.get(&host).try_wait().unwrap() {
                assert!(status.success(), "{host}: {status:?}");
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
    let elapsed = start.elapsed();
    let mut done: Vec<i64> = Vec::new();
    let mut per_host = Vec::new();
    for w in 0..BATCH_WORKERS {
        let text = fs::read_to_string(target.scratch(&format!("batcher-{w}.log"))).unwrap_or_default();
        let mine: Vec<i64> = text
            .lines()
            .map(|l| l.split(' ').nth(1).unwrap().parse().unwrap())
            .collect();
        per_host.push(mine.len());
        done.extend(mine);
    }
    eprintln!(
        "{BATCH_OPERATIONS} operations in {elapsed:?}, completions per process: {per_host:?}"
    );
    done.sort_unstable();
    let distinct: BTreeSet<i64> = done.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        done.len(),
        "an operation was completed twice"
    );
    ids.sort_unstable();
    assert_eq!(done, ids, "every operation completed exactly once");
    let counts = queue.counts().unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(
        (counts[0].status, counts[0].count),
        (Status::Succeeded, BATCH_OPERATIONS as i64)
    );
    // Fair shares are 25 %: a process starved of the write lock would get far less.
    for (w, &n) in per_host.iter().enumerate() {
        assert!(
            n * 10 >= BATCH_OPERATIONS,
            "batcher-{w} completed only {n} of {BATCH_OPERATIONS}: {per_host:?}"
        );
    }
}
