//! The connections of one `PgStore`: at most `pool_size`, opened on demand,
//! no helper threads (the `postgres` client drives its socket on the caller's
//! thread). A caller that finds them all busy waits for one to come back.
//! After `fork()`, a child never touches the parent's connections.

use super::retry::{Fault, fault_of};
use super::tls::Connector;
use crate::error::Error;
use parking_lot::{Condvar, Mutex};
use postgres::{Client, Config, Statement};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Statements a connection keeps prepared at most; the rest (queries with
/// their own LIMIT and OFFSET) are prepared for one use.
pub(super) const STATEMENT_CACHE: usize = 128;

/// A pooled connection and the statements prepared on it: a prepared
/// statement runs in one round trip, an unprepared one in two.
pub(super) struct Conn {
    pub(super) client: Client,
    pub(super) statements: HashMap<String, Statement>,
    /// A transaction could not be ended: the connection is not reused.
    pub(super) broken: bool,
}

impl Conn {
    fn new(client: Client) -> Conn {
        Conn {
            client,
            statements: HashMap::new(),
            broken: false,
        }
    }
}

/// How long a call waits for a free connection before giving `Busy`.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(30);

/// A failure, and whether running the transaction again may help.
#[derive(Debug)]
pub(super) struct Failure {
    pub(super) error: Error,
    pub(super) fault: Option<Fault>,
}

impl Failure {
    /// A driver error, with what it says about running again.
    pub(super) fn of(e: postgres::Error) -> Failure {
        Failure {
            fault: fault_of(&e),
            error: e.into(),
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure { error, fault: None }
    }
}

/// The idle connections and how many exist (idle + checked out).
#[derive(Default)]
struct Slots {
    idle: Vec<Conn>,
    open: usize,
}

/// A bounded pool of connections to one schema.
pub(super) struct Pool {
    config: Config,
    tls: Connector,
    /// The target as messages show it (no password).
    shown: String,
    schema: String,
    size: usize,
    slots: Mutex<Slots>,
    /// Signalled when a connection comes back or the pool closes.
    returned: Condvar,
    /// The process that opened the connections.
    pid: u32,
}

impl Pool {
    /// A pool whose first connection is `first`.
    pub(super) fn new(
        config: Config,
        tls: Connector,
        shown: String,
        schema: String,
        size: usize,
        first: Client,
    ) -> Pool {
        Pool {
            config,
            tls,
            shown,
            schema,
            size,
            slots: Mutex::new(Slots {
                idle: vec![Conn::new(first)],
                open: 1,
            }),
            returned: Condvar::new(),
            pid: std::process::id(),
        }
    }

    /// Whether this process opened the pool (not a forked child).
    pub(super) fn is_own_process(&self) -> bool {
        std::process::id() == self.pid
    }

    /// An idle connection, a new one while fewer than `size` exist, or (all
    /// busy) the next one returned; `Busy` after `CHECKOUT_TIMEOUT`. `open`
    /// says whether the store is still open.
    pub(super) fn checkout(&self, open: impl Fn() -> bool) -> std::result::Result<Conn, Failure> {
        let deadline = Instant::now() + CHECKOUT_TIMEOUT;
        let mut slots = self.slots.lock();
        loop {
            if !open() {
                return Err(Error::Closed.into());
            }
            while let Some(c) = slots.idle.pop() {
                if !c.client.is_closed() {
                    return Ok(c);
                }
                slots.open -= 1;
            }
            if slots.open < self.size {
                slots.open += 1;
                drop(slots);
                let made = self.connect().and_then(|mut c| {
                    set_search_path(&mut c, &self.schema)?;
                    Ok(Conn::new(c))
                });
                if made.is_err() {
                    self.slots.lock().open -= 1;
                    self.returned.notify_one();
                }
                return made;
            }
            if self.returned.wait_until(&mut slots, deadline).timed_out() {
                return Err(Error::Busy.into());
            }
        }
    }

    /// Puts `client` back, or drops it if its connection is gone or `keep` is false.
    pub(super) fn checkin(&self, conn: Conn, keep: bool) {
        let mut slots = self.slots.lock();
        if conn.client.is_closed() || conn.broken || !keep {
            slots.open -= 1;
        } else {
            slots.idle.push(conn);
        }
        drop(slots);
        self.returned.notify_one();
    }

    /// A new connection to the database (not counted in the pool).
    pub(super) fn connect(&self) -> std::result::Result<Client, Failure> {
        connect(&self.config, &self.tls, &self.shown)
    }

    /// Drops the idle connections (a `Terminate` each) and wakes every waiter.
    pub(super) fn close(&self) {
        if self.is_own_process() {
            let mut slots = self.slots.lock();
            slots.open -= slots.idle.len();
            slots.idle.clear();
        }
        self.returned.notify_all();
    }

    /// Forgets the idle connections without a word to the server: they are
    /// the parent's sockets (a forked child).
    pub(super) fn abandon(&self) {
        for c in self.slots.lock().idle.drain(..) {
            std::mem::forget(c);
        }
        self.returned.notify_all();
    }
}

/// A connection to `config`, its failure named by `shown` (never the password).
// The connector is `Copy` without the `tls` feature, a shared config with it.
#[allow(clippy::clone_on_copy)]
pub(super) fn connect(
    config: &Config,
    tls: &Connector,
    shown: &str,
) -> std::result::Result<Client, Failure> {
    config.connect(tls.clone()).map_err(|e| {
        let fault = fault_of(&e);
        let error = match Error::from(e) {
            Error::Io(m) | Error::Internal(m) => {
                Error::Io(format!("cannot connect to {shown}: {m}"))
            }
            other => other,
        };
        Failure { error, fault }
    })
}

/// Points `client`'s statements at `schema`.
pub(super) fn set_search_path(
    client: &mut Client,
    schema: &str,
) -> std::result::Result<(), Failure> {
    client
        .batch_execute(&format!("SET search_path TO \"{schema}\""))
        .map_err(Failure::of)
}
