//! Waiting (real time for the wait only).

use super::*;

#[test]
fn wait_for_returns_completed_operations_and_snapshots_on_timeout() {
    let f = Fixture::new(store(), "wait-for");
    let done = f.submit("done", NORMAL_TYPE);
    let lease = f.claim("h", done);
    f.q.complete(lease.key()).unwrap();
    let started = Instant::now();
    let op = f.q.wait_for(done, Duration::from_secs(10)).unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(op, f.get(done));
    let open = f.submit("open", NORMAL_TYPE);
    let op = f.q.wait_for(open, Duration::from_millis(50)).unwrap();
    assert_eq!(pair(&op), (State::Ready, Status::WaitingForResources));
    assert_eq!(
        f.q.wait_for(999, Duration::from_millis(10)),
        Err(Error::NotFound { id: 999 })
    );
    // A completion on another thread wakes the waiter.
    let lease = f.claim("h", open);
    let q = f.q.clone();
    let worker = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        q.complete(lease.key()).unwrap();
    });
    let started = Instant::now();
    let op = f.q.wait_for(open, Duration::from_secs(20)).unwrap();
    let waited = started.elapsed();
    worker.join().unwrap();
    assert_eq!(pair(&op), (State::Completed, Status::Succeeded));
    assert!(waited < Duration::from_secs(5), "woke after {waited:?}");
}

#[test]
fn a_waiting_poll_wakes_when_another_thread_submits() {
    let f = Fixture::new(store(), "poll-wait");
    let q = f.q.clone();
    let submitter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        let id = q.submit(&OperationSpec::new("late", NORMAL_TYPE)).unwrap();
        (id, Instant::now())
    });
    let started = Instant::now();
    let leases =
        f.q.poll("h", &PollOptions::default().wait(Duration::from_secs(5)))
            .unwrap();
    let returned = Instant::now();
    let (id, submitted) = submitter.join().unwrap();
    assert_eq!(ids(&leases), vec![id]);
    let latency = returned.saturating_duration_since(submitted);
    println!(
        "poll wake-up latency after submit: {latency:?} (poll waited {:?})",
        returned - started
    );
    assert!(latency < Duration::from_secs(1), "latency {latency:?}");
    // With nothing to do, a waiting poll returns empty after its wait.
    let started = Instant::now();
    let none =
        f.q.poll(
            "h",
            &PollOptions::default().wait(Duration::from_millis(100)),
        )
        .unwrap();
    assert!(none.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(100));
}


/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A waiting poll used to spin (and take the write lock in a loop) while the only
/// Ready rows were blocked by their dependency token or of types it does not take:
/// its own empty claim woke it again at once. Measured in CPU time, not wall time.
#[test]
fn a_waiting_poll_does_not_spin_on_blocked_or_filtered_work() {
    let f = Fixture::new(store(), "poll-no-spin");
    let a = f.submit_spec(OperationSpec::new("a", NORMAL_TYPE).dependency_token("t"));
    let b = f.submit_spec(OperationSpec::new("b", NORMAL_TYPE).dependency_token("t"));
    let other = f.submit("other type", 200);
    let _held = f.claim("h1", a);
    let wait = Duration::from_millis(400);
    let cpu_before = thread_cpu();
    let started = Instant::now();
    let got =
        f.q.poll(
            "h2",
            &PollOptions::default()
                .max(5)
                .wait(wait)
                .operation_types([NORMAL_TYPE]),
        )
        .unwrap();
    let cpu = thread_cpu() - cpu_before;
    assert!(got.is_empty(), "{got:?}");
    assert!(started.elapsed() >= wait);
    // Spinning burns the whole wait; sleeping with a 10 ms data_version tick costs a few ms.
    assert!(
        cpu < wait / 3,
        "a waiting poll used {cpu:?} of CPU in {wait:?}"
    );
    assert_eq!(pair(&f.get(b)), (State::Ready, Status::WaitingForResources));
    assert_eq!(
        pair(&f.get(other)),
        (State::Ready, Status::WaitingForResources)
    );
}

#[test]
fn wait_change_wakes_on_any_commit_and_times_out_without_one() {
    let f = Fixture::new(store(), "wait-change");
    // Nothing committed after the mark: it returns by the timeout (false, or
    // true for "look again" where the store wakes to look).
    let mark = f.q.change_mark().unwrap();
    let started = Instant::now();
    f.q.wait_change(mark, Duration::from_millis(50)).unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    // A commit before the wait but after the mark is seen at once.
    let id = f.submit("first", NORMAL_TYPE);
    let started = Instant::now();
    assert!(f.q.wait_change(mark, Duration::from_secs(10)).unwrap());
    assert!(started.elapsed() < Duration::from_secs(1));
    // A user action on another thread wakes the waiter.
    let mark = f.q.change_mark().unwrap();
    let q = f.q.clone();
    let actor = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        q.cancel(id).unwrap();
    });
    let started = Instant::now();
    assert!(f.q.wait_change(mark, Duration::from_secs(20)).unwrap());
    actor.join().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(pair(&f.get(id)), (State::Completed, Status::Canceled));
    f.q.close();
    assert_eq!(f.q.change_mark(), Err(Error::Closed));
}
