//! Layout and drawing, in pixels on the root drawing area (the same code for
//! the PNG and the SVG backend).

use super::ChartInput;
use super::encode::FONT_FAMILY;
use crate::model::{Level, NANOS_PER_SEC, Node, Series, Severity, Span, Timestamp};
use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::borrow::Cow;
use std::collections::HashMap;

type Px = (i32, i32);

// ---------------------------------------------------------------- colours

const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const MUTED: RGBColor = RGBColor(0x6b, 0x6b, 0x6b);
const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);
const FRAME: RGBColor = RGBColor(0xbd, 0xbd, 0xbd);
const LANE_ODD: RGBColor = RGBColor(0xf6, 0xf6, 0xf6);
const WARN: RGBColor = RGBColor(0xf2, 0xa5, 0x1a);
const ERROR: RGBColor = RGBColor(0x7a, 0x1f, 0x2b);
const ROOT: RGBColor = RGBColor(0xb0, 0x00, 0x20);
const RESTART: RGBColor = RGBColor(0x11, 0x11, 0x11);
/// The failing node, everywhere.
const FAILING: RGBColor = RGBColor(0xd6, 0x27, 0x28);
/// Other nodes, in lane order (no red, no amber: those mean failing/warning).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x17, 0xa2, 0xb8),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
    RGBColor(0xa0, 0xa0, 0x20),
];

fn severity_color(s: Severity) -> RGBColor {
    match s {
        Severity::Info => RGBColor(0x9e, 0x9e, 0x9e),
        Severity::Low => RGBColor(0x4a, 0x90, 0xd9),
        Severity::Medium => RGBColor(0xf2, 0xa5, 0x1a),
        Severity::High => RGBColor(0xe8, 0x59, 0x0c),
        Severity::Critical => RGBColor(0xb0, 0x00, 0x20),
    }
}

/// Colour and opacity of a state band, by its label.
fn band_color(label: &str) -> (RGBColor, f64) {
    let l = label.to_ascii_lowercase();
    if l.contains("leader") {
        (RGBColor(0x7e, 0x57, 0xc2), 0.22)
    } else if l.contains("down") || l.contains("absent") {
        (RGBColor(0x20, 0x20, 0x20), 0.45)
    } else if l.contains("stopped") || l.contains("frozen") {
        (RGBColor(0x1e, 0x3a, 0x5f), 0.35)
    } else if l.contains("unresponsive") {
        (RGBColor(0x50, 0x50, 0x50), 0.22)
    } else {
        (RGBColor(0x60, 0x7d, 0x8b), 0.25)
    }
}

// ---------------------------------------------------------------- canvas

/// Thin layer over the root area: pixel primitives, fonts scaled to the image.
struct Canvas<'a, DB: DrawingBackend> {
    area: &'a DrawingArea<DB, Shift>,
    /// Font scale: 1.0 at 1600×900.
    k: f64,
}

type R = anyhow::Result<()>;

fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("chart drawing failed: {e}")
}

impl<DB: DrawingBackend> Canvas<'_, DB> {
    fn style(&self, size: f64, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
        TextStyle {
            font: (FONT_FAMILY, size * self.k).into_font(),
            color: color.to_backend_color(),
            pos: Pos::new(h, v),
        }
    }

    fn rect(&self, a: Px, b: Px, color: RGBAColor) -> R {
        if a.0 == b.0 || a.1 == b.1 {
            return Ok(());
        }
        self.area
            .draw(&Rectangle::new([a, b], color.filled()))
            .map_err(err)
    }

    fn frame(&self, a: Px, b: Px, color: RGBColor) -> R {
        self.area
            .draw(&Rectangle::new([a, b], color.stroke_width(1)))
            .map_err(err)
    }

    fn line(&self, pts: Vec<Px>, color: RGBAColor, width: u32) -> R {
        if pts.len() < 2 {
            return Ok(());
        }
        self.area
            .draw(&PathElement::new(pts, color.stroke_width(width)))
            .map_err(err)
    }

    fn dot(&self, at: Px, r: i32, color: RGBAColor) -> R {
        self.area
            .draw(&Circle::new(at, r, color.filled()))
            .map_err(err)
    }

    fn polygon(&self, pts: Vec<Px>, color: RGBAColor) -> R {
        self.area
            .draw(&Polygon::new(pts, color.filled()))
            .map_err(err)
    }

    fn text(&self, s: &str, at: Px, style: &TextStyle) -> R {
        if s.is_empty() {
            return Ok(());
        }
        self.area.draw_text(s, style, at).map_err(err)
    }

    /// Bold without a bold face: the text twice, one pixel apart.
    fn text_bold(&self, s: &str, at: Px, style: &TextStyle) -> R {
        self.text(s, at, style)?;
        self.text(s, (at.0 + 1, at.1), style)
    }

    fn width(&self, s: &str, style: &TextStyle) -> i32 {
        self.area
            .estimate_text_size(s, style)
            .map(|(w, _)| w as i32)
            .unwrap_or((s.chars().count() as f64 * style.font.get_size() * 0.55) as i32)
    }

    /// `s` cut with an ellipsis to fit `max` pixels.
    fn fit<'s>(&self, s: &'s str, style: &TextStyle, max: i32) -> Cow<'s, str> {
        if self.width(s, style) <= max {
            return Cow::Borrowed(s);
        }
        let chars: Vec<char> = s.chars().collect();
        let (mut lo, mut hi) = (0usize, chars.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let cand: String = chars[..mid].iter().collect::<String>() + "…";
            if self.width(&cand, style) <= max {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        if lo == 0 {
            return Cow::Borrowed("");
        }
        Cow::Owned(chars[..lo].iter().collect::<String>() + "…")
    }
}

