//! Detections → hits. Each function documents its semantics; rules/README.md
//! has the same text for rule authors.

use super::{Ctx, Hit, metric, sequence, stream};
use crate::lang::ir::{Agg, Detect, Sel};
use crate::model::{Evidence, Finding, Node, Timestamp, Value, format_duration};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub(crate) fn hits(cx: &Ctx<'_>, d: &Detect, key_override: Option<&[Arc<str>]>) -> Vec<Hit> {
    match d {
        Detect::Event { sel, by } => event(cx, sel, key_override.unwrap_or(by)),
        Detect::Window {
            agg,
            field,
            sel,
            op,
            value,
            within,
            by,
        } => window(
            cx,
            *agg,
            field.as_deref(),
            sel,
            *op,
            *value,
            *within,
            key_override.unwrap_or(by),
        ),
        Detect::Metric(m) => metric::hits(cx, m),
        Detect::NotFollowed { a, b, within, by } => {
            stream::not_followed(cx, a, b, *within, key_override.unwrap_or(by))
        }
        Detect::Sequence { by, within, steps } => sequence::hits(cx, by, *within, steps),
        Detect::Silence {
            sel,
            scrapes,
            dur,
            peers,
        } => silence(cx, sel.as_ref(), *scrapes, *dur, *peers),
        Detect::Gap { dur, peers } => gap(cx, *dur, *peers),
        Detect::Cascade { .. } => Vec::new(),
    }
}

pub(crate) fn event_hit(cx: &Ctx<'_>, i: u32, key: Vec<String>) -> Hit {
    let e = &cx.events[i as usize];
    let ts = cx.ts(i);
    Hit {
        node: e.node.clone(),
        key,
        start: ts,
        at: ts,
        end: cx.ts_end(i),
        ord: i as u64,
        events: vec![i],
        notes: Vec::new(),
        // Filled lazily from the first event (findings, sequence steps):
        // cloning every field of every selected event costs memory on big inputs.
        caps: Vec::new(),
    }
}

/// Every selected event is a hit.
fn event(cx: &Ctx<'_>, sel: &Sel, by: &[Arc<str>]) -> Vec<Hit> {
    cx.select(sel)
        .into_iter()
        .filter_map(|i| Some(event_hit(cx, i, cx.key_of(i, by)?)))
        .collect()
}

/// Groups selected events by (node, key), in time order.
pub(crate) fn groups(
    cx: &Ctx<'_>,
    idx: Vec<u32>,
    by: &[Arc<str>],
) -> BTreeMap<(Node, Vec<String>), Vec<u32>> {
    let mut g: BTreeMap<(Node, Vec<String>), Vec<u32>> = BTreeMap::new();
    for i in idx {
        if let Some(k) = cx.key_of(i, by) {
            g.entry((cx.events[i as usize].node.clone(), k))
                .or_default()
                .push(i);
        }
    }
    g
}

/// `window` hits (sequence steps; `window` rules run as
/// [`stream::window_runs`]): every episode of the test on each group, with
/// all its events.
#[allow(clippy::too_many_arguments)]
fn window(
    cx: &Ctx<'_>,
    agg: Agg,
    field: Option<&str>,
    sel: &Sel,
    op: crate::lang::ir::CmpOp,
    value: f64,
    within: i64,
    by: &[Arc<str>],
) -> Vec<Hit> {
    let t = stream::WindowTest {
        agg,
        field,
        op,
        value,
        within,
    };
    let mut out = Vec::new();
    for ((node, key), evs) in groups(cx, cx.select(sel), by) {
        let mut win = stream::WindowState::new(true);
        let mut eps: Vec<stream::Episode> = Vec::new();
        for i in evs {
            eps.extend(win.feed(cx, &t, i));
        }
        eps.extend(win.end());
        for ep in eps {
            out.push(Hit {
                node: node.clone(),
                key: key.clone(),
                start: ep.start,
                at: ep.at,
                end: ep.end,
                ord: u64::from(ep.first),
                caps: stream::window_caps(&t, ep.peak),
                events: ep.acc.into_all(),
                notes: Vec::new(),
            });
        }
    }
    out
}

fn nodes_with_metrics(cx: &Ctx<'_>) -> Vec<Node> {
    cx.metrics.nodes()
}

