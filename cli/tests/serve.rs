//! `asyncop serve`: the real binary serves the System Jobs page for a queue
//! (its `/metrics` fetched over HTTP), and refuses an unsafe bind.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::each_store;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` over plain HTTP/1.1; the whole response.
fn get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn serve_answers_metrics_for_the_queue() {
    each_store("serve", |t| {
        t.submit("a", 100);
        t.submit("b", 100);
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_asyncop"));
        cmd.arg("serve")
            .arg(&t.target)
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .env_remove("ASYNCOP_SCHEMA")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(schema) = &t.schema {
            cmd.args(["--schema", schema]);
        }
        let mut child = cmd.spawn().unwrap();
        // It says where it serves once it listens.
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !line.contains("serving") && Instant::now() < deadline {
            line.clear();
            if err.read_line(&mut line).unwrap() == 0 {
                break;
            }
        }
        assert!(line.contains("serving"), "{line:?}");
        let metrics = get(port, "/metrics");
        let page = get(port, "/");
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
        // The two Ready operations of this queue (and schema), and the library's counters.
        assert!(
            metrics.contains(
                "asyncop_operations{state=\"Ready\",status=\"WaitingForResources\",type=\"100\"} 2"
            ),
            "{metrics}"
        );
        assert!(metrics.contains("asyncop_claims_total"), "{metrics}");
        assert!(
            page.starts_with("HTTP/1.1 200") && page.contains("System Jobs"),
            "{page}"
        );
    });
}

#[test]
fn serve_refuses_a_public_bind_without_a_token() {
    let t = support::sqlite("serve-public");
    let run = t.run("serve", &["--bind", "0.0.0.0:0"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("token"), "{run:?}");
}
