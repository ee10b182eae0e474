//! Metric dumps → [`Sample`]s: NATS monitoring JSON snapshots (`/varz`,
//! `/jsz`, `/healthz`, `/routez`, `/connz`, bare, wrapped with a fetch time, or
//! in the `$SYS` envelope of audit archives), Prometheus text exposition and
//! CSV (long `ts,node,metric,value` or wide `ts,node,col,...`).
//!
//! Parsers read a stream, never panic, and count every line they cannot use
//! (with its line number and a reason) in the [`MetricFileReport`].
//!
//! Metric names are canonical where the source has an obvious meaning (see
//! [`crate::metrics`] for the table); everything else keeps its source name
//! (Prometheus) or becomes `csv_<column>` (CSV).

mod json;
mod names;
mod prom;
mod table;

pub use names::{JSZ_FIELDS, VARZ_FIELDS, canonical_prom};

use crate::model::Timestamp;
use std::collections::HashMap;
use std::sync::Arc;

/// One observation of one metric on one node: 24 bytes. What it measures
/// (node, metric, labels) is a [`SampleKey`] shared by the samples of one
/// series of a file, so a dump of millions of samples holds each name once.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub ts: Timestamp,
    pub value: f64,
    key: Arc<SampleKey>,
}

/// What a sample measures.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SampleKey {
    /// The node (server name) it was attributed to; `None` when nothing told.
    pub node: Option<Arc<str>>,
    /// Canonical name (`cpu`, `js_api_total`, ...) or the source's own name.
    pub metric: Arc<str>,
    /// Extra dimensions. Two reserved keys: `endpoint` (which monitoring
    /// endpoint produced it, used to prefer one source when two give the same
    /// metric) and `server_id` (an id not yet mapped to a server name: the
    /// metric set maps it using the names seen elsewhere).
    pub labels: Labels,
}

/// A label set, shared by the samples of a file that carry it.
pub type Labels = Arc<[(Arc<str>, Arc<str>)]>;

impl Sample {
    /// A sample with a key of its own (parsers share keys through their context).
    pub fn new(
        ts: Timestamp,
        node: Option<Arc<str>>,
        metric: Arc<str>,
        value: f64,
        labels: Labels,
    ) -> Sample {
        Sample {
            ts,
            value,
            key: Arc::new(SampleKey {
                node,
                metric,
                labels,
            }),
        }
    }

    pub fn node(&self) -> Option<&Arc<str>> {
        self.key.node.as_ref()
    }

    pub fn metric(&self) -> &Arc<str> {
        &self.key.metric
    }

    pub fn labels(&self) -> &Labels {
        &self.key.labels
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.key
            .labels
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| &**v)
    }
}

/// Attributes every sample to `node` (a dump whose body names no server,
/// beside dumps that name one); samples of one key keep sharing one.
pub fn set_node(samples: &mut [Sample], node: &Arc<str>) {
    // old key (kept alive, so its address stays its own) → new key
    let mut done: HashMap<usize, (Arc<SampleKey>, Arc<SampleKey>)> = HashMap::new();
    for s in samples {
        let old = Arc::as_ptr(&s.key) as usize;
        let (_, new) = done.entry(old).or_insert_with(|| {
            let k = Arc::new(SampleKey {
                node: Some(node.clone()),
                metric: s.key.metric.clone(),
                labels: s.key.labels.clone(),
            });
            (s.key.clone(), k)
        });
        s.key = new.clone();
    }
}

/// Which kind of metric dump a file holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum MetricFormat {
    /// NATS monitoring JSON: one or many snapshots (JSON lines, pretty-printed
    /// and concatenated, arrays), bare, wrapped (`{fetched_at, body|error}`) or
    /// in the `$SYS` envelope (`{server, data}`).
    JsonSnapshots,
    /// Prometheus text exposition, one or many scrapes.
    Prometheus,
    /// CSV with a header: long (`ts,node,metric,value`) or wide.
    Csv,
}

impl MetricFormat {
    pub fn name(self) -> &'static str {
        match self {
            MetricFormat::JsonSnapshots => "json",
            MetricFormat::Prometheus => "prometheus",
            MetricFormat::Csv => "csv",
        }
    }
}

