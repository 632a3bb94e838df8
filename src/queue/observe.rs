//! The queue's metrics and event hooks (`crate::metrics`): reading the
//! counters, registering hooks, and recording each committed change (after
//! the commit, outside every store lock).

use super::Queue;
use crate::lease::Lease;
use crate::maintenance::MaintenanceReport;
use crate::metrics::{Event, EventHookId, EventKind, MetricsSnapshot};
use crate::operation::Operation;
use crate::transition::{Outcome, State, Status};
use std::time::Duration;

impl Queue {
    /// The counters and latency histograms of this open queue since it was
    /// opened (shared by every clone of the handle; process-local). Cheap:
    /// a few atomic loads, no store access; works after `close` too.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.metrics.snapshot()
    }

    /// Registers `hook` for every state change made through this open queue
    /// (any clone): submits, claims, host outcomes, user actions, recoveries
    /// and purges. Threading rules (see `crate::metrics`): it runs on the
    /// thread that made the change, after the commit and outside the store's
    /// locks (so it may call the queue); a panic in it is caught and ignored.
    pub fn on_event(&self, hook: Box<dyn Fn(&Event) + Send + Sync>) -> EventHookId {
        self.inner.hooks.add(hook.into())
    }

    /// Removes a hook registered by `on_event`; whether it was there.
    pub fn remove_event_hook(&self, id: EventHookId) -> bool {
        self.inner.hooks.remove(id)
    }

    /// Records submitted rows: `(id, type, status)` at `at`.
    pub(super) fn observe_submits(&self, rows: &[(i64, i32, Status)], at: i64) {
        self.inner.metrics.submitted(rows.len());
        if self.inner.hooks.any() {
            self.inner
                .hooks
                .fire(rows.iter().map(|&(id, t, status)| Event {
                    to: Some((status.state(), status)),
                    ..Event::of(EventKind::Submitted, id, t, at)
                }));
        }
    }

    /// Records one claim transaction and the maintenance it ran.
    pub(super) fn observe_claim(
        &self,
        leases: &[Lease],
        maintenance: &MaintenanceReport,
        at: i64,
        took: Duration,
    ) {
        self.inner.metrics.claimed(leases.len(), took);
        self.observe_maintenance(maintenance, at);
        if self.inner.hooks.any() {
            self.inner.hooks.fire(leases.iter().map(|l| Event {
                from: Some((State::Ready, Status::WaitingForResources)),
                to: Some((State::Locked, Status::InProgress)),
                host: Some(l.host_id.clone()),
                ..Event::of(EventKind::Claimed, l.id, l.operation_type, at)
            }));
        }
    }

    /// Records a maintenance pass's recoveries (one batch event).
    pub(super) fn observe_maintenance(&self, report: &MaintenanceReport, at: i64) {
        self.inner
            .metrics
            .maintenance(report.recovered, report.poisoned);
        let expired = report.recovered.saturating_add(report.poisoned);
        if expired > 0 && self.inner.hooks.any() {
            let count = u64::try_from(expired).unwrap_or(u64::MAX);
            self.inner.hooks.fire([Event {
                count,
                ..Event::of(EventKind::Recovered, 0, 0, at)
            }]);
        }
    }

    /// Records committed host outcomes: the row as read and as written.
    pub(super) fn observe_outcomes(
        &self,
        outcome: Option<Outcome>,
        moves: &[(Operation, Operation)],
        took: Duration,
    ) {
        for (_, next) in moves {
            let outcome = outcome.unwrap_or(Outcome::Succeeded);
            self.inner.metrics.outcome(outcome, next.status, took);
        }
        if self.inner.hooks.any() {
            self.inner.hooks.fire(moves.iter().map(|(row, next)| Event {
                from: Some((row.state, row.status)),
                to: Some((next.state, next.status)),
                host: row.host_id.clone(),
                ..Event::of(
                    EventKind::Outcome,
                    row.id,
                    row.operation_type,
                    next.modified_on,
                )
            }));
        }
    }

    /// Records a user action that changed `cur` into `next` (`None`: deleted).
    pub(super) fn observe_user_action(&self, cur: &Operation, next: Option<&Operation>) {
        self.inner.metrics.user_action();
        if self.inner.hooks.any() {
            let at = next.map_or_else(|| self.inner.clock.now_ms(), |n| n.modified_on);
            self.inner.hooks.fire([Event {
                from: Some((cur.state, cur.status)),
                to: next.map(|n| (n.state, n.status)),
                ..Event::of(EventKind::UserAction, cur.id, cur.operation_type, at)
            }]);
        }
    }

    /// Records a purge batch that deleted `deleted` rows at `at`.
    pub(super) fn observe_purge(&self, deleted: u64, at: i64) {
        self.inner.metrics.purged(deleted);
        if deleted > 0 && self.inner.hooks.any() {
            self.inner.hooks.fire([Event {
                count: deleted,
                ..Event::of(EventKind::Purged, 0, 0, at)
            }]);
        }
    }
}
