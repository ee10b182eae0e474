//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod verdict;

use coroner::classify::{Classifier, builtin_templates};
use coroner::ingest::{Bundle, IngestOptions, Keep, ingest};
use coroner::source::Input;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn sample(name: &str) -> PathBuf {
    root().join("samples/real").join(format!("{name}.tar.gz"))
}

pub const SCENARIOS: &[&str] = &[
    "healthy",
    "node-freeze",
    "crash-restart",
    "slow-consumer",
    "store-full",
    "mqtt-storm",
];

pub fn classifier() -> Classifier {
    Classifier::new(builtin_templates())
}

pub fn read(paths: &[&Path], opts: &IngestOptions) -> Bundle {
    let inputs: Vec<Input> = paths.iter().map(|p| Input::Path(p.to_path_buf())).collect();
    ingest(&inputs, &classifier(), opts)
}

pub fn read_all(paths: &[&Path]) -> Bundle {
    read(
        paths,
        &IngestOptions {
            keep: Keep::All,
            ..IngestOptions::default()
        },
    )
}

/// Every file's accounting adds up.
pub fn assert_balanced(b: &Bundle) {
    for f in &b.files {
        assert!(
            f.account.balanced(),
            "{}: {} read != {} parsed + {} continuation + {} unparsed",
            f.display,
            f.account.lines_read,
            f.account.parsed,
            f.account.continuation,
            f.account.unparsed
        );
    }
}

pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, bytes).unwrap();
    p
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A short nats-server log of node `name`.
pub fn nats_log(name: &str, minute: u32) -> String {
    format!(
        "[7] 2026/11/24 19:{minute:02}:00.000001 [INF] Starting nats-server\n\
         [7] 2026/11/24 19:{minute:02}:00.000002 [INF]   Version:  2.10.12\n\
         [7] 2026/11/24 19:{minute:02}:00.000003 [INF]   Name:     {name}\n\
         [7] 2026/11/24 19:{minute:02}:01.000000 [WRN] JetStream request queue has high pending count: 1234\n\
         [7] 2026/11/24 19:{minute:02}:02.000000 [WRN] 10.0.0.1:4222 - mid:5 - \"dev-1\" - Readloop processing time: 2.5s\n"
    )
}

/// The nats-server releases the real-server tests start; `.ci/install-nats-server`
/// installs exactly these (keep the two lists in step).
pub const NATS_RELEASES: &[&str] = &["2.10.26", "2.12.8", "2.15.1"];

/// The real nats-server binary of `version`, as `.ci/install-nats-server` installs it
/// (`$CORONER_NATS_DIR/<version>/bin/nats-server`, default `~/.cache/coroner-nats`).
/// Panics with the command to run when it is missing: these tests need a real server.
pub fn nats_server(version: &str) -> PathBuf {
    let dir = std::env::var_os("CORONER_NATS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into()))
                .join(".cache/coroner-nats")
        });
    let bin = dir.join(version).join("bin/nats-server");
    assert!(
        bin.is_file(),
        "nats-server {version} is not installed at {}: run `.ci/install-nats-server {version}`",
        bin.display()
    );
    bin
}

/// Runs the `coroner` binary in the repository root (no colours).
pub fn coroner(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_coroner"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// One real nats-server cluster at a time, across every test module that
/// starts one (collect, releases): on a 2-core machine two clusters under load
/// starve each other, and the servers then log real overload (slow handlers,
/// stalled read loops) that the analysis rightly reports.
pub static ONE_CLUSTER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes the turn to run a real cluster (a panicking holder does not block the others).
pub fn cluster_turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner())
}

/// The files of a .tar.gz (relative path, bytes), in path order.
pub fn unpack_tar_gz(archive: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let f = std::fs::File::open(archive).unwrap();
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut out = Vec::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        if !e.header().entry_type().is_file() {
            continue;
        }
        let p = e.path().unwrap().into_owned();
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut b).unwrap();
        out.push((p, b));
    }
    out.sort();
    out
}
