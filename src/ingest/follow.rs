//! Growing inputs (`coroner watch`): files followed as `tail -F` follows
//! them, read as they grow, and the bundle of everything read so far built
//! on demand.
//!
//! Each poll lists the inputs again (a directory's new files are picked up),
//! reads the complete lines appended to every file since the last poll and
//! parses them as the next part of that file, stitched to what was read
//! before exactly as `analyze` stitches the parallel chunks of one large
//! file: line numbers continue, groups and heartbeats across the seam are
//! decided as one pass would. So once the input stops growing,
//! [`Follower::bundle`] holds what `ingest` would have read from the same
//! files, and the analysis of it is `analyze`'s.
//!
//! - A file that was **rotated** (its path now names another file) is read to
//!   its end through the handle still open, then the new file is followed
//!   from its start; a **truncated** file (shorter than what was read) is
//!   followed from its start again. What was read before stays in the bundle,
//!   as the rotated file would be in a bundle with both.
//! - A partial last line waits for its newline; [`Follower::finish`] takes it
//!   as a line (the input ended there).
//! - Metric dumps in JSON lines (one snapshot per line: what `coroner
//!   collect` and the lab write) and CSV (the header is kept and given to
//!   every later part) are read incrementally; other dump shapes
//!   (pretty-printed JSON, Prometheus scrapes) and compressed files or
//!   archives are read whole again whenever they change.
//!
//! Memory is what `analyze` keeps for the same lines (events coalesced under
//! the options given), plus one partial line per file.

use super::chunks::{shift_lines, stitch};
use super::sink::{EventSink, FileResult};
use super::{Bundle, IngestOptions, Leaf, MetricFile};
use crate::classify::Classifier;
use crate::parse::log::parse_stream_from;
use crate::parse::metric::MetricFormat;
use crate::source::{Input, SourceError, SourceErrorKind, SourceMeta};
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes read from one file per poll at most (the rest waits for the next
/// poll), so that a poll's memory stays bounded whatever was appended.
const MAX_READ: u64 = 64 << 20;

/// Follows files and directories as they grow.
pub struct Follower<'a> {
    classifier: &'a Classifier,
    opts: IngestOptions,
    inputs: Vec<Input>,
    /// Followed files by path.
    live: BTreeMap<PathBuf, Tracked>,
    /// What was read from files since rotated away or truncated.
    retired: Vec<Content>,
    /// Listing and opening errors of the last poll.
    errors: Vec<SourceError>,
}

/// What one poll read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Growth {
    /// Bytes of complete lines (or whole re-read files) taken in.
    pub bytes: u64,
    /// Files seen for the first time.
    pub new_files: usize,
    /// Files found rotated or truncated.
    pub restarted: usize,
}

struct Tracked {
    file: std::fs::File,
    /// (device, inode): a rotation gives the path another one.
    id: (u64, u64),
    offset: u64,
    /// The partial last line read so far.
    pending: Vec<u8>,
    content: Content,
}

enum Content {
    /// Nothing decided yet: no complete line read.
    Undecided(SourceMeta),
    Log {
        result: FileResult,
        lines: u64,
    },
    /// A JSON-lines or CSV dump, parsed part by part.
    Metric {
        format: MetricFormat,
        /// CSV: the header line, given to every later part.
        header: Option<Vec<u8>>,
        file: MetricFile,
    },
    /// Compressed, an archive, or a dump read whole: re-read when it changes.
    Whole {
        stamp: (u64, Option<std::time::SystemTime>),
        leaves: Vec<Leaf>,
        errors: Vec<SourceError>,
    },
}

impl Clone for Leaf {
    fn clone(&self) -> Self {
        match self {
            Leaf::Log(r) => Leaf::Log(r.clone()),
            Leaf::Metric(m) => Leaf::Metric(m.clone()),
        }
    }
}

fn file_id(md: &std::fs::Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (md.dev(), md.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = md;
        (0, 0)
    }
}

fn meta_of(path: &Path) -> SourceMeta {
    let display = path.display().to_string();
    SourceMeta {
        display: Arc::from(display.as_str()),
        logical_path: display,
        compression: Vec::new(),
    }
}

