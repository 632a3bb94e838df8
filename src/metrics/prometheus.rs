//! The Prometheus text exposition format (0.0.4) of a `MetricsSnapshot`.

use super::{HistogramSnapshot, MetricsSnapshot, OUTCOME_LABELS};
use std::fmt::Write;

impl MetricsSnapshot {
    /// The counters and histograms in the Prometheus text format, each
    /// series with `# HELP` and `# TYPE`; `labels` (e.g. `queue="jobs"`,
    /// already escaped, or empty) is added to every series. Names:
    ///
    /// - `asyncop_submitted_total`, `asyncop_claims_total`,
    ///   `asyncop_user_actions_total`, `asyncop_lease_expiries_total`,
    ///   `asyncop_poisoned_total`, `asyncop_purged_total` (counters);
    /// - `asyncop_completions_total{outcome="succeeded|failed|canceled|retried|suspended"}`;
    /// - `asyncop_claim_seconds` and `asyncop_commit_seconds` (histograms:
    ///   `_bucket{le=...}`, `_sum`, `_count`).
    pub fn to_prometheus(&self, labels: &str) -> String {
        let mut out = String::new();
        let counters = [
            (
                "asyncop_submitted_total",
                "Operations submitted.",
                self.submitted,
            ),
            (
                "asyncop_claims_total",
                "Operations claimed by polls.",
                self.claims,
            ),
            (
                "asyncop_user_actions_total",
                "User actions that changed an operation.",
                self.user_actions,
            ),
            (
                "asyncop_lease_expiries_total",
                "Expired leases recovered by maintenance.",
                self.recoveries,
            ),
            (
                "asyncop_poisoned_total",
                "Expired leases that spent the retry budget (3/31).",
                self.poisoned,
            ),
            (
                "asyncop_purged_total",
                "Completed operations deleted by purges.",
                self.purged,
            ),
        ];
        for (name, help, value) in counters {
            header(&mut out, name, help, "counter");
            let _ = writeln!(out, "{name}{} {value}", braces(labels, ""));
        }
        let name = "asyncop_completions_total";
        header(
            &mut out,
            name,
            "Host outcomes committed, by outcome.",
            "counter",
        );
        for (label, value) in OUTCOME_LABELS.iter().zip(self.outcomes) {
            let own = format!("outcome=\"{label}\"");
            let _ = writeln!(out, "{name}{} {value}", braces(labels, &own));
        }
        histogram(
            &mut out,
            "asyncop_claim_seconds",
            "Claim transaction latency.",
            labels,
            &self.claim_seconds,
        );
        histogram(
            &mut out,
            "asyncop_commit_seconds",
            "Host outcome commit latency.",
            labels,
            &self.commit_seconds,
        );
        out
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// `{a,b}` of the shared and the series' own labels; empty when both are.
fn braces(shared: &str, own: &str) -> String {
    match (shared.is_empty(), own.is_empty()) {
        (true, true) => String::new(),
        (true, false) => format!("{{{own}}}"),
        (false, true) => format!("{{{shared}}}"),
        (false, false) => format!("{{{shared},{own}}}"),
    }
}

fn histogram(out: &mut String, name: &str, help: &str, labels: &str, h: &HistogramSnapshot) {
    header(out, name, help, "histogram");
    let les = h
        .bounds
        .iter()
        .map(|b| b.to_string())
        .chain(["+Inf".to_owned()]);
    for (le, count) in les.zip(&h.cumulative) {
        let own = format!("le=\"{le}\"");
        let _ = writeln!(out, "{name}_bucket{} {count}", braces(labels, &own));
    }
    let _ = writeln!(out, "{name}_sum{} {}", braces(labels, ""), h.sum_seconds);
    let _ = writeln!(out, "{name}_count{} {}", braces(labels, ""), h.count);
}
