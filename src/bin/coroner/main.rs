//! The `coroner` command line. The only code that knows clap, terminals,
//! colors and exit codes.
//!
//! Exit codes: 0 = no incident (or the command succeeded), 1 = findings at or
//! above `--fail-on`, 2 = an error (unreadable input, bad arguments); partial
//! results are still printed before exiting with 2.

mod cmd_events;
mod cmd_metrics;
mod cmd_rules;
mod common;

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
    /// Print the merged, normalized event stream of all nodes on one clock.
    Events(cmd_events::EventsArgs),
    /// Summarize what was read: per node and per file, lines, levels, templates, attribution.
    Stats(cmd_events::StatsArgs),
    /// List, check, test and explain the rule packs.
    #[command(subcommand)]
    Rules(cmd_rules::RulesCmd),
    /// List the metric series found in metric dumps (per node: metrics, span, step, gaps), or export them.
    Metrics(MetricsCmd),
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
        Command::Events(a) => cmd_events::events(a),
        Command::Stats(a) => cmd_events::stats(a),
        Command::Rules(c) => {
            cmd_rules::run(c, &mut std::io::stdout().lock()).map(|c| c.clamp(0, 255) as u8)
        }
        Command::Metrics(m) => metrics(m),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("coroner: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn metrics(m: &MetricsCmd) -> anyhow::Result<u8> {
    let bundle = m.input.ingest(coroner::ingest::Keep::Counts)?;
    let had_errors = common::report_errors(&bundle);
    let set = coroner::analyze::metric_set(&bundle);
    let mut args = m.args.clone();
    args.node = m.input.node_filters();
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    cmd_metrics::run(&set, &args, &mut out)?;
    std::io::Write::flush(&mut out)?;
    Ok(if had_errors { 2 } else { 0 })
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
