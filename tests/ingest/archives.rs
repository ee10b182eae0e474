//! Compression and archives: streamed, nested, recognised by content.

use crate::common::*;
use std::io::Write;

fn compress_all(text: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let zst = zstd::encode_all(text, 1).unwrap();
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    bz.write_all(text).unwrap();
    let bz = bz.finish().unwrap();
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
    xz.write_all(text).unwrap();
    let xz = xz.finish().unwrap();
    vec![("gz", gzip(text)), ("zst", zst), ("bz2", bz), ("xz", xz)]
}

#[test]
fn every_compression_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let log = nats_log("n1", 1);
    for (ext, data) in compress_all(log.as_bytes()) {
        // misleading names: content decides
        write(dir.path(), &format!("{ext}/nats-server.log.1.{ext}"), &data);
    }
    let b = read_all(&[dir.path()]);
    assert!(b.errors.is_empty(), "{:?}", b.errors);
    assert_eq!(b.files.len(), 4);
    assert!(
        b.files
            .iter()
            .all(|f| f.account.parsed == 5 && f.compression.len() == 1)
    );
    assert!(b.files.iter().all(|f| f.node.as_deref() == Some("n1")));
}

#[test]
fn tar_gz_with_nested_compressed_member_and_zip_in_directory() {
    let dir = tempfile::tempdir().unwrap();
    let inner_gz = gzip(nats_log("n2", 2).as_bytes());
    let t = tar(&[
        ("var/log/n1/nats.log", nats_log("n1", 1).as_bytes()),
        ("var/log/n2/nats.log.1.gz", &inner_gz),
    ]);
    write(dir.path(), "bundle/host-logs.tgz", &gzip(&t));
    let z = zip(&[("n3/nats.log", nats_log("n3", 3).as_bytes())]);
    write(dir.path(), "bundle/more/n3.zip", &z);
    let b = read_all(&[dir.path()]);
    assert!(b.errors.is_empty(), "{:?}", b.errors);
    let mut nodes: Vec<&str> = b.files.iter().filter_map(|f| f.node.as_deref()).collect();
    nodes.sort();
    assert_eq!(nodes, ["n1", "n2", "n3"]);
    let member = b
        .files
        .iter()
        .find(|f| f.display.contains("n2/nats.log.1.gz"))
        .unwrap();
    assert!(member.display.contains(".tgz!var/log/n2/nats.log.1.gz"));
    assert_eq!(member.compression, ["gzip"]);
    assert_balanced(&b);
}

#[test]
fn zip_member_names_never_escape() {
    let dir = tempfile::tempdir().unwrap();
    let z = zip(&[
        ("../../etc/evil.log", nats_log("n1", 1).as_bytes()),
        ("/abs/n2.log", nats_log("n2", 1).as_bytes()),
    ]);
    let p = write(dir.path(), "x.zip", &z);
    let b = read_all(&[&p]);
    let names: Vec<&str> = b.files.iter().map(|f| &*f.display).collect();
    assert!(
        names.iter().all(|n| !n.contains("..") && !n.contains("!/")),
        "{names:?}"
    );
    // nothing was written next to the archive
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1);
}

#[test]
fn archive_bomb_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = vec![b'a'; 64 << 20];
    // zstd packs this 64 MiB into a few KiB: far above the default 1000:1.
    let p = write(
        dir.path(),
        "bomb.log.zst",
        &zstd::encode_all(&zeros[..], 19).unwrap(),
    );
    let b = read_all(&[&p]);
    assert!(
        b.errors.iter().any(|e| e.message().contains("ratio")),
        "{:?}",
        b.errors
    );
    // the limit is configurable
    let p = write(dir.path(), "b2/x.log.gz", &gzip(&zeros));
    let opts = coroner::ingest::IngestOptions {
        limits: coroner::source::Limits {
            max_ratio: 100,
            ..Default::default()
        },
        ..Default::default()
    };
    let b = read(&[&p], &opts);
    assert!(
        b.errors.iter().any(|e| e.message().contains("ratio")),
        "{:?}",
        b.errors
    );
}

#[test]
fn nats_audit_gather_archive_gives_one_snapshot_per_server() {
    let page = |name: &str, data: serde_json::Value| {
        serde_json::to_vec_pretty(&serde_json::json!({
            "server": {"name": name, "host": "0.0.0.0", "id": format!("ID{name}"), "cluster": "lab", "ver": "2.10.12", "time": "2026-11-24T19:00:00Z"},
            "data": data,
        }))
        .unwrap()
    };
    let varz = |name: &str, cpu: f64| {
        serde_json::json!({"server_id": format!("ID{name}"), "server_name": name, "now": "2026-11-24T19:00:00Z",
            "cpu": cpu, "mem": 123456789, "connections": 12, "routes": 2, "in_msgs": 5, "out_msgs": 6})
    };
    let health = serde_json::json!({"status": "ok"});
    let files = [
        (
            "capture/clusters/lab/n1/variables/0001.json",
            page("n1", varz("n1", 12.5)),
        ),
        (
            "capture/clusters/lab/n2/variables/0001.json",
            page("n2", varz("n2", 97.0)),
        ),
        (
            "capture/clusters/lab/n1/health/0001.json",
            page("n1", health.clone()),
        ),
        (
            "capture/clusters/lab/n2/health/0001.json",
            page("n2", health),
        ),
        (
            "capture/misc/manifest.json",
            br#"{"capture/clusters/lab/n1/variables/0001.json":[{"Name":"server","Value":"n1"}]}"#
                .to_vec(),
        ),
    ];
    let entries: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (*n, d.as_slice())).collect();
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "audit-archive-1764010800.zip", &zip(&entries));
    let mut b = read_all(&[&p]);
    let set = coroner::analyze::metric_set(&mut b);
    assert_eq!(
        set.nodes()
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>(),
        ["n1", "n2"]
    );
    assert_eq!(set.series("n2", "cpu").unwrap().points[0].value, 97.0);
    assert!(set.series("n1", "healthy").is_some());
}