/// What parsing one file produced.
#[derive(Clone, Debug, Default)]
pub struct MetricFileReport {
    pub samples: Vec<Sample>,
    /// Physical lines read.
    pub lines_read: u64,
    /// Lines that contributed to at least one sample or were valid but empty
    /// of data (comments, headers, NaN values).
    pub lines_parsed: u64,
    /// `(1-based line, reason)` for every record that could not be used.
    pub unparsed: Vec<(u64, String)>,
    /// The node the file was attributed to (the last one seen), if any.
    pub node: Option<Arc<str>>,
    /// A node was named by the content (`server_name`, the `$SYS` envelope),
    /// not only by the path.
    pub named_by_content: bool,
    /// Some body named no server (its node, if any, came from the path).
    pub unnamed_bodies: bool,
    /// Records whose body names no server while the path names no node
    /// either, as (first line, lines): their samples have no node yet.
    /// Ingestion attributes them from the dumps beside the file, or counts
    /// them unparsed.
    pub unnamed: Vec<(u64, u64)>,
}

/// Why an unnamed record (see [`MetricFileReport::unnamed`]) stays unparsed.
pub const UNNAMED_REASON: &str = "snapshot names no server (no server_name/server_id), and neither its path nor the dumps beside it give a node";

/// Content sniffing: given the first few KB of a file (and its display name),
/// is it a metric dump, and which kind?
pub fn sniff(name: &str, head: &[u8]) -> Option<MetricFormat> {
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let lname = base_name(name).to_ascii_lowercase();
    if trimmed.is_empty()
        && endpoint_from_name(&lname).is_some()
        && time_from_name(base_name(name)).is_some()
    {
        // A snapshot saved empty: a failed fetch (see json::parse).
        return Some(MetricFormat::JsonSnapshots);
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        const MARKERS: &[&str] = &[
            "\"server_id\"",
            "\"server_name\"",
            "\"fetched_at\"",
            "\"meta_cluster\"",
            "\"num_routes\"",
            "\"num_connections\"",
            "\"quorum_needed\"",
        ];
        // A JSON value in a file named after an endpoint (`jsz-2026...json`) is
        // that endpoint's dump whatever its key order: the markers may lie past
        // the head of a pretty-printed body with sorted keys.
        let marked = MARKERS.iter().any(|m| trimmed.contains(m))
            || endpoint_from_name(&lname).is_some()
            || (trimmed.contains("\"server\"") && trimmed.contains("\"data\""))
            || (trimmed.contains("\"pending\"") && endpoint_from_name(&lname) == Some("ipqueuesz"))
            || (trimmed.contains("\"status\"")
                && (endpoint_from_name(&lname).is_some() || trimmed.len() < 400));
        return marked.then_some(MetricFormat::JsonSnapshots);
    }
    let mut lines = trimmed.lines().filter(|l| !l.trim().is_empty());
    if let Some(first) = lines.next()
        && table::looks_like_header(first)
    {
        return Some(MetricFormat::Csv);
    }
    // Prometheus: `# TYPE`/`# HELP` lines, or sample lines only.
    let mut samples = 0;
    let mut others = 0;
    for line in trimmed.lines().take(64) {
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        if l.starts_with("# TYPE ") || l.starts_with("# HELP ") {
            samples += 2;
        } else if l.starts_with('#') {
            continue;
        } else if prom::parse_line(l).is_ok() {
            samples += 1;
        } else {
            others += 1;
        }
    }
    (samples >= 2 && samples > others * 4).then_some(MetricFormat::Prometheus)
}

/// Whether a JSON dump says when it was taken: a `now`, a fetch time
/// (`fetched_at`), an envelope's server `time`, or a time in its file or
/// folder name. A dump that does not is a paste (`curl .../raftz` copied
/// into an issue, often cut): a sample needs a time, so ingestion reads it
/// as records instead (`parse::log::cli::dump`). `head` is the file's start
/// (the markers come first in every endpoint's body).
pub fn dated(name: &str, head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    if ["\"now\"", "\"fetched_at\"", "\"time\""]
        .iter()
        .any(|k| text.contains(k))
    {
        return true;
    }
    time_from_name(base_name(name)).is_some()
        || name
            .split(['/', '\\', '!'])
            .rev()
            .skip(1)
            .any(|f| time_from_name(f).is_some())
        || text.trim().is_empty()
}

