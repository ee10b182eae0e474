//! Inputs → attributed, classified, merged events (and metric samples), with
//! per-file accounting. The stage between `source`/`parse`/`classify` and the
//! engine.
//!
//! Files are read in parallel (rayon, one task per top-level input); every
//! line of a log is attributed to a node once the whole file was seen (a
//! banner may come after the first lines of a rotated file); the merged
//! stream is sorted by (time, node, file, line), so the result is the same for
//! any thread count and any order of inputs.

mod attribution;
mod chunks;
mod derive;
mod follow;
mod merge;
mod sink;
mod snapshots;

pub use attribution::Attribution;
pub use derive::derive_fields;
pub use follow::{Follower, Growth};

use crate::classify::Classifier;
use crate::model::{Event, Level, Node, Timestamp};
use crate::parse::log::{FileAccount, LogOptions};
use crate::source::{Input, Limits, SourceError, SourceMeta};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What to keep in memory besides counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Every event (for `events`).
    All,
    /// Only counts (for `stats`): memory stays bounded by the number of
    /// distinct templates, not the input size.
    Counts,
    /// Events at or above a level, events of `relevant_kinds`, and one
    /// event per node and second (so silences stay visible); the rest is
    /// only counted. Memory grows with what rules read, not with the input.
    Relevant(Level),
}

#[derive(Clone, Debug)]
pub struct IngestOptions {
    pub log: LogOptions,
    pub limits: Limits,
    /// `--node NAME=PATH`: files whose display path contains PATH belong to NAME.
    pub node_overrides: Vec<(String, String)>,
    pub keep: Keep,
    /// Kinds to keep under `Keep::Relevant` whatever their level (sorted).
    pub relevant_kinds: Vec<Arc<str>>,
    /// Told how reading goes (the binary draws a bar); the library never prints.
    pub progress: Option<ProgressSink>,
    /// Plain files at least this large are parsed in parallel chunks.
    pub chunk_min: u64,
    /// Under `Keep::Relevant`: events of one segment, kind, level and second
    /// with equal keys are kept once, with a repeat count.
    pub coalesce: Option<CoalescePolicy>,
    /// Keep the samples of metric dumps (the metric set is built from them);
    /// without, only their count and span are kept (`stats`).
    pub metric_samples: bool,
}

/// The key under which kept events of one (segment, kind, level, second) merge.
pub type CoalesceKey = Vec<Option<crate::model::Value>>;

/// Tells which kept events consumers cannot tell apart (the engine
/// implements it from the rules).
pub trait Coalesce: Send + Sync {
    fn key(&self, e: &Event) -> CoalesceKey;
    /// Whether `key(event made of line) == *key`, without making the event
    /// (the line's message is empty when [`Coalesce::reads_message`] is false,
    /// as the event's would be, and it matched its template).
    fn same_key(&self, line: &crate::model::LineView<'_>, key: &CoalesceKey) -> bool;
    /// Fields of `kind` whose distinct values consumers count: lines merged
    /// into one event keep the hashes of theirs.
    fn distinct_fields(&self, kind: &str) -> &[Arc<str>];
    /// Whether [`Coalesce::key`] reads the message text.
    fn reads_message(&self) -> bool;
    /// Whether any consumer reads this field of events of some kind (the
    /// connection prefix's fields are captured only then).
    fn keeps_field(&self, name: &str) -> bool;
    /// Whether any consumer reads field `name` of events of `kind`: under
    /// `Keep::Relevant` a kept event keeps only those fields, and fields
    /// derived after reading are added only where they are read.
    fn reads_field(&self, kind: &str, name: &str) -> bool;
}

/// Observes reading: the caller decides whether and how to show it.
pub trait Progress: Send + Sync {
    /// Reading starts: `files` inputs after walking directories, `bytes` their
    /// size on disk (stdin counts 0).
    fn start(&self, files: usize, bytes: u64);
    /// One more input was read completely.
    fn file_done(&self);
    /// Every input was read.
    fn finish(&self);
}

/// A shared [`Progress`] in the options.
#[derive(Clone)]
pub struct ProgressSink(pub Arc<dyn Progress>);

impl std::fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressSink")
    }
}

