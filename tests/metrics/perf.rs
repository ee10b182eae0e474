//! Load test: 24 h of 1-second `/varz` snapshots (wrapped like the sampler's
//! `nN.varz.jsonl`) for 5 nodes. Ignored by default; run with
//! `cargo test --release --test metrics perf -- --ignored --nocapture`
//! (`COR_PERF_HOURS=1` for a shorter run).

use crate::common::parse_bytes;
use coroner::metrics::MetricSet;
use coroner::model::Timestamp;
use std::time::Instant;

/// One node's file: `secs` snapshots, one per second, with a restart halfway
/// and a 60 s silence (failed fetches) at 3/4.
pub fn generate(node: usize, secs: i64) -> String {
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

#[test]
#[ignore]
fn perf_24h_5_nodes() {
    let hours: i64 = std::env::var("COR_PERF_HOURS")
        .ok()
        .and_then(|h| h.parse().ok())
        .unwrap_or(24);
    let secs = hours * 3600;
    let t = Instant::now();
    let files: Vec<String> = (1..=5).map(|n| generate(n, secs)).collect();
    let bytes: usize = files.iter().map(String::len).sum();
    eprintln!(
        "generated {hours} h x 5 nodes: {:.0} MB in {:.2?}",
        bytes as f64 / 1e6,
        t.elapsed()
    );
    let t = Instant::now();
    let mut samples = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let name = format!("n{}.varz.jsonl", i + 1);
        let mut r = parse_bytes(&name, Some(&format!("n{}", i + 1)), f.as_bytes());
        assert!(r.unparsed.is_empty());
        samples.append(&mut r.samples);
    }
    drop(files);
    let n = samples.len();
    eprintln!("parsed {n} samples in {:.2?}", t.elapsed());
    let t = Instant::now();
    let set = MetricSet::build(samples);
    eprintln!("MetricSet::build: {:.2?}", t.elapsed());
    assert_eq!(set.nodes().len(), 5);
    for node in set.nodes() {
        assert_eq!(set.gaps(&node).len(), 1, "{node}");
        assert_eq!(
            set.series(&node, "restarts")
                .unwrap()
                .points
                .last()
                .unwrap()
                .value,
            1.0
        );
        let r = set.series(&node, "in_msgs_rate").unwrap();
        assert!(r.points.iter().all(|p| p.value >= 0.0));
    }
}
