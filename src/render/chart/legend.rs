//! The legend row under the chart: one entry per node (its line colour), then
//! a swatch for each kind of mark the time range shows.

use super::ChartInput;
use super::canvas::{Canvas, R, clean};
use super::layout::XMap;
use super::palette::{ERROR, INK, RESTART, ROOT, WARN, band_color, color_of, severity_color};
use crate::model::{Node, Severity, Span, Timestamp};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::collections::HashMap;

enum Swatch {
    Box(RGBAColor),
    Bar(RGBColor),
    Diamond(RGBColor),
}

/// Draws the legend at `y` on an image `w` wide; entries that do not fit are
/// left out (the marks once a node entry did not fit).
pub(super) fn draw_legend<DB: DrawingBackend>(
    c: &Canvas<DB>,
    input: &ChartInput,
    x_map: &XMap,
    colors: &HashMap<Node, RGBColor>,
    y: i32,
    w: i32,
) -> R {
    let s = c.style(12.5, INK, HPos::Left, VPos::Center);
    let ym = y + c.ki(9.0);
    let limit = w - c.ki(14.0);
    let Some(x) = draw_node_entries(c, input, colors, &s, ym, limit)? else {
        return Ok(());
    };
    // Only what this time range shows.
    let span = Span::new(Timestamp(x_map.t0), Timestamp(x_map.t1));
    draw_swatches(c, mark_entries(input, span), &s, x + c.ki(10.0), ym, limit)
}

/// The node entries from the left edge; returns where they end, `None` when
/// one did not fit (then nothing more is drawn).
fn draw_node_entries<DB: DrawingBackend>(
    c: &Canvas<DB>,
    input: &ChartInput,
    colors: &HashMap<Node, RGBColor>,
    s: &TextStyle,
    ym: i32,
    limit: i32,
) -> Result<Option<i32>, super::ChartError> {
    let mut x = c.ki(14.0);
    for n in &input.nodes {
        let failing = input.failing_node.as_ref() == Some(n);
        let name = clean(n);
        let label = if failing {
            format!("{name} (failing)")
        } else {
            name.into_owned()
        };
        let label = c.fit(&label, s, c.ki(160.0));
        let item = c.ki(28.0) + c.width(&label, s) + c.ki(16.0);
        if x + item > limit {
            return Ok(None);
        }
        let color = color_of(colors, n);
        c.line(
            vec![(x, ym), (x + c.ki(22.0), ym)],
            color.into(),
            if failing { 4 } else { 2 },
        )?;
        c.text(&label, (x + c.ki(28.0), ym), s)?;
        x += item;
    }
    Ok(Some(x))
}

/// The kinds of marks the span shows, in legend order: density colours,
/// findings, restarts, each band label, the root cause.
fn mark_entries(input: &ChartInput, span: Span) -> Vec<(Swatch, String)> {
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
    items
}

/// Swatches with their labels from `x` on, up to the first that does not fit.
fn draw_swatches<DB: DrawingBackend>(
    c: &Canvas<DB>,
    items: Vec<(Swatch, String)>,
    s: &TextStyle,
    mut x: i32,
    ym: i32,
    limit: i32,
) -> R {
    for (sw, label) in items {
        let label = c.fit(&label, s, c.ki(260.0));
        let item = c.ki(20.0) + c.width(&label, s) + c.ki(16.0);
        if x + item > limit {
            break;
        }
        let r = c.ki(6.0);
        match sw {
            Swatch::Box(col) => c.rect((x, ym - r), (x + 2 * r, ym + r), col)?,
            Swatch::Bar(col) => c.rect(
                (x + r - c.ki(1.5), ym - r - 2),
                (x + r + c.ki(1.5).max(1), ym + r + 2),
                col.into(),
            )?,
            Swatch::Diamond(col) => c.polygon(
                vec![(x + r, ym - r), (x + 2 * r, ym), (x + r, ym + r), (x, ym)],
                col.into(),
            )?,
        }
        c.text(&label, (x + c.ki(20.0), ym), s)?;
        x += item;
    }
    Ok(())
}
