//! Every message carries its meaning: each built-in template says what it
//! means, which causes it is evidence of, how much it weighs and in which
//! releases it exists; every WRN/ERR/FTL message of the catalog is
//! classified; `explain` answers for every template; a node's release is
//! read and known defects fire only in their range.

use crate::common::{root, write};
use coroner::explain::{Explained, explain_line, message_of};
use coroner::lang::RuleSet;
use coroner::model::Release;

#[test]
fn every_builtin_template_has_a_meaning_categories_a_weight_and_releases() {
    let rules = RuleSet::builtin();
    let mut missing = Vec::new();
    for t in rules.templates() {
        let where_ = format!("{}:{} {}", t.file, t.line, t.kind);
        let Some(m) = &t.meaning else {
            missing.push(format!("{where_}: no meaning"));
            continue;
        };
        if m.means.trim().len() < 20 {
            missing.push(format!("{where_}: meaning too short to say anything"));
        }
        let lower = m.means.to_lowercase();
        if lower.contains("todo") || lower.contains("tbd") || *m.means == *t.pattern {
            missing.push(format!("{where_}: placeholder meaning"));
        }
        if m.evidence.is_empty() {
            missing.push(format!("{where_}: no evidence category"));
        }
        for c in &m.evidence {
            if coroner::vocab::category::category(c).is_none() {
                missing.push(format!("{where_}: unknown category {c}"));
            }
        }
        if m.releases.from.is_none() {
            missing.push(format!("{where_}: release range without a first release"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    // the classifier exposes the same meaning
    let c = rules.classifier_ref();
    for (i, t) in rules.templates().iter().enumerate() {
        assert_eq!(c.meaning(i), t.meaning.as_deref(), "{}", t.kind);
        assert!(c.kind_meaning(&t.kind).is_some(), "{}", t.kind);
    }
}

#[test]
fn every_catalog_warning_error_and_fatal_message_is_classified() {
    let rules = RuleSet::builtin();
    let text = std::fs::read_to_string(root().join("tests/data/catalog-messages.txt")).unwrap();
    let mut wrong = Vec::new();
    let mut n = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut parts = line.splitn(3, " | ");
        let (id, kind, log) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        n += 1;
        let (_, _, body) = message_of(log);
        let got = rules.classifier_ref().classify(&body);
        if &*got.kind != kind {
            wrong.push(format!("{id}: expected {kind}, got {}: {body}", got.kind));
        }
    }
    assert!(n >= 150, "only {n} catalog lines");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn explain_answers_for_every_template() {
    let rules = RuleSet::builtin();
    for t in rules.templates() {
        let sample = t.compiled.sample_message();
        let mut lines = vec![format!("[7] 2024/03/09 02:50:26.280253 [WRN] {sample}")];
        if !sample.is_empty() {
            // a k9s paste of a connection-scoped line
            lines.push(format!(
                "│ [1] 2024/03/09 02:50:26.280253 [ERR] 10.0.0.1:4222 - cid:5 - {sample} │"
            ));
        }
        for line in lines {
            match explain_line(&rules, &line) {
                Explained::Match(e) => {
                    assert!(e.meaning.is_some(), "{}: {line}", t.kind);
                }
                Explained::NoMatch { body, .. } => {
                    panic!("{} does not explain {line:?} (body {body:?})", t.kind)
                }
            }
        }
    }
}

#[test]
fn explain_names_the_rules_and_the_releases() {
    let rules = RuleSet::builtin();
    let Explained::Match(e) = explain_line(
        &rules,
        "[1] 2024/01/11 15:47:26.529650 [WRN] Internal subscription on \"$JS.API.STREAM.NAMES\" took too long: 5m22.02s",
    ) else {
        panic!("no match")
    };
    assert_eq!(&*e.kind, "internal_sub_slow");
    assert_eq!(e.catalog.as_deref(), Some("B4"));
    let m = e.meaning.as_ref().unwrap();
    assert!(m.is_evidence_of("jetstream-api-overload"));
    assert!(m.releases.contains(Release::new(2, 10, 8)));
    assert!(!m.releases.contains(Release::new(2, 9, 0)));
    let defect = e
        .rules
        .iter()
        .find(|r| &*r.id == "nats-defects.api-stall-2-10-8")
        .expect("the 2.10.8 defect reads this message");
    assert_eq!(defect.fixed, Some(Release::new(2, 10, 9)));
    // nothing matches: exit-1 material with did-you-mean candidates
    match explain_line(
        &rules,
        "Healthcheck failed: \"JetStream is not current with the meta",
    ) {
        Explained::NoMatch { nearest, .. } => {
            assert!(
                nearest.iter().any(|(k, _)| &**k == "js_not_current"),
                "{nearest:?}"
            )
        }
        Explained::Match(e) => panic!("a cut line matched {}", e.kind),
    }
}

#[test]
fn the_node_release_is_read_and_known_defects_fire_only_in_their_range() {
    let dir = tempfile::tempdir().unwrap();
    let log = |v: &str| {
        format!(
            "[1] 2024/01/11 15:40:00.000000 [INF] Starting nats-server\n\
             [1] 2024/01/11 15:40:00.000100 [INF]   Version:  {v}\n\
             [1] 2024/01/11 15:40:00.000200 [INF]   Name:     n1\n\
             [1] 2024/01/11 15:47:26.529650 [WRN] Internal subscription on \"$JS.API.STREAM.NAMES\" took too long: 5m22.022350708s\n\
             [1] 2024/01/11 15:47:26.531816 [WRN] Internal subscription on \"$JS.API.STREAM.NAMES\" took too long: 5m22.024523971s\n"
        )
    };
    let run = |v: &str| {
        let p = write(dir.path(), &format!("{v}/n1.log"), log(v).as_bytes());
        crate::analyze::analyze(&[&p])
    };
    let bad = run("2.10.8");
    assert_eq!(bad.releases.latest("n1"), Some(Release::new(2, 10, 8)));
    let f = bad
        .findings
        .iter()
        .find(|f| &*f.rule == "nats-defects.api-stall-2-10-8")
        .expect("the 2.10.8 defect fires on 2.10.8");
    assert!(f.message.contains("2.10.8"), "{}", f.message);
    let good = run("2.10.9");
    assert_eq!(good.releases.latest("n1"), Some(Release::new(2, 10, 9)));
    assert!(
        !good
            .findings
            .iter()
            .any(|f| f.category.as_ref() == "known-defect"),
        "no known defect on 2.10.9"
    );
    let mut out = Vec::new();
    coroner::render::report::json::write(&mut out, &bad).unwrap();
    let json = String::from_utf8(out).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["nodes"][0]["version"], "2.10.8", "{json}");
}

#[test]
fn meaning_lines_are_checked() {
    let src = "template a \"A {id:int}\"\n  means \"A test message that means something\"\n  evidence cpu-starvaton\n  weight decisiv\n  releases 2.10.20..2.10.8\ntemplate b \"B\"\n  means \"B\"\n  weight few\n  weight context\ntemplate c \"C\"\n";
    let (set, d) = RuleSet::from_sources(&[("m.rules".into(), src.into())]);
    let codes: Vec<(&str, usize)> = d.iter().map(|d| (d.code, d.line)).collect();
    assert_eq!(
        codes,
        [
            ("E0004", 3),
            ("E0024", 4),
            ("E0025", 5),
            ("W0104", 6),
            ("E0011", 9),
            ("W0104", 10)
        ],
        "{d:#?}"
    );
    assert_eq!(d[0].hint.as_deref(), Some("did you mean `cpu-starvation`?"));
    assert_eq!(d[1].hint.as_deref(), Some("did you mean `decisive`?"));
    // templates load either way, without a meaning
    assert_eq!(set.templates().len(), 3);
    assert!(set.templates().iter().all(|t| t.meaning.is_none()));
}

#[test]
fn release_ranges_in_conditions_are_checked() {
    let src = "template a \"A {id:int}\"\n  means \"A test message that means something\"\n  evidence cpu-starvation\n  weight few\n  releases 2.2.0..\nrule r { title \"t\" severity high category known-defect fixed 2.x when event a where release in 2.10..2.9.1 }\n";
    let (_, d) = RuleSet::from_sources(&[("m.rules".into(), src.into())]);
    let codes: Vec<&str> = d.iter().filter(|d| d.is_error()).map(|d| d.code).collect();
    assert_eq!(codes, ["E0025", "E0025"], "{d:#?}");
}
