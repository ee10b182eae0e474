//! Builds events from the records of one file, and counts per segment.
//!
//! A segment is a run of lines of one origin key (the node a wrapper names,
//! or none) between two `Starting nats-server` banners; its node comes from
//! the banner's `Name:` line, resolved once the whole file was read.

use super::{CoalesceKey, CoalescePolicy, IngestOptions, Keep, TemplateCount};
use crate::classify::{Classifier, normalize};
use crate::model::{Event, Level, LineView, Location, Timestamp, Value, ValueRef};
use crate::parse::log::{FileAccount, Record, Sink};
use crate::source::SourceMeta;
use crate::vocab;
use std::collections::HashMap;
use std::sync::Arc;

pub(crate) type Bucket = usize;

/// Maps looked up for every line (per-second activity, the open coalescing
/// groups): foldhash with fixed seeds. Their order is never read (they are
/// summed or looked up).
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// Distinct unmatched message shapes counted per segment before the rest are
/// lumped together under [`OTHER_TEMPLATES`].
pub const MAX_UNMATCHED_TEMPLATES: usize = 10_000;
pub const OTHER_TEMPLATES: &str = "(other unmatched messages)";

struct Names {
    addr: Arc<str>,
    conn: Arc<str>,
    conn_id: Arc<str>,
    client: Arc<str>,
    account_user: Arc<str>,
    raft_node: Arc<str>,
    raft_group: Arc<str>,
    pid: Arc<str>,
    empty: Arc<str>,
    /// Whether the prefix fields are kept (under coalescing only those some
    /// rule reads): addr, conn, conn_id, client, account_user, raft_node,
    /// raft_group, pid.
    keep: [bool; 8],
}

impl Names {
    fn new(coalesce: Option<&CoalescePolicy>) -> Names {
        let k = |f: &str| coalesce.is_none_or(|c| c.0.keeps_field(f));
        Names {
            keep: [
                k("addr"),
                k("conn"),
                k("conn_id"),
                k("client"),
                k("account_user"),
                k("raft_node"),
                k("raft_group"),
                k("pid"),
            ],
            addr: "addr".into(),
            conn: "conn".into(),
            conn_id: "conn_id".into(),
            client: "client".into(),
            account_user: "account_user".into(),
            raft_node: "raft_node".into(),
            raft_group: "raft_group".into(),
            pid: "pid".into(),
            empty: "".into(),
        }
    }
}

/// Shares the text of repeated messages and field values between kept
/// events (health checks, client names, reasons repeat line after line).
/// Bounded: when full it starts over, so memory follows what is kept.
#[derive(Default)]
struct Interner {
    set: std::collections::HashSet<Arc<str>, foldhash::fast::FixedState>,
}

impl Interner {
    const MAX: usize = 1 << 16;

    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.set.get(s) {
            return a.clone();
        }
        if self.set.len() >= Self::MAX {
            self.set.clear();
        }
        let a: Arc<str> = Arc::from(s);
        self.set.insert(a.clone());
        a
    }
}

/// Counts for one segment.
#[derive(Clone, Debug, Default)]
pub(crate) struct SegmentStats {
    pub records: u64,
    pub levels: [u64; 6],
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    /// Counts per template index of the classifier.
    pub by_template: Vec<TemplateCount>,
    /// Counts per normalized text of messages no template matched.
    pub unmatched: FastMap<Arc<str>, TemplateCount>,
    pub starts: u64,
    /// Server versions from the banners (`Version:  2.10.26`), in order, distinct.
    pub versions: Vec<String>,
    /// Warnings and errors (error or worse) per second: counted for every
    /// line, kept or not, so charts and sparklines show the true density.
    pub activity: FastMap<i64, (u32, u32)>,
}

#[derive(Clone, Debug)]
pub(crate) struct Segment {
    /// Node named by a wrapper for these lines (pod, host, compose service, JSON key).
    pub key: Option<String>,
    /// The segment began with a `Starting nats-server` line (not a mere
    /// first line of its key): a chunk's first segment without it continues
    /// the previous chunk's.
    pub opened_by_start: bool,
    /// Server name from this segment's banner.
    pub name: Option<String>,
    pub stats: SegmentStats,
}

