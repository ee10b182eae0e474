//! Scenarios: TOML files embedded in the binary, each a fault kind plus parameter
//! overrides; `--set key=value` overrides on top. Every parameter has a default,
//! a type and a one-line description (`broker list` prints them).

use crate::clock::{MS, Micros, SEC, parse_rfc3339};
use crate::version::Version;
use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The embedded scenario files, by name.
pub const SCENARIOS: &[(&str, &str)] = &[
    ("healthy", include_str!("../scenarios/healthy.toml")),
    ("mqtt-storm", include_str!("../scenarios/mqtt-storm.toml")),
    ("node-freeze", include_str!("../scenarios/node-freeze.toml")),
    (
        "crash-restart",
        include_str!("../scenarios/crash-restart.toml"),
    ),
    (
        "slow-consumer",
        include_str!("../scenarios/slow-consumer.toml"),
    ),
    ("store-full", include_str!("../scenarios/store-full.toml")),
    ("route-flap", include_str!("../scenarios/route-flap.toml")),
    (
        "memory-growth",
        include_str!("../scenarios/memory-growth.toml"),
    ),
];

/// What the scenario breaks.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    None,
    Freeze,
    Crash,
    MqttStorm,
    SlowConsumer,
    StoreFull,
    RouteFlap,
    MemoryGrowth,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    description: String,
    fault: Fault,
    /// Root-cause category written to truth.json (absent for a healthy run).
    root_cause: Option<String>,
    /// Accepted root-cause categories written to verdict.json.
    #[serde(default)]
    causes: Vec<String>,
    #[serde(default)]
    params: BTreeMap<String, toml::Value>,
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub fault: Fault,
    pub root_cause: Option<String>,
    pub causes: Vec<String>,
    pub params: Params,
    /// The scenario file's own overrides (for `broker list`).
    pub overrides: Vec<(String, String)>,
}

/// All model parameters. Sizes are bytes (`MB` = 2^20, as nats-server prints them),
/// times are microseconds of virtual time.
#[derive(Clone, Debug)]
pub struct Params {
    pub nodes: usize,
    pub version: Version,
    pub cluster: String,
    pub start: Micros,
    pub duration: Micros,
    pub fail_node: usize,
    pub fault_at: Micros,
    pub fault_for: Micros,
    pub meta_leader: usize,
    pub stream_leader: usize,
    pub cores: f64,
    pub cpu_quota: f64,
    pub pub_rate: f64,
    pub msg_size: f64,
    pub mqtt_clients: usize,
    pub mqtt_rate: f64,
    pub mqtt_timeout: Micros,
    pub api_cost_ms: f64,
    pub api_queue_limit: usize,
    pub max_memory: u64,
    pub max_storage: u64,
    pub fail_max_storage: u64,
    pub backfill_rate: f64,
    pub backfill_size: f64,
    pub flood_rate: f64,
    pub flood_size: f64,
    pub episodes: usize,
    pub episode_gap: Micros,
    pub max_pending: u64,
    pub write_deadline: Micros,
    pub ping_interval: Micros,
    pub ping_max: u32,
    pub sock_buf: u64,
    pub mem_limit: u64,
    pub mem_rate: f64,
    pub restart_delay: Micros,
    pub flaps: usize,
    pub flap_down: Micros,
    pub flap_up: Micros,
    pub noise: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            nodes: 3,
            version: Version(2, 9, 10),
            cluster: "lab".into(),
            start: parse_rfc3339("2026-11-24T18:55:57.463Z").unwrap_or(0),
            duration: 180 * SEC,
            fail_node: 0,
            fault_at: 60 * SEC,
            fault_for: 45 * SEC,
            meta_leader: 0,
            stream_leader: 0,
            cores: 2.0,
            cpu_quota: 0.0,
            pub_rate: 100.0,
            msg_size: 550.0,
            mqtt_clients: 4000,
            mqtt_rate: 400.0,
            mqtt_timeout: 4 * SEC,
            api_cost_ms: 0.12,
            api_queue_limit: 10_000,
            max_memory: 512 << 20,
            max_storage: 4 << 30,
            fail_max_storage: 0,
            backfill_rate: 400.0,
            backfill_size: 4096.0,
            flood_rate: 20_000.0,
            flood_size: 1024.0,
            episodes: 3,
            episode_gap: 5 * SEC,
            max_pending: 64 << 20,
            write_deadline: 10 * SEC,
            ping_interval: 10 * SEC,
            ping_max: 2,
            sock_buf: 8 << 20,
            mem_limit: 1 << 30,
            mem_rate: 12.0 * (1 << 20) as f64,
            restart_delay: 5 * SEC,
            flaps: 3,
            flap_down: 40 * SEC,
            flap_up: 20 * SEC,
            noise: 1.0,
        }
    }
}

