//! The metric panels: one line per node on a shared y scale, the failing
//! node's outages shaded behind them, direct labels at the line ends, and the
//! panel title.

use super::ChartInput;
use super::axis::{Unit, nice_ceil, unit_title};
use super::canvas::{Canvas, Px, R, clean};
use super::layout::{Panel, XMap};
use super::palette::{FRAME, GRID, INK, MUTED, band_color, color_of};
use crate::model::{Node, Series, Span, Timestamp};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::collections::HashMap;

/// The panel's y axis: values `ymin..=ymax` onto pixels `py1` (bottom) to
/// `py0` (top).
struct YScale {
    ymin: f64,
    ymax: f64,
    py0: i32,
    py1: i32,
}

impl YScale {
    fn y(&self, v: f64) -> i32 {
        let f = (v - self.ymin) / (self.ymax - self.ymin);
        (self.py1 as f64 - f * (self.py1 - self.py0) as f64).round() as i32
    }
}

/// Where a line ends: (y, colour, node name, failing).
type LineEnd = (i32, RGBColor, String, bool);

pub(super) fn draw_panel<DB: DrawingBackend>(
    c: &Canvas<DB>,
    input: &ChartInput,
    x: &XMap,
    p: &Panel,
    colors: &HashMap<Node, RGBColor>,
    span: Span,
) -> R {
    let unit = Unit::of(&p.metric);
    let (series, lo, hi) = panel_series(input, &p.metric, span);
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
    let title_h = c.ki(20.0);
    let scale = YScale {
        ymin,
        ymax,
        py0: p.y0 + title_h,
        py1: p.y1 - c.ki(2.0),
    };
    draw_outages(c, input, x, p)?;
    c.frame((x.x0, p.y0), (x.x1, p.y1), FRAME)?;
    draw_y_grid(c, x, unit, &scale)?;
    let ends = draw_lines(c, input, x, &series, colors, span, &scale)?;
    draw_line_labels(c, x, p, ends)?;
    if p.all_zero {
        let s = c.style(12.5, MUTED, HPos::Center, VPos::Center);
        c.text(
            "0 on every node in this time range",
            ((x.x0 + x.x1) / 2, (scale.py0 + scale.py1) / 2),
            &s,
        )?;
    }
    draw_panel_title(c, x, p, title_h)
}

/// The nodes' series of `metric` and their value range in the span (0..1
/// when there is no finite value).
fn panel_series<'i>(
    input: &'i ChartInput,
    metric: &str,
    span: Span,
) -> (Vec<(&'i Node, &'i Series)>, f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut series: Vec<(&Node, &Series)> = Vec::new();
    for n in &input.nodes {
        if let Some(s) = input.metrics.series(n, metric) {
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
    (series, lo, hi)
}

/// The failing node's outages (unresponsive, stopped, down) shaded through
/// the panel: they explain the holes in its line.
fn draw_outages<DB: DrawingBackend>(c: &Canvas<DB>, input: &ChartInput, x: &XMap, p: &Panel) -> R {
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
    Ok(())
}

/// y grid: 0 (or min), middle, top; a zero line when the range goes below 0.
fn draw_y_grid<DB: DrawingBackend>(c: &Canvas<DB>, x: &XMap, unit: Unit, scale: &YScale) -> R {
    let ts = c.style(11.5, MUTED, HPos::Right, VPos::Center);
    let (ymin, ymax) = (scale.ymin, scale.ymax);
    for v in [ymin, (ymin + ymax) / 2.0, ymax] {
        let y = scale.y(v);
        if v != ymin {
            c.line(vec![(x.x0 + 1, y), (x.x1 - 1, y)], GRID.into(), 1)?;
        }
        c.text(&unit.fmt(v), (x.x0 - c.ki(6.0), y), &ts)?;
    }
    if ymin < 0.0 {
        let y = scale.y(0.0);
        c.line(vec![(x.x0 + 1, y), (x.x1 - 1, y)], FRAME.into(), 1)?;
    }
    Ok(())
}

/// Lines: others first, the failing node on top, thicker. Returns where each
/// line ends.
fn draw_lines<DB: DrawingBackend>(
    c: &Canvas<DB>,
    input: &ChartInput,
    x: &XMap,
    series: &[(&Node, &Series)],
    colors: &HashMap<Node, RGBColor>,
    span: Span,
    scale: &YScale,
) -> Result<Vec<LineEnd>, super::ChartError> {
    let failing = input.failing_node.as_ref();
    let mut ends: Vec<LineEnd> = Vec::new();
    let mut ordered: Vec<&(&Node, &Series)> =
        series.iter().filter(|(n, _)| Some(*n) != failing).collect();
    ordered.extend(series.iter().filter(|(n, _)| Some(*n) == failing));
    for (n, s) in ordered {
        let is_failing = Some(*n) == failing;
        let color = color_of(colors, n);
        let width = if is_failing {
            c.ki(3.0).max(2) as u32
        } else {
            c.ki(1.6).max(1) as u32
        };
        let paths = series_paths(s, span, x, &|v| scale.y(v));
        for path in &paths {
            if path.len() == 1 {
                c.dot(path[0], c.ki(2.0).max(1), color.into())?;
            } else {
                c.line(path.clone(), color.into(), width)?;
            }
        }
        if let Some(last) = paths.last().and_then(|p| p.last()) {
            ends.push((last.1, color, clean(n).into_owned(), is_failing));
        }
    }
    Ok(ends)
}

/// Direct labels at the right end of each line, pushed apart.
fn draw_line_labels<DB: DrawingBackend>(
    c: &Canvas<DB>,
    x: &XMap,
    p: &Panel,
    mut ends: Vec<LineEnd>,
) -> R {
    ends.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.cmp(&b.2)));
    let step = c.ki(13.0);
    let mut prev = i32::MIN;
    for e in ends.iter_mut() {
        e.0 = e.0.max(prev.saturating_add(step)).max(p.y0 + c.ki(6.0));
        prev = e.0;
    }
    let overflow = prev - (p.y1 - c.ki(4.0));
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
        let name = c.fit(name, &s, c.ki(58.0));
        if *is_failing {
            c.text_bold(&name, (x.x1 + c.ki(5.0), *y), &s)?;
        } else {
            c.text(&name, (x.x1 + c.ki(5.0), *y), &s)?;
        }
    }
    Ok(())
}

/// Title over the plot, on a white background: what the metric means, then
/// its name (or only the name when it has no known title).
fn draw_panel_title<DB: DrawingBackend>(c: &Canvas<DB>, x: &XMap, p: &Panel, title_h: i32) -> R {
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
        (x.x0 + tw + nw + c.ki(26.0), p.y0 + title_h),
        WHITE.mix(0.85),
    )?;
    c.text_bold(&title, (x.x0 + c.ki(7.0), ty), &ts)?;
    c.text(&name, (x.x0 + c.ki(16.0) + tw, ty), &sub)
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
