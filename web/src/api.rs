//! The JSON API under `/api`, in the library's serde shapes.

use crate::AppState;
use crate::actions::{self, ActionRequest};
use crate::query::GridQuery;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

/// Runs a blocking read and answers it as JSON (or 400/404/500 with `{"error": …}`).
async fn blocking<T: serde::Serialize + Send + 'static>(
    f: impl FnOnce() -> Result<T, (StatusCode, String)> + Send + 'static,
) -> Response {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err((code, e))) => (code, Json(json!({ "error": e }))).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}

fn library(e: asyncop::Error) -> (StatusCode, String) {
    let code = match e {
        asyncop::Error::NotFound { .. } => StatusCode::NOT_FOUND,
        asyncop::Error::InvalidArgument(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (code, format!("{}: {e}", e.name()))
}

/// `GET /api/jobs?state=&status=&type=&name=&from=&to=&after=&limit=`: `{jobs, next_after}`.
pub async fn jobs(State(app): State<Arc<AppState>>, Query(q): Query<GridQuery>) -> Response {
    let queue = app.queue.clone();
    blocking(move || q.read(&queue).map_err(|e| (StatusCode::BAD_REQUEST, e))).await
}

/// `GET /api/jobs/{id}`: `{job, attempts}`.
pub async fn job(State(app): State<Arc<AppState>>, Path(id): Path<i64>) -> Response {
    let queue = app.queue.clone();
    blocking(move || {
        let job = queue.retrieve(id).map_err(library)?;
        let attempts = queue.attempts(id).map_err(library)?;
        Ok(json!({ "job": job, "attempts": attempts }))
    })
    .await
}

/// `GET /api/counts`: `{counts, held_types}`.
pub async fn counts(State(app): State<Arc<AppState>>) -> Response {
    let queue = app.queue.clone();
    blocking(move || {
        let counts = queue.counts().map_err(library)?;
        let held = queue.held_types().map_err(library)?;
        Ok(json!({ "counts": counts, "held_types": held }))
    })
    .await
}

/// `GET /api/csrf`: the CSRF token scripts send as `X-CSRF-Token` (a
/// cross-site page cannot read it: no CORS headers are ever sent).
pub async fn csrf(State(app): State<Arc<AppState>>) -> Response {
    Json(json!({ "csrf": app.csrf, "read_only": app.read_only })).into_response()
}

/// `POST /api/actions` with `{action, ids, until, operation_type}`:
/// `{results: [{id, ok, now, code, hresult, message}]}`; 200 even when some are
/// refused (each result says why), 400 for a body that is not such a request.
pub async fn act(State(app): State<Arc<AppState>>, Json(request): Json<ActionRequest>) -> Response {
    let queue = app.queue.clone();
    blocking(move || Ok(json!({ "results": actions::run(&queue, &request) }))).await
}