/// (key, description) for every parameter, in `broker list` order.
pub const PARAM_DOCS: &[(&str, &str)] = &[
    ("nodes", "cluster size (n1..nN)"),
    (
        "version",
        "nats-server release to imitate (message texts and JSON fields follow it)",
    ),
    ("cluster", "cluster name"),
    ("start", "virtual start time, RFC 3339 UTC"),
    ("duration", "virtual run length (e.g. 3m, 24h)"),
    ("fail_node", "the node the fault hits (n1..nN)"),
    ("fault_at", "fault time, offset from start"),
    (
        "fault_for",
        "fault length (freeze, crash downtime, storm, flood, backfill)",
    ),
    (
        "meta_leader",
        "node that wins the first meta election (fail = fail_node)",
    ),
    (
        "stream_leader",
        "node that leads ORDERS at first (fail = fail_node)",
    ),
    ("cores", "CPU cores per node"),
    (
        "cpu_quota",
        "cgroup CPU quota on fail_node during the fault, in cores (0 = none)",
    ),
    ("pub_rate", "msg/s of each of the two ORDERS publishers"),
    ("msg_size", "bytes per ORDERS message"),
    (
        "mqtt_clients",
        "MQTT devices in the storm (persistent sessions, one QoS1 sub each)",
    ),
    (
        "mqtt_rate",
        "MQTT connection attempts per second at storm start",
    ),
    ("mqtt_timeout", "MQTT internal JetStream request timeout"),
    (
        "api_cost_ms",
        "CPU milliseconds (one full core) to serve one consumer create",
    ),
    ("api_queue_limit", "JetStream API queue limit (2.10.21+)"),
    ("max_memory", "JetStream max_memory per node"),
    ("max_storage", "JetStream max_file_store per node"),
    (
        "fail_max_storage",
        "max_file_store of fail_node (0 = same as the others)",
    ),
    (
        "backfill_rate",
        "msg/s of the AUDIT backfill job (store-full)",
    ),
    ("backfill_size", "bytes per AUDIT message"),
    ("flood_rate", "msg/s of the core-NATS flood (slow-consumer)"),
    ("flood_size", "bytes per flood message"),
    ("episodes", "slow-consumer stall episodes"),
    ("episode_gap", "pause between slow-consumer episodes"),
    ("max_pending", "max_pending per client connection"),
    ("write_deadline", "write_deadline"),
    ("ping_interval", "ping_interval"),
    ("ping_max", "ping_max"),
    (
        "sock_buf",
        "kernel socket buffering per route before writes block",
    ),
    (
        "mem_limit",
        "container memory limit of fail_node (memory-growth)",
    ),
    (
        "mem_rate",
        "bytes/s written to the memory-backed CACHE stream (memory-growth)",
    ),
    (
        "restart_delay",
        "supervisor restart delay after a kill (crash-restart uses fault_for)",
    ),
    ("flaps", "network outages of fail_node (route-flap)"),
    ("flap_down", "length of each outage"),
    ("flap_up", "connectivity between outages"),
    (
        "noise",
        "host interference (CPU steal hiccups) multiplier, 0 = none",
    ),
];

