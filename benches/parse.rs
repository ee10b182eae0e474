//! The log line parsers on real nats-server lines (samples/real), single
//! thread: `parse_line`, `parse_stream`, parse + classify (the ingestion hot
//! path without attribution and merging: `parse_find` finds the template as
//! `stats` does, `parse_classify` also extracts the typed captures), and
//! `parse_json_line`.
//!
//! Target (issue 8): parse + classify >= 400 MB/s on real lines.

mod common;

use coroner::classify::Classifier;
use coroner::parse::log::nats::message_body;
use coroner::parse::log::{LogOptions, Record, Sink, json::parse_json_line, parse_line};
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};

/// Counts records; does nothing else.
struct Count(u64);
impl Sink for Count {
    fn record(&mut self, rec: Record<'_>, _line: u64) {
        self.0 += rec.msg.len() as u64;
    }
    fn continuation(&mut self, _line: u64, _text: &str) {}
}

/// What the ingestion sink does per record before its bookkeeping: take the
/// connection / RAFT prefix off, classify the body: `find` (the template
/// index only, what `stats` needs) or `classify` (with the typed captures,
/// what a kept event of `analyze` needs).
struct Classify<'a> {
    classifier: &'a Classifier,
    captures: bool,
    matched: u64,
}
impl Sink for Classify<'_> {
    fn record(&mut self, rec: Record<'_>, _line: u64) {
        let msg: &str = &rec.msg;
        let body = message_body(msg);
        let hit = if self.captures {
            self.classifier.classify(body).template.is_some()
        } else {
            self.classifier.find(body).is_some()
        };
        if hit {
            self.matched += 1;
        }
    }
    fn continuation(&mut self, _line: u64, _text: &str) {}
}

fn parsers(c: &mut Criterion) {
    let lines = common::real_lines();
    let text = common::real_text();
    let bytes = text.len() as u64;
    let opts = LogOptions::default();
    let rules = coroner::lang::RuleSet::builtin();
    let classifier = rules.classifier();

    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("parse_line/real", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for l in &lines {
                if let Some(r) = parse_line(black_box(l), &opts) {
                    n += r.msg.len();
                }
            }
            n
        })
    });
    g.bench_function("parse_stream/real", |b| {
        b.iter(|| {
            let mut sink = Count(0);
            let acc = coroner::parse::log::parse_stream(
                &mut black_box(text.as_bytes()),
                &opts,
                &mut sink,
            );
            (acc.lines_read, sink.0)
        })
    });
    for (name, captures) in [("parse_find/real", false), ("parse_classify/real", true)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut sink = Classify {
                    classifier: &classifier,
                    captures,
                    matched: 0,
                };
                coroner::parse::log::parse_stream(
                    &mut black_box(text.as_bytes()),
                    &opts,
                    &mut sink,
                );
                sink.matched
            })
        });
    }
    g.finish();

    let json = common::json_lines();
    let json_bytes: u64 = json.iter().map(|l| l.len() as u64 + 1).sum();
    let mut g = c.benchmark_group("parse_json");
    g.throughput(Throughput::Bytes(json_bytes));
    g.bench_function("parse_json_line/real", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for l in &json {
                if let Some(r) = parse_json_line(black_box(l)) {
                    n += r.msg.len();
                }
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, parsers);
criterion_main!(benches);
