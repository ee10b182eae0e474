//! Geometry: where everything goes. Time maps to x; the image is cut, top to
//! bottom, into title, lanes (a cluster lane first when something belongs to
//! no node's lane), metric panels, time labels and legend.

use super::ChartInput;
use crate::model::{NANOS_PER_SEC, Node, Span, Timestamp};

/// Time → x pixel.
#[derive(Clone, Copy)]
pub(super) struct XMap {
    pub(super) x0: i32,
    pub(super) x1: i32,
    pub(super) t0: i64,
    pub(super) t1: i64,
}

impl XMap {
    pub(super) fn x(&self, t: Timestamp) -> f64 {
        let f = (t.0 as f64 - self.t0 as f64) / (self.t1 as f64 - self.t0 as f64);
        self.x0 as f64 + f * (self.x1 - self.x0) as f64
    }

    pub(super) fn xi(&self, t: Timestamp) -> i32 {
        self.x(t).round().clamp(-1e6, 1e6) as i32
    }

    /// A span clipped to the plot, in pixels (at least one pixel wide); `None`
    /// when outside.
    pub(super) fn span(&self, s: Span) -> Option<(i32, i32)> {
        if s.end.0 < self.t0 || s.start.0 > self.t1 {
            return None;
        }
        let a = self.xi(s.start).clamp(self.x0, self.x1);
        let b = self.xi(s.end).clamp(self.x0, self.x1);
        Some((a, b.max(a + 1)))
    }

    pub(super) fn contains(&self, t: Timestamp) -> bool {
        self.t0 <= t.0 && t.0 <= self.t1
    }
}

/// One swimlane; `node: None` is the cluster lane.
pub(super) struct Lane {
    pub(super) node: Option<Node>,
    pub(super) y0: i32,
    pub(super) y1: i32,
}

/// One metric panel.
pub(super) struct Panel {
    pub(super) metric: String,
    /// Every value in the span is 0.
    pub(super) all_zero: bool,
    pub(super) y0: i32,
    pub(super) y1: i32,
}

/// The whole image, cut into its parts.
pub(super) struct Layout {
    /// The x range, never empty.
    pub(super) span: Span,
    pub(super) x: XMap,
    /// Height of the title row; the root-cause label hangs below it.
    pub(super) title_h: i32,
    /// Top of the first lane.
    pub(super) top: i32,
    pub(super) lanes: Vec<Lane>,
    pub(super) lanes_bottom: i32,
    pub(super) panels: Vec<Panel>,
    /// Bottom of the last panel (of the last lane without panels).
    pub(super) plot_bottom: i32,
    /// Top of the legend row.
    pub(super) legend_y: i32,
}

impl Layout {
    /// Lays out a `w`×`h` image at font scale `k`.
    pub(super) fn new(input: &ChartInput, w: i32, h: i32, k: f64) -> Layout {
        let ki = |v: f64| (v * k).round() as i32;
        let span = visible_span(input.span);
        let left = ki(150.0);
        let right = w - ki(64.0);
        let x = XMap {
            x0: left,
            x1: right.max(left + 10),
            t0: span.start.0,
            t1: span.end.0,
        };

        // Vertical budget.
        let title_h = ki(34.0);
        let strip_h = ki(22.0);
        let legend_h = ki(28.0);
        let axis_h = ki(22.0);
        let top = title_h + strip_h;
        let bottom = h - legend_h - axis_h;
        let avail = (bottom - top).max(40);

        let cluster_lane = needs_cluster_lane(input);
        let n_lanes = input.nodes.len() + usize::from(cluster_lane);
        let panels_metrics = choose_panels(input, span);

        let lanes_share = if panels_metrics.is_empty() { 0.9 } else { 0.3 };
        let lane_h = if n_lanes == 0 {
            0
        } else {
            ((avail as f64 * lanes_share) / n_lanes as f64).clamp(14.0 * k, 46.0 * k) as i32
        };
        let cluster_h = (lane_h * 2 / 3).max(ki(14.0));
        let cluster_h = cluster_lane.then_some(cluster_h);
        let (lanes, lanes_bottom) = stack_lanes(&input.nodes, top, lane_h, cluster_h);
        let panels = stack_panels(panels_metrics, lanes_bottom, bottom, ki(10.0), ki(24.0));
        let plot_bottom = panels.last().map_or(lanes_bottom, |p| p.y1);
        Layout {
            span,
            x,
            title_h,
            top,
            lanes,
            lanes_bottom,
            panels,
            plot_bottom,
            legend_y: h - legend_h + ki(6.0),
        }
    }
}

