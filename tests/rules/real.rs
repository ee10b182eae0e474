use crate::common::*;
use coroner::engine;
use coroner::lang::RuleSet;
use coroner::model::{Finding, Severity};

fn findings(scenario: &str) -> Vec<Finding> {
    let mut bundle = read_all(&[&sample(scenario)]);
    let set = coroner::analyze::metric_set(&mut bundle);
    let rules = RuleSet::builtin();
    engine::run(&rules, &bundle.events, &set)
}

fn incidents(f: &[Finding]) -> Vec<&Finding> {
    f.iter().filter(|f| f.severity >= Severity::High).collect()
}

fn show(f: &[&Finding]) -> String {
    f.iter()
        .map(|f| {
            format!(
                "{} {} {:8} {:24} {} | {}",
                f.start.hms_millis(),
                f.node.as_deref().unwrap_or("-"),
                f.severity.name(),
                f.category,
                f.rule,
                f.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The earliest high/critical finding must be on `node`, and `node` must have
/// a high/critical finding in one of `categories`.
fn check(scenario: &str, node: &str, categories: &[&str]) {
    let all = findings(scenario);
    let inc = incidents(&all);
    let txt = show(&inc);
    assert!(!inc.is_empty(), "{scenario}: no incident finding");
    assert!(
        inc.iter()
            .any(|f| f.node.as_deref() == Some(node) && categories.contains(&&*f.category)),
        "{scenario}: no high finding on {node} in {categories:?}:\n{txt}"
    );
    assert_eq!(
        inc[0].node.as_deref(),
        Some(node),
        "{scenario}: earliest incident finding not on {node}:\n{txt}"
    );
}

#[test]
fn healthy_has_no_incident_finding() {
    let all = findings("healthy");
    let inc = incidents(&all);
    assert!(inc.is_empty(), "healthy:\n{}", show(&inc));
}

#[test]
fn mqtt_storm_is_n2() {
    check(
        "mqtt-storm",
        "n2",
        &[
            "mqtt-connection-storm",
            "jetstream-api-overload",
            "cpu-starvation",
        ],
    );
}

#[test]
fn node_freeze_is_n3() {
    check("node-freeze", "n3", &["node-unresponsive"]);
}

#[test]
fn crash_restart_is_n1() {
    check("crash-restart", "n1", &["process-restart"]);
}

#[test]
fn slow_consumer_is_n3() {
    check("slow-consumer", "n3", &["slow-consumer"]);
}

#[test]
fn store_full_is_n2() {
    check("store-full", "n2", &["storage-exhaustion"]);
}

#[test]
fn findings_are_deterministic() {
    let a = findings("crash-restart");
    let b = findings("crash-restart");
    let key = |f: &[Finding]| {
        f.iter()
            .map(|x| {
                (
                    x.rule.clone(),
                    x.node.clone(),
                    x.start,
                    x.end,
                    x.message.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&a), key(&b));
}
