//! `coroner watch`: `analyze` on growing inputs, for the incident itself.

use crate::exit::Exit;
use anyhow::{Context, Result, bail};
use clap::Args;
use coroner::analyze::{Analysis, ingest_options, run_bundle};
use coroner::ingest::Follower;
use coroner::model::{Finding, Severity};
use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Follow growing logs and metric dumps, print each finding when it fires, and the verdict
///
/// The same reading, rules and diagnosis as `analyze`, on inputs that grow:
/// log files are followed as `tail -F` follows them (a rotated file is read
/// to its end, then the new one from its start; a truncated one from its
/// start), new files in the directories given are picked up, and with
/// --collect the monitoring endpoints of a live cluster are polled into -o
/// DIR (as `coroner collect` does) and followed too.
///
/// Every --check-every, if anything grew, the rules run on everything read so
/// far and each finding at or above --min-severity not shown before is
/// printed as one line. Enter (on a terminal) prints the verdict so far;
/// Ctrl-C, the end of --duration or --until-idle ends the watch and prints
/// the verdict. Once the input has stopped growing, the findings and the
/// verdict are `analyze`'s on the same files.
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct WatchArgs {
    #[command(flatten)]
    pub input: crate::common::InputArgs,
    #[command(flatten)]
    pub rules: crate::cmd_analyze::RulesArgs,
    /// Poll this monitoring URL (repeatable; one URL discovers its cluster)
    /// into -o DIR while watching.
    #[arg(long = "collect", value_name = "URL")]
    pub collect: Vec<String>,
    /// Where --collect writes its bundle (a new or empty directory).
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Interval between two fetches of an endpoint (--collect).
    #[arg(long, value_name = "DURATION", default_value = "1s")]
    pub every: String,
    /// How often the inputs are read and the rules run.
    #[arg(long, value_name = "DURATION", default_value = "2s")]
    pub check_every: String,
    /// Findings below this severity are not printed as they fire.
    #[arg(long, value_parser = crate::cmd_analyze::parse_severity, default_value = "medium")]
    pub min_severity: Severity,
    /// End when the inputs have not grown for this long.
    #[arg(long, value_name = "DURATION")]
    pub until_idle: Option<String>,
    /// End after this long.
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Print the verdict so far at this interval too.
    #[arg(long, value_name = "DURATION")]
    pub verdict_every: Option<String>,
    /// Exit 1 when a finding at or above this severity fired.
    #[arg(long, value_parser = crate::cmd_analyze::parse_severity, default_value = "high")]
    pub fail_on: Severity,
}

fn dur(s: &str, what: &str) -> Result<Duration> {
    let n = crate::cmd_chart::parse_duration(s).with_context(|| what.to_string())?;
    if n <= 0 {
        bail!("{what} must be positive, not `{s}`");
    }
    Ok(Duration::from_nanos(n as u64))
}

/// The identity of a finding across checks (its end and counts grow).
fn key(f: &Finding) -> (Arc<str>, Option<String>, i64) {
    (
        f.rule.clone(),
        f.node.as_deref().map(str::to_string),
        f.start.0,
    )
}

