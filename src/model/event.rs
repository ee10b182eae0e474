//! One log record after parsing and classification.

use super::{Node, Timestamp};
use std::fmt;
use std::sync::Arc;

/// Severity of a log line, as the server labelled it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl Level {
    pub const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];

    /// Parses a nats-server tag (`INF`) or a common name (`info`, `warning`, `err`).
    pub fn parse(s: &str) -> Option<Level> {
        let s = s.trim();
        Some(match s.to_ascii_lowercase().as_str() {
            "trc" | "trace" => Level::Trace,
            "dbg" | "debug" => Level::Debug,
            "inf" | "info" | "notice" | "information" => Level::Info,
            "wrn" | "warn" | "warning" => Level::Warn,
            "err" | "error" | "eror" => Level::Error,
            "ftl" | "fatal" | "crit" | "critical" | "panic" => Level::Fatal,
            _ => return None,
        })
    }

    /// The nats-server tag: `INF`, `WRN`, ...
    pub fn tag(self) -> &'static str {
        match self {
            Level::Trace => "TRC",
            Level::Debug => "DBG",
            Level::Info => "INF",
            Level::Warn => "WRN",
            Level::Error => "ERR",
            Level::Fatal => "FTL",
        }
    }

    /// Lower-case name used in the rule language and JSON: `info`, `warn`, ...
    pub fn name(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a line came from: a display path (archive members as
/// `bundle.tar.gz!n1/nats.log`) and a 1-based line number.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub file: Arc<str>,
    pub line: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A typed field value captured from a message.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    Bool(bool),
}

impl Value {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Value::Str(s) => s.parse().ok(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => f.write_str(s),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// Named fields of an event, in capture order. Small, so a Vec beats a map.
pub type Fields = Vec<(Arc<str>, Value)>;

/// A field value borrowed from the line it was read from ([`LineView`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueRef<'a> {
    Int(i64),
    Float(f64),
    Str(&'a str),
    Bool(bool),
}

impl<'a> ValueRef<'a> {
    pub fn of(v: &'a Value) -> ValueRef<'a> {
        match v {
            Value::Int(i) => ValueRef::Int(*i),
            Value::Float(f) => ValueRef::Float(*f),
            Value::Str(s) => ValueRef::Str(s),
            Value::Bool(b) => ValueRef::Bool(*b),
        }
    }

    /// Equal to the owned value as `Value`'s `==` says (floats by `==`).
    pub fn eq_value(self, v: &Value) -> bool {
        match (self, v) {
            (ValueRef::Int(a), Value::Int(b)) => a == *b,
            (ValueRef::Float(a), Value::Float(b)) => a == *b,
            (ValueRef::Str(a), Value::Str(b)) => a == &**b,
            (ValueRef::Bool(a), Value::Bool(b)) => a == *b,
            _ => false,
        }
    }

    /// [`value_hash`] of the owned value.
    pub fn hash(self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        match self {
            ValueRef::Str(s) => s.hash(&mut h),
            ValueRef::Int(i) => i.to_string().hash(&mut h),
            ValueRef::Float(f) => f.to_string().hash(&mut h),
            ValueRef::Bool(b) => b.to_string().hash(&mut h),
        }
        h.finish()
    }
}

/// A classified line before it is made an [`Event`]: what a predicate or a
/// coalescing key reads of it, borrowed (ingestion decides on it whether the
/// line is counted in an event kept before it, without building one).
#[derive(Clone, Copy, Debug)]
pub struct LineView<'a> {
    pub level: Level,
    pub node: &'a str,
    pub kind: &'a str,
    pub message: &'a str,
    /// In the order the event's fields would have.
    pub fields: &'a [(&'a str, ValueRef<'a>)],
}

impl<'a> LineView<'a> {
    /// The first field named `name`, as [`Event::field`].
    pub fn field(&self, name: &str) -> Option<ValueRef<'a>> {
        self.fields
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
    }
}

/// One log record: a parsed line (plus its continuation lines), attributed to a
/// node and classified.
#[derive(Clone, Debug)]
pub struct Event {
    /// UTC time; `None` when the server logged without timestamps
    /// (`logtime: false`): such events are ordered by line.
    pub ts: Option<Timestamp>,
    pub node: Node,
    pub level: Level,
    /// Template kind (e.g. `js_api_pending`), or `unknown` when no template matched.
    pub kind: Arc<str>,
    pub fields: Fields,
    /// The message text after the header (connection prefix included);
    /// shared between events with the same text.
    pub message: Arc<str>,
    /// Normalized template of the message (numbers, ids, addresses masked),
    /// used to count unmatched messages.
    pub template: Option<Arc<str>>,
    pub loc: Location,
    /// Continuation lines attached to this record (banners, stack dumps).
    pub continuation: u32,
    /// Lines this event stands for (at least 1): under `Keep::Relevant`,
    /// later lines of the same segment, kind, level and second that no rule
    /// can tell from this one are counted here instead of kept.
    pub repeat: u32,
    /// Nanoseconds from this line to the last line counted in `repeat`
    /// (under a second; 0 for a single line).
    pub repeat_span: u32,
    /// For lines counted in `repeat`: hashes of their values of the fields
    /// rules count distinct values of ([`value_hash`]), per field, each
    /// once, sorted.
    pub absorbed: Option<Box<Vec<(Arc<str>, Vec<u64>)>>>,
    /// A row of a CLI output or a pasted monitoring dump (`parse::log::cli`):
    /// a state seen when the output was taken, not a line logged at its time.
    /// Without a time of its own, it is dated after the logs beside it.
    pub snapshot: bool,
}

/// Adds `h` to a sorted set of hashes (a distinct count reads only the set:
/// a storm of lines with a few values keeps a few hashes, not one per line).
fn insert_sorted(set: &mut Vec<u64>, h: u64) {
    if let Err(at) = set.binary_search(&h) {
        set.insert(at, h);
    }
}

/// A stable 64-bit hash of a value's text (distinct counts compare values as text).
pub fn value_hash(v: &Value) -> u64 {
    use std::hash::{Hash, Hasher};
    // SipHash with fixed keys: the same on every run and machine.
    let mut h = std::hash::DefaultHasher::new();
    match v {
        Value::Str(s) => s.hash(&mut h),
        other => other.to_string().hash(&mut h),
    }
    h.finish()
}

impl Event {
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(k, _)| &**k == name)
            .map(|(_, v)| v)
    }

    /// Hashes of the values of field `f` of the lines counted in `repeat`.
    pub fn absorbed_hashes(&self, f: &str) -> Option<&[u64]> {
        self.absorbed
            .as_ref()?
            .iter()
            .find(|(k, _)| &**k == f)
            .map(|(_, v)| &v[..])
    }

    /// Time of the last line this event stands for.
    pub fn last_ts(&self) -> Option<Timestamp> {
        self.ts
            .map(|t| Timestamp(t.0.saturating_add(i64::from(self.repeat_span))))
    }

    /// Counts `other` (a later line of the same second) in this event,
    /// keeping the hashes of its values of `distinct` fields.
    pub fn absorb(&mut self, other: &Event, distinct: &[Arc<str>]) {
        self.absorb_with(distinct, other.repeat.max(1), other.last_ts(), |f| {
            (other.field(f).map(value_hash), other.absorbed_hashes(f))
        });
    }

    /// Counts one line read as `line` at `ts` in this event, as [`Event::absorb`]
    /// would count the event made of it.
    pub fn absorb_line(&mut self, line: &LineView<'_>, ts: Timestamp, distinct: &[Arc<str>]) {
        self.absorb_with(distinct, 1, Some(ts), |f| {
            (line.field(f).map(ValueRef::hash), None)
        });
    }

    /// `repeat` lines, the last at `last`; `of(field)`: the hash of their
    /// first line's value and those of the lines it stands for.
    fn absorb_with<'o>(
        &mut self,
        distinct: &[Arc<str>],
        repeat: u32,
        last: Option<Timestamp>,
        of: impl Fn(&str) -> (Option<u64>, Option<&'o [u64]>),
    ) {
        if !distinct.is_empty() {
            let sets = self.absorbed.get_or_insert_with(Default::default);
            for f in distinct {
                let i = match sets.iter().position(|(k, _)| k == f) {
                    Some(i) => i,
                    None => {
                        sets.push((f.clone(), Vec::new()));
                        sets.len() - 1
                    }
                };
                let (first, theirs) = of(f);
                for h in first.iter().chain(theirs.unwrap_or_default()) {
                    insert_sorted(&mut sets[i].1, *h);
                }
            }
        }
        self.repeat = self.repeat.saturating_add(repeat);
        if let (Some(a), Some(b)) = (self.ts, last) {
            let span = (b.0 - a.0).clamp(0, 999_999_999) as u32;
            self.repeat_span = self.repeat_span.max(span);
        }
    }

    /// A test event: an info line of `kind` at `ts` (ns) on `node`, read from
    /// `file:line`, without fields.
    #[cfg(test)]
    pub(crate) fn at(ts: i64, node: &str, kind: &str, file: &str, line: u64) -> Event {
        Event {
            ts: Some(Timestamp(ts)),
            node: node.into(),
            level: Level::Info,
            kind: kind.into(),
            fields: Vec::new(),
            message: "".into(),
            template: None,
            loc: Location {
                file: file.into(),
                line,
            },
            continuation: 0,
            repeat: 1,
            repeat_span: 0,
            absorbed: None,
            snapshot: false,
        }
    }

    /// Sort key for the merged stream: (time, node, file, line).
    pub fn order_key(&self) -> (Option<Timestamp>, &str, &str, u64) {
        (self.ts, &self.node, &self.loc.file, self.loc.line)
    }
}
