//! Verdict cases as data: every folder under `tests/cases/` is an input and
//! its `expected.json` (see tests/cases/README.md).

use crate::common;
use coroner::analyze;
use coroner::ingest::IngestOptions;
use coroner::lang::RuleSet;
use coroner::model::Severity;
use coroner::source::Input;

#[derive(serde::Deserialize)]
struct Expected {
    #[serde(default)]
    root_cause: Vec<String>,
    #[serde(default)]
    failing_node: Option<String>,
    #[serde(default)]
    quiet: bool,
    #[serde(default)]
    input: Option<String>,
}

fn check(dir: &std::path::Path) -> Result<(), String> {
    let want: Expected = serde_json::from_slice(
        &std::fs::read(dir.join("expected.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("expected.json: {e}"))?;
    let mut inputs = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let p = e.map_err(|e| e.to_string())?.path();
        if p.file_name().is_some_and(|n| n != "expected.json") {
            inputs.push(Input::Path(p));
        }
    }
    inputs.sort_by_key(|i| format!("{i:?}"));
    let a = analyze::run(&inputs, &RuleSet::builtin(), &IngestOptions::default());
    let v = &a.verdict;
    let mut problems = Vec::new();
    for f in &a.bundle.files {
        if f.account.unparsed > 0 {
            problems.push(format!(
                "{}: {} unparsed lines {:?}",
                f.display, f.account.unparsed, f.account.unparsed_samples
            ));
        }
    }
    let root = v.root_cause.as_ref().map(|r| r.category.to_string());
    if want.quiet {
        let loud = a
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::High)
            .count();
        if loud > 0 || v.failing_node.is_some() {
            problems.push(format!(
                "quiet case: {loud} high findings, node {:?}",
                v.failing_node
            ));
        }
    } else if !root.as_ref().is_some_and(|r| want.root_cause.contains(r)) {
        problems.push(format!(
            "root cause {root:?}, want one of {:?}; findings: {:?}",
            want.root_cause,
            a.findings
                .iter()
                .map(|f| format!("{} {} {}", f.severity, f.category, f.rule))
                .collect::<Vec<_>>()
        ));
    }
    if let Some(n) = &want.failing_node
        && v.failing_node.as_deref() != Some(n.as_str())
    {
        problems.push(format!("failing node {:?}, want {n}", v.failing_node));
    }
    if let Some(k) = &want.input
        && v.input.name() != k
    {
        problems.push(format!("input {}, want {k}", v.input.name()));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[test]
fn every_case_gets_its_verdict() {
    let root = common::root().join("tests/cases");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 10, "cases missing under {}", root.display());
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|d| {
            check(d)
                .err()
                .map(|e| format!("{}: {e}", d.file_name().unwrap().to_string_lossy()))
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_cause_category_has_a_case() {
    let root = common::root().join("tests/cases");
    let mut covered = std::collections::BTreeSet::new();
    for e in std::fs::read_dir(&root).unwrap().flatten() {
        let p = e.path().join("expected.json");
        if let Ok(b) = std::fs::read(&p) {
            let want: Expected = serde_json::from_slice(&b).unwrap();
            covered.extend(want.root_cause);
        }
    }
    let missing: Vec<&str> = coroner::vocab::CATEGORIES
        .iter()
        .filter(|c| c.role == coroner::vocab::Role::Cause)
        .map(|c| c.name)
        .filter(|c| !covered.contains(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "cause categories without a case: {missing:?}"
    );
}
