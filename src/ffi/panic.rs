//! The panic boundary every export runs in. A panic must never unwind into C
//! (since Rust 1.81 it would abort the host process); it becomes
//! `ASYNCOP_ERR_PANIC` with the message `internal panic: <payload>`. The
//! handle involved is poisoned by its guard (see `handles::Guard`).

use super::status::{Failure, asyncop_status, clear_last_error, set_last_error};
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Text of a panic payload. Formatting it may itself panic (a payload's
/// `Display`), hence the second `catch_unwind`.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    catch_unwind(AssertUnwindSafe(|| {
        if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "unknown payload".to_owned()
        }
    }))
    .unwrap_or_else(|_| "unprintable payload".to_owned())
}

/// Runs the body of a status-returning export: clears the last error, maps a
/// `Failure` to its code and message, and a panic to `ASYNCOP_ERR_PANIC`.
pub(crate) fn status_boundary(body: impl FnOnce() -> Result<(), Failure>) -> asyncop_status {
    clear_last_error();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => asyncop_status::ASYNCOP_OK,
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.code
        }
        Err(payload) => {
            set_last_error(&format!(
                "internal panic: {}",
                panic_message(payload.as_ref())
            ));
            // Dropping a payload can panic too; it must not escape either.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            asyncop_status::ASYNCOP_ERR_PANIC
        }
    }
}

/// Runs the body of an export that returns a plain value (a size, a static
/// string): a panic gives `on_panic` instead. Does not touch the last error
/// unless it panics.
pub(crate) fn value_boundary<T>(on_panic: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(payload) => {
            set_last_error(&format!(
                "internal panic: {}",
                panic_message(payload.as_ref())
            ));
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            on_panic
        }
    }
}

/// The boundary around a status-returning export body (a block that evaluates to
/// `Result<(), Failure>`, so `?` works inside it). Kept as a macro so each
/// export's signature stays written out for cbindgen.
macro_rules! ffi_boundary {
    ($body:block) => {
        $crate::ffi::panic::status_boundary(
            || -> ::std::result::Result<(), $crate::ffi::status::Failure> { $body },
        )
    };
}

pub(crate) use ffi_boundary;
