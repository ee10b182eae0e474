//! `coroner metrics`: what the metric dumps hold, per node, and export of the
//! long frame (CSV, JSON lines, Parquet).

use coroner::metrics::{MetricSet, Selection};
use coroner::model::{Span, format_duration};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug, Clone, PartialEq)]
pub struct MetricsArgs {
    /// Only these metrics (comma-separated canonical names, e.g. `cpu,mem_rss,js_api_pending`).
    #[arg(long, value_delimiter = ',')]
    pub metric: Vec<String>,
    /// Only these nodes (set from the common `--node` filter).
    #[arg(skip)]
    pub node: Vec<String>,
    /// `text`: per-node summary; `csv`, `json` (JSON lines), `parquet`: the long frame
    /// (time, node, metric, value, labels).
    #[arg(long, value_enum, default_value_t = MetricsFormat::Text)]
    pub format: MetricsFormat,
    /// Write to this file instead of standard output (required for parquet).
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum MetricsFormat {
    Text,
    Csv,
    Json,
    Parquet,
}

pub fn run(set: &MetricSet, args: &MetricsArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let sel = Selection {
        metrics: args.metric.clone(),
        nodes: args.node.clone(),
    };
    if let Some(path) = &args.output {
        let f = std::fs::File::create(path)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
        let mut w = std::io::BufWriter::new(f);
        write(set, &sel, args.format, &mut w)?;
        w.flush()?;
        writeln!(
            out,
            "wrote {} ({})",
            path.display(),
            format_name(args.format)
        )?;
        return Ok(());
    }
    if args.format == MetricsFormat::Parquet {
        anyhow::bail!("--format parquet writes a binary file: give -o FILE");
    }
    write(set, &sel, args.format, out)
}

fn format_name(f: MetricsFormat) -> &'static str {
    match f {
        MetricsFormat::Text => "text",
        MetricsFormat::Csv => "csv",
        MetricsFormat::Json => "json lines",
        MetricsFormat::Parquet => "parquet",
    }
}

fn write(
    set: &MetricSet,
    sel: &Selection,
    format: MetricsFormat,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match format {
        MetricsFormat::Text => text(set, sel, out),
        MetricsFormat::Csv => set.write_csv(sel, out),
        MetricsFormat::Json => set.write_json(sel, out),
        MetricsFormat::Parquet => set.write_parquet(sel, out),
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

fn text(set: &MetricSet, sel: &Selection, out: &mut dyn Write) -> anyhow::Result<()> {
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
