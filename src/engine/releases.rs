//! The nats-server release each node ran, and when: from the start-up
//! banner's `Version:` line (event kind `banner_version`, field `version`)
//! and from `/varz` `version` in metric dumps (series `server_version`,
//! encoded `major * 1_000_000 + minor * 1_000 + patch`).
//!
//! Rules read it as the event field `release` (rules/README.md §4.7):
//! [`annotate`] sets it on every event of a node whose release is known at
//! that event's time.

use super::MetricSource;
use crate::lang::RuleSet;
use crate::lang::ir::{Detect, FieldRef, Operand, Pred, RELEASE_FIELD, Sel};
use crate::model::{Event, Node, Release, Timestamp, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Event kind of the banner line that carries the release.
pub const BANNER_VERSION_KIND: &str = crate::vocab::kind::BANNER_VERSION;
pub use crate::model::SERVER_VERSION_METRIC;

/// `2.10.8` → 2_010_008 (the `server_version` metric's encoding).
pub fn encode(r: Release) -> f64 {
    r.encode()
}

/// The inverse of [`encode`].
pub fn decode(v: f64) -> Option<Release> {
    Release::decode(v)
}

/// Per node: the releases it ran, each with the time it was first seen
/// (`None` for a banner without a timestamp), in the order seen.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeReleases {
    pub by_node: BTreeMap<Node, Vec<(Option<Timestamp>, Release)>>,
}

impl NodeReleases {
    /// Reads banners from `events` (in stream order) and `/varz` versions
    /// from `metrics`.
    pub fn build(events: &[Event], metrics: &dyn MetricSource) -> NodeReleases {
        let mut by_node: BTreeMap<Node, Vec<(Option<Timestamp>, Release)>> = BTreeMap::new();
        for e in events.iter().filter(|e| &*e.kind == BANNER_VERSION_KIND) {
            if let Some(r) = e
                .field("version")
                .and_then(Value::as_str)
                .and_then(Release::parse)
            {
                let v = by_node.entry(e.node.clone()).or_default();
                if v.last().is_none_or(|(_, last)| *last != r) {
                    v.push((e.ts, r));
                }
            }
        }
        for node in metrics.nodes() {
            if by_node.contains_key(&node) {
                continue; // the banner is the finer source
            }
            let Some(s) = metrics.series(&node, SERVER_VERSION_METRIC) else {
                continue;
            };
            let mut v: Vec<(Option<Timestamp>, Release)> = Vec::new();
            for p in &s.points {
                if let Some(r) = decode(p.value)
                    && v.last().is_none_or(|(_, last)| *last != r)
                {
                    v.push((Some(p.ts), r));
                }
            }
            if !v.is_empty() {
                by_node.insert(node, v);
            }
        }
        NodeReleases { by_node }
    }

    /// The last release seen on `node`.
    pub fn latest(&self, node: &str) -> Option<Release> {
        self.by_node.get(node)?.last().map(|(_, r)| *r)
    }

    /// The distinct releases seen on `node`, in order.
    pub fn releases(&self, node: &str) -> Vec<Release> {
        let mut out: Vec<Release> = Vec::new();
        for (_, r) in self.by_node.get(node).into_iter().flatten() {
            if !out.contains(r) {
                out.push(*r);
            }
        }
        out
    }

    /// The release `node` ran at `ts`: the last one seen at or before it;
    /// before the first one seen, that first one when the node shows a
    /// single release (a log that starts after its banner), else unknown.
    pub fn at(&self, node: &str, ts: Option<Timestamp>) -> Option<Release> {
        let v = self.by_node.get(node)?;
        let single = v.iter().all(|(_, r)| *r == v[0].1);
        let Some(ts) = ts else {
            return single.then_some(v[0].1);
        };
        let before = v
            .iter()
            .rfind(|(t, _)| t.is_some_and(|t| t <= ts))
            .map(|(_, r)| *r);
        before.or_else(|| single.then_some(v[0].1))
    }
}

