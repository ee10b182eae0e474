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