impl<'a> Follower<'a> {
    /// Follows `inputs` (files or directories; stdin is not followed).
    pub fn new(inputs: &[Input], classifier: &'a Classifier, opts: &IngestOptions) -> Self {
        Follower {
            classifier,
            opts: opts.clone(),
            inputs: inputs
                .iter()
                .filter(|i| matches!(i, Input::Path(_)))
                .cloned()
                .collect(),
            live: BTreeMap::new(),
            retired: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Reads what the inputs gained since the last poll.
    pub fn poll(&mut self) -> Growth {
        let (files, errors) = crate::source::list_files(&self.inputs);
        self.errors = errors;
        let mut g = Growth::default();
        for input in files {
            let Input::Path(path) = input else { continue };
            self.poll_file(&path, &mut g);
        }
        g
    }

    /// The input ended: partial last lines are taken as lines.
    pub fn finish(&mut self) -> Growth {
        let mut g = self.poll();
        let paths: Vec<PathBuf> = self.live.keys().cloned().collect();
        for p in paths {
            if let Some(t) = self.live.get_mut(&p) {
                let rest = std::mem::take(&mut t.pending);
                if !rest.is_empty() {
                    g.bytes += rest.len() as u64;
                    feed(t, &rest, self.classifier, &self.opts);
                }
            }
        }
        g
    }

    fn poll_file(&mut self, path: &Path, g: &mut Growth) {
        let md = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                self.errors.push(SourceError::new(
                    path.display().to_string(),
                    SourceErrorKind::Read,
                    e.to_string(),
                ));
                return;
            }
        };
        let id = file_id(&md);
        if let Some(t) = self.live.get_mut(path) {
            let rotated = t.id != id;
            let truncated = !rotated && md.len() < t.offset;
            if rotated {
                // Drain the old file through the open handle, then retire it.
                read_more(t, u64::MAX, self.classifier, &self.opts, g);
                let rest = std::mem::take(&mut t.pending);
                if !rest.is_empty() {
                    feed(t, &rest, self.classifier, &self.opts);
                }
            }
            if rotated || truncated {
                g.restarted += 1;
                let old = self.live.remove(path).expect("tracked");
                self.retired.push(old.content);
            }
        }
        if !self.live.contains_key(path) {
            let file = match std::fs::File::open(path) {
                Ok(f) => f,
                Err(e) => {
                    self.errors.push(SourceError::new(
                        path.display().to_string(),
                        SourceErrorKind::Open,
                        e.to_string(),
                    ));
                    return;
                }
            };
            g.new_files += 1;
            self.live.insert(
                path.to_path_buf(),
                Tracked {
                    file,
                    id,
                    offset: 0,
                    pending: Vec::new(),
                    content: Content::Undecided(meta_of(path)),
                },
            );
        }
        let t = self.live.get_mut(path).expect("tracked");
        if let Content::Whole { stamp, .. } = &t.content {
            let now = (md.len(), md.modified().ok());
            if *stamp != now {
                g.bytes += md.len();
                t.content = read_whole(path, now, self.classifier, &self.opts);
            }
            return;
        }
        read_more(t, MAX_READ, self.classifier, &self.opts, g);
    }

    /// Everything read so far, as `ingest` would have read it.
    pub fn bundle(&self) -> Bundle {
        let mut logs = Vec::new();
        let mut metric_files = Vec::new();
        let mut errors = self.errors.clone();
        let contents = self
            .retired
            .iter()
            .chain(self.live.values().map(|t| &t.content));
        for c in contents {
            match c {
                Content::Undecided(_) => {}
                Content::Log { result, .. } => logs.push(result.clone()),
                Content::Metric { file, .. } => metric_files.push(file.clone()),
                Content::Whole {
                    leaves, errors: e, ..
                } => {
                    errors.extend(e.iter().cloned());
                    for l in leaves {
                        match l.clone() {
                            Leaf::Log(r) => logs.push(*r),
                            Leaf::Metric(m) => metric_files.push(*m),
                        }
                    }
                }
            }
        }
        super::assemble(logs, metric_files, errors, self.classifier, &self.opts)
    }
}

