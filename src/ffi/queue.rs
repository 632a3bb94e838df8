//! The queue handle: open/close, the clock, submit and the reads (retrieve,
//! query, counts). Its options are in `options`; the user actions are in
//! `queue/actions.rs`, poll, wait_for and the upkeep calls in `queue/poll.rs`,
//! purge and held types in `queue/cleanup.rs`.

use super::ASYNCOP_ANY;
use super::handles::{self, HandleType, QueueBound};
use super::operation::{asyncop_counts, asyncop_operation, asyncop_operation_list};
use super::options::asyncop_options;
use super::panic::ffi_boundary;
use super::spec::asyncop_spec;
use super::status::{Failure, asyncop_status};
use super::strings::{bytes_arg, opt_str_arg, opt_time_arg, out_param, slice_arg, str_arg};
use crate::operation::{Filter, OperationSpec};
use crate::queue::{Options, Queue};
use crate::transition::{State, Status};
use std::ffi::c_char;

// The queue's other exports, by responsibility; `ffi::queue::*` still names them
// all. cbindgen emits a module's own items before its submodules (in declaration
// order), so the header keeps its order.
mod actions;
mod cleanup;
mod complete_and_poll;
mod events;
mod poll;

pub use actions::*;
pub use cleanup::*;
pub use events::*;
pub use poll::*;

/// An open queue file. Thread-safe: one handle may be used by any number of
/// threads at once, and closed from any thread (waiting polls wake with
/// CLOSED_HANDLE; other calls in flight finish first).
///
/// Functions: asyncop_queue_open, asyncop_queue_close, asyncop_queue_now,
/// asyncop_queue_submit, asyncop_queue_submit_many, asyncop_queue_retrieve,
/// asyncop_queue_query, asyncop_queue_counts, asyncop_queue_cancel,
/// asyncop_queue_pause, asyncop_queue_resume, asyncop_queue_postpone,
/// asyncop_queue_delete, asyncop_queue_set_state,
/// asyncop_queue_set_postpone_until, asyncop_queue_set_recurrence, asyncop_queue_poll,
/// asyncop_queue_wait_for, asyncop_queue_run_maintenance, asyncop_queue_check_integrity,
/// asyncop_queue_purge, asyncop_queue_hold_type, asyncop_queue_release_type,
/// asyncop_queue_held_types, asyncop_queue_set_event_callback,
/// asyncop_queue_metrics_prometheus.
pub struct asyncop_queue {
    pub(crate) queue: Queue,
    /// The hook of `asyncop_queue_set_event_callback`, if one is set.
    pub(crate) event_hook: parking_lot::Mutex<Option<crate::metrics::EventHookId>>,
}

impl asyncop_queue {
    /// The handle object of an open queue, with no event callback.
    pub(crate) fn new(queue: Queue) -> asyncop_queue {
        asyncop_queue {
            queue,
            event_hook: parking_lot::Mutex::new(None),
        }
    }
}

impl HandleType for asyncop_queue {
    const TAG: u8 = 3;
    const NAME: &'static str = "asyncop_queue";
}

impl QueueBound for asyncop_queue {
    const WHAT: &'static str = "handle";
    fn queue(&self) -> &Queue {
        &self.queue
    }
}

