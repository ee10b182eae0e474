//! Every input shape, malformed and truncated input, duplicates, disorder,
//! counter resets.

use super::common::parse_bytes;
use coroner::metrics::MetricSet;
use coroner::model::Timestamp;
use coroner::parse::metric::{MetricFormat, parse, sniff};

fn ts(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn varz(name: &str, now: &str, start: &str, in_msgs: u64, cpu: f64) -> String {
    format!(
        r#"{{"server_id":"NID{name}","server_name":"{name}","version":"2.10.22","now":"{now}","start":"{start}","cpu":{cpu},"mem":1000000,"cores":2,"connections":3,"total_connections":9,"routes":2,"subscriptions":10,"slow_consumers":0,"in_msgs":{in_msgs},"out_msgs":{in_msgs},"in_bytes":100,"out_bytes":100,"jetstream":{{"config":{{"max_memory":1000,"max_storage":4000}},"stats":{{"memory":10,"storage":2000,"ha_assets":1,"api":{{"total":50,"errors":1}}}},"meta":{{"name":"lab","leader":"n1","cluster_size":3}}}}}}"#
    )
}

#[test]
fn sniffing() {
    assert_eq!(
        sniff(
            "x/varz.json",
            br#"{"server_id":"N","now":"2026-01-01T00:00:00Z"}"#
        ),
        Some(MetricFormat::JsonSnapshots)
    );
    assert_eq!(
        sniff("healthz.json", br#"{"status":"ok"}"#),
        Some(MetricFormat::JsonSnapshots)
    );
    assert_eq!(
        sniff(
            "w.jsonl",
            br#"{"fetched_at":"2026-01-01T00:00:00Z","error":"x"}"#
        ),
        Some(MetricFormat::JsonSnapshots)
    );
    assert_eq!(
        sniff("m.txt", b"# HELP gnatsd_varz_cpu cpu\n# TYPE gnatsd_varz_cpu gauge\ngnatsd_varz_cpu{server_id=\"http://n1:8222\"} 3\n"),
        Some(MetricFormat::Prometheus)
    );
    assert_eq!(
        sniff("m.prom", b"a 1\nb{x=\"y\"} 2 1700000000000\n"),
        Some(MetricFormat::Prometheus)
    );
    assert_eq!(
        sniff("p.csv", b"ts,node,pid,state,cpu_pct\n"),
        Some(MetricFormat::Csv)
    );
    // Logs are not metric dumps.
    assert_eq!(sniff("nats.log", b"[1] 2026/11/24 19:00:04.440321 [INF] Starting nats-server\n[1] 2026/11/24 19:00:04.440321 [INF] Version 2.10\n"), None);
    assert_eq!(
        sniff(
            "app.json",
            br#"{"level":"info","msg":"hello","time":"2026-01-01T00:00:00Z"}"#
        ),
        None
    );
}

#[test]
fn single_snapshot_with_name_time_and_hint() {
    // No `now`, no server_name: time from the file name, node from the path.
    let body =
        r#"{"server_id":"NX","cpu":12.5,"mem":2048,"in_msgs":1,"start":"2026-11-24T18:00:00Z"}"#;
    let r = parse_bytes(
        "incident/n2/varz-20261124T190004Z.json",
        Some("n2"),
        body.as_bytes(),
    );
    assert!(r.unparsed.is_empty(), "{:?}", r.unparsed);
    let cpu = r.samples.iter().find(|s| &**s.metric() == "cpu").unwrap();
    assert_eq!(cpu.ts, ts("2026-11-24T19:00:04Z"));
    assert_eq!(cpu.node().map(|n| &**n), Some("n2"));
    assert_eq!(cpu.value, 12.5);
}

#[test]
fn pretty_printed_concatenated_and_malformed() {
    let a = varz(
        "n1",
        "2026-11-24T19:00:00Z",
        "2026-11-24T18:00:00Z",
        100,
        5.0,
    );
    let b = varz(
        "n1",
        "2026-11-24T19:00:01Z",
        "2026-11-24T18:00:00Z",
        200,
        6.0,
    );
    let pa = serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&a).unwrap())
        .unwrap();
    let pb = serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&b).unwrap())
        .unwrap();
    // A broken object in between: `"cpu": ,`.
    let broken = pa.replace("\"cpu\": 5,", "\"cpu\": ,");
    assert_ne!(broken, pa);
    let text = format!("{pa}\n{broken}\n{pb}\n");
    let r = parse_bytes("varz.json", None, text.as_bytes());
    assert_eq!(r.unparsed.len(), 1, "{:?}", r.unparsed);
    let bad_line = pa.lines().count() as u64
        + broken
            .lines()
            .position(|l| l.contains("\"cpu\": ,"))
            .unwrap() as u64
        + 1;
    assert_eq!(r.unparsed[0].0, bad_line, "{:?}", r.unparsed);
    let cpus: Vec<f64> = r
        .samples
        .iter()
        .filter(|s| &**s.metric() == "cpu")
        .map(|s| s.value)
        .collect();
    assert_eq!(cpus, vec![5.0, 6.0]);
    assert_eq!(r.node.as_deref(), Some("n1"));
}

