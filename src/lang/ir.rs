//! The checked, resolved form of rules: what the engine evaluates. Built once
//! by [`check`](super::check); nothing is re-parsed per event.

use crate::model::{Level, Nanos, Release, ReleaseRange, Severity, Value};
use regex::Regex;
use std::sync::Arc;

pub use super::ast::{Agg, CmpOp};

/// A rule ready to run.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: Arc<str>,
    pub title: Arc<str>,
    pub description: Option<Arc<str>>,
    pub severity: Severity,
    pub category: Arc<str>,
    pub pack: Arc<str>,
    pub file: Arc<str>,
    pub line: usize,
    pub detect: Detect,
    /// Message template with `{placeholders}`; the title when not given.
    pub message: Arc<str>,
    pub advice: Option<Arc<str>>,
    pub collect: Vec<Arc<str>>,
    /// Rule ids this rule's findings explain (globs expanded).
    pub explains: Vec<Arc<str>>,
    /// Hits of this rule on the same node and key closer than this merge into one finding.
    pub merge: Nanos,
    /// For known-defect rules: the release that fixes the defect (`fixed`).
    pub fixed: Option<Release>,
    pub examples: Vec<Example>,
    /// The rule's source text, for `rules explain`.
    pub source: Arc<str>,
}

#[derive(Clone, Debug)]
pub struct Example {
    pub fire: bool,
    pub name: Option<String>,
    /// (1-based line in the pack file, text)
    pub lines: Vec<(usize, String)>,
    pub line: usize,
}

/// What a rule detects.
#[derive(Clone, Debug)]
pub enum Detect {
    Event {
        sel: Sel,
        by: Vec<Arc<str>>,
    },
    Window {
        agg: Agg,
        field: Option<Arc<str>>,
        sel: Sel,
        op: CmpOp,
        value: f64,
        within: Nanos,
        by: Vec<Arc<str>>,
    },
    Metric(MetricCond),
    NotFollowed {
        a: Sel,
        b: Sel,
        within: Nanos,
        by: Vec<Arc<str>>,
    },
    Sequence {
        by: Vec<Arc<str>>,
        within: Nanos,
        steps: Vec<Step>,
    },
    Silence {
        sel: Option<Sel>,
        scrapes: bool,
        dur: Nanos,
        peers: bool,
    },
    Gap {
        dur: Nanos,
        peers: bool,
    },
    Cascade {
        origin: Vec<Arc<str>>,
        then: Vec<Arc<str>>,
        within: Nanos,
        min: usize,
    },
}

impl Detect {
    /// Rules whose findings this detection reads (cascades only).
    pub fn depends_on(&self) -> Vec<Arc<str>> {
        match self {
            Detect::Cascade { origin, then, .. } => origin.iter().chain(then).cloned().collect(),
            _ => Vec::new(),
        }
    }
}

impl Detect {
    /// The metrics this detection is decided on (each metric condition's
    /// first metric, sequence steps included), in order, distinct.
    pub fn metrics(&self) -> Vec<Arc<str>> {
        let mut out: Vec<Arc<str>> = Vec::new();
        match self {
            Detect::Metric(m) => out.push(m.primary.clone()),
            Detect::Sequence { steps, .. } => {
                for s in steps {
                    for m in s.detect.metrics() {
                        if !out.contains(&m) {
                            out.push(m);
                        }
                    }
                }
            }
            _ => {}
        }
        out
    }
}

#[derive(Clone, Debug)]
pub struct Step {
    pub detect: Detect,
    pub without: Option<Sel>,
}

/// An event selector: kinds (None = any) and a predicate.
#[derive(Clone, Debug)]
pub struct Sel {
    pub kinds: Option<Vec<Arc<str>>>,
    pub pred: Option<Pred>,
}

/// Where a value comes from in an event.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldRef {
    Level,
    Node,
    Kind,
    Message,
    Field(Arc<str>),
}

#[derive(Clone, Debug)]
pub enum Operand {
    Field(FieldRef),
    Lit(Value),
    Level(Level),
}

/// A checked event predicate (three-valued: a missing field is unknown).
#[derive(Clone, Debug)]
pub enum Pred {
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
    Not(Box<Pred>),
    Cmp(Operand, CmpOp, Operand),
    In(Operand, Vec<Value>, bool),
    Match(Operand, Regex, bool),
    /// The operand read as a release, inside the range (`not in`: outside);
    /// unknown when it is missing or not a release.
    InRange(Operand, ReleaseRange, bool),
    Has(FieldRef),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PeerAgg {
    Median,
    Max,
    Min,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum WinFn {
    Avg,
    Max,
    Min,
    /// median of the trailing window, excluding the current instant
    Baseline,
    /// value now minus value D ago
    Change,
    /// change per second over D
    Rate,
}

/// A metric expression at one instant on one node.
#[derive(Clone, Debug)]
pub enum MX {
    Num(f64),
    Metric(Arc<str>),
    Peers(Arc<str>, PeerAgg),
    Win(WinFn, Arc<str>, Nanos),
    Bin(Box<MX>, char, Box<MX>),
}

#[derive(Clone, Debug)]
pub enum MC {
    Cmp(MX, CmpOp, MX),
    And(Box<MC>, Box<MC>),
    Or(Box<MC>, Box<MC>),
}

#[derive(Clone, Debug)]
pub struct MetricCond {
    pub cond: MC,
    pub for_: Option<Nanos>,
    /// The first metric named: its samples are the instants the condition is evaluated at.
    pub primary: Arc<str>,
    /// The condition as written, for evidence lines.
    pub text: Arc<str>,
}

/// Fields the ingestion layer adds from the connection and RAFT prefixes, and
/// the ones it derives from the stream of each node (`uptime`, `conn_age`:
/// see `ingest::derive_fields`).
pub const PREFIX_FIELDS: &[&str] = &[
    "addr",
    "conn",
    "conn_id",
    "client",
    "account_user",
    "raft_node",
    "raft_group",
    "uptime",
    "conn_age",
];

/// Event attributes usable in conditions besides captured fields.
pub const BUILTIN_FIELDS: &[&str] = &["level", "node", "kind", "message", "msg", "release"];

/// The field that holds the node's nats-server release at the event's time
/// (from the banner's `Version:` or `/varz` `version`); absent when unknown.
pub const RELEASE_FIELD: &str = "release";
