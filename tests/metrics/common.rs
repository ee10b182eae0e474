//! Helpers: parse files the way the ingestion layer will.

use coroner::metrics::MetricSet;
use coroner::parse::metric::{MetricFileReport, Sample, parse, sniff};
use std::path::Path;

pub fn parse_bytes(name: &str, hint: Option<&str>, data: &[u8]) -> MetricFileReport {
    let fmt = sniff(name, &data[..data.len().min(8192)])
        .unwrap_or_else(|| panic!("{name}: not sniffed as a metric dump"));
    parse(fmt, name, hint, &mut &data[..])
}

/// Node hint from a path like `.../n3.varz.jsonl`: the part before the first dot.
pub fn hint_of(path: &Path) -> Option<String> {
    let base = path.file_name()?.to_str()?;
    let stem = base.split('.').next()?;
    (stem.len() <= 8 && !stem.is_empty()).then(|| stem.to_string())
}

pub fn load_dir(dir: &Path) -> (MetricSet, Vec<(String, MetricFileReport)>) {
    let mut samples: Vec<Sample> = Vec::new();
    let mut reports = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for p in paths {
        let data = std::fs::read(&p).unwrap();
        let name = p.display().to_string();
        let hint = hint_of(&p);
        let mut r = parse_bytes(&name, hint.as_deref(), &data);
        samples.append(&mut r.samples);
        reports.push((name, r));
    }
    (MetricSet::build(samples), reports)
}
