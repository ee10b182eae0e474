//! The verdict as the project's scorer checks it, shared by the test binaries.

use coroner::analyze::Analysis;
use coroner::ingest::FileKind;
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

/// What every real capture must satisfy, fault or not.
pub fn assert_read_completely(a: &Analysis, what: &str) {
    let b = &a.bundle;
    assert!(b.errors.is_empty(), "{what}: {:?}", b.errors);
    for f in &b.files {
        let base = f.display.rsplit(['/', '!']).next().unwrap_or(&f.display);
        // nN.log, metrics/nN.<endpoint>.jsonl, nN.proc.csv; host.csv is the host's.
        let want = if base == "host.csv" {
            "@host"
        } else {
            base.split('.').next().unwrap()
        };
        assert_eq!(
            f.node.as_deref(),
            Some(want),
            "{what}: {} attributed to {:?} ({})",
            f.display,
            f.node,
            f.attribution.name()
        );
        if f.kind == FileKind::Log {
            assert_eq!(
                f.nodes.len(),
                1,
                "{what}: {} split over {:?}",
                f.display,
                f.nodes
            );
        }
        assert_eq!(
            f.account.unparsed, 0,
            "{what}: {} has unparsed lines: {:?}",
            f.display, f.account.unparsed_samples
        );
    }
    for (node, st) in &b.nodes {
        let unmatched: Vec<_> = st
            .templates
            .iter()
            .filter(|(_, t)| !t.classified && t.max_level >= Some(coroner::model::Level::Warn))
            .map(|(k, t)| format!("{} x{}", k, t.count))
            .collect();
        assert!(
            unmatched.is_empty(),
            "{what}: {node}: warnings/errors no template matched: {unmatched:#?}"
        );
    }
}
