//! Metric-dump loading: `parse::metric::parse` of 1-second `/varz` snapshot
//! files and `MetricSet::build`, for 1 h and for 24 h of 5 nodes (the 24 h
//! case is the former `tests/metrics/perf.rs` load test; its checks run once
//! before timing). `COR_BENCH_HOURS=N` changes the long case's length.

mod common;

use coroner::metrics::MetricSet;
use coroner::parse::metric::Sample;
use criterion::{BatchSize, Criterion, Throughput, black_box, criterion_group, criterion_main};
use std::time::{Duration, Instant};

fn files(hours: i64) -> Vec<(String, String)> {
    (1..=5)
        .map(|n| {
            (
                format!("n{n}.varz.jsonl"),
                common::varz_jsonl(n, hours * 3600),
            )
        })
        .collect()
}

fn parse_all(files: &[(String, String)]) -> Vec<Sample> {
    let mut samples = Vec::new();
    for (i, (name, text)) in files.iter().enumerate() {
        let hint = format!("n{}", i + 1);
        let mut r = common::parse_metric_file(name, Some(&hint), text.as_bytes());
        assert!(r.unparsed.is_empty(), "{name}: unparsed lines");
        samples.append(&mut r.samples);
    }
    samples
}

/// The load test's checks: one gap and one restart per node, no negative rate.
fn check(set: &MetricSet) {
    assert_eq!(set.nodes().len(), 5);
    for node in set.nodes() {
        assert_eq!(set.gaps(&node).len(), 1, "{node}");
        let restarts = set.series(&node, "restarts").unwrap();
        assert_eq!(restarts.points.last().unwrap().value, 1.0);
        let r = set.series(&node, "in_msgs_rate").unwrap();
        assert!(r.points.iter().all(|p| p.value >= 0.0));
    }
}

fn metric_loading(c: &mut Criterion) {
    let short = files(1);
    let short_bytes: u64 = short.iter().map(|(_, t)| t.len() as u64).sum();
    let short_samples = parse_all(&short);
    check(&MetricSet::build(short_samples.clone()));

    let mut g = c.benchmark_group("metrics_1h_5nodes");
    g.sample_size(20);
    g.throughput(Throughput::Bytes(short_bytes));
    g.bench_function("parse", |b| b.iter(|| parse_all(black_box(&short)).len()));
    g.bench_function("build", |b| {
        b.iter_batched(
            || short_samples.clone(),
            MetricSet::build,
            BatchSize::LargeInput,
        )
    });
    g.bench_function("parse_build", |b| {
        b.iter(|| MetricSet::build(parse_all(black_box(&short))))
    });
    g.finish();
    drop(short_samples);

    let hours: i64 = std::env::var("COR_BENCH_HOURS")
        .ok()
        .and_then(|h| h.parse().ok())
        .unwrap_or(24);
    let t = Instant::now();
    let long = files(hours);
    let long_bytes: u64 = long.iter().map(|(_, t)| t.len() as u64).sum();
    eprintln!(
        "metrics: generated {hours} h x 5 nodes of 1-s /varz snapshots: {:.0} MB in {:.1?}",
        long_bytes as f64 / 1e6,
        t.elapsed()
    );
    let t = Instant::now();
    let set = MetricSet::build(parse_all(&long));
    eprintln!("metrics: one parse + build: {:.1?}", t.elapsed());
    check(&set);
    drop(set);

    let mut g = c.benchmark_group(format!("metrics_{hours}h_5nodes"));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(60));
    g.throughput(Throughput::Bytes(long_bytes));
    g.bench_function("parse_build", |b| {
        b.iter(|| MetricSet::build(parse_all(black_box(&long))))
    });
    g.finish();
}

criterion_group!(benches, metric_loading);
criterion_main!(benches);
