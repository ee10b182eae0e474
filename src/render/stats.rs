//! `coroner stats`: per node and per file, what was read and how it parsed.

use super::Style;
use super::escape::terminal;
use crate::ingest::{Bundle, FileKind};
use crate::model::Level;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
pub struct StatsReport {
    pub files: Vec<FileStats>,
    pub nodes: Vec<NodeSummary>,
    pub totals: Totals,
    pub errors: Vec<String>,
}

#[derive(Serialize)]
pub struct Totals {
    pub files: usize,
    pub lines_read: u64,
    pub parsed: u64,
    pub continuation: u64,
    pub unparsed: u64,
    pub bytes: u64,
}

#[derive(Serialize)]
pub struct FileStats {
    pub file: String,
    pub kind: &'static str,
    pub node: Option<String>,
    pub attribution: &'static str,
    pub format: Option<&'static str>,
    pub compression: Vec<&'static str>,
    pub lines_read: u64,
    pub parsed: u64,
    pub continuation: u64,
    pub unparsed: u64,
    pub truncated: u64,
    pub untimed: u64,
    pub first: Option<String>,
    pub last: Option<String>,
    pub unparsed_samples: Vec<(u64, String)>,
    pub error: Option<String>,
}

#[derive(Serialize)]
pub struct NodeSummary {
    pub node: String,
    pub files: usize,
    pub records: u64,
    pub levels: std::collections::BTreeMap<&'static str, u64>,
    pub first: Option<String>,
    pub last: Option<String>,
    pub starts: u64,
    /// nats-server versions from the banners (`Version:`), in the order seen.
    pub versions: Vec<String>,
    pub top_templates: Vec<TemplateLine>,
    pub unmatched_warn_error: u64,
}

#[derive(Serialize)]
pub struct TemplateLine {
    pub template: String,
    pub count: u64,
    pub level: Option<&'static str>,
    pub classified: bool,
}

pub fn build(bundle: &Bundle, top: usize) -> StatsReport {
    let mut files: Vec<FileStats> = bundle
        .files
        .iter()
        .map(|f| FileStats {
            file: f.display.to_string(),
            kind: match f.kind {
                FileKind::Log => "log",
                FileKind::Metric => "metric",
            },
            node: f.node.as_deref().map(str::to_string),
            attribution: f.attribution.name(),
            format: f.account.main_format(),
            compression: f.compression.clone(),
            lines_read: f.account.lines_read,
            parsed: f.account.parsed,
            continuation: f.account.continuation,
            unparsed: f.account.unparsed,
            truncated: f.account.truncated,
            untimed: f.account.untimed,
            first: f.first.map(|t| t.rfc3339()),
            last: f.last.map(|t| t.rfc3339()),
            unparsed_samples: f.account.unparsed_samples.clone(),
            error: f.account.error.clone(),
        })
        .collect();
    files.sort_by(|a, b| a.file.cmp(&b.file));
    let nodes = bundle
        .nodes
        .iter()
        .map(|(n, s)| {
            let mut t: Vec<TemplateLine> = s
                .templates
                .iter()
                .map(|(k, v)| TemplateLine {
                    template: k.to_string(),
                    count: v.count,
                    level: v.max_level.map(Level::name),
                    classified: v.classified,
                })
                .collect();
            let unmatched = s
                .templates
                .values()
                .filter(|v| !v.classified && v.max_level >= Some(Level::Warn))
                .map(|v| v.count)
                .sum();
            t.sort_by(|a, b| b.count.cmp(&a.count).then(a.template.cmp(&b.template)));
            t.truncate(top);
            NodeSummary {
                node: n.to_string(),
                files: s.files.len(),
                records: s.records,
                levels: Level::ALL
                    .iter()
                    .map(|l| (l.name(), s.levels[l.index()]))
                    .filter(|(_, c)| *c > 0)
                    .collect(),
                first: s.first.map(|t| t.rfc3339()),
                last: s.last.map(|t| t.rfc3339()),
                starts: s.starts,
                versions: s.versions.clone(),
                top_templates: t,
                unmatched_warn_error: unmatched,
            }
        })
        .collect();
    let totals = Totals {
        files: files.len(),
        lines_read: files.iter().map(|f| f.lines_read).sum(),
        parsed: files.iter().map(|f| f.parsed).sum(),
        continuation: files.iter().map(|f| f.continuation).sum(),
        unparsed: files.iter().map(|f| f.unparsed).sum(),
        bytes: bundle.files.iter().map(|f| f.account.bytes).sum(),
    };
    StatsReport {
        files,
        nodes,
        totals,
        errors: bundle.errors.iter().map(|e| e.to_string()).collect(),
    }
}

