//! Metric series: canonical names with their unit, what the chart calls
//! them and where they come from. `src/metrics/METRICS.md` is generated from
//! [`METRICS`] ([`markdown`]); a test keeps the file equal.

/// How a series' values read.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Unit {
    /// 0 or 1.
    Flag,
    /// Percent (of one core for CPU, of a limit for `_pct`).
    Percent,
    Bytes,
    /// A count of things at an instant.
    Count,
    /// A cumulative count since the process started.
    Total,
    /// Per second (rates of counters).
    PerSecond,
    Seconds,
    Milliseconds,
    Microseconds,
    /// Unix time in seconds.
    UnixSeconds,
    /// An identifier, not a quantity.
    Id,
    /// Unitless (load average).
    Ratio,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::Flag => "0/1",
            Unit::Percent => "%",
            Unit::Bytes => "bytes",
            Unit::Count => "count",
            Unit::Total => "cumulative",
            Unit::PerSecond => "per s",
            Unit::Seconds => "s",
            Unit::Milliseconds => "ms",
            Unit::Microseconds => "µs",
            Unit::UnixSeconds => "Unix s",
            Unit::Id => "id",
            Unit::Ratio => "",
        }
    }
}

/// How a series comes to be.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// Read from a dump as it is.
    Read,
    /// A cumulative counter read from a dump; the metric layer adds its
    /// per-second rate under the given name.
    Counter { rate: &'static str },
    /// A gauge whose signed rate of change is also kept under the given name.
    GaugeWithRate { rate: &'static str },
    /// Computed by the metric layer from other series (never read).
    Derived,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MetricDef {
    pub name: &'static str,
    pub unit: Unit,
    pub kind: MetricKind,
    /// The chart panel's title.
    pub label: &'static str,
    /// Where the values come from, for METRICS.md.
    pub source: &'static str,
}

const fn read(
    name: &'static str,
    unit: Unit,
    label: &'static str,
    source: &'static str,
) -> MetricDef {
    MetricDef {
        name,
        unit,
        kind: MetricKind::Read,
        label,
        source,
    }
}

const fn counter(
    name: &'static str,
    rate: &'static str,
    label: &'static str,
    source: &'static str,
) -> MetricDef {
    MetricDef {
        name,
        unit: Unit::Total,
        kind: MetricKind::Counter { rate },
        label,
        source,
    }
}

const fn derived(
    name: &'static str,
    unit: Unit,
    label: &'static str,
    source: &'static str,
) -> MetricDef {
    MetricDef {
        name,
        unit,
        kind: MetricKind::Derived,
        label,
        source,
    }
}

/// Every series the metric layer produces (host series live on the pseudo-node
/// `@host`). Names not listed here (Prometheus names without a canonical twin,
/// `csv_<column>`) are kept as they come and are unknown to the rule checker.
pub const METRICS: &[MetricDef] = &[
    // availability
    read(
        "up",
        Unit::Flag,
        "answered monitoring (1 = up)",
        "1 = the node answered a monitoring fetch, 0 = a failed fetch (endpoints merged into rounds; a failure in a round wins)",
    ),
    read(
        "healthy",
        Unit::Flag,
        "/healthz ok (1 = healthy)",
        "`/healthz` status `ok` = 1, anything else 0 (only when the node answered)",
    ),
    // CPU and memory
    read(
        "cpu",
        Unit::Percent,
        "CPU (% of one core)",
        "`/varz` `cpu` (`gnatsd_varz_cpu`)",
    ),
    read(
        "proc_cpu",
        Unit::Percent,
        "CPU (% of one core, /proc)",
        "`proc.csv` `cpu_pct`",
    ),
    read(
        "proc_stopped",
        Unit::Flag,
        "process stopped (1 = SIGSTOP)",
        "`proc.csv` state `T` (SIGSTOP, frozen)",
    ),
    read(
        "proc_absent",
        Unit::Flag,
        "process absent (1 = no process)",
        "`proc.csv` state `absent` (no process)",
    ),
    read(
        "proc_rss",
        Unit::Bytes,
        "memory (RSS, /proc)",
        "`proc.csv` `rss_kb` × 1024",
    ),
    read("proc_pid", Unit::Id, "process id", "`proc.csv` `pid`"),
    counter(
        "proc_vol_ctxt_sw",
        "proc_vol_ctxt_sw_rate",
        "voluntary context switches",
        "`proc.csv` `vol_ctxt_sw`",
    ),
    derived(
        "proc_vol_ctxt_sw_rate",
        Unit::PerSecond,
        "voluntary context switches/s",
        "rate of `proc_vol_ctxt_sw`",
    ),
    counter(
        "proc_nonvol_ctxt_sw",
        "proc_nonvol_ctxt_sw_rate",
        "involuntary context switches",
        "`proc.csv` `nonvol_ctxt_sw`",
    ),
    derived(
        "proc_nonvol_ctxt_sw_rate",
        Unit::PerSecond,
        "involuntary context switches/s",
        "rate of `proc_nonvol_ctxt_sw`",
    ),
    read(
        "fds",
        Unit::Count,
        "open file descriptors",
        "`proc.csv` `fds`",
    ),
    read("threads", Unit::Count, "threads", "`proc.csv` `threads`"),
    read("mem_rss", Unit::Bytes, "memory (RSS)", "`/varz` `mem`"),
    read("cores", Unit::Count, "cores", "`/varz` `cores`"),
    read(
        "gomaxprocs",
        Unit::Count,
        "GOMAXPROCS",
        "`/varz` `gomaxprocs`",
    ),
    read(
        "cg_quota_us",
        Unit::Microseconds,
        "cgroup CPU quota",
        "`proc.csv` `cg_quota_us`",
    ),
    read(
        "cg_nr_periods",
        Unit::Total,
        "cgroup CPU periods",
        "`proc.csv` `cg_nr_periods`",
    ),
    counter(
        "cg_nr_throttled",
        "cg_throttled_rate",
        "cgroup throttled periods",
        "`proc.csv` `cg_nr_throttled`: CPU periods throttled by the cgroup quota",
    ),
    derived(
        "cg_throttled_rate",
        Unit::PerSecond,
        "CPU throttled periods/s (cgroup)",
        "rate of `cg_nr_throttled`",
    ),
    counter(
        "cg_throttled_ms",
        "cg_throttled_ms_rate",
        "time throttled (cgroup)",
        "`proc.csv` `cg_throttled_ms`",
    ),
    derived(
        "cg_throttled_ms_rate",
        Unit::PerSecond,
        "ms throttled per s (cgroup)",
        "rate of `cg_throttled_ms` (ms per s)",
    ),
    // connections and traffic
    MetricDef {
        name: "connections",
        unit: Unit::Count,
        kind: MetricKind::GaugeWithRate {
            rate: "connections_rate",
        },
        label: "client connections",
        source: "`/varz` (else `/connz` `num_connections`)",
    },
    derived(
        "connections_rate",
        Unit::PerSecond,
        "connections opened − closed per s",
        "signed rate of change of `connections`",
    ),
    counter(
        "total_connections",
        "total_connections_rate",
        "connections since start",
        "`/varz` `total_connections`",
    ),
    derived(
        "total_connections_rate",
        Unit::PerSecond,
        "new connections/s",
        "rate of `total_connections`",
    ),
    read(
        "conn_pending_bytes",
        Unit::Bytes,
        "bytes pending to clients",
        "`/connz` sum of `pending_bytes` over the listed connections",
    ),
    read(
        "routes",
        Unit::Count,
        "routes",
        "`/varz` (else `/routez` `num_routes`)",
    ),
    read(
        "route_pending",
        Unit::Bytes,
        "route pending bytes",
        "`/routez` sum of `pending_size`",
    ),
    read("leafnodes", Unit::Count, "leafnodes", "`/varz` `leafnodes`"),
    read(
        "subscriptions",
        Unit::Count,
        "subscriptions",
        "`/varz` `subscriptions`",
    ),
    counter(
        "slow_consumers",
        "slow_consumers_rate",
        "slow consumers (total)",
        "`/varz` `slow_consumers`",
    ),
    derived(
        "slow_consumers_rate",
        Unit::PerSecond,
        "slow consumers/s",
        "rate of `slow_consumers`",
    ),
    read(
        "stale_connections",
        Unit::Total,
        "stale connections (total)",
        "`/varz` `stale_connections`",
    ),
    read(
        "stalled_clients",
        Unit::Total,
        "stalled clients (total)",
        "`/varz` `stalled_clients` (2.10+)",
    ),
    counter(
        "in_msgs",
        "in_msgs_rate",
        "messages in",
        "`/varz` `in_msgs`",
    ),
    derived(
        "in_msgs_rate",
        Unit::PerSecond,
        "messages in/s",
        "rate of `in_msgs`",
    ),
    counter(
        "out_msgs",
        "out_msgs_rate",
        "messages out",
        "`/varz` `out_msgs`",
    ),
    derived(
        "out_msgs_rate",
        Unit::PerSecond,
        "messages out/s",
        "rate of `out_msgs`",
    ),
    MetricDef {
        name: "in_bytes",
        unit: Unit::Bytes,
        kind: MetricKind::Counter {
            rate: "in_bytes_rate",
        },
        label: "bytes in",
        source: "`/varz` `in_bytes`",
    },
    derived(
        "in_bytes_rate",
        Unit::PerSecond,
        "bytes in/s",
        "rate of `in_bytes`",
    ),
    MetricDef {
        name: "out_bytes",
        unit: Unit::Bytes,
        kind: MetricKind::Counter {
            rate: "out_bytes_rate",
        },
        label: "bytes out",
        source: "`/varz` `out_bytes`",
    },
    derived(
        "out_bytes_rate",
        Unit::PerSecond,
        "bytes out/s",
        "rate of `out_bytes`",
    ),
    // JetStream
    counter(
        "js_api_total",
        "js_api_rate",
        "JetStream API requests",
        "`/jsz` `api.total` (else `/varz` `jetstream.stats.api`)",
    ),
    derived(
        "js_api_rate",
        Unit::PerSecond,
        "JetStream API requests/s",
        "rate of `js_api_total`",
    ),
    counter(
        "js_api_errors",
        "js_api_errors_rate",
        "JetStream API errors",
        "`/jsz` `api.errors` (else `/varz`)",
    ),
    derived(
        "js_api_errors_rate",
        Unit::PerSecond,
        "JetStream API errors/s",
        "rate of `js_api_errors`",
    ),
    read(
        "js_api_pending",
        Unit::Count,
        "JetStream API requests pending",
        "meta `pending`: the JetStream API queue (2.10.21+; absent = 0 there)",
    ),
    read(
        "js_api_pending_requests",
        Unit::Count,
        "JetStream API requests pending (queue)",
        "meta `pending_requests` (2.14+)",
    ),
    read(
        "js_api_pending_infos",
        Unit::Count,
        "JetStream API info requests pending",
        "meta `pending_infos` (2.14+)",
    ),
    read(
        "js_api_inflight",
        Unit::Count,
        "JetStream API requests in flight",
        "`api.inflight` (absent = 0)",
    ),
    read(
        "js_mem",
        Unit::Bytes,
        "JetStream memory used",
        "`/jsz` `memory` (else `/varz` `jetstream.stats.memory`)",
    ),
    read(
        "js_store",
        Unit::Bytes,
        "JetStream storage used",
        "`/jsz` `storage` (else `/varz` `jetstream.stats.storage`)",
    ),
    read(
        "js_mem_max",
        Unit::Bytes,
        "JetStream memory limit",
        "`config.max_memory`",
    ),
    read(
        "js_store_max",
        Unit::Bytes,
        "JetStream storage limit",
        "`config.max_storage`",
    ),
    derived(
        "js_mem_pct",
        Unit::Percent,
        "JetStream memory used (% of limit)",
        "`js_mem` / `js_mem_max` × 100",
    ),
    derived(
        "js_store_pct",
        Unit::Percent,
        "JetStream storage used (% of limit)",
        "`js_store` / `js_store_max` × 100",
    ),
    read(
        "js_reserved_mem",
        Unit::Bytes,
        "JetStream memory reserved",
        "`reserved_memory`",
    ),
    read(
        "js_reserved_store",
        Unit::Bytes,
        "JetStream storage reserved",
        "`reserved_storage`",
    ),
    read(
        "js_ha_assets",
        Unit::Count,
        "replicated JetStream assets",
        "`ha_assets`",
    ),
    read("js_streams", Unit::Count, "streams", "`/jsz` `streams`"),
    read(
        "js_consumers",
        Unit::Count,
        "consumers",
        "`/jsz` `consumers`",
    ),
    read(
        "js_messages",
        Unit::Count,
        "stored messages",
        "`/jsz` `messages`",
    ),
    read("js_bytes", Unit::Bytes, "stored bytes", "`/jsz` `bytes`"),
    read(
        "meta_has_leader",
        Unit::Flag,
        "sees a meta leader (1 = yes)",
        "0 when the node's meta view has no leader",
    ),
    derived(
        "meta_leader_self",
        Unit::Flag,
        "is the meta leader (1 = yes)",
        "1 when the node reports itself as meta leader",
    ),
    derived(
        "meta_leader_changes",
        Unit::Total,
        "meta leader changes",
        "leader changes seen by this node",
    ),
    read(
        "meta_cluster_size",
        Unit::Count,
        "meta group size",
        "meta `cluster_size`",
    ),
    // process lifetime
    read(
        "server_version",
        Unit::Id,
        "server release",
        "`/varz` `version` as major × 10⁶ + minor × 10³ + patch (2.10.8 = 2010008)",
    ),
    read(
        "uptime_s",
        Unit::Seconds,
        "uptime",
        "`now - start` of `/varz`",
    ),
    read(
        "start_time",
        Unit::UnixSeconds,
        "start time",
        "`/varz` `start`",
    ),
    derived(
        "restarts",
        Unit::Total,
        "restarts",
        "times the server start time changed (else the pid)",
    ),
    // /raftz (2.10.17+) and /ipqueuesz
    read(
        "raft_groups",
        Unit::Count,
        "Raft groups",
        "`/raftz`: the Raft groups the node is in",
    ),
    read(
        "raft_leader_groups",
        Unit::Count,
        "Raft groups led",
        "`/raftz`: groups whose `state` is `LEADER`",
    ),
    read(
        "raft_leaderless_groups",
        Unit::Count,
        "Raft groups without a leader",
        "`/raftz`: groups with no `leader`",
    ),
    read(
        "raft_apply_lag_max",
        Unit::Count,
        "Raft apply lag (max)",
        "`/raftz`: the largest `committed - applied` of the node's groups",
    ),
    read(
        "raft_ipq_max",
        Unit::Count,
        "Raft internal queue (max)",
        "`/raftz`: the largest `ipq_*_len` of the node's groups",
    ),
    read(
        "raft_wal_bytes",
        Unit::Bytes,
        "Raft WAL bytes",
        "`/raftz`: `wal.bytes` of all the node's groups",
    ),
    read(
        "raft_meta_term",
        Unit::Count,
        "meta group term",
        "`/raftz`: `term` of the meta group `_meta_`",
    ),
    read(
        "ipq_js_api_pending",
        Unit::Count,
        "JetStream API queue (ipqueuesz)",
        "`/ipqueuesz`: `pending` of `Routed JS API Requests` (2.10) / `JetStream API queue` (2.11+)",
    ),
    read(
        "ipq_js_api_info_pending",
        Unit::Count,
        "JetStream API info queue",
        "`/ipqueuesz`: `pending` of `JetStream API info queue` (2.11+)",
    ),
    read(
        "ipq_pending_max",
        Unit::Count,
        "internal queue pending (max)",
        "`/ipqueuesz`: the largest `pending` of the queues fetched",
    ),
    // newer /varz and meta fields
    read(
        "slow_consumers_clients",
        Unit::Total,
        "slow consumers: clients",
        "`/varz` `slow_consumer_stats.clients` (2.10+)",
    ),
    read(
        "slow_consumers_routes",
        Unit::Total,
        "slow consumers: routes",
        "`/varz` `slow_consumer_stats.routes` (2.10+)",
    ),
    read(
        "stale_connections_clients",
        Unit::Total,
        "stale connections: clients",
        "`/varz` `stale_connection_stats.clients` (2.12+)",
    ),
    read(
        "stale_connections_routes",
        Unit::Total,
        "stale connections: routes",
        "`/varz` `stale_connection_stats.routes` (2.12+)",
    ),
    read(
        "meta_snapshot_pending_entries",
        Unit::Count,
        "meta snapshot pending entries",
        "meta `snapshot.pending_entries` (`/varz`, `/jsz`; 2.11.11+)",
    ),
    read(
        "meta_snapshot_pending_bytes",
        Unit::Bytes,
        "meta snapshot pending bytes",
        "meta `snapshot.pending_size` (`/varz`, `/jsz`; 2.11.11+)",
    ),
    read(
        "in_client_msgs",
        Unit::Total,
        "client messages in (total)",
        "`/varz` `in_client_msgs` (2.12.9+)",
    ),
    read(
        "out_client_msgs",
        Unit::Total,
        "client messages out (total)",
        "`/varz` `out_client_msgs` (2.12.9+)",
    ),
    read(
        "disk_io_waiters",
        Unit::Count,
        "disk I/O waiters",
        "`/varz` `disk_io_wait_stats.waiters` (2.12.14+)",
    ),
    // host (pseudo-node `@host`)
    read(
        "host_load1",
        Unit::Ratio,
        "load (1 min)",
        "`host.csv` `load1`",
    ),
    read(
        "host_load5",
        Unit::Ratio,
        "load (5 min)",
        "`host.csv` `load5`",
    ),
    read(
        "host_load15",
        Unit::Ratio,
        "load (15 min)",
        "`host.csv` `load15`",
    ),
    read(
        "host_cpu",
        Unit::Percent,
        "host CPU",
        "`host.csv` `host_cpu_busy_pct`",
    ),
    read(
        "host_mem_available",
        Unit::Bytes,
        "host memory available",
        "`host.csv` `mem_available_kb` × 1024",
    ),
    read(
        "host_procs_running",
        Unit::Count,
        "runnable processes",
        "`host.csv` `procs_running`",
    ),
];

/// The metric named `name`.
pub fn metric(name: &str) -> Option<&'static MetricDef> {
    METRICS.iter().find(|m| m.name == name)
}

/// Metric names, in vocabulary order.
pub fn names() -> impl Iterator<Item = &'static str> {
    METRICS.iter().map(|m| m.name)
}

