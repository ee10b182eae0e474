//! The canonical metric vocabulary: which names are counters (turned into
//! per-second rates), which gauges get a rate of change, which are derived.

/// Counters (cumulative since the process started) and the rate each becomes.
pub const COUNTERS: &[(&str, &str)] = &[
    ("in_msgs", "in_msgs_rate"),
    ("out_msgs", "out_msgs_rate"),
    ("in_bytes", "in_bytes_rate"),
    ("out_bytes", "out_bytes_rate"),
    ("slow_consumers", "slow_consumers_rate"),
    ("js_api_total", "js_api_rate"),
    ("js_api_errors", "js_api_errors_rate"),
    ("total_connections", "total_connections_rate"),
    ("cg_nr_throttled", "cg_throttled_rate"),
    ("cg_throttled_ms", "cg_throttled_ms_rate"),
    ("proc_vol_ctxt_sw", "proc_vol_ctxt_sw_rate"),
    ("proc_nonvol_ctxt_sw", "proc_nonvol_ctxt_sw_rate"),
];

/// Gauges whose signed rate of change (per second) is also kept.
pub const GAUGE_DIFFS: &[(&str, &str)] = &[("connections", "connections_rate")];

/// Series computed from others (never read from a file).
pub const DERIVED: &[&str] = &[
    "js_mem_pct",
    "js_store_pct",
    "meta_leader_self",
    "meta_leader_changes",
    "restarts",
];

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
    COUNTERS
        .iter()
        .chain(GAUGE_DIFFS)
        .find(|(m, _)| *m == metric)
        .map(|(_, r)| *r)
}

pub fn is_rate_name(metric: &str) -> bool {
    COUNTERS
        .iter()
        .chain(GAUGE_DIFFS)
        .any(|(_, r)| *r == metric)
}
