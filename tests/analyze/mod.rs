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

pub use crate::common::verdict::{Expected, analyze, check, expected_from};

pub fn expected(scenario: &str) -> Expected {
    expected_from(&root().join(format!("tests/data/expected/{scenario}.verdict.json")))
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