/// Reads up to `max` new bytes of `t` and feeds its complete lines.
fn read_more(
    t: &mut Tracked,
    max: u64,
    classifier: &Classifier,
    opts: &IngestOptions,
    g: &mut Growth,
) {
    if t.file.seek(SeekFrom::Start(t.offset)).is_err() {
        return;
    }
    let mut buf = std::mem::take(&mut t.pending);
    let got = (&mut t.file).take(max).read_to_end(&mut buf).unwrap_or(0);
    t.offset += got as u64;
    if let Content::Undecided(meta) = &t.content
        && reads_whole(&buf, meta)
    {
        // Compressed, an archive, or a dump that is not one record per line.
        let path = PathBuf::from(&meta.logical_path);
        let stamp = std::fs::metadata(&path)
            .map(|m| (m.len(), m.modified().ok()))
            .unwrap_or((0, None));
        g.bytes += stamp.0;
        t.content = read_whole(&path, stamp, classifier, opts);
        return;
    }
    // Complete lines only; the partial last line waits.
    let Some(end) = memchr::memrchr(b'\n', &buf).map(|p| p + 1) else {
        t.pending = buf;
        return;
    };
    t.pending = buf.split_off(end);
    g.bytes += buf.len() as u64;
    feed(t, &buf, classifier, opts);
}

/// Whether a file whose first bytes are `head` is read whole rather than
/// followed: compressed files and archives (from their magic bytes), and
/// dumps that are not one record per line (once a first line is complete).
fn reads_whole(head: &[u8], meta: &SourceMeta) -> bool {
    let archive = head.len() >= 262 && &head[257..262] == b"ustar" || head.starts_with(b"PK");
    if archive || crate::source::Compression::sniff(head).is_some() {
        return true;
    }
    if memchr::memchr(b'\n', head).is_none() || super::looks_like_json_log(head) {
        return false;
    }
    match crate::parse::metric::sniff(&meta.logical_path, head) {
        // A dump with no time is a paste: read whole as records, as `analyze` does.
        Some(MetricFormat::JsonSnapshots) => {
            !json_lines(head) || !crate::parse::metric::dated(&meta.logical_path, head)
        }
        Some(MetricFormat::Prometheus) => true,
        Some(MetricFormat::Csv) | None => false,
    }
}

/// Whether a JSON dump holds one complete object per line.
fn json_lines(head: &[u8]) -> bool {
    head.split(|b| *b == b'\n')
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))
        .and_then(|l| serde_json::from_slice::<serde::de::IgnoredAny>(l).ok())
        .is_some()
}

fn read_whole(
    path: &Path,
    stamp: (u64, Option<std::time::SystemTime>),
    classifier: &Classifier,
    opts: &IngestOptions,
) -> Content {
    let mut visit = |meta: &SourceMeta, reader: &mut dyn std::io::BufRead| -> Leaf {
        super::read_leaf(meta, reader, classifier, opts)
    };
    let (leaves, errors) =
        crate::source::read_input(&Input::Path(path.to_path_buf()), &opts.limits, &mut visit);
    Content::Whole {
        stamp,
        leaves: leaves.into_iter().map(|(_, l)| l).collect(),
        errors,
    }
}