/// Log- and metric-derived text made safe to draw: no control characters
/// (the SVG backend escapes `<>&"'` itself).
fn clean(s: &str) -> Cow<'_, str> {
    crate::render::escape::terminal(s)
}

// ---------------------------------------------------------------- geometry

/// Time → x pixel.
#[derive(Clone, Copy)]
struct XMap {
    x0: i32,
    x1: i32,
    t0: i64,
    t1: i64,
}

impl XMap {
    fn x(&self, t: Timestamp) -> f64 {
        let f = (t.0 as f64 - self.t0 as f64) / (self.t1 as f64 - self.t0 as f64);
        self.x0 as f64 + f * (self.x1 - self.x0) as f64
    }

    fn xi(&self, t: Timestamp) -> i32 {
        self.x(t).round().clamp(-1e6, 1e6) as i32
    }

    /// A span clipped to the plot, in pixels (at least one pixel wide); `None`
    /// when outside.
    fn span(&self, s: Span) -> Option<(i32, i32)> {
        if s.end.0 < self.t0 || s.start.0 > self.t1 {
            return None;
        }
        let a = self.xi(s.start).clamp(self.x0, self.x1);
        let b = self.xi(s.end).clamp(self.x0, self.x1);
        Some((a, b.max(a + 1)))
    }

    fn contains(&self, t: Timestamp) -> bool {
        self.t0 <= t.0 && t.0 <= self.t1
    }
}

struct Lane {
    node: Option<Node>,
    y0: i32,
    y1: i32,
}

struct Panel {
    metric: String,
    /// Every value in the span is 0.
    all_zero: bool,
    y0: i32,
    y1: i32,
}

// ---------------------------------------------------------------- entry

pub(super) fn draw<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, input: &ChartInput) -> R {
    let (w, h) = area.dim_in_pixel();
    let k = (w as f64 / 1600.0).min(h as f64 / 900.0).clamp(0.45, 3.0);
    let c = Canvas { area, k };
    area.fill(&WHITE).map_err(err)?;

    let ki = |v: f64| (v * k).round() as i32;
    let (w, h) = (w as i32, h as i32);

    // Span: never empty.
    let mut span = input.span;
    if span.duration() <= 0 {
        span = Span::new(
            span.start.sub(30 * NANOS_PER_SEC),
            span.end.add(30 * NANOS_PER_SEC),
        );
    }

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

    let colors = node_colors(input);
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
    let mut lanes = Vec::new();
    let mut y = top;
    if cluster_lane {
        lanes.push(Lane {
            node: None,
            y0: y,
            y1: y + cluster_h,
        });
        y += cluster_h;
    }
    for n in &input.nodes {
        lanes.push(Lane {
            node: Some(n.clone()),
            y0: y,
            y1: y + lane_h,
        });
        y += lane_h;
    }
    let lanes_bottom = y;

    // Panels share the rest; a panel where every node reads 0 gets half a
    // share (it only has to say "nothing here").
    let gap = ki(10.0);
    let mut panels = Vec::new();
    if !panels_metrics.is_empty() {
        let weights: Vec<f64> = panels_metrics
            .iter()
            .map(|(_, zero)| if *zero { 0.5 } else { 1.0 })
            .collect();
        let total: f64 = weights.iter().sum();
        let n = panels_metrics.len() as i32;
        let room = (bottom - lanes_bottom - gap * n).max(0) as f64;
        let mut y = lanes_bottom + gap;
        for ((m, zero), wgt) in panels_metrics.into_iter().zip(weights) {
            let ph = ((room * wgt / total) as i32).max(ki(24.0));
            panels.push(Panel {
                metric: m,
                all_zero: zero,
                y0: y,
                y1: y + ph,
            });
            y += ph + gap;
        }
    }
    let plot_bottom = panels.last().map_or(lanes_bottom, |p| p.y1);

    // Time grid first, under everything.
    let ticks = time_ticks(&x, ki(110.0));
    for &t in &ticks {
        let px = x.xi(t);
        c.line(vec![(px, top), (px, plot_bottom)], GRID.into(), 1)?;
    }

    draw_header(&c, input, span, w)?;
    draw_lanes(&c, input, &x, &lanes, &colors)?;
    for p in &panels {
        draw_panel(&c, input, &x, p, &colors, span)?;
    }
    draw_restart_guides(&c, input, &x, lanes_bottom, plot_bottom)?;

    // Time labels under the last panel.
    let ts = c.style(12.5, MUTED, HPos::Center, VPos::Top);
    for &t in &ticks {
        let px = x.xi(t);
        c.line(
            vec![(px, plot_bottom), (px, plot_bottom + ki(4.0))],
            MUTED.into(),
            1,
        )?;
        c.text(&hms(t), (px, plot_bottom + ki(5.0)), &ts)?;
    }

    draw_root_cause(&c, input, &x, title_h, plot_bottom)?;
    draw_legend(&c, input, &x, &colors, h - legend_h + ki(6.0), w)?;
    Ok(())
}

// ---------------------------------------------------------------- parts

fn node_colors(input: &ChartInput) -> HashMap<Node, RGBColor> {
    let mut out = HashMap::new();
    let mut i = 0;
    for n in &input.nodes {
        if input.failing_node.as_ref() == Some(n) {
            out.insert(n.clone(), FAILING);
        } else {
            out.insert(n.clone(), PALETTE[i % PALETTE.len()]);
            i += 1;
        }
    }
    out
}

