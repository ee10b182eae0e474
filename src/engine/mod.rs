//! Evaluates checked rules over events and metric series and reports
//! findings.
//!
//! Architecture invariants: event time is the only clock (never the wall
//! clock); every rule is evaluated independently (in parallel with rayon) and
//! cascades run after the rules they read; the output order is
//! deterministic: [`Finding::order_key`] then message.

mod coalesce;
mod detect;
pub mod examples;
mod metric;
mod pred;
pub mod releases;
mod sequence;
mod stream;

use crate::lang::RuleSet;
use crate::lang::ir::{Detect, Rule};
use crate::model::{
    Event, Evidence, Finding, Node, Series, Span, Timestamp, Value, format_duration,
};
use foldhash::fast::FixedState;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

pub use coalesce::Indistinct;
pub use examples::{ExampleOutcome, ExampleResult, run_example, run_examples};
pub use pred::{eval as eval_pred, selects};
use stream::{Acc, Draft};

/// Metric series by node and name, and the gaps in each node's scrapes.
/// `metrics::MetricSet` implements it; [`MemMetrics`] is a small in-memory one.
pub trait MetricSource: Sync {
    fn series(&self, node: &str, metric: &str) -> Option<&Series>;
    fn nodes(&self) -> Vec<Arc<str>>;
    /// Intervals inside the data where the node answered no scrape.
    fn gaps(&self, node: &str) -> &[Span];
    /// First and last sample time over all nodes and metrics.
    fn span(&self) -> Option<Span>;
}

/// An in-memory [`MetricSource`] for tests and examples.
#[derive(Clone, Debug, Default)]
pub struct MemMetrics {
    series: BTreeMap<(Arc<str>, Arc<str>), Series>,
    gaps: BTreeMap<Arc<str>, Vec<Span>>,
    extra_span: Option<Span>,
}

impl MemMetrics {
    pub fn new() -> MemMetrics {
        MemMetrics::default()
    }

    /// Adds (or appends to) a series.
    pub fn add(
        &mut self,
        node: &str,
        metric: &str,
        points: impl IntoIterator<Item = (Timestamp, f64)>,
    ) {
        let key: (Arc<str>, Arc<str>) = (node.into(), metric.into());
        let mut pts: Vec<crate::model::Point> = self
            .series
            .get(&key)
            .map(|s| s.points.clone())
            .unwrap_or_default();
        pts.extend(
            points
                .into_iter()
                .map(|(ts, value)| crate::model::Point { ts, value }),
        );
        self.series
            .insert(key.clone(), Series::new(key.0, key.1, pts));
    }

    pub fn add_gap(&mut self, node: &str, span: Span) {
        let g = self.gaps.entry(node.into()).or_default();
        g.push(span);
        g.sort();
    }

    /// Extends the data span (e.g. the capture went on after the last sample).
    pub fn extend_span(&mut self, span: Span) {
        self.extra_span = Some(match self.extra_span {
            Some(s) => Span::new(s.start.min(span.start), s.end.max(span.end)),
            None => span,
        });
    }
}

impl MetricSource for MemMetrics {
    fn series(&self, node: &str, metric: &str) -> Option<&Series> {
        self.series.get(&(Arc::from(node), Arc::from(metric)))
    }

