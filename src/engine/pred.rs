//! Event predicates, three-valued: a missing field makes a comparison
//! unknown (`None`), and an event is selected only when its predicate is
//! `Some(true)`.

use crate::lang::ir::{CmpOp, FieldRef, Operand, Pred, Sel};
use crate::model::{Event, Level, LineView, Value, ValueRef};
use std::borrow::Cow;
use std::cmp::Ordering;

enum V<'a> {
    Num(f64),
    Str(Cow<'a, str>),
    Lvl(Level),
    Bool(bool),
}

fn from_value(v: &Value) -> V<'_> {
    from_ref(ValueRef::of(v))
}

fn from_ref(v: ValueRef<'_>) -> V<'_> {
    match v {
        ValueRef::Int(i) => V::Num(i as f64),
        ValueRef::Float(f) => V::Num(f),
        ValueRef::Str(s) => V::Str(Cow::Borrowed(s)),
        ValueRef::Bool(b) => V::Bool(b),
    }
}

/// What a predicate reads: an event, or a line not yet made one.
pub trait Subject {
    fn level(&self) -> Level;
    fn node(&self) -> &str;
    fn kind(&self) -> &str;
    fn message(&self) -> &str;
    fn field_ref(&self, name: &str) -> Option<ValueRef<'_>>;
}

impl Subject for Event {
    fn level(&self) -> Level {
        self.level
    }
    fn node(&self) -> &str {
        &self.node
    }
    fn kind(&self) -> &str {
        &self.kind
    }
    fn message(&self) -> &str {
        &self.message
    }
    fn field_ref(&self, name: &str) -> Option<ValueRef<'_>> {
        self.field(name).map(ValueRef::of)
    }
}

impl Subject for LineView<'_> {
    fn level(&self) -> Level {
        self.level
    }
    fn node(&self) -> &str {
        self.node
    }
    fn kind(&self) -> &str {
        self.kind
    }
    fn message(&self) -> &str {
        self.message
    }
    fn field_ref(&self, name: &str) -> Option<ValueRef<'_>> {
        self.field(name)
    }
}

fn operand<'a, S: Subject + ?Sized>(e: &'a S, o: &'a Operand) -> Option<V<'a>> {
    Some(match o {
        Operand::Lit(v) => from_value(v),
        Operand::Level(l) => V::Lvl(*l),
        Operand::Field(FieldRef::Level) => V::Lvl(e.level()),
        Operand::Field(FieldRef::Node) => V::Str(Cow::Borrowed(e.node())),
        Operand::Field(FieldRef::Kind) => V::Str(Cow::Borrowed(e.kind())),
        Operand::Field(FieldRef::Message) => V::Str(Cow::Borrowed(e.message())),
        Operand::Field(FieldRef::Field(n)) => from_ref(e.field_ref(n)?),
    })
}

fn compare(a: &V<'_>, b: &V<'_>) -> Option<Ordering> {
    match (a, b) {
        (V::Num(x), V::Num(y)) => x.partial_cmp(y),
        (V::Str(x), V::Str(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (V::Num(x), V::Str(s)) => s.trim().parse::<f64>().ok().and_then(|y| x.partial_cmp(&y)),
        (V::Str(s), V::Num(y)) => s.trim().parse::<f64>().ok().and_then(|x| x.partial_cmp(y)),
        (V::Lvl(x), V::Lvl(y)) => Some(x.cmp(y)),
        (V::Lvl(x), V::Str(s)) | (V::Str(s), V::Lvl(x)) => Level::parse(s).map(|y| x.cmp(&y)),
        (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn text<'a>(v: &'a V<'a>) -> Cow<'a, str> {
    match v {
        V::Num(n) => Cow::Owned(n.to_string()),
        V::Str(s) => Cow::Borrowed(s.as_ref()),
        V::Lvl(l) => Cow::Borrowed(l.name()),
        V::Bool(b) => Cow::Owned(b.to_string()),
    }
}

/// Evaluates a predicate on an event: `Some(true)`, `Some(false)` or unknown.
pub fn eval<S: Subject + ?Sized>(p: &Pred, e: &S) -> Option<bool> {
    match p {
        Pred::And(a, b) => match (eval(a, e), eval(b, e)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Pred::Or(a, b) => match (eval(a, e), eval(b, e)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Pred::Not(a) => eval(a, e).map(|x| !x),
        Pred::Cmp(a, op, b) => {
            let (x, y) = (operand(e, a)?, operand(e, b)?);
            let ord = compare(&x, &y);
            match (ord, op) {
                (Some(o), _) => Some(op.eval_ord(o)),
                (None, CmpOp::Eq) => Some(false),
                (None, CmpOp::Ne) => Some(true),
                (None, _) => None,
            }
        }
        Pred::In(a, set, neg) => {
            let x = operand(e, a)?;
            let found = set
                .iter()
                .any(|v| compare(&x, &from_value(v)) == Some(Ordering::Equal));
            Some(found != *neg)
        }
        Pred::Match(a, re, neg) => {
            let x = operand(e, a)?;
            Some(re.is_match(&text(&x)) != *neg)
        }
        Pred::InRange(a, range, neg) => {
            let x = operand(e, a)?;
            let r = crate::model::Release::parse(&text(&x))?;
            Some(range.contains(r) != *neg)
        }
        Pred::Has(f) => Some(match f {
            FieldRef::Field(n) => e.field_ref(n).is_some(),
            _ => true,
        }),
    }
}

/// True when the event is of one of the selector's kinds and its predicate holds.
pub fn selects<S: Subject + ?Sized>(sel: &Sel, e: &S) -> bool {
    if let Some(kinds) = &sel.kinds
        && !kinds.iter().any(|k| **k == *e.kind())
    {
        return false;
    }
    match &sel.pred {
        None => true,
        Some(p) => eval(p, e) == Some(true),
    }
}
