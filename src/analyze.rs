//! The one place that knows the stage order: inputs → bundle (events,
//! accounting) and metric set → findings → verdict → report.

use crate::ingest::Bundle;
use crate::metrics::MetricSet;

/// Builds the metric series from every metric dump found among the inputs.
/// The samples move into the set: the bundle keeps the files' accounting.
pub fn metric_set(bundle: &mut Bundle) -> MetricSet {
    let files = bundle
        .metric_files
        .iter_mut()
        .map(|m| std::mem::take(&mut m.report.samples))
        .collect();
    MetricSet::build_from_files(files)
}

use crate::diagnose::Verdict;
use crate::engine::releases::NodeReleases;
use crate::ingest::{IngestOptions, Keep};
use crate::lang::RuleSet;
use crate::model::Finding;
use crate::source::Input;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Everything one analysis produced: what was read, the findings, the verdict.
pub struct Analysis {
    pub bundle: Bundle,
    pub metrics: MetricSet,
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
    /// Rule packs used (names), for the report header.
    pub packs: Vec<String>,
    /// The nats-server release(s) each node ran (banner `Version:`, `/varz` `version`).
    pub releases: NodeReleases,
    /// The metrics the root cause's rule decided on (the chart draws them
    /// first: CPU throttling for a throttled node, not only CPU %).
    pub root_metrics: Vec<Arc<str>>,
}

/// Runs every stage: read the inputs with the rule set's templates, build the
/// metric series, run the rules, diagnose.
pub fn run(inputs: &[Input], rules: &RuleSet, opts: &IngestOptions) -> Analysis {
    let opts = ingest_options(rules, opts);
    let bundle = crate::ingest::ingest(inputs, rules.classifier_ref(), &opts);
    run_bundle(bundle, rules)
}

/// The options `analyze` reads with: only what the rules (and reports) read
/// is kept, lines the rules cannot tell apart coalesced.
pub fn ingest_options(rules: &RuleSet, opts: &IngestOptions) -> IngestOptions {
    let needs = event_needs(rules);
    IngestOptions {
        keep: Keep::Relevant(needs.min_level),
        relevant_kinds: needs.kinds,
        coalesce: Some(crate::ingest::CoalescePolicy(Arc::new(
            crate::engine::Indistinct::new(rules),
        ))),
        ..opts.clone()
    }
}

/// Everything after reading: metrics, rules, diagnosis, on a bundle read
/// with [`ingest_options`].
pub fn run_bundle(mut bundle: crate::ingest::Bundle, rules: &RuleSet) -> Analysis {
    let mut metrics = metric_set(&mut bundle);
    metrics.forget_samples();
    let releases = NodeReleases::build(&bundle.events, &metrics);
    {
        // Only on the kinds a rule reads the release of.
        use crate::ingest::Coalesce;
        let reads = crate::engine::Indistinct::new(rules);
        let wanted = |kind: &str| reads.reads_field(kind, crate::lang::ir::RELEASE_FIELD);
        crate::engine::releases::annotate(&mut bundle.events, &releases, &wanted);
    }
    let mut findings = findings(rules, &bundle, &metrics);
    weigh_by_scale(&mut findings, &bundle, &metrics);
    let verdict = crate::diagnose::diagnose(&findings, &bundle, &metrics);
    let root_metrics = verdict
        .root_cause
        .as_ref()
        .and_then(|r| rules.rule(&r.rule))
        .map(|r| r.detect.metrics())
        .unwrap_or_default();
    Analysis {
        root_metrics,
        packs: rules.packs().iter().map(|p| p.name.to_string()).collect(),
        bundle,
        metrics,
        findings,
        verdict,
        releases,
    }
}

/// The findings of every rule, in deterministic order.
pub fn findings(rules: &RuleSet, bundle: &Bundle, metrics: &MetricSet) -> Vec<Finding> {
    let mut f = crate::engine::run(rules, &bundle.events, metrics);
    f.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    f
}

/// Evidence weighed relative to what was given: the excerpt pack's rules
/// decide on a few pasted lines, but on a full bundle (several nodes' logs, or
/// metrics) the other packs' thresholds do, so their findings are only
/// context there (low: listed, never weighed;
/// [`crate::diagnose::Policy::excerpt_pack`]).
pub fn weigh_by_scale(findings: &mut [Finding], bundle: &Bundle, metrics: &MetricSet) {
    use crate::diagnose::{InputKind, Policy};
    let p = &Policy::DEFAULT;
    let kind = crate::diagnose::input_kind(bundle, metrics, p);
    if matches!(kind, InputKind::Excerpt | InputKind::OneNode) {
        return;
    }
    for f in findings.iter_mut() {
        if f.rule.starts_with(p.excerpt_pack) && f.severity > crate::model::Severity::Low {
            f.severity = crate::model::Severity::Low;
        }
    }
}

/// Which events the rules (and the reports) read, so the rest is only counted.
#[derive(Clone, Debug, PartialEq)]
pub struct EventNeeds {
    /// Kinds some rule selects, plus the kinds reports show in timelines.
    pub kinds: Vec<Arc<str>>,
    /// Events at or above this level are kept whatever their kind.
    pub min_level: crate::model::Level,
}

/// Walks the compiled rules for the event kinds they select. Silence rules
/// need no kind: the ingest layer keeps one event per node and second
/// whatever its kind, which is enough to see a node fall silent.
pub fn event_needs(rules: &RuleSet) -> EventNeeds {
    use crate::lang::ir::{Detect, Sel};
    fn sel(s: &Sel, kinds: &mut BTreeSet<Arc<str>>, any: &mut bool) {
        match &s.kinds {
            Some(k) => kinds.extend(k.iter().cloned()),
            None => *any = true,
        }
    }
    fn walk(d: &Detect, kinds: &mut BTreeSet<Arc<str>>, any: &mut bool) {
        match d {
            Detect::Event { sel: s, .. } | Detect::Window { sel: s, .. } => sel(s, kinds, any),
            Detect::NotFollowed { a, b, .. } => {
                sel(a, kinds, any);
                sel(b, kinds, any);
            }
            Detect::Sequence { steps, .. } => {
                for st in steps {
                    walk(&st.detect, kinds, any);
                    if let Some(w) = &st.without {
                        sel(w, kinds, any);
                    }
                }
            }
            Detect::Silence { sel: Some(s), .. } => sel(s, kinds, any),
            Detect::Silence { sel: None, .. }
            | Detect::Metric(_)
            | Detect::Gap { .. }
            | Detect::Cascade { .. } => {}
        }
    }
    let mut kinds = BTreeSet::new();
    let mut any = false;
    for r in rules.rules() {
        walk(&r.detect, &mut kinds, &mut any);
    }
    let _ = any;
    // The banner's `Version:` gives each node's release (`release` field, report).
    kinds.insert(Arc::from(crate::vocab::kind::BANNER_VERSION));
    kinds.extend(crate::vocab::kind::TIMELINE.iter().map(|k| Arc::from(*k)));
    // The lines `uptime` and `conn_age` are derived from (ingest::derive_fields).
    kinds.extend(
        crate::vocab::kind::DERIVED_FROM
            .iter()
            .map(|k| Arc::from(*k)),
    );
    EventNeeds {
        kinds: kinds.into_iter().collect(),
        // Rules that select any kind (`event any ...`) see errors, the kinds
        // other rules select and one event per node and second: enough for
        // "the node's last line before" and silences, bounded in memory.
        min_level: crate::model::Level::Error,
    }
}
