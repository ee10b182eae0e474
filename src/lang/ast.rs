//! The syntax tree of a rule pack, as written. Every node keeps its byte span
//! in the pack source so the checker can point at it. Nothing here is
//! resolved: kinds, metrics, categories and rule references are plain text.

use crate::model::Nanos;

/// A byte range in the pack source.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

/// A value with the span it was written at.
#[derive(Clone, Debug, PartialEq)]
pub struct Sp<T> {
    pub v: T,
    pub span: Span,
}

impl<T> Sp<T> {
    pub fn new(v: T, span: Span) -> Sp<T> {
        Sp { v, span }
    }
}

/// One parsed `.rules` file.
#[derive(Clone, Debug, Default)]
pub struct PackFile {
    /// `pack <name>` if present.
    pub name: Option<Sp<String>>,
    pub description: Option<String>,
    pub templates: Vec<TemplateDecl>,
    pub rules: Vec<RuleDecl>,
}

/// `template <kind> "<pattern>" [catalog <ID>]`, then its meaning lines:
///
/// ```text
/// template js_out_of_resources "JetStream out of {store:word} resources, will be DISABLED" catalog G1
///   means    "JetStream ran out of storage and disabled itself on this server"
///   evidence storage-exhaustion
///   weight   decisive
///   releases 2.6.2..
/// ```
#[derive(Clone, Debug)]
pub struct TemplateDecl {
    pub kind: Sp<String>,
    pub pattern: Sp<String>,
    pub catalog: Option<Sp<String>>,
    /// `means "..."`: what the message means.
    pub means: Option<Sp<String>>,
    /// `evidence cat, cat`: cause categories it is evidence of.
    pub evidence: Vec<Sp<String>>,
    /// `weight decisive|few|context`.
    pub weight: Option<Sp<String>>,
    /// `releases 2.2.0..` (as written; checked later).
    pub releases: Option<Sp<String>>,
    pub span: Span,
}

/// The attribute lines a template may carry.
pub const TEMPLATE_ATTRS: &[&str] = &["means", "evidence", "weight", "releases"];

#[derive(Clone, Debug)]
pub struct RuleDecl {
    pub id: Sp<String>,
    pub span: Span,
    pub title: Option<Sp<String>>,
    pub description: Option<Sp<String>>,
    pub severity: Option<Sp<String>>,
    pub category: Option<Sp<String>>,
    pub when: Option<Sp<Detect>>,
    pub message: Option<Sp<String>>,
    pub advice: Option<Sp<String>>,
    pub collect: Vec<Sp<String>>,
    pub explains: Vec<Sp<String>>,
    pub merge: Option<Sp<Nanos>>,
    /// `fixed 2.10.9`: the release that fixes the known defect this rule detects.
    pub fixed: Option<Sp<String>>,
    pub examples: Vec<Example>,
}

/// Comparison operators.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    pub fn eval_f64(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }

    pub fn eval_ord(self, o: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Eq => o == Equal,
            CmpOp::Ne => o != Equal,
            CmpOp::Lt => o == Less,
            CmpOp::Le => o != Greater,
            CmpOp::Gt => o == Greater,
            CmpOp::Ge => o != Less,
        }
    }
}

/// A literal in a condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    Num(f64),
    Str(String),
    Bool(bool),
}

/// An operand of an event condition: a field (or `level`, `node`, `kind`,
/// `message`) or a literal.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Field(Sp<String>),
    Lit(Sp<Lit>),
}

/// An event condition (`where ...`).
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    Cmp(Operand, CmpOp, Operand),
    In(Operand, Vec<Sp<Lit>>, bool),
    Match(Operand, Sp<String>, bool),
    /// `release in 2.10.0..2.10.8` (negated with `not in`); the range as written.
    InRange(Operand, Sp<String>, bool),
    Has(Sp<String>),
}

/// `kind | kind ... [where cond]`
#[derive(Clone, Debug, PartialEq)]
pub struct Selector {
    pub kinds: Vec<Sp<String>>,
    pub cond: Option<Cond>,
    pub span: Span,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Agg {
    Count,
    Distinct,
    Sum,
    Max,
    Min,
    Avg,
}

impl Agg {
    pub const NAMES: &'static [&'static str] = &["count", "distinct", "sum", "max", "min", "avg"];

    pub fn parse(s: &str) -> Option<Agg> {
        Some(match s {
            "count" => Agg::Count,
            "distinct" => Agg::Distinct,
            "sum" => Agg::Sum,
            "max" => Agg::Max,
            "min" => Agg::Min,
            "avg" => Agg::Avg,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        Agg::NAMES[self as usize]
    }
}

/// Arithmetic over metric series at one instant.
#[derive(Clone, Debug, PartialEq)]
pub enum MExpr {
    Num(f64),
    Metric(Sp<String>),
    Call(Sp<String>, Vec<MExpr>),
    Bin(Box<MExpr>, char, Box<MExpr>),
}

/// `mexpr op mexpr`, combined with `and` / `or`.
#[derive(Clone, Debug, PartialEq)]
pub enum MCond {
    Cmp(MExpr, CmpOp, MExpr),
    And(Box<MCond>, Box<MCond>),
    Or(Box<MCond>, Box<MCond>),
}

/// A detection: what makes a rule fire.
#[derive(Clone, Debug, PartialEq)]
pub enum Detect {
    /// `event SEL [by k, ...]`
    Event { sel: Selector, by: Vec<Sp<String>> },
    /// `AGG([field of] SEL) op N within D [by k, ...]`
    Window {
        agg: Sp<Agg>,
        field: Option<Sp<String>>,
        sel: Selector,
        op: CmpOp,
        value: Sp<f64>,
        within: Sp<i64>,
        by: Vec<Sp<String>>,
    },
    /// `metric COND [for D]`
    Metric { cond: MCond, for_: Option<Sp<i64>> },
    /// `event A not followed by B within D [by k]`
    NotFollowed {
        a: Selector,
        b: Selector,
        within: Sp<i64>,
        by: Vec<Sp<String>>,
    },
    /// `sequence [by k] within D { step ... }`
    Sequence {
        by: Vec<Sp<String>>,
        within: Sp<i64>,
        steps: Vec<Step>,
    },
    /// `silence [of SEL] [and scrapes] for D [while peers active]`
    Silence {
        sel: Option<Selector>,
        scrapes: bool,
        dur: Sp<i64>,
        peers: bool,
    },
    /// `gap for D [while peers active]`
    Gap { dur: Sp<i64>, peers: bool },
    /// `cascade R, ... then R, ... on peers within D [min N]`
    Cascade {
        origin: Vec<Sp<String>>,
        then: Vec<Sp<String>>,
        within: Sp<i64>,
        min: usize,
    },
}

/// One step of a sequence, with an optional `without SEL` (nothing matching
/// SEL, with the same key, between the previous step and this one).
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub detect: Sp<Detect>,
    pub without: Option<Selector>,
}

/// `example fire|quiet ["name"] { lines }`
#[derive(Clone, Debug)]
pub struct Example {
    pub fire: bool,
    pub name: Option<String>,
    /// Raw lines with their byte offsets in the pack source.
    pub lines: Vec<(usize, String)>,
    pub span: Span,
}
