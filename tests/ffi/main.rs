//! The C ABI's boundary, driven through the `rlib` by calling the `extern "C"`
//! exports directly (`docs/ffi-conventions.md` §1–§7).
//!
//! * `panic_returns_err_panic_and_poisons_only_that_handle`,
//!   `panics_with_non_string_payloads_are_caught_too`: a clock injected into a core
//!   queue panics on demand; the call returns `ASYNCOP_ERR_PANIC`, the process lives,
//!   the message is `internal panic: …`, the handle is poisoned (close still works),
//!   other handles are not, and the panicking write was rolled back.
//! * `a_call_made_while_the_caller_unwinds_does_not_poison_the_handle`: a call that
//!   does not panic, made from a `Drop` while the *caller* unwinds, must not poison.
//! * `closing_a_queue_races_calls_on_other_threads`,
//!   `freeing_a_lease_races_renewals_on_other_threads`: every racing call gives OK or
//!   `ASYNCOP_ERR_CLOSED_HANDLE`, every call started after the close the latter;
//!   `closing_a_queue_wakes_blocked_poll_and_wait_for`.
//! * `handles`: NULL, forged, unissued-generation and foreign-typed handles, closing
//!   NULL; `forged_handles_with_high_bits_set_are_invalid` (top byte set: must not be
//!   taken for an inherited handle), `a_slot_is_retired_before_its_generation_wraps`;
//!   `stale_handles`: freed and reused slots, double close and free.
//! * `last_error_semantics`: cleared per call, set on every failure, thread-local,
//!   snprintf-like with cuts on UTF-8 boundaries, untouched by the static getters.
//! * `status_table_matches_the_spec_and_the_header`; `errors`: every core error
//!   produced and mapped to its code, one test per cause.
//! * `buffers`: the `(buf, cap, *out_len)` convention for text, bytes and leases;
//!   `optional_values`: absent text and scalars.
//! * `complete_many_reports_per_lease_and_whole_call_failures`,
//!   `a_panic_in_complete_many_poisons_the_listed_leases`: the batch complete's
//!   `out_results` and messages (BUSY, per-lease LEASE_LOST, a closed queue).
//! * `versions_match_cargo_and_the_header`.
//!
//! One binary, one module per topic: `panic`, `races` (close racing calls),
//! `handles`, `stale_handles`, `last_error`, `codes` (the status table), `errors`
//! (core errors to codes), `buffers`, `optional_values`, `complete_many`, `versions`. The fork test lives in
//! `tests/fork_safety.rs`, so no test here needs to exclude the others.
//!
//! SQLite store only: the C ABI opens a queue by file path.
//!
//! Handle tokens are opaque to C; a few tests still decode the slot (the low 32 bits,
//! see `src/ffi/handles.rs`) to prove that a stale token stays closed after its slot
//! was reused.
// These tests call the C ABI the way a C caller would, with arguments built just
// above each call; what makes each call sound is what the test is about, so the
// calls carry no SAFETY comments.
#![allow(clippy::undocumented_unsafe_blocks)]
#[path = "../support/mod.rs"]
mod support;

mod buffers;
mod codes;
mod complete_many;
mod errors;
mod handles;
mod last_error;
mod optional_values;
mod panic;
mod races;
mod stale_handles;
mod versions;

use asyncop::Clock;
use asyncop::ffi::asyncop_status::*;
use asyncop::ffi::lease::*;
use asyncop::ffi::operation::*;
use asyncop::ffi::options::*;
use asyncop::ffi::queue::*;
use asyncop::ffi::spec::*;
use asyncop::ffi::*;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{CStr, CString};
use std::path::Path;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use support::ffi::*;
use support::{T0, TempDir};

// ---------------------------------------------------------------------------
// Fixtures (the C-call helpers are in `support::ffi`)
// ---------------------------------------------------------------------------

/// A clock that panics on demand, in several ways.
/// A clock that panics on demand, in several ways.
#[derive(Debug, Default)]
struct PanicClock {
    mode: AtomicU8,
}

const TICK: u8 = 0;
const PANIC_STRING: u8 = 1;
const PANIC_STR: u8 = 2;
const PANIC_I32: u8 = 3;
const PANIC_DROP_PANICS: u8 = 4;
const PANIC_MULTIBYTE: u8 = 5;

/// Text with 1-, 2-, 3- and 4-byte characters, for cuts on UTF-8 boundaries.
const MULTIBYTE: &str = "aé€😀ü-ÿ€😀";

/// A panic payload whose own `Drop` panics.
struct DropPanics;

impl Drop for DropPanics {
    fn drop(&mut self) {
        panic!("the panic payload's drop panics too");
    }
}

impl PanicClock {
    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }
}

impl Clock for PanicClock {
    fn now_ms(&self) -> i64 {
        match self.mode.load(Ordering::SeqCst) {
            PANIC_STRING => panic!("injected clock failure #{} ({})", 42, "boom"),
            PANIC_STR => panic!("injected clock failure (a &'static str)"),
            PANIC_I32 => std::panic::panic_any(4242_i32),
            PANIC_DROP_PANICS => std::panic::panic_any(DropPanics),
            PANIC_MULTIBYTE => panic!("{MULTIBYTE}"),
            _ => T0,
        }
    }
}

/// Holds the write lock of the file at `path` on another thread (through a
/// core queue) for `hold`, or until the returned sender sends or drops. `sql`
/// runs in that transaction first. The receiver hears when the lock is held.
fn hold_write_lock(
    path: &Path,
    sql: String,
    hold: Duration,
) -> (
    std::sync::mpsc::Receiver<()>,
    std::sync::mpsc::Sender<()>,
    thread::JoinHandle<()>,
) {
    let core = core_queue(path, Arc::new(asyncop::SystemClock));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let handle = thread::spawn(move || {
        support::raw::sqlite_hold_write(&core, &sql, ready_tx, release_rx, hold);
        core.close();
    });
    (ready_rx, release_tx, handle)
}

fn header_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/asyncop.h");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
