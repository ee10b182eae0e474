//! What users paste: lines a terminal or a paste wrapped (joined to their
//! record), and the CLI outputs pasted beside the logs (read as records of
//! the nodes they name). Every line still counts once.

use crate::common::*;
use coroner::ingest::{Bundle, IngestOptions, Keep};
use coroner::model::{Event, Value};

/// Reads with the templates of every built-in pack (the readers' records
/// are matched by the `nats-snapshots` pack's).
fn read_with_packs(paths: &[&std::path::Path]) -> Bundle {
    let rules = coroner::lang::RuleSet::builtin();
    let inputs: Vec<coroner::source::Input> = paths
        .iter()
        .map(|p| coroner::source::Input::Path(p.to_path_buf()))
        .collect();
    let b = coroner::ingest::ingest(
        &inputs,
        rules.classifier_ref(),
        &IngestOptions {
            keep: Keep::All,
            ..IngestOptions::default()
        },
    );
    assert_balanced(&b);
    b
}

fn one(name: &str, text: &str) -> Bundle {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), name, text.as_bytes());
    read_with_packs(&[&p])
}

fn kinds(b: &Bundle) -> Vec<String> {
    b.events.iter().map(|e| e.kind.to_string()).collect()
}

fn of<'a>(b: &'a Bundle, kind: &str) -> Vec<&'a Event> {
    b.events.iter().filter(|e| &*e.kind == kind).collect()
}

fn num(e: &Event, f: &str) -> Option<f64> {
    e.field(f).and_then(Value::as_f64)
}

fn text(e: &Event, f: &str) -> Option<String> {
    e.field(f).map(|v| v.to_string())
}

// ---------------------------------------------------------------- wrapped tails

#[test]
fn a_tail_cut_mid_word_is_joined_and_the_line_classified_again() {
    let b = one(
        "edge-4.log",
        "[12] 2025/02/11 08:14:03.551020 [WRN] Internal subscription on \"$JS.API.CONSUMER.CREATE.BILLING\" took too lo\n\
         ng: 9.310044s\n\
         [12] 2025/02/11 08:14:04.000100 [WRN] 10.2.0.9:39114 - cid:88 - Readloop processing time: 4.10\n\
         2203s\n",
    );
    assert_eq!(kinds(&b), ["internal_sub_slow", "readloop_slow"]);
    assert!((num(&b.events[0], "took").unwrap() - 9.310044).abs() < 1e-9);
    assert!((num(&b.events[1], "elapsed").unwrap() - 4.102203).abs() < 1e-9);
    assert_eq!(b.events[1].field("conn_id"), Some(&Value::Int(88)));
    assert_eq!(b.events[0].continuation, 1);
    let f = &b.files[0].account;
    assert_eq!((f.parsed, f.continuation, f.unparsed), (2, 2, 0));
}

#[test]
fn a_tail_is_joined_with_the_space_a_word_wrap_dropped_when_only_that_reads() {
    let b = one(
        "edge-4.log",
        "[12] 2025/02/11 08:14:03.551020 [WRN] Internal subscription on \"$JS.API.STREAM.INFO.X\" took too\n\
         long: 2.5s\n",
    );
    assert_eq!(kinds(&b), ["internal_sub_slow"]);
}

#[test]
fn a_long_message_cut_in_its_last_value_takes_its_tail() {
    let b = one(
        "edge-4.log",
        "[12] 2025/02/11 08:14:05.000000 [ERR] JetStream failed to store a msg on stream '$G > LEDGER': write /var/lib/nats/jetstream/$G/streams/LEDGER/msgs/91.blk: no space \n\
         left on device\n\
         [12] 2025/02/11 08:14:06.000000 [INF] 10.2.0.7:6222 - rid:14 - Router connection closed: Stale Connecti\n\
         on\n",
    );
    assert_eq!(kinds(&b), ["js_store_failed", "connection_closed"]);
    assert!(
        text(&b.events[0], "error")
            .unwrap()
            .ends_with("no space left on device")
    );
    assert_eq!(
        text(&b.events[1], "reason").as_deref(),
        Some("Stale Connection")
    );
}