#[test]
fn json_lines_with_bad_and_truncated_lines() {
    let a = varz(
        "n1",
        "2026-11-24T19:00:00Z",
        "2026-11-24T18:00:00Z",
        100,
        5.0,
    );
    let b = varz(
        "n1",
        "2026-11-24T19:00:02Z",
        "2026-11-24T18:00:00Z",
        300,
        7.0,
    );
    let cut = &a[..a.len() / 2];
    // line 2: truncated mid-object, line 3: not JSON, line 4: good, line 5: unknown shape,
    // line 6: truncated at EOF.
    let text = format!("{a}\n{cut}\nnot json at all\n{b}\n{{\"hello\":1}}\n{cut}");
    let r = parse_bytes("n1.varz.jsonl", Some("n1"), text.as_bytes());
    let lines: Vec<u64> = r.unparsed.iter().map(|u| u.0).collect();
    assert_eq!(lines, vec![2, 3, 5, 6], "{:?}", r.unparsed);
    assert!(r.unparsed[2].1.contains("unknown JSON shape"));
    assert!(r.unparsed[3].1.contains("truncated"));
    let cpus: Vec<f64> = r
        .samples
        .iter()
        .filter(|s| &**s.metric() == "cpu")
        .map(|s| s.value)
        .collect();
    assert_eq!(cpus, vec![5.0, 7.0]);
    assert_eq!(r.lines_read, 6);
}

#[test]
fn wrapped_fetches_and_errors() {
    let text = r#"{"fetched_at":"2026-11-24T19:00:00.000Z","elapsed_ms":2.0,"http_status":200,"body":{"status":"ok"}}
{"fetched_at":"2026-11-24T19:00:01.000Z","elapsed_ms":2003.1,"error":"TimeoutError: timed out"}
{"fetched_at":"2026-11-24T19:00:02.000Z","elapsed_ms":500,"http_status":503,"body":{"status":"unavailable","error":"JetStream has not established contact with a meta leader"}}
"#;
    let r = parse_bytes("n3.healthz.jsonl", Some("n3"), text.as_bytes());
    assert!(r.unparsed.is_empty());
    let get = |m: &str| -> Vec<(Timestamp, f64)> {
        r.samples
            .iter()
            .filter(|s| &**s.metric() == m)
            .map(|s| (s.ts, s.value))
            .collect()
    };
    assert_eq!(
        get("up"),
        vec![
            (ts("2026-11-24T19:00:00.002Z"), 1.0),
            (ts("2026-11-24T19:00:01Z"), 0.0),
            (ts("2026-11-24T19:00:02.5Z"), 1.0)
        ]
    );
    assert_eq!(
        get("healthy").iter().map(|x| x.1).collect::<Vec<_>>(),
        vec![1.0, 0.0]
    );
    assert!(
        r.samples
            .iter()
            .all(|s| s.node().map(|n| &**n) == Some("n3"))
    );
}

