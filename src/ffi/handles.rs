//! Handles are tokens, never pointers we dereference. The registry keeps every
//! live object behind an `Arc`; the value C holds packs
//! `epoch:8 | type tag:8 | generation:16 | slot:32` and is never 0.
//!
//! A call validates its token under a read lock, clones the `Arc` and works on
//! the clone, so a concurrent close never frees memory in use. Close empties
//! the slot and bumps its generation: a stale token gives
//! `ASYNCOP_ERR_CLOSED_HANDLE`; one never issued, or of another type,
//! `ASYNCOP_ERR_INVALID_HANDLE`.
//!
//! Fork: a `pthread_atfork` child hook bumps the epoch and sets the parent's
//! registry aside (leaked, never touched again: a parent thread may have held
//! its lock at fork time, and its SQLite connections must not be closed by the
//! child). Inherited tokens carry the old epoch and give `ASYNCOP_ERR_FORKED`
//! before any lock is taken; handles the child opens go into a fresh registry.

use super::status::{Failure, asyncop_status};
use super::strings::out_param;
use crate::queue::Queue;
use parking_lot::RwLock;
use std::any::Any;
use std::ptr::null_mut;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, Ordering};

#[cfg(not(target_pointer_width = "64"))]
compile_error!("asyncop's handle tokens need 64-bit pointers");

/// An object C can hold a handle to. `TAG` must be unique and non-zero.
pub(crate) trait HandleType: Any + Send + Sync {
    /// The type's tag in the token; unique and non-zero.
    const TAG: u8;
    /// The C type name, for messages.
    const NAME: &'static str;
}

/// A handle whose object works on an open queue: the queue itself and what was
/// obtained from it (leases, snapshots, lists, counts). Once the queue is
/// closed, calls on such a handle give `ASYNCOP_ERR_CLOSED_HANDLE`.
pub(crate) trait QueueBound: HandleType {
    /// What the object is, in "the queue this {WHAT} belongs to was closed".
    const WHAT: &'static str;
    /// The queue the object belongs to.
    fn queue(&self) -> &Queue;
}

/// Refuses work on an object whose queue was closed.
pub(crate) fn ensure_open<T: QueueBound>(object: &T) -> Result<(), Failure> {
    if object.queue().is_closed() {
        return Err(Failure::new(
            asyncop_status::ASYNCOP_ERR_CLOSED_HANDLE,
            format!("the queue this {} belongs to was closed", T::WHAT),
        ));
    }
    Ok(())
}

/// The object behind a live handle whose queue is open, for one call.
pub(crate) fn get_open<T: QueueBound>(handle: *const T) -> Result<Guard<T>, Failure> {
    let object = get(handle)?;
    ensure_open(&*object)?;
    Ok(object)
}

/// Runs `f` on the object behind a live handle whose queue is open.
pub(crate) fn with_handle<T: QueueBound, R>(
    handle: *const T,
    f: impl FnOnce(&T) -> Result<R, Failure>,
) -> Result<R, Failure> {
    f(&*get_open(handle)?)
}

/// Writes one attribute of the object behind a live handle whose queue is open
/// to `*out` (NULL_ARG first, then the handle checks).
///
/// # Safety
/// `out` is NULL or writable.
pub(crate) unsafe fn read_scalar<T: QueueBound, V>(
    handle: *const T,
    out: *mut V,
    get: impl FnOnce(&T) -> V,
) -> Result<(), Failure> {
    // SAFETY: `out` is NULL or writable, per this function's contract.
    let out = unsafe { out_param(out, "out") }?;
    with_handle(handle, |object| {
        *out = get(object);
        Ok(())
    })
}

#[derive(Clone)]
struct Stored {
    tag: u8,
    value: Arc<dyn Any + Send + Sync>,
    poisoned: Arc<AtomicBool>,
}

struct Entry {
    generation: u16,
    stored: Option<Stored>,
}

#[derive(Default)]
struct Slab {
    entries: Vec<Entry>,
    free: Vec<u32>,
}

#[derive(Default)]
struct Registry {
    slab: RwLock<Slab>,
}

/// The registry of this process (NULL until the first handle).
static REGISTRY: AtomicPtr<Registry> = AtomicPtr::new(null_mut());
/// Bumped in a forked child: tokens of an earlier epoch were inherited.
static EPOCH: AtomicU8 = AtomicU8::new(0);

