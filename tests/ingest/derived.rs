//! Fields derived from each node's stream (`ingest::derive_fields`): `uptime`
//! since the node's last banner, `conn_age` of a route when it closes.

use crate::common::*;
use coroner::model::{Event, Value};

fn num(e: &Event, f: &str) -> Option<f64> {
    match e.field(f)? {
        Value::Float(x) => Some(*x),
        Value::Int(i) => Some(*i as f64),
        _ => None,
    }
}

#[test]
fn uptime_and_route_age_from_real_2_10_lines() {
    let dir = tempfile::tempdir().unwrap();
    // Two lifetimes of n1 (kill -9 and restart) as a 2.10.26 server wrote them (lab).
    let log = "\
[1] 2026/12/04 15:24:09.178719 [INF] Starting nats-server
[1] 2026/12/04 15:24:09.178805 [INF]   Name:     n1
[1] 2026/12/04 15:24:10.193662 [INF] 127.0.0.1:35008 - rid:22 - Route connection created
[1] 2026/12/04 15:24:10.194725 [INF] 127.0.0.1:35008 - rid:22 - Router connection closed: Duplicate Route
[1] 2026/12/04 15:24:10.200000 [INF] 127.0.0.1:35009 - rid:23 - Route connection created
[1] 2026/12/04 15:24:20.580176 [INF] 127.0.0.1:35009 - rid:23 - Router connection closed: Client Closed
[1] 2026/12/04 15:24:20.600000 [INF] 127.0.0.1:35010 - rid:9 - Router connection closed: Client Closed
[2] 2026/12/04 15:24:30.592457 [INF] Starting nats-server
[2] 2026/12/04 15:24:30.592500 [INF]   Name:     n1
[2] 2026/12/04 15:24:31.092457 [WRN] Healthcheck failed: \"JetStream has not established contact with a meta leader\"
";
    let p = write(dir.path(), "n1.log", log.as_bytes());
    let b = read_all(&[&p]);
    let by_line = |l: u64| b.events.iter().find(|e| e.loc.line == l).unwrap();
    assert_eq!(num(by_line(1), "uptime"), Some(0.0));
    // The duplicate lived about a millisecond; the established route 10 s.
    let dup = num(by_line(4), "conn_age").unwrap();
    assert!((dup - 0.001063).abs() < 1e-6, "{dup}");
    let est = num(by_line(6), "conn_age").unwrap();
    assert!((est - 10.380176).abs() < 1e-6, "{est}");
    // A route whose creation is not in the data has no age.
    assert_eq!(num(by_line(7), "conn_age"), None);
    // The second lifetime starts its own clock.
    assert!((num(by_line(10), "uptime").unwrap() - 0.5).abs() < 1e-6);
    assert!(num(by_line(7), "uptime").unwrap() > 11.0);
}
