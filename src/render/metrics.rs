//! `coroner metrics`: what the metric dumps hold, per node, and export of the
//! long frame (CSV, JSON lines, Parquet).

use crate::metrics::{MetricSet, OutputFormat, Selection};
use crate::model::{Span, format_duration};
use std::io::Write;

/// The selected series in `format`: a per-node summary (text) or the long
/// frame (CSV, JSON lines, Parquet).
pub fn write(
    set: &MetricSet,
    sel: &Selection,
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<(), crate::metrics::ExportError> {
    match format {
        OutputFormat::Text => write_text(set, sel, out),
        OutputFormat::Csv => set.write_csv(sel, out),
        OutputFormat::Json => set.write_json(sel, out),
        OutputFormat::Parquet => set.write_parquet(sel, out),
    }
}

fn span_text(s: &Span) -> String {
    let end = if s.end.short()[..10] == s.start.short()[..10] {
        s.end.hms_millis()
    } else {
        s.end.short()
    };
    format!(
        "{} – {} ({})",
        s.start.short(),
        end,
        format_duration(s.duration())
    )
}

/// Per node: metrics, points, step, span, restarts and gaps; with metrics
/// selected, each one's count, min, mean, max and last.
pub fn write_text(
    set: &MetricSet,
    sel: &Selection,
    out: &mut dyn Write,
) -> Result<(), crate::metrics::ExportError> {
    if set.is_empty() {
        writeln!(out, "no metric samples found")?;
        return Ok(());
    }
    let nodes = set.nodes();
    let pseudo: Vec<_> = set
        .all_nodes()
        .into_iter()
        .filter(|n| n.starts_with('@'))
        .collect();
    write!(out, "{} node(s): {}", nodes.len(), nodes.join(", "))?;
    if !pseudo.is_empty() {
        write!(out, " (+ {})", pseudo.join(", "))?;
    }
    writeln!(out)?;
    if let Some(s) = set.span() {
        writeln!(out, "span: {}", span_text(&s))?;
    }
    for ns in set.summary() {
        if !sel.wants_node(&ns.node) {
            continue;
        }
        writeln!(out)?;
        writeln!(
            out,
            "{}: {} metrics, {} points, step {}",
            ns.node,
            ns.metrics.len(),
            ns.points,
            format_duration(ns.step)
        )?;
        if let Some(s) = &ns.span {
            writeln!(out, "  span: {}", span_text(s))?;
        }
        if ns.restarts > 0 {
            writeln!(out, "  restarts: {}", ns.restarts)?;
        }
        if ns.gaps.is_empty() {
            if !ns.node.starts_with('@') {
                writeln!(out, "  gaps: none")?;
            }
        } else {
            writeln!(
                out,
                "  gaps (did not answer while peers did): {}",
                ns.gaps.len()
            )?;
            for g in &ns.gaps {
                writeln!(
                    out,
                    "    {} – {} ({})",
                    g.start.hms_millis(),
                    g.end.hms_millis(),
                    format_duration(g.duration())
                )?;
            }
        }
        let shown: Vec<&str> = ns
            .metrics
            .iter()
            .map(|m| &**m)
            .filter(|m| sel.wants_metric(m))
            .collect();
        if sel.metrics.is_empty() {
            writeln!(out, "  metrics: {}", shown.join(", "))?;
            continue;
        }
        for m in shown {
            let Some(s) = set.series(&ns.node, m) else {
                continue;
            };
            let Some(span) = s.span() else { continue };
            let w = s.window(span.start, span.end);
            writeln!(
                out,
                "  {m}: {} points, min {} mean {} max {} last {}",
                w.count,
                num(w.min),
                num(w.mean),
                num(w.max),
                num(w.last)
            )?;
        }
    }
    Ok(())
}

fn num(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(x) if x.abs() >= 1e6 => format!("{x:.3e}"),
        Some(x) if x.fract() == 0.0 => format!("{x}"),
        Some(x) => format!("{x:.2}"),
    }
}