/// A node without selected log lines for at least `dur`: between two of its
/// lines, or from its last line to the end of the data (only when that much
/// data exists after it). Never before the node's first line. `and scrapes`:
/// the silence must also lie inside one of the node's scrape gaps. `while
/// peers active`: another node logged (or was scraped) during the silence.
fn silence(cx: &Ctx<'_>, sel: Option<&Sel>, scrapes: bool, dur: i64, peers: bool) -> Vec<Hit> {
    let Some(end) = cx.data_end else {
        return Vec::new();
    };
    let idx = match sel {
        Some(s) => cx.select(s),
        None => cx.timed.clone(),
    };
    // Grouped by the node's text (hashed, not compared per event), then in
    // node order.
    let mut by_node: HashMap<&str, Vec<u32>, foldhash::fast::FixedState> = HashMap::default();
    for i in idx {
        by_node
            .entry(&*cx.events[i as usize].node)
            .or_default()
            .push(i);
    }
    let per_node: BTreeMap<Node, Vec<u32>> = by_node
        .into_values()
        .map(|evs| (cx.events[evs[0] as usize].node.clone(), evs))
        .collect();
    let metric_nodes = nodes_with_metrics(cx);
    let mut out = Vec::new();
    for (node, evs) in &per_node {
        // A piece of a quiet interval is never longer than the interval.
        for (a, b, last_ev) in quiet_intervals(cx, evs, end, dur) {
            let mut pieces = vec![(a, b)];
            if scrapes {
                pieces = cx
                    .metrics
                    .gaps(node)
                    .iter()
                    .filter_map(|g| {
                        let s = a.max(g.start);
                        let e = b.min(g.end);
                        (s < e).then_some((s, e))
                    })
                    .collect();
            }
            for (s, e) in pieces {
                if e.since(s) < dur {
                    continue;
                }
                let mut active: Vec<Node> = Vec::new();
                if peers {
                    active = active_peers(cx, node, &per_node, &metric_nodes, (s, e), scrapes);
                    if active.is_empty() {
                        continue;
                    }
                    active.sort();
                }
                let what = if scrapes {
                    "no log line and no scrape"
                } else {
                    "no log line"
                };
                let peers_txt = if peers {
                    format!(" while {} kept going", join(&active))
                } else {
                    String::new()
                };
                out.push(Hit {
                    node: node.clone(),
                    key: Vec::new(),
                    start: s,
                    at: s.add(dur),
                    end: e,
                    ord: u64::MAX,
                    events: if s == a { vec![last_ev] } else { Vec::new() },
                    notes: vec![Evidence {
                        loc: None,
                        ts: Some(s),
                        node: Some(node.clone()),
                        level: None,
                        text: format!(
                            "{what} from {node} for {} ({} → {}){peers_txt}",
                            format_duration(e.since(s)),
                            s.hms_millis(),
                            e.hms_millis()
                        )
                        .into(),
                    }],
                    caps: vec![
                        ("silent_for".into(), Value::Float(e.since(s) as f64 / 1e9)),
                        ("peers".into(), Value::Str(join(&active).into())),
                    ],
                });
            }
        }
    }
    out
}

/// The node's quiet intervals of at least `min`: from the last line seen so
/// far (an event may stand for several lines of one second) to the next
/// event, and from the last to the end of the data; each with the event it
/// starts after.
fn quiet_intervals(
    cx: &Ctx<'_>,
    evs: &[u32],
    end: Timestamp,
    min: i64,
) -> Vec<(Timestamp, Timestamp, u32)> {
    let mut intervals: Vec<(Timestamp, Timestamp, u32)> = Vec::new();
    let mut reach: Option<(Timestamp, u32)> = None;
    for &i in evs {
        if let Some((r, by)) = reach
            && cx.ts(i).since(r) >= min
        {
            intervals.push((r, cx.ts(i), by));
        }
        let t = cx.ts_end(i);
        if reach.is_none_or(|(r, _)| t >= r) {
            reach = Some((t, i));
        }
    }
    if let Some((r, by)) = reach
        && end.since(r) >= min
    {
        intervals.push((r, end, by));
    }
    intervals
}

/// The peers of `node` that kept going during `(s, e)`: a log line inside it
/// or (with `scrapes`) answered scrapes in its middle.
fn active_peers(
    cx: &Ctx<'_>,
    node: &Node,
    per_node: &BTreeMap<Node, Vec<u32>>,
    metric_nodes: &[Node],
    (s, e): (Timestamp, Timestamp),
    scrapes: bool,
) -> Vec<Node> {
    let mut active: Vec<Node> = Vec::new();
    for (other, oevs) in per_node {
        if other == node {
            continue;
        }
        // A line of the peer inside (s, e); events end at most
        // a second after they start.
        let from = Timestamp(s.0.saturating_sub(1_000_000_000));
        let p = oevs.partition_point(|&j| cx.ts(j) <= from);
        if oevs[p..]
            .iter()
            .take_while(|&&j| cx.ts(j) < e)
            .any(|&j| cx.ts_end(j) > s)
        {
            active.push(other.clone());
        }
    }
    if scrapes {
        for other in metric_nodes {
            if other == node || active.contains(other) {
                continue;
            }
            let mid = Timestamp(s.0 + (e.0 - s.0) / 2);
            if !cx.metrics.gaps(other).iter().any(|g| g.contains(mid)) {
                active.push(other.clone());
            }
        }
    }
    active
}