#[derive(Clone, Debug)]
pub(crate) struct FileResult {
    pub meta: SourceMeta,
    pub account: FileAccount,
    pub segments: Vec<Segment>,
    pub events: Vec<(Event, Bucket)>,
    /// RAFT node ids from banners (`Node: fjFyEjc1`) → segment.
    pub node_ids: Vec<(String, Bucket)>,
    /// What a chunk's neighbours need to stitch as if read in one pass.
    pub edges: Edges,
}

/// An open group of coalesced events: later lines with the same second,
/// level and key add to `events[idx].repeat`.
#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub idx: usize,
    pub sec: i64,
    pub level: Level,
    pub key: CoalesceKey,
}

/// A kind by the identity of its shared name (templates hand out one `Arc`
/// per template): cheaper than hashing the text on every line.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct KindId(usize);

impl KindId {
    pub fn of(kind: &Arc<str>) -> KindId {
        KindId(Arc::as_ptr(kind) as *const u8 as usize)
    }
}

/// The first kept event of a (segment, kind) group (`kind: Some`) or the
/// first heartbeat of a segment (`kind: None`) in this result.
#[derive(Clone, Debug)]
pub(crate) struct Head {
    pub seg: Bucket,
    pub kind: Option<Arc<str>>,
    pub group: Group,
}

/// The decisions that depend on earlier lines: for stitching chunks.
#[derive(Clone, Debug, Default)]
pub(crate) struct Edges {
    /// (segment, kind) → the group open at the end.
    pub tail: FastMap<(Bucket, KindId), Group>,
    /// Last heartbeat second per segment (`NO_HEARTBEAT` when none).
    pub heartbeat: Vec<i64>,
    pub heads: Vec<Head>,
}

pub(crate) const NO_HEARTBEAT: i64 = i64::MIN + 1;

/// How a line is kept under `Keep::Relevant` (and the others).
enum Kept {
    No,
    /// The one line of its segment and second kept for silences.
    Heartbeat {
        sec: i64,
        first: bool,
    },
    Yes,
}

/// What a line's kind tells the segment bookkeeping: decided once per
/// template, not by comparing kind names on every line.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Role {
    /// `Starting nats-server`: a new lifetime.
    Starting,
    /// The banner's `Version:`, `Name:` and `Node:` lines.
    Version,
    Name,
    Node,
    Other,
}

impl Role {
    fn of(kind: &str) -> Role {
        match kind {
            vocab::kind::SERVER_STARTING => Role::Starting,
            vocab::kind::BANNER_VERSION => Role::Version,
            vocab::kind::BANNER_NAME => Role::Name,
            vocab::kind::BANNER_NODE => Role::Node,
            _ => Role::Other,
        }
    }
}

/// Shorter header-less lines are never taken as messages (`OK`, `}`...).
const MIN_BARE_MESSAGE: usize = 12;

/// A record whose message already matched a template takes a wrapped tail
/// only when its message is at least this long: a wrap happens at the width
/// of a terminal, never after a short message.
const MIN_WRAPPED_MESSAGE: usize = 40;

/// The last record, held until the next line says whether that line is its
/// wrapped tail ([`Sink::wrapped`]). Its buffers are reused record after
/// record.
#[derive(Debug)]
struct Pending {
    ts: Option<Timestamp>,
    level: Level,
    msg: String,
    pid: Option<u32>,
    node: Option<String>,
    format: &'static str,
    extra: Vec<(String, Value)>,
    line: u64,
    /// Tails joined to it.
    tails: u32,
    /// Length of its first line's message.
    first_len: usize,
}

impl Default for Pending {
    fn default() -> Self {
        Pending {
            ts: None,
            level: Level::Info,
            msg: String::new(),
            pid: None,
            node: None,
            format: "",
            extra: Vec::new(),
            line: 0,
            tails: 0,
            first_len: 0,
        }
    }
}

pub(crate) struct EventSink<'a> {
    file: Arc<str>,
    classifier: &'a Classifier,
    keep: Keep,
    /// Per template index: is its kind one to keep (`Keep::Relevant`)?
    relevant: Vec<bool>,
    /// Per template index: what its kind tells the segment bookkeeping.
    roles: Vec<Role>,
    relevant_unknown: bool,
    names: Names,
    segments: Vec<Segment>,
    /// key → current segment
    current: Vec<(Option<String>, usize)>,
    events: Vec<(Event, Bucket)>,
    node_ids: Vec<(String, Bucket)>,
    last_ts: Option<Timestamp>,
    last_kept: bool,
    coalesce: Option<CoalescePolicy>,
    edges: Edges,
    interner: Interner,
    unknown: Arc<str>,
    pending: Option<Pending>,
    spare: Option<Pending>,
    scratch: String,
}

