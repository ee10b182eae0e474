//! `coroner collect` against real nats-server clusters on 127.0.0.1: a node
//! frozen with SIGSTOP halfway must come out of `coroner analyze` as the
//! unresponsive node; the same run without a fault must give no incident.

use crate::common::{NATS_RELEASES, nats_server};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::ONE_CLUSTER;

/// A 3-node JetStream cluster; every process is stopped (SIGCONT first) on drop,
/// also when the test panics.
struct Cluster {
    _turn: std::sync::MutexGuard<'static, ()>,
    procs: Vec<Child>,
    http: Vec<u16>,
    logs: Vec<PathBuf>,
    _dir: tempfile::TempDir,
}

/// 30 consecutive free ports: servers on one host are usually given ports
/// that differ by a constant (client, cluster and monitoring port ranges),
/// which is the layout discovery from one URL supports (see README).
fn port_block() -> u16 {
    for _ in 0..200 {
        let p = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let base = p & !31;
        if !(10_000..=65_000).contains(&base) {
            continue;
        }
        let held: Result<Vec<_>, _> = (0..30)
            .map(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)))
            .collect();
        if held.is_ok() {
            return base;
        }
    }
    panic!("no block of 30 free ports on 127.0.0.1");
}

fn free_ports(n: usize) -> Vec<u16> {
    // Hold every listener until all ports are known, so none repeats.
    let ls: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    ls.iter().map(|l| l.local_addr().unwrap().port()).collect()
}

fn signal(pid: u32, sig: &str) {
    let st = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill(1) runs");
    assert!(st.success(), "kill {sig} {pid}");
}

impl Cluster {
    fn start(version: &str) -> Cluster {
        let turn = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
        let bin = nats_server(version);
        let dir = tempfile::tempdir().unwrap();
        let base = port_block();
        let ports: Vec<u16> = [0, 10, 20]
            .iter()
            .flat_map(|off| (0..3).map(move |i| base + off + i))
            .collect();
        let (client, cluster, http) = (&ports[0..3], &ports[3..6], &ports[6..9]);
        let routes: Vec<String> = cluster
            .iter()
            .map(|p| format!("\"nats-route://127.0.0.1:{p}\""))
            .collect();
        let mut c = Cluster {
            _turn: turn,
            procs: Vec::new(),
            http: http.to_vec(),
            logs: Vec::new(),
            _dir: dir,
        };
        let root = c._dir.path().to_path_buf();
        for i in 0..3 {
            let name = format!("n{}", i + 1);
            let log = root.join(format!("{name}-server.log"));
            let conf = root.join(format!("{name}.conf"));
            std::fs::write(
                &conf,
                format!(
                    "server_name: {name}\nlisten: \"127.0.0.1:{}\"\nhttp: \"127.0.0.1:{}\"\n\
                     logtime: true\nlog_file: \"{}\"\n\
                     jetstream {{ store_dir: \"{}\", max_memory_store: 64MB, max_file_store: 256MB }}\n\
                     cluster {{ name: lab, listen: \"127.0.0.1:{}\", routes: [{}] }}\n",
                    client[i],
                    http[i],
                    log.display(),
                    root.join(&name).display(),
                    cluster[i],
                    routes.join(", ")
                ),
            )
            .unwrap();
            let child = Command::new(&bin)
                .arg("-c")
                .arg(&conf)
                .env("TZ", "UTC")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("nats-server starts");
            c.procs.push(child);
            c.logs.push(log);
        }
        c.wait_healthy(Duration::from_secs(30));
        c
    }

