//! The queue's event callback and metrics (issue 14 §3): a C function called
//! on every state change, and the library's counters in the Prometheus text
//! format. The callback is a `crate::metrics` hook that converts the event to
//! scalars.

use super::asyncop_queue;
use crate::ffi::handles;
use crate::ffi::panic::ffi_boundary;
use crate::ffi::status::asyncop_status;
use crate::ffi::strings::{opt_str_arg, write_text};
use crate::metrics::Event;
use std::ffi::{CString, c_char, c_void};

/// An event callback (asyncop_queue_set_event_callback). Arguments:
/// `user_data` as registered; `kind` an ASYNCOP_EVENT_* code; `id` the
/// operation (0 for a batch event); `operation_type` (0 for a batch);
/// `from_status` and `to_status` the status codes before and after (the state
/// is status / 10), -1 when there is none (a submit has no `from`, a delete,
/// purge or recovery no `to`); `host` the host's id or NULL, valid only during
/// the call; `at` the time of the change (UTC ms); `count` 1, or a batch's size.
pub type asyncop_event_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        kind: i32,
        id: i64,
        operation_type: i32,
        from_status: i32,
        to_status: i32,
        host: *const c_char,
        at: i64,
        count: i64,
    ),
>;

/// An event kind: an operation was submitted.
pub const ASYNCOP_EVENT_SUBMITTED: i32 = 0;
/// An event kind: a host claimed an operation.
pub const ASYNCOP_EVENT_CLAIMED: i32 = 1;
/// An event kind: a host reported an outcome.
pub const ASYNCOP_EVENT_OUTCOME: i32 = 2;
/// An event kind: a user action changed (or deleted) an operation.
pub const ASYNCOP_EVENT_USER_ACTION: i32 = 3;
/// An event kind: maintenance recovered `count` expired leases (id 0).
pub const ASYNCOP_EVENT_RECOVERED: i32 = 4;
/// An event kind: a purge deleted `count` Completed operations (id 0).
pub const ASYNCOP_EVENT_PURGED: i32 = 5;

/// The registered C function and its pointer.
struct CallbackTarget {
    callback: unsafe extern "C" fn(*mut c_void, i32, i64, i32, i32, i32, *const c_char, i64, i64),
    user_data: *mut c_void,
}

// SAFETY: the caller of asyncop_queue_set_event_callback promises that the
// callback may be called from any thread with this `user_data` (see its docs).
unsafe impl Send for CallbackTarget {}
// SAFETY: as above; the target is only read.
unsafe impl Sync for CallbackTarget {}

impl CallbackTarget {
    fn call(&self, e: &Event) {
        let status =
            |p: Option<(crate::State, crate::Status)>| p.map_or(-1, |(_, s)| i32::from(s.code()));
        // A host id holds no NUL (checked at claim); if it did, pass NULL.
        let host = e.host.as_deref().and_then(|h| CString::new(h).ok());
        let count = i64::try_from(e.count).unwrap_or(i64::MAX);
        // SAFETY: the registrant promised the function is callable with these
        // arguments from any thread until it is replaced or the queue closed.
        unsafe {
            (self.callback)(
                self.user_data,
                e.kind.code(),
                e.id,
                e.operation_type,
                status(e.from),
                status(e.to),
                host.as_ref().map_or(std::ptr::null(), |h| h.as_ptr()),
                e.at,
                count,
            );
        }
    }
}

/// Sets the queue's event callback, replacing the previous one (NULL
/// `callback`: none). It is called once per change made through this queue
/// handle (submit, claim, host outcome, user action, recovery, purge), with
/// `user_data` passed back as is.
///
/// Threads: the callback runs on the thread that made the change, right after
/// it committed and outside every lock of the store, so it may call any
/// asyncop function, this queue's included (a change it makes calls it
/// again, nested). It must be safe to call from any thread, must not unwind
/// (no C++ exception, no longjmp) and should be quick: it delays the call that
/// made the change. After this function returns with another callback (or
/// NULL), a call already running on another thread may still finish calling
/// the old one; keep `user_data` alive until the queue is closed.
/// Errors: NULL_ARG, *_HANDLE, PANIC.
///
/// # Safety
/// `queue` is NULL or a queue handle; `callback` is NULL or a function
/// callable as above with `user_data` from any thread until replaced or the
/// queue is closed.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_set_event_callback(
    queue: *const asyncop_queue,
    callback: asyncop_event_fn,
    user_data: *mut c_void,
) -> asyncop_status {
    ffi_boundary!({
        let q = handles::get(queue)?;
        let mut slot = q.event_hook.lock();
        if let Some(old) = slot.take() {
            q.queue.remove_event_hook(old);
        }
        if let Some(callback) = callback {
            let target = CallbackTarget {
                callback,
                user_data,
            };
            *slot = Some(q.queue.on_event(Box::new(move |e| target.call(e))));
        }
        Ok(())
    })
}

/// Writes the queue's counters and latency histograms (process-local, since
/// it was opened) in the Prometheus text format to `(buf, cap, *out_len)`
/// (UTF-8, NUL-terminated; see the README's "Metrics and events" for the
/// names). `labels` (NULL or "": none) is added to every series, e.g.
/// `queue="jobs"`, as given. As every text result: `(NULL, 0)` asks the size
/// and returns BUFFER_TOO_SMALL; the text may grow between two calls, so ask
/// again on BUFFER_TOO_SMALL. Threads: any.
/// Errors: NULL_ARG, UTF8, BUFFER_TOO_SMALL, *_HANDLE, PANIC.
///
/// # Safety
/// `queue` is NULL or a queue handle; `labels` is NULL or a NUL-terminated
/// string; `buf` is NULL or has `cap` writable bytes; `out_len` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_queue_metrics_prometheus(
    queue: *const asyncop_queue,
    labels: *const c_char,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `labels` is NULL or NUL-terminated (see `# Safety`).
        let labels = unsafe { opt_str_arg(labels, "labels") }?.unwrap_or("");
        let q = handles::get(queue)?;
        let text = q.queue.metrics().to_prometheus(labels);
        // SAFETY: `buf`/`cap`/`out_len` as `# Safety` states.
        unsafe { write_text(&text, buf, cap, out_len) }
    })
}
