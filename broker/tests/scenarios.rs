//! End-to-end runs of the embedded scenarios: determinism, signature messages
//! on the right node, parameters that move the fault, and the recorded samples.

use broker::logger::LogFormat;
use broker::scenario;
use broker::sim::RunOptions;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("broker-tests")
        .join(name);
    let _ = fs::remove_dir_all(&d);
    d
}

fn run_with(name: &str, seed: u64, sets: &[&str], out: &Path, format: LogFormat, interval_s: i64) {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let sc = scenario::load(name, &sets).expect("scenario loads");
    let opts = RunOptions {
        out: out.to_path_buf(),
        log_format: format,
        metrics_interval: interval_s * 1_000_000,
        prometheus: false,
    };
    broker::run(&sc, seed, opts).expect("scenario runs");
}

fn run(name: &str, seed: u64, sets: &[&str], tag: &str) -> PathBuf {
    let out = tmp(tag);
    run_with(name, seed, sets, &out, LogFormat::Text, 1);
    out
}

/// Every file under `dir`, relative path → bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                m.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    m
}

fn log(out: &Path, node: &str) -> String {
    fs::read_to_string(out.join(format!("{node}.log"))).unwrap()
}

fn truth(out: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(out.join("truth.json")).unwrap()).unwrap()
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = run(
        "node-freeze",
        7,
        &["duration=90s", "fault_at=30s", "fault_for=20s"],
        "det-a",
    );
    let b = run(
        "node-freeze",
        7,
        &["duration=90s", "fault_at=30s", "fault_for=20s"],
        "det-b",
    );
    let c = run(
        "node-freeze",
        8,
        &["duration=90s", "fault_at=30s", "fault_for=20s"],
        "det-c",
    );
    let (fa, fb, fc) = (files(&a), files(&b), files(&c));
    assert!(
        fa.len() >= 17,
        "expected logs, metrics, truth: {:?}",
        fa.keys()
    );
    assert_eq!(fa, fb, "same scenario + seed must give identical files");
    assert_ne!(fa.get("n1.log"), fc.get("n1.log"));
}

#[test]
fn healthy_is_quiet() {
    let out = run("healthy", 1, &["duration=90s"], "healthy");
    for n in ["n1", "n2", "n3"] {
        let l = log(&out, n);
        assert!(l.contains("[INF] Starting nats-server"));
        assert!(l.contains("[INF] Server Exiting.."));
        assert!(
            !l.contains("NO quorum")
                && !l.contains("Slow Consumer")
                && !l.contains("resource limits")
        );
        assert_eq!(
            l.matches("Error trying to connect to route").count(),
            l.matches("(attempt 1)").count()
        );
    }
    assert_eq!(truth(&out)["failing_node"], serde_json::Value::Null);
    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("verdict.json")).unwrap()).unwrap();
    assert_eq!(v["quiet"], true);
}

#[test]
fn node_freeze_moves_leaders_and_times_out_the_sampler() {
    let out = run("node-freeze", 1, &[], "freeze");
    let n3 = log(&out, "n3");
    assert!(n3.contains("[WRN] JetStream cluster stream 'APP > ORDERS' has NO quorum, stalled"));
    assert!(
        n3.matches("Healthcheck failed").count() > 10,
        "queued probes answered on resume"
    );
    let others = log(&out, "n1") + &log(&out, "n2");
    assert!(others.contains("Self is new JetStream cluster metadata leader"));
    assert!(
        others.contains("Healthcheck failed: \"JetStream is not current with the meta leader\"")
    );
    let hz = fs::read_to_string(out.join("metrics/n3.healthz.jsonl")).unwrap();
    assert!(hz.matches("TimeoutError: timed out").count() >= 40);
    let proc_csv = fs::read_to_string(out.join("metrics/n3.proc.csv")).unwrap();
    assert!(
        proc_csv.contains(",n3,") && proc_csv.lines().any(|l| l.split(',').nth(3) == Some("T"))
    );
    assert_eq!(truth(&out)["failing_node"], "n3");
}

#[test]
fn freeze_follows_fail_node() {
    let out = run(
        "node-freeze",
        3,
        &["fail_node=n1", "duration=2m"],
        "freeze-n1",
    );
    assert!(log(&out, "n1").contains("has NO quorum, stalled"));
    assert!(!log(&out, "n3").contains("has NO quorum, stalled"));
    assert_eq!(truth(&out)["failing_node"], "n1");
}

