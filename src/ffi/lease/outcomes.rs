//! The outcomes that end a lease (complete, fail, retry, suspend,
//! acknowledge_pause, acknowledge_cancel, the general report) and
//! complete_many, which completes a batch in one transaction.

use super::asyncop_lease;
use crate::ffi::ASYNCOP_TIME_NONE;
use crate::ffi::handles::{self, with_handle};
use crate::ffi::panic::ffi_boundary;
use crate::ffi::status::{Failure, asyncop_status};
use crate::ffi::strings::{opt_str_arg, opt_time_arg, out_param, slice_arg};
use crate::lease::{LeaseKey, Report};
use crate::queue::Queue;
use crate::transition::{Outcome, Status};
use std::ffi::c_char;

/// Runs one host outcome and writes the operation's new status.
///
/// # Safety
/// `out_status` is NULL or writable.
unsafe fn finish(
    lease: *const asyncop_lease,
    out_status: *mut i32,
    outcome: Outcome,
    report: Report,
) -> Result<(), Failure> {
    // SAFETY: `out_status` is NULL or writable, per this function's contract.
    let out = unsafe { out_param(out_status, "out_status") }?;
    with_handle(lease, |h| {
        let result = h.queue.report(h.lease.key(), outcome, report);
        if matches!(result, Ok(_) | Err(crate::Error::LeaseLost { .. })) {
            super::stop::end_stop(h);
        }
        let status: Status = result?;
        *out = i32::from(status.code());
        Ok(())
    })
}

/// A report's texts and code; `error_code` 0 means none.
///
/// # Safety
/// The strings are NULL or NUL-terminated.
unsafe fn report_args(
    error_code: i32,
    message: *const c_char,
    friendly_message: *const c_char,
    retry_at: i64,
) -> Result<Report, Failure> {
    Ok(Report {
        error_code: (error_code != 0).then_some(error_code),
        // SAFETY: `message` is NULL or NUL-terminated (see `# Safety`).
        message: unsafe { opt_str_arg(message, "message") }?.map(str::to_owned),
        // SAFETY: `friendly_message` is NULL or NUL-terminated (see `# Safety`).
        friendly_message: unsafe { opt_str_arg(friendly_message, "friendly_message") }?
            .map(str::to_owned),
        retry_at: opt_time_arg(retry_at),
        detail: None,
    })
}

/// The work finished: Completed/Succeeded (3/30) and the new status in
/// `*out_status`. Threads: any. Errors: LEASE_LOST, NULL_ARG, *_HANDLE, FORKED,
/// BUSY, IO, INTERNAL, PANIC.
///
/// # Safety
/// `lease` is NULL or a lease handle; `out_status` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_complete(
    lease: *const asyncop_lease,
    out_status: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_status` is NULL or writable (see `# Safety`).
        unsafe { finish(lease, out_status, Outcome::Succeeded, Report::default()) }
    })
}

/// The caller's `out_results` array of `asyncop_lease_complete_many`, or none.
/// Written through the raw pointer, never read: its old content may be any
/// `int32_t`, which is no valid `asyncop_status` to hold a reference to.
pub(crate) struct BatchResults {
    ptr: *mut asyncop_status,
    len: usize,
}

impl BatchResults {
    /// The results of a batch of `len` leases; INVALID_ARG when no array of
    /// `len` lease pointers could exist (so neither could `len` results).
    ///
    /// # Safety
    /// `ptr` is NULL or has `len` writable `asyncop_status` slots for this call.
    pub(crate) unsafe fn new(
        ptr: *mut asyncop_status,
        len: usize,
    ) -> Result<BatchResults, Failure> {
        if len > isize::MAX as usize / std::mem::size_of::<*const asyncop_lease>() {
            return Err(Failure::new(
                asyncop_status::ASYNCOP_ERR_INVALID_ARG,
                format!("count {len} is too large"),
            ));
        }
        Ok(BatchResults { ptr, len })
    }

    pub(crate) fn set(&self, i: usize, code: asyncop_status) {
        if !self.ptr.is_null() && i < self.len {
            // SAFETY: `new`'s contract: `len` writable slots.
            unsafe { self.ptr.add(i).write(code) };
        }
    }

    pub(crate) fn fill(&self, code: asyncop_status) {
        (0..self.len).for_each(|i| self.set(i, code));
    }
}

/// Whether two core queues are clones of one open queue (one
/// `asyncop_queue_open`, whose leases hold clones of it); two queues opened
/// separately (even on the same file) are not.
fn same_queue(a: &Queue, b: &Queue) -> bool {
    Queue::same_queue(a, b)
}

/// A failure about `leases[i]`, saying which one and that nothing was written.
fn at_index(i: usize, f: Failure) -> Failure {
    Failure::new(
        f.code,
        format!("leases[{i}]: {}; no lease was completed", f.message),
    )
}

