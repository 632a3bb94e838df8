//! The PostgreSQL store: the same queue for workers on many hosts.
//!
//! Connections come from a small pool of this handle's own (`pool.rs`: no
//! helper threads, fork-aware). Each transaction is READ COMMITTED; the claim
//! locks its rows with `FOR UPDATE SKIP LOCKED`, so claimers on many hosts
//! never wait on each other's rows. A transaction that a conflict or a lost
//! connection rolled back runs again (`retry.rs`); a commit whose reply was
//! lost is resolved by asking the server (`txid_status`). Waiters are woken by
//! `LISTEN`/`NOTIFY` (`listen.rs`); a transaction's statements are in `tx/`.

mod error;
mod listen;
mod pool;
mod retry;
mod schema;
mod target;
#[doc(hidden)]
pub mod testing;
mod text_row;
mod tls;
mod tx;

pub use target::is_postgres_target;
pub use tls::SslMode;

use super::{ChangeMark, Read, Store, Write};
use crate::error::{Error, Result};
use listen::Notifier;
use parking_lot::Mutex;
use pool::{Conn, Failure, Pool};
use postgres::Client;
use postgres::Config;
use retry::{Fault, Retries};
use std::any::Any;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// How long opening a connection may take (default 10 s; the target's
    /// `connect_timeout` wins).
    pub connect_timeout: Duration,
    /// How long a call keeps reconnecting and running its transaction again
    /// after a lost connection (a server restart, a dropped link) before it
    /// returns `Io` (default 20 s).
    pub retry_timeout: Duration,
    /// Whether and how to use TLS (libpq's `sslmode`; default `Prefer`). The
    /// target's `sslmode` parameter sets it too.
    pub ssl_mode: SslMode,
    /// A PEM file of certificates to trust besides the Mozilla roots (libpq's
    /// `sslrootcert`, which the target can carry too).
    pub ssl_root_cert: Option<PathBuf>,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            schema: "asyncop".into(),
            pool_size: 4,
            connect_timeout: Duration::from_secs(10),
            retry_timeout: Duration::from_secs(20),
            ssl_mode: SslMode::default(),
            ssl_root_cert: None,
        }
    }
}

/// How long unacknowledged data may sit on a connection before the kernel
/// drops it, unless the target sets `tcp_user_timeout`: a host cut off from
/// the server learns it in this time rather than in TCP's ~15 minutes.
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(30);

/// An open queue in a PostgreSQL schema.
pub struct PgStore {
    target: String,
    options: PgOptions,
    channel: String,
    pool: Pool,
    listener: Mutex<Option<Client>>,
    notifier: Notifier,
    closed: AtomicBool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .field("schema", &self.options.schema)
            .finish_non_exhaustive()
    }
}

/// Why one run of a write transaction did not commit.
enum Attempt {
    /// It did not commit.
    Failed(Failure),
    /// The connection went while `COMMIT` was on its way: transaction `txid`
    /// may or may not have committed.
    Unknown {
        txid: i64,
        changed: bool,
        failure: Failure,
    },
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
            Error::InvalidArgument(format!(
                "not a PostgreSQL URL or conninfo: {}",
                error::with_causes(&e)
            ))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("asyncop");
        }
        let tls = tls::connector(
            &mut config,
            options.ssl_mode,
            options.ssl_root_cert.as_ref(),
        )?;
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(TCP_USER_TIMEOUT);
        }
        let shown = redacted(&config);
        let mut first = pool::connect(&config, &tls, &shown).map_err(|f| f.error)?;
        schema::migrate(&mut first, &options.schema)?;
        pool::set_search_path(&mut first, &options.schema).map_err(|f| f.error)?;
        let channel = format!("asyncop_{}", options.schema);
        let mut listener = pool::connect(&config, &tls, &shown).map_err(|f| f.error)?;
        listener.batch_execute(&format!("LISTEN \"{channel}\""))?;
        let pool = Pool::new(
            config,
            tls,
            shown.clone(),
            options.schema.clone(),
            options.pool_size,
            first,
        );
        Ok(PgStore {
            target: shown,
            channel,
            options,
            pool,
            listener: Mutex::new(Some(listener)),
            notifier: Notifier::default(),
            closed: AtomicBool::new(false),
        })
    }

    /// Open, and in the process that opened it.
    fn is_open(&self) -> bool {
        !self.closed.load(Ordering::Acquire) && self.pool.is_own_process()
    }

    fn check_open(&self) -> Result<()> {
        if self.is_open() {
            Ok(())
        } else {
            Err(Error::Closed)
        }
    }

    /// One run of `f` in a write transaction; `Ok(changed)` once committed.
    fn write_once(
        &self,
        ids: &[i64],
        f: &mut (dyn FnMut(&dyn Write) -> Result<()> + Send),
    ) -> std::result::Result<bool, Attempt> {
        let mut conn = self
            .pool
            .checkout(|| self.is_open())
            .map_err(Attempt::Failed)?;
        let result = run_write(&mut conn, ids, f, &self.channel);
        self.pool.checkin(conn, self.is_open());
        result
    }

    /// Whether transaction `txid` committed, asked on a new connection until
    /// the server answers or `retries` run out.
    fn committed(&self, txid: i64, retries: &mut Retries, lost: &Error) -> Result<bool> {
        loop {
            let asked = self.pool.checkout(|| self.is_open()).and_then(|mut conn| {
                let row = conn
                    .client
                    .query_one("SELECT txid_status($1)", &[&txid])
                    .and_then(|r| r.try_get::<_, Option<String>>(0))
                    .map_err(Failure::of);
                self.pool.checkin(conn, self.is_open());
                row
            });
            match asked {
                Ok(Some(status)) if status == "committed" => return Ok(true),
                Ok(Some(status)) if status == "aborted" => return Ok(false),
                // "in progress": the server has not yet noticed the lost client.
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(f) if f.fault.is_none() => return Err(f.error),
                Err(_) => {}
            }
            if !retries.again(Fault::Connection) {
                break;
            }
        }
        Err(Error::Io(format!(
            "the connection to {} was lost while a transaction committed, and whether it \
             committed could not be learnt within {:?}: {lost}",
            self.target, self.options.retry_timeout
        )))
    }
}