    fn nodes(&self) -> Vec<Arc<str>> {
        let mut v: Vec<Arc<str>> = self
            .series
            .keys()
            .map(|(n, _)| n.clone())
            .chain(self.gaps.keys().cloned())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    fn gaps(&self, node: &str) -> &[Span] {
        self.gaps.get(node).map_or(&[], |v| v.as_slice())
    }

    fn span(&self) -> Option<Span> {
        let mut out = self.extra_span;
        let spans = self
            .series
            .values()
            .filter_map(|s| s.span())
            .chain(self.gaps.values().flatten().copied());
        for s in spans {
            out = Some(match out {
                Some(o) => Span::new(o.start.min(s.start), o.end.max(s.end)),
                None => s,
            });
        }
        out
    }
}

/// No metrics at all.
pub struct NoMetrics;

impl MetricSource for NoMetrics {
    fn series(&self, _: &str, _: &str) -> Option<&Series> {
        None
    }
    fn nodes(&self) -> Vec<Arc<str>> {
        Vec::new()
    }
    fn gaps(&self, _: &str) -> &[Span] {
        &[]
    }
    fn span(&self) -> Option<Span> {
        None
    }
}

/// One match of a detection before merging into findings.
#[derive(Clone, Debug)]
pub(crate) struct Hit {
    pub node: Node,
    /// Values of the extra group-by fields.
    pub key: Vec<String>,
    /// Onset.
    pub start: Timestamp,
    /// When the detection was established (e.g. the threshold was crossed, the hold time elapsed).
    pub at: Timestamp,
    pub end: Timestamp,
    /// Tie-break among hits with the same start: the event index, or `u64::MAX` for non-event hits.
    pub ord: u64,
    pub events: Vec<u32>,
    pub notes: Vec<Evidence>,
    pub caps: Vec<(Arc<str>, Value)>,
}

/// What every detection can read: the events (indexed), the metrics, the data span.
pub(crate) struct Ctx<'a> {
    pub events: &'a [Event],
    /// The timed events' indices are in time order (the merged stream always
    /// is): sorting indices sorts by time.
    pub in_order: bool,
    pub by_kind: HashMap<&'a str, Vec<u32>, FixedState>,
    /// Indices of all events with a timestamp, in stream order.
    pub timed: Vec<u32>,
    pub metrics: &'a dyn MetricSource,
    /// Every node seen in events or metrics, sorted.
    pub nodes: Vec<Node>,
    /// Last instant covered by the data (events or metrics): absence is decided only before it.
    pub data_end: Option<Timestamp>,
}

impl<'a> Ctx<'a> {
    pub fn new(events: &'a [Event], metrics: &'a dyn MetricSource) -> Ctx<'a> {
        let mut by_kind: HashMap<&'a str, Vec<u32>, FixedState> = HashMap::default();
        let mut timed = Vec::new();
        let mut nodes: Vec<Node> = metrics.nodes();
        let mut seen: HashSet<&str, FixedState> = HashSet::default();
        let mut data_end = metrics.span().map(|s| s.end);
        for (i, e) in events.iter().enumerate() {
            if seen.insert(&e.node) {
                nodes.push(e.node.clone());
            }
            let Some(ts) = e.ts else { continue };
            let last = e.last_ts().unwrap_or(ts);
            data_end = Some(data_end.map_or(last, |d| d.max(last)));
            timed.push(i as u32);
            by_kind.entry(&e.kind).or_default().push(i as u32);
        }
        // events are sorted by (ts, node, file, line); keep stream order but make sure of time order
        let key = |i: &u32| (events[*i as usize].ts, *i);
        let in_order = timed.is_sorted_by_key(key);
        if !in_order {
            timed.sort_by_key(key);
            for v in by_kind.values_mut() {
                v.sort_by_key(key);
            }
        }
        nodes.sort();
        nodes.dedup();
        Ctx {
            events,
            in_order,
            by_kind,
            timed,
            metrics,
            nodes,
            data_end,
        }
    }

    pub fn ts(&self, i: u32) -> Timestamp {
        self.events[i as usize].ts.unwrap_or_default()
    }

    /// Time of the last line event `i` stands for (see engine::coalesce).
    pub fn ts_end(&self, i: u32) -> Timestamp {
        self.events[i as usize].last_ts().unwrap_or_default()
    }

    /// Indices of timed events selected by `sel`, in time order.
    pub fn select(&self, sel: &crate::lang::ir::Sel) -> Vec<u32> {
        let cands: Vec<u32> = match &sel.kinds {
            None => self.timed.clone(),
            Some(kinds) if kinds.len() == 1 => {
                self.by_kind.get(&*kinds[0]).cloned().unwrap_or_default()
            }
            Some(kinds) => {
                let mut v: Vec<u32> = kinds
                    .iter()
                    .filter_map(|k| self.by_kind.get(&**k))
                    .flatten()
                    .copied()
                    .collect();
                if self.in_order {
                    v.sort_unstable();
                } else {
                    v.sort_by_key(|i| (self.ts(*i), *i));
                }
                v.dedup();
                v
            }
        };
        match &sel.pred {
            None => cands,
            Some(_) => cands
                .into_iter()
                .filter(|&i| selects(sel, &self.events[i as usize]))
                .collect(),
        }
    }

    /// Values of the key fields of an event; `None` if one is missing.
    pub fn key_of(&self, i: u32, by: &[Arc<str>]) -> Option<Vec<String>> {
        let e = &self.events[i as usize];
        by.iter()
            .map(|k| match &**k {
                "level" => Some(e.level.name().to_string()),
                "kind" => Some(e.kind.to_string()),
                f => e.field(f).map(|v| v.to_string()),
            })
            .collect()
    }

    pub fn event_caps(&self, i: u32) -> Vec<(Arc<str>, Value)> {
        let e = &self.events[i as usize];
        let mut caps = e.fields.clone();
        caps.push(("kind".into(), Value::Str(e.kind.clone())));
        caps.push(("level".into(), Value::Str(e.level.name().into())));
        if !e.message.is_empty() {
            caps.push(("message".into(), Value::Str(e.message.clone())));
        }
        caps
    }
}

