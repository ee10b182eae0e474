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
//! | name | unit | source |
//! |---|---|---|
//! | `up` | 0/1 | 1 = the node answered a monitoring fetch, 0 = failed fetch (all endpoints merged into rounds; a failure in a round wins) |
//! | `healthy` | 0/1 | `/healthz` status `ok` = 1, anything else 0 (only when the node answered) |
//! | `cpu` | % of one core | `/varz` `cpu` (`gnatsd_varz_cpu`) |
//! | `proc_cpu` | % of one core | `proc.csv` `cpu_pct` |
//! | `proc_stopped` | 0/1 | `proc.csv` state `T` (SIGSTOP, frozen) |
//! | `proc_absent` | 0/1 | `proc.csv` state `absent` (no process) |
//! | `proc_rss` | bytes | `proc.csv` `rss_kb` × 1024 |
//! | `proc_pid` | | `proc.csv` `pid` |
//! | `mem_rss` | bytes | `/varz` `mem` |
//! | `cores`, `gomaxprocs` | | `/varz` |
//! | `connections`, `connections_rate` | count, per s | `/varz` (else `/connz`) and its signed rate of change |
//! | `total_connections`, `total_connections_rate` | count, per s | `/varz` cumulative |
//! | `routes` | count | `/varz` (else `/routez` `num_routes`) |
//! | `route_pending` | bytes | `/routez` sum of `pending_size` |
//! | `raft_groups`, `raft_groups_leaderless` | count | `/raftz` (as `coroner collect` writes it): Raft groups of the server, and those without a leader in its view |
//! | `ipq_js_api_pending`, `ipq_js_api_in_progress` | requests | `/ipqueuesz` queue `JetStream API queue` |
//! | `subscriptions`, `leafnodes` | count | `/varz` |
//! | `slow_consumers`, `slow_consumers_rate` | count, per s | `/varz` cumulative |
//! | `in_msgs`, `out_msgs`, `in_bytes`, `out_bytes` | cumulative | `/varz` |
//! | `in_msgs_rate`, `out_msgs_rate`, `in_bytes_rate`, `out_bytes_rate` | per s | derived |
//! | `js_api_total`, `js_api_errors` | cumulative | `/jsz` (else `/varz` `jetstream.stats.api`) |
//! | `js_api_rate`, `js_api_errors_rate` | per s | derived |
//! | `js_api_pending` | requests | meta `pending`: the JetStream API queue (2.10.21+; absent = 0 there) |
//! | `js_api_inflight` | requests | `api.inflight` (absent = 0) |
//! | `js_mem`, `js_store`, `js_mem_max`, `js_store_max` | bytes | JetStream usage and configured limits |
//! | `js_mem_pct`, `js_store_pct` | % | usage / limit × 100 |
//! | `js_reserved_mem`, `js_reserved_store` | bytes | |
//! | `js_ha_assets`, `js_streams`, `js_consumers`, `js_messages`, `js_bytes` | | `/jsz` |
//! | `meta_has_leader` | 0/1 | 0 when the node's meta view has no leader |
//! | `meta_leader_self` | 0/1 | 1 when the node reports itself as meta leader |
//! | `meta_leader_changes` | cumulative | leader changes seen by this node |
//! | `meta_cluster_size` | | |
//! | `fds`, `threads` | | `proc.csv` |
//! | `cg_nr_throttled`, `cg_throttled_rate` | count, per s | cgroup CPU throttling periods (`proc.csv`) |
//! | `cg_throttled_ms`, `cg_throttled_ms_rate` | ms, ms per s | time throttled |
//! | `uptime_s` | s | `now - start` |
//! | `start_time` | Unix s | `/varz` `start` |
//! | `server_version` | | `/varz` `version` as major × 10⁶ + minor × 10³ + patch (2.10.8 = 2010008) |
//! | `restarts` | cumulative | times the server start time changed (else the pid) |
//! | `raft_groups`, `raft_leader_groups`, `raft_leaderless_groups` | count | `/raftz` (2.10.17+): Raft groups of the node, those it leads, those without a leader |
//! | `raft_apply_lag_max` | entries | `/raftz`: the largest `committed - applied` of its groups |
//! | `raft_ipq_max` | entries | `/raftz`: the largest internal queue (`ipq_*_len`) of its groups |
//! | `raft_wal_bytes` | bytes | `/raftz`: WAL bytes of all its groups |
//! | `raft_meta_term` | | `/raftz`: term of the meta group (`_meta_`) |
//! | `ipq_js_api_pending` | requests | `/ipqueuesz`: pending of the JetStream API queue (`Routed JS API Requests` 2.10, `JetStream API queue` 2.11+) |
//! | `ipq_js_api_info_pending` | requests | `/ipqueuesz`: `JetStream API info queue` (2.11+) |
//! | `ipq_pending_max` | entries | `/ipqueuesz`: the largest pending of the queues fetched |
//! | `stalled_clients`, `stale_connections` | cumulative | `/varz` (2.12+) |
//! | `slow_consumers_clients`, `slow_consumers_routes` | cumulative | `/varz` `slow_consumer_stats` (2.10+) |
//! | `stale_connections_clients`, `stale_connections_routes` | cumulative | `/varz` `stale_connection_stats` (2.12+) |
//! | `meta_snapshot_pending_entries`, `meta_snapshot_pending_bytes` | | meta `snapshot.pending_entries/pending_size` (2.11.11+) |
//! | `in_client_msgs`, `out_client_msgs` | cumulative | `/varz` (2.12.9+) |
//! | `disk_io_waiters` | | `/varz` `disk_io_wait_stats.waiters` (2.12.14+) |
//! | `js_api_pending_requests`, `js_api_pending_infos` | requests | meta `pending_requests/pending_infos` (2.14+) |
//! | `host_load1`, `host_cpu`, `host_mem_available`, ... | | `host.csv`, node `@host` |
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
