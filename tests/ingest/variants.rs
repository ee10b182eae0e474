//! Every nats-server log variant and deployment wrapper.

use crate::common::*;
use coroner::ingest::{IngestOptions, Keep};
use coroner::model::Level;
use coroner::parse::log::{LogOptions, Zone};

fn one(name: &str, text: &str, opts: &IngestOptions) -> coroner::ingest::Bundle {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), name, text.as_bytes());
    let b = read(&[&p], opts);
    assert_balanced(&b);
    b
}

fn all() -> IngestOptions {
    IngestOptions {
        keep: Keep::All,
        ..IngestOptions::default()
    }
}

#[test]
fn plain_pid_and_no_pid_and_no_time() {
    let b = one(
        "n1.log",
        "[7] 2026/11/24 19:00:00.000001 [INF] Server is ready\n\
         2026/11/24 19:00:01.000000 [WRN] Waiting for routing to be established...\n\
         [7] [ERR] Error trying to connect to route (attempt 3): dial tcp 10.0.0.2:6222: i/o timeout\n",
        &all(),
    );
    let f = &b.files[0];
    assert_eq!((f.account.parsed, f.account.unparsed), (3, 0));
    assert_eq!(b.events.len(), 3);
    let route = b
        .events
        .iter()
        .find(|e| &*e.kind == "route_connect_error")
        .unwrap();
    assert_eq!(route.field("attempt").and_then(|v| v.as_f64()), Some(3.0));
    // logtime off: the record inherits the previous record's time for ordering
    assert!(route.ts.is_some());
}

#[test]
fn logtime_off_file_is_ordered_by_line() {
    let b = one(
        "n1.log",
        "[7] [INF] Starting nats-server\n[7] [INF]   Name:     a\n[7] [WRN] Healthcheck failed: \"JetStream is not current with the meta leader\"\n",
        &all(),
    );
    assert!(b.events.iter().all(|e| e.ts.is_none()));
    let lines: Vec<u64> = b.events.iter().map(|e| e.loc.line).collect();
    assert_eq!(lines, vec![1, 2, 3]);
    assert_eq!(b.files[0].account.untimed, 3);
    assert_eq!(&*b.events[0].node, "a");
}

#[test]
fn local_time_with_tz() {
    let opts = IngestOptions {
        log: LogOptions {
            zone: Zone::parse("Europe/Paris").unwrap(),
            ..LogOptions::default()
        },
        ..all()
    };
    let b = one(
        "n1.log",
        "[7] 2026/07/01 12:00:00.000000 [INF] Server is ready\n",
        &opts,
    );
    assert_eq!(
        b.events[0].ts.unwrap().rfc3339(),
        "2026-07-01T10:00:00.000000Z"
    );
}

#[test]
fn kubectl_timestamps_and_prefix_attribute_each_pod() {
    let text = "[pod/nats-0/nats] 2026-11-24T19:00:00.000000001Z [7] 2026/11/24 19:00:00.000001 [INF] Server is ready\n\
                [pod/nats-1/nats] 2026-11-24T19:00:00.500000000Z [7] 2026/11/24 19:00:00.500001 [WRN] Readloop processing time: 3s\n\
                2026-11-24T19:00:01.000000000Z [7] 2026/11/24 19:00:01.000001 [ERR] JetStream resource limits exceeded for server\n";
    let b = one("pods.log", text, &all());
    let nodes: Vec<&str> = b.events.iter().map(|e| &*e.node).collect();
    assert_eq!(nodes[..2], ["nats-0", "nats-1"]);
    assert_eq!(b.files[0].account.formats.get("kubectl"), Some(&3));
}

