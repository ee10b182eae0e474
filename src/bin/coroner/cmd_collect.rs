//! `coroner collect`: arguments, discovery report, progress on stderr, Ctrl-C.

use crate::exit::Exit;
use anyhow::{Context, Result, bail};
use clap::Args;
use coroner::collect::{self, Auth, HttpOptions, LogSpec, Outcome, Progress, Until, watch};
use coroner::model::Severity;
use coroner::render::escape::terminal;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Poll the monitoring endpoints of a live cluster into a bundle `coroner analyze` reads
///
/// Every --every, each server's /varz, /jsz, /healthz, /routez, /connz (and
/// /raftz, /ipqueuesz where its release has them) is fetched by its own
/// thread with a --timeout shorter than the interval, and written as one JSON
/// line to DIR/metrics/<server>.<endpoint>.jsonl: the answer, or the error
/// (`timeout after 800ms`, `connection refused`), so a frozen server shows as
/// a run of timeouts and never delays the others. --logs files are copied
/// beside it as they grow (<server>.log). Ctrl-C, the end of --duration or
/// the health watch finish the bundle cleanly (never half a line); with
/// `-o NAME.tar.gz` it is packed into one archive at the end.
///
/// Discovery: given ONE URL, the other servers of its cluster are found from
/// it. nats-server does not publish its peers' monitoring addresses, so
/// coroner reads the routes (/routez: each peer's server_id, name and IP;
/// /varz cluster.urls: the route URLs) and tries, for each peer, its IP with
/// the same monitoring port as the URL given, then its cluster port shifted
/// by the given server's (http_port - cluster_port). A guess is kept only if
/// its /varz answers with that peer's server_id; peers not found are named,
/// and can be given as more URLs. --no-discover polls only the URLs given.
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct CollectArgs {
    /// Monitoring base URLs (http://host:8222, https://proxy/nats-1); the
    /// scheme defaults to http.
    #[arg(required = true, value_name = "URL")]
    pub urls: Vec<String>,
    /// Output: a new (or empty) directory, or a file name ending in .tar.gz / .tgz.
    #[arg(short, long, value_name = "DIR|FILE.tar.gz")]
    pub out: PathBuf,
    /// Interval between two fetches of an endpoint.
    #[arg(long, value_name = "DURATION", default_value = "1s")]
    pub every: String,
    /// How long to collect (without --until-healthy / --for-incident). Ctrl-C ends it earlier.
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    pub duration: String,
    /// Per-request timeout (must be shorter than --every; default: 80% of it, at most 5s).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Endpoints to poll (comma-separated): varz, jsz, healthz, routez, raftz, ipqueuesz, connz.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "varz,jsz,healthz,routez,raftz,ipqueuesz,connz"
    )]
    pub endpoints: Vec<String>,
    /// Connections fetched per /connz (sorted by pending bytes, the slowest first).
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub connz_limit: usize,
    /// Poll only the URLs given; do not look for the cluster's other servers.
    #[arg(long)]
    pub no_discover: bool,
    /// A log file to copy as it grows (repeatable). NODE=PATH names its
    /// server; otherwise the server is read from the nats-server banner.
    #[arg(long = "logs", value_name = "[NODE=]PATH")]
    pub logs: Vec<String>,
    /// Basic auth user for the monitoring endpoints (e.g. behind a proxy).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Basic auth password (or set CORONER_PASSWORD to keep it out of `ps`).
    #[arg(long, value_name = "PASSWORD")]
    pub password: Option<String>,
    /// Bearer token (or set CORONER_TOKEN).
    #[arg(long, value_name = "TOKEN", conflicts_with = "user")]
    pub token: Option<String>,
    /// PEM file with the CA certificate(s) of HTTPS monitoring endpoints.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// Largest answer read; a larger one is recorded as an error.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub max_body: u64,
    /// Keep collecting while any rule fires: at least --duration, then until
    /// no rule at or above --fail-on fired for --quiet-for.
    #[arg(long, conflicts_with = "for_incident")]
    pub until_healthy: bool,
    /// Keep collecting until rules have fired and then stayed quiet for
    /// --quiet-for (leave it running during an incident).
    #[arg(long)]
    pub for_incident: bool,
    /// Quiet period that ends --until-healthy / --for-incident.
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub quiet_for: String,
    /// How often the rules run during --until-healthy / --for-incident.
    #[arg(long, value_name = "DURATION", default_value = "15s")]
    pub check_every: String,
    /// How much of the recent bundle each check analyzes.
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    pub window: String,
    /// Hard limit of --until-healthy / --for-incident.
    #[arg(long, value_name = "DURATION", default_value = "6h")]
    pub max_duration: String,
    /// Severity at which a finding counts as firing (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY", default_value = "high", value_parser = parse_severity)]
    pub fail_on: Severity,
    /// Extra rule packs for --until-healthy / --for-incident (files or
    /// directories; a pack with a built-in name replaces it).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// No progress line (notes and the summary are still printed).
    #[arg(short, long)]
    pub quiet: bool,
}