/// Parses one file read as a stream. `name` is the display path (may be
/// `bundle.tgz!n2/varz.json`), `node_hint` the node the ingestion layer
/// attributed from the path (may be `None`).
pub fn parse(
    format: MetricFormat,
    name: &str,
    node_hint: Option<&str>,
    reader: &mut dyn std::io::BufRead,
) -> MetricFileReport {
    parse_with_limit(format, name, node_hint, reader, DEFAULT_MAX_LINE)
}

/// Lines longer than this are cut by default (as log lines are).
pub const DEFAULT_MAX_LINE: usize = 1 << 20;

/// Like [`parse`], cutting lines (JSON and Prometheus text) longer than
/// `max_line` bytes: such a line is counted as unparsed, never held whole.
pub fn parse_with_limit(
    format: MetricFormat,
    name: &str,
    node_hint: Option<&str>,
    reader: &mut dyn std::io::BufRead,
    max_line: usize,
) -> MetricFileReport {
    let mut cx = Ctx::new(name, node_hint);
    cx.max_line = max_line.max(1);
    match format {
        MetricFormat::JsonSnapshots => json::parse(&mut cx, reader),
        MetricFormat::Prometheus => prom::parse(&mut cx, reader),
        MetricFormat::Csv => table::parse(&mut cx, reader),
    }
    cx.report
}

/// Reads one line into `raw` (with its `\n`), keeping at most `max` bytes and
/// skipping the rest of a longer line without holding it. `Ok(None)` at the
/// end; `Ok(Some(true))` for a cut line.
fn read_line_bounded(
    reader: &mut dyn std::io::BufRead,
    raw: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<bool>> {
    let mut any = false;
    let mut cut = false;
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(any.then_some(cut));
        }
        any = true;
        let room = max.saturating_sub(raw.len());
        let (take, done) = match memchr::memchr(b'\n', buf) {
            Some(p) => (p + 1, true),
            None => (buf.len(), false),
        };
        if take > room {
            cut = true;
        }
        raw.extend_from_slice(&buf[..take.min(room)]);
        reader.consume(take);
        if done {
            return Ok(Some(cut));
        }
    }
}

/// Shared state of one file's parse: interned names, the report being filled.
pub(crate) struct Ctx {
    pub name: String,
    pub node_hint: Option<Arc<str>>,
    /// Time found in the file name, if any.
    pub name_time: Option<Timestamp>,
    /// Monitoring endpoint suggested by the file name (`varz`, ...).
    pub name_endpoint: Option<&'static str>,
    pub report: MetricFileReport,
    /// Longest line kept (longer ones are skipped and counted as unparsed).
    pub max_line: usize,
    /// The record being handled: (first line, lines).
    pub current_record: (u64, u64),
    strings: HashMap<Box<str>, Arc<str>>,
    label_sets: std::collections::HashSet<Labels>,
    /// Keys by the addresses of their (interned) parts; each entry holds its
    /// parts, so an address is never reused for other text while it is here.
    keys: HashMap<(usize, usize, usize), Arc<SampleKey>>,
}

impl Ctx {
    fn new(name: &str, node_hint: Option<&str>) -> Ctx {
        let base = base_name(name).to_ascii_lowercase();
        Ctx {
            name: name.to_string(),
            node_hint: node_hint.filter(|h| !h.is_empty()).map(Arc::from),
            // The file's name, else the nearest folder named by a time
            // (`2026-11-26T17-03-13Z/healthz.json`).
            name_time: time_from_name(base_name(name)).or_else(|| {
                name.split(['/', '\\', '!'])
                    .rev()
                    .skip(1)
                    .find_map(time_from_name)
            }),
            name_endpoint: endpoint_from_name(&base),
            report: MetricFileReport::default(),
            max_line: DEFAULT_MAX_LINE,
            current_record: (0, 0),
            strings: HashMap::new(),
            label_sets: Default::default(),
            keys: HashMap::new(),
        }
    }