fn color_of(colors: &HashMap<Node, RGBColor>, n: &str) -> RGBColor {
    colors.get(n).copied().unwrap_or(MUTED)
}

fn has_lane(input: &ChartInput, node: Option<&Node>) -> bool {
    node.is_some_and(|n| input.nodes.contains(n))
}

fn needs_cluster_lane(input: &ChartInput) -> bool {
    input
        .findings
        .iter()
        .any(|f| !has_lane(input, f.node.as_ref()))
        || input.bands.iter().any(|b| !has_lane(input, b.0.as_ref()))
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

fn draw_header<DB: DrawingBackend>(c: &Canvas<DB>, input: &ChartInput, span: Span, w: i32) -> R {
    let ki = |v: f64| (v * c.k).round() as i32;
    let mid = ki(17.0);
    let title_style = c.style(20.0, INK, HPos::Left, VPos::Center);
    let right_style = c.style(14.0, MUTED, HPos::Right, VPos::Center);
    let range = format!(
        "{} – {} UTC ({})",
        span.start.short().trim_end_matches(".000"),
        hms(span.end),
        crate::model::format_duration(span.duration())
    );
    let range_w = c.width(&range, &right_style);
    let mut x = ki(14.0);
    let title = clean(&input.title);
    let title = c.fit(&title, &title_style, (w - range_w - ki(40.0)) * 3 / 5);
    c.text_bold(&title, (x, mid), &title_style)?;
    x += c.width(&title, &title_style) + ki(18.0);
    if let Some(f) = &input.failing_node {
        let s = c.style(16.0, FAILING, HPos::Left, VPos::Center);
        let txt = format!("failing node: {}", clean(f));
        let txt = c.fit(&txt, &s, w - range_w - x - ki(30.0));
        c.text_bold(&txt, (x, mid), &s)?;
    }
    c.text(&range, (w - ki(14.0), mid), &right_style)
}

/// Warnings and errors per bucket and node: `counts[lane][bucket] = (warn, error)`.
fn density(input: &ChartInput, x: &XMap, buckets: usize) -> Vec<Vec<(u32, u32)>> {
    let idx: HashMap<&str, usize> = input
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (&**n, i))
        .collect();
    let mut out = vec![vec![(0u32, 0u32); buckets]; input.nodes.len()];
    let dur = (x.t1 - x.t0).max(1) as f64;
    if let Some(stats) = input.activity {
        for (node, st) in stats {
            let Some(&i) = idx.get(&**node) else { continue };
            for (&sec, &(w, e)) in &st.activity {
                let ts = crate::model::Timestamp(sec * 1_000_000_000);
                if !x.contains(ts) {
                    continue;
                }
                let b = (((ts.0 - x.t0) as f64 / dur) * buckets as f64) as usize;
                let cell = &mut out[i][b.min(buckets - 1)];
                cell.0 += w;
                cell.1 += e;
            }
        }
        return out;
    }
    for e in input.events {
        if e.level < Level::Warn {
            continue;
        }
        let Some(ts) = e.ts else { continue };
        if !x.contains(ts) {
            continue;
        }
        let Some(&i) = idx.get(&*e.node) else {
            continue;
        };
        let b = (((ts.0 - x.t0) as f64 / dur) * buckets as f64) as usize;
        let cell = &mut out[i][b.min(buckets - 1)];
        let lines = e.repeat.max(1);
        if e.level == Level::Warn {
            cell.0 += lines;
        } else {
            cell.1 += lines;
        }
    }
    out
}