#[test]
fn a_wrapped_line_inside_k9s_borders() {
    let b = one(
        "k9s.txt",
        "│ [1] 2025/02/11 08:14:03.551020 [WRN] Internal subscription on \"$JS.API.DIRECT.GET.KV_cfg\" took too long: 5. │\n\
         │ 3251s                                                                                                         │\n",
    );
    assert_eq!(kinds(&b), ["internal_sub_slow"]);
    assert!((num(&b.events[0], "took").unwrap() - 5.3251).abs() < 1e-9);
}

#[test]
fn payloads_and_messages_of_their_own_are_not_joined() {
    let b = one(
        "edge-4.log",
        // indented payload lines of a record, a short record followed by
        // text, and a header-less message of its own after a long record
        "[12] 2025/02/11 08:14:03.000000 [ERR] JetStream failed to store a msg on stream '$G > LEDGER': write error\n\
         \x20   caused by: disk quota\n\
         \tat /var/lib/nats\n\
         [12] 2025/02/11 08:14:04.000000 [INF] Server is ready\n\
         and then nothing happened for a while\n\
         [12] 2025/02/11 08:14:05.000000 [WRN] Internal subscription on \"$JS.API.STREAM.INFO.LEDGER_HISTORY\" took too long: 2.5s\n\
         Readloop processing time: 3.5s\n",
    );
    let e = of(&b, "js_store_failed");
    assert_eq!(text(e[0], "error").as_deref(), Some("write error"));
    assert_eq!(e[0].continuation, 2);
    assert_eq!(of(&b, "internal_sub_slow").len(), 1, "{:?}", kinds(&b));
    assert_eq!(of(&b, "readloop_slow").len(), 1, "{:?}", kinds(&b));
    let f = &b.files[0].account;
    // 3 headed records and the bare message; 3 continuation lines
    assert_eq!((f.parsed, f.continuation, f.unparsed), (4, 3, 0));
}

// ---------------------------------------------------------------- CLI outputs

const PODS: &str = "\
$ kubectl get pods -n messaging
NAME                     READY   STATUS      RESTARTS        AGE
broker-0     1/2     Running     14 (6m ago)     2h
broker-1     2/2     Running     0               2h
broker-2     0/2     OOMKilled   5 (40s ago)     2h
";

#[test]
fn kubectl_pods_are_records_of_their_pods() {
    let b = one("pods.txt", PODS);
    let pods = of(&b, "kube_pod");
    assert_eq!(pods.len(), 3);
    let nodes: Vec<&str> = pods.iter().map(|e| &*e.node).collect();
    assert_eq!(nodes, ["broker-0", "broker-1", "broker-2"]);
    assert_eq!(num(pods[0], "restarts"), Some(14.0));
    assert_eq!(num(pods[0], "restarts_per_hour"), Some(7.0));
    assert_eq!(num(pods[0], "last_restart"), Some(360.0));
    assert_eq!(text(pods[2], "status").as_deref(), Some("OOMKilled"));
    // one instant for the whole table: its place in the file
    assert!(pods.iter().all(|e| e.ts == pods[0].ts));
    assert!(pods[0].ts.unwrap().is_line_order());
    let f = &b.files[0].account;
    assert_eq!((f.lines_read, f.parsed, f.unparsed), (5, 5, 0));
}

#[test]
fn a_cli_output_after_log_lines_takes_their_time() {
    let mut text = String::from("[1] 2025/03/01 10:00:00.000000 [INF] Server is ready\n");
    text.push_str(PODS);
    let b = one("broker-0.log", &text);
    let pods = of(&b, "kube_pod");
    assert_eq!(pods[0].ts, b.events[0].ts);
    assert!(!pods[0].ts.unwrap().is_line_order());
}

#[test]
fn an_undated_output_is_dated_after_the_logs_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let pods = write(dir.path(), "pods.txt", PODS.as_bytes());
    let log = write(
        dir.path(),
        "broker-2.log",
        b"[1] 2025/03/01 10:00:00.000000 [INF] Starting nats-server\n[1] 2025/03/01 10:00:07.500000 [INF] Server is ready\n",
    );
    let b = read_with_packs(&[&pods, &log]);
    let end = b
        .events
        .iter()
        .filter(|e| !e.snapshot)
        .filter_map(|e| e.ts)
        .max();
    let pods = of(&b, "kube_pod");
    assert!(pods.iter().all(|e| e.snapshot && e.ts == end), "{pods:?}");
    // a node seen only in the output: its span is that instant, not 1970
    let n = &b.nodes["broker-0"];
    assert_eq!((n.first, n.last), (end, end));
    // the log's node keeps the span of its lines, up to the snapshot
    assert_eq!(b.nodes["broker-2"].last, end);
}

