//! `coroner explain LINE`: which nats-server message a log line is, what it
//! means, what usually causes it and what to check next.

use crate::exit::Exit;
use anyhow::Result;
use clap::{Args, ValueEnum};
use coroner::explain::{Explained, Explanation, explain_line};
use coroner::lang::RuleSet;
use coroner::render::escape::terminal;
use std::io::{BufRead, Write};
use std::path::PathBuf;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExplainFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The log line, with or without its `[pid] date [LVL]` header (quote it);
    /// without it, or `-`, one line per line of stdin.
    pub line: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
    /// Extra pack files or directories (their templates and rules count too).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
}

/// Exit 0 when every line matched a template, 1 when one did not.
pub fn explain(a: &ExplainArgs) -> Result<Exit> {
    let rules = if a.rules.is_empty() {
        RuleSet::builtin()
    } else {
        let (set, diags) = RuleSet::load(&a.rules);
        for d in diags.iter().filter(|d| d.is_error()) {
            eprintln!("{d}\n");
        }
        set
    };
    let lines: Vec<String> = if a.line.is_empty() || a.line == ["-"] {
        std::io::stdin()
            .lock()
            .lines()
            .collect::<std::io::Result<Vec<_>>>()?
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .collect()
    } else {
        vec![a.line.join(" ")]
    };
    if lines.is_empty() {
        anyhow::bail!("no line to explain: give one as an argument or on stdin");
    }
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let mut all = true;
    let mut json = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let e = explain_line(&rules, line);
        all &= matches!(e, Explained::Match(_));
        match a.format {
            ExplainFormat::Json => json.push(to_json(line, &e)),
            ExplainFormat::Text => {
                if n > 0 {
                    writeln!(out)?;
                }
                text(&mut out, &e)?;
            }
        }
    }
    if a.format == ExplainFormat::Json {
        let v = if json.len() == 1 {
            json.pop().unwrap_or_default()
        } else {
            serde_json::Value::Array(json)
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    }
    out.flush()?;
    Ok(Exit::found(!all))
}

fn text(out: &mut dyn Write, e: &Explained) -> Result<()> {
    match e {
        Explained::Match(x) => text_match(out, x),
        Explained::NoMatch {
            body,
            level,
            nearest,
        } => {
            writeln!(
                out,
                "No nats-server message template matches{}:",
                level
                    .map(|l| format!(" this [{}] line", l.tag()))
                    .unwrap_or_default()
            )?;
            writeln!(out, "  {}", terminal(body))?;
            if nearest.is_empty() {
                writeln!(
                    out,
                    "It may come from another program, a release newer than the catalog, or be cut by the paste."
                )?;
            } else {
                writeln!(out, "Did you mean one of these messages?")?;
                for (kind, pattern) in nearest {
                    writeln!(out, "  {kind:<28} \"{}\"", terminal(pattern))?;
                }
            }
            writeln!(
                out,
                "Add a template with `--rules` (rules/README.md §2) to teach coroner this message."
            )?;
            Ok(())
        }
    }
}

fn text_match(out: &mut dyn Write, x: &Explanation) -> Result<()> {
    let catalog = x
        .catalog
        .as_deref()
        .map(|c| format!(", NATS-CATALOG {c}"))
        .unwrap_or_default();
    writeln!(out, "message   {} ({} pack{catalog})", x.kind, x.pack)?;
    writeln!(out, "template  \"{}\"", terminal(&x.pattern))?;
    if let Some(l) = x.level {
        writeln!(out, "level     {}", l.tag())?;
    }
    if let Some(p) = &x.prefix {
        writeln!(out, "from      {}", terminal(p))?;
    }
    if !x.fields.is_empty() {
        let f: Vec<String> = x.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        writeln!(out, "fields    {}", terminal(&f.join(", ")))?;
    }
    match &x.meaning {
        Some(m) => {
            writeln!(out, "means     {}", terminal(&m.means))?;
            let ev: Vec<&str> = m.evidence.iter().map(|c| &**c).collect();
            let what = if m.is_consequence() {
                "a symptom of other causes (consequence)".to_string()
            } else {
                ev.join(", ")
            };
            writeln!(out, "causes    {what}")?;
            writeln!(out, "weight    {} ({})", m.weight, m.weight.describe())?;
            writeln!(out, "releases  {} ({})", m.releases, m.releases.describe())?;
        }
        None => writeln!(
            out,
            "means     (its pack gives no meaning for this template)"
        )?,
    }
    if x.rules.is_empty() {
        writeln!(out, "rules     none reads this message on its own")?;
    } else {
        writeln!(out, "rules that read it, and what to check next:")?;
        for r in &x.rules {
            let fixed = r
                .fixed
                .map(|f| format!(", fixed in {f}"))
                .unwrap_or_default();
            writeln!(
                out,
                "  {} [{} {}{fixed}] {}",
                r.id, r.severity, r.category, r.title
            )?;
            if let Some(a) = &r.advice {
                writeln!(out, "    advice:  {}", terminal(&unfilled(a)))?;
            }
            for c in &r.collect {
                writeln!(out, "    collect: {}", terminal(&unfilled(c)))?;
            }
        }
    }
    Ok(())
}

/// Rule text placeholders (`{node}`) shown as `<node>`: explain has no
/// finding to fill them from.
fn unfilled(s: &str) -> String {
    s.replace('{', "<").replace('}', ">")
}

fn to_json(line: &str, e: &Explained) -> serde_json::Value {
    use serde_json::json;
    match e {
        Explained::Match(x) => {
            let meaning = x.meaning.as_ref().map(|m| {
                json!({
                    "means": &*m.means,
                    "evidence": m.evidence.iter().map(|c| &**c).collect::<Vec<_>>(),
                    "weight": m.weight.name(),
                    "releases": m.releases.to_string(),
                    "releases_text": m.releases.describe(),
                })
            });
            json!({
                "line": line,
                "matched": true,
                "body": x.body,
                "level": x.level.map(|l| l.name()),
                "prefix": x.prefix,
                "kind": &*x.kind,
                "catalog": x.catalog.as_deref(),
                "pattern": &*x.pattern,
                "pack": &*x.pack,
                "fields": x.fields.iter().map(|(k, v)| (k.to_string(), json!(v.to_string()))).collect::<serde_json::Map<_, _>>(),
                "meaning": meaning,
                "rules": x.rules.iter().map(|r| json!({
                    "id": &*r.id,
                    "title": &*r.title,
                    "severity": r.severity.name(),
                    "category": &*r.category,
                    "advice": r.advice.as_deref(),
                    "collect": r.collect.iter().map(|c| &**c).collect::<Vec<_>>(),
                    "fixed": r.fixed.map(|f| f.to_string()),
                })).collect::<Vec<_>>(),
            })
        }
        Explained::NoMatch {
            body,
            level,
            nearest,
        } => json!({
            "line": line,
            "matched": false,
            "body": body,
            "level": level.map(|l| l.name()),
            "nearest": nearest.iter().map(|(k, p)| json!({"kind": &**k, "pattern": &**p})).collect::<Vec<_>>(),
        }),
    }
}
