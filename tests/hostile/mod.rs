//! Hostile and broken input (issue 9): nothing crashes, nothing is lost
//! silently, archives never touch the filesystem, bombs and limits stop with a
//! clear message, rule packs stay data, log text never becomes markup or a
//! terminal control sequence, and the JSON report does not depend on thread
//! count or input order.
//!
//! `regressions` holds every input the fuzzers (fuzz/) found to crash.

mod archives;
mod corpus;
mod determinism;
mod escaping;
mod regressions;
mod rules;

use crate::common::*;
use coroner::analyze::Analysis;
use coroner::ingest::{Bundle, IngestOptions};
use coroner::source::Input;
use std::path::Path;

/// Runs the whole pipeline (built-in packs) on `paths`.
pub fn analyze_with(paths: &[&Path], opts: &IngestOptions) -> Analysis {
    let inputs: Vec<Input> = paths.iter().map(|p| Input::Path(p.to_path_buf())).collect();
    coroner::analyze::run(&inputs, &coroner::lang::RuleSet::builtin(), opts)
}

/// The JSON report as a value.
pub fn report_json(a: &Analysis) -> serde_json::Value {
    serde_json::to_value(coroner::render::report::json::build(a)).unwrap()
}

/// Every file balances in the bundle, and in the JSON report (per file and
/// in the totals).
pub fn assert_balanced_everywhere(a: &Analysis) {
    assert_balanced(&a.bundle);
    let v = report_json(a);
    let input = &v["input"];
    let (mut read, mut parsed, mut cont, mut unparsed) = (0, 0, 0, 0);
    for f in input["files"].as_array().unwrap() {
        let n = |k: &str| f[k].as_u64().unwrap();
        assert_eq!(
            n("lines_read"),
            n("parsed") + n("continuation") + n("unparsed"),
            "report: {f}"
        );
        read += n("lines_read");
        parsed += n("parsed");
        cont += n("continuation");
        unparsed += n("unparsed");
    }
    let t = |k: &str| input[k].as_u64().unwrap();
    assert_eq!(t("lines_read"), read);
    assert_eq!(t("lines_parsed"), parsed);
    assert_eq!(t("lines_continuation"), cont);
    assert_eq!(t("lines_unparsed"), unparsed);
    assert_eq!(read, a.bundle.lines_read());
}

pub fn file<'a>(b: &'a Bundle, suffix: &str) -> &'a coroner::ingest::FileReport {
    b.files
        .iter()
        .find(|f| f.display.ends_with(suffix))
        .unwrap_or_else(|| {
            let names: Vec<&str> = b.files.iter().map(|f| &*f.display).collect();
            panic!("no file ending in {suffix}: {names:?}")
        })
}

/// A nats-server log line.
pub fn line(ts: &str, level: &str, msg: &str) -> String {
    format!("[7] {ts} [{level}] {msg}\n")
}