/// A shared [`Coalesce`] in the options.
#[derive(Clone)]
pub struct CoalescePolicy(pub Arc<dyn Coalesce>);

impl std::fmt::Debug for CoalescePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CoalescePolicy")
    }
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            log: LogOptions::default(),
            limits: Limits::default(),
            node_overrides: Vec::new(),
            keep: Keep::All,
            relevant_kinds: Vec::new(),
            progress: None,
            chunk_min: chunks::MIN_CHUNKED,
            coalesce: None,
            metric_samples: true,
        }
    }
}

/// What became of one leaf file.
#[derive(Clone, Debug)]
pub struct FileReport {
    pub display: Arc<str>,
    pub kind: FileKind,
    /// The node the file (most of its lines) was attributed to.
    pub node: Option<Node>,
    pub attribution: Attribution,
    pub account: FileAccount,
    pub compression: Vec<&'static str>,
    /// Lines per node when one file holds several (kubectl --prefix, syslog).
    pub nodes: BTreeMap<Node, u64>,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    Log,
    Metric,
}

/// Per-node counts gathered while reading.
#[derive(Clone, Debug, Default)]
pub struct NodeStats {
    pub files: Vec<Arc<str>>,
    pub records: u64,
    pub levels: [u64; 6],
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    /// template (kind or normalized text) → (count, level seen most, example location)
    pub templates: BTreeMap<Arc<str>, TemplateCount>,
    /// `Starting nats-server` banners.
    pub starts: u64,
    /// Server versions from the banners, in the order first seen, distinct.
    pub versions: Vec<String>,
    /// Warnings and errors per second (Unix seconds → (warn, error or worse)).
    pub activity: BTreeMap<i64, (u32, u32)>,
}

#[derive(Clone, Debug, Default)]
pub struct TemplateCount {
    pub count: u64,
    pub max_level: Option<Level>,
    pub classified: bool,
}

/// Everything read from the inputs.
#[derive(Debug, Default)]
pub struct Bundle {
    pub files: Vec<FileReport>,
    pub events: Vec<Event>,
    pub nodes: BTreeMap<Node, NodeStats>,
    pub errors: Vec<SourceError>,
    /// Metric files, read after logs by the metrics loader: (meta, node, raw report).
    pub metric_files: Vec<MetricFile>,
}

/// A metric dump found among the inputs, with the samples parsed from it.
#[derive(Clone, Debug)]
pub struct MetricFile {
    pub meta: SourceMeta,
    pub node_hint: Option<String>,
    pub report: crate::parse::metric::MetricFileReport,
    /// Attributed from the dumps beside it (its bodies and path name no node).
    pub by_sibling: bool,
    /// Samples read, and their time span (kept when the samples are not).
    pub samples: u64,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
}

impl Bundle {
    pub fn lines_read(&self) -> u64 {
        self.files.iter().map(|f| f.account.lines_read).sum()
    }
    pub fn span(&self) -> Option<(Timestamp, Timestamp)> {
        let first = self.nodes.values().filter_map(|n| n.first).min()?;
        let last = self.nodes.values().filter_map(|n| n.last).max()?;
        Some((first, last))
    }
}

enum Leaf {
    Log(Box<sink::FileResult>),
    Metric(Box<MetricFile>),
}