/// Opens or creates the queue file at `path` (UTF-8), or the queue in a
/// PostgreSQL database when `path` is a `postgres://` / `postgresql://` URL or a
/// key=value conninfo string (first word `host=`, `hostaddr=`, `dbname=`,
/// `user=` or `port=`); the target may carry `schema`, `pool_size`, `sslmode`
/// and `sslrootcert` (README, "Scaling out: PostgreSQL"). `options` may be NULL
/// for the defaults; it is copied, so it may be freed right after. On success
/// `*out_queue` is a handle to close with `asyncop_queue_close`.
/// PostgreSQL: an unparsable target, a bad schema name or pool size give
/// INVALID_ARG; a server that cannot be reached, a refused password or a
/// missing database IO (the message names host:port, never the password); a
/// schema of a newer version CORRUPT, left unchanged.
/// A file that is not an asyncop database (another SQLite database, a text file,
/// random bytes, a truncated file, a newer schema) gives ASYNCOP_ERR_CORRUPT and
/// is left byte-for-byte untouched.
/// A file `path` is a path (not a SQLite URI); "" and ":memory:" give INVALID_ARG.
/// A new file is created with the options' file mode (0600 by default).
/// Opening a file this process already has open is safe (the process keeps
/// one descriptor and its locks per file); processes creating one new file at
/// once wait for each other, up to the busy timeout.
/// Threads: any. Errors: NULL_ARG, UTF8, *_HANDLE (options), INVALID_ARG,
/// CORRUPT, IO (missing directory, a directory, a FIFO or other non-regular
/// file, permissions, a directory where -wal/-shm cannot be created), BUSY
/// (another process held the file's open lock past the busy timeout), INTERNAL.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `options` is NULL or a value from
/// `asyncop_options_new`; `out_queue` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_open(
    path: *const c_char,
    options: *const asyncop_options,
    out_queue: *mut *mut asyncop_queue,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_queue` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_queue, "out_queue") }?;
        // SAFETY: `path` is NULL or NUL-terminated (see `# Safety`).
        let path = unsafe { str_arg(path, "path") }?;
        let options = if options.is_null() {
            Options::default()
        } else {
            handles::get(options)?.inner.lock().clone()
        };
        let queue = Queue::open(path, options)?;
        *out = handles::insert(asyncop_queue::new(queue));
        Ok(())
    })
}

/// Closes the queue: later calls on it, and on leases, operations, lists and
/// counts obtained from it, give ASYNCOP_ERR_CLOSED_HANDLE (they must still be
/// freed). A poll or wait_for waiting on another thread wakes and returns
/// CLOSED_HANDLE; other calls in flight finish first, and no memory they use is freed. NULL is a no-op; a
/// second close gives CLOSED_HANDLE. In a forked child, closing an inherited
/// handle is a no-op that returns OK and leaves the parent's database alone.
/// Threads: any.
///
/// # Safety
/// `queue` is NULL or a value from `asyncop_queue_open`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_close(queue: *mut asyncop_queue) -> asyncop_status {
    ffi_boundary!({
        if let Some(q) = handles::remove(queue)? {
            q.queue.close();
        }
        Ok(())
    })
}

/// The queue clock's current time, in UTC milliseconds since the Unix epoch.
/// Threads: any. Errors: NULL_ARG, *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `queue` is NULL or a queue handle; `out_now` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_now(
    queue: *const asyncop_queue,
    out_now: *mut i64,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_now` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_now, "out_now") }?;
        let q = handles::get(queue)?;
        handles::ensure_open(&*q)?;
        *out = q.queue.now();
        Ok(())
    })
}

/// Submits one operation and writes its id (> 0) to `*out_id` once committed
/// (durable at ASYNCOP_DURABILITY_FULL). `name` (<= 256 characters) is required;
/// `data` may be NULL when `data_len` is 0; `dependency_token` and
/// `correlation_id` (<= 256 characters) may be NULL for none; `postpone_until`
/// is ASYNCOP_TIME_NONE, or a time that, if in the future, creates the
/// operation Suspended (1/10) until then. All inputs are copied.
/// `data_len` above the queue's payload limit (asyncop_options_set_max_payload_bytes,
/// default ASYNCOP_PAYLOAD_DEFAULT_MAX) gives INVALID_ARG, checked before the
/// data is copied; nothing is written.
/// Threads: any, concurrent OK. Errors: NULL_ARG, UTF8, INVALID_ARG (type <= 0,
/// text over ASYNCOP_NAME_MAX_CHARS, data over the payload limit), *_HANDLE,
/// FORKED, BUSY, IO, CORRUPT, INTERNAL, PANIC.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `data` is NULL or has `data_len` readable
/// bytes; `out_id` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_submit(
    queue: *const asyncop_queue,
    name: *const c_char,
    operation_type: i32,
    data: *const u8,
    data_len: usize,
    dependency_token: *const c_char,
    postpone_until: i64,
    correlation_id: *const c_char,
    out_id: *mut i64,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_id` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_id, "out_id") }?;
        let q = handles::get(queue)?;
        // SAFETY: `name` is NULL or NUL-terminated (see `# Safety`).
        let name = unsafe { str_arg(name, "name") }?.to_owned();
        // SAFETY: `data` is NULL or has `data_len` readable bytes (see `# Safety`).
        let data = unsafe { bytes_arg(data, data_len, "data") }?;
        // Before the copy: an oversized payload is refused without copying it.
        handles::ensure_open(&*q)?;
        q.queue.check_payload_len(data.len())?;
        let spec = OperationSpec {
            name,
            operation_type,
            data: data.to_vec(),
            // SAFETY: `dependency_token` is NULL or NUL-terminated (see `# Safety`).
            dependency_token: unsafe { opt_str_arg(dependency_token, "dependency_token") }?
                .map(str::to_owned),
            postpone_until: opt_time_arg(postpone_until),
            // SAFETY: `correlation_id` is NULL or NUL-terminated (see `# Safety`).
            correlation_id: unsafe { opt_str_arg(correlation_id, "correlation_id") }?
                .map(str::to_owned),
            // One-shot: a series is submitted through its own call.
            ..OperationSpec::default()
        };
        *out = q.queue.submit(&spec)?;
        Ok(())
    })
}

