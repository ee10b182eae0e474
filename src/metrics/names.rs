//! The canonical metric vocabulary: which names are counters (turned into
//! per-second rates), which gauges get a rate of change, which are derived.

use crate::vocab::{METRICS, MetricKind};

/// Counters (cumulative since the process started) and the rate each becomes.
pub fn counters() -> impl Iterator<Item = (&'static str, &'static str)> {
    METRICS.iter().filter_map(|m| match m.kind {
        MetricKind::Counter { rate } => Some((m.name, rate)),
        _ => None,
    })
}

/// Gauges whose signed rate of change (per second) is also kept.
pub fn gauge_diffs() -> impl Iterator<Item = (&'static str, &'static str)> {
    METRICS.iter().filter_map(|m| match m.kind {
        MetricKind::GaugeWithRate { rate } => Some((m.name, rate)),
        _ => None,
    })
}

/// Series computed from others (never read from a file), rates included.
pub fn is_derived(metric: &str) -> bool {
    crate::vocab::metric::metric(metric).is_some_and(|m| m.kind == MetricKind::Derived)
}

/// Metrics aggregated across label sets with `min` (any failure wins), not `sum`.
pub const MIN_AGG: &[&str] = &["up", "healthy", "meta_has_leader"];

/// Internal bookkeeping samples, not series.
pub const INTERNAL: &[&str] = &["server_id_seen", "meta_leader"];

/// Preference among endpoints reporting the same metric (lower wins).
pub fn endpoint_rank(ep: &str) -> u32 {
    match ep {
        "jsz" => 1,
        "varz" => 2,
        "routez" => 3,
        "healthz" => 4,
        "connz" => 5,
        _ => 6,
    }
}

pub fn counter_rate(metric: &str) -> Option<&'static str> {
    crate::vocab::metric::rate_of(metric)
}