impl<'a> EventSink<'a> {
    pub fn new(file: Arc<str>, classifier: &'a Classifier, opts: &'a IngestOptions) -> Self {
        EventSink {
            file,
            classifier,
            keep: opts.keep,
            relevant: classifier
                .templates()
                .iter()
                .map(|t| opts.relevant_kinds.contains(&t.kind))
                .collect(),
            roles: classifier
                .templates()
                .iter()
                .map(|t| Role::of(&t.kind))
                .collect(),
            relevant_unknown: opts
                .relevant_kinds
                .iter()
                .any(|k| **k == *crate::classify::UNKNOWN_KIND),
            names: Names::new(opts.coalesce.as_ref()),
            segments: Vec::new(),
            current: Vec::new(),
            events: Vec::new(),
            node_ids: Vec::new(),
            last_ts: None,
            last_kept: false,
            coalesce: match opts.keep {
                Keep::Relevant(_) => opts.coalesce.clone(),
                _ => None,
            },
            edges: Edges::default(),
            interner: Interner::default(),
            unknown: crate::classify::UNKNOWN_KIND.into(),
            pending: None,
            spare: None,
            scratch: String::new(),
        }
    }

    /// Records the held record (with the tails joined to it).
    fn flush(&mut self) {
        let Some(mut p) = self.pending.take() else {
            return;
        };
        let rec = Record {
            ts: p.ts,
            level: p.level,
            msg: std::borrow::Cow::Borrowed(&p.msg),
            pid: p.pid,
            node: p.node.as_deref().map(std::borrow::Cow::Borrowed),
            format: p.format,
            extra: std::mem::take(&mut p.extra),
        };
        self.record_now(rec, p.line);
        if p.tails > 0
            && self.last_kept
            && let Some((ev, _)) = self.events.last_mut()
        {
            ev.continuation += p.tails;
        }
        self.spare = Some(p);
    }

    /// Whether `text` is a message of its own (what [`Sink::bare`] takes).
    fn is_message(&self, text: &str) -> bool {
        let body = match crate::parse::log::nats::parse_conn_prefix(text) {
            Some(p) => p.rest,
            None => crate::parse::log::paste::strip_partial_conn_prefix(text).unwrap_or(text),
        };
        body.len() >= MIN_BARE_MESSAGE && self.classifier.find(body).is_some()
    }

    fn segment_for(&mut self, key: Option<&str>, new_lifetime: bool) -> usize {
        // A handful of keys per file at most: a linear scan beats hashing an
        // owned key on every line.
        let pos = self.current.iter().position(|(k, _)| k.as_deref() == key);
        if !new_lifetime {
            if let Some(p) = pos {
                return self.current[p].1;
            }
        }
        self.segments.push(Segment {
            key: key.map(str::to_string),
            opened_by_start: new_lifetime,
            name: None,
            stats: SegmentStats::default(),
        });
        let i = self.segments.len() - 1;
        match pos {
            Some(p) => self.current[p].1 = i,
            None => self.current.push((key.map(str::to_string), i)),
        }
        i
    }

    fn keeps(
        &mut self,
        level: Level,
        tidx: Option<usize>,
        seg: usize,
        ts: Option<Timestamp>,
    ) -> Kept {
        match self.keep {
            Keep::All => Kept::Yes,
            Keep::Counts => Kept::No,
            Keep::Relevant(min) => {
                let relevant = match tidx {
                    Some(i) => self.relevant[i],
                    None => self.relevant_unknown,
                };
                if level >= min || relevant {
                    return Kept::Yes;
                }
                // One heartbeat per segment and second: enough to see a node fall silent.
                let sec = ts.map_or(i64::MIN, |t| t.0.div_euclid(1_000_000_000));
                let last = &mut self.edges.heartbeat;
                if last.get(seg) == Some(&sec) {
                    return Kept::No;
                }
                if last.len() <= seg {
                    last.resize(seg + 1, NO_HEARTBEAT);
                }
                let first = last[seg] == NO_HEARTBEAT;
                last[seg] = sec;
                Kept::Heartbeat { sec, first }
            }
        }
    }