/// Sets the field `release` on every event of a node whose release is known
/// at that time. Banners are read in stream order, so after a restart into
/// another release the later events carry the new one. Only events of the
/// kinds `wanted` names get it: a field on every event costs memory per line.
pub fn annotate(events: &mut [Event], releases: &NodeReleases, wanted: &dyn Fn(&str) -> bool) {
    if releases.by_node.is_empty() {
        return;
    }
    let mut text: BTreeMap<Release, Arc<str>> = BTreeMap::new();
    // The current release per node while walking the stream.
    let mut current: BTreeMap<Node, Release> = BTreeMap::new();
    let key: Arc<str> = Arc::from(RELEASE_FIELD);
    for e in events.iter_mut() {
        if &*e.kind == BANNER_VERSION_KIND
            && let Some(r) = e
                .field("version")
                .and_then(Value::as_str)
                .and_then(Release::parse)
        {
            current.insert(e.node.clone(), r);
        }
        if !wanted(&e.kind) || e.field(RELEASE_FIELD).is_some() {
            continue;
        }
        let r = current
            .get(&e.node)
            .copied()
            .or_else(|| releases.at(&e.node, e.ts));
        let Some(r) = r else { continue };
        let s = text
            .entry(r)
            .or_insert_with(|| Arc::from(r.to_string()))
            .clone();
        e.fields.reserve_exact(1);
        e.fields.push((key.clone(), Value::Str(s)));
    }
}

/// Which events [`annotate`] gives the field `release`: those of the kinds
/// the rules that read it (conditions, `{release}` placeholders) select. A
/// finding cites only events its rule selected, so the release of any other
/// event is never read, and storing it on every event (a field and a
/// reallocated field list each) was the largest allocation left after
/// ingestion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReleaseKinds {
    /// No rule reads the release.
    None,
    /// A rule that reads it selects events of any kind (or cites events
    /// not through a kind: silence, metric, gap and cascade rules).
    All,
    Kinds(std::collections::BTreeSet<Arc<str>>),
}

impl ReleaseKinds {
    /// True when some event is to be annotated.
    pub fn any(&self) -> bool {
        *self != ReleaseKinds::None
    }

    pub fn contains(&self, kind: &str) -> bool {
        match self {
            ReleaseKinds::None => false,
            ReleaseKinds::All => true,
            ReleaseKinds::Kinds(k) => k.contains(kind),
        }
    }
}

