//! Dependency tokens under concurrency (§7): submitters racing on a few tokens
//! while workers claim. Ids are taken before commits land, so an operation
//! with a later id could commit first; it must still wait for every earlier
//! operation of its token. Per token, claims come in id order, each after its
//! predecessor completed.

use super::*;

#[test]
fn racing_submitters_of_one_token_keep_its_order() {
    const SUBMITTERS: usize = 4;
    const PER_SUBMITTER: usize = 60;
    const WORKERS: usize = 4;
    const TOKENS: usize = 3;
    let target = store().fresh("token-race");
    let q = target.open(Options::default()).expect("open");
    let seq = Arc::new(AtomicU64::new(0));
    let submitting = Arc::new(AtomicBool::new(true));
    // (token, id, claim seq) of every claim; (id, seq before its complete).
    let claims = Arc::new(Mutex::new(Vec::new()));
    let completes = Arc::new(Mutex::new(HashMap::new()));

    let submitters: Vec<_> = (0..SUBMITTERS)
        .map(|s| {
            let q = q.clone();
            thread::spawn(move || {
                let mut rng = Rng::new(seed() + s as u64);
                for i in 0..PER_SUBMITTER {
                    let token = format!("token-{}", rng.below(TOKENS as u64));
                    let spec = OperationSpec::new(format!("s{s}-{i}"), 100).dependency_token(token);
                    q.submit(&spec).expect("submit");
                }
            })
        })
        .collect();
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (q, seq, submitting) = (q.clone(), seq.clone(), submitting.clone());
            let (claims, completes) = (claims.clone(), completes.clone());
            thread::spawn(move || {
                let poll = PollOptions::default().wait(Duration::from_millis(200));
                let host = format!("host-{w}");
                loop {
                    let leases = q.poll(&host, &poll).expect("poll");
                    if leases.is_empty() {
                        if submitting.load(Ordering::SeqCst) {
                            continue;
                        }
                        let open = q
                            .query(&Filter {
                                state: Some(State::Ready),
                                ..Filter::default()
                            })
                            .expect("query");
                        if open.is_empty() {
                            return;
                        }
                        continue;
                    }
                    for lease in leases {
                        let at = seq.fetch_add(1, Ordering::SeqCst);
                        let token = lease.dependency_token.clone().expect("a token");
                        claims.lock().unwrap().push((token, lease.id, at));
                        let before = seq.fetch_add(1, Ordering::SeqCst);
                        completes.lock().unwrap().insert(lease.id, before);
                        assert_eq!(q.complete(lease.key()).expect("complete"), Status::Succeeded);
                    }
                }
            })
        })
        .collect();
    for s in submitters {
        s.join().expect("submitter");
    }
    submitting.store(false, Ordering::SeqCst);
    for w in workers {
        w.join().expect("worker");
    }
    let claims = claims.lock().unwrap().clone();
    let completes = completes.lock().unwrap().clone();
    assert_eq!(claims.len(), SUBMITTERS * PER_SUBMITTER, "each operation claimed once");
    let mut by_token: BTreeMap<String, Vec<(u64, i64)>> = BTreeMap::new();
    for (token, id, at) in claims {
        by_token.entry(token).or_default().push((at, id));
    }
    for (token, mut seen) in by_token {
        seen.sort();
        for pair in seen.windows(2) {
            let ((_, earlier), (claimed_at, later)) = (pair[0], pair[1]);
            assert!(earlier < later, "{token}: {later} claimed before {earlier}");
            // Its predecessor's complete had begun before it was claimed.
            assert!(completes[&earlier] < claimed_at, "{token}: {later} claimed while {earlier} ran");
        }
    }
}

#[test]
fn a_later_id_that_would_commit_first_still_waits_for_the_earlier() {
    let target = store().fresh("token-slow-submit");
    let q = target.open(Options::default()).expect("open");
    let (inserted, first_id) = std::sync::mpsc::channel();
    // A submitter that has its id but has not committed yet (a slow client).
    let slow = {
        let q = q.clone();
        thread::spawn(move || {
            let spec = OperationSpec::new("first", 100).dependency_token("T");
            asyncop::testing::write(&q, |tx| {
                let row = asyncop::store::NewOperation {
                    spec: &spec,
                    status: Status::WaitingForResources,
                    postpone_until: None,
                    now: q.now(),
                    recurrence: None,
                };
                let id = tx.insert(&row)?;
                let _ = inserted.send(id);
                thread::sleep(Duration::from_millis(300));
                Ok(id)
            })
            .expect("slow submit")
        })
    };
    let first = first_id.recv().expect("the first id");
    // A second submit of the token, taking a later id, meanwhile.
    let second = {
        let q = q.clone();
        thread::spawn(move || {
            q.submit(&OperationSpec::new("second", 100).dependency_token("T"))
                .expect("submit")
        })
    };
    // Whatever is claimed first must be the earlier operation.
    let deadline = Instant::now() + Duration::from_secs(10);
    let lease = loop {
        if let Some(lease) = q.poll("host-t", &PollOptions::default()).expect("poll").pop() {
            break lease;
        }
        assert!(Instant::now() < deadline, "nothing became claimable");
        thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(lease.id, first, "a later operation of the token was claimed first");
    assert_eq!(slow.join().expect("slow"), first);
    let second = second.join().expect("second");
    assert!(first < second);
    assert!(q.poll("host-t", &PollOptions::default()).expect("poll").is_empty(), "blocked");
    q.complete(lease.key()).expect("complete");
    let next = q.poll("host-t", &PollOptions::default()).expect("poll").pop();
    assert_eq!(next.map(|l| l.id), Some(second));
}
