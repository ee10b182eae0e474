//! Source field → canonical metric name. One table serves the monitoring
//! JSON (as JSON pointers) and prometheus-nats-exporter names (the same path
//! flattened with `_`, after `<namespace>_varz_`).

use std::borrow::Cow;

/// `/varz` fields: (JSON pointer, canonical name).
pub const VARZ_FIELDS: &[(&str, &str)] = &[
    ("/cpu", "cpu"),
    ("/mem", "mem_rss"),
    ("/cores", "cores"),
    ("/gomaxprocs", "gomaxprocs"),
    ("/connections", "connections"),
    ("/total_connections", "total_connections"),
    ("/routes", "routes"),
    ("/leafnodes", "leafnodes"),
    ("/subscriptions", "subscriptions"),
    ("/slow_consumers", "slow_consumers"),
    ("/stale_connections", "stale_connections"),
    ("/stalled_clients", "stalled_clients"),
    ("/in_msgs", "in_msgs"),
    ("/out_msgs", "out_msgs"),
    ("/in_bytes", "in_bytes"),
    ("/out_bytes", "out_bytes"),
    ("/jetstream/config/max_memory", "js_mem_max"),
    ("/jetstream/config/max_storage", "js_store_max"),
    ("/jetstream/stats/memory", "js_mem"),
    ("/jetstream/stats/storage", "js_store"),
    ("/jetstream/stats/reserved_memory", "js_reserved_mem"),
    ("/jetstream/stats/reserved_storage", "js_reserved_store"),
    ("/jetstream/stats/ha_assets", "js_ha_assets"),
    ("/jetstream/stats/api/total", "js_api_total"),
    ("/jetstream/stats/api/errors", "js_api_errors"),
    ("/jetstream/stats/api/inflight", "js_api_inflight"),
    ("/jetstream/meta/pending", "js_api_pending"),
    ("/jetstream/meta/cluster_size", "meta_cluster_size"),
    // 2.10+
    ("/slow_consumer_stats/clients", "slow_consumers_clients"),
    ("/slow_consumer_stats/routes", "slow_consumers_routes"),
    (
        "/stale_connection_stats/clients",
        "stale_connections_clients",
    ),
    ("/stale_connection_stats/routes", "stale_connections_routes"),
    (
        "/jetstream/meta/snapshot/pending_entries",
        "meta_snapshot_pending_entries",
    ),
    (
        "/jetstream/meta/snapshot/pending_size",
        "meta_snapshot_pending_bytes",
    ),
    // 2.12+
    ("/in_client_msgs", "in_client_msgs"),
    ("/out_client_msgs", "out_client_msgs"),
    ("/disk_io_wait_stats/waiters", "disk_io_waiters"),
];

/// `/jsz` fields.
pub const JSZ_FIELDS: &[(&str, &str)] = &[
    ("/config/max_memory", "js_mem_max"),
    ("/config/max_storage", "js_store_max"),
    ("/memory", "js_mem"),
    ("/storage", "js_store"),
    ("/reserved_memory", "js_reserved_mem"),
    ("/reserved_storage", "js_reserved_store"),
    ("/ha_assets", "js_ha_assets"),
    ("/api/total", "js_api_total"),
    ("/api/errors", "js_api_errors"),
    ("/api/inflight", "js_api_inflight"),
    ("/streams", "js_streams"),
    ("/consumers", "js_consumers"),
    ("/messages", "js_messages"),
    ("/bytes", "js_bytes"),
    ("/meta_cluster/pending", "js_api_pending"),
    ("/meta_cluster/cluster_size", "meta_cluster_size"),
    (
        "/meta_cluster/snapshot/pending_entries",
        "meta_snapshot_pending_entries",
    ),
    (
        "/meta_cluster/snapshot/pending_size",
        "meta_snapshot_pending_bytes",
    ),
];

/// Metrics that more than one endpoint reports (they carry an `endpoint`
/// label so the metric set can keep one source per node).
pub fn shared_between_endpoints(metric: &str) -> bool {
    metric.starts_with("js_")
        || metric.starts_with("meta_")
        || matches!(metric, "routes" | "connections" | "up")
}