/// Reads every input. Never fails: unreadable files become `errors`.
pub fn ingest(inputs: &[Input], classifier: &Classifier, opts: &IngestOptions) -> Bundle {
    let (files, mut errors) = crate::source::list_files(inputs);
    let progress = opts.progress.as_ref().map(|p| &p.0);
    if let Some(p) = progress {
        let bytes = files
            .iter()
            .filter_map(|f| match f {
                Input::Path(p) => std::fs::metadata(p).ok().map(|m| m.len()),
                Input::Stdin => None,
            })
            .sum();
        p.start(files.len(), bytes);
    }
    let per_input: Vec<(Vec<(SourceMeta, Leaf)>, Vec<SourceError>)> = files
        .par_iter()
        .map(|input| {
            let mut visit = |meta: &SourceMeta, reader: &mut dyn std::io::BufRead| -> Leaf {
                read_leaf(meta, reader, classifier, opts)
            };
            // A large plain file is split into chunks parsed in parallel.
            let chunked = match input {
                Input::Path(p) => {
                    chunks::read_chunked(p, &p.display().to_string(), classifier, opts)
                }
                Input::Stdin => None,
            };
            let r = match chunked {
                Some(fr) => (vec![(fr.meta.clone(), Leaf::Log(Box::new(fr)))], Vec::new()),
                None => crate::source::read_input(input, &opts.limits, &mut visit),
            };
            if let Some(p) = progress {
                p.file_done();
            }
            r
        })
        .collect();
    if let Some(p) = progress {
        p.finish();
    }
    let mut logs = Vec::new();
    let mut metric_files = Vec::new();
    for (leaves, errs) in per_input {
        errors.extend(errs);
        for (_, leaf) in leaves {
            match leaf {
                Leaf::Log(r) => logs.push(*r),
                Leaf::Metric(m) => metric_files.push(*m),
            }
        }
    }
    assemble(logs, metric_files, errors, classifier, opts)
}

/// The bundle of files already read: nodes attributed, errors gathered,
/// events in time order with their derived fields (also what
/// [`follow::Follower`] builds from growing files).
pub(crate) fn assemble(
    logs: Vec<sink::FileResult>,
    mut metric_files: Vec<MetricFile>,
    mut errors: Vec<SourceError>,
    classifier: &Classifier,
    opts: &IngestOptions,
) -> Bundle {
    resolve_unnamed(&mut metric_files);
    // Files that ended early (truncated gzip, corrupt member) are errors too.
    for l in &logs {
        if let Some(e) = &l.account.error {
            errors.push(SourceError::new(
                l.meta.display.to_string(),
                read_error_kind(e),
                e.clone(),
            ));
        }
    }
    // Metric dumps too: a read error (truncated gzip, a limit) is kept by
    // the parser as an unparsed record; surface it as an error of the file.
    for m in &metric_files {
        if let Some((line, reason)) = m
            .report
            .unparsed
            .iter()
            .find(|(_, r)| r.starts_with("read error"))
        {
            errors.push(SourceError::new(
                m.meta.display.to_string(),
                read_error_kind(reason),
                format!("{reason} (line {line})"),
            ));
        }
    }
    errors.sort();
    errors.dedup();
    let (mut bundle, mut runs) = attribution::resolve(logs, opts, classifier.templates());
    snapshots::date(&mut bundle.nodes, &mut runs, &metric_files);
    bundle.events = merge::merge(runs);
    bundle.errors = errors;
    metric_files.sort_by(|a, b| a.meta.display.cmp(&b.meta.display));
    for m in &metric_files {
        bundle.files.push(metric_file_report(m));
    }
    bundle.files.sort_by(|a, b| a.display.cmp(&b.display));
    bundle.metric_files = metric_files;
    match &opts.coalesce {
        Some(c) => derive_fields(&mut bundle.events, &|kind, f| c.0.reads_field(kind, f)),
        None => derive_fields(&mut bundle.events, &|_, _| true),
    }
    bundle
}