/// Runs every rule of `rules` over the events (sorted by (ts, node, file,
/// line)) and metrics. Deterministic whatever the thread count.
pub fn run(rules: &RuleSet, events: &[Event], metrics: &dyn MetricSource) -> Vec<Finding> {
    run_rules(rules.rules(), events, metrics)
}

/// Runs the given rules (cascades see the findings of the rules in this list only).
pub fn run_rules(rules: &[Rule], events: &[Event], metrics: &dyn MetricSource) -> Vec<Finding> {
    let cx = Ctx::new(events, metrics);
    let (cascades, base): (Vec<&Rule>, Vec<&Rule>) = rules
        .iter()
        .partition(|r| matches!(r.detect, Detect::Cascade { .. }));
    let mut by_rule: HashMap<Arc<str>, Vec<Finding>> = base
        .par_iter()
        .map(|r| {
            (
                r.id.clone(),
                match &r.detect {
                    // Fed event by event: no hit per selected line.
                    Detect::Event { sel, by } => stream::event_runs(&cx, sel, by, r.merge)
                        .into_iter()
                        .map(|d| finish(r, d, &cx))
                        .collect(),
                    Detect::Window {
                        agg,
                        field,
                        sel,
                        op,
                        value,
                        within,
                        by,
                    } => {
                        let t = stream::WindowTest {
                            agg: *agg,
                            field: field.as_deref(),
                            op: *op,
                            value: *value,
                            within: *within,
                        };
                        stream::window_runs(&cx, sel, by, &t, r.merge)
                            .into_iter()
                            .map(|d| finish(r, d, &cx))
                            .collect()
                    }
                    d => findings_of(r, detect::hits(&cx, d, None), &cx),
                },
            )
        })
        .collect();
    // cascades in dependency order (the checker rejected cycles)
    let mut pending: Vec<&Rule> = cascades;
    while !pending.is_empty() {
        let ready: Vec<usize> = (0..pending.len())
            .filter(|&i| {
                pending[i]
                    .detect
                    .depends_on()
                    .iter()
                    .all(|d| !pending.iter().any(|p| p.id == *d))
            })
            .collect();
        let ready = if ready.is_empty() { vec![0] } else { ready };
        for &i in ready.iter().rev() {
            let r = pending.remove(i);
            let hits = detect::cascade(&r.detect, &by_rule);
            let f = findings_of(r, hits, &cx);
            by_rule.insert(r.id.clone(), f);
        }
    }
    let mut all: Vec<Finding> = by_rule.into_values().flatten().collect();
    all.sort_by(|a, b| {
        a.order_key()
            .cmp(&b.order_key())
            .then_with(|| a.message.cmp(&b.message))
    });
    all
}

/// Most log lines kept as evidence in one finding.
pub const MAX_EVIDENCE: usize = 12;

/// Merges hits on the same node and key that are closer than the rule's
/// `merge` interval into findings.
fn findings_of(rule: &Rule, mut hits: Vec<Hit>, cx: &Ctx<'_>) -> Vec<Finding> {
    hits.sort_by(|a, b| (&a.node, &a.key, a.start, a.ord).cmp(&(&b.node, &b.key, b.start, b.ord)));
    let mut out = Vec::new();
    let mut cur: Option<(Hit, usize)> = None;
    for h in hits {
        match &mut cur {
            Some((c, n))
                if c.node == h.node && c.key == h.key && h.start <= c.end.add(rule.merge) =>
            {
                c.end = c.end.max(h.end);
                c.at = c.at.min(h.at);
                c.events.extend(h.events);
                for note in h.notes {
                    if c.notes.len() < MAX_EVIDENCE {
                        c.notes.push(note);
                    }
                }
                for (k, v) in h.caps {
                    match c.caps.iter_mut().find(|(ck, _)| *ck == k) {
                        Some((_, cv)) if matches!(&*k, "value" | "peak" | "peers_count") => {
                            if let (Some(a), Some(b)) = (cv.as_f64(), v.as_f64())
                                && b > a
                            {
                                *cv = v;
                            }
                        }
                        Some(_) => {}
                        None => c.caps.push((k, v)),
                    }
                }
                *n += 1;
            }
            _ => {
                if let Some((c, n)) = cur.take() {
                    out.push(finish(rule, draft(c, n, cx), cx));
                }
                cur = Some((h, 1));
            }
        }
    }
    if let Some((c, n)) = cur {
        out.push(finish(rule, draft(c, n, cx), cx));
    }
    out
}

