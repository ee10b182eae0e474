//! Node attribution: which node each line belongs to, and how we know.
//!
//! In order of trust: `--node NAME=PATH`; the server name of the segment's
//! startup banner (`Name: n1`); the node a line wrapper names (Kubernetes pod,
//! syslog host, compose service, JSON key); the banner of a sibling rotated
//! file (same directory, same stem); the file or folder name.

use super::sink::FileResult;
use super::{Bundle, FileKind, FileReport, IngestOptions, NodeStats, override_for};
use crate::model::{Event, Node, Value};
use crate::source::names;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Attribution {
    Override,
    Banner,
    LinePrefix,
    RotationSibling,
    Path,
    MetricContent,
    MetricSibling,
    Unattributed,
}

impl Attribution {
    /// How strong the evidence is: 0 = the strongest (an explicit override).
    pub fn strength(self) -> u8 {
        match self {
            Attribution::Override => 0,
            Attribution::Banner => 1,
            Attribution::LinePrefix => 2,
            Attribution::RotationSibling => 3,
            Attribution::MetricContent => 4,
            Attribution::Path => 5,
            Attribution::MetricSibling => 6,
            Attribution::Unattributed => 7,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Attribution::Override => "--node override",
            Attribution::Banner => "startup banner (Name:)",
            Attribution::LinePrefix => "line prefix (pod/host/service)",
            Attribution::RotationSibling => "banner of a sibling rotated file",
            Attribution::Path => "file or folder name",
            Attribution::MetricContent => "server_name in the dump",
            Attribution::MetricSibling => "server_name of the dumps beside it",
            Attribution::Unattributed => "unattributed",
        }
    }
}

impl fmt::Display for Attribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Directory + stem: files of one rotation group.
fn rotation_key(logical: &str) -> (String, String) {
    let (dir, file) = match logical.rfind(['/', '!']) {
        Some(i) => (&logical[..i], &logical[i + 1..]),
        None => ("", logical),
    };
    (dir.to_string(), names::stem(file).to_string())
}