fn draw_lanes<DB: DrawingBackend>(
    c: &Canvas<DB>,
    input: &ChartInput,
    x: &XMap,
    lanes: &[Lane],
    colors: &HashMap<Node, RGBColor>,
) -> R {
    let ki = |v: f64| (v * c.k).round() as i32;
    if lanes.is_empty() {
        return Ok(());
    }
    let bucket_px = ki(6.0).max(2);
    let buckets = (((x.x1 - x.x0) / bucket_px).max(1)) as usize;
    let counts = density(input, x, buckets);
    let max_count = counts
        .iter()
        .flatten()
        .map(|&(w, e)| w + e)
        .max()
        .unwrap_or(0);
    let totals: Vec<(u32, u32)> = counts
        .iter()
        .map(|row| {
            row.iter()
                .fold((0, 0), |acc, &(w, e)| (acc.0 + w, acc.1 + e))
        })
        .collect();

    // Backgrounds and labels.
    for (li, lane) in lanes.iter().enumerate() {
        let (y0, y1) = (lane.y0, lane.y1);
        let failing = lane.node.is_some() && lane.node == input.failing_node;
        let bg: RGBAColor = if failing {
            FAILING.mix(0.10)
        } else if li % 2 == 1 {
            LANE_ODD.into()
        } else {
            WHITE.into()
        };
        c.rect((x.x0, y0), (x.x1, y1), bg)?;
        match &lane.node {
            None => {
                let s = c.style(12.5, MUTED, HPos::Right, VPos::Center);
                c.text("cluster", (x.x0 - ki(10.0), (y0 + y1) / 2), &s)?;
            }
            Some(n) => {
                let color = color_of(colors, n);
                let name = clean(n);
                let two_lines = y1 - y0 >= ki(30.0);
                let name_y = if two_lines {
                    y0 + (y1 - y0) * 2 / 5
                } else {
                    (y0 + y1) / 2
                };
                let s = c.style(
                    if failing { 17.0 } else { 15.0 },
                    color,
                    HPos::Right,
                    VPos::Center,
                );
                let name = c.fit(&name, &s, x.x0 - ki(16.0));
                if failing {
                    c.text_bold(&name, (x.x0 - ki(11.0), name_y), &s)?;
                } else {
                    c.text(&name, (x.x0 - ki(10.0), name_y), &s)?;
                }
                // A colour tab: the node's colour next to its lane.
                c.rect(
                    (x.x0 - ki(6.0), y0 + 1),
                    (x.x0 - ki(2.0), y1 - 1),
                    color.into(),
                )?;
                if two_lines {
                    let i = input.nodes.iter().position(|m| m == n).unwrap_or(0);
                    let (wn, er) = totals.get(i).copied().unwrap_or((0, 0));
                    let txt = format!("{er} err · {wn} warn");
                    let s = c.style(11.0, MUTED, HPos::Right, VPos::Center);
                    c.text(&txt, (x.x0 - ki(10.0), y0 + (y1 - y0) * 4 / 5), &s)?;
                }
            }
        }
        c.line(vec![(x.x0, y1), (x.x1, y1)], GRID.into(), 1)?;
    }

    // State bands.
    let band_label = c.style(11.0, INK, HPos::Left, VPos::Top);
    let line_h = ki(13.0);
    let mut labels: Vec<(i32, i32, i32)> = Vec::new(); // (label top, x from, x to)
    for (node, sp, label) in &input.bands {
        let lane = lanes
            .iter()
            .find(|l| l.node.as_ref() == node.as_ref() && has_lane(input, node.as_ref()))
            .or_else(|| {
                (!has_lane(input, node.as_ref()))
                    .then(|| lanes.first().filter(|l| l.node.is_none()))
                    .flatten()
            });
        let (Some(lane), Some((a, b))) = (lane, x.span(*sp)) else {
            continue;
        };
        let (color, alpha) = band_color(label);
        c.rect((a, lane.y0 + 1), (b, lane.y1), color.mix(alpha))?;
        let mut text = clean(label).into_owned();
        if node.is_some() && !has_lane(input, node.as_ref()) {
            text = format!("{}: {text}", clean(node.as_deref().unwrap_or("")));
        }
        let t = c.fit(&text, &band_label, b - a - ki(4.0));
        if t.is_empty() {
            continue;
        }
        // Below the labels it would overlap, while the lane has room.
        let (from, to) = (a + ki(3.0), a + ki(3.0) + c.width(&t, &band_label));
        let mut top = lane.y0 + ki(2.0);
        while labels
            .iter()
            .any(|&(y, f, e)| y == top && f < to + ki(4.0) && from < e + ki(4.0))
        {
            top += line_h;
        }
        if top + line_h > lane.y1 + 1 {
            continue;
        }
        labels.push((top, from, to));
        c.text(&t, (from, top), &band_label)?;
    }

    // Density bars: errors from the bottom, warnings above them; height on a
    // square-root scale shared by all lanes (a lane with twice the warnings
    // looks busier; a single error still shows). Full height means at least
    // 10 lines per slice, so a lone warning in a quiet log stays small.
    if max_count > 0 {
        let scale = (max_count.max(10) as f64).sqrt();
        for (i, row) in counts.iter().enumerate() {
            let Some(lane) = lanes
                .iter()
                .find(|l| l.node.as_ref() == Some(&input.nodes[i]))
            else {
                continue;
            };
            let full = (lane.y1 - lane.y0 - ki(4.0)).max(2) as f64;
            for (b, &(wn, er)) in row.iter().enumerate() {
                let total = wn + er;
                if total == 0 {
                    continue;
                }
                let hgt = ((total as f64).sqrt() / scale * full).max(3.0);
                let mut h_err = hgt * er as f64 / total as f64;
                if er > 0 {
                    h_err = h_err.max(4.0_f64.min(hgt));
                }
                let xa = x.x0 + b as i32 * bucket_px;
                let xb = (xa + bucket_px - 1).min(x.x1);
                let base = lane.y1 - 1;
                let top_err = base - h_err.round() as i32;
                let top_all = base - hgt.round() as i32;
                if er > 0 {
                    c.rect((xa, top_err.min(base - 2)), (xb, base), ERROR.into())?;
                }
                if wn > 0 {
                    c.rect((xa, top_all), (xb, top_err), WARN.into())?;
                }
            }
        }
    }

    // Restarts: a black bar across the lane with a label.
    let rs = c.style(11.0, RESTART, HPos::Left, VPos::Top);
    for (node, ts) in &input.restarts {
        let Some(lane) = lanes.iter().find(|l| l.node.as_ref() == Some(node)) else {
            continue;
        };
        if !x.contains(*ts) {
            continue;
        }
        let px = x.xi(*ts);
        c.rect(
            (px - ki(1.5), lane.y0 + 1),
            (px + ki(1.5).max(1), lane.y1),
            RESTART.into(),
        )?;
        c.polygon(
            vec![
                (px - ki(6.0), lane.y0 + 1),
                (px + ki(6.0), lane.y0 + 1),
                (px, lane.y0 + ki(8.0)),
            ],
            RESTART.into(),
        )?;
        c.text("restart", (px + ki(8.0), lane.y0 + ki(2.0)), &rs)?;
    }

    // Findings: a diamond at the start, a bar to the end; labels where they fit.
    let mut order: Vec<&crate::model::Finding> = input.findings.iter().collect();
    order.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.order_key().cmp(&b.order_key()))
    });
    let fs = c.style(11.5, INK, HPos::Left, VPos::Center);
    let mut taken: Vec<(i32, i32, i32)> = Vec::new(); // (lane y, x from, x to)
    for f in order.iter().rev() {
        let lane = if has_lane(input, f.node.as_ref()) {
            lanes.iter().find(|l| l.node.as_ref() == f.node.as_ref())
        } else {
            lanes.first().filter(|l| l.node.is_none())
        };
        let Some(lane) = lane else { continue };
        let Some((a, b)) = x.span(Span::new(f.start, f.end.max(f.start))) else {
            continue;
        };
        let color = severity_color(f.severity);
        let ym = lane.y0 + ((lane.y1 - lane.y0) as f64 * 0.42) as i32;
        c.rect((a, ym - ki(1.5)), (b, ym + ki(1.5).max(1)), color.mix(0.8))?;
        let r = ki(6.5).max(3);
        let cx = x.xi(f.start).clamp(x.x0, x.x1);
        c.polygon(
            vec![
                (cx, ym - r - 1),
                (cx + r + 1, ym),
                (cx, ym + r + 1),
                (cx - r - 1, ym),
            ],
            WHITE.into(),
        )?;
        c.polygon(
            vec![(cx, ym - r), (cx + r, ym), (cx, ym + r), (cx - r, ym)],
            color.into(),
        )?;
    }
    // Labels, most severe first, never overlapping on one lane.
    for f in &order {
        let lane = if has_lane(input, f.node.as_ref()) {
            lanes.iter().find(|l| l.node.as_ref() == f.node.as_ref())
        } else {
            lanes.first().filter(|l| l.node.is_none())
        };
        let Some(lane) = lane else { continue };
        if !x.contains(f.start) && !x.contains(f.end) {
            continue;
        }
        let cx = x.xi(f.start).clamp(x.x0, x.x1);
        let ym = lane.y0 + ((lane.y1 - lane.y0) as f64 * 0.42) as i32;
        let mut text = if f.title.is_empty() {
            clean(&f.rule).into_owned()
        } else {
            clean(&f.title).into_owned()
        };
        if f.node.is_some() && !has_lane(input, f.node.as_ref()) {
            text = format!("{}: {text}", clean(f.node.as_deref().unwrap_or("")));
        }
        let from = cx + ki(9.0);
        let room = x.x1 - from;
        let t = c.fit(&text, &fs, room.min(ki(320.0)));
        if t.is_empty() {
            continue;
        }
        let to = from + c.width(&t, &fs);
        if taken
            .iter()
            .any(|&(ly, a, b)| ly == lane.y0 && a < to + ki(6.0) && from < b + ki(6.0))
        {
            continue;
        }
        taken.push((lane.y0, from, to));
        c.rect(
            (from - ki(1.0), ym - ki(8.0)),
            (to + ki(2.0), ym + ki(8.0)),
            WHITE.mix(0.8),
        )?;
        c.text(&t, (from, ym), &fs)?;
    }
    Ok(())
}

