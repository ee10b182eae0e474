//! The chart, top to bottom and back to front: lays the image out, then draws
//! the time grid, the header, the lanes, the metric panels, the restart
//! guides, the time labels, the root-cause marker and the legend (the same
//! code for the PNG and the SVG backend).

use super::ChartInput;
use super::axis::{hms, time_ticks};
use super::canvas::{Canvas, R, clean, err};
use super::lanes::draw_lanes;
use super::layout::{Layout, XMap};
use super::legend::draw_legend;
use super::palette::{FAILING, GRID, INK, MUTED, RESTART, ROOT, node_colors};
use super::panels::draw_panel;
use crate::model::{Span, Timestamp};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

pub(super) fn draw<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, input: &ChartInput) -> R {
    let (w, h) = area.dim_in_pixel();
    let k = (w as f64 / 1600.0).min(h as f64 / 900.0).clamp(0.45, 3.0);
    let c = Canvas { area, k };
    area.fill(&WHITE).map_err(err)?;
    let (w, h) = (w as i32, h as i32);
    let layout = Layout::new(input, w, h, k);
    let (x, span) = (&layout.x, layout.span);
    let colors = node_colors(input);

    // Time grid first, under everything.
    let ticks = time_ticks(x, c.ki(110.0));
    for &t in &ticks {
        let px = x.xi(t);
        c.line(
            vec![(px, layout.top), (px, layout.plot_bottom)],
            GRID.into(),
            1,
        )?;
    }

    draw_header(&c, input, span, w)?;
    draw_lanes(&c, input, x, &layout.lanes, &colors)?;
    for p in &layout.panels {
        draw_panel(&c, input, x, p, &colors, span)?;
    }
    draw_restart_guides(&c, input, x, layout.lanes_bottom, layout.plot_bottom)?;
    draw_time_labels(&c, x, &ticks, layout.plot_bottom)?;
    draw_root_cause(&c, input, x, layout.title_h, layout.plot_bottom)?;
    draw_legend(&c, input, x, &colors, layout.legend_y, w)
}

/// The title, the failing node and the time range with its duration.
fn draw_header<DB: DrawingBackend>(c: &Canvas<DB>, input: &ChartInput, span: Span, w: i32) -> R {
    let mid = c.ki(17.0);
    let title_style = c.style(20.0, INK, HPos::Left, VPos::Center);
    let right_style = c.style(14.0, MUTED, HPos::Right, VPos::Center);
    let range = format!(
        "{} – {} UTC ({})",
        span.start.short().trim_end_matches(".000"),
        hms(span.end),
        crate::model::format_duration(span.duration())
    );
    let range_w = c.width(&range, &right_style);
    let mut x = c.ki(14.0);
    let title = clean(&input.title);
    let title = c.fit(&title, &title_style, (w - range_w - c.ki(40.0)) * 3 / 5);
    c.text_bold(&title, (x, mid), &title_style)?;
    x += c.width(&title, &title_style) + c.ki(18.0);
    if let Some(f) = &input.failing_node {
        let s = c.style(16.0, FAILING, HPos::Left, VPos::Center);
        let txt = format!("failing node: {}", clean(f));
        let txt = c.fit(&txt, &s, w - range_w - x - c.ki(30.0));
        c.text_bold(&txt, (x, mid), &s)?;
    }
    c.text(&range, (w - c.ki(14.0), mid), &right_style)
}

/// Time labels with their ticks under the last panel.
fn draw_time_labels<DB: DrawingBackend>(
    c: &Canvas<DB>,
    x: &XMap,
    ticks: &[Timestamp],
    plot_bottom: i32,
) -> R {
    let ts = c.style(12.5, MUTED, HPos::Center, VPos::Top);
    for &t in ticks {
        let px = x.xi(t);
        c.line(
            vec![(px, plot_bottom), (px, plot_bottom + c.ki(4.0))],
            MUTED.into(),
            1,
        )?;
        c.text(&hms(t), (px, plot_bottom + c.ki(5.0)), &ts)?;
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
        c.dashed(x.xi(*ts), y0, y1, RESTART.mix(0.6))?;
    }
    Ok(())
}

/// The root cause: a red line from under the title to the bottom of the
/// plot, its label on a red box to the right (to the left near the edge).
fn draw_root_cause<DB: DrawingBackend>(
    c: &Canvas<DB>,
    input: &ChartInput,
    x: &XMap,
    top: i32,
    bottom: i32,
) -> R {
    let Some((ts, label)) = &input.root_cause else {
        return Ok(());
    };
    if !x.contains(*ts) {
        return Ok(());
    }
    let px = x.xi(*ts);
    c.rect(
        (px - c.ki(1.0), top + c.ki(2.0)),
        (px + c.ki(1.0).max(1), bottom),
        ROOT.into(),
    )?;
    let s = c.style(13.0, WHITE, HPos::Left, VPos::Center);
    let text = format!("{} · {}", clean(label), hms(*ts));
    let text = c.fit(&text, &s, (x.x1 - x.x0) * 2 / 3);
    let tw = c.width(&text, &s);
    let pad = c.ki(6.0);
    let (bx0, bx1) = if px + tw + 2 * pad <= x.x1 + c.ki(60.0) {
        (px, px + tw + 2 * pad)
    } else {
        (px - tw - 2 * pad, px)
    };
    let (by0, by1) = (top + c.ki(2.0), top + c.ki(20.0));
    c.rect((bx0, by0), (bx1, by1), ROOT.into())?;
    c.text(&text, (bx0 + pad, (by0 + by1) / 2), &s)
}
