//! Clock offsets between nodes, estimated from events both sides logged: a
//! new meta leader logs `Self is new JetStream cluster metadata leader` while
//! every peer logs `JetStream cluster new metadata leader: <name>/<cluster>`
//! within milliseconds. The median difference per node is its offset from the
//! leader's clock; nodes are put on the clock of the node with most pairs.

use crate::model::{Event, Nanos, Node, Value};
use crate::vocab::kind;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub struct ClockOffset {
    pub node: Node,
    /// How far this node's clock is ahead of the reference clock.
    pub offset: Nanos,
    pub pairs: usize,
}

const MAX_PAIR_GAP: Nanos = 10 * 1_000_000_000;

pub fn estimate_offsets(events: &[Event]) -> Vec<ClockOffset> {
    // (leader, time) of every self-election.
    let selfs: Vec<(&Node, i64)> = events
        .iter()
        .filter(|e| &*e.kind == kind::META_LEADER_SELF)
        .filter_map(|e| Some((&e.node, e.ts?.0)))
        .collect();
    if selfs.is_empty() {
        return Vec::new();
    }
    // diffs[(peer, leader)] = peer_time - leader_time
    let mut diffs: BTreeMap<(Node, Node), Vec<i64>> = BTreeMap::new();
    for e in events.iter().filter(|e| &*e.kind == kind::META_LEADER_NEW) {
        let (Some(ts), Some(Value::Str(l))) = (e.ts, e.field("leader")) else {
            continue;
        };
        let leader = l.split('/').next().unwrap_or(l);
        let best = selfs
            .iter()
            .filter(|(n, _)| &***n == leader)
            .min_by_key(|(_, t)| (ts.0 - t).abs());
        if let Some((ln, lt)) = best {
            if (ts.0 - lt).abs() <= MAX_PAIR_GAP && *ln != &e.node {
                diffs
                    .entry((e.node.clone(), (*ln).clone()))
                    .or_default()
                    .push(ts.0 - lt);
            }
        }
    }
    if diffs.is_empty() {
        return Vec::new();
    }
    // Reference: the leader seen in most pairs. Offsets relative to it; one hop only.
    let mut count: BTreeMap<&Node, usize> = BTreeMap::new();
    for ((_, l), v) in &diffs {
        *count.entry(l).or_default() += v.len();
    }
    let reference = count
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(n, _)| (*n).clone());
    let Some(reference) = reference else {
        return Vec::new();
    };
    let mut out = vec![ClockOffset {
        node: reference.clone(),
        offset: 0,
        pairs: count[&reference],
    }];
    for ((peer, leader), mut v) in diffs.clone() {
        if leader != reference || out.iter().any(|o| o.node == peer) {
            continue;
        }
        v.sort_unstable();
        let median = v[v.len() / 2];
        // Propagation takes a few ms: only a clearly larger difference is skew.
        let offset = if median.abs() < 200_000_000 {
            0
        } else {
            median
        };
        out.push(ClockOffset {
            node: peer,
            offset,
            pairs: v.len(),
        });
    }
    out.sort_by(|a, b| a.node.cmp(&b.node));
    out
}
