//! Which events the rules cannot tell apart, so ingestion may keep one of them
//! with a repeat count instead of all of them.
//!
//! Two events of one segment (so one node), one kind, one level and one
//! second are interchangeable for a rule set when every selector of every
//! rule that could read them gives the same answer on both, and the fields
//! that rules group by (`by`) or aggregate (`max(field)`, `distinct(field)`)
//! have equal values. Ingestion then keeps the first of them and counts the
//! others in [`Event::repeat`]; the engine sums repeats wherever it counts
//! events (window counts and sums, finding counts). What is given up: the
//! position of the later lines inside their second (windows see them at the
//! time of the first one), and their own text (evidence shows the first).

use crate::ingest::{Coalesce, CoalesceKey};
use crate::lang::RuleSet;
use crate::lang::ir::{Agg, Detect, Sel};
use crate::model::{Event, LineView, Value, ValueRef};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
struct KindPolicy {
    sels: Vec<Sel>,
    /// The selectors whose answer the key must hold ([`KindPolicy::key_sels`]).
    key_sels: Vec<Sel>,
    /// Fields whose values must be equal to merge (`by` keys, aggregated values).
    fields: Vec<Arc<str>>,
    /// Fields counted with `distinct(...)`: merged lines keep their value hashes.
    distinct: Vec<Arc<str>>,
    /// Every field a rule reads of this kind: the above and those its
    /// selectors' conditions name.
    reads: std::collections::BTreeSet<Arc<str>>,
}

fn add_all(to: &mut Vec<Arc<str>>, fields: &[Arc<str>]) {
    for f in fields {
        if !to.contains(f) {
            to.push(f.clone());
        }
    }
}

impl KindPolicy {
    /// The selectors whose answers can differ between two lines of this kind
    /// that agree on [`KindPolicy::fields`] (and, being of one group, on
    /// node, kind and level), each once. A selector without a condition
    /// answers the same for every line of the kind, and one whose condition
    /// reads only compared fields, the level, node or kind answers the same
    /// for lines with equal values: keeping them would only cost time (the
    /// key is computed for every kept line).
    fn key_sels(&self) -> Vec<Sel> {
        let mut seen: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for s in &self.sels {
            let Some(p) = &s.pred else { continue };
            let mut read = std::collections::BTreeSet::new();
            pred_fields(p, &mut read);
            if !pred_reads_message(p) && read.iter().all(|f| self.fields.contains(f)) {
                continue;
            }
            // One kind's answer to a selector is its condition's: equal
            // conditions answer alike.
            let text = format!("{p:?}");
            if !seen.contains(&text) {
                seen.push(text);
                out.push(s.clone());
            }
        }
        out
    }

    fn add(&mut self, sel: &Sel, fields: &[Arc<str>], distinct: Option<&Arc<str>>) {
        self.sels.push(sel.clone());
        add_all(&mut self.fields, fields);
        if let Some(d) = distinct {
            add_all(&mut self.distinct, std::slice::from_ref(d));
        }
    }
}

/// What the rules of a rule set can distinguish, per event kind.
#[derive(Clone, Debug, Default)]
pub struct Indistinct {
    per_kind: HashMap<Arc<str>, KindPolicy, foldhash::fast::FixedState>,
    /// Selectors of any kind (`event any ...`) and their fields.
    any: KindPolicy,
    /// Some selector or key reads the message text.
    reads_message: bool,
    /// Every event field a rule names (conditions, keys, aggregates,
    /// `{placeholders}` of messages, advice and collect lines), and the ones
    /// the diagnosis reads: the others need not be kept.
    fields_read: std::collections::BTreeSet<Arc<str>>,
    /// Fields read of every kind: `{placeholders}` of the messages, advice
    /// and collect lines of rules that cite events of any kind (`event any`,
    /// silences, cascades), and [`ALWAYS_READ`].
    read_of_all: std::collections::BTreeSet<Arc<str>>,
    /// `{placeholders}` of the rules that select events by kind, per kind
    /// they select: a finding cites only events its rule selected.
    placeholders:
        HashMap<Arc<str>, std::collections::BTreeSet<Arc<str>>, foldhash::fast::FixedState>,
}

