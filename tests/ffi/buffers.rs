//! The `(buf, cap, *out_len)` convention for strings and payloads.

use super::*;

#[test]
fn buffers_strings_and_payloads() {
    let dir = TempDir::new("ffi-buffers");
    let path = dir.file("queue.db");
    let q = open_queue(&path);
    let payload: &[u8] = &[0, 1, 2, 0, 0xFF, b'x'];
    let mut id = -3;

    // Payloads in: NULL data with len > 0 is refused, NULL with 0 is empty.
    let msg = check(
        unsafe {
            asyncop_queue_submit(
                q,
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
    check(
        unsafe {
            asyncop_queue_submit(
                q,
                c"héllo".as_ptr(),
                TYPE,
                payload.as_ptr(),
                payload.len(),
                c"token".as_ptr(),
                ASYNCOP_TIME_NONE,
                null(),
                &mut id,
            )
        },
        ASYNCOP_OK,
    );
    let full = id;
    let mut empty_id = 0;
    check(submit_rc(q, c"", TYPE, &mut empty_id), ASYNCOP_OK);

    // Strings in: invalid UTF-8 and NULL.
    let bad = b"bad \xFF\xFE name\0";
    let bad = CStr::from_bytes_with_nul(bad).unwrap();
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
    assert_eq!(all_ids(q), vec![full, empty_id], "a refused submit wrote");

    let op = retrieve(q, full);
    let name = "héllo".as_bytes(); // 6 bytes
    // Text out: size query.
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

    // Bytes out: binary-safe, no NUL added.
    len = 99;
    check(
        unsafe { asyncop_operation_data(op, null_mut(), 0, &mut len) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert_eq!(len, payload.len());
    let mut data = [0xAAu8; 16];
    check(
        unsafe { asyncop_operation_data(op, data.as_mut_ptr(), payload.len() - 1, &mut len) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert_eq!(len, payload.len());
    assert_eq!(data, [0xAA; 16]);
    check(
        unsafe { asyncop_operation_data(op, data.as_mut_ptr(), payload.len(), &mut len) },
        ASYNCOP_OK,
    );
    assert_eq!(len, payload.len());
    assert_eq!(&data[..payload.len()], payload);
    assert!(data[payload.len()..].iter().all(|&b| b == 0xAA));

    // Optional text: present and absent.
    let mut present = -1;
    len = 99;
    check(
        unsafe { asyncop_operation_dependency_token(op, null_mut(), 0, &mut len, &mut present) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    // A size query also says whether the value is there.
    assert_eq!(
        (len, present),
        (5, 1),
        "out_present is written on BUFFER_TOO_SMALL too"
    );
    check(
        unsafe {
            asyncop_operation_dependency_token(
                op,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
                &mut present,
            )
        },
        ASYNCOP_OK,
    );
    assert_eq!((len, present), (5, 1));
    assert_eq!(&buf[..6], b"token\0");
    buf = [0xAA; 16];
    check(
        unsafe {
            asyncop_operation_correlation_id(
                op,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
                &mut present,
            )
        },
        ASYNCOP_OK,
    );
    assert_eq!((len, present), (0, 0));
    assert_eq!(buf[0], 0, "an absent text reads as \"\"");
    // A size query on an absent text says it is absent.
    present = -1;
    check(
        unsafe { asyncop_operation_correlation_id(op, null_mut(), 0, &mut len, &mut present) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert_eq!((len, present), (0, 0));
    check(
        unsafe {
            asyncop_operation_correlation_id(
                op,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
                null_mut(),
            )
        },
        ASYNCOP_ERR_NULL_ARG,
    );
    // Optional scalars.
    let mut until = 7;
    present = -1;
    check(
        unsafe { asyncop_operation_postpone_until(op, &mut until, &mut present) },
        ASYNCOP_OK,
    );
    assert_eq!((until, present), (0, 0));
    check(
        unsafe { asyncop_operation_postpone_until(op, &mut until, null_mut()) },
        ASYNCOP_ERR_NULL_ARG,
    );

    // An empty payload and an empty name: (NULL, 0) is enough for the data.
    let empty = retrieve(q, empty_id);
    len = 99;
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
    buf = [0xAA; 16];
    check(
        unsafe { asyncop_operation_name(empty, buf.as_mut_ptr().cast(), 1, &mut len) },
        ASYNCOP_OK,
    );
    assert_eq!((len, buf[0], buf[1]), (0, 0, 0xAA));

    // The same convention on a lease.
    let lease = poll_one(q);
    check(
        unsafe { asyncop_lease_data(lease, null_mut(), 0, &mut len) },
        ASYNCOP_ERR_BUFFER_TOO_SMALL,
    );
    assert_eq!(len, payload.len());
    check(
        unsafe { asyncop_lease_data(lease, data.as_mut_ptr(), data.len(), &mut len) },
        ASYNCOP_OK,
    );
    assert_eq!(&data[..len], payload);
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

    // Specs: set_data with NULL and a length, and with (NULL, 0).
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
        unsafe { asyncop_spec_set_correlation_id(spec, bad.as_ptr()) },
        ASYNCOP_ERR_UTF8,
    );
    // submit_many: NULL array with a count, and a count of 0.
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
    assert!(ids[0] > empty_id);

    check(unsafe { asyncop_spec_free(spec) }, ASYNCOP_OK);
    check(unsafe { asyncop_lease_free(lease) }, ASYNCOP_OK);
    check(unsafe { asyncop_operation_free(empty) }, ASYNCOP_OK);
    check(unsafe { asyncop_operation_free(op) }, ASYNCOP_OK);
    check(unsafe { asyncop_queue_close(q) }, ASYNCOP_OK);
}
