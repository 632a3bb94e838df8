//! The System Jobs page of asyncop, served by `asyncop serve`.

use std::net::SocketAddr;

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

/// Serves the page until the process is stopped. Blocking.
pub fn serve(options: ServeOptions) -> Result<(), String> {
    Err(format!(
        "the web page is not in this build yet (asked to serve {} on {})",
        options.target, options.bind
    ))
}
