//! The incident chart (PNG and SVG) for the post-mortem: time on x; on top
//! one swimlane per node with warning/error density, finding markers, restart
//! markers and state bands (unresponsive, no meta leader, ...); below, metric
//! panels with one line per node; the failing node highlighted in the same
//! colour everywhere; the root-cause moment as a labelled vertical line across
//! everything.
//!
//! The only module that knows plotters. Fonts are embedded (DejaVu Sans): the
//! PNG is rasterized with ab_glyph from the font in the binary, the SVG
//! carries the font as an `@font-face` data URI, so neither depends on the
//! fonts of the machine that draws or views it. Every string that came from a
//! log or a metric dump is stripped of control characters here and
//! XML-escaped by the SVG backend (checked by the tests).

mod axis;
mod canvas;
mod draw;
mod encode;
mod lanes;
mod layout;
mod legend;
mod palette;
mod panels;

use crate::ingest::Bundle;
use crate::metrics::MetricSet;
use crate::model::{Event, Finding, NANOS_PER_SEC, Node, Series, Span, Timestamp};
use std::collections::{BTreeMap, BTreeSet};

/// Everything the chart shows. Build it with [`chart_input_from`] and adjust.
#[derive(Clone)]
pub struct ChartInput<'a> {
    pub title: String,
    /// The x range (the caller may narrow it to an `--around`/`--window` range).
    pub span: Span,
    /// Swimlane order; also the order of lines and legend entries.
    pub nodes: Vec<Node>,
    /// All events (sorted or not); WRN/ERR/FTL are counted per time bucket per
    /// node unless `activity` is given.
    pub events: &'a [Event],
    /// Warnings and errors per node and second, counted over every line read
    /// (the events may be only those the rules kept).
    pub activity: Option<&'a BTreeMap<Node, crate::ingest::NodeStats>>,
    /// Markers on the node's lane (colour by severity); findings without a
    /// node (or of a node without a lane) go on a "cluster" lane on top.
    pub findings: &'a [Finding],
    pub metrics: &'a MetricSet,
    /// Metric panels, top to bottom. An entry may list fallbacks separated by
    /// `|` (`cpu|proc_cpu`): the first with a non-zero value in the span is
    /// drawn. Entries without data are skipped.
    pub panels: Vec<String>,
    /// Highlighted: thicker line, bold lane label, tinted lane, red everywhere.
    pub failing_node: Option<Node>,
    /// Vertical marker with its label (`root cause: cpu-starvation on n2`).
    pub root_cause: Option<(Timestamp, String)>,
    /// Restart markers on the node's lane.
    pub restarts: Vec<(Node, Timestamp)>,
    /// State bands on a lane (`None`: cluster lane): unresponsive, no meta leader, ...
    pub bands: Vec<(Option<Node>, Span, String)>,
}

/// The default metric panels: CPU (varz, else /proc), memory, the JetStream
/// API queue (else its request rate), connections, slow consumers.
pub fn default_panels() -> Vec<String> {
    [
        "cpu|proc_cpu",
        "mem_rss|proc_rss",
        "js_api_pending|js_api_rate",
        "connections",
        "slow_consumers_rate",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChartError {
    #[error(
        "chart size {width}x{height} out of range (64..={max} per side): pass --width/--height within it"
    )]
    Size { width: u32, height: u32, max: u32 },
    #[error("the embedded chart font cannot be loaded (a build problem: report it)")]
    Font,
    #[error("chart drawing failed: {0}")]
    Drawing(String),
    #[error("chart encoding failed: {0}")]
    Encode(String),
}

/// Renders the chart as a PNG image (`width`×`height`, 1600×900 is the
/// reference size).
pub fn render_png(input: &ChartInput, width: u32, height: u32) -> Result<Vec<u8>, ChartError> {
    encode::png(input, width, height)
}

/// Renders the chart as a standalone SVG document with the font embedded.
pub fn render_svg(input: &ChartInput, width: u32, height: u32) -> Result<String, ChartError> {
    encode::svg(input, width, height)
}

/// Band label for scrape gaps.
pub const BAND_UNRESPONSIVE: &str = "unresponsive";
/// Band label for `meta_has_leader == 0`.
pub const BAND_NO_META_LEADER: &str = "no meta leader";
/// Band label for `proc_stopped == 1`.
pub const BAND_STOPPED: &str = "process stopped";
/// Band label for `proc_absent == 1`.
pub const BAND_DOWN: &str = "process down";

/// Fills span, nodes, restarts and bands from what was read, so callers stay
/// small. Panels are [`default_panels`], plus `js_store_pct` when a node
/// used half its JetStream storage limit or more.
///
/// Restarts are `server_starting` events after a node's first one (the bundle
/// must keep events: `Keep::All` or `Keep::Relevant` with that kind); a node
/// without such events falls back to increments of its `restarts` metric.
/// Bands: scrape gaps ("unresponsive"), `meta_has_leader` = 0 ("no meta
/// leader"), `proc_stopped` = 1 ("process stopped"), `proc_absent` = 1
/// ("process down").
pub fn chart_input_from<'a>(
    bundle: &'a Bundle,
    metrics: &'a MetricSet,
    findings: &'a [Finding],
    failing: Option<Node>,
    root: Option<(Timestamp, String)>,
) -> ChartInput<'a> {
    let mut node_set: BTreeSet<Node> = bundle.nodes.keys().cloned().collect();
    node_set.extend(metrics.nodes());
    if let Some(f) = &failing {
        node_set.insert(f.clone());
    }
    let mut nodes: Vec<Node> = node_set.into_iter().collect();
    nodes.sort_by(|a, b| natural_cmp(a, b));

    let span = data_span(bundle, metrics, findings);

    let restarts = restarts_of(bundle, metrics, &nodes);
    let bands = bands_of(metrics, &nodes);
    let panels = panels_for(metrics, &nodes);

    ChartInput {
        activity: Some(&bundle.nodes),
        title: "NATS cluster timeline".to_string(),
        span,
        nodes,
        events: &bundle.events,
        findings,
        metrics,
        panels,
        failing_node: failing,
        root_cause: root,
        restarts,
        bands,
    }
}