/// Adds the kinds `d` selects to `out`; false when it selects events of any
/// kind, or cites events without selecting them by kind (silences, metric
/// conditions, gaps, cascades).
fn selected_kinds(d: &Detect, out: &mut std::collections::BTreeSet<Arc<str>>) -> bool {
    fn sel(s: &Sel, out: &mut std::collections::BTreeSet<Arc<str>>) -> bool {
        match &s.kinds {
            Some(k) => {
                out.extend(k.iter().cloned());
                true
            }
            None => false,
        }
    }
    match d {
        Detect::Event { sel: s, .. } | Detect::Window { sel: s, .. } => sel(s, out),
        Detect::NotFollowed { a, b, .. } => sel(a, out) & sel(b, out),
        Detect::Sequence { steps, .. } => steps.iter().fold(true, |ok, st| {
            let without = st.without.as_ref().is_none_or(|w| sel(w, out));
            selected_kinds(&st.detect, out) & without & ok
        }),
        _ => false,
    }
}

/// The `{placeholders}` of a rule's message, advice and collect lines.
fn rule_placeholders(r: &crate::lang::ir::Rule) -> std::collections::BTreeSet<Arc<str>> {
    let mut named = std::collections::BTreeSet::new();
    let texts = std::iter::once(&r.message)
        .chain(r.advice.as_ref())
        .chain(&r.collect);
    for t in texts {
        placeholder_fields(t, &mut named);
    }
    named
}

/// Fields read outside the rules: the diagnosis's clock offsets (`leader`)
/// the RAFT peer name resolved after attribution (`raft_node`) and the
/// banner's `version` (the node's release, for `release in ...`).
const ALWAYS_READ: &[&str] = &["leader", "raft_node", "raft_node_name", "version"];

fn pred_fields(p: &crate::lang::ir::Pred, out: &mut std::collections::BTreeSet<Arc<str>>) {
    use crate::lang::ir::{FieldRef, Operand, Pred};
    let mut op = |o: &Operand| {
        if let Operand::Field(FieldRef::Field(f)) = o {
            out.insert(f.clone());
        }
    };
    match p {
        Pred::And(a, b) | Pred::Or(a, b) => {
            pred_fields(a, out);
            pred_fields(b, out);
        }
        Pred::Not(a) => pred_fields(a, out),
        Pred::Cmp(a, _, b) => {
            op(a);
            op(b);
        }
        Pred::In(a, ..) | Pred::Match(a, ..) | Pred::InRange(a, ..) => op(a),
        Pred::Has(FieldRef::Field(f)) => {
            out.insert(f.clone());
        }
        Pred::Has(_) => {}
    }
}

/// `{name}` and `{last.name}` / `{s2.name}` placeholders of a text.
pub(crate) fn placeholder_fields(text: &str, out: &mut std::collections::BTreeSet<Arc<str>>) {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        // `{field?}` reads the field too (empty when the line has none).
        let name = after[..close].trim().trim_end_matches('?');
        let name = name.rsplit('.').next().unwrap_or(name);
        if !name.is_empty() {
            out.insert(Arc::from(name));
        }
        rest = &after[close + 1..];
    }
}

fn pred_reads_message(p: &crate::lang::ir::Pred) -> bool {
    use crate::lang::ir::{FieldRef, Operand, Pred};
    let op = |o: &Operand| matches!(o, Operand::Field(FieldRef::Message));
    match p {
        Pred::And(a, b) | Pred::Or(a, b) => pred_reads_message(a) || pred_reads_message(b),
        Pred::Not(a) => pred_reads_message(a),
        Pred::Cmp(a, _, b) => op(a) || op(b),
        Pred::In(a, ..) | Pred::Match(a, ..) | Pred::InRange(a, ..) => op(a),
        Pred::Has(f) => *f == FieldRef::Message,
    }
}

