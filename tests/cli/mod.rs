//! The binary: exit codes, errors on stderr, help text.

use crate::common::coroner;

#[test]
fn exit_codes_follow_the_contract() {
    let healthy = coroner(&["analyze", "samples/real/healthy.tar.gz"]);
    assert_eq!(
        healthy.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&healthy.stderr)
    );
    assert!(String::from_utf8_lossy(&healthy.stdout).contains("No incident found"));
    let storm = coroner(&[
        "analyze",
        "samples/real/mqtt-storm.tar.gz",
        "--format",
        "json",
    ]);
    assert_eq!(storm.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&storm.stdout).unwrap();
    assert_eq!(v["verdict"]["failing_node"], "n2");
    // --fail-on critical: the storm has critical findings too
    let crit = coroner(&[
        "analyze",
        "samples/real/slow-consumer.tar.gz",
        "--fail-on",
        "critical",
    ]);
    assert!(matches!(crit.status.code(), Some(0) | Some(1)));
}

#[test]
fn unreadable_input_is_named_and_the_rest_still_reported() {
    let out = coroner(&[
        "analyze",
        "samples/real/node-freeze.tar.gz",
        "no/such/file.log",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no/such/file.log"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"]["failing_node"], "n3");
    assert_eq!(v["input"]["errors"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_arguments_exit_2_with_the_valid_choices() {
    let out = coroner(&["events", "samples/real/healthy.tar.gz", "--level", "loud"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("trace, debug, info, warn, error or fatal")
    );
    let out = coroner(&[
        "events",
        "samples/real/healthy.tar.gz",
        "--tz",
        "Mars/Olympus",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("IANA"));
}

#[test]
fn rules_commands() {
    let out = coroner(&["rules", "test"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = coroner(&["rules", "lint", "rules/"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let list = String::from_utf8_lossy(&coroner(&["rules", "list"]).stdout)
        .lines()
        .count();
    assert!(list > 40, "{list} rules");
}

#[test]
fn help_text() {
    let out = coroner(&["--help"]);
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}