/// Dumps whose bodies name no server (`/healthz`, `/raftz`): they belong to
/// the node the dumps beside them (same folder) name in their content, when
/// those name exactly one — content beats a name in the path, which may be a
/// folder far above the file. Else to the node the path names. Else their
/// records are unparsed, with the reason, and their samples dropped: never
/// given to a made-up node.
fn resolve_unnamed(files: &mut [MetricFile]) {
    fn folder(p: &str) -> &str {
        p.rfind(['/', '\\', '!']).map_or("", |i| &p[..i])
    }
    let mut named: BTreeMap<String, std::collections::BTreeSet<Node>> = BTreeMap::new();
    for m in files.iter().filter(|m| m.report.named_by_content) {
        if let Some(n) = &m.report.node {
            named
                .entry(folder(&m.meta.logical_path).to_string())
                .or_default()
                .insert(n.clone());
        }
    }
    for m in files.iter_mut() {
        let r = &mut m.report;
        if r.named_by_content || (!r.unnamed_bodies && r.unnamed.is_empty()) {
            continue;
        }
        let beside = named.get(folder(&m.meta.logical_path));
        if let Some(node) = beside
            .filter(|set| set.len() == 1)
            .and_then(|set| set.first())
        {
            crate::parse::metric::set_node(&mut r.samples, node);
            r.node = Some(node.clone());
            r.unnamed.clear();
            m.by_sibling = true;
            continue;
        }
        if r.unnamed.is_empty() {
            continue; // the path named the node
        }
        r.unnamed.sort_unstable();
        r.unnamed.dedup();
        for &(line, span) in r.unnamed.iter().filter(|(_, span)| *span > 0) {
            r.unparsed
                .push((line, crate::parse::metric::UNNAMED_REASON.to_string()));
            r.lines_parsed = r.lines_parsed.saturating_sub(span);
        }
        r.unparsed.sort_by_key(|(line, _)| *line);
        r.samples.retain(|s| s.node().is_some());
        m.first = r.samples.iter().map(|s| s.ts).min();
        m.last = r.samples.iter().map(|s| s.ts).max();
        m.samples = r.samples.len() as u64;
    }
}

/// The accounting of a metric dump, in the same shape as a log's.
fn metric_file_report(m: &MetricFile) -> FileReport {
    let r = &m.report;
    let unparsed = r.lines_read.saturating_sub(r.lines_parsed);
    let (first, last) = (m.first, m.last);
    let node: Option<Node> = r.node.clone().or_else(|| {
        (!m.by_sibling)
            .then(|| m.node_hint.as_deref().map(Arc::from))
            .flatten()
    });
    let account = FileAccount {
        lines_read: r.lines_read,
        parsed: r.lines_parsed,
        continuation: 0,
        unparsed,
        unparsed_samples: r.unparsed.iter().take(20).cloned().collect(),
        formats: [("metric", r.lines_parsed)].into_iter().collect(),
        ..FileAccount::default()
    };
    FileReport {
        display: m.meta.display.clone(),
        kind: FileKind::Metric,
        attribution: if r.named_by_content {
            Attribution::MetricContent
        } else if m.by_sibling {
            Attribution::MetricSibling
        } else if m.node_hint.is_some() {
            Attribution::Path
        } else if r.node.is_some() {
            Attribution::MetricContent
        } else {
            Attribution::Unattributed
        },
        nodes: node.iter().map(|n| (n.clone(), m.samples)).collect(),
        node,
        account,
        compression: m.meta.compression.iter().map(|c| c.name()).collect(),
        first,
        last,
    }
}

/// A read error that stopped a file early: a limit the reader enforced, or
/// data that ended before it should have.
fn read_error_kind(reason: &str) -> crate::source::SourceErrorKind {
    use crate::source::SourceErrorKind;
    if reason.contains("ratio") || reason.contains("limit") || reason.contains("larger than") {
        SourceErrorKind::Limit
    } else {
        SourceErrorKind::Truncated
    }
}

