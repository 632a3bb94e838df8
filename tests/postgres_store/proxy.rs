//! A TCP proxy between the library and the test server that can fail the way a
//! network and a server do: drop every connection, refuse new ones, or pass a
//! `COMMIT` on and lose its reply (the server commits; the client never hears).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

#[derive(Default)]
struct State {
    refuse: AtomicBool,
    /// COMMITs whose reply is still to be lost.
    lose_commit_replies: AtomicUsize,
    /// COMMIT replies lost so far.
    lost: AtomicUsize,
    /// Both ends of every connection, to cut them all at once.
    open: Mutex<Vec<TcpStream>>,
}

/// A proxy to `upstream`, listening on a free local port until dropped.
pub struct Proxy {
    addr: SocketAddr,
    state: Arc<State>,
}

impl Proxy {
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let shared = state.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if shared.refuse.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                serve(client, server, shared.clone());
            }
        });
        Proxy { addr, state }
    }

    /// "host:port" of the proxy.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cuts every open connection (as a server restart or a dropped link does).
    pub fn cut_all(&self) {
        for s in self.state.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// While true, new connections are closed at once (a server that is down).
    pub fn refuse(&self, refuse: bool) {
        self.state.refuse.store(refuse, Ordering::SeqCst);
    }

    /// The next `n` COMMITs reach the server, and their connection is cut
    /// before the reply gets back.
    pub fn lose_commit_replies(&self, n: usize) {
        self.state.lose_commit_replies.store(n, Ordering::SeqCst);
    }

    /// COMMIT replies lost so far.
    pub fn lost(&self) -> usize {
        self.state.lost.load(Ordering::SeqCst)
    }
}

/// Copies both ways between `client` and `server` on two threads.
fn serve(client: TcpStream, server: TcpStream, state: Arc<State>) {
    let doomed = Arc::new(AtomicBool::new(false));
    {
        let mut open = state.open.lock().unwrap();
        open.push(client.try_clone().unwrap());
        open.push(server.try_clone().unwrap());
    }
    let (mut from_client, mut to_server) =
        (client.try_clone().unwrap(), server.try_clone().unwrap());
    let (mut from_server, mut to_client) = (server, client);
    let up_doomed = doomed.clone();
    thread::spawn(move || {
        let mut buf = [0u8; 16384];
        while let Ok(n) = from_client.read(&mut buf) {
            if n == 0 {
                break;
            }
            // A simple-query COMMIT ('Q' message); the library's own statements never
            // contain the word, so the test decides which commit loses its reply.
            let is_commit = buf[..n].windows(7).any(|w| w == b"COMMIT\0");
            if is_commit
                && state
                    .lose_commit_replies
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |k| k.checked_sub(1))
                    .is_ok()
            {
                up_doomed.store(true, Ordering::SeqCst);
                let _ = to_server.write_all(&buf[..n]);
                // Let the server commit, then cut both ends: the reply is lost.
                thread::sleep(Duration::from_millis(200));
                state.lost.fetch_add(1, Ordering::SeqCst);
                let _ = to_server.shutdown(Shutdown::Both);
                let _ = from_client.shutdown(Shutdown::Both);
                break;
            }
            if to_server.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to_server.shutdown(Shutdown::Both);
    });
    thread::spawn(move || {
        let mut buf = [0u8; 16384];
        while let Ok(n) = from_server.read(&mut buf) {
            if n == 0 || doomed.load(Ordering::SeqCst) {
                break;
            }
            if to_client.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        if !doomed.load(Ordering::SeqCst) {
            let _ = to_client.shutdown(Shutdown::Both);
        }
    });
}