/// The bundle's nodes and file reports, and each file's events with their
/// nodes (in file order: the caller merges them into one stream).
pub(crate) fn resolve(
    mut logs: Vec<FileResult>,
    opts: &IngestOptions,
    templates: &[crate::classify::Template],
) -> (Bundle, Vec<Vec<Event>>) {
    // Deterministic: process files in display order.
    logs.sort_by(|a, b| a.meta.display.cmp(&b.meta.display));
    let mut sibling_names: HashMap<(String, String), String> = HashMap::new();
    for f in &logs {
        if let Some(n) = f.segments.iter().find_map(|s| s.name.clone()) {
            sibling_names
                .entry(rotation_key(&f.meta.logical_path))
                .or_insert(n);
        }
    }
    let mut interned: HashMap<String, Node> = HashMap::new();
    let mut intern = |s: &str| -> Node {
        interned
            .entry(s.to_string())
            .or_insert_with(|| Arc::from(s))
            .clone()
    };
    let mut bundle = Bundle::default();
    let mut raft_ids: HashMap<String, Node> = HashMap::new();
    let mut runs: Vec<Vec<Event>> = Vec::with_capacity(logs.len());
    for f in logs {
        let ov = override_for(&f.meta.display, &opts.node_overrides);
        let path_node = names::node_from_path(&f.meta.logical_path);
        let sibling = sibling_names
            .get(&rotation_key(&f.meta.logical_path))
            .cloned();
        // Per segment: node + method.
        let mut seg_nodes: Vec<(Node, Attribution)> = Vec::with_capacity(f.segments.len());
        for (i, s) in f.segments.iter().enumerate() {
            let first_named_same_key = || {
                f.segments
                    .iter()
                    .find(|o| o.key == s.key && o.name.is_some())
                    .and_then(|o| o.name.clone())
            };
            let (name, how) = if let Some(o) = &ov {
                (o.clone(), Attribution::Override)
            } else if let Some(n) = s.name.clone() {
                (n, Attribution::Banner)
            } else if let Some(n) = first_named_same_key() {
                (n, Attribution::Banner)
            } else if let Some(k) = &s.key {
                (k.clone(), Attribution::LinePrefix)
            } else if let Some(n) = &sibling {
                (n.clone(), Attribution::RotationSibling)
            } else if let Some(n) = &path_node {
                (n.clone(), Attribution::Path)
            } else {
                ("unknown".to_string(), Attribution::Unattributed)
            };
            let _ = i;
            seg_nodes.push((intern(&name), how));
        }
        for (id, seg) in &f.node_ids {
            raft_ids
                .entry(id.clone())
                .or_insert_with(|| seg_nodes[*seg].0.clone());
        }
        // Per-node stats and the file report.
        let mut per_node: BTreeMap<Node, u64> = BTreeMap::new();
        let (mut first, mut last) = (None, None);
        for (s, (node, _)) in f.segments.iter().zip(&seg_nodes) {
            *per_node.entry(node.clone()).or_insert(0) += s.stats.records;
            let ns: &mut NodeStats = bundle.nodes.entry(node.clone()).or_default();
            if ns.files.last().map(|x| &**x) != Some(&*f.meta.display) {
                ns.files.push(f.meta.display.clone());
            }
            ns.records += s.stats.records;
            for (a, b) in ns.levels.iter_mut().zip(s.stats.levels) {
                *a += b;
            }
            ns.starts += s.stats.starts;
            for v in &s.stats.versions {
                if !ns.versions.contains(v) {
                    ns.versions.push(v.clone());
                }
            }
            for (sec, (w, e)) in &s.stats.activity {
                let cell = ns.activity.entry(*sec).or_default();
                cell.0 += w;
                cell.1 += e;
            }
            if let Some(t) = s.stats.first {
                ns.first = Some(ns.first.map_or(t, |x: crate::model::Timestamp| x.min(t)));
                first = Some(first.map_or(t, |x: crate::model::Timestamp| x.min(t)));
            }
            if let Some(t) = s.stats.last {
                ns.last = Some(ns.last.map_or(t, |x: crate::model::Timestamp| x.max(t)));
                last = Some(last.map_or(t, |x: crate::model::Timestamp| x.max(t)));
            }
            let by_kind = s
                .stats
                .by_template
                .iter()
                .enumerate()
                .filter(|(_, v)| v.count > 0)
                .map(|(i, v)| (templates[i].kind.clone(), v));
            for (k, v) in by_kind.chain(s.stats.unmatched.iter().map(|(k, v)| (k.clone(), v))) {
                let e = ns.templates.entry(k).or_default();
                e.count += v.count;
                e.classified |= v.classified;
                e.max_level = e.max_level.max(v.max_level);
            }
        }
        let main = per_node
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(n, _)| n.clone());
        let how = main
            .as_ref()
            .and_then(|m| seg_nodes.iter().find(|(n, _)| n == m).map(|(_, h)| *h))
            .unwrap_or(match (&ov, &path_node) {
                (Some(_), _) => Attribution::Override,
                (None, Some(_)) => Attribution::Path,
                _ => Attribution::Unattributed,
            });
        // A file with no record (not a log at all) belongs to no node.
        let main = if f.account.parsed == 0 {
            None
        } else {
            main.or_else(|| ov.as_deref().or(path_node.as_deref()).map(&mut intern))
        };
        runs.push(
            f.events
                .into_iter()
                .map(|(mut ev, seg)| {
                    ev.node = seg_nodes[seg].0.clone();
                    ev
                })
                .collect(),
        );
        bundle.files.push(FileReport {
            display: f.meta.display.clone(),
            kind: FileKind::Log,
            node: main,
            attribution: how,
            account: f.account,
            compression: f.meta.compression.iter().map(|c| c.name()).collect(),
            nodes: per_node,
            first,
            last,
        });
    }
    // Name the peer of RAFT lines when its banner was seen.
    if !raft_ids.is_empty() {
        let key: Arc<str> = "raft_node_name".into();
        for ev in runs.iter_mut().flatten() {
            let id = match ev.field("raft_node") {
                Some(Value::Str(s)) => s.clone(),
                _ => continue,
            };
            if let Some(n) = raft_ids.get(&*id) {
                ev.fields.push((key.clone(), Value::Str(n.clone())));
            }
        }
    }
    (bundle, runs)
}
