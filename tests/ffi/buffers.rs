//! The `(buf, cap, *out_len)` convention for strings and payloads.

use super::*;

/// Binary data with NULs in it and a byte that is not UTF-8.
const PAYLOAD: &[u8] = &[0, 1, 2, 0, 0xFF, b'x'];

/// A name that is not UTF-8.
const BAD_UTF8: &CStr = c"bad \xFF\xFE name";

/// A queue holding two operations: `full` (name "héllo", `PAYLOAD`, dependency
/// token "token", no correlation id), retrieved as `op`, and `empty_id` (empty
/// name, `(NULL, 0)` as its data). Also used by `optional_values`.
pub(super) struct Submitted {
    _dir: TempDir,
    pub(super) q: *mut asyncop_queue,
    pub(super) full: i64,
    pub(super) empty_id: i64,
    pub(super) op: *mut asyncop_operation,
}

pub(super) fn two_operations(test: &str) -> Submitted {
    let dir = TempDir::new(test);
    let q = open_queue(&dir.file("queue.db"));
    let mut full = 0;
    check(
        unsafe {
            asyncop_queue_submit(
                q,
                c"héllo".as_ptr(),
                TYPE,
                PAYLOAD.as_ptr(),
                PAYLOAD.len(),
                c"token".as_ptr(),
                ASYNCOP_TIME_NONE,
                null(),
                &mut full,
            )
        },
        ASYNCOP_OK,
    );
    // NULL data with a length of 0 is an empty payload.
    let mut empty_id = 0;
    check(submit_rc(q, c"", TYPE, &mut empty_id), ASYNCOP_OK);
    let op = retrieve(q, full);
    Submitted {
        _dir: dir,
        q,
        full,
        empty_id,
        op,
    }
}

impl Submitted {
    pub(super) fn close(self) {
        check(unsafe { asyncop_operation_free(self.op) }, ASYNCOP_OK);
        check(unsafe { asyncop_queue_close(self.q) }, ASYNCOP_OK);
    }
}

#[test]
fn payloads_in_null_data_with_a_length_is_refused() {
    let s = two_operations("ffi-buffers-payload-in");
    let mut id = -3;
    let msg = check(
        unsafe {
            asyncop_queue_submit(
                s.q,
                c"n".as_ptr(),
                TYPE,
                null(),
                3,
                null(),
                ASYNCOP_TIME_NONE,
                null(),
                &mut id,
            )
        },
        ASYNCOP_ERR_NULL_ARG,
    );
    assert!(msg.contains("data"), "{msg:?}");
    assert_eq!(id, -3, "out_id written on failure");
    assert_eq!(
        all_ids(s.q),
        vec![s.full, s.empty_id],
        "a refused submit wrote"
    );
    s.close();
}

#[test]
fn strings_in_invalid_utf8_and_null_are_refused() {
    let s = two_operations("ffi-buffers-strings-in");
    let (q, bad, mut id) = (s.q, BAD_UTF8, -3);
    let msg = check(submit_rc(q, bad, TYPE, &mut id), ASYNCOP_ERR_UTF8);
    assert!(msg.contains("name") && msg.contains("UTF-8"), "{msg:?}");
    check(
        unsafe {
            asyncop_queue_submit(
                q,
                c"ok".as_ptr(),
                TYPE,
                null(),
                0,
                null(),
                ASYNCOP_TIME_NONE,
                bad.as_ptr(),
                &mut id,
            )
        },
        ASYNCOP_ERR_UTF8,
    );
    check(
        unsafe {
            asyncop_queue_submit(
                q,
                null(),
                TYPE,
                null(),
                0,
                null(),
                ASYNCOP_TIME_NONE,
                null(),
                &mut id,
            )
        },
        ASYNCOP_ERR_NULL_ARG,
    );
    let mut q_bad = null_mut();
    check(
        unsafe { asyncop_queue_open(bad.as_ptr(), null(), &mut q_bad) },
        ASYNCOP_ERR_UTF8,
    );
    check(
        unsafe { asyncop_queue_open(null(), null(), &mut q_bad) },
        ASYNCOP_ERR_NULL_ARG,
    );
    assert!(q_bad.is_null());
    let mut spec = null_mut();
    check(
        unsafe { asyncop_spec_new(bad.as_ptr(), TYPE, &mut spec) },
        ASYNCOP_ERR_UTF8,
    );
    assert!(spec.is_null());
    assert_eq!(
        all_ids(q),
        vec![s.full, s.empty_id],
        "a refused submit wrote"
    );
    s.close();
}

