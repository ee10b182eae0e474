//! `broker` command line: `broker run <scenario> ...`, `broker list`.

use anyhow::{Result, bail};
use broker::logger::LogFormat;
use broker::scenario::{self, PARAM_DOCS, SCENARIOS, parse_duration};
use broker::sim::RunOptions;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
broker: a NATS cluster model that writes nats-server logs and metric dumps and reproduces incidents

Usage:
  broker run <scenario> --out DIR [--seed N] [--set key=value]... [--log-format text|json]
             [--metrics-interval 1s] [--prometheus] [--duration 24h]
  broker list        list scenarios and their parameters

Options:
  --out DIR               write nN.log, metrics/, truth.json, verdict.json into DIR (created)
  --seed N                seed of the model's randomness (default 1); same seed, same bytes
  --set key=value         override a scenario parameter (repeatable; see `broker list`)
  --log-format FMT        text (nats-server format, default) or json (one object per line)
  --metrics-interval DUR  sampler period for /varz /jsz /healthz /routez and /proc (default 1s)
  --prometheus            also write metrics/nN.prom (prometheus-nats-exporter names)
  --duration DUR          shorthand for --set duration=DUR
";

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("broker: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("list") => list(),
        Some("run") => run(&args[1..]),
        Some("-h") | Some("--help") | Some("help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}

fn list() -> Result<()> {
    println!("Scenarios:");
    for (name, _) in SCENARIOS {
        let s = scenario::load(name, &[])?;
        println!("  {name:<14} {}", s.description);
        let sets: Vec<String> = s
            .overrides
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        println!(
            "  {:<14} root cause: {}; defaults: {}",
            "",
            s.root_cause.as_deref().unwrap_or("none"),
            sets.join(" ")
        );
    }
    println!("\nParameters (--set key=value):");
    for (k, doc) in PARAM_DOCS {
        println!("  {k:<18} {doc}");
    }
    Ok(())
}

fn run(args: &[String]) -> Result<()> {
    let mut name = None;
    let mut out = None;
    let mut seed = 1u64;
    let mut sets = Vec::new();
    let mut log_format = LogFormat::Text;
    let mut interval = parse_duration("1s")?;
    let mut prometheus = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))
        };
        match a.as_str() {
            "--out" | "-o" => out = Some(PathBuf::from(val(a)?)),
            "--seed" => seed = val(a)?.parse()?,
            "--set" => sets.push(val(a)?),
            "--log-format" => {
                log_format = match val(a)?.as_str() {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    other => bail!("--log-format: expected text or json, got {other:?}"),
                }
            }
            "--metrics-interval" => {
                interval = parse_duration(&val(a)?)?;
                if interval < 10_000 {
                    bail!("--metrics-interval must be at least 10ms");
                }
            }
            "--prometheus" => prometheus = true,
            "--duration" => sets.push(format!("duration={}", val(a)?)),
            flag if flag.starts_with('-') => bail!("unknown option {flag:?}\n\n{USAGE}"),
            pos if name.is_none() => name = Some(pos.to_string()),
            extra => bail!("unexpected argument {extra:?}"),
        }
    }
    let Some(name) = name else {
        bail!("run: which scenario? (see `broker list`)")
    };
    let Some(out) = out else {
        bail!("run: --out DIR is required")
    };
    let sc = scenario::load(&name, &sets)?;
    let stats = broker::run(
        &sc,
        seed,
        RunOptions {
            out: out.clone(),
            log_format,
            metrics_interval: interval,
            prometheus,
        },
    )?;
    eprintln!(
        "broker: {name} seed {seed}: {} log lines ({:.1} MB), {} metric lines, {} events -> {}",
        stats.log_lines,
        stats.log_bytes as f64 / 1e6,
        stats.metric_lines,
        stats.events,
        out.display()
    );
    Ok(())
}