    /// Adds a kept event, or counts it in the open group it cannot be told
    /// from. Returns whether it was added.
    /// `msg` is the event's text when `ev.message` was left empty because
    /// the coalescing key does not read it (shared only if the event is added).
    fn add(&mut self, mut ev: Event, msg: &str, seg: usize, kept: Kept) -> bool {
        let idx = self.events.len();
        match kept {
            Kept::No => return false,
            Kept::Heartbeat { sec, first } => {
                if first {
                    self.edges.heads.push(Head {
                        seg,
                        kind: None,
                        group: Group {
                            idx,
                            sec,
                            level: ev.level,
                            key: Vec::new(),
                        },
                    });
                }
            }
            Kept::Yes => {
                if let (Some(policy), Some(ts)) = (&self.coalesce, ev.ts) {
                    let g = Group {
                        idx,
                        sec: ts.0.div_euclid(1_000_000_000),
                        level: ev.level,
                        key: policy.0.key(&ev),
                    };
                    let slot = (seg, KindId::of(&ev.kind));
                    match self.edges.tail.get_mut(&slot) {
                        Some(open)
                            if open.sec == g.sec && open.level == g.level && open.key == g.key =>
                        {
                            let distinct = policy.0.distinct_fields(&ev.kind);
                            self.events[open.idx].0.absorb(&ev, distinct);
                            return false;
                        }
                        Some(open) => *open = g,
                        None => {
                            self.edges.heads.push(Head {
                                seg,
                                kind: Some(ev.kind.clone()),
                                group: g.clone(),
                            });
                            self.edges.tail.insert(slot, g);
                        }
                    }
                }
            }
        }
        ev.message = self.interner.get(if ev.message.is_empty() {
            msg
        } else {
            &ev.message
        });
        if let Some(c) = &self.coalesce {
            // Fields no rule (nor the diagnosis) reads are not kept.
            ev.fields.retain(|(k, _)| c.0.reads_field(&ev.kind, k));
        }
        for (_, v) in &mut ev.fields {
            if let Value::Str(t) = v {
                *t = self.interner.get(t);
            }
        }
        ev.fields.shrink_to_fit();
        self.events.push((ev, seg));
        true
    }

    pub fn finish(mut self, meta: SourceMeta, account: FileAccount) -> FileResult {
        self.flush();
        // Files wait for each other before they are merged: no spare capacity.
        self.events.shrink_to_fit();
        for (e, _) in &mut self.events {
            for (_, hashes) in e.absorbed.iter_mut().flat_map(|a| a.iter_mut()) {
                hashes.shrink_to_fit();
            }
        }
        FileResult {
            meta,
            account,
            segments: self.segments,
            events: self.events,
            node_ids: self.node_ids,
            edges: self.edges,
        }
    }
}

/// The message body after its connection or RAFT prefix (what templates match).
fn body_of(msg: &str) -> &str {
    use crate::parse::log::nats::{parse_conn_prefix, parse_raft_prefix};
    match parse_conn_prefix(msg) {
        Some(p) => p.rest,
        None => parse_raft_prefix(msg).map_or(msg, |(_, _, rest)| rest),
    }
}

