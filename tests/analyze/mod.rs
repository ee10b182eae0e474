//! `analyze` end to end: the real captures get the verdict their
//! verdict.json gives, and keep getting it when the failing node, the
//! packaging and the snapshot shape change (the held-out captures differ in
//! exactly these ways).

mod broker;
mod coalesce;
mod lab_samples;
mod snapshot_folders;
mod snapshots;
mod variants;

use crate::common::*;
use coroner::analyze::Analysis;
use coroner::source::Input;

pub fn analyze(paths: &[&std::path::Path]) -> Analysis {
    let inputs: Vec<Input> = paths.iter().map(|p| Input::Path(p.to_path_buf())).collect();
    coroner::analyze::run(
        &inputs,
        &coroner::lang::RuleSet::builtin(),
        &Default::default(),
    )
}

pub struct Expected {
    pub failing_node: Option<String>,
    pub causes: Vec<String>,
    pub quiet: bool,
}

pub fn expected(scenario: &str) -> Expected {
    expected_from(&root().join(format!("tests/data/expected/{scenario}.verdict.json")))
}

/// The expectation a `verdict.json` states (the scorer's format).
pub fn expected_from(path: &std::path::Path) -> Expected {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    Expected {
        failing_node: v["failing_node"].as_str().map(str::to_string),
        causes: v["causes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect(),
        quiet: v["quiet"].as_bool().unwrap_or(false),
    }
}

/// Checks a verdict as the project's scorer does.
pub fn check(a: &Analysis, want: &Expected, what: &str) {
    let v = &a.verdict;
    if want.quiet {
        let loud: Vec<_> = a
            .findings
            .iter()
            .filter(|f| f.severity >= coroner::model::Severity::High)
            .map(|f| format!("{} {:?} {}", f.rule, f.node, f.message))
            .collect();
        assert!(
            v.failing_node.is_none() && loud.is_empty(),
            "{what}: {:?} {loud:?}",
            v.failing_node
        );
        return;
    }
    assert_eq!(
        v.failing_node.as_deref(),
        want.failing_node.as_deref(),
        "{what}: {}",
        v.headline
    );
    let rc = v
        .root_cause
        .as_ref()
        .map(|r| r.category.to_string())
        .unwrap_or_default();
    assert!(
        want.causes.contains(&rc),
        "{what}: root cause {rc}, want one of {:?}",
        want.causes
    );
}

#[test]
fn real_captures_get_the_right_verdict() {
    for s in SCENARIOS {
        let a = analyze(&[&sample(s)]);
        check(&a, &expected(s), s);
        // Every claim comes with evidence.
        for f in &a.findings {
            assert!(!f.evidence.is_empty(), "{s}: {} has no evidence", f.rule);
        }
    }
}
