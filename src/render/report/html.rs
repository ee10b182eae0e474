//! One self-contained HTML file: inline CSS, the charts inline (SVG), the
//! verdict, timeline and evidence. Works offline; every log-derived string is
//! escaped.

use super::Analysis;
use super::view;
use crate::model::Severity;
use crate::render::escape::html as h;
use std::io::{self, Write};

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em;max-width:1700px;color:#222}\
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}\
.critical{color:#a00;font-weight:bold}.high{color:#c00}.medium{color:#b60}.low{color:#07a}.info{color:#777}\
.headline{font-size:1.2em;background:#fff4e5;border-left:4px solid #e67e22;padding:.6em 1em}\
code,.mono{font-family:ui-monospace,monospace;font-size:.9em}.chart svg{max-width:100%;height:auto}";

pub fn write(out: &mut dyn Write, a: &Analysis, charts: &[String]) -> io::Result<()> {
    let v = &a.verdict;
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    )?;
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:\">"
    )?;
    writeln!(
        out,
        "<title>coroner: {}</title><style>{CSS}</style></head><body>",
        h(&v.headline)
    )?;
    writeln!(out, "<h1>Incident analysis</h1>")?;
    writeln!(out, "<p class=\"headline\">{}</p>", h(&v.headline))?;
    for c in charts {
        // Charts are produced by our own renderer, with escaped text.
        writeln!(out, "<div class=\"chart\">{c}</div>")?;
    }
    writeln!(out, "<h2>Verdict</h2><table>")?;
    writeln!(
        out,
        "<tr><th>Failing node</th><td>{}</td></tr>",
        h(v.failing_node.as_deref().unwrap_or("none"))
    )?;
    if let Some(r) = &v.root_cause {
        writeln!(
            out,
            "<tr><th>Root cause</th><td><b>{}</b> (rule <code>{}</code>) on {} at {}<br>{}</td></tr>",
            h(&r.category),
            h(&r.rule),
            h(r.node.as_deref().unwrap_or("-")),
            r.at.short(),
            h(&r.summary)
        )?;
    }
    writeln!(
        out,
        "<tr><th>Confidence</th><td>{:.0}%<ul>",
        v.confidence * 100.0
    )?;
    for r in &v.reasons {
        writeln!(out, "<li>{}</li>", h(r))?;
    }
    writeln!(out, "</ul></td></tr></table>")?;
    if !v.chain.is_empty() {
        writeln!(out, "<h3>Chain</h3><ol>")?;
        for s in &v.chain {
            let nodes: Vec<String> = s.nodes.iter().map(|n| h(n)).collect();
            writeln!(
                out,
                "<li>{} <b>{}</b> on {}</li>",
                s.at.short(),
                h(&s.category),
                nodes.join(", ")
            )?;
        }
        writeln!(out, "</ol>")?;
    }
    if !v.alternatives.is_empty() {
        writeln!(out, "<h3>Alternatives considered</h3><ul>")?;
        for x in &v.alternatives {
            writeln!(
                out,
                "<li>{} {} at {}: {}</li>",
                h(x.node.as_deref().unwrap_or("-")),
                h(&x.category),
                x.at.short(),
                h(&x.why_lower)
            )?;
        }
        writeln!(out, "</ul>")?;
    }
    for (title, items) in [
        ("What to do", &v.advice),
        ("What to collect next", &v.collect_next),
    ] {
        if !items.is_empty() {
            writeln!(out, "<h2>{title}</h2><ul>")?;
            for x in items {
                writeln!(out, "<li>{}</li>", h(x))?;
            }
            writeln!(out, "</ul>")?;
        }
    }
    writeln!(
        out,
        "<h2>Timeline</h2><table><tr><th>time (UTC)</th><th>node</th><th>event</th><th>where</th></tr>"
    )?;
    for e in view::timeline(a, 80) {
        let class = e.severity.map_or("", |s| s.name());
        writeln!(
            out,
            "<tr class=\"{class}\"><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
            e.at.short(),
            h(e.node.as_deref().unwrap_or("*")),
            h(&e.what),
            h(e.location.as_deref().unwrap_or(""))
        )?;
    }
    writeln!(out, "</table>")?;
    writeln!(
        out,
        "<h2>Nodes</h2><table><tr><th>node</th><th>health</th><th>warnings</th><th>errors</th><th>restarts</th><th>scrape gaps</th><th>findings</th><th>attribution</th></tr>"
    )?;
    for n in view::nodes(a, 1) {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            h(&n.name),
            n.health,
            n.levels[3],
            n.levels[4] + n.levels[5],
            n.restarts,
            n.gaps,
            n.findings,
            h(&n.attribution)
        )?;
    }
    writeln!(out, "</table><h2>Evidence</h2>")?;
    for f in a
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Medium)
        .take(60)
    {
        writeln!(
            out,
            "<p><span class=\"{}\">{}</span> {} <b>{}</b> <code>{}</code> {}</p><ul>",
            f.severity.name(),
            f.severity.name(),
            f.start.short(),
            h(f.node.as_deref().unwrap_or("*")),
            h(&f.rule),
            h(&f.message)
        )?;
        for e in f.evidence.iter().take(5) {
            let loc = e
                .loc
                .as_ref()
                .map(|l| l.to_string())
                .unwrap_or_else(|| "metrics".into());
            writeln!(out, "<li class=\"mono\">{}: {}</li>", h(&loc), h(&e.text))?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(
        out,
        "<p><small>Generated by coroner {} from {} files, {} lines.</small></p></body></html>",
        env!("CARGO_PKG_VERSION"),
        a.bundle.files.len(),
        a.bundle.lines_read()
    )?;
    Ok(())
}