/// Restarts also as thin dashed guides through the metric panels (metrics
/// reset there).
fn draw_restart_guides<DB: DrawingBackend>(
    c: &Canvas<DB>,
    input: &ChartInput,
    x: &XMap,
    y0: i32,
    y1: i32,
) -> R {
    for (_, ts) in &input.restarts {
        if !x.contains(*ts) {
            continue;
        }
        let px = x.xi(*ts);
        c.area
            .draw(&DashedPathElement::new(
                vec![(px, y0), (px, y1)],
                (4.0 * c.k).max(2.0) as u32,
                (4.0 * c.k).max(2.0) as u32,
                RESTART.mix(0.6).stroke_width(1),
            ))
            .map_err(err)?;
    }
    Ok(())
}

fn draw_root_cause<DB: DrawingBackend>(
    c: &Canvas<DB>,
    input: &ChartInput,
    x: &XMap,
    top: i32,
    bottom: i32,
) -> R {
    let ki = |v: f64| (v * c.k).round() as i32;
    let Some((ts, label)) = &input.root_cause else {
        return Ok(());
    };
    if !x.contains(*ts) {
        return Ok(());
    }
    let px = x.xi(*ts);
    c.rect(
        (px - ki(1.0), top + ki(2.0)),
        (px + ki(1.0).max(1), bottom),
        ROOT.into(),
    )?;
    let s = c.style(13.0, WHITE, HPos::Left, VPos::Center);
    let text = format!("{} · {}", clean(label), hms(*ts));
    let text = c.fit(&text, &s, (x.x1 - x.x0) * 2 / 3);
    let tw = c.width(&text, &s);
    let pad = ki(6.0);
    let (bx0, bx1) = if px + tw + 2 * pad <= x.x1 + ki(60.0) {
        (px, px + tw + 2 * pad)
    } else {
        (px - tw - 2 * pad, px)
    };
    let (by0, by1) = (top + ki(2.0), top + ki(20.0));
    c.rect((bx0, by0), (bx1, by1), ROOT.into())?;
    c.text(&text, (bx0 + pad, (by0 + by1) / 2), &s)
}

