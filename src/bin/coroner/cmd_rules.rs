//! `coroner rules list|lint|test|explain`: the rule packs as a product.

use crate::exit::Exit;
use clap::Subcommand;
use coroner::engine::{self, ExampleOutcome};
use coroner::lang::{RuleSet, explain};
use std::io::Write;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum RulesCmd {
    /// List the rules (id, severity, category, title) of the built-in packs and --rules.
    List {
        /// Show only the rules of this pack.
        #[arg(long)]
        pack: Option<String>,
        /// Extra pack files or directories; a pack with a built-in name replaces it.
        #[arg(long = "rules", value_name = "PATH")]
        rules: Vec<PathBuf>,
    },
    /// Check rule packs and print their diagnostics; exits 1 when there is an error.
    Lint {
        /// Pack files or directories (default: the built-in packs).
        paths: Vec<PathBuf>,
    },
    /// Run every example of every rule; exits 1 when one fails.
    Test {
        /// Pack files or directories (default: the built-in packs).
        paths: Vec<PathBuf>,
        /// Test only this rule.
        #[arg(long)]
        rule: Option<String>,
        /// Print every example and the findings it produced.
        #[arg(short, long)]
        verbose: bool,
    },
    // Help text: the doc comment of `ExportArgs`.
    Export(crate::cmd_export::ExportArgs),
    /// Show a rule: its meaning in words, its source and its examples.
    Explain {
        /// The rule id, e.g. resources.crash-restart.
        rule: String,
        /// Extra pack files or directories.
        #[arg(long = "rules", value_name = "PATH")]
        rules: Vec<PathBuf>,
    },
}

fn load(paths: &[PathBuf]) -> (RuleSet, Vec<coroner::lang::Diagnostic>) {
    if paths.is_empty() {
        (RuleSet::builtin(), Vec::new())
    } else {
        RuleSet::load(paths)
    }
}

