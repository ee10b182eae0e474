//! Metric conditions. A condition is evaluated at every sample of its primary
//! metric (the first metric it names), per node. Other metrics are read at
//! the same instant (last sample no older than 3 steps). Missing data is
//! unknown: an unknown instant is never true and breaks a `for` run, like a
//! false one, and so does a gap of more than 3 steps between samples.

use super::{Ctx, Hit};
use crate::lang::ir::{MC, MX, MetricCond, PeerAgg, WinFn};
use crate::model::{Evidence, NANOS_PER_SEC, Nanos, Series, Timestamp, Value, format_duration};
use std::collections::BTreeSet;
use std::sync::Arc;

fn max_age(s: &Series) -> Nanos {
    if s.step > 0 {
        (s.step * 3).max(NANOS_PER_SEC)
    } else {
        10 * NANOS_PER_SEC
    }
}

fn value_at(cx: &Ctx<'_>, node: &str, metric: &str, t: Timestamp) -> Option<f64> {
    let s = cx.metrics.series(node, metric)?;
    s.value_at(t, max_age(s))
}

fn eval_x(cx: &Ctx<'_>, node: &str, t: Timestamp, x: &MX) -> Option<f64> {
    match x {
        MX::Num(n) => Some(*n),
        MX::Metric(m) => value_at(cx, node, m, t),
        MX::Peers(m, agg) => {
            let mut v: Vec<f64> = cx
                .nodes
                .iter()
                .filter(|n| &***n != node)
                .filter_map(|n| value_at(cx, n, m, t))
                .collect();
            if v.is_empty() {
                return None;
            }
            v.sort_by(f64::total_cmp);
            Some(match agg {
                PeerAgg::Max => v[v.len() - 1],
                PeerAgg::Min => v[0],
                PeerAgg::Median => {
                    let n = v.len();
                    if n % 2 == 1 {
                        v[n / 2]
                    } else {
                        (v[n / 2 - 1] + v[n / 2]) / 2.0
                    }
                }
            })
        }
        MX::Win(f, m, d) => {
            let s = cx.metrics.series(node, m)?;
            let from = t.sub(*d);
            match f {
                WinFn::Avg => s.window(from, t).mean,
                WinFn::Max => s.window(from, t).max,
                WinFn::Min => s.window(from, t).min,
                WinFn::Baseline => {
                    let mut v: Vec<f64> = s
                        .range(from, t)
                        .iter()
                        .filter(|p| p.ts < t)
                        .map(|p| p.value)
                        .collect();
                    if v.len() < 3 {
                        return None;
                    }
                    v.sort_by(f64::total_cmp);
                    Some(v[v.len() / 2])
                }
                WinFn::Change | WinFn::Rate => {
                    let now = s.value_at(t, max_age(s))?;
                    let then = s.value_at(from, max_age(s))?;
                    let c = now - then;
                    Some(if *f == WinFn::Rate {
                        c / (*d as f64 / 1e9)
                    } else {
                        c
                    })
                }
            }
        }
        MX::Bin(a, op, b) => {
            let (a, b) = (eval_x(cx, node, t, a)?, eval_x(cx, node, t, b)?);
            match op {
                '+' => Some(a + b),
                '-' => Some(a - b),
                '*' => Some(a * b),
                _ => (b != 0.0).then(|| a / b),
            }
        }
    }
}