impl Indistinct {
    pub fn new(rules: &RuleSet) -> Indistinct {
        let mut me = Indistinct::default();
        for r in rules.rules() {
            me.walk(&r.detect, &[]);
        }
        for p in me.per_kind.values().chain([&me.any]) {
            for sel in &p.sels {
                if let Some(pr) = &sel.pred {
                    pred_fields(pr, &mut me.fields_read);
                }
            }
            me.fields_read.extend(p.fields.iter().cloned());
            me.fields_read.extend(p.distinct.iter().cloned());
        }
        for r in rules.rules() {
            let named = rule_placeholders(r);
            let mut kinds = std::collections::BTreeSet::new();
            if selected_kinds(&r.detect, &mut kinds) {
                for k in kinds {
                    me.placeholders
                        .entry(k)
                        .or_default()
                        .extend(named.iter().cloned());
                }
            } else {
                me.read_of_all.extend(named.iter().cloned());
            }
            me.fields_read.extend(named);
        }
        me.read_of_all
            .extend(ALWAYS_READ.iter().map(|f| Arc::from(*f)));
        me.fields_read.extend(me.read_of_all.iter().cloned());
        // `conn_age` is derived after ingestion from the route id of the
        // creation and close lines (ingest::derive_fields): a rule that reads
        // it needs those lines kept apart per route id.
        if me.fields_read.contains("conn_age") {
            let derived_from: [Arc<str>; 2] = [Arc::from("conn"), Arc::from("conn_id")];
            for kind in [
                crate::vocab::kind::ROUTE_CREATED,
                crate::vocab::kind::CONNECTION_CLOSED,
            ] {
                let p = me.per_kind.entry(Arc::from(kind)).or_default();
                add_all(&mut p.fields, &derived_from);
            }
            me.fields_read.extend(derived_from);
        }
        me.reads_message = me.per_kind.values().chain([&me.any]).any(|p| {
            p.sels
                .iter()
                .any(|s| s.pred.as_ref().is_some_and(pred_reads_message))
                || p.fields.iter().any(|f| matches!(&**f, "message" | "msg"))
        });
        // Selectors of any kind read every kind.
        let any = me.any.clone();
        for p in me.per_kind.values_mut() {
            p.sels.extend(any.sels.iter().cloned());
            add_all(&mut p.fields, &any.fields);
            add_all(&mut p.distinct, &any.distinct);
        }
        for p in me.per_kind.values_mut().chain([&mut me.any]) {
            for sel in &p.sels {
                if let Some(pr) = &sel.pred {
                    pred_fields(pr, &mut p.reads);
                }
            }
            p.reads.extend(p.fields.iter().cloned());
            p.reads.extend(p.distinct.iter().cloned());
            p.key_sels = p.key_sels();
        }
        me
    }

    fn sel(&mut self, s: &Sel, fields: &[Arc<str>]) {
        self.sel_distinct(s, fields, None);
    }

    fn sel_distinct(&mut self, s: &Sel, fields: &[Arc<str>], distinct: Option<&Arc<str>>) {
        match &s.kinds {
            Some(kinds) => {
                for k in kinds {
                    self.per_kind
                        .entry(k.clone())
                        .or_default()
                        .add(s, fields, distinct);
                }
            }
            None => self.any.add(s, fields, distinct),
        }
    }

    fn walk(&mut self, d: &Detect, outer_by: &[Arc<str>]) {
        let with = |by: &[Arc<str>], extra: Option<&Arc<str>>| -> Vec<Arc<str>> {
            outer_by
                .iter()
                .chain(by)
                .chain(extra)
                .filter(|f| !matches!(&***f, "level" | "kind" | "node"))
                .cloned()
                .collect()
        };
        match d {
            Detect::Event { sel, by } => self.sel(sel, &with(by, None)),
            Detect::Window {
                sel,
                by,
                field,
                agg: Agg::Distinct,
                ..
            } if field.as_deref().is_some_and(e_field) => {
                self.sel_distinct(sel, &with(by, None), field.as_ref())
            }
            Detect::Window { sel, by, field, .. } => self.sel(sel, &with(by, field.as_ref())),
            Detect::NotFollowed { a, b, by, .. } => {
                let f = with(by, None);
                self.sel(a, &f);
                self.sel(b, &f);
            }
            Detect::Sequence { by, steps, .. } => {
                let f = with(by, None);
                for st in steps {
                    self.walk(&st.detect, &f);
                    if let Some(w) = &st.without {
                        self.sel(w, &f);
                    }
                }
            }
            Detect::Silence { sel: Some(s), .. } => self.sel(s, &[]),
            Detect::Silence { sel: None, .. }
            | Detect::Metric(_)
            | Detect::Gap { .. }
            | Detect::Cascade { .. } => {}
        }
    }
}

/// A captured field, whose value ingestion knows (not one added later or a
/// built-in attribute): merged lines keep hashes of these.
fn e_field(f: &str) -> bool {
    !matches!(
        f,
        "raft_node_name" | "message" | "msg" | "level" | "kind" | "node"
    )
}

impl Indistinct {
    fn policy(&self, kind: &str) -> &KindPolicy {
        self.per_kind.get(kind).unwrap_or(&self.any)
    }
}

impl Coalesce for Indistinct {
    fn distinct_fields(&self, kind: &str) -> &[Arc<str>] {
        &self.policy(kind).distinct
    }