/// Runs a `rules` subcommand; returns the exit code.
pub fn run(cmd: &RulesCmd, out: &mut dyn Write) -> anyhow::Result<Exit> {
    match cmd {
        RulesCmd::List { pack, rules } => {
            let (set, diags) = load(rules);
            for d in diags.iter().filter(|d| d.is_error()) {
                writeln!(out, "{d}\n")?;
            }
            let rows: Vec<_> = set
                .rules()
                .iter()
                .filter(|r| pack.as_deref().is_none_or(|p| *r.pack == *p))
                .collect();
            if rows.is_empty()
                && let Some(p) = pack
            {
                let names: Vec<&str> = set.packs().iter().map(|p| &*p.name).collect();
                anyhow::bail!("no pack `{p}`; packs: {}", names.join(", "));
            }
            let w = rows.iter().map(|r| r.id.len()).max().unwrap_or(2);
            writeln!(
                out,
                "{:w$}  {:8}  {:22}  TITLE",
                "ID", "SEVERITY", "CATEGORY"
            )?;
            for r in rows {
                writeln!(
                    out,
                    "{:w$}  {:8}  {:22}  {}",
                    r.id,
                    r.severity.name(),
                    r.category,
                    r.title
                )?;
            }
            Ok(Exit::Success)
        }
        RulesCmd::Lint { paths } => {
            let (set, mut diags) = load(paths);
            let map_file = |f: &str| f.to_string();
            // example lines must parse too
            for r in set.rules() {
                for ex in &r.examples {
                    if let Err((line, msg)) = engine::examples::parse_example(ex, &r.file, &set) {
                        let text = ex
                            .lines
                            .iter()
                            .find(|(l, _)| *l == line)
                            .map(|(_, t)| t.clone())
                            .unwrap_or_default();
                        diags.push(coroner::lang::Diagnostic {
                            code: "E0016",
                            file: map_file(&r.file).into(),
                            line,
                            column: 1,
                            width: text.chars().count().max(1),
                            message: format!("invalid example line in rule `{}`: {msg}", r.id),
                            hint: None,
                            severity: coroner::lang::DiagSeverity::Error,
                            source_line: text,
                        });
                    }
                }
            }
            for d in &diags {
                writeln!(out, "{d}\n")?;
            }
            let errors = diags.iter().filter(|d| d.is_error()).count();
            let warnings = diags.len() - errors;
            writeln!(
                out,
                "{} packs, {} templates, {} rules: {errors} error(s), {warnings} warning(s)",
                set.packs().len(),
                set.templates().len(),
                set.rules().len()
            )?;
            Ok(Exit::found(errors > 0))
        }
        RulesCmd::Test {
            paths,
            rule,
            verbose,
        } => {
            let (set, diags) = load(paths);
            let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
            for d in &errors {
                writeln!(out, "{d}\n")?;
            }
            let files: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            let in_scope =
                |file: &str| files.is_empty() || files.iter().any(|f| file.starts_with(f.as_str()));
            let mut total = 0;
            let mut failed = 0;
            for r in set
                .rules()
                .iter()
                .filter(|r| rule.as_deref().is_none_or(|id| *r.id == *id) && in_scope(&r.file))
            {
                for ex in &r.examples {
                    total += 1;
                    let res = engine::run_example(&set, r, ex);
                    let name = res.name.clone().unwrap_or_else(|| {
                        if res.fire {
                            "fire".into()
                        } else {
                            "quiet".into()
                        }
                    });
                    let kind = if res.fire { "fire" } else { "quiet" };
                    let ok = res.outcome == ExampleOutcome::Pass;
                    if !ok {
                        failed += 1;
                    }
                    if !ok || *verbose {
                        let status = match &res.outcome {
                            ExampleOutcome::Pass => "ok".to_string(),
                            ExampleOutcome::Missed => "FAILED: no finding".to_string(),
                            ExampleOutcome::FalsePositive => {
                                "FAILED: fired but must stay quiet".to_string()
                            }
                            ExampleOutcome::Invalid { line, message } => {
                                format!("INVALID at {}:{line}: {message}", r.file)
                            }
                        };
                        writeln!(
                            out,
                            "{} [{kind}] {name} ({}:{}) ... {status}",
                            r.id, r.file, res.line
                        )?;
                        for f in &res.findings {
                            writeln!(
                                out,
                                "    {} {} {} {}",
                                f.start.hms_millis(),
                                f.node.as_deref().unwrap_or("-"),
                                f.severity,
                                f.message
                            )?;
                        }
                    }
                }
            }
            if let Some(id) = rule
                && total == 0
                && set.rule(id).is_none()
            {
                anyhow::bail!("no rule `{id}`");
            }
            writeln!(
                out,
                "{total} examples: {} passed, {failed} failed",
                total - failed
            )?;
            Ok(Exit::found(failed > 0 || !errors.is_empty()))
        }
        RulesCmd::Export(a) => crate::cmd_export::run(a, out),
        RulesCmd::Explain { rule, rules } => {
            let (set, _) = load(rules);
            let Some(r) = set.rule(rule) else {
                let hint =
                    coroner::lang::diag::did_you_mean(rule, set.rules().iter().map(|r| &*r.id))
                        .unwrap_or_default();
                anyhow::bail!("no rule `{rule}` {hint}");
            };
            writeln!(out, "{}: {}", r.id, r.title)?;
            writeln!(
                out,
                "pack {} ({}:{}), severity {}, category {}",
                r.pack, r.file, r.line, r.severity, r.category
            )?;
            if let Some(f) = r.fixed {
                writeln!(out, "known defect, fixed in nats-server {f}")?;
            }
            if let Some(d) = &r.description {
                writeln!(out, "\n{d}")?;
            }
            writeln!(out, "\nWhat it detects:\n{}", explain::describe(&r.detect))?;
            if let Some(a) = &r.advice {
                writeln!(out, "\nAdvice: {a}")?;
            }
            for c in &r.collect {
                writeln!(out, "Collect next: {c}")?;
            }
            if !r.explains.is_empty() {
                writeln!(
                    out,
                    "Explains: {}",
                    r.explains
                        .iter()
                        .map(|e| &**e)
                        .collect::<Vec<_>>()
                        .join(", ")
                )?;
            }
            writeln!(out, "\nSource:\n{}", r.source)?;
            Ok(Exit::Success)
        }
    }
}
