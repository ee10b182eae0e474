//! Snapshots of the rendered reports (insta): review diffs with `cargo insta review`.

use coroner::source::Input;

fn run(scenario: &str) -> coroner::analyze::Analysis {
    // A relative path: cargo runs tests from the package root, and snapshots
    // must not hold a machine's paths.
    let input = Input::Path(format!("samples/real/{scenario}.tar.gz").into());
    coroner::analyze::run(
        &[input],
        &coroner::lang::RuleSet::builtin(),
        &Default::default(),
    )
}

fn render(a: &coroner::analyze::Analysis) -> (String, String, String) {
    let mut text = Vec::new();
    coroner::render::report::text::write(&mut text, a, coroner::render::Style { color: false })
        .unwrap();
    let mut json = Vec::new();
    coroner::render::report::json::write(&mut json, a).unwrap();
    let mut md = Vec::new();
    coroner::render::report::markdown::write(&mut md, a, None).unwrap();
    (
        String::from_utf8(text).unwrap(),
        String::from_utf8(json).unwrap(),
        String::from_utf8(md).unwrap(),
    )
}

macro_rules! snapshot_case {
    ($name:ident, $scenario:literal) => {
        #[test]
        fn $name() {
            let (text, json, md) = render(&run($scenario));
            insta::assert_snapshot!(concat!($scenario, "_text"), text);
            insta::assert_snapshot!(concat!($scenario, "_json"), json);
            insta::assert_snapshot!(concat!($scenario, "_markdown"), md);
        }
    };
}

snapshot_case!(mqtt_storm_reports, "mqtt-storm");
snapshot_case!(node_freeze_reports, "node-freeze");
snapshot_case!(healthy_reports, "healthy");
snapshot_case!(crash_restart_reports, "crash-restart");