fn draw_legend<DB: DrawingBackend>(
    c: &Canvas<DB>,
    input: &ChartInput,
    x_map: &XMap,
    colors: &HashMap<Node, RGBColor>,
    y: i32,
    w: i32,
) -> R {
    let ki = |v: f64| (v * c.k).round() as i32;
    let s = c.style(12.5, INK, HPos::Left, VPos::Center);
    let ym = y + ki(9.0);
    let mut x = ki(14.0);
    let limit = w - ki(14.0);
    let fits = |x: i32, item_w: i32| x + item_w <= limit;
    for n in &input.nodes {
        let failing = input.failing_node.as_ref() == Some(n);
        let name = clean(n);
        let label = if failing {
            format!("{name} (failing)")
        } else {
            name.into_owned()
        };
        let label = c.fit(&label, &s, ki(160.0));
        let item = ki(28.0) + c.width(&label, &s) + ki(16.0);
        if !fits(x, item) {
            return Ok(());
        }
        let color = color_of(colors, n);
        c.line(
            vec![(x, ym), (x + ki(22.0), ym)],
            color.into(),
            if failing { 4 } else { 2 },
        )?;
        c.text(&label, (x + ki(28.0), ym), &s)?;
        x += item;
    }
    x += ki(10.0);
    // Only what this time range shows.
    let span = Span::new(Timestamp(x_map.t0), Timestamp(x_map.t1));
    let mut items: Vec<(Swatch, String)> = vec![
        (Swatch::Box(WARN.into()), "warnings".into()),
        (
            Swatch::Box(ERROR.into()),
            "errors (log lines per time slice)".into(),
        ),
    ];
    if input
        .findings
        .iter()
        .any(|f| span.overlaps(&Span::new(f.start, f.end.max(f.start))))
    {
        items.push((
            Swatch::Diamond(severity_color(Severity::High)),
            "finding (colour = severity)".into(),
        ));
    }
    if input.restarts.iter().any(|r| span.contains(r.1)) {
        items.push((Swatch::Bar(RESTART), "restart".into()));
    }
    let mut band_labels: Vec<String> = input
        .bands
        .iter()
        .filter(|b| span.overlaps(&b.1))
        .map(|b| clean(&b.2).into_owned())
        .collect();
    band_labels.sort();
    band_labels.dedup();
    for l in band_labels {
        let (color, alpha) = band_color(&l);
        items.push((Swatch::Box(color.mix(alpha)), l));
    }
    if input
        .root_cause
        .as_ref()
        .is_some_and(|r| span.contains(r.0))
    {
        items.push((Swatch::Bar(ROOT), "root cause".into()));
    }
    for (sw, label) in items {
        let label = c.fit(&label, &s, ki(260.0));
        let item = ki(20.0) + c.width(&label, &s) + ki(16.0);
        if !fits(x, item) {
            break;
        }
        let r = ki(6.0);
        match sw {
            Swatch::Box(col) => c.rect((x, ym - r), (x + 2 * r, ym + r), col)?,
            Swatch::Bar(col) => c.rect(
                (x + r - ki(1.5), ym - r - 2),
                (x + r + ki(1.5).max(1), ym + r + 2),
                col.into(),
            )?,
            Swatch::Diamond(col) => c.polygon(
                vec![(x + r, ym - r), (x + 2 * r, ym), (x + r, ym + r), (x, ym)],
                col.into(),
            )?,
        }
        c.text(&label, (x + ki(20.0), ym), &s)?;
        x += item;
    }
    Ok(())
}

enum Swatch {
    Box(RGBAColor),
    Bar(RGBColor),
    Diamond(RGBColor),
}

// ---------------------------------------------------------------- panels

