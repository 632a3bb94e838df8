//! All of a lease's fields in one call: the per-lease read of a binding's hot
//! path (a poll or complete_and_poll hands out leases whose ten getters would
//! otherwise cost ten calls each).

use super::asyncop_lease;
use crate::ffi::handles::with_handle;
use crate::ffi::panic::ffi_boundary;
use crate::ffi::status::{Failure, asyncop_status};
use crate::ffi::strings::out_param;
use crate::lease::Lease;
use std::ffi::c_char;
use std::ptr::null;

/// The fields of one lease, filled by asyncop_lease_read. The integers are the
/// values of the single getters (asyncop_lease_id, ...). Each text and the
/// payload is a pointer INTO THE CALLER'S BUFFER given to asyncop_lease_read
/// plus its length in bytes; texts are also NUL-terminated there. The pointers
/// stay valid while that buffer does (not the lease handle: nothing here
/// points into the library). An absent dependency token or correlation id is
/// a NULL pointer with length 0.
///
/// The bytes are laid out in this order, one after another: the name and its
/// NUL, the payload (no NUL), the host id and its NUL, then the dependency
/// token and its NUL and the correlation id and its NUL (each only if
/// present). So the name starts at the buffer's first byte, and a binding may
/// compute offsets either from the pointers or from the lengths.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct asyncop_lease_fields {
    /// The claimed operation's id (asyncop_lease_id).
    pub id: i64,
    /// The fencing token of this claim (asyncop_lease_lock_token).
    pub lock_token: i64,
    /// When the lease ended at claim time, UTC ms (asyncop_lease_expires_at).
    pub expires_at: i64,
    /// The operation type (asyncop_lease_operation_type).
    pub operation_type: i32,
    /// The attempt number, 1 for the first run (asyncop_lease_attempt).
    pub attempt: i32,
    /// The operation's name (UTF-8, NUL-terminated in the buffer).
    pub name: *const c_char,
    /// The name's length in bytes, without the NUL.
    pub name_len: usize,
    /// The payload (no NUL); never NULL, even when `data_len` is 0.
    pub data: *const u8,
    /// The payload's length in bytes.
    pub data_len: usize,
    /// The host id that claimed it (UTF-8, NUL-terminated in the buffer).
    pub host_id: *const c_char,
    /// The host id's length in bytes, without the NUL.
    pub host_id_len: usize,
    /// The dependency token, or NULL when the operation has none.
    pub dependency_token: *const c_char,
    /// The dependency token's length in bytes, without the NUL (0 when NULL).
    pub dependency_token_len: usize,
    /// The correlation id, or NULL when the operation has none.
    pub correlation_id: *const c_char,
    /// The correlation id's length in bytes, without the NUL (0 when NULL).
    pub correlation_id_len: usize,
}

/// The bytes `lease`'s texts and payload take in the caller's buffer, NULs included.
fn bytes_needed(lease: &Lease) -> usize {
    let opt = |t: &Option<String>| t.as_ref().map_or(0, |t| t.len() + 1);
    lease.name.len()
        + 1
        + lease.data.len()
        + lease.host_id.len()
        + 1
        + opt(&lease.dependency_token)
        + opt(&lease.correlation_id)
}

