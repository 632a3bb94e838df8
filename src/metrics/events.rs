//! Event hooks: callbacks a host registers on a queue to hear about state
//! changes and attempt outcomes, e.g. to export its own metrics or traces.
//!
//! Threading rules: a hook runs on the thread that made the change, after
//! the change committed and after every store lock was released, so it may
//! call the queue again (a call that changes a row fires its own events,
//! nested). Hooks run in registration order; a panicking hook is caught and
//! the others still run. A slow hook slows the calling thread only.

use crate::transition::{State, Status};
use parking_lot::RwLock;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum EventKind {
    /// An operation was submitted (`from` is `None`).
    Submitted,
    /// A host claimed an operation.
    Claimed,
    /// A host reported an outcome (complete, fail, retry, suspend,
    /// acknowledged pause or cancel); `to` is what it left.
    Outcome,
    /// A user action changed the row (`to` is `None` for a delete).
    UserAction,
    /// Maintenance recovered `count` expired leases, poisoned ones
    /// included (id 0: a batch).
    Recovered,
    /// A purge deleted `count` Completed operations (id 0: a batch).
    Purged,
}

impl EventKind {
    /// The C code of the kind (`ASYNCOP_EVENT_*`): 0..=5 in declaration order.
    pub fn code(self) -> i32 {
        match self {
            EventKind::Submitted => 0,
            EventKind::Claimed => 1,
            EventKind::Outcome => 2,
            EventKind::UserAction => 3,
            EventKind::Recovered => 4,
            EventKind::Purged => 5,
        }
    }
}

/// One state change, as handed to the hooks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The operation; 0 for a batch event (`Recovered`, `Purged`).
    pub id: i64,
    /// The operation's type; 0 for a batch event.
    pub operation_type: i32,
    /// The (state, status) before; `None` for a submit or a batch event.
    pub from: Option<(State, Status)>,
    /// The (state, status) after; `None` for a delete, a purge or a recovery.
    pub to: Option<(State, Status)>,
    /// The host that claimed it or reported (claims and outcomes), else `None`.
    pub host: Option<String>,
    /// When, in UTC ms (the time the change was written with).
    pub at: i64,
    /// How many operations the event stands for: 1, or a batch's size.
    pub count: u64,
}

impl Event {
    /// An event of one operation.
    pub(crate) fn of(kind: EventKind, id: i64, operation_type: i32, at: i64) -> Event {
        Event {
            kind,
            id,
            operation_type,
            from: None,
            to: None,
            host: None,
            at,
            count: 1,
        }
    }
}

/// Names a registered hook, to remove it (`Queue::remove_event_hook`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventHookId(u64);

type Hook = Arc<dyn Fn(&Event) + Send + Sync>;

/// The hooks of one open queue.
#[derive(Default)]
pub(crate) struct Hooks {
    list: RwLock<Vec<(EventHookId, Hook)>>,
    next: AtomicU64,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("count", &self.list.read().len())
            .finish()
    }
}

impl Hooks {
    pub(crate) fn add(&self, hook: Hook) -> EventHookId {
        let id = EventHookId(self.next.fetch_add(1, Ordering::Relaxed));
        self.list.write().push((id, hook));
        id
    }

    pub(crate) fn remove(&self, id: EventHookId) -> bool {
        let mut list = self.list.write();
        let before = list.len();
        list.retain(|(i, _)| *i != id);
        list.len() != before
    }

    /// Whether any hook listens: events are built only then.
    pub(crate) fn any(&self) -> bool {
        !self.list.read().is_empty()
    }

    /// Runs every hook on each event, outside the registry's lock; a panic
    /// in a hook is caught.
    pub(crate) fn fire(&self, events: impl IntoIterator<Item = Event>) {
        let hooks: Vec<Hook> = self.list.read().iter().map(|(_, h)| h.clone()).collect();
        if hooks.is_empty() {
            return;
        }
        for event in events {
            for hook in &hooks {
                let _ = catch_unwind(AssertUnwindSafe(|| hook(&event)));
            }
        }
    }
}
