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
use crate::model::Finding;

/// Everything one analysis produced: what was read, the findings, the verdict.
pub struct Analysis {
    pub bundle: Bundle,
    pub metrics: MetricSet,
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
    /// Rule packs used (names), for the report header.
    pub packs: Vec<String>,
}
