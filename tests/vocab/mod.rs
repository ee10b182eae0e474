//! The vocabulary (`coroner::vocab`) against everything that names things:
//! the metric parsers and the metric layer, the rule packs, the templates and
//! `src/metrics/METRICS.md`. A name used but not in the vocabulary fails, and
//! so does a vocabulary name nothing produces.

use crate::common;
use coroner::lang::RuleSet;
use coroner::vocab::{self, METRICS, MetricKind};
use std::collections::BTreeSet;
use std::path::Path;

/// Every metric name the parsers and the metric layer produce from the real
/// captures plus `tests/data/vocab/` (one dump of every shape, every field set).
fn produced_metrics() -> BTreeSet<String> {
    let mut paths: Vec<std::path::PathBuf> = common::SCENARIOS
        .iter()
        .map(|s| common::sample(s))
        .collect();
    paths.push(common::root().join("tests/data/vocab"));
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let mut bundle = common::read_all(&refs);
    let set = coroner::analyze::metric_set(&mut bundle);
    set.metric_names().iter().map(|m| m.to_string()).collect()
}

#[test]
fn every_produced_metric_is_in_the_vocabulary_and_every_vocabulary_metric_is_produced() {
    let produced = produced_metrics();
    let known: BTreeSet<String> = vocab::metric::names().map(String::from).collect();
    let unknown: Vec<&String> = produced.difference(&known).collect();
    assert!(
        unknown.is_empty(),
        "produced but not in src/vocab/metric.rs: {unknown:?}"
    );
    let never: Vec<&String> = known.difference(&produced).collect();
    assert!(
        never.is_empty(),
        "in the vocabulary but nothing produces them (add a parser or a field to tests/data/vocab): {never:?}"
    );
}

#[test]
fn parser_tables_name_vocabulary_metrics() {
    use coroner::parse::metric::{JSZ_FIELDS, VARZ_FIELDS};
    for (ptr, name) in VARZ_FIELDS.iter().chain(JSZ_FIELDS) {
        assert!(
            vocab::metric::metric(name).is_some(),
            "{ptr} → {name}: not in the vocabulary"
        );
    }
}

#[test]
fn metrics_md_is_generated_from_the_vocabulary() {
    let path = common::root().join("src/metrics/METRICS.md");
    let want = vocab::metric::markdown();
    if std::env::var_os("CORONER_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap();
    assert!(
        have == want,
        "src/metrics/METRICS.md differs from src/vocab/metric.rs: run `CORONER_BLESS=1 cargo test vocab::` and review the diff"
    );
}

#[test]
fn built_in_packs_use_only_vocabulary_metrics_and_categories() {
    let (rules, diags) = RuleSet::from_sources(&coroner::lang::builtin_sources());
    let diags: Vec<String> = diags
        .iter()
        .filter(|d| matches!(d.code, "W0101" | "E0004"))
        .map(|d| d.to_string())
        .collect();
    assert!(diags.is_empty(), "{diags:#?}");
    for r in rules.rules() {
        assert!(
            vocab::category::category(&r.category).is_some(),
            "{}: category {}",
            r.id,
            r.category
        );
    }
}

#[test]
fn every_category_is_used_by_some_rule_or_is_the_cascade_catch_all() {
    let rules = RuleSet::builtin();
    let used: BTreeSet<&str> = rules.rules().iter().map(|r| &*r.category).collect();
    for c in vocab::CATEGORIES {
        assert!(
            used.contains(c.name),
            "category {} is used by no rule",
            c.name
        );
    }
}

#[test]
fn kinds_named_by_code_are_template_kinds() {
    let kinds: BTreeSet<String> = common::classifier()
        .templates()
        .iter()
        .map(|t| t.kind.to_string())
        .collect();
    for k in vocab::kind::NAMED.iter().chain(vocab::kind::TIMELINE) {
        assert!(
            kinds.contains(*k),
            "{k}: no built-in template has this kind"
        );
    }
}

#[test]
fn rates_are_derived_per_second() {
    for m in METRICS {
        if let MetricKind::Counter { rate } | MetricKind::GaugeWithRate { rate } = m.kind {
            let r = vocab::metric::metric(rate).unwrap();
            assert_eq!(r.kind, MetricKind::Derived, "{rate}");
        }
    }
}
