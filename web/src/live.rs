//! Live updates. The library has no public "wait for any change" call yet
//! (only `Queue::wait_for` one id), so a background task reads the cheap
//! counts every 500 ms and bumps a version when they differ; `/events` sends
//! one server-sent event per bump. Not a busy loop: one read per 500 ms per
//! server, whatever the number of browsers.

use crate::AppState;
use asyncop::{CountRow, Queue};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the counts are read.
pub const POLL_EVERY: Duration = Duration::from_millis(500);

/// Starts the background task; the receiver sees a new version on every change.
pub fn watch_counts(queue: Arc<Queue>) -> watch::Receiver<u64> {
    let (tx, rx) = watch::channel(0u64);
    tokio::spawn(async move {
        let mut last: Option<Vec<CountRow>> = None;
        let mut version = 0u64;
        loop {
            let q = queue.clone();
            let now = tokio::task::spawn_blocking(move || q.counts().ok())
                .await
                .ok()
                .flatten();
            if now.is_some() && now != last {
                last = now;
                version += 1;
                if tx.send(version).is_err() {
                    return;
                }
            }
            tokio::time::sleep(POLL_EVERY).await;
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