#[test]
fn sys_envelope_from_audit_archive() {
    let text = r#"{
  "server": {"name": "nats-1", "host": "0.0.0.0", "id": "NABC", "cluster": "c1", "ver": "2.10.22", "seq": 12, "time": "2026-11-24T19:00:04.5Z"},
  "data": {"server_id": "NABC", "now": "2026-11-24T19:00:04.4Z", "memory": 1, "storage": 2048, "api": {"total": 7, "errors": 0, "inflight": 2},
           "streams": 3, "consumers": 4, "meta_cluster": {"name": "c1", "leader": "nats-1", "cluster_size": 3, "pending": 9}}
}
"#;
    let r = parse_bytes(
        "audit.zip!capture/clusters/c1/nats-1/jetstream_info/0001.json",
        None,
        text.as_bytes(),
    );
    assert!(r.unparsed.is_empty(), "{:?}", r.unparsed);
    let s = r
        .samples
        .iter()
        .find(|s| &**s.metric() == "js_api_pending")
        .unwrap();
    assert_eq!(
        (s.node().map(|n| &**n), s.value, s.ts),
        (Some("nats-1"), 9.0, ts("2026-11-24T19:00:04.4Z"))
    );
    let set = MetricSet::build(r.samples);
    assert_eq!(
        set.series("nats-1", "meta_leader_self").unwrap().points[0].value,
        1.0
    );
    assert_eq!(
        set.series("nats-1", "js_api_inflight").unwrap().points[0].value,
        2.0
    );
}

#[test]
fn server_id_mapped_to_name_seen_elsewhere() {
    // jsz carries only server_id; varz of the same server maps it to a name.
    let v = varz(
        "alpha",
        "2026-11-24T19:00:00Z",
        "2026-11-24T18:00:00Z",
        1,
        1.0,
    );
    let j = r#"{"server_id":"NIDalpha","now":"2026-11-24T19:00:00.1Z","memory":0,"storage":5,"api":{"total":1,"errors":0},"streams":1}"#;
    let mut s = parse_bytes("a/varz.json", Some("dir-a"), v.as_bytes()).samples;
    s.extend(parse_bytes("a/jsz.json", Some("dir-a"), j.as_bytes()).samples);
    let set = MetricSet::build(s);
    assert_eq!(
        set.nodes(),
        vec!["alpha".into()] as Vec<std::sync::Arc<str>>
    );
    assert_eq!(
        set.series("alpha", "js_streams").unwrap().points[0].value,
        1.0
    );
    // jsz wins over varz for the JetStream usage both report.
    assert_eq!(
        set.series("alpha", "js_store").unwrap().points[0].value,
        5.0
    );
}

