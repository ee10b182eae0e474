//! Arguments and helpers shared by the subcommands.

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use coroner::ingest::{Bundle, IngestOptions, Keep};
use coroner::model::Timestamp;
use coroner::parse::log::{LogOptions, Zone};
use coroner::source::{Input, Limits};
use std::io::IsTerminal;

#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Files, directories, archives (.tar, .tar.gz, .tgz, .zip) or `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    pub inputs: Vec<String>,
    /// Restrict to a node (`--node n2`), or attribute files to a node
    /// (`--node n2=PATH`: files whose path contains PATH). Repeatable.
    #[arg(long = "node", value_name = "NODE[=PATH]")]
    pub node: Vec<String>,
    /// Time zone of log timestamps that carry none (nats-server writes local
    /// time): an IANA name, UTC or an offset. Default: UTC.
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    pub tz: String,
    /// Worker threads (default: all cores). Output is the same for any value.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Cut lines longer than this many bytes (they are counted, not loaded whole).
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub max_line: usize,
    /// Refuse compressed streams expanding more than this ratio (archive bombs).
    #[arg(long, value_name = "RATIO", default_value_t = 1000)]
    pub max_ratio: u64,
    /// Refuse to read more than this many decompressed bytes from one input.
    #[arg(long, value_name = "BYTES", default_value_t = 256 << 30)]
    pub max_input_bytes: u64,
    /// When to color output: auto (a terminal and no NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl InputArgs {
    pub fn node_filters(&self) -> Vec<String> {
        self.node
            .iter()
            .filter(|n| !n.contains('='))
            .cloned()
            .collect()
    }

    pub fn overrides(&self) -> Vec<(String, String)> {
        self.node
            .iter()
            .filter_map(|n| {
                n.split_once('=')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
            })
            .collect()
    }

    pub fn style(&self) -> coroner::render::Style {
        let color = match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        };
        coroner::render::Style { color }
    }

    pub fn ingest_options(&self, keep: Keep) -> Result<IngestOptions> {
        let zone = Zone::parse(&self.tz).map_err(anyhow::Error::msg)?;
        Ok(IngestOptions {
            log: LogOptions {
                zone,
                max_line: self.max_line,
                ..LogOptions::default()
            },
            limits: Limits {
                max_ratio: self.max_ratio,
                max_total_bytes: self.max_input_bytes,
                ..Limits::default()
            },
            node_overrides: self.overrides(),
            keep,
            relevant_kinds: Vec::new(),
            progress: Some(coroner::ingest::ProgressSink(std::sync::Arc::new(
                crate::progress::Bar::default(),
            ))),
            ..IngestOptions::default()
        })
    }

    pub fn inputs(&self) -> Vec<Input> {
        self.inputs.iter().map(|s| Input::parse(s)).collect()
    }

    /// The worker pool (`--threads`).
    pub fn pool(&self) -> Result<rayon::ThreadPool> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads.unwrap_or(0))
            .build()
            .context("cannot start worker threads")
    }

    /// Reads the inputs on the configured thread pool, classified with the
    /// built-in packs' templates.
    pub fn ingest(&self, keep: Keep) -> Result<Bundle> {
        self.ingest_with(self.ingest_options(keep)?)
    }

    /// [`Self::ingest`] with options already made.
    pub fn ingest_with(&self, opts: IngestOptions) -> Result<Bundle> {
        let inputs = self.inputs();
        let rules = coroner::lang::RuleSet::builtin();
        Ok(self
            .pool()?
            .install(|| coroner::ingest::ingest(&inputs, rules.classifier_ref(), &opts)))
    }
}

/// Prints source errors to stderr; returns whether there were any.
pub fn report_errors(bundle: &Bundle) -> bool {
    for e in &bundle.errors {
        eprintln!(
            "coroner: {}",
            coroner::render::escape::terminal(&e.to_string())
        );
    }
    !bundle.errors.is_empty()
}

/// Parses `07:40`, `07:40:30`, `2026-11-24 07:40`, or RFC 3339. A time of day
/// is taken on the day of `anchor` (the first timestamp of the data).
pub fn parse_time(s: &str, anchor: Option<Timestamp>) -> Result<Timestamp> {
    if let Some(t) = Timestamp::parse_rfc3339(s) {
        return Ok(t);
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S%.f",
        "%Y/%m/%d %H:%M",
    ] {
        if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            if let Some(n) = dt.and_utc().timestamp_nanos_opt() {
                return Ok(Timestamp(n));
            }
        }
    }
    for fmt in ["%H:%M:%S%.f", "%H:%M"] {
        if let Ok(t) = chrono::NaiveTime::parse_from_str(s, fmt) {
            let Some(anchor) = anchor else {
                bail!(
                    "`{s}` is a time of day, but the input has no timestamps to take the date from"
                );
            };
            let day = chrono::DateTime::from_timestamp_nanos(anchor.0).date_naive();
            let dt = day.and_time(t).and_utc();
            return Ok(Timestamp(dt.timestamp_nanos_opt().unwrap_or(0)));
        }
    }
    bail!("cannot read time `{s}`: use HH:MM[:SS], YYYY-MM-DD HH:MM[:SS] or RFC 3339")
}