fn join(nodes: &[Node]) -> String {
    nodes.iter().map(|n| &**n).collect::<Vec<_>>().join(", ")
}

/// A scrape gap of the node (from the metric source) lasting at least `dur`.
/// `while peers active`: another node was scraped during the gap (so the
/// collector itself was working).
fn gap(cx: &Ctx<'_>, dur: i64, peers: bool) -> Vec<Hit> {
    let nodes = nodes_with_metrics(cx);
    let mut out = Vec::new();
    for node in &nodes {
        for g in cx.metrics.gaps(node) {
            if g.duration() < dur {
                continue;
            }
            let mid = Timestamp(g.start.0 + g.duration() / 2);
            let active: Vec<Node> = nodes
                .iter()
                .filter(|o| *o != node && !cx.metrics.gaps(o).iter().any(|x| x.contains(mid)))
                .cloned()
                .collect();
            if peers && active.is_empty() {
                continue;
            }
            let peers_txt = if active.is_empty() {
                String::new()
            } else {
                format!(" while {} answered", join(&active))
            };
            out.push(Hit {
                node: node.clone(),
                key: Vec::new(),
                start: g.start,
                at: g.start.add(dur),
                end: g.end,
                ord: u64::MAX,
                events: Vec::new(),
                notes: vec![Evidence {
                    loc: None,
                    ts: Some(g.start),
                    node: Some(node.clone()),
                    level: None,
                    text: format!(
                        "{node} answered no scrape for {} ({} → {}){peers_txt}",
                        format_duration(g.duration()),
                        g.start.hms_millis(),
                        g.end.hms_millis()
                    )
                    .into(),
                }],
                caps: vec![
                    ("gap".into(), Value::Float(g.duration() as f64 / 1e9)),
                    ("peers".into(), Value::Str(join(&active).into())),
                ],
            });
        }
    }
    out
}

/// A finding of an `origin` rule on node A, followed within `within` (after
/// its start) by findings of the `then` rules on at least `min` other nodes.
pub(crate) fn cascade(d: &Detect, by_rule: &HashMap<Arc<str>, Vec<Finding>>) -> Vec<Hit> {
    let Detect::Cascade {
        origin,
        then,
        within,
        min,
    } = d
    else {
        return Vec::new();
    };
    let thens: Vec<&Finding> = then
        .iter()
        .filter_map(|r| by_rule.get(r))
        .flatten()
        .collect();
    let mut out = Vec::new();
    for f in origin.iter().filter_map(|r| by_rule.get(r)).flatten() {
        let Some(node) = &f.node else { continue };
        let deadline = f.start.add(*within);
        let mut followers: Vec<&Finding> = thens
            .iter()
            .copied()
            .filter(|g| {
                g.node.as_ref().is_some_and(|n| n != node)
                    && g.start > f.start
                    && g.start <= deadline
            })
            .collect();
        followers.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
        let mut peers: Vec<Node> = followers.iter().filter_map(|g| g.node.clone()).collect();
        peers.sort();
        peers.dedup();
        if peers.len() < *min {
            continue;
        }
        let mut notes: Vec<Evidence> = f.evidence.iter().take(3).cloned().collect();
        notes.push(Evidence {
            loc: None,
            ts: Some(f.start),
            node: Some(node.clone()),
            level: None,
            text: format!("{} on {node}: {}", f.rule, f.message).into(),
        });
        for g in followers.iter().take(8) {
            notes.push(Evidence {
                loc: None,
                ts: Some(g.start),
                node: g.node.clone(),
                level: None,
                text: format!(
                    "then {} on {}: {}",
                    g.rule,
                    g.node.as_deref().unwrap_or("?"),
                    g.message
                )
                .into(),
            });
        }
        out.push(Hit {
            node: node.clone(),
            key: Vec::new(),
            start: f.start,
            at: followers.first().map_or(f.start, |g| g.start),
            end: followers.iter().map(|g| g.start).max().unwrap_or(f.end),
            ord: u64::MAX,
            events: Vec::new(),
            notes,
            caps: vec![
                ("peers".into(), Value::Str(join(&peers).into())),
                ("peers_count".into(), Value::Int(peers.len() as i64)),
                ("origin".into(), Value::Str(f.rule.to_string().into())),
                (
                    "origin_message".into(),
                    Value::Str(f.message.as_str().into()),
                ),
            ],
        });
    }
    out
}
