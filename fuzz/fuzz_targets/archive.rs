//! Archive and compression reading (tar, zip, gzip, zstd, bzip2, xz sniffed by
//! magic, nested), with tight limits so a bomb ends quickly; every leaf goes
//! through the log parser and its accounting must balance.
#![no_main]

use coroner::parse::log::{LogOptions, Record, Sink, parse_stream};
use coroner::source::{Input, Limits, read_input};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

struct Nop;

impl Sink for Nop {
    fn record(&mut self, _rec: Record<'_>, _line: u64) {}
    fn continuation(&mut self, _line: u64, _text: &str) {}
}

fn scratch() -> &'static PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        std::env::temp_dir().join(format!("coroner-fuzz-archive-{}", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    if std::fs::write(path, data).is_err() {
        return;
    }
    let limits = Limits {
        max_ratio: 50,
        max_total_bytes: 4 << 20,
        max_depth: 3,
        max_nested_zip_bytes: 1 << 20,
    };
    let opts = LogOptions {
        max_line: 4096,
        ..LogOptions::default()
    };
    let mut visit = |_meta: &coroner::source::SourceMeta, r: &mut dyn std::io::BufRead| {
        let acc = parse_stream(r, &opts, &mut Nop);
        assert!(acc.balanced());
        acc.lines_read
    };
    let (results, errors) = read_input(&Input::Path(path.clone()), &limits, &mut visit);
    for (meta, _) in &results {
        assert!(!meta.display.contains("/../"));
    }
    for e in &errors {
        assert!(!e.file.is_empty() && !e.message.is_empty());
    }
});