/// Validates every lease handle of a batch (all before any write): each open,
/// and all of one queue handle (`queue`'s, when given, else `leases[0]`'s).
/// The guards keep the handles alive for the call.
pub(crate) fn held_batch(
    leases: &[*const asyncop_lease],
    queue: Option<&Queue>,
) -> Result<Vec<handles::Guard<asyncop_lease>>, Failure> {
    let mut held: Vec<handles::Guard<asyncop_lease>> = Vec::with_capacity(leases.len());
    for (i, &lease) in leases.iter().enumerate() {
        let h = handles::get_open(lease).map_err(|f| at_index(i, f))?;
        let first = queue.or_else(|| held.first().map(|g| &g.queue));
        if let Some(first) = first
            && !same_queue(first, &h.queue)
        {
            let whose = if queue.is_some() {
                "`queue`"
            } else {
                "leases[0]"
            };
            return Err(Failure::new(
                asyncop_status::ASYNCOP_ERR_INVALID_ARG,
                format!(
                    "leases[{i}] belongs to another queue handle than {whose} (one call \
                     completes leases of one queue); no lease was completed"
                ),
            ));
        }
        held.push(h);
    }
    Ok(held)
}

/// Validates every lease handle (all before any write), then completes them
/// in one transaction. `Err`: nothing was written; `Ok`: one result per lease.
fn complete_batch(leases: &[*const asyncop_lease]) -> Result<Vec<Result<(), Failure>>, Failure> {
    let held = held_batch(leases, None)?;
    let Some(first) = held.first() else {
        return Ok(Vec::new());
    };
    let keys: Vec<LeaseKey> = held.iter().map(|h| h.lease.key()).collect();
    let results = first.queue.complete_many(&keys)?;
    for h in &held {
        super::stop::end_stop(h);
    }
    Ok(results
        .into_iter()
        .map(|r| r.map(drop).map_err(Failure::from))
        .collect())
}

/// Completes several leases at once: each as asyncop_lease_complete would
/// (Completed/Succeeded, 3/30), all in one transaction (one commit, one sync),
/// and a lease that was lost leaves the others completed.
///
/// `leases` holds `count` lease handles, all polled from the same queue handle.
/// They stay owned by the caller, who still frees each with asyncop_lease_free.
/// `count` 0 does nothing and returns ASYNCOP_OK (`leases` may then be NULL).
/// A lease listed twice completes once; its second entry gets LEASE_LOST.
///
/// `out_results` is NULL (per-lease codes not wanted) or has `count` slots.
/// Unlike other out-parameters it is written whatever the outcome (except
/// INVALID_ARG for an impossible `count`, and PANIC): entry `i` is the code of
/// `leases[i]`.
/// - ASYNCOP_OK returned: every lease completed; every entry is ASYNCOP_OK.
/// - Some leases could not complete (the others did, and stay completed):
///   returns the code of the first one that failed, usually
///   ASYNCOP_ERR_LEASE_LOST; each entry is ASYNCOP_OK or its lease's code; the
///   last error message reads `2 of 100 leases could not complete; first
///   (index 7): <why>`.
/// - The call failed as a whole: nothing was written and every entry is the
///   returned code. NULL_ARG (`leases` NULL with `count` > 0, or a NULL entry),
///   INVALID_HANDLE, CLOSED_HANDLE (an entry freed, or its queue closed),
///   FORKED, PANIC (an entry poisoned) all name the first bad entry
///   (`leases[3]: ...`); INVALID_ARG (leases of different queue handles, or an
///   impossible `count`); BUSY (retryable), IO, CORRUPT, INTERNAL.
///
/// ASYNCOP_ERR_LEASE_LOST is never a whole-call code. A caller telling the two
/// failure kinds apart can use: whole call = the code is not LEASE_LOST and
/// every entry equals it (that also covers every lease failing alone with the
/// same code, when nothing was completed either).
///
/// A panic inside the call returns PANIC, poisons the listed leases and leaves
/// `out_results` unspecified.
///
/// Threads: any, concurrent OK; a lease completed meanwhile by another call
/// gets LEASE_LOST here.
///
/// # Safety
/// `leases` is NULL or points to `count` readable `asyncop_lease *` values,
/// each NULL or a lease handle; `out_results` is NULL or points to `count`
/// writable `asyncop_status` values.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_complete_many(
    leases: *const *const asyncop_lease,
    count: usize,
    out_results: *mut asyncop_status,
) -> asyncop_status {
    ffi_boundary!({
        if count == 0 {
            return Ok(());
        }
        // SAFETY: the caller's contract: NULL or `count` writable slots.
        let results = unsafe { BatchResults::new(out_results, count) }?;
        // SAFETY: `leases` is NULL or has `count` readable values (see `# Safety`).
        let batch = unsafe { slice_arg(leases, count, "leases") }.and_then(complete_batch);
        let per_lease = match batch {
            Ok(per_lease) => per_lease,
            Err(f) => {
                results.fill(f.code);
                return Err(f);
            }
        };
        let mut first_failure: Option<(usize, &Failure)> = None;
        let mut failed = 0usize;
        for (i, r) in per_lease.iter().enumerate() {
            match r {
                Ok(()) => results.set(i, asyncop_status::ASYNCOP_OK),
                Err(f) => {
                    results.set(i, f.code);
                    failed += 1;
                    first_failure.get_or_insert((i, f));
                }
            }
        }
        match first_failure {
            None => Ok(()),
            Some((i, f)) => Err(Failure::new(
                f.code,
                format!(
                    "{failed} of {count} leases could not complete; first (index {i}): {}",
                    f.message
                ),
            )),
        }
    })
}