fn draw_panel<DB: DrawingBackend>(
    c: &Canvas<DB>,
    input: &ChartInput,
    x: &XMap,
    p: &Panel,
    colors: &HashMap<Node, RGBColor>,
    span: Span,
) -> R {
    let ki = |v: f64| (v * c.k).round() as i32;
    let unit = Unit::of(&p.metric);
    // Value range over all nodes in the span.
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut series: Vec<(&Node, &Series)> = Vec::new();
    for n in &input.nodes {
        if let Some(s) = input.metrics.series(n, &p.metric) {
            for pt in s.range(span.start, span.end) {
                if pt.value.is_finite() {
                    lo = lo.min(pt.value);
                    hi = hi.max(pt.value);
                }
            }
            series.push((n, s));
        }
    }
    if !lo.is_finite() {
        lo = 0.0;
        hi = 1.0;
    }
    let ymin = if lo >= 0.0 {
        0.0
    } else {
        -nice_ceil(-lo * 1.05)
    };
    let ymax = if hi <= 0.0 && lo < 0.0 {
        0.0
    } else {
        unit.nice_top((hi * 1.08).max(unit.min_top()))
    };
    let title_h = ki(20.0);
    let (py0, py1) = (p.y0 + title_h, p.y1 - ki(2.0));
    let ymap = |v: f64| -> i32 {
        let f = (v - ymin) / (ymax - ymin);
        (py1 as f64 - f * (py1 - py0) as f64).round() as i32
    };

    // The failing node's outages (unresponsive, stopped, down) shaded
    // through the panel: they explain the holes in its line.
    for (node, sp, label) in &input.bands {
        let mine = node.is_some() && node.as_ref() == input.failing_node.as_ref();
        if !mine || label == super::BAND_NO_META_LEADER {
            continue;
        }
        if let Some((a, b)) = x.span(*sp) {
            let (color, alpha) = band_color(label);
            c.rect((a, p.y0 + 1), (b, p.y1 - 1), color.mix(alpha * 0.35))?;
        }
    }
    c.frame((x.x0, p.y0), (x.x1, p.y1), FRAME)?;
    // y grid: 0 (or min), middle, top.
    let ts = c.style(11.5, MUTED, HPos::Right, VPos::Center);
    for v in [ymin, (ymin + ymax) / 2.0, ymax] {
        let y = ymap(v);
        if v != ymin {
            c.line(vec![(x.x0 + 1, y), (x.x1 - 1, y)], GRID.into(), 1)?;
        }
        c.text(&unit.fmt(v), (x.x0 - ki(6.0), y), &ts)?;
    }
    if ymin < 0.0 {
        let y = ymap(0.0);
        c.line(vec![(x.x0 + 1, y), (x.x1 - 1, y)], FRAME.into(), 1)?;
    }

    // Lines: others first, the failing node on top, thicker.
    let failing = input.failing_node.as_ref();
    let mut ends: Vec<(i32, RGBColor, String, bool)> = Vec::new();
    let mut ordered: Vec<&(&Node, &Series)> =
        series.iter().filter(|(n, _)| Some(*n) != failing).collect();
    ordered.extend(series.iter().filter(|(n, _)| Some(*n) == failing));
    for (n, s) in ordered {
        let is_failing = Some(*n) == failing;
        let color = color_of(colors, n);
        let width = if is_failing {
            ki(3.0).max(2) as u32
        } else {
            ki(1.6).max(1) as u32
        };
        let paths = series_paths(s, span, x, &ymap);
        for path in &paths {
            if path.len() == 1 {
                c.dot(path[0], ki(2.0).max(1), color.into())?;
            } else {
                c.line(path.clone(), color.into(), width)?;
            }
        }
        if let Some(last) = paths.last().and_then(|p| p.last()) {
            ends.push((last.1, color, clean(n).into_owned(), is_failing));
        }
    }
    // Direct labels at the right end of each line, pushed apart.
    ends.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.cmp(&b.2)));
    let step = ki(13.0);
    let mut prev = i32::MIN;
    for e in ends.iter_mut() {
        e.0 = e.0.max(prev.saturating_add(step)).max(p.y0 + ki(6.0));
        prev = e.0;
    }
    let overflow = prev - (p.y1 - ki(4.0));
    if overflow > 0 {
        for e in ends.iter_mut() {
            e.0 -= overflow;
        }
    }
    for (y, color, name, is_failing) in &ends {
        let s = c.style(
            if *is_failing { 13.0 } else { 12.0 },
            *color,
            HPos::Left,
            VPos::Center,
        );
        let name = c.fit(name, &s, ki(58.0));
        if *is_failing {
            c.text_bold(&name, (x.x1 + ki(5.0), *y), &s)?;
        } else {
            c.text(&name, (x.x1 + ki(5.0), *y), &s)?;
        }
    }

    if p.all_zero {
        let s = c.style(12.5, MUTED, HPos::Center, VPos::Center);
        c.text(
            "0 on every node in this time range",
            ((x.x0 + x.x1) / 2, (py0 + py1) / 2),
            &s,
        )?;
    }

    // Title over the plot, on a white background.
    let ts = c.style(13.0, INK, HPos::Left, VPos::Center);
    let sub = c.style(11.5, MUTED, HPos::Left, VPos::Center);
    let known = unit_title(&p.metric);
    let (title, name) = if known.is_empty() {
        (clean(&p.metric).into_owned(), String::new())
    } else {
        (known, clean(&p.metric).into_owned())
    };
    let tw = c.width(&title, &ts);
    let nw = c.width(&name, &sub);
    let ty = p.y0 + title_h / 2 + 1;
    c.rect(
        (x.x0 + 1, p.y0 + 1),
        (x.x0 + tw + nw + ki(26.0), p.y0 + title_h),
        WHITE.mix(0.85),
    )?;
    c.text_bold(&title, (x.x0 + ki(7.0), ty), &ts)?;
    c.text(&name, (x.x0 + ki(16.0) + tw, ty), &sub)?;
    Ok(())
}

