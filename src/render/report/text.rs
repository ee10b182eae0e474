//! The terminal page: verdict first, then a compact cross-node timeline,
//! per-node summaries with a warnings sparkline, then evidence with file:line.

use super::Analysis;
use super::view;
use crate::model::Severity;
use crate::render::Style;
use crate::render::escape::terminal as esc;
use std::io::{self, Write};

/// The terminal color of a severity.
pub fn sev_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    }
}

pub fn write(out: &mut dyn Write, a: &Analysis, style: Style) -> io::Result<()> {
    write_verdict(out, a, style)?;
    write_timeline(out, a, style)?;
    write_nodes(out, a, style)?;
    write_evidence(out, a, style)?;
    write_footer(out, a)
}

/// Headline, root cause, chain, confidence, alternatives, advice.
/// The verdict section alone (`watch` prints it as the incident goes on).
pub fn write_verdict(out: &mut dyn Write, a: &Analysis, style: Style) -> io::Result<()> {
    let v = &a.verdict;
    writeln!(out, "{}", style.paint("1", "VERDICT"))?;
    writeln!(out, "  {}", esc(&v.headline))?;
    if let Some(r) = &v.root_cause {
        writeln!(
            out,
            "  root cause: {} on {} at {} (rule {})",
            style.paint("1", &r.category),
            esc(r.node.as_deref().unwrap_or("-")),
            r.at.short(),
            esc(&r.rule)
        )?;
        writeln!(out, "    {}", esc(&r.summary))?;
    }
    if !v.chain.is_empty() {
        writeln!(out, "  chain:")?;
        for s in &v.chain {
            let nodes: Vec<String> = s.nodes.iter().map(|n| esc(n).into_owned()).collect();
            writeln!(
                out,
                "    {}  {:<24} {}",
                s.at.hms_millis(),
                s.category,
                nodes.join(", ")
            )?;
        }
    }
    writeln!(out, "  input: {}", v.input.describe())?;
    if v.root_cause.is_some() || !v.reasons.is_empty() {
        writeln!(out, "  confidence {:.0}%:", v.confidence * 100.0)?;
        for r in &v.reasons {
            writeln!(out, "    - {}", esc(r))?;
        }
    }
    for alt in &v.alternatives {
        writeln!(
            out,
            "  alternative: {} {} at {} — {}",
            esc(alt.node.as_deref().unwrap_or("-")),
            alt.category,
            alt.at.hms_millis(),
            esc(&alt.why_lower)
        )?;
    }
    if !v.advice.is_empty() {
        writeln!(out, "  what to do:")?;
        for x in &v.advice {
            writeln!(out, "    - {}", esc(x))?;
        }
    }
    if !v.collect_next.is_empty() {
        writeln!(out, "  collect next:")?;
        for x in &v.collect_next {
            writeln!(out, "    - {}", esc(x))?;
        }
    }
    Ok(())
}

/// The compact cross-node timeline, coloured by severity.
fn write_timeline(out: &mut dyn Write, a: &Analysis, style: Style) -> io::Result<()> {
    let tl = view::timeline(a, 40);
    if !tl.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", style.paint("1", "TIMELINE"))?;
        let w = tl
            .iter()
            .filter_map(|e| e.node.as_ref())
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(1);
        for e in &tl {
            let what: String = esc(&e.what).chars().take(140).collect();
            let what = match e.severity {
                Some(s) => style.paint(sev_color(s), &what),
                None => what,
            };
            writeln!(
                out,
                "  {} {:<w$} {}",
                e.at.hms_millis(),
                esc(e.node.as_deref().unwrap_or("*")),
                what
            )?;
        }
    }
    Ok(())
}

/// One line per node: health, warnings, errors, restarts, gaps, findings and
/// the warnings sparkline.
fn write_nodes(out: &mut dyn Write, a: &Analysis, style: Style) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "{}", style.paint("1", "NODES"))?;
    for n in view::nodes(a, 40) {
        let health = match n.health {
            "failing" => style.paint("1;31", "FAILING"),
            "affected" => style.paint("33", "affected"),
            _ => style.paint("32", "ok"),
        };
        writeln!(
            out,
            "  {:<8} {:<8} warn {:>6} err {:>5} restarts {} gaps {} findings {} |{}|",
            esc(&n.name),
            health,
            n.levels[3],
            n.levels[4] + n.levels[5],
            n.restarts,
            n.gaps,
            n.findings,
            view::sparkline(&n.density)
        )?;
    }
    Ok(())
}

/// Findings of medium severity and above with their first evidence lines.
fn write_evidence(out: &mut dyn Write, a: &Analysis, style: Style) -> io::Result<()> {
    let shown: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Medium)
        .collect();
    if !shown.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", style.paint("1", "EVIDENCE"))?;
        for f in shown.iter().take(30) {
            writeln!(
                out,
                "  {} {} {} [{}] {}",
                style.paint(sev_color(f.severity), f.severity.name()),
                f.start.hms_millis(),
                esc(f.node.as_deref().unwrap_or("*")),
                esc(&f.rule),
                esc(&f.message)
            )?;
            for e in f.evidence.iter().take(3) {
                match &e.loc {
                    Some(l) => writeln!(out, "      {}: {}", esc(&l.to_string()), esc(&e.line()))?,
                    None => writeln!(out, "      (metrics) {}", esc(&e.line()))?,
                }
            }
            if f.evidence.len() > 3 {
                writeln!(out, "      … {} more", f.evidence.len() - 3)?;
            }
        }
        if shown.len() > 30 {
            writeln!(
                out,
                "  … {} more findings (see --format json)",
                shown.len() - 30
            )?;
        }
    }
    Ok(())
}

/// What was read.
fn write_footer(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
    let unparsed: u64 = a.bundle.files.iter().map(|f| f.account.unparsed).sum();
    writeln!(out)?;
    writeln!(
        out,
        "read {} files, {} lines ({} unparsed), {} nodes, {} findings{}",
        a.bundle.files.len(),
        a.bundle.lines_read(),
        unparsed,
        view::nodes(a, 1).len(),
        a.findings.len(),
        if a.bundle.errors.is_empty() {
            String::new()
        } else {
            format!(", {} input error(s)", a.bundle.errors.len())
        }
    )?;
    Ok(())
}