/// The per-second rate a counter (or a gauge with a rate) becomes.
pub fn rate_of(name: &str) -> Option<&'static str> {
    match metric(name)?.kind {
        MetricKind::Counter { rate } | MetricKind::GaugeWithRate { rate } => Some(rate),
        MetricKind::Read | MetricKind::Derived => None,
    }
}

/// `src/metrics/METRICS.md`, generated.
pub fn markdown() -> String {
    let mut s = String::from(
        "# Metric series (`coroner metrics`)\n\n\
         Canonical names the rules use, one series per node. Generated from\n\
         `src/vocab/metric.rs`; a test keeps this file equal (edit the vocabulary,\n\
         then run `CORONER_BLESS=1 cargo test vocab::` and review the diff).\n\n\
         | name | unit | what | source |\n|---|---|---|---|\n",
    );
    for m in METRICS {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            m.name,
            m.unit.name(),
            m.label,
            m.source
        ));
    }
    s.push_str(NOTES);
    s
}

const NOTES: &str = "
Notes:

* Counters become per-second rates; a counter that goes down (reset) or whose
  interval spans a server restart gives no rate point, never a negative one.
* A gap is a gap: missing samples are never filled with zeros. `gaps(node)` lists
  the spans where a node did not answer while its peers did (last answer before
  the silence → first answer after it).
* When two endpoints report the same metric (`/jsz` and `/varz` JetStream usage,
  `/varz` and `/routez` routes) one source is kept per node: jsz, then varz,
  routez, healthz, connz.
* Prometheus names without an obvious twin keep their name (labels kept in the
  long frame, summed in the series); CSV columns without one become `csv_<column>`.
  Such names are not in the vocabulary: rules may read them with a warning (W0101).
* Nodes whose name starts with `@` are not cluster nodes: `@host` (host.csv),
  `@unknown` (samples nothing attributed).
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_unique_and_rates_listed() {
        let mut seen = std::collections::BTreeSet::new();
        for m in METRICS {
            assert!(seen.insert(m.name), "{} twice", m.name);
            if let Some(r) = rate_of(m.name) {
                let d = metric(r).unwrap_or_else(|| panic!("{}: rate {r} not listed", m.name));
                assert_eq!(d.kind, MetricKind::Derived, "{r}");
                assert_eq!(d.unit, Unit::PerSecond, "{r}");
            }
        }
    }
}