    /// An interned `Arc<str>`: every sample of a file shares its names.
    pub fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.strings.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.strings.insert(s.into(), a.clone());
        a
    }

    /// Reads the next line into `raw` (with its `\n`) and counts it; false
    /// at the end or on a read error (recorded as unparsed). A line longer
    /// than `max_line` is skipped without being held, counted as unparsed.
    pub fn next_line(
        &mut self,
        reader: &mut dyn std::io::BufRead,
        raw: &mut Vec<u8>,
        line_no: &mut u64,
    ) -> bool {
        loop {
            raw.clear();
            match read_line_bounded(reader, raw, self.max_line) {
                Ok(None) => return false,
                Ok(Some(cut)) => {
                    *line_no += 1;
                    self.report.lines_read += 1;
                    if !cut {
                        return true;
                    }
                    let max = self.max_line;
                    self.unparsed(
                        *line_no,
                        format!("line longer than {max} bytes (--max-line): skipped"),
                    );
                }
                Err(e) => {
                    self.unparsed(*line_no + 1, format!("read error: {e}"));
                    return false;
                }
            }
        }
    }

    pub fn unparsed(&mut self, line: u64, reason: impl Into<String>) {
        self.report.unparsed.push((line, reason.into()));
    }

    pub fn push(
        &mut self,
        ts: Timestamp,
        node: &Option<Arc<str>>,
        metric: &str,
        value: f64,
        labels: &[(Arc<str>, Arc<str>)],
    ) {
        if !value.is_finite() {
            return;
        }
        let metric = self.intern(metric);
        // Interned, so equal names share an address (a parser may make a
        // node name per snapshot).
        let node = node.as_deref().map(|n| self.intern(n));
        let labels = match self.label_sets.get(labels) {
            Some(l) => l.clone(),
            None => {
                let l: Labels = labels.into();
                self.label_sets.insert(l.clone());
                l
            }
        };
        let addr = |a: Option<&Arc<str>>| a.map_or(0, |a| Arc::as_ptr(a) as *const u8 as usize);
        let at = (
            addr(node.as_ref()),
            addr(Some(&metric)),
            Arc::as_ptr(&labels) as *const u8 as usize,
        );
        let key = self
            .keys
            .entry(at)
            .or_insert_with(|| {
                Arc::new(SampleKey {
                    node,
                    metric,
                    labels,
                })
            })
            .clone();
        self.report.samples.push(Sample { ts, value, key });
    }

    pub fn set_node(&mut self, node: &Option<Arc<str>>) {
        if node.is_some() {
            self.report.node = node.clone();
        }
    }
}

/// The last path component of a display name (after `!` and `/`).
pub fn base_name(name: &str) -> &str {
    let n = name.rsplit('!').next().unwrap_or(name);
    n.rsplit(['/', '\\']).next().unwrap_or(n)
}

/// `varz`, `jsz`, `healthz`, `routez`, `connz` if the file name says so
/// (also the audit-archive artifact names `variables`, `jetstream_info`, ...).
pub fn endpoint_from_name(lower_name: &str) -> Option<&'static str> {
    const NAMES: &[(&str, &str)] = &[
        ("healthz", "healthz"),
        ("varz", "varz"),
        ("jsz", "jsz"),
        ("routez", "routez"),
        ("connz", "connz"),
        ("raftz", "raftz"),
        ("ipqueuesz", "ipqueuesz"),
        ("health", "healthz"),
        ("variables", "varz"),
        ("jetstream_info", "jsz"),
        ("routes", "routez"),
        ("connections", "connz"),
    ];
    NAMES
        .iter()
        .find(|(k, _)| lower_name.contains(k))
        .map(|(_, v)| *v)
}

