//! `coroner collect`: polls the monitoring endpoints of a live cluster into
//! the bundle layout `analyze` reads, and copies growing log files beside it.
//!
//! Layout (a directory, or the same inside one `.tar.gz`):
//!
//! ```text
//! metrics/<node>.<endpoint>.jsonl   one line per fetch:
//!     {"fetched_at": RFC 3339, "elapsed_ms": f, "http_status": n, "body": <the answer>}
//!     {"fetched_at": RFC 3339, "elapsed_ms": f, "server_name": "...", "error": "timeout after 800ms"}
//! <node>.log                        each --logs file, copied as it grows
//! ```
//!
//! Scheduling: one thread per (server, endpoint), each fetching on the same
//! grid (`start + k * every`) with a per-request timeout shorter than the
//! interval, so a frozen server shows up as a line of timeouts per tick and
//! never delays another server's samples; a tick missed by a slow answer is
//! skipped, not queued. Every line is written whole by its thread with one
//! `write_all`; stopping (end of the duration, [`Stop::request`] from a
//! Ctrl-C handler, the health watch) lets each thread finish its fetch and
//! line, so the bundle never ends in a half-written line. Memory is one
//! answer per thread (at most `max_body`) and a fixed copy buffer per log.
//!
//! No printing here: progress goes through the [`Progress`] trait.

pub mod bundle;
pub mod discover;
pub mod http;
pub mod watch;

pub use discover::{ServerInfo, normalize_url};
pub use http::{Auth, Client, HttpOptions};

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Why `collect` could not start or finish. Each names the URL or file and
/// says what to try.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("{url}: {message} (hint: {hint})")]
    Unreachable {
        url: String,
        message: String,
        hint: &'static str,
    },
    #[error("{url}: HTTP {status} (hint: {hint})")]
    Http {
        url: String,
        status: u16,
        hint: &'static str,
    },
    #[error(
        "{url}: {message} (hint: give the monitoring base URL of a nats-server, e.g. http://host:8222)"
    )]
    NotMonitoring { url: String, message: String },
    #[error("cannot read the CA file {}: {message} (hint: a PEM file with the CA certificate)", path.display())]
    CaFile { path: PathBuf, message: String },
    #[error("{}: {source} (hint: {hint})", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
        hint: &'static str,
    },
    #[error("{0}")]
    Options(String),
    #[error("{}: {message} (hint: check the log file path)", path.display())]
    Log { path: PathBuf, message: String },
}

impl CollectError {
    pub(crate) fn io(path: &Path, source: std::io::Error, hint: &'static str) -> CollectError {
        CollectError::Io {
            path: path.to_path_buf(),
            source,
            hint,
        }
    }
}

/// A monitoring endpoint polled on every server that has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The name in the bundle's file names (`varz`, `connz`, ...).
    pub name: &'static str,
    /// Path and query (`/connz?sort=pending&limit=32`).
    pub path: String,
    /// First nats-server release that serves it over HTTP.
    pub since: (u32, u32, u32),
}

/// Endpoint names `--endpoints` accepts, in the order they are listed.
pub const ENDPOINTS: &[&str] = &[
    "varz",
    "jsz",
    "healthz",
    "routez",
    "raftz",
    "ipqueuesz",
    "connz",
];

/// The endpoints called `names` (see [`ENDPOINTS`]); `connz` is sorted by
/// pending bytes and limited to `connz_limit` connections.
pub fn endpoints(names: &[&str], connz_limit: usize) -> Result<Vec<Endpoint>, CollectError> {
    let mut out = Vec::new();
    for n in names {
        let (name, path, since) = match *n {
            "varz" => ("varz", "/varz".to_string(), (0, 0, 0)),
            "jsz" => ("jsz", "/jsz".to_string(), (2, 2, 0)),
            "healthz" => ("healthz", "/healthz".to_string(), (2, 0, 0)),
            "routez" => ("routez", "/routez".to_string(), (0, 0, 0)),
            // /raftz over HTTP since 2.10.17, /ipqueuesz since 2.8.0 (NATS-CATALOG).
            "raftz" => ("raftz", "/raftz".to_string(), (2, 10, 17)),
            "ipqueuesz" => ("ipqueuesz", "/ipqueuesz?all=1".to_string(), (2, 8, 0)),
            "connz" => (
                "connz",
                format!("/connz?sort=pending&limit={connz_limit}"),
                (0, 0, 0),
            ),
            other => {
                return Err(CollectError::Options(format!(
                    "unknown endpoint `{other}`; known: {}",
                    ENDPOINTS.join(", ")
                )));
            }
        };
        if !out.iter().any(|e: &Endpoint| e.name == name) {
            out.push(Endpoint { name, path, since });
        }
    }
    Ok(out)
}