/// How a Prometheus value maps onto a canonical one.
#[derive(Clone, Debug, PartialEq)]
pub struct PromMapping {
    pub metric: Cow<'static, str>,
    /// `value * scale + offset`.
    pub scale: f64,
    pub offset: f64,
    /// The monitoring endpoint the exporter read (`varz`, ...), if known.
    pub endpoint: Option<&'static str>,
}

/// Maps a prometheus-nats-exporter (or `nats_*`-prefixed) name to the
/// canonical one; unknown names are kept as they are.
pub fn canonical_prom(name: &str) -> PromMapping {
    let keep = |m: &str| PromMapping {
        metric: Cow::Owned(m.to_string()),
        scale: 1.0,
        offset: 0.0,
        endpoint: None,
    };
    let map = |m: &'static str, ep: &'static str| PromMapping {
        metric: Cow::Borrowed(m),
        scale: 1.0,
        offset: 0.0,
        endpoint: Some(ep),
    };
    // `<namespace>_<endpoint>_<path>`; namespace defaults to `gnatsd`.
    for ep in ["varz", "healthz", "routez", "connz", "jsz"] {
        let pat = format!("_{ep}_");
        let Some(i) = name.find(&pat) else { continue };
        let ns = &name[..i];
        if ns.is_empty() || ns.contains('_') && !ns.starts_with("nats") {
            continue;
        }
        let rest = &name[i + pat.len()..];
        let endpoint: &'static str = match ep {
            "varz" => "varz",
            "healthz" => "healthz",
            "routez" => "routez",
            "connz" => "connz",
            _ => "jsz",
        };
        match (endpoint, rest) {
            ("varz", "start") => {
                return PromMapping {
                    metric: Cow::Borrowed("start_time"),
                    scale: 1e-3,
                    offset: 0.0,
                    endpoint: Some("varz"),
                };
            }
            ("varz", "jetstream_meta_leader") => return map("meta_leader", "varz"),
            ("varz", _) => {
                for (ptr, canon) in VARZ_FIELDS {
                    if ptr[1..].replace('/', "_") == rest {
                        return map(canon, "varz");
                    }
                }
            }
            ("healthz", "status") => {
                // The exporter inverts it: 0 = ok.
                return PromMapping {
                    metric: Cow::Borrowed("healthy"),
                    scale: -1.0,
                    offset: 1.0,
                    endpoint: Some("healthz"),
                };
            }
            ("routez", "num_routes") => return map("routes", "routez"),
            ("connz", "num_connections") => return map("connections", "connz"),
            _ => {}
        }
        return keep(name);
    }
    match name {
        "jetstream_server_total_streams" => map("js_streams", "jsz"),
        "jetstream_server_total_consumers" => map("js_consumers", "jsz"),
        "jetstream_server_total_messages" => map("js_messages", "jsz"),
        "jetstream_server_total_message_bytes" => map("js_bytes", "jsz"),
        "jetstream_server_max_memory" => map("js_mem_max", "jsz"),
        "jetstream_server_max_storage" => map("js_store_max", "jsz"),
        _ => keep(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exporter_names() {
        assert_eq!(canonical_prom("gnatsd_varz_cpu").metric, "cpu");
        assert_eq!(canonical_prom("nats_varz_mem").metric, "mem_rss");
        assert_eq!(
            canonical_prom("gnatsd_varz_jetstream_stats_api_errors").metric,
            "js_api_errors"
        );
        assert_eq!(
            canonical_prom("gnatsd_varz_jetstream_meta_pending").metric,
            "js_api_pending"
        );
        let h = canonical_prom("gnatsd_healthz_status");
        assert_eq!(
            (h.metric.as_ref(), h.scale, h.offset),
            ("healthy", -1.0, 1.0)
        );
        assert_eq!(
            canonical_prom("gnatsd_varz_http_req_stats_varz").metric,
            "gnatsd_varz_http_req_stats_varz"
        );
        assert_eq!(
            canonical_prom("process_cpu_seconds_total").metric,
            "process_cpu_seconds_total"
        );
        assert_eq!(
            canonical_prom("jetstream_server_total_streams").metric,
            "js_streams"
        );
    }
}