/// Restarts: `server_starting` events after a node's first one; for a node
/// without such events, increments of its `restarts` metric.
fn restarts_of(bundle: &Bundle, metrics: &MetricSet, nodes: &[Node]) -> Vec<(Node, Timestamp)> {
    let mut restarts = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &bundle.events {
        if &*e.kind == crate::vocab::kind::SERVER_STARTING {
            let n = seen.entry(&e.node).or_insert(0);
            *n += 1;
            if *n > 1 {
                if let Some(ts) = e.ts {
                    restarts.push((e.node.clone(), ts));
                }
            }
        }
    }
    for node in nodes {
        if seen.contains_key(&**node) {
            continue;
        }
        if let Some(s) = metrics.series(node, "restarts") {
            for w in s.points.windows(2) {
                if w[1].value > w[0].value {
                    restarts.push((node.clone(), w[1].ts));
                }
            }
        }
    }
    restarts.sort();
    restarts
}

/// State bands of every node: scrape gaps, no meta leader, process stopped,
/// process down.
fn bands_of(metrics: &MetricSet, nodes: &[Node]) -> Vec<(Option<Node>, Span, String)> {
    let mut bands = Vec::new();
    for node in nodes {
        for g in metrics.gaps(node) {
            bands.push((Some(node.clone()), *g, BAND_UNRESPONSIVE.to_string()));
        }
        for (metric, label, pred) in [
            (
                "meta_has_leader",
                BAND_NO_META_LEADER,
                is_zero as fn(f64) -> bool,
            ),
            ("proc_stopped", BAND_STOPPED, is_one),
            ("proc_absent", BAND_DOWN, is_one),
        ] {
            if let Some(s) = metrics.series(node, metric) {
                for sp in stretches(s, pred) {
                    bands.push((Some(node.clone()), sp, label.to_string()));
                }
            }
        }
    }
    bands.sort_by(|a, b| (&a.0, a.1, &a.2).cmp(&(&b.0, b.1, &b.2)));
    bands
}

/// [`default_panels`]; JetStream storage joins them when it is the story (a
/// node above half its limit).
fn panels_for(metrics: &MetricSet, nodes: &[Node]) -> Vec<String> {
    let mut panels = default_panels();
    let store_high = nodes.iter().any(|n| {
        metrics
            .series(n, "js_store_pct")
            .is_some_and(|s| s.points.iter().any(|p| p.value >= 50.0))
    });
    if store_high {
        panels.insert(2, "js_store_pct".to_string());
    }
    panels
}

fn is_zero(v: f64) -> bool {
    v == 0.0
}

fn is_one(v: f64) -> bool {
    v >= 1.0
}

/// First to last moment of logs, metrics and findings (a minute from the
/// epoch when there is nothing).
fn data_span(bundle: &Bundle, metrics: &MetricSet, findings: &[Finding]) -> Span {
    let mut lo: Option<Timestamp> = None;
    let mut hi: Option<Timestamp> = None;
    let mut add = |a: Timestamp, b: Timestamp| {
        lo = Some(lo.map_or(a, |l| l.min(a)));
        hi = Some(hi.map_or(b, |h| h.max(b)));
    };
    if let Some((a, b)) = bundle.span() {
        add(a, b);
    }
    if let Some(s) = metrics.span() {
        add(s.start, s.end);
    }
    for f in findings {
        add(f.start, f.end.max(f.start));
    }
    match (lo, hi) {
        (Some(a), Some(b)) => Span::new(a, b),
        _ => Span::new(Timestamp(0), Timestamp(60 * NANOS_PER_SEC)),
    }
}

/// Stretches where `pred` holds: from the first matching sample to the first
/// sample after it that does not match (or the last matching one, plus one
/// step, at the end of the data or before a gap). Missing data ends a stretch.
fn stretches(s: &Series, pred: fn(f64) -> bool) -> Vec<Span> {
    let max_gap = crate::metrics::max_age(s);
    let step = s.step.max(NANOS_PER_SEC / 10);
    let mut out = Vec::new();
    let mut run: Option<(Timestamp, Timestamp)> = None;
    for p in &s.points {
        if let Some((a, last)) = run {
            if p.ts.since(last) > max_gap {
                out.push(Span::new(a, last.add(step)));
                run = None;
            }
        }
        match (pred(p.value), run) {
            (true, Some((a, _))) => run = Some((a, p.ts)),
            (true, None) => run = Some((p.ts, p.ts)),
            (false, Some((a, _))) => {
                out.push(Span::new(a, p.ts));
                run = None;
            }
            (false, None) => {}
        }
    }
    if let Some((a, last)) = run {
        out.push(Span::new(a, last.add(step)));
    }
    out
}

/// `n2` before `n10`: digit runs compare as numbers.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn key(s: &str) -> Vec<(u8, u64, String)> {
        let mut out = Vec::new();
        let mut chars = s.chars().peekable();
        while let Some(&c) = chars.peek() {
            let digit = c.is_ascii_digit();
            let mut tok = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_digit() != digit {
                    break;
                }
                tok.push(c);
                chars.next();
            }
            if digit {
                out.push((0, tok.parse().unwrap_or(u64::MAX), tok));
            } else {
                out.push((1, 0, tok));
            }
        }
        out
    }
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests;