/// A time written in a file name: `20261124T190004Z`, `2026-11-24T19:00:04Z`,
/// `2026-11-24T19-00-04`, `2026-11-24_190004`, or a 10-digit Unix time.
pub fn time_from_name(base: &str) -> Option<Timestamp> {
    use std::sync::OnceLock;
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    static EPOCH: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"(\d{4})-?(\d{2})-?(\d{2})[T_ -]?(\d{2})[:\-_]?(\d{2})[:\-_]?(\d{2})(?:[.,](\d{1,9}))?",
        )
        .expect("static regex")
    });
    if let Some(c) = re.captures(base) {
        let n = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
        let frac = c
            .get(7)
            .map(|m| {
                let s = m.as_str();
                s.parse::<u32>().unwrap_or(0) * 10u32.pow(9 - s.len() as u32)
            })
            .unwrap_or(0);
        if let Some(t) =
            Timestamp::from_utc_parts(n(1)? as i32, n(2)?, n(3)?, n(4)?, n(5)?, n(6)?, frac)
        {
            return Some(t);
        }
    }
    let epoch =
        EPOCH.get_or_init(|| regex::Regex::new(r"(?:^|\D)(1\d{9})(?:\D|$)").expect("static regex"));
    let c = epoch.captures(base)?;
    let s: i64 = c.get(1)?.as_str().parse().ok()?;
    Some(Timestamp(s * 1_000_000_000))
}

/// Parses a time value found in a data file: RFC 3339, `YYYY-MM-DD HH:MM:SS`
/// (UTC), or a Unix time in s / ms / µs / ns (chosen by magnitude).
pub fn parse_time(s: &str) -> Option<Timestamp> {
    let s = s.trim().trim_matches('"');
    if s.is_empty() {
        return None;
    }
    if let Some(t) = Timestamp::parse_rfc3339(s) {
        return Some(t);
    }
    if let Ok(x) = s.parse::<f64>() {
        if !x.is_finite() || x <= 0.0 {
            return None;
        }
        let ns = if x < 1e11 {
            x * 1e9
        } else if x < 1e14 {
            x * 1e6
        } else if x < 1e17 {
            x * 1e3
        } else {
            x
        };
        return Some(Timestamp(ns as i64));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S%.f",
    ] {
        if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return dt.and_utc().timestamp_nanos_opt().map(Timestamp);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_times() {
        let t = time_from_name("varz-20261124T190004Z.json").unwrap();
        assert_eq!(t.rfc3339(), "2026-11-24T19:00:04.000000Z");
        let t = time_from_name("n1_2026-11-24T19-00-04.json").unwrap();
        assert_eq!(t.rfc3339(), "2026-11-24T19:00:04.000000Z");
        let t = time_from_name("varz.1795633204.json").unwrap();
        assert_eq!(t.0 / 1_000_000_000, 1795633204);
        assert!(time_from_name("varz.json").is_none());
        assert!(time_from_name("n1.varz.jsonl").is_none());
    }

    #[test]
    fn dumps_that_say_when_they_were_taken() {
        assert!(dated(
            "n1.varz.json",
            br#"{"server_id":"x","now":"2026-01-01T00:00:00Z"}"#
        ));
        assert!(dated(
            "b/n1.raftz.jsonl",
            br#"{"fetched_at":"2026-01-01T00:00:00Z","body":{}}"#
        ));
        assert!(dated("2026-11-26T17-03-13Z/raftz.json", br#"{"$SYS":{}}"#));
        assert!(dated("raftz-20261204T152610Z.json", br#"{"$SYS":{}}"#));
        assert!(!dated(
            "nats-0.raftz_meta.json.truncated",
            br#"{"$SYS":{"_meta_":{"state":"FOLLOWER""#
        ));
        assert!(!dated("healthz.txt", br#"{"status":"ok"}"#));
    }

    #[test]
    fn data_times() {
        let a = parse_time("2026-11-24T19:00:04.5Z").unwrap();
        assert_eq!(parse_time("2026-11-24 19:00:04.5"), Some(a));
        assert_eq!(
            parse_time("1795633204.5"),
            Some(Timestamp(1_795_633_204_500_000_000))
        );
        assert_eq!(
            parse_time("1795633204500"),
            Some(Timestamp(1_795_633_204_500_000_000))
        );
        assert!(parse_time("yesterday").is_none());
    }
}
