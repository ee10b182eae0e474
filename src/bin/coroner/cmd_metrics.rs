//! `coroner metrics`: the arguments, the output file; the listing and the
//! export are `coroner::render::metrics`.

use coroner::metrics::{MetricSet, OutputFormat, Selection};
use coroner::render::metrics::write;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug, Clone, PartialEq)]
pub struct MetricsArgs {
    /// Only these metrics (comma-separated canonical names, e.g. `cpu,mem_rss,js_api_pending`).
    #[arg(long, value_delimiter = ',')]
    pub metric: Vec<String>,
    /// Only these nodes (set from the common `--node` filter).
    #[arg(skip)]
    pub node: Vec<String>,
    /// `text`: per-node summary; `csv`, `json` (JSON lines), `parquet`: the long frame
    /// (time, node, metric, value, labels).
    #[arg(long, value_enum, default_value_t = MetricsFormat::Text)]
    pub format: MetricsFormat,
    /// Write to this file instead of standard output (required for parquet).
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum MetricsFormat {
    Text,
    Csv,
    Json,
    Parquet,
}

impl From<MetricsFormat> for OutputFormat {
    fn from(f: MetricsFormat) -> OutputFormat {
        match f {
            MetricsFormat::Text => OutputFormat::Text,
            MetricsFormat::Csv => OutputFormat::Csv,
            MetricsFormat::Json => OutputFormat::Json,
            MetricsFormat::Parquet => OutputFormat::Parquet,
        }
    }
}

pub fn run(set: &MetricSet, args: &MetricsArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let sel = Selection {
        metrics: args.metric.clone(),
        nodes: args.node.clone(),
    };
    if let Some(path) = &args.output {
        let f = std::fs::File::create(path)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
        let mut w = std::io::BufWriter::new(f);
        write(set, &sel, args.format.into(), &mut w)?;
        w.flush()?;
        writeln!(
            out,
            "wrote {} ({})",
            path.display(),
            format_name(args.format)
        )?;
        return Ok(());
    }
    if args.format == MetricsFormat::Parquet {
        anyhow::bail!("--format parquet writes a binary file: give -o FILE");
    }
    Ok(write(set, &sel, args.format.into(), out)?)
}

fn format_name(f: MetricsFormat) -> &'static str {
    match f {
        MetricsFormat::Text => "text",
        MetricsFormat::Csv => "csv",
        MetricsFormat::Json => "json lines",
        MetricsFormat::Parquet => "parquet",
    }
}