#[test]
fn journald_syslog_docker_compose() {
    let journald = "Nov 24 19:00:00 host-a nats-server[12]: [12] 2026/11/24 19:00:00.000001 [WRN] Readloop processing time: 3s\n\
                    2026-11-24T19:00:01+0000 host-a nats-server[12]: [12] 2026/11/24 19:00:01.000001 [ERR] maximum connections exceeded\n";
    let b = one("journal.txt", journald, &all());
    assert_eq!(b.events.len(), 2);
    assert!(b.events.iter().all(|e| &*e.node == "host-a"));
    assert_eq!(b.events[1].level, Level::Error);

    let syslog = "<28>Nov 24 19:00:00 nats-server[12]: Healthcheck failed: \"JetStream is not current with the meta leader\"\n";
    let b = one("n3.syslog", syslog, &all());
    assert_eq!(
        (b.events[0].level, &*b.events[0].kind),
        (Level::Warn, "healthcheck_failed")
    );

    let docker = r#"{"log":"[1] 2021/12/14 08:56:56.427316 [ERR] JetStream resource limits exceeded for server\n","stream":"stderr","time":"2021-12-14T08:56:56.427Z"}"#;
    let b = one("abc-json.log", &format!("{docker}\n"), &all());
    assert_eq!(&*b.events[0].kind, "js_resource_limits_server");

    let compose = "n1    | [1] 2021/12/14 08:56:56.427316 [ERR] JetStream resource limits exceeded for server\n";
    let b = one("compose.log", compose, &all());
    assert_eq!(&*b.events[0].node, "n1");
}

#[test]
fn json_structured_logs() {
    let text = r#"{"ts":"2026-11-24T19:00:00.5Z","level":"warn","node":"n2","msg":"JetStream request queue has high pending count: 250","pid":7}
{"time":"2026-11-24T19:00:01Z","lvl":"error","message":"maximum connections exceeded","server_name":"n3"}
"#;
    let b = one("structured.jsonl", text, &all());
    assert_eq!(b.events.len(), 2);
    assert_eq!(&*b.events[0].kind, "js_api_pending");
    assert_eq!(
        b.events[0].field("pending").and_then(|v| v.as_f64()),
        Some(250.0)
    );
    assert_eq!(&*b.events[1].node, "n3");
}

#[test]
fn crlf_ansi_and_multiline() {
    let text = "[7] 2026/11/24 19:00:00.000001 [\x1b[32mINF\x1b[0m] Starting nats-server\r\n\
                [7] 2026/11/24 19:00:00.000002 [INF]   Name:     n9\r\n\
                [7] 2026/11/24 19:00:01.000000 [ERR] Failed to reload server configuration: bad\r\n\
                \tline two of the error\r\n";
    let b = one("x.log", text, &all());
    let f = &b.files[0];
    assert_eq!((f.account.parsed, f.account.continuation), (3, 1));
    assert_eq!(&*b.events[0].kind, "server_starting");
    assert_eq!(b.events[2].continuation, 1);
    assert!(b.events.iter().all(|e| &*e.node == "n9"));
}

#[test]
fn node_from_folder_and_override() {
    let dir = tempfile::tempdir().unwrap();
    let line = "[7] 2026/11/24 19:00:00.000001 [WRN] Readloop processing time: 3s\n";
    write(dir.path(), "n2/nats-server.log", line.as_bytes());
    write(dir.path(), "nats-5.log", line.as_bytes());
    let b = read(&[dir.path()], &all());
    let mut nodes: Vec<(&str, String)> = b
        .files
        .iter()
        .map(|f| (f.node.as_deref().unwrap(), f.attribution.to_string()))
        .collect();
    nodes.sort();
    assert_eq!(nodes[0].0, "n2");
    assert_eq!(nodes[1].0, "nats-5");
    let opts = IngestOptions {
        node_overrides: vec![("east-1".into(), "nats-5".into())],
        ..all()
    };
    let b = read(&[dir.path()], &opts);
    assert!(b.files.iter().any(|f| f.node.as_deref() == Some("east-1")));
}

#[test]
fn rotated_file_without_banner_inherits_sibling_name() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "logs/nats.log",
        nats_log("alpha", 10).as_bytes(),
    );
    write(
        dir.path(),
        "logs/nats.log.1",
        b"[7] 2026/11/24 19:00:00.000001 [WRN] Readloop processing time: 3s\n",
    );
    let b = read(&[dir.path()], &all());
    assert!(
        b.files.iter().all(|f| f.node.as_deref() == Some("alpha")),
        "{:?}",
        b.files
            .iter()
            .map(|f| (&f.display, &f.node))
            .collect::<Vec<_>>()
    );
    // the rotated (older) file's event sorts first
    assert_eq!(b.events[0].loc.file.rsplit('/').next(), Some("nats.log.1"));
}
