//! `/metrics` in the Prometheus text format (version 0.0.4).
//!
//! Gauges come from cheap reads here. The library's counters and latency
//! histograms (claims, completions, failures, retries, lease expiries,
//! poison, purges, claim/commit latency) are another part of issue 14: they
//! are appended by [`library_counters`], the one place to add them.

use crate::AppState;
use asyncop::{Filter, Queue, State as OpState};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::fmt::Write;
use std::sync::Arc;

/// `GET /metrics`.
pub async fn metrics(State(app): State<Arc<AppState>>) -> Response {
    let q = app.queue.clone();
    match tokio::task::spawn_blocking(move || render(&q)).await {
        Ok(Ok(text)) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, e).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The whole exposition; blocking.
pub fn render(queue: &Queue) -> Result<String, String> {
    let err = |e: asyncop::Error| format!("{}: {e}", e.name());
    let counts = queue.counts().map_err(err)?;
    let held = queue.held_types().map_err(err)?;
    let mut out = String::new();
    out.push_str("# HELP asyncop_operations Operations stored, per state, status and type.\n# TYPE asyncop_operations gauge\n");
    for c in &counts {
        let _ = writeln!(
            out,
            "asyncop_operations{{state=\"{}\",status=\"{}\",type=\"{}\"}} {}",
            c.state, c.status, c.operation_type, c.count
        );
    }
    let oldest = queue
        .query(&Filter {
            state: Some(OpState::Ready),
            limit: Some(1),
            ..Default::default()
        })
        .map_err(err)?;
    let age = oldest
        .first()
        .map(|op| {
            (queue.now()
                - op.postpone_until
                    .unwrap_or(op.created_on)
                    .max(op.created_on))
            .max(0) as f64
                / 1000.0
        })
        .unwrap_or(0.0);
    out.push_str("# HELP asyncop_oldest_ready_age_seconds Age of the lowest-id Ready operation (0 when none).\n# TYPE asyncop_oldest_ready_age_seconds gauge\n");
    let _ = writeln!(out, "asyncop_oldest_ready_age_seconds {age}");
    out.push_str("# HELP asyncop_held_types Operation types on hold (claims skip them).\n# TYPE asyncop_held_types gauge\n");
    let _ = writeln!(out, "asyncop_held_types {}", held.len());
    out.push_str("# HELP asyncop_type_held 1 for each held operation type.\n# TYPE asyncop_type_held gauge\n");
    for h in &held {
        let _ = writeln!(out, "asyncop_type_held{{type=\"{}\"}} 1", h.operation_type);
    }
    library_counters(queue, &mut out);
    Ok(out)
}

/// The library's counters and latency histograms of this process's queue
/// handle (issue 14 §3: `Queue::metrics`, names in the README's "Metrics and
/// events"), appended to `out`.
fn library_counters(queue: &Queue, out: &mut String) {
    out.push_str(&queue.metrics().to_prometheus(""));
}
