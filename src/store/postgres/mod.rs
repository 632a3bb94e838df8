//! The PostgreSQL store: the same queue for workers on many hosts.
//!
//! Connections come from a small pool of this handle's own (no helper
//! threads: the `postgres` client drives its connection on the caller's
//! thread), opened on demand up to `PgOptions::pool_size`. Each transaction is
//! READ COMMITTED; the claim locks its rows with `FOR UPDATE SKIP LOCKED`, so
//! claimers on many hosts never wait on each other's rows. Waiters are woken
//! by `LISTEN`/`NOTIFY` on one listening connection per handle (one `NOTIFY`
//! per writing transaction), with a poll every `POLL_FALLBACK` as the fallback.
//! After `fork()`, a child never touches the parent's connections: they are
//! leaked, and the child opens its own.

mod error;
mod schema;
mod target;
mod tx;

pub use schema::SCHEMA_VERSION;
pub use target::is_postgres_target;

use super::{ChangeMark, Read, Store, Write};
use crate::error::{Error, Result};
use parking_lot::{Condvar, Mutex};
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, Config, NoTls};
use std::any::Any;
use std::str::FromStr;
use std::time::{Duration, Instant};
use target::{redacted, take_own_parameters};
use tx::PgTx;

/// How often a waiter looks at the store even without a notification.
pub const POLL_FALLBACK: Duration = Duration::from_millis(500);

/// The options of the PostgreSQL store (`Options::postgres`). The target can
/// also carry `schema` and `pool_size` as URL query parameters
/// (`postgres://h/db?schema=jobs`) or conninfo words (`schema=jobs`), so every
/// language sets them through the one open call; a parameter in the target wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// The PostgreSQL schema that holds the queue (default `asyncop`): a
    /// lower-case identifier. Several queues can share one database.
    pub schema: String,
    /// Connections this handle keeps at most (default 4), besides its listener.
    pub pool_size: usize,
    /// How long opening a connection may take (default 10 s).
    pub connect_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            schema: "asyncop".into(),
            pool_size: 4,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// The idle connections and how many exist (idle + checked out).
#[derive(Default)]
struct Pool {
    idle: Vec<Client>,
    open: usize,
}

/// How long a call waits for a free connection before giving `Busy`.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(30);

/// Wakes this handle's waiters when a write commits (here or anywhere).
#[derive(Debug, Default)]
struct Notifier {
    /// (local commits, notifications received)
    generation: Mutex<(u64, i64)>,
    changed: Condvar,
}

/// An open queue in a PostgreSQL schema.
pub struct PgStore {
    target: String,
    config: Config,
    options: PgOptions,
    channel: String,
    pool: Mutex<Pool>,
    /// Signalled when a connection goes back to the pool.
    returned: Condvar,
    listener: Mutex<Option<Client>>,
    notifier: Notifier,
    closed: std::sync::atomic::AtomicBool,
    /// The process that opened the connections: a forked child must not use them.
    pid: u32,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .field("schema", &self.options.schema)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to `target` (URL or conninfo), creates or migrates the schema
    /// (under an advisory lock), and starts listening for changes.
    pub fn open(target: &str, mut options: PgOptions) -> Result<PgStore> {
        let target = take_own_parameters(target, &mut options)?;
        schema::check_schema_name(&options.schema)?;
        if options.pool_size == 0 {
            return Err(Error::InvalidArgument(
                "pool_size must be at least 1".into(),
            ));
        }
        let mut config = Config::from_str(&target).map_err(|e| {
            Error::InvalidArgument(format!("not a PostgreSQL URL or conninfo: {e}"))
        })?;
        config.connect_timeout(options.connect_timeout);
        config.application_name("asyncop");
        let shown = redacted(&config);
        let mut first = connect(&config, &shown)?;
        schema::migrate(&mut first, &options.schema)?;
        set_search_path(&mut first, &options.schema)?;
        let channel = format!("asyncop_{}", options.schema);
        let mut listener = connect(&config, &shown)?;
        listener.batch_execute(&format!("LISTEN \"{channel}\""))?;
        Ok(PgStore {
            target: shown,
            config,
            channel,
            options,
            pool: Mutex::new(Pool {
                idle: vec![first],
                open: 1,
            }),
            returned: Condvar::new(),
            listener: Mutex::new(Some(listener)),
            notifier: Notifier::default(),
            closed: std::sync::atomic::AtomicBool::new(false),
            pid: std::process::id(),
        })
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(std::sync::atomic::Ordering::Acquire) {
            return Err(Error::Closed);
        }
        if std::process::id() != self.pid {
            return Err(Error::Closed);
        }
        Ok(())
    }