/// Pixel polylines of a series within the span: broken where samples are
/// missing (a gap stays a gap), thinned to first/min/max/last per pixel
/// column when denser than the pixels.
fn series_paths(s: &Series, span: Span, x: &XMap, ymap: &dyn Fn(f64) -> i32) -> Vec<Vec<Px>> {
    let max_gap = crate::metrics::max_age(s);
    let mut out: Vec<Vec<Px>> = Vec::new();
    let mut cur: Vec<Px> = Vec::new();
    let mut prev: Option<Timestamp> = None;
    // Column being collected: (x, first, min, max, last).
    let mut col: Option<(i32, i32, i32, i32, i32)> = None;
    let flush = |col: &mut Option<(i32, i32, i32, i32, i32)>, cur: &mut Vec<Px>| {
        if let Some((cx, first, mn, mx, last)) = col.take() {
            for y in [first, mn, mx, last] {
                if cur.last() != Some(&(cx, y)) {
                    cur.push((cx, y));
                }
            }
        }
    };
    for p in s.range(span.start, span.end) {
        if !p.value.is_finite() {
            continue;
        }
        if prev.is_some_and(|t| p.ts.since(t) > max_gap) {
            flush(&mut col, &mut cur);
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        }
        prev = Some(p.ts);
        let px = x.xi(p.ts);
        let py = ymap(p.value);
        match &mut col {
            Some((cx, _, mn, mx, last)) if *cx == px => {
                *mn = (*mn).min(py);
                *mx = (*mx).max(py);
                *last = py;
            }
            _ => {
                flush(&mut col, &mut cur);
                col = Some((px, py, py, py, py));
            }
        }
    }
    flush(&mut col, &mut cur);
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

// ---------------------------------------------------------------- units

#[derive(Clone, Copy, PartialEq)]
enum Unit {
    Percent,
    Bytes,
    PerSec,
    Flag,
    Count,
}

impl Unit {
    fn of(metric: &str) -> Unit {
        if metric == "cpu" || metric.ends_with("_cpu") || metric.ends_with("_pct") {
            Unit::Percent
        } else if metric.ends_with("_rate") {
            Unit::PerSec
        } else if matches!(
            metric,
            "mem_rss"
                | "proc_rss"
                | "js_mem"
                | "js_store"
                | "js_mem_max"
                | "js_store_max"
                | "route_pending"
                | "js_bytes"
                | "js_reserved_mem"
                | "js_reserved_store"
                | "in_bytes"
                | "out_bytes"
        ) {
            Unit::Bytes
        } else if matches!(
            metric,
            "up" | "healthy"
                | "meta_has_leader"
                | "meta_leader_self"
                | "proc_stopped"
                | "proc_absent"
        ) {
            Unit::Flag
        } else {
            Unit::Count
        }
    }

    /// A round axis top at or above `v`: 1/2/3/4/5/6/8 × 10^k, in binary
    /// units for bytes (so ticks read 512 MiB, 1 GiB).
    fn nice_top(self, v: f64) -> f64 {
        // A percentage that reaches its limit tops out at 100%, not 200%.
        if self == Unit::Percent && v > 50.0 && v <= 110.0 {
            return 100.0;
        }
        if self == Unit::Bytes && v >= 1024.0 {
            let mut unit = 1024.0;
            while v / unit >= 1024.0 {
                unit *= 1024.0;
            }
            return nice_ceil(v / unit) * unit;
        }
        nice_ceil(v)
    }

    /// The smallest y top, so a quiet series is not blown up to full height.
    fn min_top(self) -> f64 {
        match self {
            Unit::Percent => 10.0,
            Unit::Bytes => 1024.0 * 1024.0,
            Unit::Flag => 1.0,
            Unit::PerSec | Unit::Count => 1.0,
        }
    }

    fn fmt(self, v: f64) -> String {
        match self {
            Unit::Percent => format!("{}%", compact(v)),
            Unit::Bytes => bytes(v),
            Unit::PerSec => format!("{}/s", compact(v)),
            Unit::Flag | Unit::Count => compact(v),
        }
    }
}

fn unit_title(metric: &str) -> String {
    match metric {
        "cpu" => "CPU (% of one core)",
        "proc_cpu" => "CPU (% of one core, /proc)",
        "host_cpu" => "host CPU",
        "mem_rss" => "memory (RSS)",
        "proc_rss" => "memory (RSS, /proc)",
        "js_api_pending" => "JetStream API requests pending",
        "js_api_rate" => "JetStream API requests/s",
        "js_api_errors_rate" => "JetStream API errors/s",
        "js_api_inflight" => "JetStream API requests in flight",
        "connections" => "client connections",
        "connections_rate" => "connections opened − closed per s",
        "total_connections_rate" => "new connections/s",
        "slow_consumers_rate" => "slow consumers/s",
        "slow_consumers" => "slow consumers (total)",
        "js_store_pct" => "JetStream storage used (% of limit)",
        "js_mem_pct" => "JetStream memory used (% of limit)",
        "js_store" => "JetStream storage used",
        "up" => "answered monitoring (1 = up)",
        "healthy" => "/healthz ok (1 = healthy)",
        "meta_has_leader" => "sees a meta leader (1 = yes)",
        "restarts" => "restarts",
        "proc_stopped" => "process stopped (1 = SIGSTOP)",
        "routes" => "routes",
        "route_pending" => "route pending bytes",
        "in_msgs_rate" => "messages in/s",
        "out_msgs_rate" => "messages out/s",
        "cg_throttled_rate" => "CPU throttled periods/s (cgroup)",
        "subscriptions" => "subscriptions",
        _ => "",
    }
    .to_string()
}

/// `950`, `1.2k`, `3.4M`, `12`, `0.25`.
fn compact(v: f64) -> String {
    let a = v.abs();
    let (x, suf) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = if x == x.trunc() || x.abs() >= 10.0 {
        format!("{x:.0}")
    } else if x.abs() >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    format!("{s}{suf}")
}

fn bytes(v: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = v;
    let mut i = 0;
    while x.abs() >= 1024.0 && i < units.len() - 1 {
        x /= 1024.0;
        i += 1;
    }
    format!("{} {}", compact(x), units[i])
}

/// The smallest 1/2/3/4/5/6/8 × 10^k at or above `v` (halves stay short:
/// 1.5, not 1.25).
fn nice_ceil(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let e = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        if m * e >= v * (1.0 - 1e-12) {
            return m * e;
        }
    }
    10.0 * e
}

// ---------------------------------------------------------------- time

fn hms(t: Timestamp) -> String {
    chrono::DateTime::from_timestamp_nanos(t.0)
        .format("%H:%M:%S")
        .to_string()
}

/// Tick times on round wall-clock steps, at most one per `min_px` pixels.
fn time_ticks(x: &XMap, min_px: i32) -> Vec<Timestamp> {
    const STEPS: [i64; 20] = [
        1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
        86400, 604800,
    ];
    let width = (x.x1 - x.x0).max(1) as f64;
    let max_ticks = (width / min_px.max(1) as f64).floor().max(2.0);
    let dur_s = (x.t1 - x.t0) as f64 / 1e9;
    let step = STEPS
        .iter()
        .copied()
        .find(|&s| dur_s / s as f64 <= max_ticks)
        .unwrap_or(*STEPS.last().unwrap_or(&86400));
    let step_ns = step * NANOS_PER_SEC;
    let first = x.t0.div_euclid(step_ns) * step_ns
        + if x.t0.rem_euclid(step_ns) == 0 {
            0
        } else {
            step_ns
        };
    let mut out = Vec::new();
    let mut t = first;
    while t <= x.t1 && out.len() < 1000 {
        out.push(Timestamp(t));
        t += step_ns;
    }
    out
}
