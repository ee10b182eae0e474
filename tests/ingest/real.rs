//! The real nats-server captures: every file attributed to the right node,
//! zero unparsed lines, every WRN/ERR line classified.

use crate::common::*;
use coroner::model::Level;

#[test]
fn real_captures_parse_completely() {
    for s in SCENARIOS {
        let b = read_all(&[&sample(s)]);
        assert!(b.errors.is_empty(), "{s}: {:?}", b.errors);
        assert_balanced(&b);
        let logs: Vec<_> = b
            .files
            .iter()
            .filter(|f| f.display.ends_with(".log"))
            .collect();
        assert_eq!(logs.len(), 3, "{s}");
        for f in logs {
            assert_eq!(f.account.unparsed, 0, "{s} {}", f.display);
            let want = f
                .display
                .rsplit('!')
                .next()
                .unwrap()
                .trim_end_matches(".log");
            assert_eq!(f.node.as_deref(), Some(want), "{s} {}", f.display);
            assert_eq!(f.attribution, coroner::ingest::Attribution::Banner);
        }
        let unclassified: Vec<_> = b
            .events
            .iter()
            .filter(|e| e.level >= Level::Warn && &*e.kind == "unknown")
            .map(|e| e.message.to_string())
            .collect();
        assert!(unclassified.is_empty(), "{s}: {unclassified:?}");
    }
}

#[test]
fn restart_is_counted_and_events_are_ordered() {
    let b = read_all(&[&sample("crash-restart")]);
    assert_eq!(b.nodes["n1"].starts, 2);
    assert_eq!(b.nodes["n2"].starts, 1);
    let keys: Vec<_> = b.events.iter().map(|e| e.order_key()).collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn fields_come_from_prefixes_and_templates() {
    let b = read_all(&[&sample("mqtt-storm")]);
    let e = b
        .events
        .iter()
        .find(|e| &*e.kind == "readloop_slow" && &*e.node == "n2")
        .unwrap();
    assert_eq!(e.field("conn").and_then(|v| v.as_str()), Some("mid"));
    assert!(e.field("client").is_some());
    assert!(e.field("elapsed").and_then(|v| v.as_f64()).unwrap() >= 2.0);
    let r = b
        .events
        .iter()
        .find(|e| &*e.kind == "raft_follower_beyond")
        .unwrap();
    assert!(r.field("raft_group").is_some());
    // RAFT node ids from banners resolve to server names.
    assert!(r.field("raft_node_name").is_some());
}
