//! Charts of the real samples: they render, at the requested size, the same
//! bytes every time. Set `CORONER_CHART_DIR` to also write them there (to look
//! at them).

use crate::common::{SCENARIOS, read_all, sample};
use coroner::model::{Finding, NANOS_PER_SEC, Severity, Timestamp};
use coroner::render::chart::{chart_input_from, render_png, render_svg};

/// (failing node, root-cause category, fault time) from each scenario's truth.
fn truth(name: &str) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match name {
        "node-freeze" => ("n3", "node-unresponsive", "2026-11-24T19:00:04.440Z"),
        "crash-restart" => ("n1", "process-restart", "2026-11-24T19:03:05.101Z"),
        "slow-consumer" => ("n3", "slow-consumer", ""),
        "store-full" => ("n2", "storage-exhaustion", ""),
        "mqtt-storm" => ("n2", "mqtt-connection-storm", "2026-11-24T19:19:02.600Z"),
        _ => return None,
    })
}

#[test]
fn real_samples_render() {
    let out_dir = std::env::var_os("CORONER_CHART_DIR").map(std::path::PathBuf::from);
    for name in SCENARIOS {
        let path = sample(name);
        let mut bundle = read_all(&[path.as_path()]);
        let metrics = coroner::analyze::metric_set(&mut bundle);
        let t = truth(name);
        let root = t.and_then(|(node, cat, at)| {
            Some((
                Timestamp::parse_rfc3339(at)?,
                format!("root cause: {cat} on {node}"),
            ))
        });
        // Stand-in findings (the rule engine is not there yet): the cause on
        // the failing node, a consequence 20 s later cluster-wide.
        let findings: Vec<Finding> = root
            .iter()
            .zip(t)
            .flat_map(|((at, _), (node, cat, _))| {
                [
                    finding(
                        Some(node),
                        *at,
                        at.add(40 * NANOS_PER_SEC),
                        cat,
                        Severity::Critical,
                    ),
                    finding(
                        None,
                        at.add(20 * NANOS_PER_SEC),
                        at.add(30 * NANOS_PER_SEC),
                        "raft-quorum-loss",
                        Severity::High,
                    ),
                ]
            })
            .collect();
        let mut input = chart_input_from(&bundle, &metrics, &findings, t.map(|t| t.0.into()), root);
        input.title = format!("{name}: NATS cluster timeline");
        assert!(!input.nodes.is_empty(), "{name}: no nodes");
        let png = render_png(&input, 1600, 900).unwrap();
        assert_eq!(&png[1..4], b"PNG", "{name}");
        assert_eq!(
            png,
            render_png(&input, 1600, 900).unwrap(),
            "{name}: not deterministic"
        );
        let svg = render_svg(&input, 1600, 900).unwrap();
        if let Some(dir) = &out_dir {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
            std::fs::write(dir.join(format!("{name}.svg")), &svg).unwrap();
        }
    }
}

fn finding(
    node: Option<&str>,
    start: Timestamp,
    end: Timestamp,
    cat: &str,
    severity: Severity,
) -> Finding {
    Finding {
        rule: cat.into(),
        title: cat.into(),
        severity,
        category: cat.into(),
        node: node.map(Into::into),
        start,
        end,
        message: String::new(),
        evidence: Vec::new(),
        explains: Vec::new(),
        advice: None,
        collect: Vec::new(),
    }
}