fn node_index(v: &str, nodes: usize, fail: Option<usize>) -> Result<usize> {
    if v == "fail" {
        return fail.ok_or_else(|| anyhow!("`fail` is only valid for leaders"));
    }
    let n: usize = v
        .strip_prefix('n')
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| anyhow!("expected a node name like n2, got {v:?}"))?;
    if n == 0 || n > nodes.max(1) {
        bail!("node {v} does not exist in a {nodes}-node cluster");
    }
    Ok(n - 1)
}

/// Parses `45s`, `1.5s`, `250ms`, `3m`, `24h`, `2d` (a bare number is seconds).
pub fn parse_duration(v: &str) -> Result<Micros> {
    let v = v.trim();
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let x: f64 = num.parse().with_context(|| format!("bad duration {v:?}"))?;
    let mul = match unit {
        "" | "s" => SEC as f64,
        "ms" => MS as f64,
        "m" => 60.0 * SEC as f64,
        "h" => 3600.0 * SEC as f64,
        "d" => 86_400.0 * SEC as f64,
        _ => bail!("bad duration unit in {v:?} (use ms, s, m, h, d)"),
    };
    Ok((x * mul).round() as Micros)
}

/// Parses `32MB`, `4GB`, `512K`, `1024` (bytes; K/M/G/T are powers of 1024).
pub fn parse_size(v: &str) -> Result<u64> {
    let v = v.trim();
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let x: f64 = num.parse().with_context(|| format!("bad size {v:?}"))?;
    let unit = unit
        .trim()
        .trim_end_matches(['B', 'b'])
        .trim_end_matches('i')
        .to_ascii_uppercase();
    let mul: f64 = match unit.as_str() {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        "T" => 1024.0f64.powi(4),
        _ => bail!("bad size unit in {v:?} (use K, M, G, T)"),
    };
    Ok((x * mul).round() as u64)
}

impl Params {
    /// Sets one parameter from its text form. Leader and node names are resolved
    /// later (they depend on `nodes`), so they are kept as text in `pending`.
    pub fn set(
        &mut self,
        key: &str,
        v: &str,
        pending: &mut BTreeMap<String, String>,
    ) -> Result<()> {
        let num = |v: &str| {
            v.trim()
                .parse::<f64>()
                .with_context(|| format!("{key}: not a number: {v:?}"))
        };
        match key {
            "nodes" => {
                self.nodes = num(v)? as usize;
                if !(1..=64).contains(&self.nodes) {
                    bail!("nodes must be 1..=64");
                }
            }
            "version" => {
                self.version = Version::parse(v)
                    .ok_or_else(|| anyhow!("version: expected 2.x.y, got {v:?}"))?
            }
            "cluster" => self.cluster = v.to_string(),
            "start" => {
                self.start =
                    parse_rfc3339(v).ok_or_else(|| anyhow!("start: expected RFC 3339 UTC"))?
            }
            "duration" => self.duration = parse_duration(v)?,
            "fail_node" | "meta_leader" | "stream_leader" => {
                pending.insert(key.to_string(), v.to_string());
            }
            "fault_at" => self.fault_at = parse_duration(v)?,
            "fault_for" => self.fault_for = parse_duration(v)?,
            "cores" => self.cores = num(v)?.max(0.1),
            "cpu_quota" => self.cpu_quota = num(v)?.max(0.0),
            "pub_rate" => self.pub_rate = num(v)?.max(0.0),
            "msg_size" => self.msg_size = num(v)?.max(1.0),
            "mqtt_clients" => self.mqtt_clients = num(v)? as usize,
            "mqtt_rate" => self.mqtt_rate = num(v)?.max(1.0),
            "mqtt_timeout" => self.mqtt_timeout = parse_duration(v)?,
            "api_cost_ms" => self.api_cost_ms = num(v)?.max(0.001),
            "api_queue_limit" => self.api_queue_limit = num(v)? as usize,
            "max_memory" => self.max_memory = parse_size(v)?,
            "max_storage" => self.max_storage = parse_size(v)?,
            "fail_max_storage" => self.fail_max_storage = parse_size(v)?,
            "backfill_rate" => self.backfill_rate = num(v)?.max(0.0),
            "backfill_size" => self.backfill_size = num(v)?.max(1.0),
            "flood_rate" => self.flood_rate = num(v)?.max(0.0),
            "flood_size" => self.flood_size = num(v)?.max(1.0),
            "episodes" => self.episodes = num(v)? as usize,
            "episode_gap" => self.episode_gap = parse_duration(v)?,
            "max_pending" => self.max_pending = parse_size(v)?,
            "write_deadline" => self.write_deadline = parse_duration(v)?,
            "ping_interval" => self.ping_interval = parse_duration(v)?.max(MS),
            "ping_max" => self.ping_max = num(v)? as u32,
            "sock_buf" => self.sock_buf = parse_size(v)?,
            "mem_limit" => self.mem_limit = parse_size(v)?,
            "mem_rate" => self.mem_rate = parse_size(v)? as f64,
            "restart_delay" => self.restart_delay = parse_duration(v)?,
            "flaps" => self.flaps = num(v)? as usize,
            "flap_down" => self.flap_down = parse_duration(v)?,
            "flap_up" => self.flap_up = parse_duration(v)?,
            "noise" => self.noise = num(v)?.max(0.0),
            _ => {
                let keys: Vec<&str> = PARAM_DOCS.iter().map(|(k, _)| *k).collect();
                bail!("unknown parameter {key:?}; valid: {}", keys.join(", "))
            }
        }
        Ok(())
    }

