//! The same incidents with other failing nodes, other packaging and other
//! snapshot shapes.

use super::{analyze, check, expected};
use crate::common::*;
use std::io::Read;
use std::path::Path;

/// (path, bytes) of every member of a sample bundle.
fn members(scenario: &str) -> Vec<(String, Vec<u8>)> {
    let f = std::fs::File::open(sample(scenario)).unwrap();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut out = Vec::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if !e.header().entry_type().is_file() {
            continue;
        }
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.push((path, data));
    }
    out
}

/// Renames nodes by a permutation (n1→n3, n2→n1, n3→n2 by default) in
/// contents and paths: the evidence moves with the names.
fn permute(text: &[u8], perm: &[(&str, &str)]) -> Vec<u8> {
    let re = regex::bytes::Regex::new(r"\bn([1-9])\b").unwrap();
    re.replace_all(text, |c: &regex::bytes::Captures| {
        let name = format!("n{}", String::from_utf8_lossy(&c[1]));
        perm.iter()
            .find(|(a, _)| *a == name)
            .map_or(name.clone(), |(_, b)| b.to_string())
            .into_bytes()
    })
    .into_owned()
}

fn rename(name: &str, perm: &[(&str, &str)]) -> String {
    String::from_utf8(permute(name.as_bytes(), perm)).unwrap()
}

const PERM: &[(&str, &str)] = &[("n1", "n3"), ("n2", "n1"), ("n3", "n2")];

/// Strips the sampler's `{"fetched_at", "body"}` wrapper: bare snapshots, one
/// per line; failed fetches simply have no line.
fn unwrap_snapshots(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_slice(line).unwrap();
        if let Some(body) = v.get("body") {
            if body.get("now").is_some() || body.get("server_id").is_some() {
                out.extend(serde_json::to_vec(body).unwrap());
                out.push(b'\n');
            }
        }
    }
    out
}

/// The real captures with a failing node.
const FAILING: [&str; 5] = [
    "node-freeze",
    "crash-restart",
    "slow-consumer",
    "store-full",
    "mqtt-storm",
];

#[test]
fn other_failing_node_in_per_node_folders_with_rotation_and_compression() {
    for s in FAILING {
        let dir = tempfile::tempdir().unwrap();
        for (path, data) in members(s) {
            let data = permute(&data, PERM);
            let path = rename(&path, PERM);
            // n1.log → n1/nats-server.log.gz ; metrics/n1.varz.jsonl → n1/metrics/varz.jsonl
            let file = path.rsplit('/').next().unwrap();
            let (node, rest) = file.split_once('.').unwrap();
            if rest == "log" {
                // split the log in two: an older rotated half, compressed, and the current half
                let mid = data.len() / 2;
                let cut = data[mid..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(data.len(), |p| mid + p + 1);
                write(
                    dir.path(),
                    &format!("{node}/nats-server.log.1.gz"),
                    &gzip(&data[..cut]),
                );
                write(dir.path(), &format!("{node}/nats-server.log"), &data[cut..]);
            } else if node == "host" {
                write(dir.path(), "host/host.csv", &data);
            } else {
                write(dir.path(), &format!("{node}/metrics/{rest}"), &data);
            }
        }
        let a = analyze(&[dir.path()]);
        let mut want = expected(s);
        want.failing_node = want.failing_node.map(|n| rename(&n, PERM));
        check(&a, &want, &format!("{s} permuted, per-node folders"));
    }
}

#[test]
fn bare_snapshots_inside_one_tarball() {
    for s in [
        "node-freeze",
        "crash-restart",
        "store-full",
        "slow-consumer",
    ] {
        let mut entries = Vec::new();
        for (path, data) in members(s) {
            let data = if path.ends_with(".jsonl") {
                unwrap_snapshots(&data)
            } else {
                data
            };
            entries.push((format!("incident/{path}"), data));
        }
        let refs: Vec<(&str, &[u8])> = entries
            .iter()
            .map(|(p, d)| (p.as_str(), d.as_slice()))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "bundle.tar.gz", &gzip(&tar(&refs)));
        let a = analyze(&[&p]);
        check(
            &a,
            &expected(s),
            &format!("{s} bare snapshots in a tarball"),
        );
    }
}

#[test]
fn logs_only_still_name_the_node() {
    for s in FAILING {
        let dir = tempfile::tempdir().unwrap();
        for (path, data) in members(s) {
            if path.ends_with(".log") {
                write(dir.path(), &path, &data);
            }
        }
        let a = analyze(&[dir.path()]);
        let want = expected(s);
        assert_eq!(
            a.verdict.failing_node,
            want.failing_node.as_deref().map(Into::into),
            "{s} logs only: {}",
            a.verdict.headline
        );
    }
}

#[test]
fn analysis_is_deterministic_across_threads_and_input_order() {
    let render = |threads: usize, paths: &[&Path]| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let a = pool.install(|| analyze(paths));
        let mut out = Vec::new();
        coroner::render::report::json::write(&mut out, &a).unwrap();
        out
    };
    let dir = tempfile::tempdir().unwrap();
    for (path, data) in members("mqtt-storm") {
        write(dir.path(), &path, &data);
    }
    let n1 = dir.path().join("n1.log");
    let n2 = dir.path().join("n2.log");
    let m = dir.path().join("metrics");
    let a = render(1, &[&n1, &n2, &m]);
    let b = render(4, &[&m, &n2, &n1]);
    assert_eq!(a, b);
}
