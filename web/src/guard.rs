//! Who may ask: the access token, the CSRF token and the Origin check.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The cookie that carries the access token after `/?token=…`.
pub const TOKEN_COOKIE: &str = "asyncop_token";
/// The header a state-changing request carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A random token: 32 hex digits from the OS.
pub fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random bytes: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Compares without an early exit, so timing does not reveal a prefix.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn query_token(request: &Request) -> Option<String> {
    request.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| *k == "token")
            .map(|(_, v)| v.to_string())
    })
}

fn refuse(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.to_string(),
    )
        .into_response()
}

/// Every request: the access token when one is set (Bearer header, cookie, or
/// `?token=` which then sets the cookie); for every method other than GET and
/// HEAD, the Origin check and the CSRF token.
pub async fn check(State(app): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let mut set_cookie = None;
    if app.token.is_none() && !loopback_host(request.headers()) {
        // Without a token the server is bound to loopback; a request naming another
        // host is a DNS-rebinding page, which must not read or change anything.
        return refuse(
            StatusCode::FORBIDDEN,
            "403: without a token only http://127.0.0.1, localhost or [::1] may be used as the host",
        );
    }
    if let Some(expected) = &app.token {
        let headers = request.headers();
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_string);
        let from_query = query_token(&request);
        let given = bearer
            .or_else(|| cookie(headers, TOKEN_COOKIE))
            .or(from_query.clone());
        if !given.is_some_and(|g| same(&g, expected)) {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "401: a valid token is required (Authorization: Bearer TOKEN, or open /?token=TOKEN once)",
            );
        }
        if from_query.is_some() {
            set_cookie = Some(format!(
                "{TOKEN_COOKIE}={expected}; Path=/; HttpOnly; SameSite=Strict"
            ));
        }
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        if let Err(why) = same_origin(request.headers()) {
            return refuse(StatusCode::FORBIDDEN, &why);
        }
        let csrf = request
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok());
        if !csrf.is_some_and(|c| same(c, &app.csrf)) {
            return refuse(
                StatusCode::FORBIDDEN,
                "403: missing or wrong CSRF token (send the page's token in the X-CSRF-Token header)",
            );
        }
        if app.read_only {
            return refuse(
                StatusCode::FORBIDDEN,
                "403: this page is read-only (asyncop serve --read-only)",
            );
        }
    }
    let mut response = next.run(request).await;
    if let Some(c) = set_cookie
        && let Ok(value) = c.parse()
    {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// Whether the Host header names a loopback host (or is absent, as for HTTP/1.0 tools).
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(n, _)| n),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A state-changing request must come from this page: its Origin (or, when a
/// browser sends none, its Referer) must name the Host it was sent to.
fn same_origin(headers: &HeaderMap) -> Result<(), String> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .ok_or("403: no Host header")?;
    let origin = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    match origin {
        // Not a browser (curl, scripts): the CSRF token is still required.
        None => Ok(()),
        Some(o) => {
            let rest = o.split_once("://").map(|(_, r)| r).unwrap_or(o);
            let authority = rest.split('/').next().unwrap_or("");
            if authority == host {
                Ok(())
            } else {
                Err(format!(
                    "403: cross-origin request refused (Origin {o} is not http://{host})"
                ))
            }
        }
    }
}