/// Fork detection (Unix only; `ffi/mod.rs` refuses other targets).
#[cfg(unix)]
mod fork {
    use super::{EPOCH, REGISTRY, Registry};
    use std::ptr::null_mut;
    use std::sync::Once;
    use std::sync::atomic::{AtomicPtr, Ordering};

    /// Registries inherited across forks (one per epoch, modulo 8): kept reachable
    /// so that nothing in them counts as leaked, never used or freed.
    static INHERITED: [AtomicPtr<Registry>; 8] = [const { AtomicPtr::new(null_mut()) }; 8];
    static ATFORK: Once = Once::new();

    extern "C" fn on_fork_child() {
        // Only atomics here: this runs in the child right after fork().
        let epoch = EPOCH.fetch_add(1, Ordering::SeqCst);
        let old = REGISTRY.swap(null_mut(), Ordering::SeqCst);
        if !old.is_null() {
            INHERITED[usize::from(epoch) % INHERITED.len()].store(old, Ordering::SeqCst);
        }
    }

    /// Registers the child hook, once per process.
    pub(super) fn watch() {
        ATFORK.call_once(|| {
            // SAFETY: registers a handler that only touches atomics; a failure (ENOMEM)
            // leaves fork detection off, which the next call cannot fix either.
            unsafe {
                libc::pthread_atfork(None, None, Some(on_fork_child));
            }
        });
    }
}

fn registry() -> &'static Registry {
    #[cfg(unix)]
    fork::watch();
    let current = REGISTRY.load(Ordering::Acquire);
    if !current.is_null() {
        // SAFETY: registries are never freed once published.
        return unsafe { &*current };
    }
    let fresh = Box::into_raw(Box::default());
    match REGISTRY.compare_exchange(null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
        // SAFETY: just published, never freed.
        Ok(_) => unsafe { &*fresh },
        Err(existing) => {
            // SAFETY: `fresh` was never published; we still own it.
            drop(unsafe { Box::from_raw(fresh) });
            // SAFETY: published registries are never freed.
            unsafe { &*existing }
        }
    }
}

struct Token {
    epoch: u8,
    tag: u8,
    generation: u16,
    slot: u32,
}

impl Token {
    fn encode(&self) -> usize {
        (usize::from(self.epoch) << 56)
            | (usize::from(self.tag) << 48)
            | (usize::from(self.generation) << 32)
            | self.slot as usize
    }
    fn decode(raw: usize) -> Token {
        Token {
            epoch: (raw >> 56) as u8,
            tag: (raw >> 48) as u8,
            generation: (raw >> 32) as u16,
            slot: raw as u32,
        }
    }
}

/// Registers `value` and returns its handle for C.
pub(crate) fn insert<T: HandleType>(value: T) -> *mut T {
    let stored = Stored {
        tag: T::TAG,
        value: Arc::new(value),
        poisoned: Arc::new(AtomicBool::new(false)),
    };
    let epoch = EPOCH.load(Ordering::SeqCst);
    let mut slab = registry().slab.write();
    let slot = match slab.free.pop() {
        Some(slot) => slot,
        None => {
            slab.entries.push(Entry {
                generation: 0,
                stored: None,
            });
            (slab.entries.len() - 1) as u32
        }
    };
    let entry = &mut slab.entries[slot as usize];
    entry.stored = Some(stored);
    let token = Token {
        epoch,
        tag: T::TAG,
        generation: entry.generation,
        slot,
    };
    token.encode() as *mut T
}

/// A live object for the length of one call. If the call panics while holding
/// it, the object is poisoned: later calls on the handle give `ASYNCOP_ERR_PANIC`.
pub(crate) struct Guard<T> {
    value: Arc<T>,
    poisoned: Arc<AtomicBool>,
    /// A caller may call us from a `Drop` while it unwinds its own panic: only
    /// a panic that starts inside the call poisons (as std's `MutexGuard` does).
    caller_panicking: bool,
}

impl<T> std::ops::Deref for Guard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> Drop for Guard<T> {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.caller_panicking {
            self.poisoned.store(true, Ordering::SeqCst);
        }
    }
}