const REPORT: &str = "\
╭─────────────────────────────────────────────────────────────────────────────────────────╮
│                                    JetStream Summary                                    │
├─────────┬─────────┬─────────┬───────────┬──────────┬────────┬────────┬────────┬─────────┬─────────┤
│ Server  │ Cluster │ Streams │ Consumers │ Messages │ Bytes  │ Memory │ File   │ API Req │ Pending │
├─────────┼─────────┼─────────┼───────────┼──────────┼────────┼────────┼────────┼─────────┼─────────┤
│ east-1* │ east    │ 12      │ 3,400     │ 91,000   │ 1 GiB  │ 0 B    │ 1 GiB  │ 812,330 │ 6,120   │
│ east-2  │ east    │ 12      │ 3,390     │ 91,000   │ 1 GiB  │ 0 B    │ 1 GiB  │ 4,100   │ 0       │
├─────────┼─────────┼─────────┼───────────┼──────────┼────────┼────────┼────────┼─────────┼─────────┤
│         │         │ 24      │ 6,790     │ 182,000  │ 2 GiB  │ 0 B    │ 2 GiB  │ 816,430 │ 6,120   │
╰─────────┴─────────┴─────────┴───────────┴──────────┴────────┴────────┴────────┴─────────┴─────────╯

╭────────────────────────────────────────────────────────────────────────╮
│               RAFT Meta Group Information - Lead cluster: east          │
├─────────────────┬──────────┬────────┬─────────┬────────┬────────┬───────┤
│ Connection Name │ ID       │ Leader │ Current │ Online │ Active │ Lag   │
├─────────────────┼──────────┼────────┼─────────┼────────┼────────┼───────┤
│ east-1          │ Pq7Rt2Lm │ yes    │ true    │ true   │ 0s     │ 0     │
│ east-2          │ Hh4Jk8Nn │        │ true    │ true   │ 0.31s  │ 0     │
│ east-3          │ Zx1Cv5Bb │        │ false   │ false  │ 9m12s  │ 3,007 │
╰─────────────────┴──────────┴────────┴─────────┴────────┴────────┴───────╯
";

#[test]
fn jetstream_report_servers_and_meta_peers() {
    let b = one("report.txt", REPORT);
    let servers = of(&b, "js_report_server");
    assert_eq!(servers.len(), 2);
    assert_eq!(&*servers[0].node, "east-1");
    assert_eq!(text(servers[0], "meta_leader").as_deref(), Some("yes"));
    assert_eq!(num(servers[0], "api_pending"), Some(6120.0));
    assert_eq!(num(servers[0], "bytes"), Some(1073741824.0));
    let peers = of(&b, "meta_peer");
    assert_eq!(peers.len(), 3);
    assert_eq!(&*peers[2].node, "east-3");
    assert_eq!(text(peers[2], "online").as_deref(), Some("false"));
    assert_eq!(num(peers[2], "lag"), Some(3007.0));
    let f = &b.files[0].account;
    // the blank line between the two tables continues the last record
    assert_eq!(
        (f.lines_read, f.parsed, f.continuation, f.unparsed),
        (20, 19, 1, 0)
    );
}

