//! Hostile sequences of C ABI calls.
//!
//! The input bytes are decoded (with `arbitrary::Unstructured`) into up to
//! `MAX_CALLS` calls of the `extern "C"` functions of `include/asyncop.h`, made
//! through the crate's exported `asyncop::ffi::*` functions (the same symbols C
//! links). Arguments are hostile: NULL pointers; closed, stale, wrong-type and
//! forged handles (random integers: handles are validated tokens, so these must
//! give a code, never a crash); invalid UTF-8, embedded NULs and over-long
//! strings; extreme ids, times, codes, counts and indexes. Every output buffer is
//! a heap allocation of exactly `cap` bytes, so AddressSanitizer sees an overrun.
//!
//! After every call (see `Ctx::check`):
//! - the status is a code the header declares (`asyncop_status_name` != "unknown");
//! - it is not PANIC, INTERNAL, CORRUPT, FORKED, CALLBACK or TYPE_NOT_RECOGNIZED
//!   (nothing here forks, the file is only ever written by the library, the other
//!   codes are reserved / never returned; INTERNAL is "an unexpected SQLite
//!   failure or a bug" and nothing here provokes an SQLite failure);
//! - the last error message is empty after OK and non-empty after an error;
//! - out-parameters keep their sentinel on failure (written only on success), and
//!   caller buffers follow the `(buf, cap, &len)` contract.
//!
//! Each input gets a fresh queue file in one per-process temp dir; at its end
//! every live handle is closed and `PRAGMA integrity_check` must say `ok`.
//!
//! Not covered on purpose: waits (poll `wait_ms` and `wait_for` timeouts are 0, 1
//! ms or invalid), and out-pointers that lie about their size (`max` larger than
//! the `out_leases` array, a non-NULL `specs` with a count beyond it): those
//! break the caller's side of the contract, so any outcome would be ours.

#![no_main]