/// Validates a token and finds its entry; returns the stored object.
fn lookup<T: HandleType>(handle: *const T) -> Result<Stored, Failure> {
    if handle.is_null() {
        return Err(Failure::null_arg(T::NAME));
    }
    let raw = handle as usize;
    let token = Token::decode(raw);
    // Before any lock: a lock held by a parent thread at fork time stays held.
    // Only an earlier epoch can be inherited; a later one was never issued.
    // (The epoch is 8 bits: 256 nested forks would wrap it.)
    let epoch = EPOCH.load(Ordering::SeqCst);
    if token.epoch > epoch {
        return Err(Failure::new(
            asyncop_status::ASYNCOP_ERR_INVALID_HANDLE,
            format!("{raw:#x} is not a {} handle", T::NAME),
        ));
    }
    if token.epoch < epoch {
        return Err(Failure::new(
            asyncop_status::ASYNCOP_ERR_FORKED,
            format!(
                "{} handle {raw:#x} was inherited across fork(); open a new one in this process",
                T::NAME
            ),
        ));
    }
    let invalid = || {
        Failure::new(
            asyncop_status::ASYNCOP_ERR_INVALID_HANDLE,
            format!("{raw:#x} is not a {} handle", T::NAME),
        )
    };
    if token.tag != T::TAG {
        return Err(invalid());
    }
    let slab = registry().slab.read();
    let entry = slab.entries.get(token.slot as usize).ok_or_else(invalid)?;
    match &entry.stored {
        Some(stored) if entry.generation == token.generation && stored.tag == T::TAG => {
            Ok(stored.clone())
        }
        // An older generation of this slot: the handle was closed.
        _ if token.generation < entry.generation
            || (token.generation == entry.generation && entry.stored.is_none()) =>
        {
            Err(Failure::new(
                asyncop_status::ASYNCOP_ERR_CLOSED_HANDLE,
                format!("{} handle {raw:#x} was already closed or freed", T::NAME),
            ))
        }
        _ => Err(invalid()),
    }
}

/// The object behind a handle, for one call.
pub(crate) fn get<T: HandleType>(handle: *const T) -> Result<Guard<T>, Failure> {
    let stored = lookup(handle)?;
    if stored.poisoned.load(Ordering::SeqCst) {
        return Err(Failure::new(
            asyncop_status::ASYNCOP_ERR_PANIC,
            format!(
                "{} handle {:#x} is poisoned by an earlier panic; close it",
                T::NAME,
                handle as usize
            ),
        ));
    }
    let value = stored.value.downcast::<T>().map_err(|_| {
        Failure::new(
            asyncop_status::ASYNCOP_ERR_INVALID_HANDLE,
            format!("{:#x} is not a {} handle", handle as usize, T::NAME),
        )
    })?;
    Ok(Guard {
        value,
        poisoned: stored.poisoned,
        caller_panicking: std::thread::panicking(),
    })
}

/// Closes a handle: empties its slot and returns the object, which is freed
/// when the last call still using it returns. NULL is a no-op (`Ok(None)`); an
/// inherited handle in a forked child is also a no-op, so nothing of the
/// parent's (its SQLite connections above all) is closed there.
pub(crate) fn remove<T: HandleType>(handle: *const T) -> Result<Option<Arc<T>>, Failure> {
    if handle.is_null() {
        return Ok(None);
    }
    match lookup(handle) {
        Ok(_) => {}
        Err(f) if f.code == asyncop_status::ASYNCOP_ERR_FORKED => return Ok(None),
        Err(f) => return Err(f),
    }
    let token = Token::decode(handle as usize);
    let mut slab = registry().slab.write();
    let Some(entry) = slab.entries.get_mut(token.slot as usize) else {
        return Ok(None);
    };
    if entry.generation != token.generation {
        // Closed by another thread between the lookup and now.
        return Err(Failure::new(
            asyncop_status::ASYNCOP_ERR_CLOSED_HANDLE,
            format!(
                "{} handle {:#x} was already closed or freed",
                T::NAME,
                handle as usize
            ),
        ));
    }
    let stored = entry.stored.take();
    entry.generation = entry.generation.wrapping_add(1);
    // A slot whose generation wrapped could validate an ancient token: retire it.
    if entry.generation != u16::MAX {
        slab.free.push(token.slot);
    }
    drop(slab);
    Ok(stored.and_then(|s| s.value.downcast::<T>().ok()))
}
