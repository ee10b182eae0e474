//! What every report shows, computed once: the cross-node timeline of key
//! events and the per-node summaries.

use crate::analyze::Analysis;
use crate::model::{Node, Severity, Timestamp};

#[derive(Clone, Debug, PartialEq)]
pub struct TimelineEntry {
    pub at: Timestamp,
    pub node: Option<Node>,
    pub what: String,
    pub severity: Option<Severity>,
    pub location: Option<String>,
}

/// Findings (first occurrence per rule and node) and notable events, in time order.
pub fn timeline(a: &Analysis, max: usize) -> Vec<TimelineEntry> {
    let mut out = Vec::new();
    for f in &a.findings {
        if f.severity < Severity::Medium {
            continue;
        }
        let loc = f
            .evidence
            .iter()
            .find_map(|e| e.loc.as_ref())
            .map(|l| l.to_string());
        out.push(TimelineEntry {
            at: f.start,
            node: f.node.clone(),
            what: format!("[{}] {}: {}", f.category, f.title, f.message),
            severity: Some(f.severity),
            location: loc,
        });
    }
    let mut seen = std::collections::HashSet::new();
    for e in &a.bundle.events {
        if !crate::vocab::kind::TIMELINE.contains(&&*e.kind) {
            continue;
        }
        let Some(ts) = e.ts else { continue };
        // one line per (node, kind, second)
        if !seen.insert((e.node.clone(), e.kind.clone(), ts.0 / 1_000_000_000)) {
            continue;
        }
        out.push(TimelineEntry {
            at: ts,
            node: Some(e.node.clone()),
            what: e.message.to_string(),
            severity: None,
            location: Some(e.loc.to_string()),
        });
    }
    out.sort_by(|a, b| {
        a.at.cmp(&b.at)
            .then(a.node.cmp(&b.node))
            .then(a.what.cmp(&b.what))
    });
    if out.len() > max {
        // Keep every finding; thin out plain events.
        let findings = out.iter().filter(|e| e.severity.is_some()).count();
        let mut budget = max.saturating_sub(findings);
        out.retain(|e| {
            if e.severity.is_some() {
                true
            } else if budget > 0 {
                budget -= 1;
                true
            } else {
                false
            }
        });
    }
    out
}

#[derive(Clone, Debug, PartialEq)]
pub struct NodeView {
    pub name: Node,
    pub attribution: String,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    pub levels: [u64; 6],
    pub restarts: u64,
    pub findings: usize,
    pub worst: Option<Severity>,
    pub health: &'static str,
    pub gaps: usize,
    /// Warnings+errors per bucket over the whole span (for sparklines).
    pub density: Vec<u64>,
    /// The nats-server releases the node ran, in order (banner, `/varz`).
    pub releases: Vec<crate::model::Release>,
}

pub fn nodes(a: &Analysis, buckets: usize) -> Vec<NodeView> {
    let span = a.bundle.span();
    let mut names: Vec<Node> = a
        .bundle
        .nodes
        .keys()
        .filter(|n| !n.starts_with('@'))
        .cloned()
        .collect();
    for n in a.metrics.nodes() {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let st = a.bundle.nodes.get(&n);
            // The strongest evidence among the node's files (a banner beats a path).
            let attribution = a
                .bundle
                .files
                .iter()
                .filter(|f| f.node.as_ref() == Some(&n))
                .min_by_key(|f| f.attribution.strength())
                .map(|f| f.attribution.to_string())
                .unwrap_or_else(|| "metrics only".into());
            let fs: Vec<_> = a
                .findings
                .iter()
                .filter(|f| f.node.as_ref() == Some(&n))
                .collect();
            let worst = fs.iter().map(|f| f.severity).max();
            let failing = a.verdict.failing_node.as_ref() == Some(&n);
            let health = if failing {
                "failing"
            } else if worst >= Some(Severity::Medium) {
                "affected"
            } else {
                "ok"
            };
            let mut density = vec![0u64; buckets];
            if let (Some((s, e)), Some(st)) = (span, st) {
                let w = (e.since(s) / buckets as i64).max(1);
                for (&sec, &(warn, err)) in &st.activity {
                    let t = Timestamp(sec * 1_000_000_000);
                    let i = (t.since(s) / w).clamp(0, buckets as i64 - 1) as usize;
                    density[i] += u64::from(warn) + u64::from(err);
                }
            }
            NodeView {
                attribution,
                first: st.and_then(|s| s.first),
                last: st.and_then(|s| s.last),
                levels: st.map(|s| s.levels).unwrap_or_default(),
                restarts: st.map_or(0, |s| s.starts.saturating_sub(1)),
                findings: fs.len(),
                worst,
                health,
                gaps: a.metrics.gaps(&n).len(),
                density,
                releases: a.releases.releases(&n),
                name: n,
            }
        })
        .collect()
}

/// `▁▂▃▄▅▆▇█` sparkline of counts.
pub fn sparkline(v: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = v.iter().copied().max().unwrap_or(0);
    v.iter()
        .map(|&x| {
            if x == 0 {
                ' '
            } else {
                BARS[((x as f64 / max as f64) * 7.0).round() as usize]
            }
        })
        .collect()
}
