//! Series that need more than one row at a time: `up` rounds and scrape gaps,
//! the meta leader view, restarts (and the rate points they invalidate), and
//! usage against limits.

use super::build::Dicts;
use super::max_age;
use super::names::{counters, endpoint_rank};
use crate::model::{NANOS_PER_SEC, Nanos, Point, Series, Span, Timestamp};
use polars::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

type SeriesMap = BTreeMap<Arc<str>, BTreeMap<Arc<str>, Series>>;

pub(super) struct Derived {
    pub gaps: BTreeMap<Arc<str>, Vec<Span>>,
}

/// Rows `(ts, node, lset, value)` of one metric from the raw frame.
fn rows_of(raw: &DataFrame, metric: u32) -> PolarsResult<Vec<(i64, u32, u32, f64)>> {
    let df = raw
        .clone()
        .lazy()
        .filter(col("metric").eq(lit(metric)))
        .select([col("ts"), col("node"), col("lset"), col("value")])
        .collect()?;
    let ts = df.column("ts")?.i64()?;
    let node = df.column("node")?.u32()?;
    let lset = df.column("lset")?.u32()?;
    let value = df.column("value")?.f64()?;
    Ok(ts
        .into_no_null_iter()
        .zip(node.into_no_null_iter())
        .zip(lset.into_no_null_iter())
        .zip(value.into_no_null_iter())
        .map(|(((t, n), l), v)| (t, n, l, v))
        .collect())
}

fn median_diff(ts: &[i64]) -> Nanos {
    if ts.len() < 2 {
        return 0;
    }
    let mut d: Vec<i64> = ts.windows(2).map(|w| w[1] - w[0]).collect();
    let mid = d.len() / 2;
    *d.select_nth_unstable(mid).1
}

pub(super) fn derive(
    raw: &DataFrame,
    dict: &Dicts,
    series: &mut SeriesMap,
) -> PolarsResult<Derived> {
    let mut gaps = BTreeMap::new();
    if let Some(up) = dict.find_metric("up") {
        let rows = rows_of(raw, up)?;
        gaps = up_and_gaps(&rows, dict, series);
    }
    if let Some(ml) = dict.find_metric("meta_leader") {
        let rows = rows_of(raw, ml)?;
        leaders(&rows, dict, series);
    }
    for (node, m) in series.iter_mut() {
        restarts(node, m);
        pct(node, m, "js_mem", "js_mem_max", "js_mem_pct");
        pct(node, m, "js_store", "js_store_max", "js_store_pct");
    }
    Ok(Derived { gaps })
}

/// Per node and endpoint fetch results → `up` rounds, and gaps.
fn up_and_gaps(
    rows: &[(i64, u32, u32, f64)],
    dict: &Dicts,
    series: &mut SeriesMap,
) -> BTreeMap<Arc<str>, Vec<Span>> {
    // node → endpoint lset → [(ts, ok)]
    let mut by_node: BTreeMap<u32, BTreeMap<u32, Vec<(i64, bool)>>> = BTreeMap::new();
    for &(t, n, l, v) in rows {
        by_node
            .entry(n)
            .or_default()
            .entry(l)
            .or_default()
            .push((t, v >= 0.5));
    }
    let mut all: Vec<NodeFetches> = Vec::new();
    for (n, eps) in &by_node {
        let name = dict.nodes[*n as usize].clone();
        let step = eps
            .values()
            .map(|v| median_diff(&v.iter().map(|x| x.0).collect::<Vec<_>>()))
            .filter(|&s| s > 0)
            .min()
            .unwrap_or(NANOS_PER_SEC);
        let mut merged: Vec<(i64, bool)> = eps.values().flatten().copied().collect();
        merged.sort_unstable();
        let points = up_rounds(&merged, step);
        let up: Arc<str> = Arc::from("up");
        series
            .entry(name.clone())
            .or_default()
            .insert(up.clone(), Series::new(name.clone(), up, points));
        all.push(NodeFetches {
            name,
            step,
            answered: merged.iter().filter(|x| x.1).map(|x| x.0).collect(),
            failed: merged.iter().filter(|x| !x.1).map(|x| x.0).collect(),
        });
    }
    let mut gaps = BTreeMap::new();
    for (i, me) in all.iter().enumerate() {
        if me.name.starts_with('@') {
            continue;
        }
        let mut peers: Vec<i64> = all
            .iter()
            .enumerate()
            .filter(|(j, o)| *j != i && !o.name.starts_with('@'))
            .flat_map(|(_, o)| o.answered.iter().copied())
            .collect();
        peers.sort_unstable();
        gaps.insert(me.name.clone(), gap_spans(me, &peers));
    }
    gaps
}