    fn url(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.http[i])
    }

    /// Every node answers /healthz `ok` (JetStream meta leader elected, routes up).
    fn wait_healthy(&self, limit: Duration) {
        let client =
            coroner::collect::Client::new(&coroner::collect::HttpOptions::default()).unwrap();
        let t0 = Instant::now();
        loop {
            let ok = (0..3).all(|i| {
                matches!(client.get(&format!("{}/healthz", self.url(i))).result,
                    Ok((200, ref b)) if String::from_utf8_lossy(b).contains("ok"))
            });
            if ok {
                return;
            }
            assert!(t0.elapsed() < limit, "cluster not healthy after {limit:?}");
            // Once a second, like a health probe: every failing probe is
            // logged, and a burst of them reads as a node that was paused
            // (resources.resumed-after-pause).
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for p in &mut self.procs {
            // A stopped process cannot act on SIGKILL's cleanup; wake it first.
            let _ = Command::new("kill")
                .args(["-CONT", &p.id().to_string()])
                .status();
            let _ = p.kill();
            let _ = p.wait();
        }
    }
}

/// Runs `coroner collect` on the cluster (one URL: the others are
/// discovered) with `extra` arguments; `faults` are (delay from the start,
/// action), run in order. Returns stderr.
fn collect_with(
    c: &Cluster,
    out: &Path,
    extra: &[&str],
    faults: &[(Duration, &dyn Fn(u32))],
    limit: Duration,
) -> String {
    let mut args: Vec<String> = vec![
        "collect".into(),
        c.url(0),
        "--every".into(),
        "1s".into(),
        "-o".into(),
        out.display().to_string(),
        "--quiet".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    for l in &c.logs {
        args.push("--logs".into());
        args.push(l.display().to_string());
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_coroner"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    for (at, f) in faults {
        if let Some(d) = at.checked_sub(t0.elapsed()) {
            std::thread::sleep(d);
        }
        f(child.id());
    }
    // Bounded: a hang is a failure.
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!(
                "coroner collect did not end within {limit:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "collect failed: {err}");
    for n in ["n1", "n2", "n3"] {
        assert!(
            err.contains(&format!("polling {n} ")),
            "{n} not polled (discovery): {err}"
        );
    }
    err
}

/// `collect_with` for a fixed duration.
fn collect(c: &Cluster, out: &Path, secs: u64, fault: Option<(Duration, &dyn Fn(u32))>) {
    let d = format!("{secs}s");
    let faults: Vec<(Duration, &dyn Fn(u32))> = fault.into_iter().collect();
    collect_with(
        c,
        out,
        &["--duration", &d],
        &faults,
        Duration::from_secs(secs + 30),
    );
}

fn analyze(bundle: &Path) -> serde_json::Value {
    let o = Command::new(env!("CARGO_BIN_EXE_coroner"))
        .args(["analyze", "--format", "json"])
        .arg(bundle)
        .output()
        .unwrap();
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(1),
        "analyze: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Every metric line of the bundle is whole JSON in the layout; returns
/// (answers, errors) per file name.
fn check_layout(dir: &Path) -> std::collections::BTreeMap<String, (usize, usize)> {
    let mut out = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(dir.join("metrics")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.ends_with('\n'), "{name}: last line not finished");
        let (mut ok, mut bad) = (0, 0);
        for line in text.lines() {
            let v: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}: {e}: {line}"));
            assert!(v["fetched_at"].is_string(), "{name}: {line}");
            assert!(v["elapsed_ms"].is_number(), "{name}: {line}");
            if v.get("body").is_some() {
                assert!(v["http_status"].is_number());
                ok += 1;
            } else {
                assert!(v["error"].is_string(), "{name}: {line}");
                bad += 1;
            }
        }
        out.insert(name, (ok, bad));
    }
    out
}

fn high_findings(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| matches!(f["severity"].as_str(), Some("high" | "critical")))
        .map(|f| format!("{} on {}: {}", f["rule"], f["node"], f["message"]))
        .collect()
}

/// Every file under metrics/ is read as a metric dump, every line of it used.
fn metric_files_fully_parsed(report: &serde_json::Value) {
    let mut n = 0;
    for f in report["input"]["files"].as_array().unwrap() {
        if f["file"].as_str().unwrap().contains("/metrics/") {
            assert_eq!(f["kind"], "metric", "{f}");
            assert_eq!(f["unparsed"], 0, "{f}");
            n += 1;
        }
    }
    assert_eq!(n, 21, "3 servers x 7 endpoints");
}

