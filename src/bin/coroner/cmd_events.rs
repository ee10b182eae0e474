//! `coroner events` and `coroner stats`.

use crate::common::{InputArgs, parse_time, report_errors};
use crate::exit::Exit;
use anyhow::Result;
use clap::{Args, ValueEnum};
use coroner::ingest::Keep;
use coroner::model::Level;
use std::io::Write;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventsFormat {
    Text,
    Jsonl,
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Only events at or above this level: trace, debug, info, warn, error, fatal.
    #[arg(long, value_parser = parse_level)]
    pub level: Option<Level>,
    /// Only events of these kinds (template names), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub kind: Vec<String>,
    /// Only events at or after this time (HH:MM[:SS], a date and time, or RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Only events before this time.
    #[arg(long)]
    pub until: Option<String>,
    /// Print the unparsed lines (file:line and text) instead of events.
    #[arg(long)]
    pub unparsed: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = EventsFormat::Text)]
    pub format: EventsFormat,
}

fn parse_level(s: &str) -> Result<Level, String> {
    Level::parse(s)
        .ok_or_else(|| format!("unknown level `{s}`: use trace, debug, info, warn, error or fatal"))
}

pub fn events(a: &EventsArgs) -> Result<Exit> {
    let bundle = a.input.ingest(Keep::All)?;
    let had_errors = report_errors(&bundle);
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    if a.unparsed {
        for f in &bundle.files {
            for (line, text) in &f.account.unparsed_samples {
                writeln!(
                    out,
                    "{}:{}: {}",
                    coroner::render::escape::terminal(&f.display),
                    line,
                    coroner::render::escape::terminal(text)
                )?;
            }
            if f.account.unparsed > f.account.unparsed_samples.len() as u64 {
                writeln!(
                    out,
                    "{}: ... {} more unparsed lines",
                    coroner::render::escape::terminal(&f.display),
                    f.account.unparsed - f.account.unparsed_samples.len() as u64
                )?;
            }
        }
        out.flush()?;
        return Ok(Exit::unless_errors(had_errors, Exit::Success));
    }
    let anchor = bundle.span().map(|s| s.0);
    let since = a
        .since
        .as_deref()
        .map(|s| parse_time(s, anchor))
        .transpose()?;
    let mut until = a
        .until
        .as_deref()
        .map(|s| parse_time(s, anchor))
        .transpose()?;
    if let (Some(s), Some(u)) = (since, until) {
        if u < s && a.until.as_deref().is_some_and(|x| x.len() <= 8) {
            until = Some(u.add(86_400 * 1_000_000_000)); // window crosses midnight
        }
    }
    let nodes = a.input.node_filters();
    let selected: Vec<&coroner::model::Event> = bundle
        .events
        .iter()
        .filter(|e| a.level.is_none_or(|l| e.level >= l))
        .filter(|e| nodes.is_empty() || nodes.iter().any(|n| **n == *e.node))
        .filter(|e| a.kind.is_empty() || a.kind.iter().any(|k| **k == *e.kind))
        .filter(|e| since.is_none_or(|s| e.ts.is_some_and(|t| t >= s)))
        .filter(|e| until.is_none_or(|u| e.ts.is_some_and(|t| t < u)))
        .collect();
    match a.format {
        EventsFormat::Text => {
            coroner::render::events::write_text(&mut out, &selected, a.input.style())?
        }
        EventsFormat::Jsonl => coroner::render::events::write_jsonl(&mut out, &selected)?,
    }
    out.flush()?;
    Ok(Exit::unless_errors(had_errors, Exit::Success))
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatsFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// How many message templates to list per node.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = StatsFormat::Text)]
    pub format: StatsFormat,
}

pub fn stats(a: &StatsArgs) -> Result<Exit> {
    // Counts only: metric samples are counted, not kept.
    let opts = coroner::ingest::IngestOptions {
        metric_samples: false,
        ..a.input.ingest_options(Keep::Counts)?
    };
    let bundle = a.input.ingest_with(opts)?;
    let had_errors = report_errors(&bundle);
    let report = coroner::render::stats::build(&bundle, a.top);
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    match a.format {
        StatsFormat::Text => {
            coroner::render::stats::write_text(&mut out, &report, a.input.style())?
        }
        StatsFormat::Json => coroner::render::stats::write_json(&mut out, &report)?,
    }
    out.flush()?;
    Ok(Exit::unless_errors(had_errors, Exit::Success))
}
