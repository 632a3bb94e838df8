//! A worker: runs one handler per operation type on a pool of threads, with
//! background lease renewal and stop on pause or cancel, built only on the
//! public queue API (`Queue::complete_and_poll`, the lease host calls, stop
//! signals). The C ABI's `asyncop_worker_*` (`ffi/worker.rs`) wraps it.
//!
//! - `config`: the knobs and their limits;
//! - `registry`: operation type → handler;
//! - `job`: what a handler gets ([`Job`]) and returns ([`JobOutcome`]);
//! - `run_loop`: a handler thread's claim loop (prefetch, one commit per job);
//! - `run_job`: one job's run and outcome;
//! - `renewal`: the renewal thread;
//! - `shared`: the state the threads share; `stats`: the counters.
//!
//! Semantics mirror the Python and C# workers: each thread completes its
//! successes in the same transaction as its next claim and claims up to
//! `prefetch` jobs at once (the rest wait for any idle thread); only the
//! registered types are claimed unless `claim_unhandled` (then the others
//! fail with 0x80044303); `stop(timeout)` lets running handlers finish, and
//! past the timeout asks them to stop ([`Job::shutdown_requested`]).

mod config;
mod job;
mod registry;
mod renewal;
mod run_job;
mod run_loop;
mod shared;
mod stats;

pub use config::{DEFAULT_POLL_WAIT, DEFAULT_PREFETCH, MAX_PREFETCH, MAX_THREADS};
pub use job::{Job, JobOutcome};
pub use registry::Handler;
pub use stats::WorkerStats;

use crate::error::{Error, Result};
use crate::queue::Queue;
use config::Config;
use parking_lot::Mutex;
use registry::Registry;
use shared::{Shared, Turns};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Ids of workers, for "is this one of its own threads".
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

enum Stage {
    /// Being set up: setters and `register` work.
    New { config: Config, handlers: Registry },
    /// Started (and maybe stopping or stopped).
    Started {
        shared: Arc<Shared>,
        threads: Vec<JoinHandle<()>>,
    },
}

/// Runs handlers for claimed operations. Set it up (`set_*`, `register`),
/// `start` it once, `stop` it. `Send + Sync`: every method takes `&self`.
pub struct Worker {
    id: u64,
    queue: Queue,
    stage: Mutex<Stage>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker of `queue` claiming as `host_id` with `threads` handler
    /// threads (1..=[`MAX_THREADS`]). Errors: `InvalidArgument`.
    pub fn new(queue: &Queue, host_id: &str, threads: u32) -> Result<Worker> {
        Ok(Worker {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            queue: queue.clone(),
            stage: Mutex::new(Stage::New {
                config: Config::new(host_id, threads)?,
                handlers: Registry::default(),
            }),
        })
    }

    /// The queue it works on.
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    fn setup(&self, f: impl FnOnce(&mut Config, &mut Registry) -> Result<()>) -> Result<()> {
        match &mut *self.stage.lock() {
            Stage::New { config, handlers } => f(config, handlers),
            Stage::Started { .. } => Err(Error::InvalidArgument(
                "the worker was started already: set it up before start".into(),
            )),
        }
    }

    /// How long one poll waits for work (at least 1 ms; default 1 s); it
    /// bounds how soon idle threads notice a stop.
    pub fn set_poll_wait(&self, wait: Duration) -> Result<()> {
        config::check_poll_wait(wait)?;
        self.setup(|c, _| {
            c.poll_wait = wait;
            Ok(())
        })
    }

    /// The renewal period (default a third of the queue's lease); more than
    /// 0, and less than the lease (checked at `start`).
    pub fn set_renew_every(&self, every: Duration) -> Result<()> {
        config::check_renew_every(every)?;
        self.setup(|c, _| {
            c.renew_every = Some(every);
            Ok(())
        })
    }

    /// Jobs one thread claims at once (1..=[`MAX_PREFETCH`], default
    /// [`DEFAULT_PREFETCH`]); 1 for long jobs.
    pub fn set_prefetch(&self, prefetch: u32) -> Result<()> {
        config::check_prefetch(prefetch)?;
        self.setup(|c, _| {
            c.prefetch = prefetch;
            Ok(())
        })
    }

    /// Also claim types without a handler, to fail them with 0x80044303
    /// (default false: they stay Ready for other hosts).
    pub fn set_claim_unhandled(&self, claim: bool) -> Result<()> {
        self.setup(|c, _| {
            c.claim_unhandled = claim;
            Ok(())
        })
    }

    /// Sets the handler of `operation_type` (replacing an earlier one).
    /// Before `start` only.
    pub fn register(&self, operation_type: i32, handler: Handler) -> Result<()> {
        self.setup(|_, h| {
            h.insert(operation_type, handler);
            Ok(())
        })
    }