/// `2.10.26`, `v2.11.0-RC.1` → (2, 10, 26), (2, 11, 0).
pub fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let v = v.trim().trim_start_matches('v');
    let mut it = v.split(|c: char| !c.is_ascii_digit());
    Some((
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next().and_then(|x| x.parse().ok()).unwrap_or(0),
    ))
}

/// A server to poll, with the endpoints its release serves.
#[derive(Clone, Debug)]
pub struct Target {
    pub info: ServerInfo,
    /// File-name-safe node name (`server_name` with `/`, spaces, ... replaced).
    pub stem: String,
    pub endpoints: Vec<Endpoint>,
    /// Endpoints left out because the release predates them.
    pub skipped: Vec<&'static str>,
}

/// `server_name` → a file stem `analyze` reads back as the same node: the
/// characters of the name up to the first `.` must survive, so anything
/// outside `[A-Za-z0-9_-]` becomes `_`.
pub fn file_stem(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "server".into() } else { s }
}

/// The servers to poll from their `/varz`, each with the endpoints its
/// release has; duplicates (same `server_id`) are dropped, stems made unique.
pub fn plan(servers: Vec<ServerInfo>, wanted: &[Endpoint]) -> Vec<Target> {
    let mut out: Vec<Target> = Vec::new();
    for info in servers {
        if out.iter().any(|t| t.info.id == info.id) {
            continue;
        }
        let version = parse_version(&info.version);
        let (endpoints, skipped): (Vec<&Endpoint>, Vec<&Endpoint>) = wanted
            .iter()
            .partition(|e| version.is_none_or(|v| v >= e.since));
        let base = file_stem(&info.name);
        let mut stem = base.clone();
        let mut k = 2;
        while out.iter().any(|t| t.stem == stem) {
            stem = format!("{base}-{k}");
            k += 1;
        }
        out.push(Target {
            stem,
            endpoints: endpoints.into_iter().cloned().collect(),
            skipped: skipped.into_iter().map(|e| e.name).collect(),
            info,
        });
    }
    out
}

/// A stop request shared by the fetch threads, the coordinator and a signal handler.
#[derive(Debug, Default)]
pub struct Stop {
    flag: Mutex<bool>,
    cv: Condvar,
}

impl Stop {
    pub fn new() -> Arc<Stop> {
        Arc::new(Stop::default())
    }

    pub fn request(&self) {
        let mut f = self.flag.lock().unwrap_or_else(|e| e.into_inner());
        *f = true;
        self.cv.notify_all();
    }

