//! Dating the rows of CLI outputs and pasted dumps ([`Event::snapshot`]).
//!
//! A snapshot shows a state when it was taken, which is after the logs it is
//! pasted beside: a `kubectl get pods` counting twelve restarts was typed once
//! they had happened. A row without a time of its own (its file had none
//! before it) is dated at the end of the timed data — the last time any log
//! line or metric sample carries — so it neither opens the incident nor leaves
//! its node "silent" since 1970. When nothing carries a time, rows keep their
//! place in their file (`line N (no time)`), as header-less lines do.

use super::{MetricFile, NodeStats};
use crate::model::{Event, Node, Timestamp};
use std::collections::BTreeMap;

/// Dates the undated snapshot rows of every file's events `runs` and counts
/// them in their nodes' spans.
pub(crate) fn date(
    nodes: &mut BTreeMap<Node, NodeStats>,
    runs: &mut [Vec<Event>],
    metric_files: &[MetricFile],
) {
    let timed = |t: Option<Timestamp>| t.filter(|t| !t.is_line_order());
    let logs_end = runs
        .iter()
        .flatten()
        .filter(|e| !e.snapshot)
        .filter_map(|e| timed(e.last_ts()))
        .max();
    let metrics_end = metric_files.iter().filter_map(|m| timed(m.last)).max();
    let end = logs_end.max(metrics_end);
    for e in runs.iter_mut().flatten().filter(|e| e.snapshot) {
        if let Some(end) = end
            && e.ts.is_none_or(Timestamp::is_line_order)
        {
            e.ts = Some(end);
        }
        if let Some(t) = e.ts {
            let ns = nodes.entry(e.node.clone()).or_default();
            ns.first = Some(ns.first.map_or(t, |f| f.min(t)));
            ns.last = Some(ns.last.map_or(t, |l| l.max(t)));
        }
    }
}
