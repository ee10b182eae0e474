//! Template classification with 10, 100 and 1,000 templates on the message
//! bodies of the real captures.
//!
//! Every set holds the same 10 "core" templates (the built-in templates that
//! classify the most real messages) plus distractors that match none of the
//! messages: first the other built-in templates that match nothing here, then
//! generated ones in the style of nats-server texts. So every set classifies
//! every message the same way (checked below) and the only difference is the
//! number of templates. Target (issue 8): 1,000 templates < 2x the cost of 10.
//! The full built-in set is measured too, as the realistic reference.
//! `templates/N` is `classify` (kind and typed captures), `find/N` is
//! `Classifier::find` (the template index only, what `stats` needs).

mod common;

use coroner::classify::{Classifier, Template};
use coroner::parse::log::nats::message_body;
use coroner::parse::log::{LogOptions, parse_line};
use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};

/// Message bodies (connection / RAFT prefix removed), as the ingest sink passes them.
fn bodies() -> Vec<String> {
    let opts = LogOptions::default();
    common::real_lines()
        .iter()
        .filter_map(|l| {
            let r = parse_line(l, &opts)?;
            let msg: &str = &r.msg;
            let body = message_body(msg);
            Some(body.to_string())
        })
        .collect()
}

const SUBSYSTEMS: &[&str] = &[
    "JetStream",
    "RAFT",
    "MQTT",
    "Route",
    "Gateway",
    "Leafnode",
    "Account",
    "Stream",
    "Consumer",
    "WebSocket",
    "Monitor",
    "Resolver",
];
const PHRASES: &[&str] = &[
    "failed to apply",
    "could not restore",
    "error processing",
    "timeout waiting for",
    "rejected update of",
    "skipped snapshot of",
    "lost quorum for",
    "stalled while syncing",
    "dropped pending",
    "detected corrupt",
];
const OBJECTS: &[&str] = &[
    "entries",
    "state",
    "assignment",
    "subscription",
    "interest",
    "catchup",
    "checkpoint",
    "peer set",
    "message block",
    "ack floor",
];

/// `n` distinct generated templates in the style of nats-server messages.
fn generated(n: usize) -> Vec<Template> {
    let mut out = Vec::with_capacity(n);
    'outer: for o in OBJECTS {
        for p in PHRASES {
            for s in SUBSYSTEMS {
                if out.len() == n {
                    break 'outer;
                }
                let i = out.len();
                let pattern = match i % 4 {
                    0 => format!("{s} {p} {o} for '{{account}} > {{stream}}': {{err:rest}}"),
                    1 => format!("{s} {p} {o} after {{elapsed:duration}} (pending {{n:int}})"),
                    2 => format!("{s} {p} {o} on {{addr:word}}: {{reason:quoted}}"),
                    _ => format!("{s} {p} {o}, {{n:int}} of {{total:int}} done"),
                };
                out.push(Template::new(&format!("gen_{i}"), &pattern).expect("generated template"));
            }
        }
    }
    assert_eq!(out.len(), n, "not enough vocabulary for {n} templates");
    out
}

fn find_all(c: &Classifier, msgs: &[String]) -> usize {
    msgs.iter()
        .filter(|m| c.find(black_box(m)).is_some())
        .count()
}

fn classify_all(c: &Classifier, msgs: &[String]) -> usize {
    let mut matched = 0;
    for m in msgs {
        if c.classify(black_box(m)).template.is_some() {
            matched += 1;
        }
    }
    matched
}

fn classification(c: &mut Criterion) {
    let msgs = bodies();
    let bytes: u64 = msgs.iter().map(|m| m.len() as u64).sum();
    let builtin = coroner::lang::RuleSet::builtin().classifier();
    let all: Vec<Template> = builtin.templates().to_vec();

    // core: the 10 built-in templates that classify the most messages
    let mut hits = vec![0usize; all.len()];
    for m in &msgs {
        if let Some(i) = builtin.classify(m).template {
            hits[i] += 1;
        }
    }
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(hits[i]), i));
    let mut core_idx: Vec<usize> = order[..10].to_vec();
    core_idx.sort();
    let core: Vec<Template> = core_idx.iter().map(|&i| all[i].clone()).collect();
    let quiet_builtin: Vec<Template> = all
        .iter()
        .filter(|t| msgs.iter().all(|m| t.matches(m).is_none()))
        .cloned()
        .collect();
    let gen_tpl = generated(1000);
    assert!(
        gen_tpl
            .iter()
            .all(|t| msgs.iter().all(|m| t.matches(m).is_none())),
        "a generated template matches a real message"
    );
    let set = |n: usize| -> Classifier {
        let mut t = core.clone();
        t.extend(quiet_builtin.iter().take(n - 10).cloned());
        let more = n - t.len();
        t.extend(gen_tpl.iter().take(more).cloned());
        assert_eq!(t.len(), n);
        Classifier::new(t)
    };
    let sets: Vec<(usize, Classifier)> = [10, 100, 1000].iter().map(|&n| (n, set(n))).collect();
    // every set classifies every message the same way
    let kinds = |c: &Classifier| -> Vec<String> {
        msgs.iter()
            .map(|m| c.classify(m).kind.to_string())
            .collect()
    };
    let reference = kinds(&sets[0].1);
    for (n, s) in &sets[1..] {
        assert!(
            kinds(s) == reference,
            "the {n}-template set classifies differently"
        );
    }
    let matched = reference.iter().filter(|k| *k != "unknown").count();
    eprintln!(
        "classify: {} messages ({:.1} MB), {} matched by the core templates; {} quiet built-in distractors",
        msgs.len(),
        bytes as f64 / 1e6,
        matched,
        quiet_builtin.len()
    );

    let mut g = c.benchmark_group("classify");
    g.throughput(Throughput::Bytes(bytes));
    for (n, s) in &sets {
        g.bench_with_input(BenchmarkId::new("templates", n), s, |b, s| {
            b.iter(|| classify_all(s, &msgs))
        });
        g.bench_with_input(BenchmarkId::new("find", n), s, |b, s| {
            b.iter(|| find_all(s, &msgs))
        });
    }
    g.bench_function(BenchmarkId::new("builtin", builtin.len()), |b| {
        b.iter(|| classify_all(&builtin, &msgs))
    });
    g.finish();
}

criterion_group!(benches, classification);
criterion_main!(benches);
