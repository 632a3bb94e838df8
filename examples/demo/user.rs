//! The user's part: acts on running and queued jobs while the hosts work.

use super::*;

/// A refusal that only means the job moved on (finished, was claimed, or was
/// promoted) between the query and the action.
fn is_race(e: &Error) -> bool {
    matches!(
        e,
        Error::InvalidStateChange(_)
            | Error::InvalidStateChangeUnexpected
            | Error::InvalidStateChangeToReady(_)
            | Error::InvalidStateChangeToSuspended(_)
    )
}

/// Applies `action` to jobs currently in `state` (oldest first, never the restricted
/// type, never a job in `touched`) until it succeeded for `n` of them, re-reading the
/// queue for up to 2 s. Jobs that moved on in the meantime are skipped.
fn act_on(
    q: &Queue,
    state: State,
    n: usize,
    touched: &mut HashSet<i64>,
    action: impl Fn(i64) -> Result<(), Error>,
) -> DemoResult<Vec<i64>> {
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut done = Vec::new();
    while done.len() < n && Instant::now() < deadline {
        let ops = q.query(&Filter {
            state: Some(state),
            ..Filter::default()
        })?;
        for op in ops {
            if done.len() == n {
                break;
            }
            if op.operation_type == SQM || touched.contains(&op.id) {
                continue;
            }
            match action(op.id) {
                Ok(()) => {
                    touched.insert(op.id);
                    done.push(op.id);
                }
                Err(e) if is_race(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if done.len() < n {
            thread::sleep(Duration::from_millis(10));
        }
    }
    Ok(done)
}

pub(crate) fn ids(list: &[i64]) -> String {
    list.iter()
        .map(|id| format!("#{id}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// "2 Suspended/Waiting, 1 Completed/Succeeded" for the given jobs, as stored now.
pub(crate) fn states_of(q: &Queue, list: &[i64]) -> DemoResult<String> {
    let mut by: BTreeMap<(State, Status), usize> = BTreeMap::new();
    for &id in list {
        let op = q.retrieve(id)?;
        *by.entry((op.state, op.status)).or_insert(0) += 1;
    }
    Ok(by
        .iter()
        .map(|((state, status), n)| format!("{n} {}", label(*state, *status)))
        .collect::<Vec<_>>()
        .join(", "))
}

/// Waits (up to `limit`) until none of `list` is Locked: their hosts acknowledged.
fn wait_unlocked(q: &Queue, list: &[i64], limit: Duration) -> DemoResult<()> {
    let deadline = Instant::now() + limit;
    for &id in list {
        while q.retrieve(id)?.state == State::Locked && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
    }
    Ok(())
}

/// The user's part: acts on running and queued jobs while the hosts work.
/// Returns the ids it paused (to resume them later).
pub(crate) fn play_user(q: &Queue) -> DemoResult<Vec<i64>> {
    let mut touched = HashSet::new();

    let later = || q.now() + 1_500;
    let show = |what: String, list: &[i64]| -> DemoResult<()> {
        println!("user: {what:<44} -> {}", states_of(q, list)?);
        Ok(())
    };
    let paused = act_on(q, State::Locked, 3, &mut touched, |id| q.pause(id))?;
    show(format!("pause {} (running)", ids(&paused)), &paused)?;
    let canceled_running = act_on(q, State::Locked, 2, &mut touched, |id| q.cancel(id))?;
    show(
        format!("cancel {} (running)", ids(&canceled_running)),
        &canceled_running,
    )?;
    let postponed_running = act_on(q, State::Locked, 2, &mut touched, |id| {
        q.postpone(id, later())
    })?;
    show(
        format!("postpone {} (running) by 1.5 s", ids(&postponed_running)),
        &postponed_running,
    )?;
    let canceled_queued = act_on(q, State::Ready, 3, &mut touched, |id| q.cancel(id))?;
    show(
        format!("cancel {} (queued)", ids(&canceled_queued)),
        &canceled_queued,
    )?;
    let postponed_queued = act_on(q, State::Ready, 3, &mut touched, |id| {
        q.postpone(id, later())
    })?;
    show(
        format!("postpone {} (queued) by 1.5 s", ids(&postponed_queued)),
        &postponed_queued,
    )?;

    // Pausing and Canceling are requests: each host stops at its next safe point.
    let requested: Vec<i64> = [&paused, &canceled_running, &postponed_running]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    wait_unlocked(q, &requested, Duration::from_secs(5))?;
    println!("      at the hosts' next safe point:");
    show(format!("  paused {}", ids(&paused)), &paused)?;
    show(
        format!("  canceled {}", ids(&canceled_running)),
        &canceled_running,
    )?;
    show(
        format!("  postponed {}", ids(&postponed_running)),
        &postponed_running,
    )?;

    // The restricted platform type refuses Cancel and Pause in any state.
    let sqm = q
        .query(&Filter {
            operation_type: Some(SQM),
            ..Filter::default()
        })?
        .into_iter()
        .min_by_key(|op| (op.state != State::Locked, op.id))
        .ok_or("no SQM job")?;
    let at = label(sqm.state, sqm.status);
    for (what, result) in [("cancel", q.cancel(sqm.id)), ("pause", q.pause(sqm.id))] {
        match result {
            Err(e) => println!(
                "user: {what} #{} (SQM Data Collection, {at}): {}",
                sqm.id,
                describe(&e)
            ),
            Ok(()) => {
                return Err(format!("{what} of restricted job #{} was accepted", sqm.id).into());
            }
        }
    }
    Ok(paused)
}
