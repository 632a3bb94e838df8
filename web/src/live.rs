//! Live updates. One blocking task per server follows the queue's change
//! signal (`Queue::wait_change`: a commit of this process at once, another
//! process's or host's within milliseconds), reads the cheap counts after each
//! change and bumps a version when they differ; `/events` sends one
//! server-sent event per bump. No busy loop: with nothing committed the task
//! sleeps in the signal (waking every `IDLE_LOOK` to notice a closed queue).

use crate::AppState;
use asyncop::{CountRow, Queue};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The longest the task waits on the change signal before it looks anyway.
pub const IDLE_LOOK: Duration = Duration::from_secs(5);
/// At most this many reads per second under a stream of commits: the page
/// re-reads itself on each event, so a busy queue must not flood browsers.
const MIN_GAP: Duration = Duration::from_millis(200);

/// Starts the background task; the receiver sees a new version on every change.
pub fn watch_counts(queue: Arc<Queue>) -> watch::Receiver<u64> {
    let (tx, rx) = watch::channel(0u64);
    // A thread of its own, not the runtime's blocking pool: it lives as long
    // as the queue, and must not hold up the runtime's shutdown.
    std::thread::spawn(move || {
        let mut last: Option<Vec<CountRow>> = None;
        let mut version = 0u64;
        loop {
            // The mark is taken before the read, so a commit between the two
            // wakes the next wait at once rather than being missed.
            let Ok(mark) = queue.change_mark() else {
                return;
            };
            let now = queue.counts().ok();
            if now.is_some() && now != last {
                last = now;
                version += 1;
                if tx.send(version).is_err() {
                    return;
                }
            }
            if tx.is_closed() || queue.wait_change(mark, IDLE_LOOK).is_err() {
                return;
            }
            std::thread::sleep(MIN_GAP);
        }
    });
    rx
}

/// `GET /events`: an event `change` (data: the version) whenever the counts change.
pub async fn events(
    State(app): State<Arc<AppState>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut rx = app.changes.clone();
    rx.mark_unchanged();
    let s = stream::unfold(rx, |mut rx| async move {
        rx.changed().await.ok()?;
        let v = *rx.borrow_and_update();
        Some((Ok(Event::default().event("change").data(v.to_string())), rx))
    });
    Sse::new(s).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