#[test]
fn prometheus_scrapes() {
    let text = r#"# HELP gnatsd_varz_cpu cpu
# TYPE gnatsd_varz_cpu gauge
gnatsd_varz_cpu{server_id="http://nats-0:8222"} 37.5 1795633200000
gnatsd_varz_mem{server_id="http://nats-0:8222"} 1.23456512e+08 1795633200000
gnatsd_varz_in_msgs{server_id="http://nats-0:8222"} 100 1795633200000
gnatsd_varz_jetstream_meta_leader{server_id="http://nats-0:8222",value="nats-1"} 1 1795633200000
gnatsd_healthz_status{server_id="http://nats-0:8222"} 0 1795633200000
jetstream_server_total_streams{cluster="nats",is_meta_leader="false",meta_leader="nats-1",server_id="http://nats-0:8222",server_name="nats-0"} 5 1795633200000
weird_metric{path="a\"b\\c"} NaN 1795633200000
gnatsd_varz_cpu{server_id="http://nats-0:8222"} +Inf 1795633201000
gnatsd_varz_cpu{server_id="http://nats-0:8222"} 40 1795633201000
gnatsd_varz_in_msgs{server_id="http://nats-0:8222"} 300 1795633201000
this line is { broken
# scrape at 2026-11-24T19:00:05Z
gnatsd_varz_cpu{server_id="http://nats-1:8222"} 1e1
"#;
    let r = parse_bytes("prom.txt", None, text.as_bytes());
    assert_eq!(r.unparsed.len(), 1, "{:?}", r.unparsed);
    assert_eq!(r.unparsed[0].0, 13);
    let set = MetricSet::build(r.samples);
    assert_eq!(set.nodes().len(), 2);
    let cpu = set.series("nats-0", "cpu").unwrap();
    assert_eq!(
        cpu.points.iter().map(|p| p.value).collect::<Vec<_>>(),
        vec![37.5, 40.0]
    );
    assert_eq!(
        set.series("nats-0", "mem_rss").unwrap().points[0].value,
        123456512.0
    );
    assert_eq!(
        set.series("nats-0", "in_msgs_rate").unwrap().points[0].value,
        200.0
    );
    assert_eq!(
        set.series("nats-0", "healthy").unwrap().points[0].value,
        1.0
    );
    assert_eq!(
        set.series("nats-0", "js_streams").unwrap().points[0].value,
        5.0
    );
    assert_eq!(
        set.series("nats-0", "meta_leader_self").unwrap().points[0].value,
        0.0
    );
    let n1 = set.series("nats-1", "cpu").unwrap();
    assert_eq!(n1.points[0].ts, ts("2026-11-24T19:00:05Z"));
    assert_eq!(n1.points[0].value, 10.0);
}

#[test]
fn csv_wide_long_and_bad_rows() {
    let wide = "ts,node,pid,state,cpu_pct,rss_kb,threads,fds,cg_nr_throttled\n\
2026-11-24T19:00:00Z,n2,10,S,20.5,1000,8,15,100\n\
2026-11-24T19:00:01Z,n2,10,T,0.0,1000,8,15,110\n\
garbage,n2,10,S,1,1,1,1,1\n\
2026-11-24T19:00:02Z,n2,10,absent,,,,,\n\
2026-11-24T19:00:03Z,n2,11,S,1.0,900,8,15,5\n";
    let r = parse_bytes("n2.proc.csv", Some("n2"), wide.as_bytes());
    assert_eq!(r.unparsed.len(), 1, "{:?}", r.unparsed);
    assert_eq!(r.unparsed[0].0, 4);
    assert_eq!(r.lines_read, 6);
    let set = MetricSet::build(r.samples);
    let v = |m: &str| {
        set.series("n2", m)
            .unwrap()
            .points
            .iter()
            .map(|p| p.value)
            .collect::<Vec<_>>()
    };
    assert_eq!(v("proc_stopped"), vec![0.0, 1.0, 0.0]);
    assert_eq!(v("proc_absent"), vec![0.0, 0.0, 1.0, 0.0]);
    assert_eq!(v("proc_rss")[0], 1024000.0);
    // 100 → 110 is 10/s; the reset to 5 after the restart gives no rate point.
    assert_eq!(v("cg_throttled_rate"), vec![10.0]);
    assert_eq!(v("restarts"), vec![0.0, 0.0, 0.0, 1.0]);

    let long = "timestamp,node,metric,value,stream\n\
1795633200,n1,gnatsd_varz_cpu,5,\n\
1795633201,n1,gnatsd_varz_cpu,6,\n\
1795633201,n1,jetstream_stream_total_messages,10,A\n\
1795633201,n1,jetstream_stream_total_messages,20,B\n\
1795633202,n1,gnatsd_varz_cpu,oops,\n";
    let r = parse_bytes("metrics.csv", None, long.as_bytes());
    assert_eq!(r.unparsed.len(), 1);
    let set = MetricSet::build(r.samples);
    assert_eq!(set.series("n1", "cpu").unwrap().points.len(), 2);
    // Label sets are summed in the canonical series.
    assert_eq!(
        set.series("n1", "jetstream_stream_total_messages")
            .unwrap()
            .points[0]
            .value,
        30.0
    );

    let host = "ts,load1,load5,host_cpu_busy_pct,mem_available_kb,procs_running\n2026-11-24T19:00:00Z,0.5,0.4,7.0,100,2\n";
    let r = parse_bytes("metrics/host.csv", Some("metrics"), host.as_bytes());
    let set = MetricSet::build(r.samples);
    assert!(set.nodes().is_empty());
    assert_eq!(
        set.series("@host", "host_mem_available").unwrap().points[0].value,
        102400.0
    );
}

#[test]
fn counter_reset_after_restart_gives_no_negative_rate() {
    let mut text = String::new();
    // Lifetime 1: in_msgs 0, 100, 200; restart; lifetime 2: 10, 5000 (higher than
    // before the restart: only the start time tells).
    let s1 = "2026-11-24T18:00:00Z";
    let s2 = "2026-11-24T19:00:03.5Z";
    for (now, start, n) in [
        ("2026-11-24T19:00:00Z", s1, 0),
        ("2026-11-24T19:00:01Z", s1, 100),
        ("2026-11-24T19:00:02Z", s1, 200),
        ("2026-11-24T19:00:04Z", s2, 10),
        ("2026-11-24T19:00:05Z", s2, 5000),
        ("2026-11-24T19:00:06Z", s2, 6000),
    ] {
        text.push_str(&varz("n1", now, start, n, 1.0));
        text.push('\n');
    }
    let r = parse_bytes("n1.varz.jsonl", Some("n1"), text.as_bytes());
    let set = MetricSet::build(r.samples);
    let rate = set.series("n1", "in_msgs_rate").unwrap();
    assert!(rate.points.iter().all(|p| p.value >= 0.0));
    assert_eq!(
        rate.points.iter().map(|p| p.value).collect::<Vec<_>>(),
        vec![100.0, 100.0, 4990.0, 1000.0]
    );
    let restarts = set.series("n1", "restarts").unwrap();
    assert_eq!(restarts.points.last().unwrap().value, 1.0);

    // Reset without a start time (Prometheus counter): the negative step is dropped.
    let prom = "x_total 50 1795633200000\nx_total 10 1795633201000\nin 1 1795633201000\n";
    let r = parse_bytes("p.prom", Some("n1"), prom.as_bytes());
    assert!(r.unparsed.is_empty());
}

#[test]
fn duplicate_and_out_of_order_snapshots() {
    let lines = [
        varz(
            "n1",
            "2026-11-24T19:00:02Z",
            "2026-11-24T18:00:00Z",
            300,
            3.0,
        ),
        varz(
            "n1",
            "2026-11-24T19:00:00Z",
            "2026-11-24T18:00:00Z",
            100,
            1.0,
        ),
        varz(
            "n1",
            "2026-11-24T19:00:01Z",
            "2026-11-24T18:00:00Z",
            200,
            2.0,
        ),
        varz(
            "n1",
            "2026-11-24T19:00:01Z",
            "2026-11-24T18:00:00Z",
            200,
            2.0,
        ),
    ];
    // Same snapshots again in a second file (a copy in another directory).
    let a = parse_bytes("a/n1.varz.jsonl", Some("n1"), lines.join("\n").as_bytes());
    let b = parse_bytes(
        "b/n1.varz.jsonl",
        Some("n1"),
        lines[..2].join("\n").as_bytes(),
    );
    let mut s = a.samples;
    s.extend(b.samples);
    let set = MetricSet::build(s);
    let cpu = set.series("n1", "cpu").unwrap();
    assert_eq!(
        cpu.points.iter().map(|p| p.value).collect::<Vec<_>>(),
        vec![1.0, 2.0, 3.0]
    );
    let rate = set.series("n1", "in_msgs_rate").unwrap();
    assert_eq!(
        rate.points.iter().map(|p| p.value).collect::<Vec<_>>(),
        vec![100.0, 100.0]
    );
    assert_eq!(set.series("n1", "up").unwrap().points.len(), 3);
    assert_eq!(
        set.series("n1", "js_store_pct").unwrap().points[0].value,
        50.0
    );
}

#[test]
fn gaps_resample_and_peers() {
    // n1, n2 answer every second for 20 s; n2 fails fetches from 5 to 12 s.
    let mut n1 = String::new();
    let mut n2 = String::new();
    for i in 0..20 {
        let t = format!("2026-11-24T19:00:{i:02}Z");
        n1.push_str(&format!(
            "{{\"fetched_at\":\"{t}\",\"elapsed_ms\":1,\"http_status\":200,\"body\":{}}}\n",
            varz("n1", &t, "2026-11-24T18:00:00Z", i * 10, 5.0)
        ));
        if (5..=12).contains(&i) {
            n2.push_str(&format!(
                "{{\"fetched_at\":\"{t}\",\"elapsed_ms\":1,\"error\":\"refused\"}}\n"
            ));
        } else {
            n2.push_str(&format!(
                "{{\"fetched_at\":\"{t}\",\"elapsed_ms\":1,\"http_status\":200,\"body\":{}}}\n",
                varz("n2", &t, "2026-11-24T18:00:00Z", i * 10, 50.0)
            ));
        }
    }
    let mut s = parse_bytes("n1.varz.jsonl", Some("n1"), n1.as_bytes()).samples;
    s.extend(parse_bytes("n2.varz.jsonl", Some("n2"), n2.as_bytes()).samples);
    let set = MetricSet::build(s);
    assert!(set.gaps("n1").is_empty());
    let g = set.gaps("n2");
    assert_eq!(g.len(), 1);
    assert_eq!(
        (g[0].start, g[0].end),
        (ts("2026-11-24T19:00:04Z"), ts("2026-11-24T19:00:13Z"))
    );
    let up = set.series("n2", "up").unwrap();
    assert_eq!(up.points.iter().filter(|p| p.value == 0.0).count(), 8);

    let peers = set.peers_at("cpu", ts("2026-11-24T19:00:03.5Z"));
    assert_eq!(peers, vec![("n1".into(), 5.0), ("n2".into(), 50.0)]);
    // During the gap n2 has no fresh value.
    assert_eq!(set.peers_at("cpu", ts("2026-11-24T19:00:10Z")).len(), 1);
    assert_eq!(
        set.peer_deviation("cpu", "n2", ts("2026-11-24T19:00:03Z")),
        Some((50.0, 5.0))
    );

    let rs = set.resample("cpu", 2_000_000_000);
    assert_eq!(rs.nodes.len(), 2);
    assert_eq!(rs.times.len(), 10);
    let n2row = &rs.values[1];
    assert_eq!(n2row[0], Some(50.0));
    assert_eq!(n2row[3], None, "gap kept as a gap");
    assert_eq!(n2row.iter().filter(|v| v.is_none()).count(), 3);
}

#[test]
fn parse_never_panics_on_junk() {
    let junk: &[&[u8]] = &[
        b"",
        b"{",
        b"}}}}",
        b"\xff\xfe{\"a\":",
        b"[1,2,3]",
        b"{\"fetched_at\":1,\"body\":5}",
        b"null\n\n",
    ];
    for j in junk {
        for f in [
            MetricFormat::JsonSnapshots,
            MetricFormat::Prometheus,
            MetricFormat::Csv,
        ] {
            let r = parse(f, "junk", None, &mut &j[..]);
            assert!(r.samples.is_empty());
        }
    }
}