pub fn watch(a: &WatchArgs) -> Result<Exit> {
    let check_every = dur(&a.check_every, "--check-every")?;
    let until_idle = a
        .until_idle
        .as_deref()
        .map(|s| dur(s, "--until-idle"))
        .transpose()?;
    let duration = a
        .duration
        .as_deref()
        .map(|s| dur(s, "--duration"))
        .transpose()?;
    let verdict_every = a
        .verdict_every
        .as_deref()
        .map(|s| dur(s, "--verdict-every"))
        .transpose()?;
    let set = a.rules.load()?;
    let mut base = a.input.ingest_options(coroner::ingest::Keep::All)?;
    // Reading is continuous: no progress bar.
    base.progress = None;
    let opts = ingest_options(&set, &base);
    let mut inputs = a.input.inputs();
    if inputs
        .iter()
        .any(|i| matches!(i, coroner::source::Input::Stdin))
    {
        bail!("watch follows files and directories; stdin (`-`) cannot be followed");
    }

    let stop = coroner::collect::Stop::new();
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || stop.request()).context("cannot install the Ctrl-C handler")?;
    }
    let collector = if a.collect.is_empty() {
        None
    } else {
        let Some(out) = &a.out else {
            bail!("--collect needs -o DIR: the bundle it writes is what is watched");
        };
        let every = dur(&a.every, "--every")?;
        let handle = crate::cmd_collect::start_background(&a.collect, out, every, &stop)?;
        inputs.push(coroner::source::Input::Path(coroner::collect::staging_dir(
            out,
        )));
        Some(handle)
    };
    // Enter prints the verdict so far.
    let asked = Arc::new(AtomicBool::new(false));
    if std::io::stdin().is_terminal() {
        let asked = asked.clone();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                if line.is_err() {
                    break;
                }
                asked.store(true, Ordering::Relaxed);
            }
        });
    }
    eprintln!(
        "coroner: watching {} input(s){}; Ctrl-C ends",
        inputs.len(),
        if std::io::stdin().is_terminal() {
            "; Enter prints the verdict so far"
        } else {
            ""
        }
    );

    let pool = a.input.pool()?;
    let style = a.input.style();
    let mut follower = Follower::new(&inputs, set.classifier_ref(), &opts);
    let mut shown: BTreeSet<(Arc<str>, Option<String>, i64)> = BTreeSet::new();
    let mut fired = false;
    let started = Instant::now();
    let mut last_growth = Instant::now();
    let mut last_verdict = Instant::now();
    let mut analysis: Option<Analysis> = None;
    let out = std::io::stdout();
    loop {
        let g = pool.install(|| follower.poll());
        let grew = g.bytes > 0 || g.new_files > 0 || g.restarted > 0;
        if grew {
            last_growth = Instant::now();
        }
        if grew || analysis.is_none() {
            let a2 = pool.install(|| run_bundle(follower.bundle(), &set));
            let mut o = out.lock();
            for f in &a2.findings {
                if f.severity >= a.min_severity && shown.insert(key(f)) {
                    print_finding(&mut o, f, style)?;
                }
            }
            o.flush()?;
            fired |= a2.findings.iter().any(|f| f.severity >= a.fail_on);
            analysis = Some(a2);
        }
        if asked.swap(false, Ordering::Relaxed)
            || verdict_every.is_some_and(|v| last_verdict.elapsed() >= v)
        {
            last_verdict = Instant::now();
            if let Some(an) = &analysis {
                print_verdict(&mut out.lock(), an, style, "so far")?;
            }
        }
        let idle = until_idle.is_some_and(|d| last_growth.elapsed() >= d);
        let over = duration.is_some_and(|d| started.elapsed() >= d);
        if stop.is_requested() || idle || over {
            break;
        }
        stop.wait_until(Instant::now() + check_every);
    }
    // The end: the collector finishes its lines, partial lines are taken.
    stop.request();
    if let Some(h) = collector {
        match h.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("coroner: warning: collection: {e:#}"),
            Err(_) => eprintln!("coroner: warning: the collector stopped abnormally"),
        }
    }
    pool.install(|| follower.finish());
    let last = pool.install(|| run_bundle(follower.bundle(), &set));
    let mut o = out.lock();
    for f in &last.findings {
        if f.severity >= a.min_severity && shown.insert(key(f)) {
            print_finding(&mut o, f, style)?;
        }
    }
    // Findings printed from a partial view that the whole input revised
    // (an onset moved as earlier lines arrived): said, not hidden.
    let final_keys: BTreeSet<_> = last.findings.iter().map(key).collect();
    let revised = shown.difference(&final_keys).count();
    if revised > 0 {
        writeln!(
            o,
            "({revised} finding(s) printed above were revised as more input arrived; the verdict below reads the final ones)"
        )?;
    }
    print_verdict(&mut o, &last, style, "at the end")?;
    o.flush()?;
    drop(o);
    let had_errors = crate::common::report_errors(&last.bundle);
    fired |= last.findings.iter().any(|f| f.severity >= a.fail_on);
    Ok(Exit::unless_errors(had_errors, Exit::found(fired)))
}

fn print_finding(out: &mut dyn Write, f: &Finding, style: coroner::render::Style) -> Result<()> {
    crate::cmd_analyze::finding_line(out, f, style)?;
    Ok(())
}

fn print_verdict(
    out: &mut dyn Write,
    a: &Analysis,
    style: coroner::render::Style,
    when: &str,
) -> Result<()> {
    writeln!(out, "--- verdict {when} ---")?;
    coroner::render::report::text::write_verdict(out, a, style)?;
    Ok(())
}
