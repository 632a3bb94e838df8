//! The routes and the server-rendered page and fragments.

use crate::query::GridQuery;
use crate::{AppState, api, guard, live, metrics, view};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::value::Serde;
use minijinja::{Value, context};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Every route, behind the access/CSRF guard.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/fragments/grid", get(grid))
        .route("/fragments/counts", get(counts))
        .route("/fragments/job/{id}", get(detail))
        .route(
            "/assets/app.js",
            get(|| async { asset("text/javascript", include_str!("assets/app.js")) }),
        )
        .route(
            "/assets/app.css",
            get(|| async { asset("text/css", include_str!("assets/app.css")) }),
        )
        .route("/events", get(live::events))
        .route("/metrics", get(metrics::metrics))
        .route("/api/jobs", get(api::jobs))
        .route("/api/jobs/{id}", get(api::job))
        .route("/api/counts", get(api::counts))
        .route("/api/csrf", get(api::csrf))
        .route("/api/actions", post(api::act))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::check,
        ))
        .with_state(state)
}

fn asset(kind: &'static str, text: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        text,
    )
        .into_response()
}

async fn index(State(app): State<Arc<AppState>>) -> Html<String> {
    Html(view::render(
        "page.html",
        context! { csrf => &app.csrf, read_only => app.read_only, target => app.queue.target() },
    ))
}

async fn grid(State(app): State<Arc<AppState>>, Query(q): Query<GridQuery>) -> Html<String> {
    let queue = app.queue.clone();
    let read_only = app.read_only;
    let page = tokio::task::spawn_blocking(move || q.read(&queue)).await;
    Html(match page {
        Ok(Ok(page)) => view::render(
            "grid.html",
            context! { page => Value::from(Serde(&page)), read_only => read_only },
        ),
        Ok(Err(e)) => view::render("grid.html", context! { error => e }),
        Err(e) => view::render("grid.html", context! { error => e.to_string() }),
    })
}

async fn counts(State(app): State<Arc<AppState>>) -> Html<String> {
    let queue = app.queue.clone();
    let read_only = app.read_only;
    let r = tokio::task::spawn_blocking(move || {
        Ok::<_, asyncop::Error>((queue.counts()?, queue.held_types()?))
    })
    .await;
    Html(match r {
        Ok(Ok((rows, held))) => {
            let mut per_state: BTreeMap<u8, (String, i64)> = BTreeMap::new();
            for s in asyncop::State::ALL {
                per_state.insert(s.code(), (s.to_string(), 0));
            }
            let mut types: BTreeMap<i32, i64> = BTreeMap::new();
            for r in &rows {
                if let Some(e) = per_state.get_mut(&r.state.code()) {
                    e.1 += r.count;
                }
                *types.entry(r.operation_type).or_default() += r.count;
            }
            let max = per_state.values().map(|v| v.1).max().unwrap_or(0).max(1);
            let bars: Vec<_> = per_state
                .values()
                .map(|(name, n)| context! { name => name, count => n, pct => n * 100 / max })
                .collect();
            let held_types: Vec<i32> = held.iter().map(|h| h.operation_type).collect();
            let types: Vec<_> = types
                .iter()
                .map(|(t, n)| context! { operation_type => t, count => n, held => held_types.contains(t) })
                .collect();
            view::render(
                "counts.html",
                context! { bars => bars, types => types, held => held_types, read_only => read_only },
            )
        }
        Ok(Err(e)) => format!(
            "<p class=\"error\">{}</p>",
            minijinja::HtmlEscape(&format!("{}: {e}", e.name()))
        ),
        Err(e) => format!(
            "<p class=\"error\">{}</p>",
            minijinja::HtmlEscape(&e.to_string())
        ),
    })
}

async fn detail(State(app): State<Arc<AppState>>, Path(id): Path<i64>) -> Html<String> {
    let queue = app.queue.clone();
    let read_only = app.read_only;
    let r = tokio::task::spawn_blocking(move || {
        Ok::<_, asyncop::Error>((queue.retrieve(id)?, queue.attempts(id)?))
    })
    .await;
    Html(match r {
        Ok(Ok((job, attempts))) => {
            let output_size = job.output.as_ref().map(Vec::len);
            let data_size = job.data.len();
            view::render(
                "detail.html",
                context! { job => Value::from(Serde(&job)), attempts => Value::from(Serde(&attempts)), output_size => output_size, data_size => data_size, read_only => read_only },
            )
        }
        Ok(Err(e)) => format!(
            "<p class=\"error\">{}</p>",
            minijinja::HtmlEscape(&format!("{}: {e}", e.name()))
        ),
        Err(e) => format!(
            "<p class=\"error\">{}</p>",
            minijinja::HtmlEscape(&e.to_string())
        ),
    })
}