pub fn write_json(out: &mut dyn Write, r: &StatsReport) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, r)?;
    out.write_all(b"\n")
}

pub fn write_text(out: &mut dyn Write, r: &StatsReport, style: Style) -> io::Result<()> {
    let t = &r.totals;
    writeln!(
        out,
        "{} files, {} lines: {} parsed, {} continuation, {} unparsed ({:.1} MB)",
        t.files,
        t.lines_read,
        t.parsed,
        t.continuation,
        t.unparsed,
        t.bytes as f64 / 1e6
    )?;
    write_nodes(out, r, style)?;
    write_files(out, r, style)?;
    if !r.errors.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", style.paint("1;31", "Errors"))?;
        for e in &r.errors {
            writeln!(out, "  {}", terminal(e))?;
        }
    }
    Ok(())
}

/// Per node: records, files, time range, starts, levels, top templates.
fn write_nodes(out: &mut dyn Write, r: &StatsReport, style: Style) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "{}", style.paint("1", "Nodes"))?;
    for n in &r.nodes {
        let levels: Vec<String> = n.levels.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let versions = if n.versions.is_empty() {
            String::new()
        } else {
            format!(", nats-server {}", terminal(&n.versions.join(" → ")))
        };
        writeln!(
            out,
            "  {}  {} records in {} file(s), {} .. {}, {} start(s){versions}",
            style.paint("1", &terminal(&n.node)),
            n.records,
            n.files,
            n.first.as_deref().unwrap_or("-"),
            n.last.as_deref().unwrap_or("-"),
            n.starts
        )?;
        writeln!(out, "    levels: {}", levels.join(", "))?;
        if n.unmatched_warn_error > 0 {
            writeln!(
                out,
                "    {} warn/error lines matched no template",
                n.unmatched_warn_error
            )?;
        }
        for tl in &n.top_templates {
            writeln!(
                out,
                "    {:>8}  {:<5} {}{}",
                tl.count,
                tl.level.unwrap_or("-"),
                terminal(&tl.template),
                if tl.classified { "" } else { "  (unmatched)" }
            )?;
        }
    }
    Ok(())
}

/// Per file: kind, node and how it was attributed, format, the line
/// accounting, unparsed samples, the error.
fn write_files(out: &mut dyn Write, r: &StatsReport, style: Style) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "{}", style.paint("1", "Files"))?;
    for f in &r.files {
        writeln!(
            out,
            "  {}  [{}] node {} by {}; format {}{}",
            terminal(&f.file),
            f.kind,
            f.node.as_deref().map(terminal).unwrap_or("-".into()),
            f.attribution,
            f.format.unwrap_or("-"),
            if f.compression.is_empty() {
                String::new()
            } else {
                format!(", {}", f.compression.join("+"))
            }
        )?;
        writeln!(
            out,
            "      {} lines = {} parsed + {} continuation + {} unparsed{}{}",
            f.lines_read,
            f.parsed,
            f.continuation,
            f.unparsed,
            if f.truncated > 0 {
                format!(" ({} cut at the line-length limit)", f.truncated)
            } else {
                String::new()
            },
            if f.untimed > 0 {
                format!(
                    " ({} records without timestamp: ordered by line)",
                    f.untimed
                )
            } else {
                String::new()
            }
        )?;
        for (line, text) in &f.unparsed_samples {
            writeln!(
                out,
                "      unparsed {}:{}: {}",
                terminal(&f.file),
                line,
                terminal(text)
            )?;
        }
        if let Some(e) = &f.error {
            writeln!(out, "      {} {}", style.paint("31", "error:"), terminal(e))?;
        }
    }
    Ok(())
}