#[test]
fn a_raftz_pasted_without_a_time_and_cut_is_read_as_records() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "store-2.raftz.json.txt",
        b"{\n  \"$SYS\": {\n    \"_meta_\": {\n      \"id\": \"Qw3Er5Ty\",\n      \"state\": \"CANDIDATE\",\n      \"size\": 6,\n      \"quorum_needed\": 4,\n      \"committed\": 1200,\n      \"applied\": 1200,\n      \"ever_had_leader\": false,\n      \"term\": 88,\n      \"peers\": {\n        \"Aa1Bb2Cc\": {\"name\": \"store-1\", \"known\": true},\n        \"Dd3Ee4Ff\": {\"name\": \"\", \"known\": true},\n        \"Gg5Hh6Ii\": {\"name\": \"\",\n",
    );
    let b = read_with_packs(&[&p]);
    let f = &b.files[0];
    assert_eq!(f.kind, coroner::ingest::FileKind::Log);
    assert_eq!(f.account.unparsed, 0, "{:?}", f.account.unparsed_samples);
    let g = of(&b, "raftz_group");
    assert_eq!(g.len(), 1);
    assert_eq!(&*g[0].node, "store-2");
    assert_eq!(text(g[0], "leader").as_deref(), Some("none"));
    assert_eq!(text(g[0], "ever_had_leader").as_deref(), Some("false"));
    assert_eq!(text(g[0], "paste").as_deref(), Some("cut"));
    assert_eq!(num(g[0], "peers"), Some(3.0));
    assert_eq!(num(g[0], "unnamed_peers"), Some(2.0));
}

#[test]
fn a_dated_raftz_dump_stays_a_metric_dump() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "n1.raftz-20261204T152610Z.json",
        br#"{"$SYS": {"_meta_": {"state": "LEADER", "size": 3, "quorum_needed": 2, "committed": 4, "applied": 4, "leader": "x"}}}"#,
    );
    let b = read_with_packs(&[&p]);
    assert_eq!(b.files[0].kind, coroner::ingest::FileKind::Metric);
    assert!(b.events.is_empty());
}

#[test]
fn stream_info_replicas_name_their_nodes() {
    let b = one(
        "info.txt",
        "Cluster Information:\n\n                 Name: west\n               Leader: w-1\n              Replica: w-2, current, seen 0.10s ago\n              Replica: w-3, outdated, OFFLINE, not seen, 88,120 operations behind\n",
    );
    let r = of(&b, "stream_replica");
    assert_eq!(r.len(), 2);
    assert_eq!(&*r[1].node, "w-3");
    assert_eq!(num(r[1], "lag"), Some(88120.0));
    assert_eq!(text(r[1], "online").as_deref(), Some("false"));
    assert_eq!(of(&b, "stream_leader").len(), 1);
    assert_eq!(b.files[0].account.unparsed, 0);
}

#[test]
fn the_natscli_warning_and_a_healthz_paste() {
    let b = one(
        "report.txt",
        "WARNING: No cluster meta leader found. The cluster expects 9 nodes but only 4 responded. JetStream operation requires at least 5 up nodes.\n",
    );
    let w = of(&b, "natscli_no_meta_leader");
    assert_eq!(num(w[0], "expected"), Some(9.0));
    assert_eq!(num(w[0], "needed"), Some(5.0));
    let b = one(
        "c-2-healthz.txt",
        "{\"status\": \"unavailable\", \"error\": \"JetStream has not established contact with a meta leader\"}\n",
    );
    let h = of(&b, "healthz_status");
    assert_eq!(text(h[0], "status").as_deref(), Some("unavailable"));
}

#[test]
fn hostile_cli_outputs_balance_and_never_panic() {
    let pieces = [
        "NAME READY STATUS RESTARTS AGE",
        "x 1/1 Running 9999999999999999999999 1d",
        "y 1/1 Running 3 (((( 1d",
        "│ Server │ Streams │ API Req │",
        "│ s │ ∞ │ ½ │",
        "│ Name │ Leader │ Current │ Online │ Active │ Lag │",
        "│ │ │ │ │ │ │",
        "╭──╮",
        "{\"$SYS\": {\"_meta_\": {\"state\": \"X\", \"size\": -1, \"quorum_needed\": 1e999",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        "Cluster Information:",
        "  Replica: , , , ,",
        "Name: p",
        "Namespace: q",
        "    Last State: Terminated",
        "      Exit Code: -1",
        "\u{0}\u{1}",
        "$ kubectl",
    ];
    // every order of a rotating window of the pieces
    for start in 0..pieces.len() {
        let mut text = String::new();
        for k in 0..pieces.len() {
            text.push_str(pieces[(start + k * 7) % pieces.len()]);
            text.push('\n');
        }
        let b = one("garbage.txt", &text);
        assert_eq!(b.files[0].account.lines_read, pieces.len() as u64);
    }
}