/// One node's monitoring fetches: its polling step and when it answered or
/// failed.
struct NodeFetches {
    name: Arc<str>,
    step: Nanos,
    answered: Vec<i64>,
    failed: Vec<i64>,
}

/// Rounds: the node's fetches (sorted) bucketed on a grid of its step (from
/// its first fetch), 1 when answered; a failure in a bucket wins. Answers
/// under load arrive late and spread out, so proximity alone would split
/// rounds.
fn up_rounds(merged: &[(i64, bool)], step: Nanos) -> Vec<Point> {
    let mut points: Vec<Point> = Vec::new();
    let t0 = merged.first().map_or(0, |x| x.0);
    let mut bucket = i64::MIN;
    for &(t, ok) in merged {
        let v = if ok { 1.0 } else { 0.0 };
        let b = (t - t0).div_euclid(step);
        match points.last_mut() {
            Some(last) if b == bucket => last.value = last.value.min(v),
            _ => {
                bucket = b;
                points.push(Point {
                    ts: Timestamp(t),
                    value: v,
                });
            }
        }
    }
    points
}

/// The node's gaps: before its first answer, between answers more than 2.5
/// steps apart, after its last, when it failed or its peers (`peers`: their
/// answers, sorted) answered meanwhile; the whole span when it never answered.
fn gap_spans(me: &NodeFetches, peers: &[i64]) -> Vec<Span> {
    let any_in = |v: &[i64], a: i64, b: i64| {
        let k = v.partition_point(|&t| t <= a);
        v.get(k).is_some_and(|&t| t < b)
    };
    let step = me.step.max(1);
    let mut spans = Vec::new();
    let a = &me.answered;
    match (a.first(), a.last()) {
        (Some(&first), Some(&last)) => {
            // Before the first answer.
            let lead_fail = me.failed.first().filter(|&&f| f < first).copied();
            let lead_peer = peers
                .first()
                .filter(|&&p| p < first - step * 3 / 2)
                .copied();
            if let Some(s) = [lead_fail, lead_peer].into_iter().flatten().min()
                && first - s > step * 3 / 2
            {
                spans.push(Span::new(Timestamp(s), Timestamp(first)));
            }
            for w in a.windows(2) {
                let (x, y) = (w[0], w[1]);
                if y - x <= step * 5 / 2 {
                    continue;
                }
                if any_in(&me.failed, x, y) || any_in(peers, x + step * 3 / 2, y) {
                    spans.push(Span::new(Timestamp(x), Timestamp(y)));
                }
            }
            // After the last answer.
            let tail_fail = me.failed.last().filter(|&&f| f > last).copied();
            let tail_peer = peers.last().filter(|&&p| p > last + step * 3 / 2).copied();
            if let Some(e) = [tail_fail, tail_peer].into_iter().flatten().max()
                && e - last > step * 3 / 2
            {
                spans.push(Span::new(Timestamp(last), Timestamp(e)));
            }
        }
        _ => {
            // Never answered.
            let s = me
                .failed
                .first()
                .copied()
                .into_iter()
                .chain(peers.first().copied())
                .min();
            let e = me
                .failed
                .last()
                .copied()
                .into_iter()
                .chain(peers.last().copied())
                .max();
            if let (Some(s), Some(e)) = (s, e) {
                spans.push(Span::new(Timestamp(s), Timestamp(e)));
            }
        }
    }
    spans
}