/// Runs `f` once in a write transaction on `conn` and commits it: BEGIN (with
/// the clock and the transaction id), `f`'s statements, then COMMIT (with the
/// wake-up): two round trips besides `f`'s own.
fn run_write(
    conn: &mut Conn,
    ids: &[i64],
    f: &mut (dyn FnMut(&dyn Write) -> Result<()> + Send),
    channel: &str,
) -> std::result::Result<bool, Attempt> {
    let begun = tx::begin(&mut conn.client, true, ids).map_err(Attempt::Failed)?;
    let txid = begun.txid;
    let (result, fault, changed, wrote) = {
        let tx = PgTx::new(&mut conn.client, &mut conn.statements, true, begun);
        let result = f(&tx);
        (result, tx.fault(), tx.changed(), tx.wrote())
    };
    if let Err(error) = result {
        conn.broken = !tx::rollback(&mut conn.client);
        return Err(Attempt::Failed(Failure { error, fault }));
    }
    if !wrote {
        // Nothing to keep (row locks at most): no commit record to wait for.
        conn.broken = !tx::rollback(&mut conn.client);
        return Ok(false);
    }
    match tx::commit(&mut conn.client, changed.then_some(channel)) {
        Ok(()) => Ok(changed),
        Err(e) => {
            let failure = Failure::of(e);
            match (failure.fault, txid) {
                (Some(Fault::Connection), Some(txid)) => Err(Attempt::Unknown {
                    txid,
                    changed,
                    failure,
                }),
                _ => {
                    // A failed NOTIFY leaves the transaction open (the COMMIT after
                    // it did not run); a failed COMMIT has ended it already.
                    conn.broken = !tx::rollback(&mut conn.client);
                    Err(Attempt::Failed(failure))
                }
            }
        }
    }
}

/// Runs `f` once in a read-only transaction on `conn`.
fn run_read(
    conn: &mut Conn,
    f: &mut dyn FnMut(&dyn Read) -> Result<()>,
) -> std::result::Result<(), Failure> {
    let begun = tx::begin(&mut conn.client, false, &[])?;
    let (result, fault) = {
        let tx = PgTx::new(&mut conn.client, &mut conn.statements, false, begun);
        (f(&tx), tx.fault())
    };
    // A read-only transaction's reads stand whatever becomes of its end.
    conn.broken = !tx::rollback(&mut conn.client);
    result.map_err(|error| Failure { error, fault })
}

impl Store for PgStore {
    fn target(&self) -> &str {
        &self.target
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.pool.close();
        if self.pool.is_own_process() {
            drop(self.listener.lock().take());
        }
        self.notifier.wake_all();
    }

    fn abandon(&self) {
        self.closed.store(true, Ordering::Release);
        // The sockets are the parent's: leak them rather than send a Terminate.
        self.pool.abandon();
        if let Some(c) = self.listener.lock().take() {
            std::mem::forget(c);
        }
    }

    fn write_dyn(&self, f: &mut (dyn FnMut(&dyn Write) -> Result<()> + Send)) -> Result<()> {
        self.write_rows_dyn(&[], f)
    }

    fn write_rows_dyn(
        &self,
        ids: &[i64],
        f: &mut (dyn FnMut(&dyn Write) -> Result<()> + Send),
    ) -> Result<()> {
        self.drain_listener();
        let mut retries = Retries::new(self.options.retry_timeout);
        loop {
            let failure = match self.write_once(ids, f) {
                Ok(changed) => {
                    if changed {
                        self.bump_local();
                    }
                    return Ok(());
                }
                Err(Attempt::Failed(failure)) => failure,
                Err(Attempt::Unknown {
                    txid,
                    changed,
                    failure,
                }) => {
                    if self.committed(txid, &mut retries, &failure.error)? {
                        if changed {
                            self.bump_local();
                        }
                        return Ok(());
                    }
                    failure
                }
            };
            match failure.fault {
                Some(fault) if self.is_open() && retries.again(fault) => {}
                _ => return Err(failure.error),
            }
        }
    }

    fn read_dyn(&self, f: &mut dyn FnMut(&dyn Read) -> Result<()>) -> Result<()> {
        let mut retries = Retries::new(self.options.retry_timeout);
        loop {
            let failure = match self.pool.checkout(|| self.is_open()) {
                Ok(mut conn) => {
                    let result = run_read(&mut conn, f);
                    self.pool.checkin(conn, self.is_open());
                    match result {
                        Ok(()) => return Ok(()),
                        Err(failure) => failure,
                    }
                }
                Err(failure) => failure,
            };
            match failure.fault {
                Some(fault) if self.is_open() && retries.again(fault) => {}
                _ => return Err(failure.error),
            }
        }
    }

    fn change_mark(&self) -> Result<ChangeMark> {
        self.mark()
    }

    fn wait_change(&self, mark: ChangeMark, deadline: Instant) -> Result<bool> {
        self.wait(mark, deadline)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