fn read_leaf(
    meta: &SourceMeta,
    reader: &mut dyn std::io::BufRead,
    classifier: &Classifier,
    opts: &IngestOptions,
) -> Leaf {
    let head = reader.fill_buf().map(|h| h.to_vec()).unwrap_or_default();
    let metric = if looks_like_json_log(&head) {
        None
    } else {
        crate::parse::metric::sniff(&meta.logical_path, &head)
    };
    // Monitoring JSON pasted without a time is read as records (a sample
    // needs a time). The time is near the top of every body, but may lie
    // past the first block read: look a little further.
    if metric == Some(crate::parse::metric::MetricFormat::JsonSnapshots) {
        use std::io::Read;
        let mut prefix = Vec::with_capacity(DATE_LOOKAHEAD);
        let read = Read::take(&mut *reader, DATE_LOOKAHEAD as u64).read_to_end(&mut prefix);
        let dated = crate::parse::metric::dated(&meta.logical_path, &prefix);
        let format = crate::parse::metric::MetricFormat::JsonSnapshots;
        if let Err(e) = read {
            // The parser meets the read error after the bytes before it, and reports it.
            let mut failed =
                std::io::BufReader::new(std::io::Cursor::new(prefix).chain(FailOnce(Some(e))));
            return read_metric(meta, &mut failed, format, opts);
        }
        let mut joined = std::io::BufReader::new(std::io::Cursor::new(prefix).chain(&mut *reader));
        return if dated {
            read_metric(meta, &mut joined, format, opts)
        } else {
            Leaf::Log(Box::new(chunks::read_stream(
                meta,
                &mut joined,
                classifier,
                opts,
            )))
        };
    }
    match metric {
        Some(format) => read_metric(meta, reader, format, opts),
        None => Leaf::Log(Box::new(chunks::read_stream(
            meta, reader, classifier, opts,
        ))),
    }
}

/// A reader that fails once with the error it holds, then ends.
struct FailOnce(Option<std::io::Error>);

impl std::io::Read for FailOnce {
    fn read(&mut self, _buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.take().map_or(Ok(0), Err)
    }
}

/// How far a JSON dump is read for the time it was taken ([`crate::parse::metric::dated`]).
const DATE_LOOKAHEAD: usize = 64 * 1024;

fn read_metric(
    meta: &SourceMeta,
    reader: &mut dyn std::io::BufRead,
    format: crate::parse::metric::MetricFormat,
    opts: &IngestOptions,
) -> Leaf {
    {
        let node_hint = override_for(&meta.display, &opts.node_overrides)
            .or_else(|| crate::source::names::node_from_path(&meta.logical_path));
        let mut report = crate::parse::metric::parse_with_limit(
            format,
            &meta.display,
            node_hint.as_deref(),
            reader,
            opts.log.max_line,
        );
        let (first, last) = (
            report.samples.iter().map(|s| s.ts).min(),
            report.samples.iter().map(|s| s.ts).max(),
        );
        let samples = report.samples.len() as u64;
        if !opts.metric_samples {
            report.samples = Vec::new();
        }
        Leaf::Metric(Box::new(MetricFile {
            meta: meta.clone(),
            node_hint,
            report,
            by_sibling: false,
            samples,
            first,
            last,
        }))
    }
}

/// A JSON structured log: its first line is an object with a message and a level.
fn looks_like_json_log(head: &[u8]) -> bool {
    let first = head
        .split(|b| *b == b'\n')
        .find(|l| !l.iter().all(u8::is_ascii_whitespace));
    let Some(first) = first else { return false };
    let Ok(text) = std::str::from_utf8(first) else {
        return false;
    };
    let t = text.trim();
    t.starts_with('{') && crate::parse::log::json::parse_json_line(t).is_some_and(|r| r.level_given)
}

pub(crate) fn override_for(display: &str, overrides: &[(String, String)]) -> Option<String> {
    overrides
        .iter()
        .filter(|(_, path)| display.contains(path.as_str()))
        .max_by_key(|(_, path)| path.len())
        .map(|(name, _)| name.clone())
}
