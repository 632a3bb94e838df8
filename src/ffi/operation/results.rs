//! The results of `asyncop_queue_query` and `asyncop_queue_counts`: operation
//! lists and counts, read by index.

use super::asyncop_operation;
use crate::ffi::handles::{self, HandleType, QueueBound};
use crate::ffi::panic::ffi_boundary;
use crate::ffi::status::{Failure, asyncop_status};
use crate::ffi::strings::out_param;
use crate::operation::{CountRow, Operation};
use crate::queue::Queue;

/// The result of `asyncop_queue_query`: operations in ascending id. Free with
/// `asyncop_operation_list_free`. Threads: any, concurrent OK.
///
/// Functions: asyncop_operation_list_count, asyncop_operation_list_get,
/// asyncop_operation_list_free.
pub struct asyncop_operation_list {
    pub(crate) queue: Queue,
    pub(crate) ops: Vec<Operation>,
}

impl HandleType for asyncop_operation_list {
    const TAG: u8 = 5;
    const NAME: &'static str = "asyncop_operation_list";
}

impl QueueBound for asyncop_operation_list {
    const WHAT: &'static str = "list";
    fn queue(&self) -> &Queue {
        &self.queue
    }
}

/// The result of `asyncop_queue_counts`: (state, status, operation_type, count)
/// rows. Free with `asyncop_counts_free`. Threads: any, concurrent OK.
///
/// Functions: asyncop_counts_count, asyncop_counts_get, asyncop_counts_held,
/// asyncop_counts_free.
pub struct asyncop_counts {
    pub(crate) queue: Queue,
    pub(crate) rows: Vec<CountRow>,
}

impl HandleType for asyncop_counts {
    const TAG: u8 = 6;
    const NAME: &'static str = "asyncop_counts";
}

impl QueueBound for asyncop_counts {
    const WHAT: &'static str = "counts";
    fn queue(&self) -> &Queue {
        &self.queue
    }
}

/// `index` if it is below `len`, else OUT_OF_RANGE.
fn index_arg(index: usize, len: usize) -> Result<usize, Failure> {
    if index < len {
        Ok(index)
    } else {
        Err(Failure::new(
            asyncop_status::ASYNCOP_ERR_OUT_OF_RANGE,
            format!("index {index} is out of range (the list has {len} items)"),
        ))
    }
}

/// The number of operations in the list. Threads: any.
/// Errors: NULL_ARG, *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `list` is NULL or a list handle; `out_count` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_list_count(
    list: *const asyncop_operation_list,
    out_count: *mut usize,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_count` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_count, "out_count") }?;
        let l = handles::get_open(list)?;
        *out = l.ops.len();
        Ok(())
    })
}

/// Item `index` (0-based) of the list as a new snapshot handle, freed with
/// `asyncop_operation_free` (independently of the list). Threads: any.
/// Errors: NULL_ARG, OUT_OF_RANGE (index >= count), *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `list` is NULL or a list handle; `out_operation` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_list_get(
    list: *const asyncop_operation_list,
    index: usize,
    out_operation: *mut *mut asyncop_operation,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_operation` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_operation, "out_operation") }?;
        let l = handles::get_open(list)?;
        let op = l.ops[index_arg(index, l.ops.len())?].clone();
        *out = handles::insert(asyncop_operation {
            queue: l.queue.clone(),
            op,
        });
        Ok(())
    })
}

/// Frees a list (not the snapshots taken from it). NULL is a no-op; a second
/// free gives CLOSED_HANDLE. Threads: any.
///
/// # Safety
/// `list` is NULL or a list handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_operation_list_free(
    list: *mut asyncop_operation_list,
) -> asyncop_status {
    ffi_boundary!({
        handles::remove(list)?;
        Ok(())
    })
}

/// The number of (state, status, operation_type) groups. Threads: any.
/// Errors: NULL_ARG, *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `counts` is NULL or a counts handle; `out_count` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_counts_count(
    counts: *const asyncop_counts,
    out_count: *mut usize,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_count` is NULL or writable (see `# Safety`).
        let out = unsafe { out_param(out_count, "out_count") }?;
        let c = handles::get_open(counts)?;
        *out = c.rows.len();
        Ok(())
    })
}

/// Row `index` (0-based): its state, status, operation type and number of operations.
/// Threads: any. Errors: NULL_ARG, OUT_OF_RANGE (index >= count), *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `counts` is NULL or a counts handle; the out-pointers are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_counts_get(
    counts: *const asyncop_counts,
    index: usize,
    out_state: *mut i32,
    out_status: *mut i32,
    out_operation_type: *mut i32,
    out_count: *mut i64,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_state` is NULL or writable (see `# Safety`).
        let state = unsafe { out_param(out_state, "out_state") }?;
        // SAFETY: `out_status` is NULL or writable (see `# Safety`).
        let status = unsafe { out_param(out_status, "out_status") }?;
        // SAFETY: `out_operation_type` is NULL or writable (see `# Safety`).
        let operation_type = unsafe { out_param(out_operation_type, "out_operation_type") }?;
        // SAFETY: `out_count` is NULL or writable (see `# Safety`).
        let count = unsafe { out_param(out_count, "out_count") }?;
        let c = handles::get_open(counts)?;
        let row = c.rows[index_arg(index, c.rows.len())?];
        *state = i32::from(row.state.code());
        *status = i32::from(row.status.code());
        *operation_type = row.operation_type;
        *count = row.count;
        Ok(())
    })
}

/// Whether row `index`'s operation type is held (asyncop_queue_hold_type):
/// `*out_held` 1 or 0. Threads: any.
/// Errors: NULL_ARG, OUT_OF_RANGE (index >= count), *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `counts` is NULL or a counts handle; `out_held` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_counts_held(
    counts: *const asyncop_counts,
    index: usize,
    out_held: *mut i32,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_held` is NULL or writable (see `# Safety`).
        let held = unsafe { out_param(out_held, "out_held") }?;
        let c = handles::get_open(counts)?;
        *held = i32::from(c.rows[index_arg(index, c.rows.len())?].held);
        Ok(())
    })
}

/// Frees a counts handle. NULL is a no-op; a second free gives CLOSED_HANDLE. Threads: any.
///
/// # Safety
/// `counts` is NULL or a counts handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_counts_free(counts: *mut asyncop_counts) -> asyncop_status {
    ffi_boundary!({
        handles::remove(counts)?;
        Ok(())
    })
}
