//! `coroner rules export` checked by the real promtool (`.ci/install-promtool`):
//! the rules file passes `promtool check rules`, and `promtool test rules`
//! with fixtures from the rules' examples passes (fire examples fire, quiet
//! ones stay quiet) — and fails when an exported threshold is wrong.

use coroner::lang::RuleSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn promtool() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("promtool"))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "promtool is not installed: run `.ci/install-promtool` (Debian package `prometheus`)"
        )
    })
}

fn coroner(args: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_coroner"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn run_promtool(args: &[&str], dir: &Path) -> (bool, String) {
    let o = Command::new(promtool())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// Every rule of the built-in packs is in the export: as an alert or a comment.
fn every_rule_present(text: &str) {
    for r in RuleSet::builtin().rules() {
        let as_alert = text.contains(&format!("coroner_rule: \"{}\"", r.id));
        let as_comment = text.contains(&format!("# not exported: {}: ", r.id));
        assert!(as_alert ^ as_comment, "{} missing or twice", r.id);
    }
}

fn prometheus(exporter: &str) {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("coroner.rules.yml");
    let tests = dir.path().join("coroner.tests.yml");
    let (ok, _, err) = coroner(&[
        "rules",
        "export",
        "--format",
        "prometheus",
        "--exporter",
        exporter,
        "-o",
        rules.to_str().unwrap(),
        "--promtool-tests",
        tests.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&rules).unwrap();
    every_rule_present(&text);
    let alerts = text.matches("  - alert: ").count();
    assert!(alerts >= 8, "{alerts} alerts:\n{text}");

    let (ok, out) = run_promtool(&["check", "rules", "coroner.rules.yml"], dir.path());
    assert!(ok, "promtool check rules:\n{out}\n{text}");
    assert!(out.contains(&format!("{alerts} rules found")), "{out}");

    let t = std::fs::read_to_string(&tests).unwrap();
    let cases = t.matches("\n  - name: ").count();
    assert!(
        cases >= 2 * alerts - 4,
        "{cases} test cases for {alerts} alerts:\n{err}"
    );
    assert!(t.contains("[fire]") && t.contains("[quiet]"));
    let (ok, out) = run_promtool(&["test", "rules", "coroner.tests.yml"], dir.path());
    assert!(ok, "promtool test rules:\n{out}\n{t}");

    // The fixtures bite: a wrong threshold in one alert makes a test fail.
    let broken = text.replacen("> 1000\"", "> 1000000\"", 1);
    assert_ne!(broken, text, "the api-pending alert has `> 1000`");
    std::fs::write(&rules, broken).unwrap();
    let (ok, out) = run_promtool(&["test", "rules", "coroner.tests.yml"], dir.path());
    assert!(!ok, "promtool test rules passed a broken rule:\n{out}");
}

#[test]
fn prometheus_nats_exporter_rules_pass_promtool() {
    prometheus("nats-exporter");
}

#[test]
fn surveyor_rules_pass_promtool() {
    prometheus("surveyor");
}

#[test]
fn loki_rules_name_every_rule_and_need_a_selector() {
    let (ok, text, err) = coroner(&[
        "rules",
        "export",
        "--format",
        "loki",
        "--selector",
        r#"{namespace="nats",container="nats"}"#,
    ]);
    assert!(ok, "{err}");
    every_rule_present(&text);
    let n = text
        .matches(r#"count_over_time({namespace=\"nats\",container=\"nats\"} |~ `"#)
        .count();
    assert!(n >= 20, "{n} LogQL rules:\n{text}");
    assert!(
        text.contains("# not exported: nats-cluster.route-retries: a condition on captured fields")
    );

    let (ok, _, err) = coroner(&["rules", "export", "--format", "loki"]);
    assert!(!ok);
    assert!(err.contains("--selector"), "{err}");
    let (ok, _, err) = coroner(&[
        "rules",
        "export",
        "--format",
        "loki",
        "--selector",
        "app=nats",
    ]);
    assert!(!ok);
    assert!(err.contains("not a LogQL stream selector"), "{err}");
}