/// Submits `count` operations in one transaction: all or none. On success
/// `out_ids[i]` is the id of `specs[i]`. The specs are copied and stay owned by
/// the caller. One invalid spec (data over the payload limit, a bad field)
/// refuses the whole batch with INVALID_ARG naming its index; nothing is written.
/// Threads: any, concurrent OK. Errors: as asyncop_queue_submit,
/// plus NULL_ARG for a NULL array or element and *_HANDLE for a bad spec.
///
/// # Safety
/// `specs` is NULL or points to `count` spec handles; `out_ids` is NULL or
/// points to `count` writable `int64_t`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_submit_many(
    queue: *const asyncop_queue,
    specs: *const *const asyncop_spec,
    count: usize,
    out_ids: *mut i64,
) -> asyncop_status {
    ffi_boundary!({
        let q = handles::get(queue)?;
        // SAFETY: `specs` is NULL or has `count` readable values (see `# Safety`).
        let handles_in = unsafe { slice_arg(specs, count, "specs") }?;
        if count > 0 && out_ids.is_null() {
            return Err(Failure::null_arg("out_ids"));
        }
        handles::ensure_open(&*q)?;
        let mut copies = Vec::with_capacity(count);
        for (i, h) in handles_in.iter().enumerate() {
            let spec = handles::get(*h)?;
            let spec = spec.inner.lock();
            // Before the copy: an oversized payload is refused without copying it.
            q.queue.check_payload_len(spec.data.len()).map_err(|e| {
                Failure::new(
                    asyncop_status::ASYNCOP_ERR_INVALID_ARG,
                    format!("spec {i}: {e}"),
                )
            })?;
            copies.push(spec.clone());
        }
        let ids = q.queue.submit_many(&copies)?;
        for (i, id) in ids.into_iter().enumerate() {
            // SAFETY: out_ids has `count` slots and `ids` has exactly `count` entries.
            unsafe { *out_ids.add(i) = id };
        }
        Ok(())
    })
}

