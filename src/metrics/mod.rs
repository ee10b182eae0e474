//! Metric samples of all files → per-node time series on one clock.
//!
//! [`MetricSet::build`] takes every [`Sample`] once and, with polars inside
//! this module only, deduplicates (same node, metric, labels and time: the
//! last one read wins), sorts, keeps one source per metric when several
//! endpoints report it (`jsz` before `varz` before `routez`...), aggregates
//! label sets (sum; `min` for 0/1 health metrics), turns counters into
//! per-second rates (no point across a reset or a restart: never a negative
//! rate), derives the series the rules need and finds scrape gaps. The result
//! is plain Rust ([`Series`], [`Span`]) for the rule engine.
//!
//! Missing data stays missing: a gap is a gap, never zeros.
//!
//! # Canonical metric names
//!
//! The names, units and sources are the vocabulary's ([`crate::vocab::METRICS`]),
//! listed in `src/metrics/METRICS.md` (generated from it).
//!
//! Prometheus names without an obvious twin are kept as they are; CSV
//! columns without one become `csv_<column>`. Nodes whose name starts with
//! `@` (`@host`, `@unknown`) are not cluster nodes: [`MetricSet::nodes`]
//! leaves them out.

mod build;
mod derive;
mod export;
mod names;

pub use export::{OutputFormat, Selection};
pub use names::{counters, gauge_diffs, is_derived};

use crate::model::{NANOS_PER_SEC, Nanos, Series, Span, Timestamp};
use crate::parse::metric::Sample;
use polars::prelude::DataFrame;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Node name for samples nothing attributed.
pub const UNKNOWN_NODE: &str = "@unknown";

/// Every metric of every node, built once.
pub struct MetricSet {
    /// node → metric → series: canonical (labels aggregated) and derived.
    series: BTreeMap<Arc<str>, BTreeMap<Arc<str>, Series>>,
    /// node → scrape gaps.
    gaps: BTreeMap<Arc<str>, Vec<Span>>,
    /// Deduplicated samples as read, labels kept (ids into the dictionaries).
    raw: DataFrame,
    dict: build::Dicts,
    span: Option<Span>,
}

/// One node's entry in the summary.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeSummary {
    pub node: Arc<str>,
    pub metrics: Vec<Arc<str>>,
    pub span: Option<Span>,
    /// Typical sampling step (median, over the node's series).
    pub step: Nanos,
    pub points: usize,
    pub gaps: Vec<Span>,
    /// Server restarts seen (start time changed).
    pub restarts: u32,
}

/// A metric on a common time grid across nodes. `values[node][bucket]` is the
/// mean of the samples in `[times[bucket], times[bucket] + step)`, or `None`
/// when the node had none there (a gap stays a gap).
#[derive(Clone, Debug, PartialEq)]
pub struct Resampled {
    pub metric: Arc<str>,
    pub step: Nanos,
    pub times: Vec<Timestamp>,
    pub nodes: Vec<Arc<str>>,
    pub values: Vec<Vec<Option<f64>>>,
}

impl MetricSet {
    /// Builds every series from all samples of all files.
    pub fn build(samples: Vec<Sample>) -> MetricSet {
        build::build(vec![samples])
    }

    /// Builds every series from the samples of each file, freeing each
    /// file's samples as soon as they are in the frame.
    pub fn build_from_files(files: Vec<Vec<Sample>>) -> MetricSet {
        build::build(files)
    }

