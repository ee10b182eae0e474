//! The one place that knows the stage order: inputs → bundle (events,
//! accounting) and metric set → findings → verdict → report.

use crate::ingest::Bundle;
use crate::metrics::MetricSet;

/// Builds the metric series from every metric dump found among the inputs.
pub fn metric_set(bundle: &Bundle) -> MetricSet {
    let samples: Vec<crate::parse::metric::Sample> = bundle
        .metric_files
        .iter()
        .flat_map(|m| m.report.samples.iter().cloned())
        .collect();
    MetricSet::build(samples)
}

use crate::diagnose::Verdict;
use crate::ingest::{IngestOptions, Keep};
use crate::lang::RuleSet;
use crate::model::Finding;
use crate::source::Input;

/// Everything one analysis produced: what was read, the findings, the verdict.
pub struct Analysis {
    pub bundle: Bundle,
    pub metrics: MetricSet,
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
    /// Rule packs used (names), for the report header.
    pub packs: Vec<String>,
}

/// Runs every stage: read the inputs with the rule set's templates, build the
/// metric series, run the rules, diagnose.
pub fn run(inputs: &[Input], rules: &RuleSet, opts: &IngestOptions) -> Analysis {
    let opts = IngestOptions {
        keep: Keep::All,
        ..opts.clone()
    };
    let bundle = crate::ingest::ingest(inputs, rules.classifier_ref(), &opts);
    let metrics = metric_set(&bundle);
    let findings = findings(rules, &bundle, &metrics);
    let verdict = crate::diagnose::diagnose(&findings, &bundle, &metrics);
    Analysis {
        packs: rules.packs().iter().map(|p| p.name.to_string()).collect(),
        bundle,
        metrics,
        findings,
        verdict,
    }
}

/// The findings of every rule, in deterministic order.
pub fn findings(rules: &RuleSet, bundle: &Bundle, metrics: &MetricSet) -> Vec<Finding> {
    let mut f = crate::engine::run(rules, &bundle.events, metrics);
    f.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    f
}