/// `meta_leader{leader=X}` rows → `meta_leader_self`, `meta_leader_changes`.
fn leaders(rows: &[(i64, u32, u32, f64)], dict: &Dicts, series: &mut SeriesMap) {
    // node → [(ts, endpoint rank, leader)]
    let mut by_node: BTreeMap<u32, Vec<(i64, u32, Arc<str>)>> = BTreeMap::new();
    for &(t, n, l, _) in rows {
        let Some(leader) = dict.label(l, "leader") else {
            continue;
        };
        let ep = dict.label(l, "endpoint").map_or(0, |e| endpoint_rank(e));
        by_node.entry(n).or_default().push((t, ep, leader.clone()));
    }
    for (n, mut v) in by_node {
        let name = dict.nodes[n as usize].clone();
        let best = v.iter().map(|x| x.1).min().unwrap_or(0);
        v.retain(|x| x.1 == best);
        v.sort_by_key(|x| x.0);
        let mut changes = Vec::with_capacity(v.len());
        let mut count = 0.0;
        let mut prev: Option<&Arc<str>> = None;
        for (t, _, l) in &v {
            if prev.is_some_and(|p| p != l) {
                count += 1.0;
            }
            prev = Some(l);
            changes.push(Point {
                ts: Timestamp(*t),
                value: count,
            });
        }
        let m = series.entry(name.clone()).or_default();
        let mut selfp = Vec::new();
        if let Some(has) = m.get("meta_has_leader") {
            for p in &has.points {
                let k = v.partition_point(|x| x.0 <= p.ts.0);
                let leader = k
                    .checked_sub(1)
                    .map(|k| &v[k])
                    .filter(|x| p.ts.0 - x.0 <= 3 * NANOS_PER_SEC.max(has.step * 3));
                let is_self = p.value >= 0.5 && leader.is_some_and(|x| x.2 == name);
                selfp.push(Point {
                    ts: p.ts,
                    value: if is_self { 1.0 } else { 0.0 },
                });
            }
        } else {
            selfp = v
                .iter()
                .map(|x| Point {
                    ts: Timestamp(x.0),
                    value: if x.2 == name { 1.0 } else { 0.0 },
                })
                .collect();
        }
        for (metric, pts) in [
            ("meta_leader_self", selfp),
            ("meta_leader_changes", changes),
        ] {
            let metric: Arc<str> = Arc::from(metric);
            m.insert(metric.clone(), Series::new(name.clone(), metric, pts));
        }
    }
}

/// `restarts` from start-time (else pid) changes; drops counter-rate points
/// whose interval spans a restart even if the counter did not go down.
fn restarts(node: &Arc<str>, m: &mut BTreeMap<Arc<str>, Series>) {
    let (src, tol, instant_is_value) = if m.contains_key("start_time") {
        ("start_time", 0.5, true)
    } else if m.contains_key("proc_pid") {
        ("proc_pid", 0.5, false)
    } else {
        return;
    };
    let s = &m[src];
    let mut count = 0.0;
    let mut instants = Vec::new();
    let mut pts = Vec::with_capacity(s.points.len());
    for w in 0..s.points.len() {
        let p = s.points[w];
        if w > 0 && (p.value - s.points[w - 1].value).abs() > tol {
            count += 1.0;
            let at = if instant_is_value && p.value.is_finite() {
                Timestamp::from_secs_f64(p.value)
            } else {
                p.ts
            };
            // The restart happened after the previous sample.
            instants.push(at.max(s.points[w - 1].ts.add(1)).min(p.ts));
        }
        pts.push(Point {
            ts: p.ts,
            value: count,
        });
    }
    let name: Arc<str> = Arc::from("restarts");
    m.insert(name.clone(), Series::new(node.clone(), name, pts));
    if instants.is_empty() {
        return;
    }
    for (counter, rate) in counters() {
        let Some(c) = m.get(counter) else { continue };
        let drop: Vec<Timestamp> = instants
            .iter()
            .filter_map(|&r| {
                let i = c.points.partition_point(|p| p.ts < r);
                (i > 0).then(|| c.points.get(i).map(|p| p.ts)).flatten()
            })
            .collect();
        if let Some(rs) = m.get_mut(rate) {
            rs.points.retain(|p| !drop.contains(&p.ts));
        }
    }
}

/// `part / limit * 100` where both are known and the limit is a real one.
fn pct(node: &Arc<str>, m: &mut BTreeMap<Arc<str>, Series>, part: &str, limit: &str, out: &str) {
    let (Some(p), Some(l)) = (m.get(part), m.get(limit)) else {
        return;
    };
    let age = max_age(l);
    let pts: Vec<Point> = p
        .points
        .iter()
        .filter_map(|x| {
            let lim = l.value_at(x.ts, age)?;
            (lim > 0.0 && lim < 9.0e18).then(|| Point {
                ts: x.ts,
                value: x.value / lim * 100.0,
            })
        })
        .collect();
    if pts.is_empty() {
        return;
    }
    let name: Arc<str> = Arc::from(out);
    m.insert(name.clone(), Series::new(node.clone(), name, pts));
}
