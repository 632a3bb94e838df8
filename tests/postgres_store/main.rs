//! The PostgreSQL store on its own: under faults, through a proxy that cuts connections,
//! refuses them, or loses a COMMIT's reply; and the bad targets users give.
//! Each test has its own schema in the database `ASYNCOP_TEST_POSTGRES` names
//! (scripts/test starts the cluster).

#![cfg(unix)]

mod bad_targets;
mod bloat;
mod name_index;
mod proxy;
mod reconnect;
mod tls;
mod upgrade;

use asyncop::{Options, PgOptions, Queue};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The test cluster's URL.
pub fn url() -> String {
    std::env::var("ASYNCOP_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "ASYNCOP_TEST_POSTGRES is not set: run the tests through scripts/test, or start a \
             cluster with `scripts/pg-cluster start DIR` and export the URL it prints"
        )
    })
}

/// The test cluster's address, for a proxy to forward to.
pub fn server_addr() -> SocketAddr {
    let rest = url()
        .split_once('@')
        .map(|(_, r)| r.to_owned())
        .expect("user@host:port in the URL");
    let host_port = rest.split('/').next().expect("host:port").to_owned();
    host_port
        .to_socket_addrs()
        .expect("address")
        .next()
        .expect("an address")
}

/// A schema no other test of any process uses.
pub fn fresh_schema(test: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "f{}_{}_{test}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// `url()` with its host:port replaced by `addr`, in `schema`.
pub fn url_via(addr: SocketAddr, schema: &str) -> String {
    let url = url();
    let (head, rest) = url.split_once('@').expect("user@");
    let db = rest.split_once('/').map_or("", |(_, db)| db);
    // Plain: the proxy reads the protocol to find COMMIT.
    format!("{head}@{addr}/{db}?schema={schema}&sslmode=disable")
}

/// Options with a retry window of `retry`.
pub fn options(retry: Duration) -> Options {
    Options {
        postgres: PgOptions {
            retry_timeout: retry,
            ..PgOptions::default()
        },
        ..Options::default()
    }
}

/// A handle on `schema` that goes straight to the server.
pub fn direct(schema: &str) -> Queue {
    Queue::open(format!("{}?schema={schema}", url()), Options::default()).unwrap()
}

/// A plain connection to the server, for what the library does not show.
pub fn sql() -> postgres::Client {
    postgres::Client::connect(&url(), postgres::NoTls).unwrap()
}