    /// An idle connection, a new one while fewer than `pool_size` exist, or
    /// (all busy) the next one returned; `Busy` after `CHECKOUT_TIMEOUT`.
    fn checkout(&self) -> Result<Client> {
        self.check_open()?;
        let deadline = Instant::now() + CHECKOUT_TIMEOUT;
        let mut pool = self.pool.lock();
        loop {
            while let Some(c) = pool.idle.pop() {
                if !c.is_closed() {
                    return Ok(c);
                }
                pool.open -= 1;
            }
            if pool.open < self.options.pool_size {
                pool.open += 1;
                drop(pool);
                let made = connect(&self.config, &self.target).and_then(|mut c| {
                    set_search_path(&mut c, &self.options.schema)?;
                    Ok(c)
                });
                if made.is_err() {
                    self.pool.lock().open -= 1;
                    self.returned.notify_one();
                }
                return made;
            }
            if self.returned.wait_until(&mut pool, deadline).timed_out() {
                return Err(Error::Busy);
            }
            self.check_open()?;
        }
    }

    fn checkin(&self, client: Client) {
        let mut pool = self.pool.lock();
        if client.is_closed() || self.is_closed() {
            pool.open -= 1;
        } else {
            pool.idle.push(client);
        }
        drop(pool);
        self.returned.notify_one();
    }

    fn bump_local(&self) {
        let mut g = self.notifier.generation.lock();
        g.0 = g.0.wrapping_add(1);
        self.notifier.changed.notify_all();
    }
}

fn connect(config: &Config, shown: &str) -> Result<Client> {
    config.connect(NoTls).map_err(|e| match Error::from(e) {
        Error::Io(m) | Error::Internal(m) => Error::Io(format!("cannot connect to {shown}: {m}")),
        other => other,
    })
}

fn set_search_path(client: &mut Client, schema: &str) -> Result<()> {
    client.batch_execute(&format!("SET search_path TO \"{schema}\""))?;
    Ok(())
}

impl Store for PgStore {
    fn target(&self) -> &str {
        &self.target
    }

    fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::Acquire)
    }

    fn close(&self) {
        self.closed
            .store(true, std::sync::atomic::Ordering::Release);
        if std::process::id() == self.pid {
            let mut pool = self.pool.lock();
            pool.open -= pool.idle.len();
            pool.idle.clear();
            drop(pool);
            drop(self.listener.lock().take());
        }
        self.returned.notify_all();
        self.notifier.changed.notify_all();
    }

    fn abandon(&self) {
        self.closed
            .store(true, std::sync::atomic::Ordering::Release);
        // The sockets are the parent's: leak them rather than send a Terminate.
        for c in self.pool.lock().idle.drain(..) {
            std::mem::forget(c);
        }
        if let Some(c) = self.listener.lock().take() {
            std::mem::forget(c);
        }
    }

    fn write_dyn(&self, f: &mut (dyn FnMut(&dyn Write) -> Result<()> + Send)) -> Result<()> {
        let mut client = self.checkout()?;
        let result: Result<bool> = (|| {
            let mut transaction = client.transaction()?;
            let changed = {
                let tx = PgTx::new(&mut transaction, true);
                f(&tx)?;
                tx.changed()
            };
            if changed {
                // Delivered at commit, once per transaction.
                transaction.execute("SELECT pg_notify($1, '')", &[&self.channel])?;
            }
            transaction.commit()?;
            Ok(changed)
        })();
        self.checkin(client);
        if result? {
            self.bump_local();
        }
        Ok(())
    }

    fn read_dyn(&self, f: &mut dyn FnMut(&dyn Read) -> Result<()>) -> Result<()> {
        let mut client = self.checkout()?;
        let result: Result<()> = (|| {
            let mut transaction = client.build_transaction().read_only(true).start()?;
            {
                let tx = PgTx::new(&mut transaction, false);
                f(&tx)?;
            }
            transaction.commit()?;
            Ok(())
        })();
        self.checkin(client);
        result
    }

    fn change_mark(&self) -> Result<ChangeMark> {
        self.check_open()?;
        let g = *self.notifier.generation.lock();
        Ok(ChangeMark {
            local: g.0,
            external: g.1,
        })
    }

    fn wait_change(&self, mark: ChangeMark, deadline: Instant) -> Result<bool> {
        loop {
            self.check_open()?;
            let seen = |g: &(u64, i64)| g.0 != mark.local || g.1 != mark.external;
            if seen(&self.notifier.generation.lock()) {
                return Ok(true);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            let slice = (deadline - now).min(POLL_FALLBACK);
            // One waiter at a time reads the listening connection; the others
            // wait for what it hears.
            if let Some(mut guard) = self.listener.try_lock() {
                let Some(listener) = guard.as_mut() else {
                    return Err(Error::Closed);
                };
                let heard = listener
                    .notifications()
                    .timeout_iter(slice)
                    .next()
                    .map_err(Error::from)?
                    .is_some();
                if heard {
                    // Drain what else arrived: one wake-up is enough.
                    while listener
                        .notifications()
                        .iter()
                        .next()
                        .map_err(Error::from)?
                        .is_some()
                    {}
                }
                let mut g = self.notifier.generation.lock();
                if heard {
                    g.1 = g.1.wrapping_add(1);
                }
                self.notifier.changed.notify_all();
                if !heard && !seen(&g) {
                    // The fallback: the caller looks again.
                    return Ok(true);
                }
            } else {
                let mut g = self.notifier.generation.lock();
                if !seen(&g) {
                    self.notifier.changed.wait_for(&mut g, slice);
                }
            }
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
