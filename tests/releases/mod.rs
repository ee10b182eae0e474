//! Real nats-server releases in the loop: `lab/run` starts a real 3-node
//! cluster of each release on 127.0.0.1, puts ~30 s of load on it, kills one
//! node with SIGKILL and restarts it (or does nothing: the healthy run with a
//! clean start and shutdown), and `analyze` must read what it wrote as it
//! would a user's capture: every line attributed to its node, none unparsed,
//! every warning and error classified, the killed node named with
//! `process-restart`, and no high or critical finding in the healthy run.
//!
//! Needs `.ci/install-nats-server` and `.ci/install-lab` (`.ci/run` calls
//! both); a missing server or venv fails with the command to run.

use crate::common::verdict::{Expected, analyze, assert_read_completely, check, expected_from};
use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The releases the smoke runs on: the oldest supported line and the newest.
const SMOKE_RELEASES: &[&str] = &["2.10.26", "2.15.1"];

/// The lab's own deadline is its load plus start and stop; this one only
/// guards against a hung interpreter.
const LAB_DEADLINE: Duration = Duration::from_secs(480);

fn lab_venv() -> PathBuf {
    std::env::var_os("CORONER_LAB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into()))
                .join(".cache/coroner-lab/venv")
        })
}

/// Runs `lab/run RELEASE FAULT OUT ARGS...`; returns OUT. Stops the lab by
/// its PID (it stops its servers) if it outlives [`LAB_DEADLINE`].
fn lab(release: &str, fault: &str, out: &Path, args: &[&str]) -> PathBuf {
    let server = nats_server(release);
    assert!(
        lab_venv().join("bin/python").is_file(),
        "the lab's Python venv is missing at {}: run `.ci/install-lab`",
        lab_venv().display()
    );
    let mut child = Command::new(root().join("lab/run"))
        .arg(&server)
        .arg(fault)
        .arg(out)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lab/run starts");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for lab/run") {
            break s;
        }
        if started.elapsed() > LAB_DEADLINE {
            // SIGTERM: the lab stops its servers by PID and writes its truth.
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            std::thread::sleep(Duration::from_secs(20));
            let _ = child.kill();
            let _ = child.wait();
            panic!("lab/run {release} {fault} ran over {LAB_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = child.wait_with_output().expect("lab/run output");
    assert!(
        status.success(),
        "lab/run {release} {fault} failed ({status}):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out.to_path_buf()
}

fn expected_of(run: &Path) -> Expected {
    expected_from(&run.join("verdict.json"))
}

fn smoke(release: &str) {
    let dir = tempfile::tempdir().unwrap();
    // The turn is held through the analysis too: a debug-build `analyze` of
    // two captures beside another test's cluster starved it on 2 cores (a
    // crash-restart run read as CPU starvation on another node, a collect
    // cluster not healthy in 30 s).
    let _turn = crate::common::cluster_turn();
    // A clean start, ~30 s of ordinary load, a clean shutdown.
    let healthy = lab(
        release,
        "healthy",
        &dir.path().join("healthy"),
        &["--load", "30"],
    );
    // kill -9 of n1 8 s into the load, restarted 8 s later.
    let crash = lab(
        release,
        "crash-restart",
        &dir.path().join("crash-restart"),
        &[
            "--node",
            "n1",
            "--load",
            "30",
            "--fault-at",
            "8",
            "--fault-for",
            "8",
        ],
    );
    for run in [&healthy, &crash] {
        let what = format!("{release} {}", run.file_name().unwrap().to_string_lossy());
        let a = analyze(&[&run.join("capture")]);
        assert_read_completely(&a, &what);
        let want = expected_of(run);
        check(&a, &want, &what);
        if let Some(killed) = &want.failing_node {
            assert!(
                a.findings
                    .iter()
                    .any(|f| f.node.as_deref() == Some(killed.as_str())
                        && &*f.category == "process-restart"),
                "{what}: no process-restart finding on {killed}"
            );
        }
    }
}

#[test]
fn release_2_10_smoke() {
    smoke(SMOKE_RELEASES[0]);
}

#[test]
fn release_newest_smoke() {
    smoke(SMOKE_RELEASES[1]);
}
