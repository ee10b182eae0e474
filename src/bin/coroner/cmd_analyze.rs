//! `coroner analyze` and `coroner findings`.

use crate::common::{InputArgs, report_errors};
use crate::exit::Exit;
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use coroner::analyze::Analysis;
use coroner::model::Severity;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct RulesArgs {
    /// Extra rule packs (files or directories of *.rules); a pack with a
    /// built-in pack's name replaces it. Repeatable.
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
}

impl RulesArgs {
    /// The built-in packs plus `--rules`; pack errors are printed, the rest loads.
    pub fn load(&self) -> Result<coroner::lang::RuleSet> {
        if self.rules.is_empty() {
            return Ok(coroner::lang::RuleSet::builtin());
        }
        let (set, diags) = coroner::lang::RuleSet::load(&self.rules);
        for d in &diags {
            eprintln!("{d}");
        }
        Ok(set)
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub rules: RulesArgs,
    /// Report format on standard output.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Also write a self-contained HTML report (charts inside) to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Exit with 1 when a finding reaches this severity: info, low, medium, high, critical.
    #[arg(long, value_parser = parse_severity, default_value = "high")]
    pub fail_on: Severity,
}

pub fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("unknown severity `{s}`: use info, low, medium, high or critical"))
}

pub fn analyze_inputs(input: &InputArgs, rules: &RulesArgs) -> Result<Analysis> {
    let set = rules.load()?;
    let opts = input.ingest_options(coroner::ingest::Keep::All)?;
    let inputs = input.inputs();
    let pool = input.pool()?;
    Ok(pool.install(|| coroner::analyze::run(&inputs, &set, &opts)))
}

fn exit_code(a: &Analysis, fail_on: Severity) -> Exit {
    Exit::unless_errors(
        !a.bundle.errors.is_empty(),
        Exit::found(a.findings.iter().any(|f| f.severity >= fail_on)),
    )
}

pub fn analyze(args: &AnalyzeArgs) -> Result<Exit> {
    let a = analyze_inputs(&args.input, &args.rules)?;
    report_errors(&a.bundle);
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    match args.format {
        ReportFormat::Text => {
            coroner::render::report::text::write(&mut out, &a, args.input.style())?
        }
        ReportFormat::Json => coroner::render::report::json::write(&mut out, &a)?,
        ReportFormat::Markdown => coroner::render::report::markdown::write(&mut out, &a, None)?,
    }
    out.flush()?;
    if let Some(path) = &args.html {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        );
        coroner::render::report::html::write(&mut f, &a, &crate::charts_for_html(&a))?;
        f.flush()?;
    }
    let code = exit_code(&a, args.fail_on);
    // The process ends now: freeing every event and finding one by one took
    // ~3% of a run on a large bundle, for memory the exit returns anyway.
    std::mem::forget(a);
    Ok(code)
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindingsFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct FindingsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub rules: RulesArgs,
    /// Only findings at or above this severity.
    #[arg(long, value_parser = parse_severity, default_value = "info")]
    pub min_severity: Severity,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FindingsFormat::Text)]
    pub format: FindingsFormat,
}

pub fn findings(args: &FindingsArgs) -> Result<Exit> {
    let a = analyze_inputs(&args.input, &args.rules)?;
    report_errors(&a.bundle);
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let shown: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.severity >= args.min_severity)
        .collect();
    match args.format {
        FindingsFormat::Json => {
            let v: Vec<_> = shown
                .iter()
                .map(|f| coroner::render::report::json::finding_out(f))
                .collect();
            serde_json::to_writer_pretty(&mut out, &v)?;
            writeln!(out)?;
        }
        FindingsFormat::Text => {
            let style = args.input.style();
            for f in &shown {
                finding_line(&mut out, f, style)?;
                for e in f.evidence.iter().take(2) {
                    let loc = e
                        .loc
                        .as_ref()
                        .map(|l| l.to_string())
                        .unwrap_or_else(|| "metrics".into());
                    writeln!(
                        out,
                        "      {}: {}",
                        coroner::render::escape::terminal(&loc),
                        coroner::render::escape::terminal(&e.line())
                    )?;
                }
            }
        }
    }
    out.flush()?;
    Ok(Exit::unless_errors(
        !a.bundle.errors.is_empty(),
        Exit::Success,
    ))
}

/// One finding as one line: start, severity, node, category, rule, message
/// (`findings` and `watch` print the same line).
pub fn finding_line(
    out: &mut dyn Write,
    f: &coroner::model::Finding,
    style: coroner::render::Style,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{} {:<8} {:<6} {:<22} {} {}",
        f.start.short(),
        style.paint(
            coroner::render::report::text::sev_color(f.severity),
            f.severity.name()
        ),
        coroner::render::escape::terminal(f.node.as_deref().unwrap_or("*")),
        f.category,
        coroner::render::escape::terminal(&f.rule),
        coroner::render::escape::terminal(&f.message)
    )
}
