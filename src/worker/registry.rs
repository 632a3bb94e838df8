//! The handlers of a worker, one per operation type.

use super::job::{Job, JobOutcome};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A handler: runs one claimed job and says how it ended. Called on one of
/// the worker's threads; it may run on several threads at once.
pub type Handler = Arc<dyn Fn(&Job) -> JobOutcome + Send + Sync>;

/// Operation type → handler.
#[derive(Clone, Default)]
pub(super) struct Registry {
    handlers: BTreeMap<i32, Handler>,
}

impl Registry {
    /// Sets the handler of `operation_type`, replacing an earlier one.
    pub(super) fn insert(&mut self, operation_type: i32, handler: Handler) {
        self.handlers.insert(operation_type, handler);
    }

    /// The handler of `operation_type`, if any.
    pub(super) fn get(&self, operation_type: i32) -> Option<&Handler> {
        self.handlers.get(&operation_type)
    }

    /// The registered types, ascending.
    pub(super) fn types(&self) -> Vec<i32> {
        self.handlers.keys().copied().collect()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.handlers.is_empty()
    }
}