#[test]
fn frozen_node_is_named_unresponsive() {
    let c = Cluster::start(NATS_RELEASES[1]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle");
    let pid = c.procs[1].id();
    // 32 s of collection, n2 frozen from ~8 s: a gap of ~24 s, longer than
    // the 15 s the scrape-gap rule needs.
    let freeze = |_| signal(pid, "-STOP");
    collect(&c, &out, 32, Some((Duration::from_secs(8), &freeze)));
    signal(pid, "-CONT");

    let files = check_layout(&out);
    for n in ["n1", "n2", "n3"] {
        for ep in [
            "varz",
            "jsz",
            "healthz",
            "routez",
            "raftz",
            "ipqueuesz",
            "connz",
        ] {
            assert!(
                files.contains_key(&format!("{n}.{ep}.jsonl")),
                "{n}.{ep}: {files:?}"
            );
        }
        assert!(out.join(format!("{n}.log")).is_file(), "{n}.log copied");
    }
    // One line per tick for every server, the frozen one included (its
    // timeouts are shorter than the interval): 32 ticks, a few may be lost
    // to a loaded machine's scheduling.
    let (ok, bad) = files["n2.varz.jsonl"];
    assert!(ok >= 3 && bad >= 15, "n2 answered {ok}, failed {bad}");
    assert!(ok + bad >= 25, "n2: {ok} + {bad} lines for 32 ticks");
    let (ok1, bad1) = files["n1.varz.jsonl"];
    assert!(
        ok1 + bad1 >= 25 && ok1 > bad1,
        "n1: {ok1} answered, {bad1} failed"
    );
    let text = std::fs::read_to_string(out.join("metrics/n2.varz.jsonl")).unwrap();
    assert!(
        text.contains("timeout after"),
        "frozen node shows as timeouts"
    );

    let r = analyze(&out);
    metric_files_fully_parsed(&r);
    assert_eq!(r["verdict"]["failing_node"], "n2", "{}", r["diagnosis"]);
    let unresponsive: Vec<&serde_json::Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["node"] == "n2" && f["rule"].as_str().unwrap().starts_with("resources."))
        .filter(|f| {
            matches!(
                f["rule"].as_str(),
                Some("resources.scrape-gap" | "resources.silent-node")
            )
        })
        .collect();
    assert!(!unresponsive.is_empty(), "{:#?}", high_findings(&r));
    assert_eq!(r["verdict"]["root_cause"]["category"], "node-unresponsive");
}