#[test]
fn crash_restart_has_a_second_banner_and_route_retries() {
    let out = run("crash-restart", 1, &[], "crash");
    let n1 = log(&out, "n1");
    assert_eq!(n1.matches("Starting nats-server").count(), 2);
    assert_eq!(n1.matches("Server Exiting..").count(), 1);
    assert!(n1.contains("JetStream cluster recovering state"));
    assert!(n1.contains("  Restored "));
    let n2 = log(&out, "n2");
    assert!(n2.contains("Router connection closed: Client Closed"));
    assert!(n2.contains("(attempt 20): dial tcp 127.0.0.1:16221: connect: connection refused"));
    let varz = fs::read_to_string(out.join("metrics/n1.varz.jsonl")).unwrap();
    assert!(varz.contains("Connection refused"));
}

#[test]
fn mqtt_storm_backs_up_the_api_on_the_fail_node() {
    let out = run(
        "mqtt-storm",
        1,
        &[
            "mqtt_clients=1500",
            "duration=150s",
            "fault_at=30s",
            "fault_for=90s",
        ],
        "storm",
    );
    let n2 = log(&out, "n2");
    assert!(n2.contains("Creating MQTT streams/consumers with replicas 3 for account \"APP\""));
    assert!(n2.contains("Unable to add JetStream consumer for subscription on \"devices.dev-"));
    assert!(n2.contains(
        "err=timeout for request type \"CC\" on \"$JS.API.CONSUMER.DURABLE.CREATE.$MQTT_msgs."
    ));
    assert!(n2.contains("Readloop processing time: "));
    assert!(n2.contains("Expected first catchup entry to be a snapshot and peerstate, will retry"));
    assert!(!log(&out, "n1").contains("Unable to add JetStream consumer"));
    let pc = fs::read_to_string(out.join("metrics/n2.proc.csv")).unwrap();
    assert!(
        pc.lines()
            .any(|l| l.ends_with(|c: char| c.is_ascii_digit()) && l.contains(",20000,")),
        "cgroup columns while throttled"
    );
}

#[test]
fn mqtt_storm_on_a_five_node_cluster_fails_n4() {
    let out = run(
        "mqtt-storm",
        2,
        &[
            "nodes=5",
            "fail_node=n4",
            "mqtt_clients=4000",
            "duration=150s",
            "fault_at=30s",
            "fault_for=90s",
        ],
        "storm5",
    );
    assert!(log(&out, "n4").contains("Unable to add JetStream consumer"));
    assert!(!log(&out, "n2").contains("Unable to add JetStream consumer"));
    assert_eq!(truth(&out)["failing_node"], "n4");
    assert!(out.join("n5.log").exists());
}

#[test]
fn mqtt_storm_2_10_12_logs_the_pending_count_warning() {
    let out = run(
        "mqtt-storm",
        1,
        &[
            "version=2.10.12",
            "mqtt_clients=1500",
            "duration=120s",
            "fault_at=30s",
            "fault_for=60s",
        ],
        "storm-2-10",
    );
    let n2 = log(&out, "n2");
    assert!(n2.contains("[WRN] JetStream request queue has high pending count: "));
    assert!(n2.contains("Version:  2.10.12"));
    let varz = fs::read_to_string(out.join("metrics/n2.varz.jsonl")).unwrap();
    assert!(varz.contains("\"slow_consumer_stats\""));
}

#[test]
fn queue_limit_drops_requests_on_2_10_22() {
    let out = run(
        "mqtt-storm",
        1,
        &[
            "version=2.10.22",
            "api_queue_limit=500",
            "mqtt_clients=3000",
            "duration=120s",
            "fault_at=30s",
            "fault_for=60s",
        ],
        "storm-limit",
    );
    assert!(log(&out, "n2").contains("[WRN] JetStream API queue limit reached, dropping "));
    let jsz = fs::read_to_string(out.join("metrics/n2.jsz.jsonl")).unwrap();
    assert!(jsz.contains("\"pending\":"));
}