/// Parses complete lines `bytes` as the next part of `t`'s file.
fn feed(t: &mut Tracked, bytes: &[u8], classifier: &Classifier, opts: &IngestOptions) {
    if let Content::Undecided(meta) = &t.content {
        let meta = meta.clone();
        let metric = if super::looks_like_json_log(bytes) {
            None
        } else {
            crate::parse::metric::sniff(&meta.logical_path, bytes)
        };
        t.content = match metric {
            Some(format) => {
                let header = (format == MetricFormat::Csv).then(|| {
                    let end = memchr::memchr(b'\n', bytes).map_or(bytes.len(), |p| p + 1);
                    bytes[..end].to_vec()
                });
                let node_hint = super::override_for(&meta.display, &opts.node_overrides)
                    .or_else(|| crate::source::names::node_from_path(&meta.logical_path));
                let report = crate::parse::metric::parse_with_limit(
                    format,
                    &meta.display,
                    node_hint.as_deref(),
                    &mut &bytes[..],
                    opts.log.max_line,
                );
                Content::Metric {
                    format,
                    header,
                    file: metric_file(meta, node_hint, report, opts),
                }
            }
            None => {
                let mut sink = EventSink::new(meta.display.clone(), classifier, opts);
                let acc = parse_stream_from(&mut &bytes[..], &opts.log, &mut sink, false);
                let lines = acc.lines_read;
                Content::Log {
                    result: sink.finish(meta, acc),
                    lines,
                }
            }
        };
        return;
    }
    match &mut t.content {
        Content::Log { result, lines } => {
            let meta = result.meta.clone();
            // Lines before the part's first header continue the last record
            // when there is one, as in one pass.
            let continued = result.account.parsed > 0;
            let mut sink = EventSink::new(meta.display.clone(), classifier, opts);
            let acc = parse_stream_from(&mut &bytes[..], &opts.log, &mut sink, continued);
            let n = acc.lines_read;
            let mut part = sink.finish(meta, acc);
            shift_lines(&mut part, *lines);
            *lines += n;
            let a = std::mem::replace(result, empty_like(result));
            *result = stitch(a, part, opts.coalesce.as_ref());
        }
        Content::Metric {
            format,
            header,
            file,
        } => {
            let mut input = Vec::with_capacity(bytes.len() + header.as_ref().map_or(0, Vec::len));
            if let Some(h) = header {
                input.extend_from_slice(h);
            }
            input.extend_from_slice(bytes);
            let report = crate::parse::metric::parse_with_limit(
                *format,
                &file.meta.display,
                file.node_hint.as_deref(),
                &mut &input[..],
                opts.log.max_line,
            );
            let skip = u64::from(header.is_some());
            append_report(file, report, skip, opts);
        }
        Content::Undecided(_) | Content::Whole { .. } => {}
    }
}

/// A placeholder while a result is moved through [`stitch`].
fn empty_like(r: &FileResult) -> FileResult {
    FileResult {
        meta: r.meta.clone(),
        account: Default::default(),
        segments: Vec::new(),
        events: Vec::new(),
        node_ids: Vec::new(),
        edges: Default::default(),
    }
}

fn metric_file(
    meta: SourceMeta,
    node_hint: Option<String>,
    mut report: crate::parse::metric::MetricFileReport,
    opts: &IngestOptions,
) -> MetricFile {
    let first = report.samples.iter().map(|s| s.ts).min();
    let last = report.samples.iter().map(|s| s.ts).max();
    let samples = report.samples.len() as u64;
    if !opts.metric_samples {
        report.samples = Vec::new();
    }
    MetricFile {
        meta,
        node_hint,
        report,
        by_sibling: false,
        samples,
        first,
        last,
    }
}

/// Appends the report of a later part (its first `skip` lines a repeated
/// header) to the file's.
fn append_report(
    file: &mut MetricFile,
    mut part: crate::parse::metric::MetricFileReport,
    skip: u64,
    opts: &IngestOptions,
) {
    let base = file.report.lines_read;
    let shift = |line: u64| line.saturating_sub(skip) + base;
    let r = &mut file.report;
    r.lines_read += part.lines_read.saturating_sub(skip);
    r.lines_parsed += part.lines_parsed.saturating_sub(skip);
    r.unparsed
        .extend(part.unparsed.drain(..).map(|(l, why)| (shift(l), why)));
    r.unnamed
        .extend(part.unnamed.drain(..).map(|(l, n)| (shift(l), n)));
    if part.node.is_some() {
        r.node = part.node.take();
    }
    r.named_by_content |= part.named_by_content;
    r.unnamed_bodies |= part.unnamed_bodies;
    let first = part.samples.iter().map(|s| s.ts).min();
    let last = part.samples.iter().map(|s| s.ts).max();
    file.samples += part.samples.len() as u64;
    file.first = file.first.min(first).or(file.first).or(first);
    file.last = file.last.max(last);
    if opts.metric_samples {
        r.samples.append(&mut part.samples);
    }
}