#[test]
fn healthy_cluster_gives_no_incident_and_packs_a_tar_gz() {
    let c = Cluster::start(NATS_RELEASES[0]);
    let dir = tempfile::tempdir().unwrap();
    // --until-healthy on a healthy cluster: at least --duration, then it
    // ends at the first check where no rule fires.
    let err = collect_with(
        &c,
        &dir.path().join("short"),
        &[
            "--until-healthy",
            "--duration",
            "3s",
            "--check-every",
            "2s",
            "--quiet-for",
            "5s",
            "--max-duration",
            "60s",
        ],
        &[],
        Duration::from_secs(90),
    );
    assert!(
        err.contains("(healthy: no rule at or above high fired"),
        "{err}"
    );

    // Ctrl-C (SIGINT) long before --duration: the bundle is finished cleanly.
    let interrupted = dir.path().join("interrupted");
    let ctrl_c = |collector: u32| signal(collector, "-INT");
    let err = collect_with(
        &c,
        &interrupted,
        &["--duration", "10m"],
        &[(Duration::from_secs(4), &ctrl_c)],
        Duration::from_secs(60),
    );
    assert!(err.contains("(stopped)"), "{err}");
    let files = check_layout(&interrupted);
    assert_eq!(files.len(), 21, "{files:?}");
    assert!(files.values().all(|(ok, _)| *ok >= 2), "{files:?}");

    let out = dir.path().join("healthy.tar.gz");
    collect(&c, &out, 20, None);
    assert!(out.is_file());
    assert!(!dir.path().join("healthy.tar.gz.partial").exists());
    let r = analyze(&out);
    metric_files_fully_parsed(&r);
    assert_eq!(r["verdict"]["failing_node"], serde_json::Value::Null);
    assert!(high_findings(&r).is_empty(), "{:#?}", high_findings(&r));
    let nodes: Vec<&str> = r["input"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    assert_eq!(nodes, vec!["n1", "n2", "n3"], "{}", r["input"]["nodes"]);
}

#[test]
fn unreachable_url_fails_with_the_url_and_a_hint() {
    let port = free_ports(1)[0];
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_coroner"))
        .args([
            "collect",
            &format!("127.0.0.1:{port}"),
            "--duration",
            "2s",
            "-o",
        ])
        .arg(dir.path().join("b"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("http://127.0.0.1:{port}/varz")),
        "{err}"
    );
    assert!(err.contains("hint"), "{err}");
    assert!(
        !dir.path().join("b").exists(),
        "nothing written before a server answered"
    );

    // A broken rule pack for the health watch is refused before any polling.
    let bad = dir.path().join("bad.rules");
    std::fs::write(&bad, "rule broken {\n  title \"x\"\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_coroner"))
        .args([
            "collect",
            &format!("127.0.0.1:{port}"),
            "--until-healthy",
            "--rules",
        ])
        .arg(&bad)
        .arg("-o")
        .arg(dir.path().join("c"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.rules") && err.contains("rules lint"),
        "{err}"
    );
}

#[test]
fn for_incident_collects_until_the_frozen_node_is_back() {
    let c = Cluster::start(NATS_RELEASES[2]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("incident");
    let pid = c.procs[1].id();
    let freeze = |_| signal(pid, "-STOP");
    let thaw = |_| signal(pid, "-CONT");
    let err = collect_with(
        &c,
        &out,
        &[
            "--for-incident",
            "--check-every",
            "3s",
            "--quiet-for",
            "6s",
            "--max-duration",
            "100s",
        ],
        &[
            (Duration::from_secs(4), &freeze),
            (Duration::from_secs(26), &thaw),
        ],
        Duration::from_secs(130),
    );
    // Rules fired while n2 was frozen, and the run ended once they stopped.
    assert!(err.contains("check: firing: "), "{err}");
    assert!(
        err.contains("(incident over: rules fired, then none for 6s)"),
        "{err}"
    );
    let r = analyze(&out);
    metric_files_fully_parsed(&r);
    assert_eq!(r["verdict"]["failing_node"], "n2", "{}", r["diagnosis"]);
}

/// Runs a command that must succeed (test setup).
fn run(cmd: &mut Command) {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        o.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn https_monitoring_port_with_a_ca_file() {
    let turn = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    assert!(
        Path::new("/usr/bin/openssl").is_file(),
        "openssl is not installed: run `.ci/install-promtool` (it installs openssl too)"
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ssl = |args: &[&str]| {
        run(Command::new("openssl").args(args).current_dir(d));
    };
    ssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=coroner test CA",
    ]);
    ssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server-key.pem",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(d.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    ssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    let ports = free_ports(2);
    std::fs::write(
        d.join("s1.conf"),
        format!(
            "server_name: s1\nlisten: \"127.0.0.1:{}\"\nhttps: \"127.0.0.1:{}\"\n\
             tls {{ cert_file: \"{}\", key_file: \"{}\" }}\n",
            ports[0],
            ports[1],
            d.join("server.pem").display(),
            d.join("server-key.pem").display()
        ),
    )
    .unwrap();
    let child = Command::new(nats_server(NATS_RELEASES[1]))
        .arg("-c")
        .arg(d.join("s1.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The same drop guard as the clusters: stopped even on panic.
    let guard = Cluster {
        _turn: turn,
        procs: vec![child],
        http: vec![ports[1]],
        logs: Vec::new(),
        _dir: tempfile::tempdir().unwrap(),
    };
    let url = format!("https://127.0.0.1:{}", ports[1]);
    let ca = d.join("ca.pem");
    let client = coroner::collect::Client::new(&coroner::collect::HttpOptions {
        ca_file: Some(ca.clone()),
        ..coroner::collect::HttpOptions::default()
    })
    .unwrap();
    let t0 = Instant::now();
    while !matches!(client.get(&format!("{url}/varz")).result, Ok((200, _))) {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "https monitor not up"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Without the CA the certificate is refused, naming the URL.
    let o = Command::new(env!("CARGO_BIN_EXE_coroner"))
        .args(["collect", &url, "--duration", "2s", "-o"])
        .arg(d.join("no-ca"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("{url}/varz")) && err.contains("--ca-file"),
        "{err}"
    );

    let out = d.join("tls");
    let o = Command::new(env!("CARGO_BIN_EXE_coroner"))
        .args(["collect", &url, "--duration", "3s", "--quiet", "--ca-file"])
        .arg(&ca)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let files = check_layout(&out);
    let (ok, bad) = files["s1.varz.jsonl"];
    assert!(ok >= 2 && bad == 0, "{files:?}");
    drop(guard);
}

/// `coroner watch --collect`: the incident-time companion of `analyze` on a
/// live cluster. The servers' logs are followed where they are written and
/// the monitoring endpoints polled into the bundle; n2 is frozen for 25 s and
/// the watch must print n2 as unresponsive *before* it is thawed, then end
/// with the verdict naming n2.
#[test]
fn watch_with_collect_names_the_frozen_node_while_it_is_frozen() {
    let c = Cluster::start(NATS_RELEASES[1]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle");
    let pid = c.procs[1].id();
    let mut args: Vec<String> = vec![
        "watch".into(),
        "--collect".into(),
        c.url(0),
        "-o".into(),
        out.display().to_string(),
        "--every".into(),
        "1s".into(),
        "--check-every".into(),
        "1s".into(),
        "--duration".into(),
        "45s".into(),
        "--min-severity".into(),
        "high".into(),
    ];
    args.extend(c.logs.iter().map(|l| l.display().to_string()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_coroner"))
        .args(&args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    // Lines of stdout with the time they arrived.
    let stdout = child.stdout.take().unwrap();
    let lines = std::thread::spawn(move || {
        std::io::BufRead::lines(std::io::BufReader::new(stdout))
            .map_while(Result::ok)
            .map(|l| (t0.elapsed(), l))
            .collect::<Vec<_>>()
    });
    std::thread::sleep(Duration::from_secs(10));
    signal(pid, "-STOP");
    std::thread::sleep(Duration::from_secs(25));
    let thawed = t0.elapsed();
    signal(pid, "-CONT");
    // Bounded: --duration 45s plus the last fetches and the final analysis.
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if t0.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("coroner watch did not end within 120 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let o = child.wait_with_output().unwrap();
    let lines = lines.join().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    let all: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
    let all = all.join("\n");
    assert_eq!(o.status.code(), Some(1), "findings fired: {all}\n{err}");
    let first = lines
        .iter()
        .find(|(_, l)| {
            let t: Vec<&str> = l.split_whitespace().collect();
            t.len() > 4 && t[3] == "n2" && t[4] == "node-unresponsive"
        })
        .unwrap_or_else(|| panic!("n2 never printed unresponsive:\n{all}\n{err}"));
    assert!(
        first.0 < thawed,
        "n2 printed unresponsive at {:?}, after the thaw at {thawed:?}:\n{all}",
        first.0
    );
    let end = all
        .find("--- verdict at the end ---")
        .expect("a final verdict");
    assert!(
        all[end..].contains("n2 failed first"),
        "the final verdict names n2:\n{}",
        &all[end..]
    );
    // What watch collected is a bundle `analyze` reads.
    let r = analyze(&out);
    metric_files_fully_parsed(&r);
}