/// Reads one operation: `*out_operation` is a snapshot handle (free it with
/// `asyncop_operation_free`). Threads: any. Errors: NULL_ARG, INVALID_ARG
/// (id <= 0), NOT_FOUND, *_HANDLE, FORKED, IO, CORRUPT (a damaged stored row), INTERNAL, PANIC.
///
/// # Safety
/// `queue` is NULL or a queue handle; `out_operation` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_retrieve(
    queue: *const asyncop_queue,
    id: i64,
    out_operation: *mut *mut asyncop_operation,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_operation` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_operation, "out_operation") }?;
        let q = handles::get(queue)?;
        let op = q.queue.retrieve(id)?;
        *out = handles::insert(asyncop_operation {
            queue: q.queue.clone(),
            op,
        });
        Ok(())
    })
}

fn opt_code<T>(
    code: i32,
    what: &str,
    parse: impl FnOnce(i64) -> Option<T>,
) -> Result<Option<T>, Failure> {
    if code == ASYNCOP_ANY {
        return Ok(None);
    }
    parse(code.into())
        .map(Some)
        .ok_or_else(|| Failure::out_of_range(what, code.into()))
}

/// Lists operations matching every given filter, in ascending id (creation
/// order). Filters: `state`, `status` (a code, or ASYNCOP_ANY), `operation_type`
/// (> 0, or ASYNCOP_ANY), `name`, `dependency_token` and `correlation_id`
/// (exact; NULL for any), `name_prefix` (names starting with it, case-sensitive,
/// no wildcards: a range of the name index; NULL or "" for any),
/// `completed_before` (completed_on < t; ASYNCOP_TIME_NONE for any),
/// `after_id` (only ids > after_id; 0 for all), `limit` (-1 for no limit),
/// `offset` (>= 0). `*out_list` is a list handle (free with
/// `asyncop_operation_list_free`). Threads: any.
/// Errors: NULL_ARG, UTF8, OUT_OF_RANGE (codes), INVALID_ARG (mismatched
/// state/status, negative offset, limit < -1), *_HANDLE, FORKED, IO, CORRUPT, INTERNAL, PANIC.
///
/// # Safety
/// `name`, `dependency_token`, `correlation_id` and `name_prefix` are NULL or
/// NUL-terminated; `out_list` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_query(
    queue: *const asyncop_queue,
    state: i32,
    status: i32,
    operation_type: i32,
    name: *const c_char,
    dependency_token: *const c_char,
    correlation_id: *const c_char,
    name_prefix: *const c_char,
    completed_before: i64,
    after_id: i64,
    limit: i64,
    offset: i64,
    out_list: *mut *mut asyncop_operation_list,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_list` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_list, "out_list") }?;
        let q = handles::get(queue)?;
        let invalid = |m: String| Failure::new(asyncop_status::ASYNCOP_ERR_INVALID_ARG, m);
        let filter = Filter {
            state: opt_code(state, "state code", State::from_code)?,
            status: opt_code(status, "status code", Status::from_code)?,
            // Any other value goes to the core, which refuses one <= 0.
            operation_type: (operation_type != ASYNCOP_ANY).then_some(operation_type),
            // SAFETY: `name` is NULL or NUL-terminated (see `# Safety`).
            name: unsafe { opt_str_arg(name, "name") }?.map(str::to_owned),
            // SAFETY: `dependency_token` is NULL or NUL-terminated (see `# Safety`).
            dependency_token: unsafe { opt_str_arg(dependency_token, "dependency_token") }?
                .map(str::to_owned),
            // SAFETY: `correlation_id` is NULL or NUL-terminated (see `# Safety`).
            correlation_id: unsafe { opt_str_arg(correlation_id, "correlation_id") }?
                .map(str::to_owned),
            // SAFETY: `name_prefix` is NULL or NUL-terminated (see `# Safety`).
            name_prefix: unsafe { opt_str_arg(name_prefix, "name_prefix") }?.map(str::to_owned),
            completed_before: opt_time_arg(completed_before),
            after_id: (after_id != 0).then_some(after_id),
            limit: match limit {
                -1 => None,
                l => Some(u32::try_from(l).map_err(|_| {
                    invalid(format!("limit must be -1 or 0..=4294967295, got {l}"))
                })?),
            },
            offset: match offset {
                0 => None,
                o => Some(
                    u32::try_from(o)
                        .map_err(|_| invalid(format!("offset must be 0..=4294967295, got {o}")))?,
                ),
            },
        };
        let ops = q.queue.query(&filter)?;
        *out = handles::insert(asyncop_operation_list {
            queue: q.queue.clone(),
            ops,
        });
        Ok(())
    })
}

/// Counts operations per (state, status, operation_type), non-empty groups
/// only, sorted by those keys. `*out_counts` is a handle (free with
/// `asyncop_counts_free`). Threads: any.
/// Errors: NULL_ARG, *_HANDLE, FORKED, IO, CORRUPT (a damaged stored row), INTERNAL, PANIC.
///
/// # Safety
/// `queue` is NULL or a queue handle; `out_counts` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_counts(
    queue: *const asyncop_queue,
    out_counts: *mut *mut asyncop_counts,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_counts` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_counts, "out_counts") }?;
        let q = handles::get(queue)?;
        let rows = q.queue.counts()?;
        *out = handles::insert(asyncop_counts {
            queue: q.queue.clone(),
            rows,
        });
        Ok(())
    })
}