    /// Starts the handler threads and the renewal thread; once. Errors:
    /// `InvalidArgument` (started already, no handler, renew_every not below
    /// the lease), `Closed`, `Internal` (a thread could not start).
    pub fn start(&self) -> Result<()> {
        let mut stage = self.stage.lock();
        let Stage::New { config, handlers } = &*stage else {
            return Err(Error::InvalidArgument(
                "the worker was started already".into(),
            ));
        };
        if handlers.is_empty() {
            return Err(Error::InvalidArgument(
                "no handler registered: register one before start".into(),
            ));
        }
        if self.queue.is_closed() {
            return Err(Error::Closed);
        }
        let lease = Duration::from_millis(u64::try_from(self.queue.lease_ms()).unwrap_or(1));
        let shared = Arc::new(Shared {
            id: self.id,
            queue: self.queue.clone(),
            host_id: config.host_id.clone(),
            poll_wait: config.poll_wait,
            renew_every: config.renew_every(lease)?,
            prefetch: config.prefetch,
            types: (!config.claim_unhandled).then(|| handlers.types()),
            handlers: handlers.clone(),
            stopping: AtomicBool::new(false),
            shutdown: Arc::new(AtomicBool::new(false)),
            turns: Mutex::new(Turns::default()),
            turns_changed: Default::default(),
            active: Mutex::new(Default::default()),
            renewer_wake: Default::default(),
            counters: Default::default(),
        });
        let mut threads = Vec::new();
        let spawned = spawn_all(&shared, config.threads, &mut threads);
        *stage = Stage::Started {
            shared: shared.clone(),
            threads,
        };
        drop(stage);
        if let Err(e) = spawned {
            self.stop(None);
            return Err(e);
        }
        Ok(())
    }

    /// Stops claiming, lets running handlers finish (prefetched jobs run
    /// too, finished ones are completed) and returns true once every thread
    /// ended. If `timeout` passes first, running handlers are asked to stop
    /// ([`Job::shutdown_requested`]), prefetched jobs not started are given
    /// back without running, and false is returned: call `stop` again to
    /// wait for them. From one of the worker's own handler threads it only
    /// asks the worker to stop and returns false (it cannot wait for itself).
    /// A worker never started is just marked done (true).
    pub fn stop(&self, timeout: Option<Duration>) -> bool {
        let shared = match &*self.stage.lock() {
            Stage::New { .. } => return true,
            Stage::Started { shared, .. } => shared.clone(),
        };
        shared.request_stop();
        if shared::on_worker_thread(self.id) {
            return false;
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        if !shared.wait_threads(deadline) {
            shared.shutdown.store(true, Ordering::SeqCst);
            return false;
        }
        shared.wake_renewer();
        let threads = match &mut *self.stage.lock() {
            Stage::Started { threads, .. } => std::mem::take(threads),
            Stage::New { .. } => Vec::new(),
        };
        for t in threads {
            let _ = t.join();
        }
        true
    }

    /// Whether `stop` timed out and asks the running handlers to stop.
    pub fn shutdown_requested(&self) -> bool {
        match &*self.stage.lock() {
            Stage::New { .. } => false,
            Stage::Started { shared, .. } => shared.shutdown.load(Ordering::SeqCst),
        }
    }

    /// Whether the calling thread is one of this worker's threads.
    pub fn on_own_thread(&self) -> bool {
        shared::on_worker_thread(self.id)
    }

    /// Counts of the outcomes reported so far.
    pub fn stats(&self) -> WorkerStats {
        match &*self.stage.lock() {
            Stage::New { .. } => WorkerStats::default(),
            Stage::Started { shared, .. } => shared.counters.snapshot(),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop(None);
    }
}

/// Starts the renewal thread and `n` handler threads.
fn spawn_all(shared: &Arc<Shared>, n: u32, threads: &mut Vec<JoinHandle<()>>) -> Result<()> {
    let spawn = |name: String, body: fn(&Shared)| {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name(name)
            .spawn(move || {
                shared::enter_worker_thread(shared.id);
                body(&shared);
            })
            .map_err(|e| Error::Internal(format!("could not start a worker thread: {e}")))
    };
    threads.push(spawn("asyncop-renew".into(), renewal::renew_loop)?);
    for i in 0..n {
        shared.turns.lock().alive += 1;
        match spawn(format!("asyncop-worker-{i}"), handler_thread) {
            Ok(t) => threads.push(t),
            Err(e) => {
                shared.turns.lock().alive -= 1;
                return Err(e);
            }
        }
    }
    Ok(())
}

/// A handler thread: the loop, then "one thread fewer" even if it unwinds.
fn handler_thread(shared: &Shared) {
    struct Alive<'a>(&'a Shared);
    impl Drop for Alive<'_> {
        fn drop(&mut self) {
            let mut turns = self.0.turns.lock();
            turns.alive = turns.alive.saturating_sub(1);
            self.0.turns_changed.notify_all();
            drop(turns);
            self.0.wake_renewer();
        }
    }
    let _alive = Alive(shared);
    run_loop::work_loop(shared);
}