/// A merged hit as a draft: its events sorted by time, each once.
fn draft(mut h: Hit, hits: usize, cx: &Ctx<'_>) -> Draft {
    h.events.sort_by_key(|i| (cx.ts(*i), *i));
    h.events.dedup();
    Draft {
        acc: Acc::of(cx, &h.events),
        node: h.node,
        key: h.key,
        start: h.start,
        at: h.at,
        end: h.end,
        notes: h.notes,
        caps: h.caps,
        hits,
    }
}

fn finish(rule: &Rule, h: Draft, cx: &Ctx<'_>) -> Finding {
    let mut caps = h.caps.clone();
    if let Some(first) = h.acc.first() {
        for (k, v) in cx.event_caps(first) {
            if !caps.iter().any(|(ck, _)| *ck == k) {
                caps.push((k, v));
            }
        }
    }
    if let Some(last) = h.acc.last() {
        for (k, v) in cx.event_caps(last) {
            caps.push((format!("last.{k}").into(), v));
        }
    }
    let duration = h.end.since(h.start);
    let mut evidence: Vec<Evidence> = Vec::new();
    for i in h.acc.shown() {
        let e = &cx.events[i as usize];
        evidence.push(Evidence {
            loc: Some(e.loc.clone()),
            ts: e.ts,
            node: Some(e.node.clone()),
            level: Some(e.level),
            text: e.message.clone(),
        });
    }
    evidence.extend(h.notes);
    evidence.sort_by(|a, b| (a.ts, &a.node, &a.loc).cmp(&(b.ts, &b.node, &b.loc)));
    let vars = Vars {
        caps: &caps,
        node: &h.node,
        key: &h.key,
        count: h.acc.lines,
        hits: h.hits,
        start: h.start,
        end: h.end,
        duration,
    };
    let message = render(&rule.message, &vars);
    Finding {
        rule: rule.id.clone(),
        title: rule.title.clone(),
        severity: rule.severity,
        category: rule.category.clone(),
        node: Some(h.node.clone()),
        start: h.start,
        end: h.end,
        message,
        evidence,
        explains: rule.explains.clone(),
        advice: rule.advice.as_ref().map(|a| Arc::from(render(a, &vars))),
        collect: rule
            .collect
            .iter()
            .map(|c| Arc::from(render(c, &vars)))
            .collect(),
    }
}

struct Vars<'a> {
    caps: &'a [(Arc<str>, Value)],
    node: &'a str,
    key: &'a [String],
    count: usize,
    hits: usize,
    start: Timestamp,
    end: Timestamp,
    duration: i64,
}

fn fmt_value(v: &Value) -> String {
    match v {
        Value::Float(f) => {
            let s = format!("{f:.3}");
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        }
        o => o.to_string(),
    }
}

/// Fills `{name}` placeholders: node, count, hits, start, end, duration,
/// key, captured fields (`first event`, `last.<field>`), aggregate values.
fn render(tpl: &str, v: &Vars<'_>) -> String {
    let mut out = String::with_capacity(tpl.len() + 32);
    let mut rest = tpl;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = after[..close].trim();
        let val = match name {
            "node" => v.node.to_string(),
            "count" => v.count.to_string(),
            "hits" => v.hits.to_string(),
            "start" => v.start.hms_millis(),
            "end" => v.end.hms_millis(),
            "duration" => format_duration(v.duration),
            "key" => v.key.join(","),
            // `{field?}`: the field, or nothing when the line has none.
            optional if optional.ends_with('?') => {
                let f = &optional[..optional.len() - 1];
                v.caps
                    .iter()
                    .find(|(k, _)| &**k == f)
                    .map(|(_, x)| fmt_value(x))
                    .unwrap_or_default()
            }
            other => v
                .caps
                .iter()
                .find(|(k, _)| &**k == other)
                .map(|(_, x)| fmt_value(x))
                .unwrap_or_else(|| format!("{{?{other}}}")),
        };
        out.push_str(&val);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}