use asyncop::ffi::lease::*;
use asyncop::ffi::operation::*;
use asyncop::ffi::options::*;
use asyncop::ffi::queue::*;
use asyncop::ffi::spec::*;
use asyncop::ffi::*;
use asyncop::{ManualClock, Options, Queue};
use libfuzzer_sys::arbitrary::{Result as AResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::ffi::{CStr, c_char};
use std::path::PathBuf;
use std::ptr::{null, null_mut};
use std::sync::{Arc, OnceLock};

/// Calls per input: keeps one input's work bounded.
const MAX_CALLS: usize = 64;
/// Largest buffer / array the harness allocates for one call.
const MAX_CAP: usize = 300;
/// Most leases one poll may return (the `out_leases` array is exactly this long at most).
const MAX_POLL: usize = 8;

const OK: i32 = 0;
const E_BUFFER_TOO_SMALL: i32 = 5;
const E_INTERNAL: i32 = 12;
const E_PANIC: i32 = 13;
/// Codes no call here may return (see the module comment).
const FORBIDDEN: [(i32, &str); 6] = [
    (E_PANIC, "PANIC"),
    (E_INTERNAL, "INTERNAL"),
    (11, "CORRUPT"),
    (14, "FORKED"),
    (15, "CALLBACK (reserved)"),
    (
        -2147204349,
        "TYPE_NOT_RECOGNIZED (never returned by a call)",
    ),
];

const SENT64: i64 = 0x5A5A_5A5A_5A5A_5A5A;
const SENT32: i32 = 0x5A5A_5A5A;
const SENTUSZ: usize = 0x5A5A_5A5A_5A5A_5A5A;
const SENTBYTE: u8 = 0xA5;

fn temp_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // tmpfs when there is one: every input creates a database with
        // synchronous=FULL, and fsyncs on a disk cut the rate by ~10x.
        let base = match std::env::var_os("ASYNCOP_FUZZ_TMPDIR") {
            Some(dir) => PathBuf::from(dir),
            None if std::path::Path::new("/dev/shm").is_dir() => PathBuf::from("/dev/shm"),
            None => std::env::temp_dir(),
        };
        let dir = base.join(format!("asyncop-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    })
}

fn remove_db(path: &PathBuf) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

fn last_error() -> String {
    // SAFETY: (NULL, 0) is a size query.
    let n = unsafe { asyncop_last_error_message(null_mut(), 0) };
    let mut buf = vec![0u8; n + 1];
    // SAFETY: buf has n + 1 writable bytes.
    unsafe { asyncop_last_error_message(buf.as_mut_ptr().cast(), buf.len()) };
    buf.truncate(n);
    String::from_utf8_lossy(&buf).into_owned()
}

/// A NUL-terminated argument string (or NULL), kept alive across one call.
struct CArg(Option<Vec<u8>>);

impl CArg {
    fn ptr(&self) -> *const c_char {
        self.0.as_ref().map_or(null(), |v| v.as_ptr().cast())
    }
}

/// A handle of one type as the harness has seen it: every value ever issued in
/// this input (live or not, so stale ones can be replayed).
struct Handles<T> {
    all: Vec<(*mut T, bool)>,
}

impl<T> Default for Handles<T> {
    fn default() -> Self {
        Handles { all: Vec::new() }
    }
}

impl<T> Handles<T> {
    fn add(&mut self, h: *mut T) {
        assert!(!h.is_null(), "a successful call returned a NULL handle");
        assert!(
            !self.all.iter().any(|&(x, live)| live && x == h),
            "a handle value was issued twice while live: {h:p}"
        );
        self.all.push((h, true));
    }
    fn released(&mut self, h: *mut T) {
        for e in self.all.iter_mut() {
            if e.0 == h {
                e.1 = false;
            }
        }
    }
}

struct Ctx {
    path: PathBuf,
    clock: Option<ManualClock>,
    queues: Handles<asyncop_queue>,
    options: Handles<asyncop_options>,
    specs: Handles<asyncop_spec>,
    leases: Handles<asyncop_lease>,
    ops: Handles<asyncop_operation>,
    lists: Handles<asyncop_operation_list>,
    counts: Handles<asyncop_counts>,
    /// Ids seen (submitted or read back), to aim user actions at real operations.
    ids: Vec<i64>,
    /// Raw values of every handle issued, of any type, for wrong-type calls.
    raw: Vec<usize>,
}

impl Ctx {
    /// The checks made after every status-returning call; returns the code.
    fn check(&self, what: &str, rc: asyncop_status) -> i32 {
        let code = rc as i32;
        // SAFETY: status_name returns a static NUL-terminated string.
        let name = unsafe { CStr::from_ptr(asyncop_status_name(code)) };
        assert!(
            name.to_bytes() != b"unknown",
            "{what}: undeclared status {code}"
        );
        for (bad, label) in FORBIDDEN {
            if code == bad {
                panic!("{what}: returned {label} ({code}): {}", last_error());
            }
        }
        let msg_len = unsafe { asyncop_last_error_message(null_mut(), 0) };
        if code == OK {
            assert_eq!(
                msg_len,
                0,
                "{what}: OK but the last error is {:?}",
                last_error()
            );
        } else {
            assert!(msg_len > 0, "{what}: {name:?} without a last error message");
        }
        code
    }

    fn pick<T>(&self, u: &mut Unstructured, hs: &Handles<T>) -> AResult<*mut T> {
        Ok(match u.int_in_range(0u8..=15)? {
            0 => null_mut(),
            // Forged: any integer at all.
            1 => u.arbitrary::<usize>()? as *mut T,
            // Forged, but shaped like a token of a plausible slot/generation/tag.
            2 => {
                let tag = u.int_in_range(0u8..=9)? as usize;
                let generation = u.int_in_range(0u16..=3)? as usize;
                let slot = u.int_in_range(0u32..=64)? as usize;
                ((tag << 48) | (generation << 32) | slot) as *mut T
            }
            // Another type's handle (or one of the same type: whatever is drawn).
            3 if !self.raw.is_empty() => *u.choose(&self.raw)? as *mut T,
            _ if !hs.all.is_empty() => u.choose(&hs.all)?.0,
            _ => null_mut(),
        })
    }

    fn queue(&self, u: &mut Unstructured) -> AResult<*mut asyncop_queue> {
        // Mostly a live queue: it is what makes the interesting calls reachable.
        if u.ratio(3u8, 4u8)? {
            if let Some(&(q, _)) = self.queues.all.iter().find(|(_, live)| *live) {
                return Ok(q);
            }
        }
        self.pick(u, &self.queues)
    }

    fn live_or_pick<T>(&self, u: &mut Unstructured, hs: &Handles<T>) -> AResult<*mut T> {
        if u.ratio(2u8, 3u8)? {
            let live: Vec<*mut T> = hs.all.iter().filter(|e| e.1).map(|e| e.0).collect();
            if !live.is_empty() {
                return Ok(*u.choose(&live)?);
            }
        }
        self.pick(u, hs)
    }

    fn id(&self, u: &mut Unstructured) -> AResult<i64> {
        Ok(match u.int_in_range(0u8..=9)? {
            0 => 0,
            1 => -1,
            2 => i64::MIN,
            3 => i64::MAX,
            4 => u.arbitrary()?,
            5 => u.int_in_range(1..=70)?,
            _ if !self.ids.is_empty() => *u.choose(&self.ids)?,
            _ => 1,
        })
    }

    fn now(&self) -> i64 {
        match &self.clock {
            Some(_) => {
                let q = self.queues.all.iter().find(|e| e.1).map(|e| e.0);
                let mut now = 0;
                if let Some(q) = q {
                    unsafe {
                        let _ = asyncop_queue_now(q, &mut now);
                    }
                }
                if now == 0 { 1_000_000 } else { now }
            }
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
        }
    }

    /// A time argument: extremes, "none", and times near now.
    fn time(&self, u: &mut Unstructured) -> AResult<i64> {
        let now = self.now();
        Ok(match u.int_in_range(0u8..=9)? {
            0 => ASYNCOP_TIME_NONE,
            1 => i64::MAX,
            2 => i64::MIN + 1,
            3 => 0,
            4 => -1,
            5 => u.arbitrary()?,
            6 => now.saturating_sub(u.int_in_range(0..=100_000)?),
            _ => now.saturating_add(u.int_in_range(1..=10_000_000)?),
        })
    }

    fn i32v(&self, u: &mut Unstructured, lo: i32, hi: i32) -> AResult<i32> {
        Ok(match u.int_in_range(0u8..=7)? {
            0 => i32::MIN,
            1 => i32::MAX,
            2 => -1,
            3 => u.arbitrary()?,
            _ => u.int_in_range(lo..=hi)?,
        })
    }

    fn i64v(&self, u: &mut Unstructured, lo: i64, hi: i64) -> AResult<i64> {
        Ok(match u.int_in_range(0u8..=7)? {
            0 => i64::MIN,
            1 => i64::MAX,
            2 => -1,
            3 => u.arbitrary()?,
            4 => 0,
            _ => u.int_in_range(lo..=hi)?,
        })
    }
}

/// A string argument: NULL, empty, plain, arbitrary bytes (invalid UTF-8, an
/// embedded NUL that ends the C string early), or around the 256-character limit.
fn text(u: &mut Unstructured, nullable: bool) -> AResult<CArg> {
    let mut v: Vec<u8> = match u.int_in_range(0u8..=11)? {
        0 if nullable => return Ok(CArg(None)),
        0 | 1 => Vec::new(),
        2 => b"\xff\xfe".to_vec(),
        3 => b"ok\0hidden".to_vec(),
        4 => "é".repeat(u.int_in_range(255..=257)?).into_bytes(),
        5 => vec![b'x'; u.int_in_range(255..=257)?],
        6 | 7 => {
            let n = u.int_in_range(0..=24)?;
            u.bytes(n)?.to_vec()
        }
        8 => vec![b'a' + u.int_in_range(0u8..=3)?],
        _ => format!("t{}", u.int_in_range(0u8..=3)?).into_bytes(),
    };
    v.push(0);
    Ok(CArg(Some(v)))
}

/// A recurrence pattern: mostly valid ones (so that series exist), else any text.
fn pattern(u: &mut Unstructured) -> AResult<CArg> {
    let valid: &[u8] = match u.int_in_range(0u8..=7)? {
        0 => b"FREQ=MINUTELY;",
        1 => b"FREQ=DAILY;INTERVAL=3",
        2 => b"freq=monthly;interval=2147483647;",
        3 => b"FREQ=WEEKLY",
        4 => b"FREQ=YEARLY",
        _ => return text(u, true),
    };
    let mut v = valid.to_vec();
    v.push(0);
    Ok(CArg(Some(v)))
}

/// An exact-size output buffer for one call: `cap` bytes on the heap (a `Vec` of
/// exactly that capacity), filled with a sentinel. `cap` 0 is passed as NULL or a
/// dangling-free empty allocation.
struct OutBuf {
    buf: Vec<u8>,
    null: bool,
}

impl OutBuf {
    fn new(u: &mut Unstructured) -> AResult<OutBuf> {
        let (null, cap) = match u.int_in_range(0u8..=5)? {
            0 => (true, 0),
            1 => (false, 0),
            2 => (false, 1),
            _ => (false, u.int_in_range(0..=MAX_CAP)?),
        };
        let mut buf = Vec::with_capacity(cap);
        buf.resize(cap, SENTBYTE);
        buf.shrink_to_fit();
        Ok(OutBuf { buf, null })
    }
    fn ptr(&mut self) -> *mut u8 {
        if self.null {
            null_mut()
        } else {
            self.buf.as_mut_ptr()
        }
    }
    fn cap(&self) -> usize {
        self.buf.len()
    }
}

/// Checks the `(buf, cap, &len)` contract after a text (`nul`) or bytes getter.
fn check_out(what: &str, code: i32, out: &OutBuf, len: usize, had_len: bool, nul: bool) {
    let untouched = out.buf.iter().all(|&b| b == SENTBYTE);
    if !had_len {
        assert!(code != OK, "{what}: OK with a NULL out_len");
    }
    match code {
        OK => {
            assert!(len != SENTUSZ, "{what}: OK without *out_len");
            if nul {
                assert!(
                    len < out.cap(),
                    "{what}: OK, len {len} but cap {}",
                    out.cap()
                );
                assert_eq!(out.buf[len], 0, "{what}: text not NUL-terminated");
                assert!(
                    std::str::from_utf8(&out.buf[..len]).is_ok(),
                    "{what}: text is not UTF-8"
                );
            } else {
                assert!(
                    len <= out.cap(),
                    "{what}: OK, len {len} but cap {}",
                    out.cap()
                );
            }
        }
        E_BUFFER_TOO_SMALL => {
            assert!(
                untouched,
                "{what}: BUFFER_TOO_SMALL but the buffer was written"
            );
            if had_len {
                let need = if nul { len + 1 } else { len };
                assert!(
                    need > out.cap(),
                    "{what}: BUFFER_TOO_SMALL, needs {need}, cap {}",
                    out.cap()
                );
            }
        }
        _ => {
            assert!(untouched, "{what}: failed with {code} but wrote the buffer");
            assert!(
                len == SENTUSZ,
                "{what}: failed with {code} but wrote *out_len"
            );
        }
    }
}

fn scalar_untouched<T: PartialEq + std::fmt::Debug>(what: &str, code: i32, v: T, sent: T) {
    if code != OK {
        assert_eq!(
            v, sent,
            "{what}: failed with {code} but wrote its out-parameter"
        );
    }
}

type TextGetter<T> =
    unsafe extern "C" fn(*const T, *mut c_char, usize, *mut usize) -> asyncop_status;
type OptTextGetter<T> =
    unsafe extern "C" fn(*const T, *mut c_char, usize, *mut usize, *mut i32) -> asyncop_status;

fn get_text<T>(
    ctx: &Ctx,
    u: &mut Unstructured,
    h: *mut T,
    what: &str,
    f: TextGetter<T>,
) -> AResult<()> {
    let mut out = OutBuf::new(u)?;
    let had_len = u.ratio(7u8, 8u8)?;
    let mut len = SENTUSZ;
    let lp = if had_len {
        &mut len as *mut usize
    } else {
        null_mut()
    };
    let code = ctx.check(what, unsafe { f(h, out.ptr().cast(), out.cap(), lp) });
    check_out(what, code, &out, len, had_len, true);
    Ok(())
}

fn get_opt_text<T>(
    ctx: &Ctx,
    u: &mut Unstructured,
    h: *mut T,
    what: &str,
    f: OptTextGetter<T>,
) -> AResult<()> {
    let mut out = OutBuf::new(u)?;
    let had_len = u.ratio(7u8, 8u8)?;
    let had_present = u.ratio(7u8, 8u8)?;
    let mut len = SENTUSZ;
    let mut present = SENT32;
    let lp = if had_len {
        &mut len as *mut usize
    } else {
        null_mut()
    };
    let pp = if had_present {
        &mut present as *mut i32
    } else {
        null_mut()
    };
    let code = ctx.check(what, unsafe { f(h, out.ptr().cast(), out.cap(), lp, pp) });
    check_out(what, code, &out, len, had_len, true);
    if code == OK || code == E_BUFFER_TOO_SMALL {
        if had_present {
            assert!(
                present == 0 || present == 1,
                "{what}: *out_present = {present}"
            );
            if present == 0 && had_len {
                assert_eq!(len, 0, "{what}: absent but len {len}");
            }
        }
    } else {
        assert_eq!(present, SENT32, "{what}: failed but wrote *out_present");
    }
    Ok(())
}

/// A sentinel an out-parameter holds before a call, to see whether a failed
/// call wrote it.
trait Sentinel: Copy + PartialEq + std::fmt::Debug {
    const SENT: Self;
}

impl Sentinel for i64 {
    const SENT: i64 = SENT64;
}

impl Sentinel for i32 {
    const SENT: i32 = SENT32;
}

/// `v` as an out-pointer, or NULL one time in 16.
fn maybe_out<V>(u: &mut Unstructured, v: &mut V) -> AResult<*mut V> {
    Ok(if u.ratio(15u8, 16u8)? {
        v as *mut V
    } else {
        null_mut()
    })
}

fn get_scalar<T, V: Sentinel>(
    ctx: &Ctx,
    u: &mut Unstructured,
    h: *mut T,
    what: &str,
    f: unsafe extern "C" fn(*const T, *mut V) -> asyncop_status,
) -> AResult<V> {
    let mut v = V::SENT;
    let p = maybe_out(u, &mut v)?;
    let code = ctx.check(what, unsafe { f(h, p) });
    scalar_untouched(what, code, v, V::SENT);
    Ok(v)
}

fn get_opt_i64<T>(
    ctx: &Ctx,
    u: &mut Unstructured,
    h: *mut T,
    what: &str,
    f: unsafe extern "C" fn(*const T, *mut i64, *mut i32) -> asyncop_status,
) -> AResult<()> {
    let (mut v, mut present) = (SENT64, SENT32);
    let p = maybe_out(u, &mut v)?;
    let pp = maybe_out(u, &mut present)?;
    let code = ctx.check(what, unsafe { f(h, p, pp) });
    scalar_untouched(what, code, v, SENT64);
    scalar_untouched(what, code, present, SENT32);
    if code == OK && !pp.is_null() {
        assert!(
            present == 0 || present == 1,
            "{what}: *out_present = {present}"
        );
    }
    Ok(())
}

/// A host outcome's `*out_status`: NULL sometimes; checked to be a status code.
fn host_call(
    ctx: &Ctx,
    u: &mut Unstructured,
    what: &str,
    f: impl FnOnce(*mut i32) -> asyncop_status,
) -> AResult<()> {
    let mut st = SENT32;
    let p = maybe_out(u, &mut st)?;
    let code = ctx.check(what, f(p));
    scalar_untouched(what, code, st, SENT32);
    if code == OK && !p.is_null() {
        assert!(
            [20, 21, 22, 10, 30, 31, 32, 0].contains(&st),
            "{what}: status {st}"
        );
    }
    Ok(())
}

fn step(ctx: &mut Ctx, u: &mut Unstructured) -> AResult<()> {
    let op = u.int_in_range(0u8..=60)?;
    match op {
        // ---- options ----
        0 => {
            let mut o = null_mut();
            let p = maybe_out(u, &mut o)?;
            if ctx.check("options_new", unsafe { asyncop_options_new(p) }) == OK {
                ctx.options.add(o);
                ctx.raw.push(o as usize);
            }
        }
        1 => {
            let o = ctx.pick(u, &ctx.options)?;
            if ctx.check("options_free", unsafe { asyncop_options_free(o) }) == OK {
                ctx.options.released(o);
            }
        }
        2 => {
            let o = ctx.live_or_pick(u, &ctx.options)?;
            let rc = match u.int_in_range(0u8..=6)? {
                0 => unsafe { asyncop_options_set_durability(o, ctx.i32v(u, 0, 2)?) },
                1 => unsafe { asyncop_options_set_busy_timeout_ms(o, ctx.i64v(u, 0, 100)?) },
                2 => unsafe { asyncop_options_set_lease_ms(o, ctx.i64v(u, 1, 100_000)?) },
                3 => {
                    let n = u.int_in_range(0..=8)?;
                    let mut types: Vec<i32> = Vec::with_capacity(n);
                    for _ in 0..n {
                        types.push(ctx.i32v(u, 1, 40)?);
                    }
                    let p = if u.ratio(1u8, 8u8)? {
                        null()
                    } else {
                        types.as_ptr()
                    };
                    unsafe { asyncop_options_set_restricted_types(o, p, n) }
                }
                4 => unsafe { asyncop_options_set_max_attempts(o, ctx.i32v(u, 0, 5)?) },
                5 => unsafe {
                    asyncop_options_set_backoff_ms(
                        o,
                        ctx.i64v(u, 0, 10_000)?,
                        ctx.i64v(u, 0, 100_000)?,
                    )
                },
                _ => unsafe { asyncop_options_set_allow_delete_any(o, ctx.i32v(u, 0, 1)?) },
            };
            ctx.check("options_set_*", rc);
        }
        // ---- queue ----
        3 | 4 => {
            let dir = temp_dir();
            let path: CArg = match u.int_in_range(0u8..=15)? {
                0 => CArg(None),
                1 => CArg(Some(b"\0".to_vec())),
                2 => CArg(Some(b":memory:\0".to_vec())),
                3 => {
                    let mut v = dir.as_os_str().as_encoded_bytes().to_vec();
                    v.push(0);
                    CArg(Some(v))
                }
                4 => {
                    let mut v = dir
                        .join("missing/x.db")
                        .into_os_string()
                        .into_encoded_bytes();
                    v.push(0);
                    CArg(Some(v))
                }
                5 => {
                    let mut v = dir.as_os_str().as_encoded_bytes().to_vec();
                    v.extend_from_slice(b"/\xff\xfe.db\0");
                    CArg(Some(v))
                }
                _ => {
                    let mut v = ctx.path.clone().into_os_string().into_encoded_bytes();
                    v.push(0);
                    CArg(Some(v))
                }
            };
            let o = if u.ratio(1u8, 2u8)? {
                null_mut()
            } else {
                ctx.pick(u, &ctx.options)?
            };
            let mut q = null_mut();
            let p = maybe_out(u, &mut q)?;
            if ctx.queues.all.len() < 4
                && ctx.check("queue_open", unsafe {
                    asyncop_queue_open(path.ptr(), o, p)
                }) == OK
            {
                ctx.queues.add(q);
                ctx.raw.push(q as usize);
            }
        }
        5 => {
            let q = ctx.pick(u, &ctx.queues)?;
            if ctx.check("queue_close", unsafe { asyncop_queue_close(q) }) == OK {
                ctx.queues.released(q);
            }
        }
        6 => {
            let q = ctx.queue(u)?;
            get_scalar(ctx, u, q, "queue_now", asyncop_queue_now)?;
        }
        7..=9 => {
            let q = ctx.queue(u)?;
            let name = text(u, true)?;
            let ty = ctx.i32v(u, 1, 30)?;
            let n = u.int_in_range(0..=40)?;
            let data = u.bytes(n)?.to_vec();
            let dp = if u.ratio(1u8, 10u8)? {
                null()
            } else {
                data.as_ptr()
            };
            let dep = text(u, true)?;
            let until = if u.ratio(1u8, 2u8)? {
                ASYNCOP_TIME_NONE
            } else {
                ctx.time(u)?
            };
            let corr = text(u, true)?;
            let mut id = SENT64;
            let ip = maybe_out(u, &mut id)?;
            let code = ctx.check("queue_submit", unsafe {
                asyncop_queue_submit(q, name.ptr(), ty, dp, n, dep.ptr(), until, corr.ptr(), ip)
            });
            scalar_untouched("queue_submit", code, id, SENT64);
            if code == OK {
                assert!(id > 0, "queue_submit: id {id}");
                ctx.ids.push(id);
            }
        }
        // ---- spec ----
        10 => {
            let name = text(u, true)?;
            let ty = ctx.i32v(u, 1, 30)?;
            let mut s = null_mut();
            let p = maybe_out(u, &mut s)?;
            if ctx.check("spec_new", unsafe { asyncop_spec_new(name.ptr(), ty, p) }) == OK {
                ctx.specs.add(s);
                ctx.raw.push(s as usize);
            }
        }
        11 => {
            let s = ctx.pick(u, &ctx.specs)?;
            if ctx.check("spec_free", unsafe { asyncop_spec_free(s) }) == OK {
                ctx.specs.released(s);
            }
        }
        12 => {
            let s = ctx.live_or_pick(u, &ctx.specs)?;
            let rc = match u.int_in_range(0u8..=4)? {
                0 => {
                    let n = u.int_in_range(0..=40)?;
                    let data = u.bytes(n)?.to_vec();
                    let dp = if u.ratio(1u8, 6u8)? {
                        null()
                    } else {
                        data.as_ptr()
                    };
                    unsafe { asyncop_spec_set_data(s, dp, n) }
                }
                1 => {
                    let t = text(u, true)?;
                    unsafe { asyncop_spec_set_dependency_token(s, t.ptr()) }
                }
                2 => unsafe { asyncop_spec_set_postpone_until(s, ctx.time(u)?) },
                3 => {
                    let t = text(u, true)?;
                    unsafe { asyncop_spec_set_correlation_id(s, t.ptr()) }
                }
                _ => {
                    let t = pattern(u)?;
                    unsafe { asyncop_spec_set_recurrence(s, t.ptr(), ctx.time(u)?) }
                }
            };
            ctx.check("spec_set_*", rc);
        }
        13 | 14 => {
            let q = ctx.queue(u)?;
            let n = u.int_in_range(0..=6)?;
            let mut specs = Vec::with_capacity(n);
            for _ in 0..n {
                specs.push(ctx.live_or_pick(u, &ctx.specs)?.cast_const());
            }
            let mut ids = vec![SENT64; n];
            let (sp, count) = match u.int_in_range(0u8..=7)? {
                0 => (null(), n),
                1 => (null(), usize::MAX),
                _ => (specs.as_ptr(), n),
            };
            let ip = if u.ratio(1u8, 8u8)? {
                null_mut()
            } else {
                ids.as_mut_ptr()
            };
            let code = ctx.check("queue_submit_many", unsafe {
                asyncop_queue_submit_many(q, sp, count, ip)
            });
            if code == OK && !ip.is_null() {
                for &id in &ids {
                    assert!(id > 0, "queue_submit_many: id {id}");
                    ctx.ids.push(id);
                }
            } else if code != OK {
                assert!(
                    ids.iter().all(|&i| i == SENT64),
                    "queue_submit_many failed but wrote out_ids"
                );
            }
        }
        15 => {
            let q = ctx.queue(u)?;
            let id = ctx.id(u)?;
            let mut o = null_mut();
            let p = maybe_out(u, &mut o)?;
            if ctx.check("queue_retrieve", unsafe {
                asyncop_queue_retrieve(q, id, p)
            }) == OK
            {
                ctx.ops.add(o);
                ctx.raw.push(o as usize);
            }
        }
        16 => {
            let q = ctx.queue(u)?;
            let state = ctx.i32v(u, -1, 4)?;
            let status = ctx.i32v(u, -1, 33)?;
            let ty = ctx.i32v(u, -1, 30)?;
            let name = text(u, true)?;
            let dep = text(u, true)?;
            let corr = text(u, true)?;
            let prefix = text(u, true)?;
            let before = ctx.time(u)?;
            let after = ctx.i64v(u, 0, 70)?;
            let limit = ctx.i64v(u, -1, 10)?;
            let offset = ctx.i64v(u, 0, 10)?;
            let mut l = null_mut();
            let p = maybe_out(u, &mut l)?;
            let rc = unsafe {
                asyncop_queue_query(
                    q,
                    state,
                    status,
                    ty,
                    name.ptr(),
                    dep.ptr(),
                    corr.ptr(),
                    prefix.ptr(),
                    before,
                    after,
                    limit,
                    offset,
                    p,
                )
            };
            if ctx.check("queue_query", rc) == OK {
                ctx.lists.add(l);
                ctx.raw.push(l as usize);
            }
        }
        17 => {
            let q = ctx.queue(u)?;
            let mut c = null_mut();
            let p = maybe_out(u, &mut c)?;
            if ctx.check("queue_counts", unsafe { asyncop_queue_counts(q, p) }) == OK {
                ctx.counts.add(c);
                ctx.raw.push(c as usize);
            }
        }
        // ---- user actions ----
        18..=23 => {
            let q = ctx.queue(u)?;
            let id = ctx.id(u)?;
            let (what, rc) = match u.int_in_range(0u8..=7)? {
                0 => ("queue_cancel", unsafe { asyncop_queue_cancel(q, id) }),
                1 => ("queue_pause", unsafe { asyncop_queue_pause(q, id) }),
                2 => ("queue_resume", unsafe { asyncop_queue_resume(q, id) }),
                3 => ("queue_postpone", unsafe {
                    asyncop_queue_postpone(q, id, ctx.time(u)?)
                }),
                4 => ("queue_set_postpone_until", unsafe {
                    asyncop_queue_set_postpone_until(q, id, ctx.time(u)?)
                }),
                5 => ("queue_delete", unsafe { asyncop_queue_delete(q, id) }),
                6 => {
                    let t = pattern(u)?;
                    ("queue_set_recurrence", unsafe {
                        asyncop_queue_set_recurrence(q, id, t.ptr())
                    })
                }
                _ => {
                    let state = ctx.i32v(u, -1, 4)?;
                    // "No status" is ASYNCOP_STATUS_NONE; -1 is an unknown status code.
                    let status = if u.ratio(1u8, 4u8)? {
                        ASYNCOP_STATUS_NONE
                    } else {
                        ctx.i32v(u, -1, 33)?
                    };
                    ("queue_set_state", unsafe {
                        asyncop_queue_set_state(q, id, state, status)
                    })
                }
            };
            ctx.check(what, rc);
        }
        // ---- poll, maintenance, wait ----
        24..=27 => {
            let q = ctx.queue(u)?;
            let host = if u.ratio(3u8, 4u8)? {
                CArg(Some(b"host-1\0".to_vec()))
            } else {
                text(u, true)?
            };
            let nt = u.int_in_range(0..=4)?;
            let mut types: Vec<i32> = Vec::with_capacity(nt);
            for _ in 0..nt {
                types.push(ctx.i32v(u, 1, 30)?);
            }
            let (tp, tlen) = match u.int_in_range(0u8..=7)? {
                0 => (null(), 0),
                1 => (null(), nt.max(1)),
                _ => (if nt == 0 { null() } else { types.as_ptr() }, nt),
            };
            let wait = *u.choose(&[0i64, 0, 0, 0, 1, -1, i64::MIN])?;
            let max = u.int_in_range(0..=MAX_POLL)?;
            let mut slots: Vec<*mut asyncop_lease> = Vec::with_capacity(max);
            slots.resize(max, 0x5A5A as *mut asyncop_lease);
            slots.shrink_to_fit();
            let (lp, lmax) = match u.int_in_range(0u8..=9)? {
                0 => (null_mut(), max),
                1 => (null_mut(), usize::MAX),
                _ => (slots.as_mut_ptr(), max),
            };
            let mut n = SENTUSZ;
            let np = maybe_out(u, &mut n)?;
            let code = ctx.check("queue_poll", unsafe {
                asyncop_queue_poll(q, host.ptr(), tp, tlen, wait, lp, lmax, np)
            });
            scalar_untouched("queue_poll", code, n, SENTUSZ);
            if code == OK {
                assert!(n <= max, "queue_poll: {n} leases for max {max}");
                for &l in &slots[..n] {
                    ctx.leases.add(l);
                    ctx.raw.push(l as usize);
                }
                assert!(
                    slots[n..].iter().all(|&s| s as usize == 0x5A5A),
                    "queue_poll wrote beyond *out_count"
                );
            }
        }
        28 => {
            let q = ctx.queue(u)?;
            let id = ctx.id(u)?;
            let timeout = *u.choose(&[0i64, 0, 1, -1, i64::MIN])?;
            let mut o = null_mut();
            let p = maybe_out(u, &mut o)?;
            if ctx.check("queue_wait_for", unsafe {
                asyncop_queue_wait_for(q, id, timeout, p)
            }) == OK
            {
                ctx.ops.add(o);
                ctx.raw.push(o as usize);
            }
        }
        29 => {
            let q = ctx.queue(u)?;
            let (mut a, mut b, mut c) = (SENT64, SENT64, SENT64);
            let nul = u.int_in_range(0u8..=7)?;
            let pa = if nul == 1 {
                null_mut()
            } else {
                &mut a as *mut i64
            };
            let pb = if nul == 2 {
                null_mut()
            } else {
                &mut b as *mut i64
            };
            let pc = if nul == 3 {
                null_mut()
            } else {
                &mut c as *mut i64
            };
            let code = ctx.check("queue_run_maintenance", unsafe {
                asyncop_queue_run_maintenance(q, pa, pb, pc)
            });
            if code == OK {
                for (v, p) in [(a, pa), (b, pb), (c, pc)] {
                    if !p.is_null() {
                        assert!(v >= 0, "run_maintenance: count {v}");
                    }
                }
            }
        }
        30 => {
            // The injected clock (only when the queue was opened with one): leases
            // expire, postponed operations come due.
            if let Some(clock) = &ctx.clock {
                clock.advance(*u.choose(&[1i64, 1_000, 10_001, 30_001, 3_600_001, 86_400_000])?);
            }
        }
        // ---- lease getters ----
        31..=34 => {
            let l = ctx.live_or_pick(u, &ctx.leases)?;
            match u.int_in_range(0u8..=9)? {
                0 => {
                    get_scalar(ctx, u, l, "lease_id", asyncop_lease_id)?;
                }
                1 => {
                    get_scalar(ctx, u, l, "lease_lock_token", asyncop_lease_lock_token)?;
                }
                2 => {
                    get_scalar(
                        ctx,
                        u,
                        l,
                        "lease_operation_type",
                        asyncop_lease_operation_type,
                    )?;
                }
                3 => {
                    get_scalar(ctx, u, l, "lease_attempt", asyncop_lease_attempt)?;
                }
                4 => {
                    get_scalar(ctx, u, l, "lease_expires_at", asyncop_lease_expires_at)?;
                }
                5 => get_text(ctx, u, l, "lease_name", asyncop_lease_name)?,
                6 => get_text(ctx, u, l, "lease_host_id", asyncop_lease_host_id)?,
                7 => {
                    let mut out = OutBuf::new(u)?;
                    let mut len = SENTUSZ;
                    let code = ctx.check("lease_data", unsafe {
                        asyncop_lease_data(l, out.ptr(), out.cap(), &mut len)
                    });
                    check_out("lease_data", code, &out, len, true, false);
                }
                8 => get_opt_text(
                    ctx,
                    u,
                    l,
                    "lease_dependency_token",
                    asyncop_lease_dependency_token,
                )?,
                _ => get_opt_text(
                    ctx,
                    u,
                    l,
                    "lease_correlation_id",
                    asyncop_lease_correlation_id,
                )?,
            }
        }
        // ---- host calls ----
        35..=41 => {
            let l = ctx.live_or_pick(u, &ctx.leases)?;
            match u.int_in_range(0u8..=7)? {
                0 | 1 => host_call(ctx, u, "lease_renew", |p| unsafe {
                    asyncop_lease_renew(l, p)
                })?,
                2 => host_call(ctx, u, "lease_complete", |p| unsafe {
                    asyncop_lease_complete(l, p)
                })?,
                3 => {
                    let code = ctx.i32v(u, 0, 20)?;
                    let msg = text(u, true)?;
                    host_call(ctx, u, "lease_fail", |p| unsafe {
                        asyncop_lease_fail(l, code, msg.ptr(), p)
                    })?
                }
                4 => {
                    let code = ctx.i32v(u, 0, 20)?;
                    let msg = text(u, true)?;
                    let at = ctx.time(u)?;
                    host_call(ctx, u, "lease_retry", |p| unsafe {
                        asyncop_lease_retry(l, code, msg.ptr(), at, p)
                    })?
                }
                5 => {
                    let code = ctx.i32v(u, 0, 20)?;
                    let msg = text(u, true)?;
                    host_call(ctx, u, "lease_suspend", |p| unsafe {
                        asyncop_lease_suspend(l, code, msg.ptr(), p)
                    })?
                }
                6 => {
                    if u.arbitrary()? {
                        host_call(ctx, u, "lease_acknowledge_pause", |p| unsafe {
                            asyncop_lease_acknowledge_pause(l, p)
                        })?
                    } else {
                        host_call(ctx, u, "lease_acknowledge_cancel", |p| unsafe {
                            asyncop_lease_acknowledge_cancel(l, p)
                        })?
                    }
                }
                _ => {
                    let outcome = ctx.i32v(u, 0, 5)?;
                    let code = ctx.i32v(u, 0, 20)?;
                    let msg = text(u, true)?;
                    let friendly = text(u, true)?;
                    let at = ctx.time(u)?;
                    host_call(ctx, u, "lease_report", |p| unsafe {
                        asyncop_lease_report(l, outcome, code, msg.ptr(), friendly.ptr(), at, p)
                    })?
                }
            }
        }
        42 => {
            let n = u.int_in_range(0..=6)?;
            let mut ls: Vec<*const asyncop_lease> = Vec::with_capacity(n);
            for _ in 0..n {
                ls.push(ctx.live_or_pick(u, &ctx.leases)?.cast_const());
            }
            let mut results: Vec<i32> = Vec::with_capacity(n);
            results.resize(n, SENT32);
            let (lp, count) = match u.int_in_range(0u8..=7)? {
                0 => (null(), n),
                1 => (null(), usize::MAX),
                _ => (ls.as_ptr(), n),
            };
            let rp = if u.ratio(1u8, 4u8)? || count != n {
                null_mut()
            } else {
                results.as_mut_ptr()
            };
            let code = ctx.check("lease_complete_many", unsafe {
                asyncop_lease_complete_many(lp, count, rp.cast())
            });
            if !rp.is_null() && code != E_PANIC {
                for &r in &results {
                    // SAFETY: status_name accepts any integer.
                    let name = unsafe { CStr::from_ptr(asyncop_status_name(r)) };
                    assert!(
                        name.to_bytes() != b"unknown",
                        "complete_many: entry code {r}"
                    );
                    if code == OK {
                        assert_eq!(r, OK, "complete_many: OK with a failed entry");
                    }
                }
                if code != OK && n > 0 {
                    assert!(
                        results.contains(&code),
                        "complete_many: {code} is no entry's code"
                    );
                }
            }
        }
        43 => {
            let l = ctx.pick(u, &ctx.leases)?;
            if ctx.check("lease_free", unsafe { asyncop_lease_free(l) }) == OK {
                ctx.leases.released(l);
            }
        }
        // ---- operation snapshots ----
        44..=48 => {
            let o = ctx.live_or_pick(u, &ctx.ops)?;
            match u.int_in_range(0u8..=20)? {
                0 => {
                    let id = get_scalar(ctx, u, o, "operation_id", asyncop_operation_id)?;
                    if id != SENT64 && !ctx.ids.contains(&id) {
                        ctx.ids.push(id);
                    }
                }
                1 => {
                    get_scalar(
                        ctx,
                        u,
                        o,
                        "operation_operation_type",
                        asyncop_operation_operation_type,
                    )?;
                }
                2 => {
                    let s = get_scalar(ctx, u, o, "operation_state", asyncop_operation_state)?;
                    assert!(s == SENT32 || (0..=3).contains(&s), "operation_state {s}");
                }
                3 => {
                    let s = get_scalar(ctx, u, o, "operation_status", asyncop_operation_status)?;
                    assert!(
                        s == SENT32 || [0, 10, 20, 21, 22, 30, 31, 32].contains(&s),
                        "operation_status {s}"
                    );
                }
                4 => {
                    get_scalar(
                        ctx,
                        u,
                        o,
                        "operation_lock_token",
                        asyncop_operation_lock_token,
                    )?;
                }
                5 => {
                    get_scalar(
                        ctx,
                        u,
                        o,
                        "operation_retry_count",
                        asyncop_operation_retry_count,
                    )?;
                }
                6 => {
                    get_scalar(
                        ctx,
                        u,
                        o,
                        "operation_created_on",
                        asyncop_operation_created_on,
                    )?;
                }
                7 => {
                    get_scalar(
                        ctx,
                        u,
                        o,
                        "operation_modified_on",
                        asyncop_operation_modified_on,
                    )?;
                }
                8 => get_opt_i64(
                    ctx,
                    u,
                    o,
                    "operation_postpone_until",
                    asyncop_operation_postpone_until,
                )?,
                9 => get_opt_i64(
                    ctx,
                    u,
                    o,
                    "operation_lease_expires_at",
                    asyncop_operation_lease_expires_at,
                )?,
                10 => {
                    let (mut v, mut present) = (SENT32, SENT32);
                    let code = ctx.check("operation_error_code", unsafe {
                        asyncop_operation_error_code(o, &mut v, &mut present)
                    });
                    scalar_untouched("operation_error_code", code, v, SENT32);
                }
                11 => get_opt_i64(
                    ctx,
                    u,
                    o,
                    "operation_started_on",
                    asyncop_operation_started_on,
                )?,
                12 => get_opt_i64(
                    ctx,
                    u,
                    o,
                    "operation_completed_on",
                    asyncop_operation_completed_on,
                )?,
                13 => get_opt_i64(
                    ctx,
                    u,
                    o,
                    "operation_execution_time_span",
                    asyncop_operation_execution_time_span,
                )?,
                14 => get_text(ctx, u, o, "operation_name", asyncop_operation_name)?,
                15 => {
                    let mut out = OutBuf::new(u)?;
                    let mut len = SENTUSZ;
                    let code = ctx.check("operation_data", unsafe {
                        asyncop_operation_data(o, out.ptr(), out.cap(), &mut len)
                    });
                    check_out("operation_data", code, &out, len, true, false);
                }
                16 => get_opt_text(
                    ctx,
                    u,
                    o,
                    "operation_dependency_token",
                    asyncop_operation_dependency_token,
                )?,
                17 => get_opt_text(ctx, u, o, "operation_host_id", asyncop_operation_host_id)?,
                18 => get_opt_text(ctx, u, o, "operation_message", asyncop_operation_message)?,
                19 => get_opt_text(
                    ctx,
                    u,
                    o,
                    "operation_friendly_message",
                    asyncop_operation_friendly_message,
                )?,
                _ => get_opt_text(
                    ctx,
                    u,
                    o,
                    "operation_correlation_id",
                    asyncop_operation_correlation_id,
                )?,
            }
        }
        49 => {
            let o = ctx.pick(u, &ctx.ops)?;
            if ctx.check("operation_free", unsafe { asyncop_operation_free(o) }) == OK {
                ctx.ops.released(o);
            }
        }
        // ---- lists and counts ----
        50 | 51 => {
            let l = ctx.live_or_pick(u, &ctx.lists)?;
            let mut n = SENTUSZ;
            let code = ctx.check("operation_list_count", unsafe {
                asyncop_operation_list_count(l, &mut n)
            });
            scalar_untouched("operation_list_count", code, n, SENTUSZ);
            let index = match u.int_in_range(0u8..=4)? {
                0 => usize::MAX,
                1 => n,
                2 => u.arbitrary()?,
                _ if code == OK && n > 0 => u.int_in_range(0..=n - 1)?,
                _ => 0,
            };
            let mut o = null_mut();
            let p = maybe_out(u, &mut o)?;
            if ctx.check("operation_list_get", unsafe {
                asyncop_operation_list_get(l, index, p)
            }) == OK
            {
                ctx.ops.add(o);
                ctx.raw.push(o as usize);
            }
        }
        52 => {
            let l = ctx.pick(u, &ctx.lists)?;
            if ctx.check("operation_list_free", unsafe {
                asyncop_operation_list_free(l)
            }) == OK
            {
                ctx.lists.released(l);
            }
        }
        53 | 54 => {
            let c = ctx.live_or_pick(u, &ctx.counts)?;
            let mut n = SENTUSZ;
            let code = ctx.check("counts_count", unsafe { asyncop_counts_count(c, &mut n) });
            scalar_untouched("counts_count", code, n, SENTUSZ);
            let index = match u.int_in_range(0u8..=4)? {
                0 => usize::MAX,
                1 => n,
                2 => u.arbitrary()?,
                _ if code == OK && n > 0 => u.int_in_range(0..=n - 1)?,
                _ => 0,
            };
            let (mut st, mut ss, mut ty, mut cnt) = (SENT32, SENT32, SENT32, SENT64);
            let nul = u.int_in_range(0u8..=9)?;
            let code = ctx.check("counts_get", unsafe {
                asyncop_counts_get(
                    c,
                    index,
                    if nul == 1 { null_mut() } else { &mut st },
                    if nul == 2 { null_mut() } else { &mut ss },
                    if nul == 3 { null_mut() } else { &mut ty },
                    if nul == 4 { null_mut() } else { &mut cnt },
                )
            });
            if code == OK && nul > 4 {
                assert!(
                    (0..=3).contains(&st) && ss / 10 == st && cnt > 0,
                    "counts_get: {st} {ss} {cnt}"
                );
            }
        }
        55 => {
            let c = ctx.pick(u, &ctx.counts)?;
            if ctx.check("counts_free", unsafe { asyncop_counts_free(c) }) == OK {
                ctx.counts.released(c);
            }
        }
        // ---- errors, names, versions ----
        56 | 57 => {
            // snprintf-like: full length back, at most cap - 1 bytes + NUL, on a UTF-8 boundary.
            let full = unsafe { asyncop_last_error_message(null_mut(), 0) };
            let mut out = OutBuf::new(u)?;
            let n = unsafe { asyncop_last_error_message(out.ptr().cast(), out.cap()) };
            assert_eq!(n, full, "last_error_message: length changed between calls");
            if !out.null && out.cap() > 0 {
                let copied = out
                    .buf
                    .iter()
                    .position(|&b| b == 0)
                    .expect("last_error_message: no NUL");
                assert!(
                    copied <= n && copied < out.cap(),
                    "last_error_message: copied {copied}"
                );
                assert!(
                    std::str::from_utf8(&out.buf[..copied]).is_ok(),
                    "last_error_message: cut inside UTF-8"
                );
                assert!(
                    copied == n || copied + 4 > out.cap() - 1,
                    "last_error_message: cut {copied} bytes short of cap {}",
                    out.cap()
                );
            }
            assert_eq!(
                unsafe { asyncop_last_error_message(null_mut(), 0) },
                full,
                "reading cleared it"
            );
        }
        58 => {
            let code: i32 = match u.int_in_range(0u8..=2)? {
                0 => u.arbitrary()?,
                1 => u.int_in_range(-2..=20)?,
                _ => *u.choose(&[
                    -2147204766,
                    -2147201280,
                    -2147201279,
                    -2147204349,
                    i32::MIN,
                    i32::MAX,
                ])?,
            };
            let before = unsafe { asyncop_last_error_message(null_mut(), 0) };
            let name = asyncop_status_name(code);
            assert!(!name.is_null(), "status_name returned NULL");
            let name = unsafe { CStr::from_ptr(name) }
                .to_str()
                .expect("status_name not UTF-8");
            let h = asyncop_status_hresult(code);
            if name == "unknown" || code >= 0 {
                assert_eq!(h, 0, "status_hresult({code}) = {h} for {name}");
            } else {
                assert_eq!(h, code, "status_hresult({code}) = {h}");
            }
            let after = unsafe { asyncop_last_error_message(null_mut(), 0) };
            assert_eq!(before, after, "status_name/hresult touched the last error");
        }
        59 => {
            let v = unsafe { CStr::from_ptr(asyncop_version()) };
            let v = v.to_str().expect("asyncop_version not UTF-8");
            assert!(v.split('.').count() == 3, "asyncop_version {v:?}");
            assert_eq!(asyncop_abi_version(), ASYNCOP_ABI_VERSION);
        }
        _ => {
            // A double release of whatever was released last: must be CLOSED_HANDLE.
            if let Some(&(q, live)) = ctx.queues.all.last() {
                let code = ctx.check("queue_close (again)", unsafe { asyncop_queue_close(q) });
                if live && code == OK {
                    ctx.queues.released(q);
                } else if !live {
                    assert_eq!(code, 7, "second queue_close: {code}");
                }
            }
        }
    }
    Ok(())
}

/// Closes every live handle (freeing may find one already closed by a forged
/// handle that happened to hit it: CLOSED_HANDLE is fine then).
fn release_all(ctx: &mut Ctx) {
    fn each<T>(
        ctx: &Ctx,
        what: &str,
        hs: &Handles<T>,
        f: unsafe extern "C" fn(*mut T) -> asyncop_status,
    ) {
        for &(h, live) in &hs.all {
            if live {
                let code = ctx.check(what, unsafe { f(h) });
                assert!(
                    code == OK || code == 7,
                    "{what} at the end: {code}: {}",
                    last_error()
                );
            }
        }
    }
    each(ctx, "lease_free", &ctx.leases, asyncop_lease_free);
    each(ctx, "operation_free", &ctx.ops, asyncop_operation_free);
    each(
        ctx,
        "operation_list_free",
        &ctx.lists,
        asyncop_operation_list_free,
    );
    each(ctx, "counts_free", &ctx.counts, asyncop_counts_free);
    each(ctx, "spec_free", &ctx.specs, asyncop_spec_free);
    each(ctx, "options_free", &ctx.options, asyncop_options_free);
    each(ctx, "queue_close", &ctx.queues, asyncop_queue_close);
}

fn integrity_check(path: &PathBuf) {
    if !path.exists() {
        return;
    }
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
            .expect("rusqlite open");
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(verdict, "ok", "PRAGMA integrity_check after the input");
}

fn run(data: &[u8]) {
    let path = temp_dir().join("q.db");
    remove_db(&path);
    let mut u = Unstructured::new(data);
    let mut ctx = Ctx {
        path: path.clone(),
        clock: None,
        queues: Handles::default(),
        options: Handles::default(),
        specs: Handles::default(),
        leases: Handles::default(),
        ops: Handles::default(),
        lists: Handles::default(),
        counts: Handles::default(),
        ids: Vec::new(),
        raw: Vec::new(),
    };
    // The first queue: through asyncop_queue_open (system clock), or registered
    // with a manual clock so leases can expire and postponements come due without waits.
    let manual = u.arbitrary::<bool>().unwrap_or(false);
    if manual {
        let clock = ManualClock::new(1_700_000_000_000);
        let options = Options {
            clock: Arc::new(clock.clone()),
            ..Options::default()
        };
        let queue = Queue::open(&path, options).expect("open with a manual clock");
        let q = asyncop::ffi::testing::queue_handle(queue);
        ctx.queues.add(q);
        ctx.raw.push(q as usize);
        ctx.clock = Some(clock);
    } else {
        let mut c = path.clone().into_os_string().into_encoded_bytes();
        c.push(0);
        let mut q = null_mut();
        let code = ctx.check("queue_open", unsafe {
            asyncop_queue_open(c.as_ptr().cast(), null(), &mut q)
        });
        assert_eq!(code, OK);
        ctx.queues.add(q);
        ctx.raw.push(q as usize);
    }
    for _ in 0..MAX_CALLS {
        if u.is_empty() || step(&mut ctx, &mut u).is_err() {
            break;
        }
    }
    release_all(&mut ctx);
    integrity_check(&path);
    remove_db(&path);
}

fuzz_target!(|data: &[u8]| run(data));
