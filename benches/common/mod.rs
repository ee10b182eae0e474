//! Inputs shared by the benchmarks: the real nats-server captures shipped in
//! `samples/real/*.tar.gz`, JSON renderings of them, and generated 1-second
//! `/varz` snapshot files (the former `tests/metrics/perf.rs` load test).
#![allow(dead_code)]

use coroner::model::Timestamp;
use std::io::Read;
use std::path::PathBuf;

pub fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples/real")
}

/// The bundled captures, in a fixed order.
pub fn capture_paths() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(samples_dir())
        .expect("samples/real")
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .collect();
    v.sort();
    v
}

/// Every log file (`nN.log`) of every capture: (capture/member name, bytes).
pub fn real_logs() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for p in capture_paths() {
        let f = std::fs::File::open(&p).unwrap();
        let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let base = name.rsplit('/').next().unwrap_or(&name).to_string();
            if base.ends_with(".log") && !name.contains("metrics/") {
                let mut data = Vec::new();
                e.read_to_end(&mut data).unwrap();
                let cap = p
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .replace(".tar.gz", "");
                out.push((format!("{cap}/{base}"), data));
            }
        }
    }
    assert!(!out.is_empty(), "no logs in samples/real");
    out
}

/// All real log lines (without newline), in capture order.
pub fn real_lines() -> Vec<String> {
    let mut lines = Vec::new();
    for (_, data) in real_logs() {
        let text = String::from_utf8_lossy(&data);
        lines.extend(text.lines().map(str::to_string));
    }
    lines
}

/// The real logs concatenated into one text (newline-terminated lines).
pub fn real_text() -> String {
    let mut s = String::new();
    for l in real_lines() {
        s.push_str(&l);
        s.push('\n');
    }
    s
}

/// The real lines as the broker's JSON logs write them
/// (`{"ts","level","node","msg"}`); lines without a nats header are skipped.
pub fn json_lines() -> Vec<String> {
    let opts = coroner::parse::log::LogOptions::default();
    let mut out = Vec::new();
    for l in real_lines() {
        let Some(r) = coroner::parse::log::parse_line(&l, &opts) else {
            continue;
        };
        let Some(ts) = r.ts else { continue };
        let mut s = String::with_capacity(l.len() + 64);
        s.push_str("{\"ts\":\"");
        s.push_str(&ts.rfc3339());
        s.push_str("\",\"level\":\"");
        s.push_str(r.level.name());
        s.push_str("\",\"node\":\"n1\",\"msg\":");
        s.push_str(&serde_json::to_string(&*r.msg).unwrap());
        s.push('}');
        out.push(s);
    }
    out
}

/// One node's `/varz` file as the sampler writes it (`nN.varz.jsonl`):
/// `secs` snapshots, one per second, with a restart halfway and a 60 s
/// silence (failed fetches) at 3/4.
pub fn varz_jsonl(node: usize, secs: i64) -> String {
    let t0 = Timestamp::parse_rfc3339("2026-11-24T00:00:00Z").unwrap().0 / 1_000_000_000;
    let mut out = String::with_capacity(secs as usize * 1100);
    let mut in_msgs: u64 = 0;
    let mut start = t0 - 3600;
    for i in 0..secs {
        let t = Timestamp((t0 + i) * 1_000_000_000 + node as i64 * 1_000_000);
        let now = t.rfc3339();
        if i == secs / 2 {
            start = t0 + i;
            in_msgs = 0;
        }
        if i >= secs * 3 / 4 && i < secs * 3 / 4 + 60 {
            out.push_str(&format!(
                "{{\"fetched_at\":\"{now}\",\"elapsed_ms\":2001.0,\"error\":\"TimeoutError: timed out\"}}\n"
            ));
            continue;
        }
        in_msgs += 1000 + (i as u64 * 7919 + node as u64) % 500;
        let cpu = 10.0 + ((i * 31 + node as i64) % 100) as f64 / 10.0;
        let start_s = Timestamp(start * 1_000_000_000).rfc3339();
        out.push_str(&format!(
            concat!(
                "{{\"fetched_at\":\"{now}\",\"elapsed_ms\":1.2,\"http_status\":200,\"body\":{{",
                "\"server_id\":\"NSERVER{node}\",\"server_name\":\"n{node}\",\"version\":\"2.10.22\",",
                "\"start\":\"{start}\",\"now\":\"{now}\",\"uptime\":\"1h\",\"mem\":{mem},\"cores\":4,\"gomaxprocs\":4,",
                "\"cpu\":{cpu},\"connections\":{conns},\"total_connections\":{tc},\"routes\":4,\"remotes\":4,\"leafnodes\":0,",
                "\"in_msgs\":{in_msgs},\"out_msgs\":{in_msgs},\"in_bytes\":{ib},\"out_bytes\":{ib},\"slow_consumers\":0,",
                "\"subscriptions\":1200,\"http_req_stats\":{{\"/varz\":{i}}},",
                "\"jetstream\":{{\"config\":{{\"max_memory\":1073741824,\"max_storage\":10737418240,\"store_dir\":\"/data\"}},",
                "\"stats\":{{\"memory\":0,\"storage\":{st},\"reserved_memory\":0,\"reserved_storage\":0,\"accounts\":1,\"ha_assets\":5,",
                "\"api\":{{\"total\":{api},\"errors\":{apie}}}}},",
                "\"meta\":{{\"name\":\"c\",\"leader\":\"n1\",\"peer\":\"abc\",\"cluster_size\":5,\"pending\":0}}}}}}}}\n"
            ),
            now = now,
            node = node,
            start = start_s,
            mem = 100_000_000 + i * 10,
            cpu = cpu,
            conns = 100 + i % 7,
            tc = 1000 + i,
            in_msgs = in_msgs,
            ib = in_msgs * 100,
            i = i,
            st = 5_000_000 + i * 3,
            api = i * 2,
            apie = i / 1000,
        ));
    }
    out
}

/// Parses one metric file the way the ingestion layer does.
pub fn parse_metric_file(
    name: &str,
    hint: Option<&str>,
    data: &[u8],
) -> coroner::parse::metric::MetricFileReport {
    use coroner::parse::metric::{parse, sniff};
    let fmt = sniff(name, &data[..data.len().min(8192)])
        .unwrap_or_else(|| panic!("{name}: not sniffed as a metric dump"));
    parse(fmt, name, hint, &mut &data[..])
}
