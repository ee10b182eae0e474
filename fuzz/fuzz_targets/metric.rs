//! Metric dumps: content sniffing, then each parser (monitoring JSON,
//! Prometheus text, CSV) on the same bytes, under a few file names.
#![no_main]

use coroner::parse::metric::{MetricFormat, parse, sniff};
use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &[
    "n1/varz.json",
    "b.tgz!n2/jsz.2026-11-24T19:00:00Z.json",
    "metrics.prom",
    "n3.metrics.csv",
    "healthz_1764010800.json",
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let name = NAMES[sel as usize % NAMES.len()];
    let hint = (sel & 0x80 != 0).then_some("n9");
    let _ = sniff(name, rest);
    let format = match (sel >> 3) % 3 {
        0 => MetricFormat::JsonSnapshots,
        1 => MetricFormat::Prometheus,
        _ => MetricFormat::Csv,
    };
    let mut r = rest;
    let rep = parse(format, name, hint, &mut r);
    for s in rep.samples.iter().take(4) {
        let _ = s.ts.rfc3339();
    }
});
