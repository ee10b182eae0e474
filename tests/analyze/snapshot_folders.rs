//! Monitoring snapshots as people save them: one raw endpoint body per file,
//! named by endpoint and time, in folders by endpoint then node
//! (`healthz/n2/healthz-20261126T170313Z.json`) or by node then endpoint
//! (`n2/healthz/healthz-20261126T170313Z.json`); an empty file is a fetch that
//! failed. `/healthz` bodies name no server and carry no time: the folder
//! gives the node, the file name the time. No node may be named after a
//! timestamp, and the verdict is the one of the same capture as JSON lines.

use super::{analyze, check, expected};
use crate::common::*;
use coroner::analyze::Analysis;
use std::io::Read;
use std::path::Path;

/// One fetch of a sample's `metrics/nN.<endpoint>.jsonl`.
struct Fetch {
    node: String,
    ep: String,
    /// `YYYYMMDDTHHMMSSZ`
    t: String,
    /// `fetched_at` with `:` made `-` (a folder name), milliseconds kept.
    at: String,
    /// The raw body, empty for a failed fetch.
    body: Vec<u8>,
}

/// Every fetch of a sample, and its logs (file name, bytes).
fn fetches(scenario: &str) -> (Vec<Fetch>, Vec<(String, Vec<u8>)>) {
    let f = std::fs::File::open(sample(scenario)).unwrap();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let (mut snaps, mut logs) = (Vec::new(), Vec::new());
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        let base = path.rsplit('/').next().unwrap().to_string();
        if base.ends_with(".log") {
            logs.push((base, data));
            continue;
        }
        let Some(stem) = base.strip_suffix(".jsonl") else {
            continue;
        };
        let (node, ep) = stem.split_once('.').unwrap();
        for line in data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let v: serde_json::Value = serde_json::from_slice(line).unwrap();
            let at = v["fetched_at"].as_str().unwrap();
            // 2026-11-24T19:00:04.747Z → 20261124T190004Z
            let t: String = at[..19]
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == 'T')
                .collect();
            let body = match v.get("body") {
                Some(b) => serde_json::to_vec_pretty(b).unwrap(),
                None => Vec::new(),
            };
            snaps.push(Fetch {
                node: node.to_string(),
                ep: ep.to_string(),
                t: format!("{t}Z"),
                at: at.replace(':', "-"),
                body,
            });
        }
    }
    (snaps, logs)
}

fn nodes_of(a: &Analysis) -> Vec<String> {
    let mut n: Vec<String> = a
        .bundle
        .nodes
        .keys()
        .map(|k| k.to_string())
        .chain(a.metrics.nodes().iter().map(|k| k.to_string()))
        .filter(|k| !k.starts_with('@'))
        .collect();
    n.sort();
    n.dedup();
    n
}

fn assert_nodes(a: &Analysis, what: &str) {
    assert_eq!(nodes_of(a), ["n1", "n2", "n3"], "{what}");
    for f in &a.bundle.files {
        let want = ["n1", "n2", "n3"].into_iter().find(|n| {
            f.display.contains(&format!("/{n}/")) || f.display.contains(&format!("/{n}.log"))
        });
        assert_eq!(
            f.node.as_deref(),
            want,
            "{what}: {} ({:?}, {} lines)",
            f.display,
            f.kind,
            f.account.lines_read
        );
        assert_eq!(
            f.account.unparsed, 0,
            "{what}: {}: {:?}",
            f.display, f.account.unparsed_samples
        );
    }
}

fn layout(dir: &Path, scenario: &str, by_endpoint_first: bool) {
    let (snaps, logs) = fetches(scenario);
    for (name, data) in logs {
        write(
            dir,
            &format!("incident/{}/{name}", name.trim_end_matches(".log")),
            &data,
        );
    }
    for f in snaps {
        let (node, ep) = (&f.node, &f.ep);
        let folder = if by_endpoint_first {
            format!("{ep}/{node}")
        } else {
            format!("{node}/{ep}")
        };
        write(
            dir,
            &format!("incident/{folder}/{ep}-{}.json", f.t),
            &f.body,
        );
    }
}

