//! The swimlanes: one per node (and a cluster lane), with the node's name and
//! colour tab, state bands, warning/error density bars, restart markers and
//! finding markers with their labels.

use super::ChartInput;
use super::canvas::{Canvas, R, clean};
use super::layout::{Lane, XMap, has_lane, lane_for};
use super::palette::{
    ERROR, FAILING, GRID, INK, LANE_ODD, MUTED, RESTART, WARN, band_color, color_of, severity_color,
};
use crate::model::{Finding, Level, Node, Span};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::collections::HashMap;

/// Warnings and errors per time slice of `bucket_px` pixels:
/// `counts[node][bucket] = (warn, error)`, nodes in lane order.
struct Density {
    counts: Vec<Vec<(u32, u32)>>,
    bucket_px: i32,
}

pub(super) fn draw_lanes<DB: DrawingBackend>(
    c: &Canvas<DB>,
    input: &ChartInput,
    x: &XMap,
    lanes: &[Lane],
    colors: &HashMap<Node, RGBColor>,
) -> R {
    if lanes.is_empty() {
        return Ok(());
    }
    let bucket_px = c.ki(6.0).max(2);
    let buckets = (((x.x1 - x.x0) / bucket_px).max(1)) as usize;
    let density = Density {
        counts: density(input, x, buckets),
        bucket_px,
    };
    let totals: Vec<(u32, u32)> = density
        .counts
        .iter()
        .map(|row| {
            row.iter()
                .fold((0, 0), |acc, &(w, e)| (acc.0 + w, acc.1 + e))
        })
        .collect();
    for (li, lane) in lanes.iter().enumerate() {
        draw_lane_background(c, input, x, li, lane, colors, &totals)?;
    }
    draw_bands(c, input, x, lanes)?;
    draw_density(c, input, x, lanes, &density)?;
    draw_restarts(c, input, x, lanes)?;
    draw_findings(c, input, x, lanes)
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

/// The lane's background (tinted for the failing node, striped otherwise),
/// its label left of the plot and the line under it.
fn draw_lane_background<DB: DrawingBackend>(
    c: &Canvas<DB>,
    input: &ChartInput,
    x: &XMap,
    li: usize,
    lane: &Lane,
    colors: &HashMap<Node, RGBColor>,
    totals: &[(u32, u32)],
) -> R {
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
            c.text("cluster", (x.x0 - c.ki(10.0), (y0 + y1) / 2), &s)?;
        }
        Some(n) => draw_lane_label(c, input, x, lane, n, colors, totals)?,
    }
    c.line(vec![(x.x0, y1), (x.x1, y1)], GRID.into(), 1)
}

/// A node lane's name (bold for the failing node), its colour tab and, when
/// the lane is tall enough, its error and warning totals.
fn draw_lane_label<DB: DrawingBackend>(
    c: &Canvas<DB>,
    input: &ChartInput,
    x: &XMap,
    lane: &Lane,
    n: &Node,
    colors: &HashMap<Node, RGBColor>,
    totals: &[(u32, u32)],
) -> R {
    let (y0, y1) = (lane.y0, lane.y1);
    let failing = input.failing_node.as_ref() == Some(n);
    let color = color_of(colors, n);
    let name = clean(n);
    let two_lines = y1 - y0 >= c.ki(30.0);
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
    let name = c.fit(&name, &s, x.x0 - c.ki(16.0));
    if failing {
        c.text_bold(&name, (x.x0 - c.ki(11.0), name_y), &s)?;
    } else {
        c.text(&name, (x.x0 - c.ki(10.0), name_y), &s)?;
    }
    // A colour tab: the node's colour next to its lane.
    c.rect(
        (x.x0 - c.ki(6.0), y0 + 1),
        (x.x0 - c.ki(2.0), y1 - 1),
        color.into(),
    )?;
    if two_lines {
        let i = input.nodes.iter().position(|m| m == n).unwrap_or(0);
        let (wn, er) = totals.get(i).copied().unwrap_or((0, 0));
        let txt = format!("{er} err · {wn} warn");
        let s = c.style(11.0, MUTED, HPos::Right, VPos::Center);
        c.text(&txt, (x.x0 - c.ki(10.0), y0 + (y1 - y0) * 4 / 5), &s)?;
    }
    Ok(())
}

/// State bands across their lane, each with its label where it fits (stacked
/// below labels it would overlap, while the lane has room).
fn draw_bands<DB: DrawingBackend>(
    c: &Canvas<DB>,
    input: &ChartInput,
    x: &XMap,
    lanes: &[Lane],
) -> R {
    let band_label = c.style(11.0, INK, HPos::Left, VPos::Top);
    let line_h = c.ki(13.0);
    let mut labels: Vec<(i32, i32, i32)> = Vec::new(); // (label top, x from, x to)
    for (node, sp, label) in &input.bands {
        let lane = lane_for(input, lanes, node.as_ref());
        let (Some(lane), Some((a, b))) = (lane, x.span(*sp)) else {
            continue;
        };
        let (color, alpha) = band_color(label);
        c.rect((a, lane.y0 + 1), (b, lane.y1), color.mix(alpha))?;
        let mut text = clean(label).into_owned();
        if node.is_some() && !has_lane(input, node.as_ref()) {
            text = format!("{}: {text}", clean(node.as_deref().unwrap_or("")));
        }
        let t = c.fit(&text, &band_label, b - a - c.ki(4.0));
        if t.is_empty() {
            continue;
        }
        // Below the labels it would overlap, while the lane has room.
        let (from, to) = (a + c.ki(3.0), a + c.ki(3.0) + c.width(&t, &band_label));
        let mut top = lane.y0 + c.ki(2.0);
        while labels
            .iter()
            .any(|&(y, f, e)| y == top && f < to + c.ki(4.0) && from < e + c.ki(4.0))
        {
            top += line_h;
        }
        if top + line_h > lane.y1 + 1 {
            continue;
        }
        labels.push((top, from, to));
        c.text(&t, (from, top), &band_label)?;
    }
    Ok(())
}