    /// An empty set (no metric files).
    pub fn empty() -> MetricSet {
        build::build(Vec::new())
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Frees the samples as read, kept only for `coroner metrics`'s export:
    /// the series, gaps and span stay. `analyze`
    /// reads only those, and the samples are its largest metric allocation.
    pub fn forget_samples(&mut self) {
        self.raw = self.raw.clear();
    }

    /// Cluster nodes, sorted (pseudo-nodes such as `@host` left out).
    pub fn nodes(&self) -> Vec<Arc<str>> {
        self.series
            .keys()
            .filter(|n| !n.starts_with('@'))
            .cloned()
            .collect()
    }

    /// Every node including pseudo-nodes (`@host`, `@unknown`), sorted.
    pub fn all_nodes(&self) -> Vec<Arc<str>> {
        self.series.keys().cloned().collect()
    }

    /// Canonical metric names present on any node, sorted.
    pub fn metric_names(&self) -> Vec<Arc<str>> {
        let mut v: Vec<Arc<str>> = self
            .series
            .values()
            .flat_map(|m| m.keys().cloned())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Metric names of one node, sorted.
    pub fn node_metrics(&self, node: &str) -> Vec<Arc<str>> {
        self.series
            .get(node)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn series(&self, node: &str, metric: &str) -> Option<&Series> {
        self.series.get(node)?.get(metric)
    }

    /// Every node's series of one metric (pseudo-nodes included), by node.
    pub fn series_of(&self, metric: &str) -> Vec<&Series> {
        self.series.values().filter_map(|m| m.get(metric)).collect()
    }

    /// Scrape gaps: the node did not answer while its peers did. Each span
    /// runs from the last answer before the silence to the first answer after
    /// it (or to the last failed fetch / peer answer if it never came back).
    pub fn gaps(&self, node: &str) -> &[Span] {
        self.gaps.get(node).map_or(&[], Vec::as_slice)
    }

    /// First to last sample over all nodes.
    pub fn span(&self) -> Option<Span> {
        self.span
    }

    /// Each cluster node's value of `metric` at `t` (last sample at or before
    /// `t`, no older than 3 steps; nodes without one are left out).
    pub fn peers_at(&self, metric: &str, t: Timestamp) -> Vec<(Arc<str>, f64)> {
        self.nodes()
            .into_iter()
            .filter_map(|n| {
                let s = self.series(&n, metric)?;
                let v = s.value_at(t, max_age(s))?;
                Some((n, v))
            })
            .collect()
    }

    /// How far `node` stands from its peers at `t`: `(value, median of the
    /// other nodes)`. `None` when the node or all peers lack a value.
    pub fn peer_deviation(&self, metric: &str, node: &str, t: Timestamp) -> Option<(f64, f64)> {
        let all = self.peers_at(metric, t);
        let own = all.iter().find(|(n, _)| &**n == node)?.1;
        let mut others: Vec<f64> = all
            .iter()
            .filter(|(n, _)| &**n != node)
            .map(|(_, v)| *v)
            .collect();
        if others.is_empty() {
            return None;
        }
        others.sort_by(f64::total_cmp);
        let m = others.len();
        let median = if m % 2 == 1 {
            others[m / 2]
        } else {
            (others[m / 2 - 1] + others[m / 2]) / 2.0
        };
        Some((own, median))
    }

    /// `metric` on a common grid of `step` across cluster nodes (polars
    /// `group_by_dynamic`, mean per bucket); empty buckets stay `None`.
    pub fn resample(&self, metric: &str, step: Nanos) -> Resampled {
        export::resample(self, metric, step)
    }

    /// Per node: metrics found, time span, step, gaps, restarts.
    pub fn summary(&self) -> Vec<NodeSummary> {
        self.series
            .iter()
            .map(|(node, m)| {
                let mut steps: Vec<Nanos> = m.values().map(|s| s.step).filter(|&s| s > 0).collect();
                steps.sort_unstable();
                let step = steps.get(steps.len() / 2).copied().unwrap_or(0);
                let span = m
                    .values()
                    .filter_map(Series::span)
                    .reduce(|a, b| Span::new(a.start.min(b.start), a.end.max(b.end)));
                let restarts = m
                    .get("restarts")
                    .and_then(|s| s.points.last())
                    .map_or(0, |p| p.value as u32);
                NodeSummary {
                    node: node.clone(),
                    metrics: m.keys().cloned().collect(),
                    span,
                    step,
                    points: m.values().map(|s| s.points.len()).sum(),
                    gaps: self.gaps(node).to_vec(),
                    restarts,
                }
            })
            .collect()
    }

    /// The long frame: `time` (datetime ns, UTC), `node`, `metric`, `value`,
    /// `labels` (`k=v,k2=v2`): the deduplicated samples as read plus the
    /// derived series, restricted to `sel`.
    pub fn to_long_frame(&self, sel: &Selection) -> Result<DataFrame, ExportError> {
        export::long_frame(self, sel)
    }

    /// Writes the long frame as CSV (`time,node,metric,value,labels`).
    pub fn write_csv(
        &self,
        sel: &Selection,
        out: &mut dyn std::io::Write,
    ) -> Result<(), ExportError> {
        export::write_csv(self, sel, out)
    }

    /// Writes the long frame as JSON lines.
    pub fn write_json(
        &self,
        sel: &Selection,
        out: &mut dyn std::io::Write,
    ) -> Result<(), ExportError> {
        export::write_json(self, sel, out)
    }

    /// Writes the long frame as Parquet (for notebooks, DuckDB, pandas).
    pub fn write_parquet(
        &self,
        sel: &Selection,
        out: &mut dyn std::io::Write,
    ) -> Result<(), ExportError> {
        export::write_parquet(self, sel, out)
    }
}

/// Why series could not be exported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    #[error("building the metric frame failed: {0}")]
    Frame(#[from] polars::error::PolarsError),
    #[error("writing CSV failed: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing JSON failed: {0}")]
    Json(#[from] serde_json::Error),
    #[error("writing failed: {0}")]
    Io(#[from] std::io::Error),
}

/// How old a sample may be and still stand for "now": 3 steps, at least 1 s.
pub fn max_age(s: &Series) -> Nanos {
    (s.step * 3).max(NANOS_PER_SEC)
}

/// Step change: `(mean over window, mean over baseline)` of a series, for
/// "rose N-fold against the previous 5 minutes" checks. `None` if either
/// window holds no sample.
pub fn step_change(s: &Series, baseline: Span, window: Span) -> Option<(f64, f64)> {
    Some((
        s.window(window.start, window.end).mean?,
        s.window(baseline.start, baseline.end).mean?,
    ))
}

impl crate::engine::MetricSource for MetricSet {
    fn series(&self, node: &str, metric: &str) -> Option<&Series> {
        MetricSet::series(self, node, metric)
    }
    fn nodes(&self) -> Vec<Arc<str>> {
        MetricSet::nodes(self)
    }
    fn gaps(&self, node: &str) -> &[Span] {
        MetricSet::gaps(self, node)
    }
    fn span(&self) -> Option<Span> {
        MetricSet::span(self)
    }
}