    pub fn is_requested(&self) -> bool {
        *self.flag.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sleeps until `t`; true when a stop was requested (then it returns at once).
    pub fn wait_until(&self, t: Instant) -> bool {
        let mut f = self.flag.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if *f {
                return true;
            }
            let now = Instant::now();
            if now >= t {
                return false;
            }
            f = self
                .cv
                .wait_timeout(f, t - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// What one fetch gave, for progress reports.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// An answer with a JSON body (any status: /healthz answers 503 when unhealthy).
    Answered { status: u16 },
    /// Timeout, refused connection, TLS error, an answer that is not JSON.
    Failed { error: String },
}

/// Progress reports; the binary draws them. Called from the fetch threads.
pub trait Progress: Send + Sync {
    fn fetched(&self, server: &str, endpoint: &str, elapsed_ms: f64, outcome: &Outcome);
    /// Something worth a line (a log rotated, an endpoint dropped, a health check).
    fn note(&self, message: &str);
}

/// A log file to copy: `source` as it grows → `<out>/<name>`.
#[derive(Clone, Debug, PartialEq)]
pub struct LogSpec {
    pub source: PathBuf,
    /// The node it belongs to when given (`--logs n2=PATH`); else read from
    /// the nats-server banner (`Name:`), else the file's name.
    pub node: Option<String>,
}

/// When collection ends.
#[derive(Clone, Debug, PartialEq)]
pub enum Until {
    /// After this long (or at a stop request).
    Duration(Duration),
    /// See [`watch::Watch`].
    Watch(watch::Watch),
}

#[derive(Clone, Debug)]
pub struct CollectOptions {
    pub every: Duration,
    pub until: Until,
    /// A directory, or a file name ending in `.tar.gz`/`.tgz`.
    pub out: PathBuf,
    pub logs: Vec<LogSpec>,
}

/// Per (server, endpoint) fetch counts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FetchCounts {
    pub answered: u64,
    pub failed: u64,
    /// Ticks skipped because the previous fetch was still running.
    pub skipped_ticks: u64,
    pub bytes: u64,
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct Summary {
    /// The bundle: the directory, or the .tar.gz.
    pub out: PathBuf,
    pub elapsed: Duration,
    /// `(node stem, endpoint, counts)`, in plan order.
    pub fetches: Vec<(String, &'static str, FetchCounts)>,
    pub logs: Vec<bundle::LogCopy>,
    /// Why it ended: `duration`, `stopped`, or the watch's reason.
    pub ended_by: String,
}

/// The bundle directory written during the run: `out` itself, or a
/// `<out>.partial` directory packed into `out` at the end.
pub fn staging_dir(out: &Path) -> PathBuf {
    if bundle::is_tar_gz(out) {
        let mut s = out.as_os_str().to_owned();
        s.push(".partial");
        PathBuf::from(s)
    } else {
        out.to_path_buf()
    }
}

/// Polls `targets` until the end condition or a stop request, then finishes
/// the bundle (and packs it when `out` names a .tar.gz).
pub fn run(
    client: &Client,
    targets: &[Target],
    opts: &CollectOptions,
    stop: &Arc<Stop>,
    progress: &Arc<dyn Progress>,
) -> Result<Summary, CollectError> {
    if targets.is_empty() {
        return Err(CollectError::Options("no server to poll".into()));
    }
    if client.timeout() >= opts.every {
        return Err(CollectError::Options(format!(
            "--timeout ({}ms) must be shorter than --every ({}ms): a slow answer would delay the next sample",
            client.timeout().as_millis(),
            opts.every.as_millis()
        )));
    }
    let dir = staging_dir(&opts.out);
    bundle::prepare_dir(&dir, &opts.out)?;
    let metrics = dir.join("metrics");
    std::fs::create_dir_all(&metrics)
        .map_err(|e| CollectError::io(&metrics, e, "check the permissions of -o"))?;
    // Open every output file first: a permission problem fails before polling.
    let mut jobs = Vec::new();
    for t in targets {
        for ep in &t.endpoints {
            let path = metrics.join(format!("{}.{}.jsonl", t.stem, ep.name));
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| CollectError::io(&path, e, "check the permissions of -o"))?;
            jobs.push(Job {
                path,
                server: t.info.name.clone(),
                stem: t.stem.clone(),
                url: format!("{}{}", t.info.url, ep.path),
                endpoint: ep.name,
                file,
            });
        }
    }
    let mut logs = bundle::LogFollowers::new(&dir, &opts.logs, progress.as_ref())?;
    let start = Instant::now();
    let end = match &opts.until {
        Until::Duration(d) => Some(start + *d),
        Until::Watch(w) => Some(start + w.max_duration),
    };
    let mut handles = Vec::new();
    for job in jobs {
        let client = client.clone();
        let stop = stop.clone();
        let progress = progress.clone();
        // /healthz at most once a second: nats-server logs every failing
        // probe, and a burst of those lines reads as a paused node
        // (resources.resumed-after-pause).
        let every = if job.endpoint == "healthz" {
            opts.every.max(Duration::from_secs(1))
        } else {
            opts.every
        };
        handles.push(std::thread::spawn(move || {
            job.run(&client, start, every, &stop, progress.as_ref())
        }));
    }
    let mut watcher = match &opts.until {
        Until::Watch(w) => Some(watch::Watcher::new(w.clone(), &dir)),
        Until::Duration(_) => None,
    };
    let tick = opts.every.min(Duration::from_secs(1));
    let mut ended_by = "stopped".to_string();
    let mut next = start + tick;
    loop {
        if stop.wait_until(next) {
            break;
        }
        next += tick;
        logs.poll(false, progress.as_ref());
        if end.is_some_and(|e| Instant::now() >= e) {
            ended_by = match &opts.until {
                Until::Duration(_) => "duration".into(),
                Until::Watch(_) => "--max-duration".into(),
            };
            break;
        }
        if let Some(w) = watcher.as_mut()
            && let Some(reason) = w.poll(start.elapsed(), progress.as_ref())
        {
            ended_by = reason;
            break;
        }
    }
    stop.request();
    let mut fetches = Vec::new();
    for h in handles {
        match h.join() {
            Ok(r) => fetches.push(r),
            Err(_) => {
                return Err(CollectError::Options(
                    "a fetch thread panicked; the bundle may be incomplete".into(),
                ));
            }
        }
    }
    logs.poll(true, progress.as_ref());
    let log_copies = logs.finish();
    let elapsed = start.elapsed();
    if let Some(w) = watcher {
        w.cleanup();
    }
    if bundle::is_tar_gz(&opts.out) {
        bundle::pack(&dir, &opts.out)?;
    }
    Ok(Summary {
        out: opts.out.clone(),
        elapsed,
        fetches,
        logs: log_copies,
        ended_by,
    })
}

struct Job {
    path: PathBuf,
    server: String,
    stem: String,
    url: String,
    endpoint: &'static str,
    file: File,
}

impl Job {
    fn run(
        mut self,
        client: &Client,
        start: Instant,
        every: Duration,
        stop: &Stop,
        progress: &dyn Progress,
    ) -> (String, &'static str, FetchCounts) {
        let mut counts = FetchCounts::default();
        let mut said_404 = false;
        let mut k: u64 = 0;
        let every_ns = every.as_nanos().max(1);
        loop {
            let due = start + every.saturating_mul(u32::try_from(k).unwrap_or(u32::MAX));
            if stop.wait_until(due) {
                break;
            }
            let fetched_at = chrono::Utc::now();
            let ans = client.get(&self.url);
            let elapsed_ms = (ans.elapsed.as_secs_f64() * 1e4).round() / 10.0;
            let (line, outcome) = record(&self.server, &fetched_at, elapsed_ms, &ans.result);
            if let Outcome::Failed { error } = &outcome
                && error.starts_with("HTTP 404")
            {
                // Not served (an old release; /raftz without Raft groups yet):
                // not a sign the node is down, so not recorded; asked again
                // next tick, since it may appear (JetStream coming up).
                if !said_404 {
                    progress.note(&format!(
                        "{}: {} answers 404; not recorded while it does",
                        self.server, self.url
                    ));
                    said_404 = true;
                }
                k = (start.elapsed().as_nanos() / every_ns) as u64 + 1;
                continue;
            }
            if let Err(e) = self.file.write_all(line.as_bytes()) {
                progress.note(&format!(
                    "{}.{}: cannot write: {e}; this endpoint stops",
                    self.stem, self.endpoint
                ));
                break;
            }
            counts.bytes += line.len() as u64;
            match &outcome {
                Outcome::Answered { .. } => counts.answered += 1,
                Outcome::Failed { .. } => counts.failed += 1,
            }
            progress.fetched(&self.server, self.endpoint, elapsed_ms, &outcome);
            let now_k = (start.elapsed().as_nanos() / every_ns) as u64 + 1;
            counts.skipped_ticks += now_k.saturating_sub(k + 1);
            k = now_k;
        }
        let _ = self.file.flush();
        if counts.answered + counts.failed == 0 {
            // Nothing was written: no empty file in the bundle.
            let _ = std::fs::remove_file(&self.path);
        }
        (self.stem, self.endpoint, counts)
    }
}

/// One bundle line (with its newline) for a fetch result. The keys come in
/// the order of the captures `analyze` was built on (`fetched_at` first: a
/// reader sniffing a file's first bytes sees at once what it is).
pub fn record(
    server: &str,
    fetched_at: &chrono::DateTime<chrono::Utc>,
    elapsed_ms: f64,
    result: &Result<(u16, Vec<u8>), String>,
) -> (String, Outcome) {
    use serde_json::Value;
    let q = |s: &str| Value::String(s.to_string()).to_string();
    let head = format!(
        "{{\"fetched_at\":{},\"elapsed_ms\":{}",
        q(&fetched_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        serde_json::json!(elapsed_ms)
    );
    let failed = |status: Option<u16>, error: String| {
        let status = status.map_or(String::new(), |s| format!(",\"http_status\":{s}"));
        (
            format!(
                "{head}{status},\"server_name\":{},\"error\":{}}}\n",
                q(server),
                q(&error)
            ),
            Outcome::Failed { error },
        )
    };
    // serde_json escapes every control character: one physical line.
    match result {
        Ok((status, body)) => match serde_json::from_slice::<Value>(body) {
            Ok(v @ Value::Object(_)) => (
                format!("{head},\"http_status\":{status},\"body\":{v}}}\n"),
                Outcome::Answered { status: *status },
            ),
            _ => {
                let text = String::from_utf8_lossy(&body[..body.len().min(160)]);
                failed(
                    Some(*status),
                    format!(
                        "HTTP {status}: answer is not a JSON object: {}",
                        text.trim()
                    ),
                )
            }
        },
        Err(e) => failed(None, e.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339("2026-11-24T19:00:01.5Z")
            .unwrap()
            .with_timezone(&chrono::Utc)
    }

    #[test]
    fn records_are_one_line_in_the_layout_analyze_reads() {
        let body = b"{\n  \"server_id\": \"X\",\n  \"server_name\": \"n1\",\n  \"now\": \"2026-11-24T19:00:01.6Z\"\n}".to_vec();
        let (line, o) = record("n1", &t0(), 1.25, &Ok((200, body)));
        assert_eq!(o, Outcome::Answered { status: 200 });
        assert_eq!(line.matches('\n').count(), 1);
        assert!(line.starts_with("{\"fetched_at\":\"2026-11-24T19:00:01.500Z\",\"elapsed_ms\":1.25,\"http_status\":200,\"body\":{"), "{line}");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["fetched_at"], "2026-11-24T19:00:01.500Z");
        assert_eq!(v["http_status"], 200);
        assert_eq!(v["body"]["server_name"], "n1");

        let (line, o) = record("n3", &t0(), 800.0, &Err("timeout after 800ms".into()));
        assert!(matches!(o, Outcome::Failed { .. }));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["error"], "timeout after 800ms");
        assert_eq!(v["server_name"], "n3");
        assert!(v.get("body").is_none());

        // A proxy's HTML error page: a failed fetch, the text escaped into one line.
        let (line, o) = record(
            "n2",
            &t0(),
            3.0,
            &Ok((502, b"<html>\nBad\x1b[31m gateway</html>".to_vec())),
        );
        assert!(matches!(o, Outcome::Failed { .. }));
        assert_eq!(line.matches('\n').count(), 1);
        assert!(!line.contains('\x1b'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["http_status"], 502);
        assert!(v["error"].as_str().unwrap().starts_with("HTTP 502"));
    }

    #[test]
    fn plan_picks_endpoints_by_release_and_unique_stems() {
        let wanted = endpoints(ENDPOINTS, 32).unwrap();
        let info = |id: &str, name: &str, v: &str| ServerInfo {
            url: format!("http://{id}:8222"),
            id: id.into(),
            name: name.into(),
            version: v.into(),
            cluster: None,
            http_port: None,
            cluster_port: None,
            route_urls: Vec::new(),
        };
        let p = plan(
            vec![
                info("A", "n1", "2.9.10"),
                info("B", "n 1", "2.10.26"),
                info("A", "n1", "2.9.10"),
                info("C", "n_1", "2.12.8"),
            ],
            &wanted,
        );
        assert_eq!(p.len(), 3, "the same server_id twice is polled once");
        assert_eq!(p[0].skipped, vec!["raftz"]);
        assert!(p[1].skipped.is_empty());
        let stems: Vec<&str> = p.iter().map(|t| t.stem.as_str()).collect();
        assert_eq!(stems, vec!["n1", "n_1", "n_1-2"]);
        assert!(
            p[0].endpoints
                .iter()
                .any(|e| e.path == "/connz?sort=pending&limit=32")
        );
        assert!(endpoints(&["varz", "bogus"], 1).is_err());
    }

    #[test]
    fn stop_wakes_a_waiting_thread() {
        let stop = Stop::new();
        let s2 = stop.clone();
        let h =
            std::thread::spawn(move || s2.wait_until(Instant::now() + Duration::from_secs(600)));
        stop.request();
        assert!(h.join().unwrap());
        assert!(stop.is_requested());
    }

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("2.10.26"), Some((2, 10, 26)));
        assert_eq!(parse_version("v2.11.0-RC.1"), Some((2, 11, 0)));
        assert_eq!(parse_version("dev"), None);
    }
}
