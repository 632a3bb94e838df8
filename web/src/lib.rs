//! The System Jobs page of asyncop, served by `asyncop serve`.
//!
//! One process serves one queue (a SQLite file or a PostgreSQL URL): the grid
//! with filters and paging, a detail view, user actions through the library's
//! checked API, a JSON API under `/api`, live updates as server-sent events at
//! `/events`, and Prometheus metrics at `/metrics`. Safe by default: loopback
//! unless told, a token for any other bind, POST-only changes with a CSRF
//! token and an Origin check, and a read-only mode.

mod actions;
mod api;
mod guard;
mod live;
mod metrics;
mod pages;
mod query;
mod view;

use asyncop::{Options, Queue};
use std::net::SocketAddr;
use std::sync::Arc;

/// What `asyncop serve` asks for.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The queue: a file path or a PostgreSQL URL, as `Queue::open` takes it.
    pub target: String,
    /// Where to listen (127.0.0.1 unless told otherwise).
    pub bind: SocketAddr,
    /// The token required of every request (required for a non-loopback bind).
    pub token: Option<String>,
    /// Refuse every state-changing request.
    pub read_only: bool,
}

/// What every request handler shares.
pub(crate) struct AppState {
    /// The queue; the library is synchronous, so handlers call it in `spawn_blocking`.
    pub queue: Arc<Queue>,
    /// The token of `ServeOptions::token`, if any.
    pub token: Option<String>,
    /// The CSRF token of this server process (random, embedded in the page).
    pub csrf: String,
    /// `ServeOptions::read_only`.
    pub read_only: bool,
    /// Bumped whenever the counts change (see `live`).
    pub changes: tokio::sync::watch::Receiver<u64>,
}

/// Checks the options without opening anything: a non-loopback bind needs a token.
pub fn check_options(options: &ServeOptions) -> Result<(), String> {
    if let Some(token) = &options.token
        && token.trim().is_empty()
    {
        return Err("the token is empty".into());
    }
    if !options.bind.ip().is_loopback() && options.token.is_none() {
        return Err(format!(
            "refusing to serve on {} without a token: a bind other than loopback needs --token",
            options.bind
        ));
    }
    Ok(())
}

/// Serves the page until the process is stopped. Blocking.
///
/// Refuses (returns `Err` with a readable reason) a non-loopback bind without
/// a token, a queue that cannot be opened, or an address that cannot be bound.
pub fn serve(options: ServeOptions) -> Result<(), String> {
    check_options(&options)?;
    let queue = Queue::open(&options.target, Options::default())
        .map_err(|e| format!("cannot open {}: {e}", options.target))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(8)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(run(options, Arc::new(queue)))
}

async fn run(options: ServeOptions, queue: Arc<Queue>) -> Result<(), String> {
    let changes = live::watch_counts(queue.clone());
    let state = Arc::new(AppState {
        queue,
        token: options.token.clone(),
        csrf: guard::new_token()?,
        read_only: options.read_only,
        changes,
    });
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", options.bind))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!("asyncop: serving the System Jobs page on http://{local}/");
    axum::serve(listener, pages::router(state))
        .await
        .map_err(|e| format!("the server stopped: {e}"))
}

#[cfg(test)]
mod tests;
