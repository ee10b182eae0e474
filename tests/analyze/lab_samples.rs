//! Captures of real 2.10, 2.12 and 2.15 clusters made with `lab/run`
//! (samples/lab, truth beside each archive): read completely, the banner's
//! version recorded per node, and the verdict of the truth.

use super::{analyze, check, expected};
use crate::common::*;

/// (release, fault) of every capture in samples/lab.
const LAB_SAMPLES: &[(&str, &str)] = &[
    ("2.10.26", "crash-restart"),
    ("2.12.8", "healthy"),
    ("2.12.8", "store-full"),
    ("2.15.1", "node-freeze"),
];

#[test]
fn lab_captures_of_newer_releases_get_their_verdict() {
    for (release, fault) in LAB_SAMPLES {
        let name = format!("{release}-{fault}");
        let path = root().join(format!("samples/lab/{name}.tar.gz"));
        let a = analyze(&[&path]);
        crate::common::verdict::assert_read_completely(&a, &name);
        for n in ["n1", "n2", "n3"] {
            let st = &a.bundle.nodes[n];
            assert_eq!(st.versions, [release.to_string()], "{name}: {n}");
        }
        check(&a, &expected(&format!("lab-{name}")), &name);
        // The truth beside the archive says the same as the expected verdict.
        let truth: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(root().join(format!("samples/lab/{name}.truth.json")))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(truth["scenario"], *fault);
        assert_eq!(
            truth["failing_node"].as_str(),
            expected(&format!("lab-{name}")).failing_node.as_deref()
        );
        assert!(
            truth["nats_server_version"]
                .as_str()
                .unwrap()
                .contains(release),
            "{name}"
        );
    }
}