impl Sink for EventSink<'_> {
    fn record(&mut self, rec: Record<'_>, line: u64) {
        self.flush();
        if !crate::parse::log::wrappable(rec.format) {
            self.record_now(rec, line);
            return;
        }
        let mut p = self.spare.take().unwrap_or_default();
        p.msg.clear();
        p.msg.push_str(&rec.msg);
        p.node = rec.node.map(|n| {
            let mut s = p.node.take().unwrap_or_default();
            s.clear();
            s.push_str(&n);
            s
        });
        p.ts = rec.ts;
        p.level = rec.level;
        p.pid = rec.pid;
        p.format = rec.format;
        p.extra = rec.extra;
        p.line = line;
        p.tails = 0;
        p.first_len = rec.msg.len();
        self.pending = Some(p);
    }

    fn wrapped(&mut self, tail: &str, line: u64) -> bool {
        let Some(p) = &self.pending else {
            return false;
        };
        if p.line + u64::from(p.tails) + 1 != line {
            return false;
        }
        let before = self.classifier.find(body_of(&p.msg));
        let word = tail.trim_start();
        if before.is_some()
            && (p.first_len < MIN_WRAPPED_MESSAGE
                || !word.starts_with(char::is_alphanumeric)
                || self.is_message(word))
        {
            // A message that already reads: only a long one cut inside a
            // word or value continues on the next line, never with a message
            // of its own there.
            return false;
        }
        // A terminal, `less` or k9s cuts at its width and loses nothing (a
        // space at the cut stays at either end): joined as is first. A paste
        // that wrapped words dropped the space: joined with one when only
        // that reads.
        let spaced = p.msg.ends_with(char::is_whitespace) || tail.starts_with(char::is_whitespace);
        for sep in ["", " "] {
            if sep == " " && spaced {
                continue;
            }
            self.scratch.clear();
            self.scratch.push_str(&p.msg);
            self.scratch.push_str(sep);
            self.scratch.push_str(tail);
            if self.classifier.find(body_of(&self.scratch)).is_some() {
                if let Some(p) = &mut self.pending {
                    std::mem::swap(&mut p.msg, &mut self.scratch);
                    p.tails += 1;
                }
                return true;
            }
        }
        false
    }

    fn snapshot(&mut self, mut rec: Record<'_>, line: u64, block: u64) {
        self.flush();
        if rec.ts.is_none() {
            // The time of the log line before the output, else its place in the file.
            rec.ts = match self.last_ts {
                Some(t) if !t.is_line_order() => Some(t),
                _ => Some(Timestamp::of_line(block)),
            };
        }
        self.record_now(rec, line);
    }

    fn bare(&mut self, text: &str, line: u64) -> bool {
        self.flush();
        self.bare_now(text, line)
    }

    fn continuation(&mut self, _line: u64, _text: &str) {
        self.flush();
        if self.last_kept {
            if let Some((ev, _)) = self.events.last_mut() {
                ev.continuation += 1;
            }
        }
    }
}