#[test]
fn slow_consumer_on_n3() {
    let out = run("slow-consumer", 1, &[], "slow");
    let n3 = log(&out, "n3");
    assert_eq!(
        n3.matches("Slow Consumer Detected: MaxPending of 67108864 Exceeded")
            .count(),
        3
    );
    assert_eq!(
        n3.matches("Slow Consumer Detected: WriteDeadline of 10s exceeded with")
            .count(),
        3
    );
    assert!(n3.contains(" - \"v0.1:python-raw:analytics-writer\" - Slow Consumer"));
    assert!(!log(&out, "n1").contains("Slow Consumer"));
}

#[test]
fn store_full_on_n2() {
    let out = run("store-full", 1, &[], "store");
    let n2 = log(&out, "n2");
    assert!(n2.contains("[ERR] JetStream resource limits exceeded for server"));
    assert!(n2.contains("Max Storage:     32.00 MB"));
    assert!(
        n2.matches("Healthcheck failed: \"JetStream stream 'APP > ORDERS' is not current\"")
            .count()
            > 30
    );
    let others = log(&out, "n1") + &log(&out, "n3");
    assert!(others.contains("JetStream cluster new stream leader for 'APP > ORDERS'"));
}

#[test]
fn route_flap_goes_stale_and_retries() {
    let out = run("route-flap", 1, &[], "flap");
    let all = log(&out, "n1") + &log(&out, "n3");
    assert!(all.contains("Router connection closed: Stale Connection"));
    assert!(all.contains(": i/o timeout"));
    assert!(log(&out, "n2").contains("JetStream cluster no metadata leader"));
}

#[test]
fn memory_growth_ends_in_oom_kills() {
    let out = run("memory-growth", 1, &[], "oom");
    let n1 = log(&out, "n1");
    let banners = n1.matches("Starting nats-server").count();
    assert!(banners >= 2, "restarted after the OOM kill");
    assert_eq!(
        n1.matches("Server Exiting..").count(),
        1,
        "only the final graceful stop says goodbye"
    );
    assert_eq!(truth(&out)["root_cause"], "memory-exhaustion");
}

#[test]
fn json_log_format_is_one_object_per_line() {
    let out = tmp("json");
    run_with(
        "crash-restart",
        1,
        &["duration=100s"],
        &out,
        LogFormat::Json,
        1,
    );
    let text = log(&out, "n2");
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["node"], "n2");
        assert!(v["ts"].as_str().unwrap().ends_with('Z'));
        assert!(["info", "warn", "error"].contains(&v["level"].as_str().unwrap()));
    }
}

#[test]
fn metric_lines_are_json_with_the_wrapper() {
    let out = run("healthy", 4, &["duration=60s"], "wrapper");
    for ep in ["varz", "jsz", "healthz", "routez"] {
        let text = fs::read_to_string(out.join(format!("metrics/n1.{ep}.jsonl"))).unwrap();
        for line in text.lines() {
            let v: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{ep}: {e}: {line}"));
            assert!(v["fetched_at"].is_string() && v["elapsed_ms"].is_number());
            assert!(v.get("body").is_some() || v.get("error").is_some());
        }
    }
}

/// samples/broker/<name>/ARGS holds `scenario seed interval_s [key=value...]`;
/// regenerating must reproduce every file byte for byte.
#[test]
fn samples_regenerate_byte_for_byte() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/broker");
    let Ok(entries) = fs::read_dir(&root) else {
        return;
    };
    let mut dirs: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("ARGS").exists())
        .collect();
    dirs.sort();
    for dir in dirs {
        let args = fs::read_to_string(dir.join("ARGS")).unwrap();
        let mut it = args.split_whitespace();
        let (name, seed, interval) = (
            it.next().unwrap(),
            it.next().unwrap().parse().unwrap(),
            it.next().unwrap().parse().unwrap(),
        );
        let sets: Vec<&str> = it.collect();
        let out = tmp(&format!(
            "sample-{}",
            dir.file_name().unwrap().to_string_lossy()
        ));
        run_with(name, seed, &sets, &out, LogFormat::Text, interval);
        let mut want = files(&dir);
        want.remove("ARGS");
        assert_eq!(
            files(&out),
            want,
            "sample {} drifted; regenerate it (see samples/broker/README.md)",
            dir.display()
        );
    }
}