/// Reads all of a lease's fields in one call: the integers into `*out_fields`,
/// the texts and the payload copied into the caller's `(buf, cap)` in the
/// order that asyncop_lease_fields describes, with `*out_fields`' pointers
/// pointing into `buf`. `*out_len` is the number of bytes written to `buf`.
///
/// Ownership: the library keeps nothing of `buf` or `*out_fields` after the
/// call; the pointers in `*out_fields` are valid while `buf` is (freeing the
/// lease does not invalidate them). Threads: any; calls on one lease may run
/// concurrently, each with its own buffer.
///
/// Sizes: if `cap` is smaller than the bytes needed (or the size query
/// `(NULL, 0)`), nothing is written but `*out_len` = the bytes needed, NULs
/// included, and the call gives BUFFER_TOO_SMALL; call again with a buffer of
/// that size. A lease's bytes never change, so that second call fits.
///
/// Errors: NULL_ARG (`out_fields` or `out_len` NULL, or `buf` NULL with
/// `cap` > 0), BUFFER_TOO_SMALL, *_HANDLE, FORKED, PANIC.
///
/// # Safety
/// `lease` is NULL or a lease handle; `buf` is NULL or has `cap` writable
/// bytes; `out_fields` and `out_len` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asyncop_lease_read(
    lease: *const asyncop_lease,
    buf: *mut u8,
    cap: usize,
    out_fields: *mut asyncop_lease_fields,
    out_len: *mut usize,
) -> asyncop_status {
    ffi_boundary!({
        // SAFETY: `out_fields` is NULL or writable (see `# Safety`).
        let fields = unsafe { out_param(out_fields, "out_fields") }?;
        // SAFETY: `out_len` is NULL or writable (see `# Safety`).
        let len = unsafe { out_param(out_len, "out_len") }?;
        if buf.is_null() && cap > 0 {
            return Err(Failure::null_arg("buf (with cap > 0)"));
        }
        with_handle(lease, |h| {
            let lease = &h.lease;
            let needed = bytes_needed(lease);
            if cap < needed {
                *len = needed;
                return Err(Failure::new(
                    asyncop_status::ASYNCOP_ERR_BUFFER_TOO_SMALL,
                    format!("buffer of {cap} bytes is too small: {needed} needed"),
                ));
            }
            // SAFETY: `buf` has `cap >= needed` writable bytes (see `# Safety`),
            // and every write below stays within the first `needed`.
            let mut out = unsafe { Packer::new(buf) };
            let name = out.push(lease.name.as_bytes(), true);
            let data = out.push(&lease.data, false);
            let host_id = out.push(lease.host_id.as_bytes(), true);
            let dependency_token = lease
                .dependency_token
                .as_ref()
                .map(|t| out.push(t.as_bytes(), true));
            let correlation_id = lease
                .correlation_id
                .as_ref()
                .map(|t| out.push(t.as_bytes(), true));
            let text = |p: *const u8| p.cast::<c_char>();
            let opt = |v: Option<(*const u8, usize)>| v.map_or((null(), 0), |(p, n)| (text(p), n));
            let (dependency_token, dependency_token_len) = opt(dependency_token);
            let (correlation_id, correlation_id_len) = opt(correlation_id);
            *fields = asyncop_lease_fields {
                id: lease.id,
                lock_token: lease.lock_token,
                expires_at: lease.expires_at,
                operation_type: lease.operation_type,
                attempt: lease.attempt,
                name: text(name.0),
                name_len: name.1,
                data: data.0,
                data_len: data.1,
                host_id: text(host_id.0),
                host_id_len: host_id.1,
                dependency_token,
                dependency_token_len,
                correlation_id,
                correlation_id_len,
            };
            *len = out.written;
            Ok(())
        })
    })
}

/// Appends values one after another to a caller buffer known to be big enough.
struct Packer {
    buf: *mut u8,
    written: usize,
}

impl Packer {
    /// # Safety
    /// `buf` has room for every value pushed (and their NULs).
    unsafe fn new(buf: *mut u8) -> Packer {
        Packer { buf, written: 0 }
    }

    /// Copies `bytes` (plus a NUL when `text`); returns where they start and their length.
    fn push(&mut self, bytes: &[u8], text: bool) -> (*const u8, usize) {
        // SAFETY: `new`'s contract: the buffer has room for this value; it is the
        // caller's memory, so it cannot overlap the lease's.
        unsafe {
            let start = self.buf.add(self.written);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), start, bytes.len());
            if text {
                *start.add(bytes.len()) = 0;
            }
            self.written += bytes.len() + usize::from(text);
            (start.cast_const(), bytes.len())
        }
    }
}