    fn resolve(&mut self, pending: &BTreeMap<String, String>) -> Result<()> {
        let get = |k: &str, d: &str| pending.get(k).cloned().unwrap_or_else(|| d.to_string());
        self.fail_node = node_index(&get("fail_node", "n1"), self.nodes, None)?;
        self.meta_leader = node_index(&get("meta_leader", "n1"), self.nodes, Some(self.fail_node))?;
        self.stream_leader = node_index(
            &get("stream_leader", "n1"),
            self.nodes,
            Some(self.fail_node),
        )?;
        Ok(())
    }
}

fn toml_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Loads an embedded scenario and applies `--set` overrides (`key=value`).
pub fn load(name: &str, sets: &[String]) -> Result<Scenario> {
    let text = SCENARIOS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            let names: Vec<&str> = SCENARIOS.iter().map(|(n, _)| *n).collect();
            anyhow!("unknown scenario {name:?}; available: {}", names.join(", "))
        })?;
    parse(text, sets)
}

pub fn parse(text: &str, sets: &[String]) -> Result<Scenario> {
    let file: ScenarioFile = toml::from_str(text).context("scenario file")?;
    let mut params = Params::default();
    let mut pending = BTreeMap::new();
    let mut overrides = Vec::new();
    for (k, v) in &file.params {
        let v = toml_text(v);
        params
            .set(k, &v, &mut pending)
            .with_context(|| format!("scenario {}: param {k}", file.name))?;
        overrides.push((k.clone(), v));
    }
    for s in sets {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| anyhow!("--set expects key=value, got {s:?}"))?;
        params.set(k.trim(), v.trim(), &mut pending)?;
    }
    params.resolve(&pending)?;
    Ok(Scenario {
        name: file.name,
        description: file.description,
        fault: file.fault,
        root_cause: file.root_cause,
        causes: file.causes,
        params,
        overrides,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_embedded_scenarios_parse() {
        for (name, _) in SCENARIOS {
            let s = load(name, &[]).unwrap();
            assert_eq!(&s.name, name);
        }
    }

    #[test]
    fn sets_override_and_validate() {
        let s = load("mqtt-storm", &["nodes=5".into(), "fail_node=n4".into()]).unwrap();
        assert_eq!(s.params.nodes, 5);
        assert_eq!(s.params.fail_node, 3);
        assert!(load("mqtt-storm", &["fail_node=n9".into()]).is_err());
        assert!(load("mqtt-storm", &["bogus=1".into()]).is_err());
        assert_eq!(parse_size("32MB").unwrap(), 32 << 20);
        assert_eq!(parse_duration("24h").unwrap(), 86_400 * SEC);
    }
}
