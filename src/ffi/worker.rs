//! The worker helper: handler callbacks per operation type, run on the
//! worker's threads with background lease renewal (the core's
//! `worker::Worker`; this module only converts and delegates).

use super::handles::{self, HandleType, QueueBound, with_handle};
use super::options::ms_arg;
use super::panic::ffi_boundary;
use super::queue::asyncop_queue;
use super::status::{Failure, asyncop_status};
use super::strings::{bool_arg, out_param, str_arg};
use crate::queue::Queue;
use crate::worker::Worker;
use std::ffi::{c_char, c_void};
use std::time::Duration;

mod counts;
mod handler;

pub use counts::*;
pub use handler::*;

/// A worker: threads that claim operations of the registered types, call
/// their handler (asyncop_worker_handler) and report its outcome, and one
/// thread that renews every claimed lease every renew_every (default: a
/// third of the queue's lease), so a handler never renews. A pause, postpone
/// or cancel of a running operation (or a lost lease) is seen at once by
/// asyncop_lease_stop_requested on the handler's lease; a handler that then
/// returns ASYNCOP_WORKER_STOPPED has it acknowledged. Each thread claims
/// up to `prefetch` operations at once (default 16; 1 for long jobs) and
/// completes its successes in the same commit as its next claim.
///
/// Life: asyncop_worker_new, setters and asyncop_worker_register, then
/// asyncop_worker_start once; asyncop_worker_stop; asyncop_worker_free.
/// Handlers may call any asyncop_lease_* function on their lease (not
/// _free), any function on other handles, and asyncop_worker_count,
/// _stop_requested and _stop (which from a handler only asks the worker to
/// stop and returns at once); asyncop_worker_free from a handler is refused.
/// Threads: every function may be called from any thread; setters and
/// register must not race with start.
///
/// Functions: asyncop_worker_new, _set_poll_wait_ms, _set_renew_every_ms,
/// _set_prefetch, _set_claim_unhandled, _register, _start, _stop,
/// _stop_requested, _count, _free.
pub struct asyncop_worker {
    pub(crate) worker: Worker,
}

impl HandleType for asyncop_worker {
    const TAG: u8 = 12;
    const NAME: &'static str = "asyncop_worker";
}

impl QueueBound for asyncop_worker {
    const WHAT: &'static str = "worker";
    fn queue(&self) -> &Queue {
        self.worker.queue()
    }
}

/// A count argument (threads, prefetch): negative is INVALID_ARG here, the
/// upper limits are the core's.
fn count_arg(value: i32, name: &str) -> Result<u32, Failure> {
    u32::try_from(value).map_err(|_| {
        Failure::new(
            asyncop_status::ASYNCOP_ERR_INVALID_ARG,
            format!("{name} must be at least 1, got {value}"),
        )
    })
}

/// Creates a worker of `queue` that claims as `host_id` (non-empty, at most
/// ASYNCOP_NAME_MAX_CHARS characters) on `threads` handler threads
/// (1..=1024), with poll wait 1000 ms, renew every lease/3, prefetch 16 and
/// claim_unhandled 0. Nothing runs before asyncop_worker_start. The worker
/// keeps the queue open; close the queue after freeing the worker (a queue
/// closed first ends the worker's threads, whose leases then expire).
/// Ownership: `*out` is the caller's; release it with asyncop_worker_free.
/// Threads: any. Errors: NULL_ARG, UTF8, INVALID_ARG (host_id, threads),
/// *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `queue` is NULL or a queue handle; `host_id` is NULL or NUL-terminated;
/// `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_worker_new(
    queue: *const asyncop_queue,
    host_id: *const c_char,
    threads: i32,
    out: *mut *mut asyncop_worker,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out, "out") }?;
        // SAFETY: `host_id` is NULL or NUL-terminated (see `# Safety`).
        let host_id = unsafe { str_arg(host_id, "host_id") }?;
        let threads = count_arg(threads, "threads")?;
        let worker = with_handle(queue, |q| Ok(Worker::new(&q.queue, host_id, threads)?))?;
        *out = handles::insert(asyncop_worker { worker });
        Ok(())
    })
}

/// How long one poll of an idle thread waits for work, in ms (>= 1; default
/// 1000); it bounds how soon idle threads notice asyncop_worker_stop.
/// Before start only. Threads: any, not concurrent with start. Errors:
/// INVALID_ARG (< 1, or the worker was started), *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `worker` is NULL or a worker handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_worker_set_poll_wait_ms(
    worker: *mut asyncop_worker,
    poll_wait_ms: i64,
) -> asyncop_status {
    ffi_boundary!({
        let wait = ms_arg(poll_wait_ms, "poll_wait_ms")?;
        with_handle(worker, |w| Ok(w.worker.set_poll_wait(wait)?))
    })
}

/// The renewal period in ms (>= 1 and less than the queue's lease, checked
/// by start; default a third of the lease). Before start only. Threads:
/// any, not concurrent with start. Errors: INVALID_ARG (< 1, or started),
/// *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `worker` is NULL or a worker handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_worker_set_renew_every_ms(
    worker: *mut asyncop_worker,
    renew_every_ms: i64,
) -> asyncop_status {
    ffi_boundary!({
        let every = ms_arg(renew_every_ms, "renew_every_ms")?;
        with_handle(worker, |w| Ok(w.worker.set_renew_every(every)?))
    })
}