/// Text out: a size query, a too small buffer, an exact fit, NULL arguments.
#[test]
fn text_out_is_nul_terminated_and_needs_room_for_the_nul() {
    let s = two_operations("ffi-buffers-text-out");
    let op = s.op;
    let name = "héllo".as_bytes(); // 6 bytes
    // Size query.
    let mut len = 99;
    check(
        unsafe { asyncop_operation_name(op, null_mut(), 0, &mut len) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert_eq!(len, name.len());
    // Too small (no room for the NUL): buffer untouched, out_len = needed.
    let mut buf = [0xAAu8; 16];
    len = 99;
    let msg = check(
        unsafe { asyncop_operation_name(op, buf.as_mut_ptr().cast(), name.len(), &mut len) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert!(msg.contains(&(name.len() + 1).to_string()), "{msg:?}");
    assert_eq!(len, name.len());
    assert_eq!(buf, [0xAA; 16], "a too small buffer was written");
    // Exact fit: text + NUL; the rest untouched.
    len = 99;
    check(
        unsafe { asyncop_operation_name(op, buf.as_mut_ptr().cast(), name.len() + 1, &mut len) },
        ASYNCOP_OK,
    );
    assert_eq!(len, name.len());
    assert_eq!(&buf[..name.len()], name);
    assert_eq!(buf[name.len()], 0);
    assert!(buf[name.len() + 1..].iter().all(|&b| b == 0xAA));
    // NULL out_len; NULL buf with a capacity.
    check(
        unsafe { asyncop_operation_name(op, buf.as_mut_ptr().cast(), buf.len(), null_mut()) },
        ASYNCOP_ERR_NULL_ARG,
    );
    len = 99;
    check(
        unsafe { asyncop_operation_name(op, null_mut(), 8, &mut len) },
        ASYNCOP_ERR_NULL_ARG,
    );
    assert_eq!(len, 99, "out_len written on NULL_ARG");
    s.close();
}

#[test]
fn bytes_out_are_binary_safe_and_get_no_nul() {
    let s = two_operations("ffi-buffers-bytes-out");
    let op = s.op;
    let mut len = 99;
    check(
        unsafe { asyncop_operation_data(op, null_mut(), 0, &mut len) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert_eq!(len, PAYLOAD.len());
    let mut data = [0xAAu8; 16];
    check(
        unsafe { asyncop_operation_data(op, data.as_mut_ptr(), PAYLOAD.len() - 1, &mut len) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert_eq!(len, PAYLOAD.len());
    assert_eq!(data, [0xAA; 16]);
    check(
        unsafe { asyncop_operation_data(op, data.as_mut_ptr(), PAYLOAD.len(), &mut len) },
        ASYNCOP_OK,
    );
    assert_eq!(len, PAYLOAD.len());
    assert_eq!(&data[..PAYLOAD.len()], PAYLOAD);
    assert!(data[PAYLOAD.len()..].iter().all(|&b| b == 0xAA));
    s.close();
}

/// An empty payload and an empty name: (NULL, 0) is enough for the data.
#[test]
fn an_empty_payload_needs_no_buffer_but_an_empty_name_needs_its_nul() {
    let s = two_operations("ffi-buffers-empty");
    let empty = retrieve(s.q, s.empty_id);
    let mut len = 99;
    check(
        unsafe { asyncop_operation_data(empty, null_mut(), 0, &mut len) },
        ASYNCOP_OK,
    );
    assert_eq!(len, 0);
    len = 99;
    check(
        unsafe { asyncop_operation_name(empty, null_mut(), 0, &mut len) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert_eq!(len, 0, "an empty name still needs its NUL");
    let mut buf = [0xAAu8; 16];
    check(
        unsafe { asyncop_operation_name(empty, buf.as_mut_ptr().cast(), 1, &mut len) },
        ASYNCOP_OK,
    );
    assert_eq!((len, buf[0], buf[1]), (0, 0, 0xAA));
    check(unsafe { asyncop_operation_free(empty) }, ASYNCOP_OK);
    s.close();
}

#[test]
fn a_lease_follows_the_same_convention() {
    let s = two_operations("ffi-buffers-lease");
    let lease = poll_one(s.q);
    let (mut buf, mut data, mut len, mut present) = ([0xAAu8; 16], [0xAAu8; 16], 99, -1);
    check(
        unsafe { asyncop_lease_data(lease, null_mut(), 0, &mut len) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert_eq!(len, PAYLOAD.len());
    check(
        unsafe { asyncop_lease_data(lease, data.as_mut_ptr(), data.len(), &mut len) },
        ASYNCOP_OK,
    );
    assert_eq!(&data[..len], PAYLOAD);
    check(
        unsafe { asyncop_lease_host_id(lease, buf.as_mut_ptr().cast(), buf.len(), &mut len) },
        ASYNCOP_OK,
    );
    assert_eq!(&buf[..len + 1], b"ffi-test-host\0");
    check(
        unsafe {
            asyncop_lease_correlation_id(
                lease,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
                &mut present,
            )
        },
        ASYNCOP_OK,
    );
    assert_eq!(present, 0);
    check(unsafe { asyncop_lease_free(lease) }, ASYNCOP_OK);
    s.close();
}

/// Specs: set_data with NULL and a length, and with (NULL, 0); submit_many:
/// NULL array with a count, and a count of 0.
#[test]
fn specs_and_submit_many_refuse_null_with_a_length() {
    let s = two_operations("ffi-buffers-specs");
    let q = s.q;
    let mut spec = null_mut();
    check(
        unsafe { asyncop_spec_new(c"spec".as_ptr(), TYPE, &mut spec) },
        ASYNCOP_OK,
    );
    check(
        unsafe { asyncop_spec_set_data(spec, null(), 1) },
        ASYNCOP_ERR_NULL_ARG,
    );
    check(
        unsafe { asyncop_spec_set_data(spec, null(), 0) },
        ASYNCOP_OK,
    );
    check(
        unsafe { asyncop_spec_set_correlation_id(spec, BAD_UTF8.as_ptr()) },
        ASYNCOP_ERR_UTF8,
    );
    let mut ids = [0i64; 1];
    check(
        unsafe { asyncop_queue_submit_many(q, null(), 1, ids.as_mut_ptr()) },
        ASYNCOP_ERR_NULL_ARG,
    );
    check(
        unsafe { asyncop_queue_submit_many(q, null(), 0, null_mut()) },
        ASYNCOP_OK,
    );
    let specs = [spec.cast_const()];
    check(
        unsafe { asyncop_queue_submit_many(q, specs.as_ptr(), 1, null_mut()) },
        ASYNCOP_ERR_NULL_ARG,
    );
    check(
        unsafe { asyncop_queue_submit_many(q, specs.as_ptr(), 1, ids.as_mut_ptr()) },
        ASYNCOP_OK,
    );
    assert!(ids[0] > s.empty_id);
    check(unsafe { asyncop_spec_free(spec) }, ASYNCOP_OK);
    s.close();
}