    fn reads_message(&self) -> bool {
        self.reads_message
    }

    fn keeps_field(&self, name: &str) -> bool {
        self.fields_read.contains(name)
    }

    fn reads_field(&self, kind: &str, name: &str) -> bool {
        self.read_of_all.contains(name)
            || self.policy(kind).reads.contains(name)
            || self
                .placeholders
                .get(kind)
                .is_some_and(|p| p.contains(name))
    }

    /// The key of an event: equal keys (with equal segment, kind, level and
    /// second) mean the rules cannot tell the events apart. Events no
    /// template matched merge only with the same normalized text.
    fn key(&self, e: &Event) -> CoalesceKey {
        let p = self.policy(&e.kind);
        let mut key: CoalesceKey = Vec::with_capacity(p.key_sels.len() + p.fields.len() + 1);
        for s in &p.key_sels {
            key.push(Some(Value::Bool(super::selects(s, e))));
        }
        for f in &p.fields {
            key.push(match &**f {
                // The peer's name is added after attribution from its RAFT id.
                "raft_node_name" => e.field("raft_node").cloned(),
                "message" | "msg" => Some(Value::Str(e.message.clone())),
                f => e.field(f).cloned(),
            });
        }
        if let Some(t) = &e.template {
            key.push(Some(Value::Str(t.clone())));
        }
        key
    }