fn eval_c(cx: &Ctx<'_>, node: &str, t: Timestamp, c: &MC) -> Option<bool> {
    match c {
        MC::Cmp(a, op, b) => Some(op.eval_f64(eval_x(cx, node, t, a)?, eval_x(cx, node, t, b)?)),
        MC::And(a, b) => match (eval_c(cx, node, t, a), eval_c(cx, node, t, b)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        MC::Or(a, b) => match (eval_c(cx, node, t, a), eval_c(cx, node, t, b)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
    }
}

/// The left side of the first comparison: the value a message shows.
fn lead(c: &MC) -> &MX {
    match c {
        MC::Cmp(a, _, _) => a,
        MC::And(a, _) | MC::Or(a, _) => lead(a),
    }
}

fn metrics_of(c: &MC, out: &mut BTreeSet<String>) {
    fn x(e: &MX, out: &mut BTreeSet<String>) {
        match e {
            MX::Metric(m) => {
                out.insert(m.to_string());
            }
            MX::Peers(m, _) => {
                out.insert(format!("peers({m})"));
            }
            MX::Win(..) | MX::Num(_) => {}
            MX::Bin(a, _, b) => {
                x(a, out);
                x(b, out);
            }
        }
    }
    match c {
        MC::Cmp(a, _, b) => {
            x(a, out);
            x(b, out);
        }
        MC::And(a, b) | MC::Or(a, b) => {
            metrics_of(a, out);
            metrics_of(b, out);
        }
    }
}

fn fmt(v: f64) -> String {
    let s = if v.abs() >= 1e6 {
        format!("{v:.3e}")
    } else {
        format!("{v:.2}")
    };
    if s.contains('e') {
        s
    } else {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

pub(crate) fn hits(cx: &Ctx<'_>, m: &MetricCond) -> Vec<Hit> {
    let mut out = Vec::new();
    let hold = m.for_.unwrap_or(0);
    let mut names = BTreeSet::new();
    metrics_of(&m.cond, &mut names);
    for node in &cx.nodes {
        let Some(series) = cx.metrics.series(node, &m.primary) else {
            continue;
        };
        let gap = max_age(series);
        let mut run: Option<(Timestamp, Timestamp, f64, f64)> = None; // start, end, onset lead, peak lead
        let mut prev: Option<Timestamp> = None;
        let emit = |run: (Timestamp, Timestamp, f64, f64), out: &mut Vec<Hit>| {
            let (s, e, onset, peak) = run;
            if e.since(s) < hold {
                return;
            }
            let at_onset: Vec<(&String, f64)> = names
                .iter()
                .filter_map(|n| {
                    let v = if let Some(inner) =
                        n.strip_prefix("peers(").and_then(|x| x.strip_suffix(')'))
                    {
                        eval_x(cx, node, s, &MX::Peers(inner.into(), PeerAgg::Median))
                    } else {
                        value_at(cx, node, n, s)
                    };
                    v.map(|v| (n, v))
                })
                .collect();
            let values: Vec<String> = at_onset
                .iter()
                .map(|(n, v)| format!("{n}={}", fmt(*v)))
                .collect();
            let held = if e > s {
                format!(
                    " held {} ({} → {})",
                    format_duration(e.since(s)),
                    s.hms_millis(),
                    e.hms_millis()
                )
            } else {
                format!(" at {}", s.hms_millis())
            };
            out.push(Hit {
                node: node.clone(),
                key: Vec::new(),
                start: s,
                at: s.add(hold),
                end: e,
                ord: u64::MAX,
                events: Vec::new(),
                notes: vec![Evidence {
                    loc: None,
                    ts: Some(s),
                    node: Some(node.clone()),
                    level: None,
                    text: format!(
                        "metric {}:{held}; at onset {}; peak {}",
                        m.text,
                        values.join(" "),
                        fmt(peak)
                    )
                    .into(),
                }],
                caps: [
                    ("value".into(), Value::Float(onset)),
                    ("peak".into(), Value::Float(peak)),
                    (
                        "held".into(),
                        Value::Str(format_duration(e.since(s)).into()),
                    ),
                ]
                .into_iter()
                .chain(
                    at_onset
                        .iter()
                        .map(|(n, v)| (Arc::from(n.as_str()), Value::Float(*v))),
                )
                .collect(),
            });
        };
        for p in &series.points {
            if let (Some(pt), Some(r)) = (prev, run)
                && p.ts.since(pt) > gap
            {
                emit(r, &mut out);
                run = None;
            }
            prev = Some(p.ts);
            if eval_c(cx, node, p.ts, &m.cond) == Some(true) {
                let l = eval_x(cx, node, p.ts, lead(&m.cond)).unwrap_or(f64::NAN);
                run = Some(match run {
                    Some((s, _, o, pk)) => (s, p.ts, o, if l > pk { l } else { pk }),
                    None => (p.ts, p.ts, l, l),
                });
            } else if let Some(r) = run.take() {
                emit(r, &mut out);
            }
        }
        if let Some(r) = run {
            emit(r, &mut out);
        }
    }
    out
}