impl EventSink<'_> {
    fn record_now(&mut self, rec: Record<'_>, line: u64) {
        use crate::parse::log::nats::{parse_conn_prefix, parse_raft_prefix};
        let msg: &str = &rec.msg;
        // The connection / RAFT prefix: parsed here, turned into fields only
        // if the event is kept.
        let conn = parse_conn_prefix(msg);
        let raft = if conn.is_none() {
            parse_raft_prefix(msg)
        } else {
            None
        };
        let body = match (&conn, &raft) {
            (Some(p), _) => p.rest,
            (None, Some((_, _, rest))) => rest,
            (None, None) => msg,
        };
        let tidx = self.classifier.find(body);
        let templates = self.classifier.templates();
        let role = tidx.map_or(Role::Other, |i| self.roles[i]);
        let new_lifetime = role == Role::Starting;
        let seg = self.segment_for(rec.node.as_deref(), new_lifetime);
        if role == Role::Version {
            let captured = tidx
                .and_then(|i| templates[i].matches(body))
                .unwrap_or_default();
            if let Some(Value::Str(v)) = captured.first().map(|f| &f.1) {
                let v = v.trim();
                let seg = &mut self.segments[seg].stats;
                if !v.is_empty() && !seg.versions.iter().any(|x| x == v) {
                    seg.versions.push(v.to_string());
                }
            }
        }
        if role == Role::Name || role == Role::Node {
            let captured = tidx
                .and_then(|i| templates[i].matches(body))
                .unwrap_or_default();
            if let Some(Value::Str(n)) = captured.first().map(|f| &f.1) {
                let n = n.trim();
                if role == Role::Name {
                    if !n.is_empty() && self.segments[seg].name.is_none() {
                        self.segments[seg].name = Some(n.to_string());
                    }
                } else {
                    self.node_ids.push((n.to_string(), seg));
                }
            }
        }
        let ts = rec.ts.or(self.last_ts);
        if rec.ts.is_some() {
            self.last_ts = rec.ts;
        }
        let snapshot = crate::parse::log::cli::FORMATS.contains(&rec.format);
        let st = &mut self.segments[seg].stats;
        st.records += 1;
        st.levels[rec.level.index()] += 1;
        if new_lifetime {
            st.starts += 1;
        }
        // A snapshot's time is not the node's activity (ingestion dates it
        // and counts it in the node's span then).
        if let Some(t) = ts.filter(|_| !snapshot) {
            st.first = Some(st.first.map_or(t, |f| f.min(t)));
            st.last = Some(st.last.map_or(t, |l| l.max(t)));
            // Only reports and charts read it: `stats` (counts only) does not pay for it.
            if rec.level >= Level::Warn && self.keep != Keep::Counts {
                let cell = st
                    .activity
                    .entry(t.0.div_euclid(1_000_000_000))
                    .or_default();
                if rec.level == Level::Warn {
                    cell.0 += 1;
                } else {
                    cell.1 += 1;
                }
            }
        }
        let tc = match tidx {
            Some(i) => {
                if st.by_template.len() < templates.len() {
                    st.by_template
                        .resize(templates.len(), TemplateCount::default());
                }
                &mut st.by_template[i]
            }
            None => {
                // Bounded: past the cap, new shapes are counted together, so
                // memory does not grow with the input (random garbage, say).
                let key: Arc<str> = normalize(body).into();
                if st.unmatched.len() >= MAX_UNMATCHED_TEMPLATES && !st.unmatched.contains_key(&key)
                {
                    st.unmatched.entry(Arc::from(OTHER_TEMPLATES)).or_default()
                } else {
                    st.unmatched.entry(key).or_default()
                }
            }
        };
        tc.count += 1;
        tc.classified = tidx.is_some();
        tc.max_level = Some(tc.max_level.map_or(rec.level, |l| l.max(rec.level)));
        self.last_kept = false;
        let kept = self.keeps(rec.level, tidx, seg, ts);
        if matches!(kept, Kept::No) {
            return;
        }
        if matches!(kept, Kept::Yes)
            && let Some(i) = tidx
            && self.absorb_line(i, &rec, msg, body, &conn, &raft, seg, ts)
        {
            return;
        }
        let kind = tidx.map_or_else(|| self.unknown.clone(), |i| templates[i].kind.clone());
        // Room for the prefix fields and a few captures: most lines are
        // dropped into an open group, and growing costs a `realloc` each time.
        let mut fields = Vec::with_capacity(8);
        // Prefix fields no consumer reads are not made (they would be dropped in `add`).
        let [
            addr,
            conn_kind,
            conn_id,
            client,
            account_user,
            raft_node,
            raft_group,
            pid,
        ] = self.names.keep;
        if let Some(p) = &conn {
            if addr {
                fields.push((self.names.addr.clone(), Value::Str(p.addr.into())));
            }
            if conn_kind {
                fields.push((self.names.conn.clone(), Value::Str(p.kind.into())));
            }
            if conn_id {
                fields.push((self.names.conn_id.clone(), Value::Int(p.id as i64)));
            }
            if let Some(c) = p.client.filter(|_| client) {
                fields.push((
                    self.names.client.clone(),
                    Value::Str(if c.contains('\\') {
                        crate::classify::unquote_go(&format!("\"{c}\"")).into()
                    } else {
                        c.into()
                    }),
                ));
            }
            if let Some(a) = p.account_user.filter(|_| account_user) {
                fields.push((self.names.account_user.clone(), Value::Str(a.into())));
            }
        } else if let Some((node, group, _)) = &raft {
            if raft_node {
                fields.push((self.names.raft_node.clone(), Value::Str((*node).into())));
            }
            if raft_group {
                fields.push((self.names.raft_group.clone(), Value::Str((*group).into())));
            }
        }
        // Typed captures; a capture that does not convert (an int too large)
        // falls back to the next template that matches.
        let (kind, captured, matched) = match tidx.and_then(|i| templates[i].matches(body)) {
            Some(f) => (kind, f, true),
            None if tidx.is_some() => {
                let c = self.classifier.classify(body);
                (c.kind, c.fields, c.template.is_some())
            }
            None => (kind, Vec::new(), false),
        };
        // Text (prefix fields, captures, the message) is shared through the
        // interner only if the event is kept (`add`): most lines are counted
        // in an event kept before them, and a lookup in the interner is a
        // cache miss on its copy of the text.
        fields.extend(captured);
        if let Some(pid) = rec.pid.filter(|_| pid) {
            fields.push((self.names.pid.clone(), Value::Int(pid as i64)));
        }
        for (k, v) in rec.extra {
            fields.push((self.interner.get(&k), v));
        }

        let template = (!matched).then(|| self.interner.get(&normalize(body)));
        let ev = Event {
            ts,
            node: self.names.empty.clone(),
            level: rec.level,
            kind,
            fields,
            message: match &self.coalesce {
                Some(c) if !c.0.reads_message() && matches!(kept, Kept::Yes) => {
                    self.names.empty.clone()
                }
                _ => msg.into(),
            },
            template,
            loc: Location {
                file: self.file.clone(),
                line,
            },
            continuation: 0,
            repeat: 1,
            repeat_span: 0,
            absorbed: None,
            snapshot,
        };
        self.last_kept = self.add(ev, msg, seg, kept);
    }

    /// Counts a kept line of template `tidx` in the group open in its
    /// second when the rules cannot tell it from that group's event, reading
    /// its fields where they lie in the line ([`LineView`]): most kept lines
    /// end there, and making an `Event` of each (its fields' text copied)
    /// only to drop it was most of their cost. Returns false (nothing done)
    /// when the line opens a group or its fields need more than the
    /// matcher's split; `record_now` then makes its event as before.
    #[allow(clippy::too_many_arguments)]
    fn absorb_line(
        &mut self,
        tidx: usize,
        rec: &Record<'_>,
        msg: &str,
        body: &str,
        conn: &Option<crate::parse::log::nats::ConnPrefix<'_>>,
        raft: &Option<(&str, &str, &str)>,
        seg: usize,
        ts: Option<Timestamp>,
    ) -> bool {
        let (Some(policy), Some(ts)) = (&self.coalesce, ts) else {
            return false;
        };
        let template = &self.classifier.templates()[tidx];
        let Some(open) = self.edges.tail.get(&(seg, KindId::of(&template.kind))) else {
            return false;
        };
        if open.sec != ts.0.div_euclid(1_000_000_000) || open.level != rec.level {
            return false;
        }
        // The fields `record_now` would give the event, in its order.
        let [
            addr,
            conn_kind,
            conn_id,
            client,
            account_user,
            raft_node,
            raft_group,
            pid,
        ] = self.names.keep;
        let mut fields: Vec<(&str, ValueRef<'_>)> = Vec::with_capacity(12);
        if let Some(p) = conn {
            if addr {
                fields.push((&*self.names.addr, ValueRef::Str(p.addr)));
            }
            if conn_kind {
                fields.push((&*self.names.conn, ValueRef::Str(p.kind)));
            }
            if conn_id {
                fields.push((&*self.names.conn_id, ValueRef::Int(p.id as i64)));
            }
            if let Some(c) = p.client.filter(|_| client) {
                if c.contains('\\') {
                    return false;
                }
                fields.push((&*self.names.client, ValueRef::Str(c)));
            }
            if let Some(a) = p.account_user.filter(|_| account_user) {
                fields.push((&*self.names.account_user, ValueRef::Str(a)));
            }
        } else if let Some((node, group, _)) = raft {
            if raft_node {
                fields.push((&*self.names.raft_node, ValueRef::Str(node)));
            }
            if raft_group {
                fields.push((&*self.names.raft_group, ValueRef::Str(group)));
            }
        }
        if template.captures_in(body, &mut fields).is_none() {
            return false;
        }
        if let Some(p) = rec.pid.filter(|_| pid) {
            fields.push((&*self.names.pid, ValueRef::Int(p as i64)));
        }
        for (k, v) in &rec.extra {
            fields.push((k, ValueRef::of(v)));
        }
        let line = LineView {
            level: rec.level,
            node: &self.names.empty,
            kind: &template.kind,
            message: if policy.0.reads_message() { msg } else { "" },
            fields: &fields,
        };
        if !policy.0.same_key(&line, &open.key) {
            return false;
        }
        let distinct = policy.0.distinct_fields(&template.kind);
        self.events[open.idx].0.absorb_line(&line, ts, distinct);
        true
    }

    fn bare_now(&mut self, text: &str, line: u64) -> bool {
        // A message with its whole connection prefix (classified after it,
        // fields kept), or with the prefix cut at the left edge (kept without).
        let (body, msg) = match crate::parse::log::nats::parse_conn_prefix(text) {
            Some(p) => (p.rest, text),
            None => {
                let b = crate::parse::log::paste::strip_partial_conn_prefix(text).unwrap_or(text);
                (b, b)
            }
        };
        if body.len() < MIN_BARE_MESSAGE {
            return false;
        }
        let Some(i) = self.classifier.find(body) else {
            return false;
        };
        if crate::vocab::kind::is_banner(&self.classifier.templates()[i].kind) {
            return false;
        }
        // No time anywhere before it in this file: placed by its line.
        let ts = match self.last_ts {
            Some(t) if !t.is_line_order() => None,
            _ => Some(Timestamp::of_line(line)),
        };
        self.record_now(
            Record {
                ts,
                level: Level::Info,
                msg: std::borrow::Cow::Borrowed(msg),
                pid: None,
                node: None,
                format: "bare",
                extra: Vec::new(),
            },
            line,
        );
        true
    }
}