fn parse_severity(s: &str) -> std::result::Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("unknown severity `{s}`: info, low, medium, high, critical"))
}

fn dur(s: &str, what: &str) -> Result<Duration> {
    let n = crate::cmd_chart::parse_duration(s).with_context(|| what.to_string())?;
    if n <= 0 {
        bail!("{what} must be positive, not `{s}`");
    }
    Ok(Duration::from_nanos(n as u64))
}

pub fn collect(a: &CollectArgs) -> Result<Exit> {
    let every = dur(&a.every, "--every")?;
    let timeout = match &a.timeout {
        Some(t) => dur(t, "--timeout")?,
        None => (every * 4 / 5).min(Duration::from_secs(5)),
    };
    let auth = match (&a.user, &a.token) {
        (Some(u), _) => Auth::Basic {
            user: u.clone(),
            password: a
                .password
                .clone()
                .or_else(|| std::env::var("CORONER_PASSWORD").ok())
                .unwrap_or_default(),
        },
        (None, Some(t)) => Auth::Token(t.clone()),
        (None, None) => match std::env::var("CORONER_TOKEN") {
            Ok(t) if !t.is_empty() => Auth::Token(t),
            _ => Auth::None,
        },
    };
    let client = collect::Client::new(&HttpOptions {
        timeout,
        auth,
        ca_file: a.ca_file.clone(),
        max_body: a.max_body,
    })?;
    let names: Vec<&str> = a.endpoints.iter().map(|s| s.trim()).collect();
    let wanted = collect::endpoints(&names, a.connz_limit.max(1))?;
    let until = if a.until_healthy || a.for_incident {
        Until::Watch(watch::Watch {
            mode: if a.for_incident {
                watch::WatchMode::ForIncident
            } else {
                watch::WatchMode::UntilHealthy
            },
            min_duration: dur(&a.duration, "--duration")?,
            quiet_for: dur(&a.quiet_for, "--quiet-for")?,
            check_every: dur(&a.check_every, "--check-every")?,
            window: dur(&a.window, "--window")?,
            max_duration: dur(&a.max_duration, "--max-duration")?,
            min_severity: a.fail_on,
            rules: a.rules.clone(),
        })
    } else {
        Until::Duration(dur(&a.duration, "--duration")?)
    };
    let logs = a
        .logs
        .iter()
        .map(|s| match s.split_once('=') {
            Some((node, path)) if !node.is_empty() && !node.contains(['/', '\\']) => LogSpec {
                source: PathBuf::from(path),
                node: Some(node.to_string()),
            },
            _ => LogSpec {
                source: PathBuf::from(s),
                node: None,
            },
        })
        .collect::<Vec<_>>();

    if !a.rules.is_empty() {
        let (_, diags) = coroner::lang::RuleSet::load(&a.rules);
        let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
        if !errors.is_empty() {
            for d in &errors {
                eprintln!("{d}\n");
            }
            bail!("the rule packs given with --rules have errors (see `coroner rules lint`)");
        }
    }
    // Who to poll.
    let mut servers = Vec::new();
    for u in &a.urls {
        servers.push(collect::discover::probe(&client, u)?);
    }
    if a.urls.len() == 1 && !a.no_discover {
        let d = collect::discover::discover(&client, &servers[0]);
        for s in &d.found {
            eprintln!(
                "coroner: discovered {} at {} (route peer of {})",
                terminal(&s.name),
                terminal(&s.url),
                terminal(&servers[0].name)
            );
        }
        for (peer, tried) in &d.missing {
            eprintln!(
                "coroner: warning: route peer {} not reached (tried {}); give its monitoring URL as another argument",
                terminal(peer),
                if tried.is_empty() {
                    "nothing: no address known".to_string()
                } else {
                    terminal(&tried.join(", ")).into_owned()
                }
            );
        }
        servers.extend(d.found);
    }
    let targets = collect::plan(servers, &wanted);
    for t in &targets {
        let skipped = if t.skipped.is_empty() {
            String::new()
        } else {
            format!(" (release too old for: {})", t.skipped.join(", "))
        };
        eprintln!(
            "coroner: polling {} {} v{}: {}{skipped}",
            terminal(&t.info.name),
            terminal(&t.info.url),
            terminal(&t.info.version),
            t.endpoints
                .iter()
                .map(|e| e.name)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    let stop = collect::Stop::new();
    {
        let stop = stop.clone();
        let mut pressed = false;
        ctrlc::set_handler(move || {
            if pressed {
                eprintln!("\ncoroner: finishing the bundle (at most one --timeout)...");
            }
            pressed = true;
            stop.request();
        })
        .context("cannot install the Ctrl-C handler")?;
    }
    let draw = Arc::new(Draw::new(
        a.quiet,
        targets.iter().map(|t| t.info.name.clone()).collect(),
    ));
    let progress: Arc<dyn Progress> = draw.clone();
    let opts = collect::CollectOptions {
        every,
        until,
        out: a.out.clone(),
        logs,
    };
    let summary = collect::run(&client, &targets, &opts, &stop, &progress)?;
    draw.finish();
    let mut answered = 0;
    let mut failed = 0;
    let mut bytes = 0;
    for (_, _, c) in &summary.fetches {
        answered += c.answered;
        failed += c.failed;
        bytes += c.bytes;
    }
    eprintln!(
        "coroner: {} after {:.0}s ({}): {answered} answers, {failed} failed fetches, {:.1} MB of metrics, {} log file(s)",
        summary.out.display(),
        summary.elapsed.as_secs_f64(),
        summary.ended_by,
        bytes as f64 / 1e6,
        summary.logs.len()
    );
    let mut code = Exit::Success;
    for l in &summary.logs {
        match &l.error {
            Some(e) => {
                eprintln!(
                    "coroner: warning: {}: {} (copied {} bytes)",
                    l.source.display(),
                    terminal(e),
                    l.bytes
                );
                code = Exit::Error;
            }
            None => eprintln!(
                "coroner: {} → {}: {} bytes{}{}",
                l.source.display(),
                l.name,
                l.bytes,
                if l.rotations > 0 {
                    format!(", {} rotation(s)", l.rotations)
                } else {
                    String::new()
                },
                if l.unfinished > 0 {
                    format!(
                        ", an unfinished last line ({} bytes) left out",
                        l.unfinished
                    )
                } else {
                    String::new()
                }
            ),
        }
    }
    eprintln!("coroner: next: coroner analyze {}", summary.out.display());
    Ok(code)
}

#[derive(Default)]
struct ServerState {
    answered: u64,
    failed: u64,
    last_error: Option<String>,
}

/// Draws progress on stderr: a live line on a terminal, a line every 10 s otherwise.
struct Draw {
    start: Instant,
    servers: Mutex<BTreeMap<String, ServerState>>,
    order: Vec<String>,
    bar: Option<indicatif::ProgressBar>,
    last_plain: Mutex<Instant>,
    quiet: bool,
}

impl Draw {
    fn new(quiet: bool, order: Vec<String>) -> Draw {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.enable_steady_tick(Duration::from_millis(250));
            b
        });
        Draw {
            start: Instant::now(),
            servers: Mutex::new(BTreeMap::new()),
            order,
            bar,
            last_plain: Mutex::new(Instant::now()),
            quiet,
        }
    }

    fn line(&self) -> String {
        let s = self.servers.lock().unwrap_or_else(|e| e.into_inner());
        let mut parts = vec![format!("{:>5.0}s", self.start.elapsed().as_secs_f64())];
        for name in &self.order {
            let st = s.get(name);
            let (ok, bad) = st.map_or((0, 0), |x| (x.answered, x.failed));
            let mut p = format!("{}: {ok} ok", terminal(name));
            if bad > 0 {
                p.push_str(&format!(", {bad} failed"));
                if let Some(e) = st.and_then(|x| x.last_error.as_deref()) {
                    p.push_str(&format!(" ({})", terminal(e)));
                }
            }
            parts.push(p);
        }
        parts.join("  ")
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Progress for Draw {
    fn fetched(&self, server: &str, _endpoint: &str, _elapsed_ms: f64, outcome: &Outcome) {
        {
            let mut s = self.servers.lock().unwrap_or_else(|e| e.into_inner());
            let st = s.entry(server.to_string()).or_default();
            match outcome {
                Outcome::Answered { .. } => {
                    st.answered += 1;
                    st.last_error = None;
                }
                Outcome::Failed { error } => {
                    st.failed += 1;
                    st.last_error = Some(error.chars().take(60).collect());
                }
            }
        }
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(b) => b.set_message(self.line()),
            None => {
                let mut last = self.last_plain.lock().unwrap_or_else(|e| e.into_inner());
                if last.elapsed() >= Duration::from_secs(10) {
                    *last = Instant::now();
                    eprintln!("coroner: {}", self.line());
                }
            }
        }
    }

    fn note(&self, message: &str) {
        let m = format!("coroner: {}", terminal(message));
        match &self.bar {
            Some(b) => b.println(m),
            None => eprintln!("{m}"),
        }
    }
}

/// Quiet progress for a collection running under `watch`: only notes.
struct Notes;

impl Progress for Notes {
    fn fetched(&self, _server: &str, _endpoint: &str, _elapsed_ms: f64, _outcome: &Outcome) {}
    fn note(&self, message: &str) {
        eprintln!("coroner: collect: {}", terminal(message));
    }
}

/// Starts collecting from `urls` (discovering the cluster from one URL) into
/// `out` on a thread of its own, with the default endpoints and timeout
/// (auth from CORONER_TOKEN / CORONER_PASSWORD with CORONER_USER), until
/// `stop` is requested: `coroner watch --collect`.
pub fn start_background(
    urls: &[String],
    out: &std::path::Path,
    every: Duration,
    stop: &Arc<collect::Stop>,
) -> Result<std::thread::JoinHandle<Result<()>>> {
    let auth = match (
        std::env::var("CORONER_USER").ok().filter(|u| !u.is_empty()),
        std::env::var("CORONER_TOKEN")
            .ok()
            .filter(|t| !t.is_empty()),
    ) {
        (Some(user), _) => Auth::Basic {
            user,
            password: std::env::var("CORONER_PASSWORD").unwrap_or_default(),
        },
        (None, Some(t)) => Auth::Token(t),
        (None, None) => Auth::None,
    };
    let client = collect::Client::new(&HttpOptions {
        timeout: (every * 4 / 5).min(Duration::from_secs(5)),
        auth,
        ca_file: None,
        max_body: 64 << 20,
    })?;
    let wanted = collect::endpoints(collect::ENDPOINTS, 32)?;
    let mut servers = Vec::new();
    for u in urls {
        servers.push(collect::discover::probe(&client, u)?);
    }
    if urls.len() == 1 {
        let d = collect::discover::discover(&client, &servers[0]);
        for (peer, _) in &d.missing {
            eprintln!(
                "coroner: warning: route peer {} not reached; give its monitoring URL as another --collect",
                terminal(peer)
            );
        }
        servers.extend(d.found);
    }
    let targets = collect::plan(servers, &wanted);
    for t in &targets {
        eprintln!(
            "coroner: collecting {} {} v{}",
            terminal(&t.info.name),
            terminal(&t.info.url),
            terminal(&t.info.version)
        );
    }
    let opts = collect::CollectOptions {
        every,
        // Until `watch` ends it.
        until: Until::Duration(Duration::from_secs(365 * 24 * 3600)),
        out: out.to_path_buf(),
        logs: Vec::new(),
    };
    let stop = stop.clone();
    Ok(std::thread::spawn(move || {
        let progress: Arc<dyn Progress> = Arc::new(Notes);
        collect::run(&client, &targets, &opts, &stop, &progress)?;
        Ok(())
    }))
}