/// How many operations one thread claims at once (1..=256, default 16); the
/// ones not started yet wait for any idle thread, their leases renewed, and
/// one paused or canceled meanwhile is acknowledged without running. Use 1
/// for long jobs. Before start only. Threads: any, not concurrent with start.
/// Errors: INVALID_ARG (out of range, or started), *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `worker` is NULL or a worker handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_worker_set_prefetch(
    worker: *mut asyncop_worker,
    prefetch: i32,
) -> asyncop_status {
    ffi_boundary!({
        let prefetch = count_arg(prefetch, "prefetch")?;
        with_handle(worker, |w| Ok(w.worker.set_prefetch(prefetch)?))
    })
}

/// `claim_unhandled` 1: also claim operation types without a handler and
/// fail them with ASYNCOP_ERR_TYPE_NOT_RECOGNIZED (0x80044303) as their
/// error code; 0 (default): claim only the registered types, the others
/// stay Ready for other hosts. Before start only. Threads: any, not
/// concurrent with start. Errors: OUT_OF_RANGE (not 0/1), INVALID_ARG
/// (started), *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `worker` is NULL or a worker handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_worker_set_claim_unhandled(
    worker: *mut asyncop_worker,
    claim_unhandled: i32,
) -> asyncop_status {
    ffi_boundary!({
        let claim = bool_arg(claim_unhandled, "claim_unhandled")?;
        with_handle(worker, |w| Ok(w.worker.set_claim_unhandled(claim)?))
    })
}

/// Sets the handler of `operation_type` (replacing an earlier one), called
/// with `user_data` on the worker's threads, possibly on several at once:
/// what `user_data` points to must stay valid until asyncop_worker_stop
/// returned 1 (or asyncop_worker_free returned) and be safe to use from
/// those threads; the library never reads it. Before start only. Threads:
/// any, not concurrent with start. Errors: NULL_ARG (`handler`),
/// INVALID_ARG (started), *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `worker` is NULL or a worker handle; `handler` is NULL or a function of
/// the asyncop_worker_handler type.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_worker_register(
    worker: *mut asyncop_worker,
    operation_type: i32,
    handler: asyncop_worker_handler,
    user_data: *mut c_void,
) -> asyncop_status {
    ffi_boundary!({
        let f = handler.ok_or_else(|| Failure::null_arg("handler"))?;
        let handler = handler::c_handler(f, handler::UserData(user_data));
        with_handle(worker, |w| {
            Ok(w.worker.register(operation_type, handler)?)
        })
    })
}

/// Starts the handler threads and the renewal thread; once. Errors:
/// INVALID_ARG (started already, no handler registered, renew_every not
/// below the queue's lease), CLOSED_HANDLE (the queue was closed), INTERNAL
/// (a thread could not start), *_HANDLE, FORKED, PANIC.
/// Threads: any.
///
/// # Safety
/// `worker` is NULL or a worker handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_worker_start(worker: *mut asyncop_worker) -> asyncop_status {
    ffi_boundary!({ with_handle(worker, |w| Ok(w.worker.start()?)) })
}

/// Stops the worker: no new claims; running handlers finish, prefetched
/// operations run too and successes are completed; then `*out_stopped` = 1
/// once every worker thread ended. If `timeout_ms` (>= 0, or -1 for no
/// limit) passes first, `*out_stopped` = 0: running handlers are asked to
/// stop (asyncop_worker_stop_requested gives 1; a handler that then returns
/// ASYNCOP_WORKER_STOPPED is released for a retry), prefetched operations
/// not started are given back without running; call it again to wait for
/// them. Called from a handler it only asks the worker to stop and writes 0
/// at once (a thread cannot wait for itself). For a worker never started
/// it writes 1. It works after the queue was closed too. Threads: any.
/// Errors: NULL_ARG, INVALID_ARG (timeout < -1), *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `worker` is NULL or a worker handle; `out_stopped` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_worker_stop(
    worker: *mut asyncop_worker,
    timeout_ms: i64,
    out_stopped: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_stopped` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_stopped, "out_stopped") }?;
        let timeout: Option<Duration> = match timeout_ms {
            -1 => None,
            ms => Some(ms_arg(ms, "timeout_ms (or -1)")?),
        };
        let w = handles::get(worker)?;
        *out = i32::from(w.worker.stop(timeout));
        Ok(())
    })
}

/// Writes 1 to `*out` once asyncop_worker_stop timed out and asks the
/// running handlers to stop, else 0: a long handler checks it (with
/// asyncop_lease_stop_requested) at its safe points and returns
/// ASYNCOP_WORKER_STOPPED. Pass the worker to the handler in its user_data.
/// Threads: any, concurrent OK. Errors: NULL_ARG, *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `worker` is NULL or a worker handle; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_worker_stop_requested(
    worker: *const asyncop_worker,
    out: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out, "out") }?;
        let w = handles::get(worker)?;
        *out = i32::from(w.worker.shutdown_requested());
        Ok(())
    })
}

/// Stops the worker if it runs, waiting without limit for its handlers
/// (call asyncop_worker_stop with a timeout first to bound that), and frees
/// the handle. NULL is a no-op; a second free gives CLOSED_HANDLE. From one
/// of the worker's own handlers it is refused with INVALID_ARG (the handle
/// stays valid). Threads: any. Errors: INVALID_ARG, *_HANDLE, PANIC.
///
/// # Safety
/// `worker` is NULL or a worker handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_worker_free(worker: *mut asyncop_worker) -> asyncop_status {
    ffi_boundary!({
        if !worker.is_null()
            && let Ok(w) = handles::get(worker)
            && w.worker.on_own_thread()
        {
            return Err(Failure::new(
                asyncop_status::ASYNCOP_ERR_INVALID_ARG,
                "asyncop_worker_free called from the worker's own thread: it would wait for itself; \
                 call asyncop_worker_stop there and free it from another thread",
            ));
        }
        if let Some(w) = handles::remove(worker)? {
            w.worker.stop(None);
        }
        Ok(())
    })
}