/// The work failed for good: Completed/Failed (3/31). `error_code` (0 for none)
/// and `message` (NULL for none; cut at 100,000 characters) are stored.
/// Errors: as asyncop_lease_complete, plus UTF8.
///
/// # Safety
/// As asyncop_lease_complete; `message` is NULL or NUL-terminated.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_fail(
    lease: *const asyncop_lease,
    error_code: i32,
    message: *const c_char,
    out_status: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `message` is NULL or NUL-terminated (see `# Safety`).
        let report =
            unsafe { report_args(error_code, message, std::ptr::null(), ASYNCOP_TIME_NONE) }?;
        // SAFETY: `out_status` is NULL or writable (see `# Safety`).
        unsafe { finish(lease, out_status, Outcome::Failed, report) }
    })
}

/// A retryable failure: Suspended (1/10) until the back-off time (or `retry_at`,
/// UTC ms, never earlier than now; ASYNCOP_TIME_NONE for the back-off), or
/// Completed/Failed when the retry budget is spent. Errors: as asyncop_lease_fail.
///
/// # Safety
/// As asyncop_lease_fail.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_retry(
    lease: *const asyncop_lease,
    error_code: i32,
    message: *const c_char,
    retry_at: i64,
    out_status: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `message` is NULL or NUL-terminated (see `# Safety`).
        let report = unsafe { report_args(error_code, message, std::ptr::null(), retry_at) }?;
        // SAFETY: `out_status` is NULL or writable (see `# Safety`).
        unsafe { finish(lease, out_status, Outcome::Retry, report) }
    })
}

/// A suspend-class failure: Suspended (1/10) with no time set, until a user
/// resumes it. Errors: as asyncop_lease_fail.
///
/// # Safety
/// As asyncop_lease_fail.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_suspend(
    lease: *const asyncop_lease,
    error_code: i32,
    message: *const c_char,
    out_status: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `message` is NULL or NUL-terminated (see `# Safety`).
        let report =
            unsafe { report_args(error_code, message, std::ptr::null(), ASYNCOP_TIME_NONE) }?;
        // SAFETY: `out_status` is NULL or writable (see `# Safety`).
        unsafe { finish(lease, out_status, Outcome::Suspended, report) }
    })
}

/// The host stopped at a safe point after renew reported PAUSING: Suspended
/// (paused, or postponed until the requested time). Errors: as asyncop_lease_complete.
///
/// # Safety
/// As asyncop_lease_complete.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_acknowledge_pause(
    lease: *const asyncop_lease,
    out_status: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_status` is NULL or writable (see `# Safety`).
        unsafe { finish(lease, out_status, Outcome::Suspended, Report::default()) }
    })
}

/// The host stopped at a safe point after renew reported CANCELING:
/// Completed/Canceled (3/32). Errors: as asyncop_lease_complete.
///
/// # Safety
/// As asyncop_lease_complete.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_acknowledge_cancel(
    lease: *const asyncop_lease,
    out_status: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_status` is NULL or writable (see `# Safety`).
        unsafe { finish(lease, out_status, Outcome::Canceled, Report::default()) }
    })
}

/// The general outcome report: `outcome` is an ASYNCOP_OUTCOME_* code (Failed 0,
/// Canceled 1, Retry 2, Suspended 3, Succeeded 4); `error_code` 0 means none;
/// `message` and `friendly_message` may be NULL; `retry_at` is used by Retry
/// (ASYNCOP_TIME_NONE for the back-off). The result depends on the status at the
/// time (a Pausing or Canceling request is honoured). Writes the new status.
/// Errors: as asyncop_lease_fail, plus OUT_OF_RANGE (outcome).
///
/// # Safety
/// As asyncop_lease_fail; `friendly_message` is NULL or NUL-terminated.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_report(
    lease: *const asyncop_lease,
    outcome: i32,
    error_code: i32,
    message: *const c_char,
    friendly_message: *const c_char,
    retry_at: i64,
    out_status: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        let outcome = Outcome::from_code(outcome.into())
            .ok_or_else(|| Failure::out_of_range("outcome code (0..4)", outcome.into()))?;
        // SAFETY: `message` and `friendly_message` are NULL or NUL-terminated (see `# Safety`).
        let report = unsafe { report_args(error_code, message, friendly_message, retry_at) }?;
        // SAFETY: `out_status` is NULL or writable (see `# Safety`).
        unsafe { finish(lease, out_status, outcome, report) }
    })
}