/// The kinds whose events rules read the field `release` of.
pub fn release_kinds(rules: &RuleSet) -> ReleaseKinds {
    fn op(o: &Operand) -> bool {
        matches!(o, Operand::Field(FieldRef::Field(f)) if &**f == RELEASE_FIELD)
    }
    fn pred(p: &Pred) -> bool {
        match p {
            Pred::And(a, b) | Pred::Or(a, b) => pred(a) || pred(b),
            Pred::Not(a) => pred(a),
            Pred::Cmp(a, _, b) => op(a) || op(b),
            Pred::In(a, ..) | Pred::Match(a, ..) | Pred::InRange(a, ..) => op(a),
            Pred::Has(f) => matches!(f, FieldRef::Field(n) if &**n == RELEASE_FIELD),
        }
    }
    fn sel(s: &Sel) -> bool {
        s.pred.as_ref().is_some_and(pred)
    }
    fn detect(d: &Detect) -> bool {
        match d {
            Detect::Event { sel: s, .. } | Detect::Window { sel: s, .. } => sel(s),
            Detect::NotFollowed { a, b, .. } => sel(a) || sel(b),
            Detect::Sequence { steps, .. } => steps
                .iter()
                .any(|st| detect(&st.detect) || st.without.as_ref().is_some_and(sel)),
            Detect::Silence { sel: Some(s), .. } => sel(s),
            _ => false,
        }
    }
    let mut out = std::collections::BTreeSet::new();
    let mut read = false;
    for r in rules.rules() {
        // Placeholders as the coalescing reads them (`{release}`,
        // `{release?}`, `{last.release}`, in the message, advice and collect
        // lines).
        let named = super::coalesce::rule_placeholders(r);
        if !named.contains(RELEASE_FIELD) && !detect(&r.detect) {
            continue;
        }
        read = true;
        if !super::coalesce::selected_kinds(&r.detect, &mut out) {
            return ReleaseKinds::All;
        }
    }
    if read {
        ReleaseKinds::Kinds(out)
    } else {
        ReleaseKinds::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Level;

    fn ev(node: &str, secs: i64, kind: &str, version: Option<&str>) -> Event {
        Event {
            ts: Some(Timestamp(secs * 1_000_000_000)),
            node: node.into(),
            level: Level::Info,
            kind: kind.into(),
            fields: version
                .map(|v| vec![(Arc::from("version"), Value::Str(v.into()))])
                .unwrap_or_default(),
            message: "".into(),
            template: None,
            loc: crate::model::Location {
                file: "x".into(),
                line: secs as u64,
            },
            continuation: 0,
            repeat: 1,
            repeat_span: 0,
            absorbed: None,
            snapshot: false,
        }
    }

    #[test]
    fn banners_set_the_release_until_the_next_restart() {
        let mut events = vec![
            ev("n1", 1, "readloop_slow", None),
            ev("n1", 2, BANNER_VERSION_KIND, Some("2.10.8")),
            ev("n1", 3, "readloop_slow", None),
            ev("n1", 4, BANNER_VERSION_KIND, Some("2.10.9")),
            ev("n1", 5, "readloop_slow", None),
            ev("n2", 5, "readloop_slow", None),
        ];
        let r = NodeReleases::build(&events, &super::super::NoMetrics);
        assert_eq!(r.releases("n1").len(), 2);
        annotate(&mut events, &r, &|_| true);
        let rel = |i: usize| {
            events[i]
                .field(RELEASE_FIELD)
                .map(|v| v.to_string())
                .unwrap_or_default()
        };
        // before the first banner of a node that ran two releases: unknown
        assert_eq!(rel(0), "");
        assert_eq!(rel(2), "2.10.8");
        assert_eq!(rel(4), "2.10.9");
        assert_eq!(rel(5), "");
        assert_eq!(
            decode(encode(Release::new(2, 10, 8))),
            Some(Release::new(2, 10, 8))
        );
    }

    #[test]
    fn an_optional_or_last_release_placeholder_reads_the_release() {
        // Without the pack whose rules read it, nothing does.
        let base: Vec<(String, String)> = crate::lang::builtin_sources()
            .into_iter()
            .filter(|(name, _)| !name.contains("nats-defects"))
            .collect();
        let (rules, _) = RuleSet::from_sources(&base);
        assert_eq!(release_kinds(&rules), ReleaseKinds::None);
        for placeholder in ["{release?}", "{last.release}"] {
            let mut sources = base.clone();
            sources.push((
                "test.rules".to_string(),
                format!(
                    "rule test.release {{\n  title    \"t\"\n  severity low\n  category consequence\n  when     event healthcheck_failed\n  message  \"{{node}} runs {placeholder}\"\n}}\n"
                ),
            ));
            let (rules, diags) = RuleSet::from_sources(&sources);
            assert!(rules.rule("test.release").is_some(), "{diags:?}");
            assert_eq!(
                release_kinds(&rules),
                ReleaseKinds::Kinds(["healthcheck_failed".into()].into()),
                "{placeholder}"
            );
        }
        // A rule over events of any kind reads the release of every event.
        let mut sources = base.clone();
        sources.push((
            "test.rules".to_string(),
            "rule test.any {\n  title    \"t\"\n  severity low\n  category consequence\n  when     event any where level >= warn\n  message  \"{node} runs {release}\"\n}\n".to_string(),
        ));
        let (rules, diags) = RuleSet::from_sources(&sources);
        assert!(rules.rule("test.any").is_some(), "{diags:?}");
        assert_eq!(release_kinds(&rules), ReleaseKinds::All);
    }
}
