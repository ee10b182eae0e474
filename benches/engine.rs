//! The rule engine (`engine::run`) on 10 M events with 50 and 500 rules.
//!
//! Events: the real captures (samples/real) ingested and classified with the
//! built-in templates, then laid end to end again and again (timestamps
//! shifted, the three nodes of each copy rotated over n1..n5) until there are
//! `COR_BENCH_EVENTS` events (default 10,000,000). Metrics: the captures' real
//! metric dumps. Rules: the built-in packs, copied under renamed packs
//! (`nats-core-k1.slow-consumer`, ...) as often as needed, cut to 50 or
//! 500 rules with `RuleSet::from_sources` + `retain_rules`.
//! Ten samples per case (`sample_size(10)`): one run takes seconds.

mod common;

use coroner::ingest::{IngestOptions, Keep, ingest};
use coroner::lang::RuleSet;
use coroner::metrics::MetricSet;
use coroner::model::{Event, Timestamp};
use coroner::source::Input;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The names of the packs `sources` declare (`pack NAME "title"`).
fn pack_names(sources: &[(String, String)]) -> Vec<String> {
    sources
        .iter()
        .flat_map(|(_, text)| text.lines())
        .filter_map(|l| l.strip_prefix("pack "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// The built-in packs plus renamed copies of the packs that hold rules, cut
/// to `n` rules. Every pack name is renamed in a copy, so a rule that names
/// another pack's rule (`explains`, `after`) names that pack's copy.
fn rule_set(n: usize) -> RuleSet {
    let base = coroner::lang::builtin_sources();
    let packs = pack_names(&base);
    let mut sources = base.clone();
    let per_round = RuleSet::from_sources(&base).0.rules().len();
    let rounds = n.div_ceil(per_round);
    for k in 1..rounds {
        for (file, text) in base.iter().filter(|(_, t)| t.contains("\nrule ")) {
            let mut t = text.clone();
            for p in &packs {
                t = t.replace(&format!("{p}."), &format!("{p}-k{k}."));
                t = t.replace(&format!("pack {p} "), &format!("pack {p}-k{k} "));
            }
            sources.push((file.replace(".rules", &format!("-k{k}.rules")), t));
        }
    }
    let (mut set, diags) = RuleSet::from_sources(&sources);
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "rule copies do not compile: {errors:?}");
    assert!(set.rules().len() >= n, "{} rules < {n}", set.rules().len());
    let mut i = 0;
    set.retain_rules(|_| {
        i += 1;
        i <= n
    });
    set
}

/// Events of every capture (ingested with the built-in templates) and the metric set.
fn base_events() -> (Vec<Vec<Event>>, MetricSet) {
    let rules = RuleSet::builtin();
    let opts = IngestOptions {
        keep: Keep::All,
        ..IngestOptions::default()
    };
    let mut captures = Vec::new();
    let mut samples = Vec::new();
    for p in common::capture_paths() {
        let b = ingest(&[Input::Path(p)], rules.classifier_ref(), &opts);
        for m in &b.metric_files {
            samples.extend(m.report.samples.iter().cloned());
        }
        captures.push(b.events.into_iter().filter(|e| e.ts.is_some()).collect());
    }
    (captures, MetricSet::build(samples))
}

/// `n` events: the captures laid end to end, repeatedly, nodes rotated over n1..n5.
fn scale(captures: &[Vec<Event>], n: usize) -> Vec<Event> {
    let nodes: Vec<Arc<str>> = (1..=5).map(|i| Arc::from(format!("n{i}"))).collect();
    let mut out = Vec::with_capacity(n);
    let mut clock = Timestamp::parse_rfc3339("2026-11-24T00:00:00Z").unwrap().0;
    let mut round = 0usize;
    'fill: loop {
        for cap in captures {
            let first = cap.iter().filter_map(|e| e.ts).min().unwrap().0;
            let last = cap.iter().filter_map(|e| e.ts).max().unwrap().0;
            for e in cap {
                if out.len() == n {
                    break 'fill;
                }
                let mut e = e.clone();
                e.ts = e.ts.map(|t| Timestamp(t.0 - first + clock));
                let idx = e.node.trim_start_matches('n').parse::<usize>().unwrap_or(1);
                e.node = nodes[(idx - 1 + round) % 5].clone();
                out.push(e);
            }
            clock += last - first + 60_000_000_000;
        }
        round += 1;
    }
    out.par_sort_unstable_by(|a, b| a.order_key().cmp(&b.order_key()));
    out
}

fn engine(c: &mut Criterion) {
    let n: usize = std::env::var("COR_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let t = Instant::now();
    let (captures, metrics) = base_events();
    let events = scale(&captures, n);
    drop(captures);
    eprintln!(
        "engine: {} events built in {:.1?}",
        events.len(),
        t.elapsed()
    );
    let mut g = c.benchmark_group(format!("engine_{}M_events", n / 1_000_000));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(60));
    g.throughput(Throughput::Elements(events.len() as u64));
    for rules in [50usize, 500] {
        let set = rule_set(rules);
        let t = Instant::now();
        let findings = coroner::engine::run(&set, &events, &metrics);
        eprintln!(
            "engine: {rules} rules -> {} findings in {:.1?} (first run)",
            findings.len(),
            t.elapsed()
        );
        g.bench_with_input(BenchmarkId::new("rules", rules), &set, |b, set| {
            b.iter(|| coroner::engine::run(set, &events, &metrics).len())
        });
    }
    g.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