#[test]
fn snapshot_folders_named_by_time_in_both_layouts() {
    for s in ["node-freeze", "crash-restart"] {
        for by_endpoint_first in [true, false] {
            let what = format!(
                "{s}, {} layout",
                if by_endpoint_first {
                    "healthz/n2/"
                } else {
                    "n2/healthz/"
                }
            );
            let dir = tempfile::tempdir().unwrap();
            layout(dir.path(), s, by_endpoint_first);
            let a = analyze(&[&dir.path().join("incident")]);
            assert_nodes(&a, &what);
            // The failed fetches (empty files) of the stopped or dead node are there.
            let down = a
                .metrics
                .series(&a.verdict.failing_node.clone().unwrap(), "up")
                .map(|s| s.points.iter().filter(|p| p.value == 0.0).count())
                .unwrap_or(0);
            assert!(down > 0, "{what}: no failed fetch seen");
            check(&a, &expected(s), &what);
        }
    }
}

#[test]
fn an_unnamed_body_takes_the_node_of_the_dumps_beside_it() {
    let (snaps, logs) = fetches("healthy");
    let dir = tempfile::tempdir().unwrap();
    // One folder per fetch round of a node, named by its time (milliseconds):
    // no name says the node, the /varz beside each /healthz names its server.
    let mut folders = std::collections::BTreeMap::new();
    for f in snaps
        .iter()
        .filter(|f| f.ep == "healthz" && !f.body.is_empty())
    {
        let varz = snaps
            .iter()
            .find(|v| v.node == f.node && v.ep == "varz" && v.t == f.t && !v.body.is_empty());
        if let Some(v) = varz {
            // Two nodes fetched in the same millisecond would share a folder: skip.
            if folders.insert(f.at.clone(), f.node.clone()).is_none() {
                write(
                    dir.path(),
                    &format!("incident/{}/healthz.json", f.at),
                    &f.body,
                );
                write(dir.path(), &format!("incident/{}/varz.json", f.at), &v.body);
            } else {
                folders.insert(f.at.clone(), String::new());
            }
        }
    }
    folders.retain(|_, n| !n.is_empty());
    assert!(folders.len() > 100, "{}", folders.len());
    for (name, data) in logs {
        write(dir.path(), &format!("incident/logs/{name}"), &data);
    }
    let a = analyze(&[&dir.path().join("incident")]);
    assert_eq!(nodes_of(&a), ["n1", "n2", "n3"]);
    for f in a
        .bundle
        .files
        .iter()
        .filter(|f| f.display.ends_with("healthz.json"))
    {
        assert_eq!(f.account.unparsed, 0, "{}", f.display);
        assert_eq!(
            f.attribution,
            coroner::ingest::Attribution::MetricSibling,
            "{}",
            f.display
        );
        let at = f.display.rsplit('/').nth(1).unwrap();
        // (A folder two nodes fetched into in the same millisecond is not checked.)
        if let Some(node) = folders.get(at) {
            assert_eq!(f.node.as_deref(), Some(node.as_str()), "{}", f.display);
        }
    }
    check(
        &a,
        &expected("healthy"),
        "healthy, snapshot folders by time",
    );

    // Alone, a body without a server name is not given a made-up node: its
    // record is unparsed, with the reason.
    let lone = tempfile::tempdir().unwrap();
    let h = snaps
        .iter()
        .find(|f| f.ep == "healthz" && !f.body.is_empty())
        .unwrap();
    let p = write(
        lone.path(),
        &format!("incident/healthz-{}.json", h.t),
        &h.body,
    );
    let a = analyze(&[&p]);
    assert!(nodes_of(&a).is_empty(), "{:?}", nodes_of(&a));
    let f = &a.bundle.files[0];
    assert_eq!(f.account.unparsed, f.account.lines_read);
    assert_eq!(f.account.unparsed_samples.len(), 1);
    assert!(f.account.unparsed_samples[0].1.contains("names no server"));
}
