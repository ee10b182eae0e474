//! The `coroner` command line. The only code that knows clap, terminals,
//! colors and exit codes.
//!
//! Exit codes: 0 = no incident (or the command succeeded), 1 = findings at or
//! above `--fail-on`, 2 = an error (unreadable input, bad arguments); partial
//! results are still printed before exiting with 2.

mod cmd_analyze;
mod cmd_chart;
mod cmd_collect;
mod cmd_events;
mod cmd_explain;
mod cmd_export;
mod cmd_metrics;
mod cmd_rules;
mod cmd_watch;
mod common;
mod exit;
mod progress;

use exit::Exit;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "coroner",
    version,
    about = "Tells which node of a NATS cluster failed first, when and why, from logs and metric dumps",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Name the failing node, the root cause and its chain, with evidence (exit 1 on findings at --fail-on).
    Analyze(cmd_analyze::AnalyzeArgs),
    /// List every finding of the rule packs, in time order.
    Findings(cmd_analyze::FindingsArgs),
    /// Draw the incident chart (PNG or SVG): node swimlanes, findings, metric panels, the root cause.
    Chart(ChartCmd),
    /// Print the merged, normalized event stream of all nodes on one clock.
    Events(cmd_events::EventsArgs),
    /// Summarize what was read: per node and per file, lines, levels, templates, attribution.
    Stats(cmd_events::StatsArgs),
    /// List, check, test, explain and export (Prometheus, Loki) the rule packs.
    #[command(subcommand)]
    Rules(cmd_rules::RulesCmd),
    /// List the metric series found in metric dumps (per node: metrics, span, step, gaps), or export them.
    Metrics(MetricsCmd),
    /// Explain one log line: which message it is, what it means and usually causes, what to check next (exit 1 if unknown).
    Explain(cmd_explain::ExplainArgs),
    // Help text: the doc comment of `CollectArgs` (its first line is the summary).
    Collect(cmd_collect::CollectArgs),
    // Help text: the doc comment of `WatchArgs`.
    Watch(cmd_watch::WatchArgs),
}

#[derive(clap::Args, Debug)]
struct ChartCmd {
    #[command(flatten)]
    input: common::InputArgs,
    #[command(flatten)]
    rules: cmd_analyze::RulesArgs,
    #[command(flatten)]
    args: cmd_chart::ChartArgs,
}

#[derive(clap::Args, Debug)]
struct MetricsCmd {
    #[command(flatten)]
    input: common::InputArgs,
    #[command(flatten)]
    args: cmd_metrics::MetricsArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Analyze(a) => cmd_analyze::analyze(a),
        Command::Findings(a) => cmd_analyze::findings(a),
        Command::Chart(c) => chart(c),
        Command::Events(a) => cmd_events::events(a),
        Command::Stats(a) => cmd_events::stats(a),
        Command::Metrics(m) => metrics(m),
        Command::Rules(r) => rules(r),
        Command::Explain(a) => cmd_explain::explain(a),
        Command::Collect(a) => cmd_collect::collect(a),
        Command::Watch(a) => cmd_watch::watch(a),
    };
    match result {
        Ok(code) => code.into(),
        // The reader went away (`coroner events ... | head`): stop quietly.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coroner: error: {e:#}");
            Exit::Error.into()
        }
    }
}

fn chart(c: &ChartCmd) -> anyhow::Result<Exit> {
    let a = cmd_analyze::analyze_inputs(&c.input, &c.rules)?;
    let had_errors = common::report_errors(&a.bundle);
    let input = chart_input(&a);
    cmd_chart::run(&c.args, &input)?;
    Ok(Exit::unless_errors(had_errors, Exit::Success))
}

/// The chart of an analysis: findings, failing node and root cause marked.
fn chart_input(a: &coroner::analyze::Analysis) -> coroner::render::chart::ChartInput<'_> {
    let root = a.verdict.root_cause.as_ref().map(|r| {
        (
            r.at,
            format!(
                "root cause: {} on {}",
                r.category,
                r.node.as_deref().unwrap_or("cluster")
            ),
        )
    });
    let mut input = coroner::render::chart::chart_input_from(
        &a.bundle,
        &a.metrics,
        &a.findings,
        a.verdict.failing_node.clone(),
        root,
    );
    // The metric that evidences the root cause is drawn, first.
    let drawn = |m: &str| input.panels.iter().any(|p| p.split('|').any(|x| x == m));
    let has_series = |m: &str| input.nodes.iter().any(|n| a.metrics.series(n, m).is_some());
    let first: Vec<String> = a
        .root_metrics
        .iter()
        .filter(|m| !drawn(m) && has_series(m))
        .map(|m| m.to_string())
        .collect();
    input.panels.splice(0..0, first);
    input
}

fn rules(r: &cmd_rules::RulesCmd) -> anyhow::Result<Exit> {
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let code = cmd_rules::run(r, &mut out)?;
    std::io::Write::flush(&mut out)?;
    Ok(code)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn metrics(m: &MetricsCmd) -> anyhow::Result<Exit> {
    let mut bundle = m.input.ingest(coroner::ingest::Keep::Counts)?;
    let had_errors = common::report_errors(&bundle);
    let set = coroner::analyze::metric_set(&mut bundle);
    let mut args = m.args.clone();
    args.node = m.input.node_filters();
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    cmd_metrics::run(&set, &args, &mut out)?;
    std::io::Write::flush(&mut out)?;
    Ok(Exit::unless_errors(had_errors, Exit::Success))
}

/// The incident chart as inline SVG for the HTML report.
pub(crate) fn charts_for_html(a: &coroner::analyze::Analysis) -> Vec<String> {
    let input = chart_input(a);
    match coroner::render::chart::render_svg(&input, 1600, 900) {
        Ok(svg) => vec![svg],
        Err(e) => {
            eprintln!("coroner: cannot draw the chart: {e:#}");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
