//! For the PostgreSQL-only tests that count what the server does (buffers,
//! rows, staged races): the test cluster's URL when there is one, a schema of
//! their own, and a plain SQL connection into it.

/// The test cluster's URL, or `None`: the caller then skips its test (these
/// tests are PostgreSQL-only, unlike the conformance suite, which requires it).
pub fn url_or_skip() -> Option<String> {
    let url = std::env::var("ASYNCOP_TEST_POSTGRES").ok();
    if url.is_none() {
        eprintln!("ASYNCOP_TEST_POSTGRES is not set: the PostgreSQL test is skipped");
    }
    url
}

/// A schema name no other test of any process uses; `prefix` tells the test
/// files apart.
pub fn fresh_schema(prefix: char, test: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}_{}_{test}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A plain connection to the server, in `schema`.
pub fn sql(url: &str, schema: &str) -> postgres::Client {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.batch_execute(&format!("SET search_path TO \"{schema}\""))
        .unwrap();
    c
}
