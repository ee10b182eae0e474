//! Every number the diagnosis decides with, named once. A weight, window or
//! confidence step written anywhere else in `diagnose` is a bug.

use crate::model::{Nanos, Severity};

/// The diagnosis' weights, thresholds and tolerances.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Onsets closer than this are treated as simultaneous (a sampler one
    /// second late must not decide which node failed first).
    pub onset_tolerance: Nanos,
    /// Among nodes starting within the tolerance, one whose evidence weighs
    /// this many times the earliest node's is chosen instead.
    pub dominance_ratio: f64,
    /// Weight of a cascade finding (a peer's report) for the node it names,
    /// as a share of its severity weight, capped at `blame_cap`.
    pub blame_share: f64,
    pub blame_cap: f64,
    /// Confidence before any factor.
    pub confidence_base: f64,
    /// Logs and metrics both implicate the failing node.
    pub logs_and_metrics_agree: f64,
    /// Per independent causal category on the failing node beyond the first (at most two count).
    pub per_extra_category: f64,
    /// Peers show consequences after the onset.
    pub peers_react: f64,
    /// Another node shows comparable trouble within the tolerance...
    pub close_competitor: f64,
    /// ... where comparable means at least this share of the failing node's weight.
    pub close_competitor_share: f64,
    /// No other node shows causal trouble of its own.
    pub alone: f64,
    /// No metric dumps in the input.
    pub no_metrics: f64,
    /// The input is an excerpt (see `excerpt_max_lines`).
    pub excerpt: f64,
    /// A node with fewer log lines than this, and no metrics, is an excerpt.
    pub excerpt_max_lines: u64,
    /// Rules (id prefix) that decide on excerpts only: context (low) on full bundles.
    pub excerpt_pack: &'static str,
    /// Clock offsets at least this large are reported.
    pub report_offset: Nanos,
    /// Confidence stays within these bounds.
    pub confidence_floor: f64,
    pub confidence_ceiling: f64,
}

impl Policy {
    /// The policy coroner ships with.
    pub const DEFAULT: Policy = Policy {
        onset_tolerance: 20 * 1_000_000_000,
        dominance_ratio: 1.5,
        blame_share: 0.5,
        blame_cap: 2.0,
        confidence_base: 0.45,
        logs_and_metrics_agree: 0.2,
        per_extra_category: 0.1,
        peers_react: 0.1,
        close_competitor: -0.2,
        close_competitor_share: 0.7,
        alone: 0.05,
        no_metrics: -0.1,
        excerpt: -0.1,
        excerpt_max_lines: 200,
        excerpt_pack: "nats-excerpts.",
        report_offset: 500_000_000,
        confidence_floor: 0.05,
        confidence_ceiling: 0.99,
    };

    /// What one finding of a severity weighs for its node.
    pub fn severity_weight(&self, s: Severity) -> f64 {
        match s {
            Severity::Critical => 4.0,
            Severity::High => 3.0,
            Severity::Medium => 2.0,
            Severity::Low => 0.5,
            Severity::Info => 0.1,
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::DEFAULT
    }
}

/// One step of the confidence: how much it moved and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Factor {
    pub delta: f64,
    pub reason: String,
}

/// What kind of input the diagnosis saw: it decides what it could not see.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// Logs of several nodes and metric dumps.
    Bundle,
    /// Logs of several nodes, no metrics.
    LogsOnly,
    /// One node's full log (no peers to compare with).
    OneNode,
    /// A few pasted lines of one or more nodes, without metrics.
    Excerpt,
    /// Metric dumps only.
    MetricsOnly,
    /// Nothing readable.
    Empty,
}

impl InputKind {
    pub fn name(self) -> &'static str {
        match self {
            InputKind::Bundle => "bundle",
            InputKind::LogsOnly => "logs-only",
            InputKind::OneNode => "one-node",
            InputKind::Excerpt => "excerpt",
            InputKind::MetricsOnly => "metrics-only",
            InputKind::Empty => "empty",
        }
    }

    /// Says what the input was, for the report.
    pub fn describe(self) -> &'static str {
        match self {
            InputKind::Bundle => "logs of several nodes with metric dumps",
            InputKind::LogsOnly => "logs of several nodes, no metric dumps",
            InputKind::OneNode => "the log of one node, no metric dumps",
            InputKind::Excerpt => "an excerpt of a few lines, no metric dumps",
            InputKind::MetricsOnly => "metric dumps without logs",
            InputKind::Empty => "nothing readable",
        }
    }

    /// Tells the input kind from the number of nodes with logs, their
    /// largest line count, and whether metrics were given.
    pub fn classify(log_nodes: usize, max_lines: u64, metrics: bool, p: &Policy) -> InputKind {
        match (log_nodes, metrics) {
            (0, false) => InputKind::Empty,
            (0, true) => InputKind::MetricsOnly,
            (_, false) if max_lines < p.excerpt_max_lines => InputKind::Excerpt,
            (1, false) => InputKind::OneNode,
            (_, false) => InputKind::LogsOnly,
            (_, true) => InputKind::Bundle,
        }
    }
}
