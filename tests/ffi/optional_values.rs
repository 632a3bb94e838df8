//! Optional values out: text through `(buf, cap, *out_len, *out_present)`,
//! scalars through `(*out, *out_present)`.

use super::buffers::two_operations;
use super::*;

/// Optional text: present and absent.
#[test]
fn optional_text_reports_whether_it_is_present() {
    let s = two_operations("ffi-buffers-optional-text");
    let op = s.op;
    let (mut buf, mut len, mut present) = ([0xAAu8; 16], 99, -1);
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
    s.close();
}

#[test]
fn optional_scalars_report_absence_and_need_out_present() {
    let s = two_operations("ffi-buffers-optional-scalars");
    let mut until = 7;
    let mut present = -1;
    check(
        unsafe { asyncop_operation_postpone_until(s.op, &mut until, &mut present) },
        ASYNCOP_OK,
    );
    assert_eq!((until, present), (0, 0));
    check(
        unsafe { asyncop_operation_postpone_until(s.op, &mut until, null_mut()) },
        ASYNCOP_ERR_NULL_ARG,
    );
    s.close();
}
