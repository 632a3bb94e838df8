//! Many threads on one queue file.
//!
//! * `eight_threads_complete_20000_exactly_once`: 8 hosts (threads, each with its own
//!   `host_id`) poll and complete 20,000 operations while the main thread submits them
//!   in batches. Every operation completes exactly once, every host call succeeds,
//!   nobody claims an operation twice (every lock token is 1), and the file ends with
//!   20,000 rows in 3/30 and nothing else.
//! * `submitters_workers_and_a_user_race`: submitter threads, worker threads and a user
//!   thread that pauses, cancels, postpones and resumes operations while they are
//!   queued or running. Refusals of user actions are expected races; host calls must
//!   never fail (a 30 s lease cannot expire here, so `LeaseLost` would be a bug).

mod support;

use asyncop::{
    Durability, Error, Filter, Lease, Operation, OperationSpec, Options, PollOptions, Queue, State,
    Status,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use support::TempDir;

/// A small deterministic PRNG (xorshift64*), so the tests need no extra crate.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn seed() -> u64 {
    let seed = std::env::var("ASYNCOP_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("seed {seed} (set ASYNCOP_TEST_SEED to replay the user's choices)");
    seed
}

/// What one host thread saw.
#[derive(Default)]
struct HostLog {
    /// (id, lock_token) of every claim.
    claims: Vec<(i64, i64)>,
    /// Ids whose `complete` returned Ok(Succeeded).
    completed: Vec<i64>,
    /// Every host call that returned an error: (id, call, error). Must stay empty.
    errors: Vec<(i64, &'static str, Error)>,
}

/// Every row of the file, in id order.
fn all_rows(q: &Queue) -> Vec<Operation> {
    q.query(&Filter::default()).expect("query")
}

/// Counts per (state, status), summed over operation types.
fn counts_by_status(q: &Queue) -> BTreeMap<(State, Status), i64> {
    let mut by = BTreeMap::new();
    for row in q.counts().expect("counts") {
        *by.entry((row.state, row.status)).or_insert(0) += row.count;
    }
    by
}

/// 8 hosts drain `total` operations that the main thread submits in batches of `batch`.
fn drain_exactly_once(name: &str, durability: Durability, total: usize, batch: usize) {
    const HOSTS: usize = 8;
    let dir = TempDir::new(name);
    let q = Queue::open(
        dir.file("queue.db"),
        Options {
            sqlite: asyncop::SqliteOptions {
                durability,
                ..asyncop::SqliteOptions::default()
            },
            ..Options::default()
        },
    )
    .expect("open");
    let started = Instant::now();
    let done = Arc::new(AtomicUsize::new(0));

    let hosts: Vec<_> = (0..HOSTS)
        .map(|h| {
            let q = q.clone();
            let done = Arc::clone(&done);
            thread::spawn(move || {
                let host = format!("host-{h}");
                // Hosts claim 1 to 4 at a time, so both single and batched claims race.
                let max = 1 + (h % 4) as u32;
                let poll = PollOptions::default()
                    .max(max)
                    .wait(Duration::from_millis(50));
                let mut log = HostLog::default();
                while done.load(Ordering::SeqCst) < total {
                    let leases = match q.poll(&host, &poll) {
                        Ok(leases) => leases,
                        Err(e) => {
                            log.errors.push((0, "poll", e));
                            break;
                        }
                    };
                    assert!(leases.len() <= max as usize, "claimed more than max");
                    for lease in leases {
                        assert_eq!(lease.host_id, host);
                        log.claims.push((lease.id, lease.lock_token));
                        match q.complete(lease.key()) {
                            Ok(Status::Succeeded) => log.completed.push(lease.id),
                            Ok(other) => panic!("complete of {} gave {other}", lease.id),
                            Err(e) => log.errors.push((lease.id, "complete", e)),
                        }
                        done.fetch_add(1, Ordering::SeqCst);
                    }
                }
                log
            })
        })
        .collect();

    // Submit while the hosts already poll: they are woken by each batch.
    let mut submitted = Vec::with_capacity(total);
    let mut n = 0;
    while n < total {
        let size = batch.min(total - n);
        let specs: Vec<OperationSpec> = (n..n + size)
            .map(|i| OperationSpec::new(format!("op-{i}"), 7).data(i.to_le_bytes()))
            .collect();
        let ids = q.submit_many(&specs).expect("submit_many");
        assert_eq!(ids.len(), size);
        submitted.extend(ids);
        n += size;
    }
    let submit_time = started.elapsed();

    let logs: Vec<HostLog> = hosts
        .into_iter()
        .map(|h| h.join().expect("host thread panicked"))
        .collect();
    let drain_time = started.elapsed();

    // Ids are strictly increasing in submission order.
    assert!(submitted.windows(2).all(|w| w[0] < w[1]));

    let mut completions: HashMap<i64, usize> = HashMap::with_capacity(total);
    let mut per_host = Vec::new();
    for (h, log) in logs.iter().enumerate() {
        assert!(
            log.errors.is_empty(),
            "host-{h}: host calls failed: {:?}",
            log.errors
        );
        for &(id, token) in &log.claims {
            assert_eq!(token, 1, "operation {id} was claimed more than once");
        }
        for &id in &log.completed {
            *completions.entry(id).or_insert(0) += 1;
        }
        per_host.push(log.completed.len());
    }
    assert_eq!(completions.len(), total, "not every operation completed");
    for id in &submitted {
        assert_eq!(
            completions.get(id),
            Some(&1),
            "operation {id} did not complete exactly once"
        );
    }
    let claims: usize = logs.iter().map(|l| l.claims.len()).sum();
    assert_eq!(claims, total, "claims != operations");

    let counts = q.counts().expect("counts");
    assert_eq!(counts.len(), 1, "rows outside 3/30: {counts:?}");
    assert_eq!(
        (counts[0].state, counts[0].status, counts[0].count),
        (State::Completed, Status::Succeeded, total as i64)
    );
    for row in all_rows(&q) {
        assert_eq!(row.lock_token, 1, "operation {} claimed twice", row.id);
        assert_eq!(row.host_id, None);
        assert_eq!(row.lease_expires_at, None);
        assert!(row.completed_on.is_some());
    }

    eprintln!(
        "{name}: {total} operations, {HOSTS} hosts, {durability:?}: submitted in {submit_time:?}, \
         drained in {drain_time:?}; completions per host {per_host:?}"
    );
    q.close();
}

/// 20,000 operations at the default `Durability::Full`: every commit (close to 30,000:
/// 20,000 completes, the claims and 40 submit batches) waits for an fsync of the WAL.
/// Measured in a debug build on 2 cores: about 10 s at Full and 5 s at
/// `Durability::Normal`, well inside the one-minute budget, so the test keeps the setting
/// users get by default. On a disk with a slow fsync, switch this run to
/// `Durability::Normal` (commits then survive a process crash but not a power loss): the
/// test checks exclusive claims and exactly-once completion, not durability.
#[test]
fn eight_threads_complete_20000_exactly_once() {
    drain_exactly_once("20k", Durability::Full, 20_000, 500);
}

/// What the host side of the mixed test saw for one operation.
#[derive(Default, Clone)]
struct OpLog {
    /// Lock tokens of its claims, in claim order.
    tokens: Vec<i64>,
    /// `complete` calls that returned Ok(Succeeded).
    completed: usize,
    paused: usize,
    canceled: usize,
}

type Ledger = Arc<Mutex<HashMap<i64, OpLog>>>;

/// Runs one claimed operation like a real host: a few units of work, each ended by
/// a renewal whose status says whether a user asked it to stop (§3.2, §6.3).
fn run_one(q: &Queue, lease: &Lease, rng: &mut Rng, ledger: &Ledger, errors: &Mutex<Vec<String>>) {
    ledger
        .lock()
        .expect("ledger")
        .entry(lease.id)
        .or_default()
        .tokens
        .push(lease.lock_token);
    let key = lease.key();
    let fail = |call: &str, e: Error| {
        errors.lock().expect("errors").push(format!(
            "{call} of {} (token {}): {e}",
            key.id, key.lock_token
        ));
    };
    for _ in 0..rng.below(3) + 1 {
        if rng.chance(30) {
            thread::sleep(Duration::from_micros(200 + rng.below(1_500)));
        }
        match q.renew(key) {
            Ok(Status::InProgress) => {}
            Ok(Status::Pausing) => {
                match q.acknowledge_pause(key) {
                    // A Cancel that arrived after the renewal wins: 3/32.
                    Ok(Status::Waiting | Status::Canceled) => {
                        ledger
                            .lock()
                            .expect("ledger")
                            .entry(key.id)
                            .or_default()
                            .paused += 1;
                    }
                    Ok(other) => fail("acknowledge_pause", Error::Internal(format!("{other}"))),
                    Err(e) => fail("acknowledge_pause", e),
                }
                return;
            }
            Ok(Status::Canceling) => {
                match q.acknowledge_cancel(key) {
                    Ok(Status::Canceled) => {
                        ledger
                            .lock()
                            .expect("ledger")
                            .entry(key.id)
                            .or_default()
                            .canceled += 1;
                    }
                    Ok(other) => fail("acknowledge_cancel", Error::Internal(format!("{other}"))),
                    Err(e) => fail("acknowledge_cancel", e),
                }
                return;
            }
            Ok(other) => {
                fail("renew", Error::Internal(format!("returned {other}")));
                return;
            }
            Err(e) => {
                fail("renew", e);
                return;
            }
        }
    }
    // A Pause or Cancel that arrives after the last renewal is too late: a finished
    // one-shot run is recorded as Succeeded from 2/20, 2/21 and 2/22 alike (§3.2).
    match q.complete(key) {
        Ok(Status::Succeeded) => {
            ledger
                .lock()
                .expect("ledger")
                .entry(key.id)
                .or_default()
                .completed += 1;
        }
        Ok(other) => fail("complete", Error::Internal(format!("returned {other}"))),
        Err(e) => fail("complete", e),
    }
}

/// A user action refused because the operation moved on in the meantime: fine here.
fn is_expected_race(e: &Error) -> bool {
    matches!(
        e,
        Error::InvalidStateChange(_)
            | Error::InvalidStateChangeUnexpected
            | Error::InvalidStateChangeToReady(_)
            | Error::InvalidStateChangeToSuspended(_)
    )
}

#[test]
fn submitters_workers_and_a_user_race() {
    const SUBMITTERS: usize = 2;
    const PER_SUBMITTER: usize = 2_500;
    const WORKERS: usize = 4;
    let seed = seed();
    let dir = TempDir::new("threads-mixed");
    // Normal durability: the renewals make this run write-heavy, and durability is not
    // what it checks (see the 20,000 test). The default 30 s lease.
    let q = Queue::open(
        dir.file("queue.db"),
        Options {
            sqlite: asyncop::SqliteOptions {
                durability: Durability::Normal,
                ..asyncop::SqliteOptions::default()
            },
            ..Options::default()
        },
    )
    .expect("open");
    let started = Instant::now();
    let ledger: Ledger = Arc::new(Mutex::new(HashMap::new()));
    let host_errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop_workers = Arc::new(AtomicBool::new(false));
    let stop_user = Arc::new(AtomicBool::new(false));
    let user_actions = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));

    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (q, ledger, errors, stop) = (
                q.clone(),
                Arc::clone(&ledger),
                Arc::clone(&host_errors),
                Arc::clone(&stop_workers),
            );
            thread::spawn(move || {
                let host = format!("worker-{w}");
                let mut rng = Rng::new(seed ^ (w as u64 + 1));
                let poll = PollOptions::default()
                    .max(1 + w as u32 % 3)
                    .wait(Duration::from_millis(20));
                while !stop.load(Ordering::SeqCst) {
                    match q.poll(&host, &poll) {
                        Ok(leases) => {
                            for lease in &leases {
                                run_one(&q, lease, &mut rng, &ledger, &errors);
                            }
                        }
                        Err(e) => errors.lock().expect("errors").push(format!("poll: {e}")),
                    }
                }
            })
        })
        .collect();

    let submitters: Vec<_> = (0..SUBMITTERS)
        .map(|s| {
            let q = q.clone();
            thread::spawn(move || {
                let mut rng = Rng::new(seed ^ 0xABCD ^ s as u64);
                let mut ids = Vec::with_capacity(PER_SUBMITTER);
                let mut n = 0;
                while n < PER_SUBMITTER {
                    let size = (10 + rng.below(90) as usize).min(PER_SUBMITTER - n);
                    let specs: Vec<OperationSpec> = (n..n + size)
                        .map(|i| OperationSpec::new(format!("s{s}-{i}"), 1 + (i % 3) as i32))
                        .collect();
                    let got = q.submit_many(&specs).expect("submit_many");
                    assert_eq!(got.len(), size);
                    assert!(got.windows(2).all(|w| w[0] < w[1]));
                    ids.extend(got);
                    n += size;
                    thread::sleep(Duration::from_millis(rng.below(10)));
                }
                ids
            })
        })
        .collect();

    let user = {
        let (q, stop, actions, refused) = (
            q.clone(),
            Arc::clone(&stop_user),
            Arc::clone(&user_actions),
            Arc::clone(&refused),
        );
        thread::spawn(move || {
            let mut rng = Rng::new(seed ^ 0x5EED);
            let mut unexpected = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                // Pick a target among running, queued or suspended operations.
                let state = match rng.below(10) {
                    0..=5 => State::Locked,
                    6..=7 => State::Ready,
                    _ => State::Suspended,
                };
                let page = q
                    .query(&Filter {
                        state: Some(state),
                        limit: Some(16),
                        ..Filter::default()
                    })
                    .expect("query");
                if page.is_empty() {
                    thread::sleep(Duration::from_millis(1));
                    continue;
                }
                let id = page[rng.below(page.len() as u64) as usize].id;
                let result = match rng.below(100) {
                    // Cancels are rarer, so that most operations still succeed.
                    0..=14 => q.cancel(id),
                    15..=54 => q.pause(id),
                    55..=74 => q.postpone(id, q.now() + 5 + rng.below(30) as i64),
                    _ => q.resume(id),
                };
                actions.fetch_add(1, Ordering::SeqCst);
                match result {
                    Ok(()) => {}
                    Err(e) if is_expected_race(&e) => {
                        refused.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(e) => unexpected.push(format!("user action on {id}: {e}")),
                }
                thread::sleep(Duration::from_micros(rng.below(1_000)));
            }
            unexpected
        })
    };

    let mut submitted: Vec<i64> = submitters
        .into_iter()
        .flat_map(|s| s.join().expect("submitter panicked"))
        .collect();
    submitted.sort_unstable();
    assert_eq!(submitted.len(), SUBMITTERS * PER_SUBMITTER);
    assert!(
        submitted.windows(2).all(|w| w[0] < w[1]),
        "an id was reused"
    );

    // Let the user keep interfering a little after the last submission.
    thread::sleep(Duration::from_millis(300));
    stop_user.store(true, Ordering::SeqCst);
    let unexpected_user_errors = user.join().expect("user thread panicked");
    assert!(
        unexpected_user_errors.is_empty(),
        "unexpected user errors: {unexpected_user_errors:?}"
    );

    // Resume whatever is paused (postponed ones come back by themselves, but resuming
    // them is fine too) until every operation is Completed.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut resumed = 0;
    loop {
        let open: i64 = counts_by_status(&q)
            .iter()
            .filter(|((state, _), _)| *state != State::Completed)
            .map(|(_, n)| n)
            .sum();
        if open == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{open} operations not Completed after 30 s: {:?}",
            counts_by_status(&q)
        );
        for op in q
            .query(&Filter {
                state: Some(State::Suspended),
                ..Filter::default()
            })
            .expect("query")
        {
            match q.resume(op.id) {
                Ok(()) => resumed += 1,
                // Promoted by a claim between the query and the resume.
                Err(e) if is_expected_race(&e) => {}
                Err(e) => panic!("resume of {}: {e}", op.id),
            }
        }
        thread::sleep(Duration::from_millis(10));
    }
    stop_workers.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().expect("worker panicked");
    }
    let elapsed = started.elapsed();

    let host_errors = host_errors.lock().expect("errors");
    assert!(host_errors.is_empty(), "host calls failed: {host_errors:?}");

    let ledger = ledger.lock().expect("ledger");
    let rows = all_rows(&q);
    assert_eq!(rows.len(), submitted.len(), "rows != submitted");
    let mut by_status: BTreeMap<Status, usize> = BTreeMap::new();
    for (row, id) in rows.iter().zip(&submitted) {
        assert_eq!(row.id, *id);
        assert_eq!(row.state, State::Completed, "operation {id} not Completed");
        *by_status.entry(row.status).or_insert(0) += 1;
        let log = ledger.get(id).cloned().unwrap_or_default();
        // Fencing: the claims of one operation carry tokens 1, 2, 3, ... each once.
        let expected: Vec<i64> = (1..=log.tokens.len() as i64).collect();
        assert_eq!(log.tokens, expected, "claims of {id}");
        assert_eq!(
            row.lock_token,
            log.tokens.len() as i64,
            "lock_token of {id}"
        );
        match row.status {
            Status::Succeeded => {
                assert_eq!(log.completed, 1, "{id} is Succeeded: completed once")
            }
            Status::Canceled => assert_eq!(log.completed, 0, "{id} is Canceled"),
            other => panic!("operation {id} ended as {other}: nothing here fails"),
        }
        // Every claim ended in exactly one host outcome.
        assert_eq!(
            log.completed + log.paused + log.canceled,
            log.tokens.len(),
            "outcomes of {id}"
        );
    }
    let total: i64 = q.counts().expect("counts").iter().map(|r| r.count).sum();
    assert_eq!(total, submitted.len() as i64, "counts do not add up");

    let claims: usize = ledger.values().map(|l| l.tokens.len()).sum();
    let paused: usize = ledger.values().map(|l| l.paused).sum();
    let canceled: usize = ledger.values().map(|l| l.canceled).sum();
    eprintln!(
        "mixed: {} operations in {elapsed:?}: {by_status:?}; {claims} claims, {paused} \
         acknowledged pauses, {canceled} acknowledged cancels; {} user actions ({} refused \
         by races), {resumed} resumed at the end",
        submitted.len(),
        user_actions.load(Ordering::SeqCst),
        refused.load(Ordering::SeqCst),
    );
    q.close();
}
