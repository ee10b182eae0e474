//! The binary: exit codes, errors on stderr, help text.

use crate::common::coroner;

mod watch;

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

#[test]
fn explain_a_pasted_line() {
    // a k9s-bordered paste of a 2.10 server
    let out = coroner(&[
        "explain",
        "│ [1] 2024/03/09 02:50:26.280253 [ERR] JetStream out of File resources, will be DISABLED │",
    ]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn explain_json_and_stdin() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_coroner"))
        .args(["explain", "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"[7] 2023/04/28 18:18:19.810647 [WRN] 10.68.253.243:6222 - rid:6 - Readloop processing time: 3.2s\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "readloop_slow");
    assert_eq!(v["catalog"], "C1");
    assert_eq!(v["prefix"], "10.68.253.243:6222 - rid:6");
    assert_eq!(v["meaning"]["weight"], "few");
    assert_eq!(v["meaning"]["releases"], "2.0.0..");
    assert!(
        v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "resources.readloop-stalls")
    );
}

#[test]
fn explain_an_unknown_line_exits_1_with_suggestions() {
    let out = coroner(&[
        "explain",
        "[1] [WRN] Healthcheck failed: \"JetStream is not current with the meta",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("No nats-server message template matches"),
        "{text}"
    );
    assert!(text.contains("js_not_current"), "{text}");
}

/// The chart's metric panels follow the verdict: the metric the root cause's
/// rule decided on is drawn first (CPU throttling for the throttled node of
/// the storm, which the default panels do not show), and not without one.
#[test]
fn chart_draws_the_metric_that_evidences_the_root_cause() {
    let dir = tempfile::tempdir().unwrap();
    let svg = |sample: &str| {
        let out = dir.path().join(format!("{sample}.svg"));
        let o = coroner(&[
            "chart",
            &format!("samples/real/{sample}.tar.gz"),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read_to_string(out).unwrap()
    };
    let label = "CPU throttled periods/s";
    assert!(
        svg("mqtt-storm").contains(label),
        "the storm's root cause is cpu-starvation from CPU throttling: its panel is drawn"
    );
    assert!(
        !svg("healthy").contains(label),
        "no root cause, no extra panel"
    );
}
