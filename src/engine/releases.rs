//! The nats-server release each node ran, and when: from the start-up
//! banner's `Version:` line (event kind `banner_version`, field `version`)
//! and from `/varz` `version` in metric dumps (series `server_version`,
//! encoded `major * 1_000_000 + minor * 1_000 + patch`).
//!
//! Rules read it as the event field `release` (rules/README.md §4.7):
//! [`annotate`] sets it on every event of a node whose release is known at
//! that event's time.

use super::MetricSource;
use crate::lang::ir::RELEASE_FIELD;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(node: &str, secs: i64, kind: &str, version: Option<&str>) -> Event {
        Event {
            fields: version
                .map(|v| vec![(Arc::from("version"), Value::Str(v.into()))])
                .unwrap_or_default(),
            ..Event::at(secs * 1_000_000_000, node, kind, "x", secs as u64)
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

    /// The kinds annotated are those `Coalesce::reads_field` says a rule
    /// reads `release` of: the kinds of a rule naming it in a placeholder,
    /// every kind for a rule over any kind, none without such a rule.
    #[test]
    fn an_optional_or_last_release_placeholder_reads_the_release() {
        use crate::engine::Indistinct;
        use crate::ingest::Coalesce;
        use crate::lang::RuleSet;
        // Without the pack whose rules read it, nothing does.
        let base: Vec<(String, String)> = crate::lang::builtin_sources()
            .into_iter()
            .filter(|(name, _)| !name.contains("nats-defects"))
            .collect();
        let reads = |sources: &[(String, String)], kind: &str| {
            let (rules, diags) = RuleSet::from_sources(sources);
            assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
            Indistinct::new(&rules).reads_field(kind, RELEASE_FIELD)
        };
        let rule = |when: &str, placeholder: &str| {
            format!(
                "rule test.release {{\n  title    \"t\"\n  severity low\n  category consequence\n  when     {when}\n  message  \"{{node}} runs {placeholder}\"\n}}\n"
            )
        };
        for kind in ["healthcheck_failed", "readloop_slow"] {
            assert!(!reads(&base, kind), "{kind}");
        }
        for placeholder in ["{release?}", "{last.release}"] {
            let mut sources = base.clone();
            sources.push((
                "test.rules".to_string(),
                rule("event healthcheck_failed", placeholder),
            ));
            assert!(reads(&sources, "healthcheck_failed"), "{placeholder}");
            assert!(!reads(&sources, "readloop_slow"), "{placeholder}");
        }
        // A rule over events of any kind reads the release of every event.
        let mut sources = base.clone();
        sources.push((
            "test.rules".to_string(),
            rule("event any where level >= warn", "{release}"),
        ));
        for kind in ["healthcheck_failed", "readloop_slow"] {
            assert!(reads(&sources, kind), "{kind}");
        }
    }
}
