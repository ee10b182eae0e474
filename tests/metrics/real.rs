//! The real 1-second captures in /work/shared/nats-real/*/metrics.

use super::common::load_dir;
use crate::common::coroner;
use coroner::metrics::{MetricSet, OutputFormat, Selection};
use coroner::model::{NANOS_PER_SEC, Timestamp};
use coroner::render::metrics::{write, write_text};
use std::path::Path;

const REAL: &str = "/work/shared/nats-real";

fn scenario(name: &str) -> Option<std::path::PathBuf> {
    let p = Path::new(REAL).join(name).join("metrics");
    p.is_dir().then_some(p)
}

fn summary_text(set: &coroner::metrics::MetricSet) -> String {
    let mut out = Vec::new();
    write_text(set, &Selection::all(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn t(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn load(sc: &str) -> Option<MetricSet> {
    let dir = scenario(sc)?;
    let (set, reports) = load_dir(&dir);
    for (name, r) in &reports {
        assert!(
            r.unparsed.is_empty(),
            "{name}: {:?}",
            &r.unparsed[..r.unparsed.len().min(3)]
        );
        assert_eq!(r.lines_read, r.lines_parsed, "{name}");
    }
    Some(set)
}

const ALL: &[&str] = &[
    "healthy",
    "node-freeze",
    "crash-restart",
    "mqtt-storm",
    "store-full",
    "slow-consumer",
];

#[test]
fn every_scenario_lists_three_nodes_with_the_core_series() {
    for sc in ALL {
        let Some(set) = load(sc) else { continue };
        assert_eq!(
            set.nodes(),
            vec!["n1".into(), "n2".into(), "n3".into()] as Vec<std::sync::Arc<str>>,
            "{sc}"
        );
        assert!(set.series("@host", "host_load1").is_some(), "{sc}");
        for n in set.nodes() {
            for m in [
                "up",
                "healthy",
                "cpu",
                "proc_cpu",
                "mem_rss",
                "proc_rss",
                "connections",
                "connections_rate",
                "js_api_total",
                "js_api_errors",
                "js_api_rate",
                "js_api_errors_rate",
                "in_msgs_rate",
                "js_store_pct",
                "routes",
                "route_pending",
                "meta_leader_self",
                "restarts",
                "fds",
            ] {
                let s = set
                    .series(&n, m)
                    .unwrap_or_else(|| panic!("{sc}: {n} lacks {m}"));
                assert!(s.points.len() > 10, "{sc}: {n} {m}");
                let ok = (NANOS_PER_SEC * 9 / 10..=NANOS_PER_SEC * 11 / 10).contains(&s.step);
                assert!(ok, "{sc} {n} {m} step {}", s.step);
            }
            // Counters never give a negative rate.
            for (_, rate) in coroner::metrics::counters() {
                if let Some(s) = set.series(&n, rate) {
                    assert!(s.points.iter().all(|p| p.value >= 0.0), "{sc}: {n} {rate}");
                }
            }
        }
        if *sc != "node-freeze" && *sc != "crash-restart" {
            for n in set.nodes() {
                assert!(set.gaps(&n).is_empty(), "{sc}: {n} {:?}", set.gaps(&n));
            }
        }
    }
}

#[test]
fn node_freeze_shows_n3_gap() {
    let Some(set) = load("node-freeze") else {
        return;
    };
    assert!(set.gaps("n1").is_empty() && set.gaps("n2").is_empty());
    let g = set.gaps("n3");
    assert_eq!(g.len(), 1, "{g:?}");
    // SIGSTOP 19:00:04.440, SIGCONT 19:00:49.454.
    assert!(
        g[0].start <= t("2026-11-24T19:00:04.440Z") && g[0].start >= t("2026-11-24T19:00:03Z"),
        "{g:?}"
    );
    assert!(
        g[0].end >= t("2026-11-24T19:00:49.454Z") && g[0].end <= t("2026-11-24T19:00:51Z"),
        "{g:?}"
    );
    let stopped = set.series("n3", "proc_stopped").unwrap();
    let w = stopped.window(t("2026-11-24T19:00:05Z"), t("2026-11-24T19:00:49Z"));
    assert_eq!(w.min, Some(1.0));
    let up = set.series("n3", "up").unwrap();
    assert_eq!(
        up.window(t("2026-11-24T19:00:05Z"), t("2026-11-24T19:00:48Z"))
            .max,
        Some(0.0)
    );
    let text = summary_text(&set);
    assert!(
        text.contains("n3: ") && text.contains("gaps (did not answer while peers did): 1"),
        "{text}"
    );
    // Meta leadership moved from n3 to n2.
    let n2 = set.series("n2", "meta_leader_self").unwrap();
    assert_eq!(
        n2.value_at(t("2026-11-24T19:00:30Z"), 3 * NANOS_PER_SEC),
        Some(1.0)
    );
}

#[test]
fn crash_restart_shows_n1_gap_and_restart() {
    let Some(set) = load("crash-restart") else {
        return;
    };
    let g = set.gaps("n1");
    assert_eq!(g.len(), 1, "{g:?}");
    // SIGKILL 19:03:05.101, back at 19:03:35.3.
    assert!(g[0].start <= t("2026-11-24T19:03:05.101Z"), "{g:?}");
    assert!(
        g[0].end >= t("2026-11-24T19:03:35.3Z") && g[0].end <= t("2026-11-24T19:03:37Z"),
        "{g:?}"
    );
    assert!(set.gaps("n2").is_empty() && set.gaps("n3").is_empty());
    assert_eq!(
        set.series("n1", "restarts")
            .unwrap()
            .points
            .last()
            .unwrap()
            .value,
        1.0
    );
    assert_eq!(
        set.series("n2", "restarts")
            .unwrap()
            .points
            .last()
            .unwrap()
            .value,
        0.0
    );
    let absent = set.series("n1", "proc_absent").unwrap();
    assert_eq!(
        absent
            .window(t("2026-11-24T19:03:10Z"), t("2026-11-24T19:03:30Z"))
            .min,
        Some(1.0)
    );
    let text = summary_text(&set);
    assert!(text.contains("restarts: 1"), "{text}");
}

#[test]
fn mqtt_storm_shows_n2_throttled() {
    let Some(set) = load("mqtt-storm") else {
        return;
    };
    let (a, b) = (t("2026-11-24T19:19:10Z"), t("2026-11-24T19:21:30Z"));
    let cpu = set
        .series("n2", "proc_cpu")
        .unwrap()
        .window(a, b)
        .mean
        .unwrap();
    assert!((15.0..25.0).contains(&cpu), "{cpu}");
    let thr = set.series("n2", "cg_throttled_rate").unwrap();
    let spans = thr.sustained(|v| v > 5.0, 60 * NANOS_PER_SEC, 3 * NANOS_PER_SEC);
    assert!(!spans.is_empty());
    assert!(set.series("n1", "cg_throttled_rate").is_none());
}

#[test]
fn store_full_shows_n2_at_its_limit() {
    let Some(set) = load("store-full") else {
        return;
    };
    let n2 = set.series("n2", "js_store_pct").unwrap();
    let w = n2.window(t("2026-11-24T19:09:31Z"), t("2026-11-24T19:10:30Z"));
    assert!(w.min.unwrap() >= 99.9, "{w:?}");
    assert_eq!(
        set.series("n2", "js_store_max").unwrap().points[0].value,
        33554432.0
    );
    for n in ["n1", "n3"] {
        let s = set.series(n, "js_store_pct").unwrap();
        assert!(s.points.iter().all(|p| p.value < 5.0));
    }
}

#[test]
fn slow_consumer_steps_on_n3() {
    let Some(set) = load("slow-consumer") else {
        return;
    };
    let s = set.series("n3", "slow_consumers").unwrap();
    assert_eq!(s.points.last().unwrap().value, 6.0);
    let steps = s
        .points
        .windows(2)
        .filter(|w| w[1].value > w[0].value)
        .count();
    assert_eq!(steps, 6);
    assert_eq!(
        set.series("n1", "slow_consumers")
            .unwrap()
            .points
            .last()
            .unwrap()
            .value,
        0.0
    );
    let rate = set.series("n3", "slow_consumers_rate").unwrap();
    assert_eq!(rate.points.iter().filter(|p| p.value > 0.0).count(), 6);
}

#[test]
fn exports_csv_json_text() {
    let Some(set) = load("node-freeze") else {
        return;
    };
    let sel = Selection {
        metrics: vec!["cpu".into(), "js_api_rate".into()],
        nodes: vec!["n2".into()],
    };
    let mut out = Vec::new();
    write(&set, &sel, OutputFormat::Csv, &mut out).unwrap();
    let csv = String::from_utf8(out).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("time,node,metric,value,labels"));
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() > 300);
    assert!(
        rows.iter()
            .all(|r| r.contains(",n2,cpu,") || r.contains(",n2,js_api_rate,"))
    );

    let mut out = Vec::new();
    write(&set, &sel, OutputFormat::Json, &mut out).unwrap();
    let first: serde_json::Value =
        serde_json::from_slice(out.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(first["node"], "n2");

    let mut out = Vec::new();
    write(&set, &sel, OutputFormat::Text, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("  cpu: ") && !text.contains("n1:"), "{text}");
}

/// Parquet is a file: the CLI refuses to write it to standard output.
#[test]
fn cli_exports_parquet_to_a_file() {
    let Some(dir) = scenario("node-freeze") else {
        return;
    };
    let dir = dir.to_str().unwrap();
    let to_stdout = coroner(&["metrics", dir, "--format", "parquet"]);
    assert!(!to_stdout.status.success(), "parquet needs -o");
    assert!(String::from_utf8_lossy(&to_stdout.stderr).contains("-o FILE"));
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("m.parquet");
    let path_s = path.to_str().unwrap();
    let written = coroner(&["metrics", dir, "--format", "parquet", "-o", path_s]);
    assert!(
        written.status.success(),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );
    assert!(String::from_utf8_lossy(&written.stdout).contains("(parquet)"));
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"PAR1") && bytes.len() > 1000);
    let set = load("node-freeze").unwrap();
    let df = set
        .to_long_frame(&coroner::metrics::Selection::all())
        .unwrap();
    assert_eq!(
        df.get_column_names()
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
        ["time", "node", "metric", "value", "labels"]
    );
}