    fn same_key(&self, line: &LineView<'_>, key: &CoalesceKey) -> bool {
        let p = self.policy(line.kind);
        // A line that matched its template has no `template` element.
        if key.len() != p.key_sels.len() + p.fields.len() {
            return false;
        }
        let (sels, fields) = key.split_at(p.key_sels.len());
        let same = |mine: Option<ValueRef<'_>>, theirs: &Option<Value>| match (mine, theirs) {
            (Some(a), Some(b)) => a.eq_value(b),
            (None, None) => true,
            _ => false,
        };
        p.key_sels
            .iter()
            .zip(sels)
            .all(|(s, k)| same(Some(ValueRef::Bool(super::selects(s, line))), k))
            && p.fields.iter().zip(fields).all(|(f, k)| {
                let mine = match &**f {
                    "raft_node_name" => line.field("raft_node"),
                    "message" | "msg" => Some(ValueRef::Str(line.message)),
                    f => line.field(f),
                };
                same(mine, k)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Coalesce;
    use crate::model::{Level, value_hash};

    fn event(kind: &Arc<str>, fields: crate::model::Fields, message: &str) -> Event {
        Event {
            level: Level::Warn,
            fields,
            message: message.into(),
            ..Event::at(5_000_000_000, "", kind, "x", 1)
        }
    }

    /// The key ingestion compares without making an event (`same_key` over a
    /// `LineView` of the line's captures) is the key of the event made of
    /// it, for every builtin template's sample message; and differs when a
    /// compared value differs.
    #[test]
    fn a_line_view_has_the_key_of_its_event() {
        let rules = RuleSet::builtin();
        let me = Indistinct::new(&rules);
        let classifier = rules.classifier_ref();
        let (mut checked, mut differs) = (0, 0);
        for (i, t) in classifier.templates().iter().enumerate() {
            let msg = t.sample_message();
            if classifier.find(&msg) != Some(i) {
                continue;
            }
            let mut view_fields = Vec::new();
            if t.captures_in(&msg, &mut view_fields).is_none() {
                continue;
            }
            let owned = t.matches(&msg).expect("the template matches its sample");
            let text = if me.reads_message() { msg.as_str() } else { "" };
            let e = event(&t.kind, owned.clone(), text);
            let view = LineView {
                level: e.level,
                node: "",
                kind: &t.kind,
                message: text,
                fields: &view_fields,
            };
            let key = me.key(&e);
            assert!(me.same_key(&view, &key), "{}: {msg}", t.kind);
            for ((name, v), (vname, vref)) in owned.iter().zip(&view_fields) {
                assert_eq!(&**name, *vname);
                assert_eq!(value_hash(v), vref.hash(), "{}: {name}", t.kind);
            }
            // Each capture given another value: the view's answer is the
            // event's (the keys differ where a compared field or a
            // selector's answer does).
            for j in 0..owned.len() {
                let (other, other_ref) = match owned[j].1 {
                    Value::Int(n) => (Value::Int(n + 1_000_000), ValueRef::Int(n + 1_000_000)),
                    Value::Float(x) => (Value::Float(x * 1000.0), ValueRef::Float(x * 1000.0)),
                    _ => (
                        Value::Str("another value".into()),
                        ValueRef::Str("another value"),
                    ),
                };
                let mut changed = owned.clone();
                changed[j].1 = other;
                let mut changed_view = view_fields.clone();
                changed_view[j].1 = other_ref;
                let view = LineView {
                    fields: &changed_view,
                    ..view
                };
                let same = me.key(&event(&t.kind, changed, text)) == key;
                assert_eq!(me.same_key(&view, &key), same, "{}: {}", t.kind, owned[j].0);
                differs += usize::from(!same);
            }
            checked += 1;
        }
        assert!(checked > 200, "only {checked} templates checked");
        assert!(differs > 0);
    }

    #[test]
    fn a_field_named_only_by_an_optional_placeholder_is_kept() {
        let mut sources = crate::lang::builtin_sources();
        sources.push((
            "test.rules".to_string(),
            r#"rule test.optional {
  title    "optional placeholder"
  severity low
  category consequence
  when     event healthcheck_failed
  message  "{node}: {zzz_only_here?} and {last.zzz_last?}"
}
"#
            .to_string(),
        ));
        let (rules, diags) = RuleSet::from_sources(&sources);
        assert!(rules.rule("test.optional").is_some(), "{diags:?}");
        let me = Indistinct::new(&rules);
        assert!(me.keeps_field("zzz_only_here"));
        assert!(me.keeps_field("zzz_last"));
        assert!(me.reads_field("healthcheck_failed", "zzz_only_here"));
        assert!(me.reads_field("healthcheck_failed", "zzz_last"));
    }

    /// A placeholder is read of the kinds its rule selects, not of every
    /// kind; a rule over any kind reads it of all.
    #[test]
    fn placeholders_are_read_of_the_kinds_their_rule_selects() {
        let rule = |name: &str, when: &str, field: &str| {
            format!(
                "rule test.{name} {{\n  title    \"t\"\n  severity low\n  category consequence\n  when     {when}\n  message  \"{{node}}: {{{field}}}\"\n}}\n"
            )
        };
        let mut sources = crate::lang::builtin_sources();
        sources.push((
            "test.rules".to_string(),
            rule("one", "event healthcheck_failed", "zzz_one")
                + &rule(
                    "seq",
                    "sequence by node within 1m {\n    event server_starting\n    count(readloop_slow) >= 2 within 1m\n  }",
                    "zzz_seq",
                )
                + &rule("any", "event any where level >= error", "zzz_any"),
        ));
        let (rules, diags) = RuleSet::from_sources(&sources);
        for r in ["test.one", "test.seq", "test.any"] {
            assert!(rules.rule(r).is_some(), "{r}: {diags:?}");
        }
        let me = Indistinct::new(&rules);
        assert!(me.reads_field("healthcheck_failed", "zzz_one"));
        assert!(!me.reads_field("readloop_slow", "zzz_one"));
        assert!(me.reads_field("server_starting", "zzz_seq"));
        assert!(me.reads_field("readloop_slow", "zzz_seq"));
        assert!(!me.reads_field("healthcheck_failed", "zzz_seq"));
        for kind in ["healthcheck_failed", "readloop_slow", "no_such_kind"] {
            assert!(me.reads_field(kind, "zzz_any"), "{kind}");
        }
        // The connection prefix is captured when some kind reads the field.
        assert!(me.keeps_field("zzz_one") && me.keeps_field("zzz_seq"));
    }

    /// A selector without a condition, or whose condition reads only the
    /// compared fields, is not part of the key.
    #[test]
    fn the_key_holds_only_selectors_that_can_differ() {
        let rules = RuleSet::builtin();
        let me = Indistinct::new(&rules);
        let total: usize = me.per_kind.values().map(|p| p.sels.len()).sum();
        let kept: usize = me.per_kind.values().map(|p| p.key_sels.len()).sum();
        assert!(kept < total / 3, "{kept} of {total}");
        for p in me.per_kind.values() {
            for s in &p.key_sels {
                let pr = s
                    .pred
                    .as_ref()
                    .expect("a selector in the key has a condition");
                let mut read = std::collections::BTreeSet::new();
                pred_fields(pr, &mut read);
                assert!(pred_reads_message(pr) || read.iter().any(|f| !p.fields.contains(f)));
            }
        }
    }
}