/// Density bars: errors from the bottom, warnings above them; height on a
/// square-root scale shared by all lanes (a lane with twice the warnings
/// looks busier; a single error still shows). Full height means at least
/// 10 lines per slice, so a lone warning in a quiet log stays small.
fn draw_density<DB: DrawingBackend>(
    c: &Canvas<DB>,
    input: &ChartInput,
    x: &XMap,
    lanes: &[Lane],
    density: &Density,
) -> R {
    let max_count = density
        .counts
        .iter()
        .flatten()
        .map(|&(w, e)| w + e)
        .max()
        .unwrap_or(0);
    if max_count == 0 {
        return Ok(());
    }
    let scale = (max_count.max(10) as f64).sqrt();
    for (i, row) in density.counts.iter().enumerate() {
        let Some(lane) = lanes
            .iter()
            .find(|l| l.node.as_ref() == Some(&input.nodes[i]))
        else {
            continue;
        };
        let full = (lane.y1 - lane.y0 - c.ki(4.0)).max(2) as f64;
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
            let xa = x.x0 + b as i32 * density.bucket_px;
            let xb = (xa + density.bucket_px - 1).min(x.x1);
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
    Ok(())
}

/// Restarts: a black bar across the lane with a label.
fn draw_restarts<DB: DrawingBackend>(
    c: &Canvas<DB>,
    input: &ChartInput,
    x: &XMap,
    lanes: &[Lane],
) -> R {
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
            (px - c.ki(1.5), lane.y0 + 1),
            (px + c.ki(1.5).max(1), lane.y1),
            RESTART.into(),
        )?;
        c.polygon(
            vec![
                (px - c.ki(6.0), lane.y0 + 1),
                (px + c.ki(6.0), lane.y0 + 1),
                (px, lane.y0 + c.ki(8.0)),
            ],
            RESTART.into(),
        )?;
        c.text("restart", (px + c.ki(8.0), lane.y0 + c.ki(2.0)), &rs)?;
    }
    Ok(())
}

/// Findings: a diamond at the start, a bar to the end (the most severe drawn
/// last, on top); then the labels where they fit.
fn draw_findings<DB: DrawingBackend>(
    c: &Canvas<DB>,
    input: &ChartInput,
    x: &XMap,
    lanes: &[Lane],
) -> R {
    let mut order: Vec<&Finding> = input.findings.iter().collect();
    order.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.order_key().cmp(&b.order_key()))
    });
    for f in order.iter().rev() {
        let Some(lane) = lane_for(input, lanes, f.node.as_ref()) else {
            continue;
        };
        draw_finding_mark(c, x, lane, f)?;
    }
    draw_finding_labels(c, input, x, lanes, &order)
}

/// The height of a finding's marker on its lane.
fn marker_y(lane: &Lane) -> i32 {
    lane.y0 + ((lane.y1 - lane.y0) as f64 * 0.42) as i32
}

fn draw_finding_mark<DB: DrawingBackend>(c: &Canvas<DB>, x: &XMap, lane: &Lane, f: &Finding) -> R {
    let Some((a, b)) = x.span(Span::new(f.start, f.end.max(f.start))) else {
        return Ok(());
    };
    let color = severity_color(f.severity);
    let ym = marker_y(lane);
    c.rect(
        (a, ym - c.ki(1.5)),
        (b, ym + c.ki(1.5).max(1)),
        color.mix(0.8),
    )?;
    let r = c.ki(6.5).max(3);
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
    )
}

/// Finding labels, most severe first, never overlapping on one lane.
fn draw_finding_labels<DB: DrawingBackend>(
    c: &Canvas<DB>,
    input: &ChartInput,
    x: &XMap,
    lanes: &[Lane],
    order: &[&Finding],
) -> R {
    let fs = c.style(11.5, INK, HPos::Left, VPos::Center);
    let mut taken: Vec<(i32, i32, i32)> = Vec::new(); // (lane y, x from, x to)
    for f in order {
        let Some(lane) = lane_for(input, lanes, f.node.as_ref()) else {
            continue;
        };
        if !x.contains(f.start) && !x.contains(f.end) {
            continue;
        }
        let cx = x.xi(f.start).clamp(x.x0, x.x1);
        let ym = marker_y(lane);
        let mut text = if f.title.is_empty() {
            clean(&f.rule).into_owned()
        } else {
            clean(&f.title).into_owned()
        };
        if f.node.is_some() && !has_lane(input, f.node.as_ref()) {
            text = format!("{}: {text}", clean(f.node.as_deref().unwrap_or("")));
        }
        let from = cx + c.ki(9.0);
        let room = x.x1 - from;
        let t = c.fit(&text, &fs, room.min(c.ki(320.0)));
        if t.is_empty() {
            continue;
        }
        let to = from + c.width(&t, &fs);
        if taken
            .iter()
            .any(|&(ly, a, b)| ly == lane.y0 && a < to + c.ki(6.0) && from < b + c.ki(6.0))
        {
            continue;
        }
        taken.push((lane.y0, from, to));
        c.rect(
            (from - c.ki(1.0), ym - c.ki(8.0)),
            (to + c.ki(2.0), ym + c.ki(8.0)),
            WHITE.mix(0.8),
        )?;
        c.text(&t, (from, ym), &fs)?;
    }
    Ok(())
}