/// The span to draw: never empty (an instant gets 30 s on either side).
fn visible_span(span: Span) -> Span {
    if span.duration() <= 0 {
        return Span::new(
            span.start.sub(30 * NANOS_PER_SEC),
            span.end.add(30 * NANOS_PER_SEC),
        );
    }
    span
}

/// Lanes from `top` down: the cluster lane (when it has a height), then one
/// per node. Returns them with the bottom of the last.
fn stack_lanes(nodes: &[Node], top: i32, lane_h: i32, cluster_h: Option<i32>) -> (Vec<Lane>, i32) {
    let mut lanes = Vec::new();
    let mut y = top;
    if let Some(cluster_h) = cluster_h {
        lanes.push(Lane {
            node: None,
            y0: y,
            y1: y + cluster_h,
        });
        y += cluster_h;
    }
    for n in nodes {
        lanes.push(Lane {
            node: Some(n.clone()),
            y0: y,
            y1: y + lane_h,
        });
        y += lane_h;
    }
    (lanes, y)
}

/// Panels share the room from `lanes_bottom` to `bottom`, `gap` apart and at
/// least `min_h` high; a panel where every node reads 0 gets half a share (it
/// only has to say "nothing here").
fn stack_panels(
    metrics: Vec<(String, bool)>,
    lanes_bottom: i32,
    bottom: i32,
    gap: i32,
    min_h: i32,
) -> Vec<Panel> {
    let mut panels = Vec::new();
    if metrics.is_empty() {
        return panels;
    }
    let weights: Vec<f64> = metrics
        .iter()
        .map(|(_, zero)| if *zero { 0.5 } else { 1.0 })
        .collect();
    let total: f64 = weights.iter().sum();
    let n = metrics.len() as i32;
    let room = (bottom - lanes_bottom - gap * n).max(0) as f64;
    let mut y = lanes_bottom + gap;
    for ((m, zero), wgt) in metrics.into_iter().zip(weights) {
        let ph = ((room * wgt / total) as i32).max(min_h);
        panels.push(Panel {
            metric: m,
            all_zero: zero,
            y0: y,
            y1: y + ph,
        });
        y += ph + gap;
    }
    panels
}

pub(super) fn has_lane(input: &ChartInput, node: Option<&Node>) -> bool {
    node.is_some_and(|n| input.nodes.contains(n))
}

fn needs_cluster_lane(input: &ChartInput) -> bool {
    input
        .findings
        .iter()
        .any(|f| !has_lane(input, f.node.as_ref()))
        || input.bands.iter().any(|b| !has_lane(input, b.0.as_ref()))
}

/// The lane of a finding or band: its node's lane, or the cluster lane when
/// it has no node or its node has no lane.
pub(super) fn lane_for<'l>(
    input: &ChartInput,
    lanes: &'l [Lane],
    node: Option<&Node>,
) -> Option<&'l Lane> {
    if has_lane(input, node) {
        lanes.iter().find(|l| l.node.as_ref() == node)
    } else {
        lanes.first().filter(|l| l.node.is_none())
    }
}

#[cfg(test)]
pub(super) fn choose_panels_for_test(input: &ChartInput) -> Vec<String> {
    choose_panels(input, input.span)
        .into_iter()
        .map(|p| p.0)
        .collect()
}

/// The panels to draw: for each entry the first alternative with a non-zero
/// value in the span, else the first with any value; entries without data
/// are left out.
fn choose_panels(input: &ChartInput, span: Span) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for entry in &input.panels {
        let alts: Vec<&str> = entry
            .split('|')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let stats = |m: &str| -> (bool, bool) {
            let mut any = false;
            let mut nonzero = false;
            for n in &input.nodes {
                if let Some(s) = input.metrics.series(n, m) {
                    let pts = s.range(span.start, span.end);
                    any |= !pts.is_empty();
                    nonzero |= pts.iter().any(|p| p.value != 0.0);
                }
            }
            (any, nonzero)
        };
        let pick = alts
            .iter()
            .find(|m| stats(m).1)
            .or_else(|| alts.iter().find(|m| stats(m).0));
        if let Some(m) = pick {
            if !out.iter().any(|o| o.0 == *m) {
                out.push((m.to_string(), !stats(m).1));
            }
        }
    }
    out
}
