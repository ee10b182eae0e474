//! Pack diagnostics: file:line:column, caret, stable codes, did-you-mean;
//! one bad rule does not stop the others; rules are data with limits.

use coroner::lang::RuleSet;

fn load(src: &str) -> (RuleSet, Vec<coroner::lang::Diagnostic>) {
    RuleSet::from_sources(&[("p.rules".into(), src.into())])
}

const OK: &str = "template a \"A {id:int}\"\n";

#[test]
fn unknown_kind_points_at_it_with_a_suggestion() {
    let src = format!(
        "{OK}rule r {{\n  title \"t\"\n  severity high\n  category cpu-starvation\n  when event aa where id > 1\n}}\n"
    );
    let (set, d) = load(&src);
    assert!(set.rules().is_empty());
    let d: Vec<_> = d.into_iter().filter(|d| d.is_error()).collect();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].code, d[0].line, d[0].column), ("E0003", 6, 14));
    assert_eq!(d[0].hint.as_deref(), Some("did you mean `a`?"));
    let text = d[0].to_string();
    assert!(
        text.contains("error[E0003]: unknown event kind `aa`"),
        "{text}"
    );
    assert!(text.contains("--> p.rules:6:14"), "{text}");
    assert!(
        text.contains("6 |   when event aa where id > 1\n  |              ^^"),
        "{text}"
    );
}

#[test]
fn unknown_category_severity_field_and_metric() {
    let src = format!(
        "{OK}rule r {{ title \"t\" severity hihg category cpu-starvaton when event a where idd > 1 }}\nrule m {{ title \"t\" severity low category cpu-starvation when metric cpuu > 1 }}\n"
    );
    let (set, d) = load(&src);
    let codes: Vec<&str> = d.iter().map(|d| d.code).collect();
    // sorted by position: the template without a meaning (W0104) on line 1,
    // then the rule id (W0102) comes first on its line
    assert_eq!(
        codes,
        [
            "W0104", "W0102", "E0005", "E0004", "E0023", "W0102", "W0101"
        ],
        "{d:#?}"
    );
    assert_eq!(d[2].hint.as_deref(), Some("did you mean `high`?"));
    assert_eq!(d[3].hint.as_deref(), Some("did you mean `cpu-starvation`?"));
    assert_eq!(d[4].hint.as_deref(), Some("did you mean `id`?"));
    assert_eq!(d[6].hint.as_deref(), Some("did you mean `cpu`?"));
    // warnings do not drop a rule
    assert_eq!(set.rules().len(), 1);
}

#[test]
fn one_bad_rule_does_not_stop_the_others() {
    let src = format!(
        "{OK}rule bad {{ title \"t\" severity high category cpu-starvation when count(a) >= }}\nrule good {{ title \"t\" severity high category cpu-starvation when event a }}\nrule typo {{ titel \"t\" }}\nrule good2 {{ title \"t\" severity high category cpu-starvation when event a }}\n"
    );
    let (set, d) = load(&src);
    let ids: Vec<&str> = set.rules().iter().map(|r| &*r.id).collect();
    assert_eq!(ids, ["good", "good2"]);
    assert!(d.iter().any(|d| d.code == "E0001" && d.line == 2));
    let typo = d.iter().find(|d| d.code == "E0006").unwrap();
    assert_eq!(typo.hint.as_deref(), Some("did you mean `title`?"));
}

#[test]
fn pathological_regexes_are_rejected() {
    let src = format!(
        "{OK}rule r {{ title \"t\" severity high category cpu-starvation when event a where message ~ /(\\w{{100}}){{100}}/ }}\n"
    );
    let (set, d) = load(&src);
    assert!(set.rules().is_empty());
    assert!(
        d.iter()
            .any(|d| d.code == "E0009" && d.message.contains("too complex")),
        "{d:#?}"
    );
    let src = format!(
        "{OK}rule r {{ title \"t\" severity high category cpu-starvation when event a where message ~ /(unclosed/ }}\n"
    );
    assert!(load(&src).1.iter().any(|d| d.code == "E0009"));
}

#[test]
fn references_and_cycles_are_checked() {
    let h = "title \"t\" severity high category cpu-starvation";
    let src = format!(
        "{OK}rule a1 {{ {h} when event a explains a2, nope }}\nrule c1 {{ {h} when cascade c2 then a1 on peers within 1m }}\nrule c2 {{ {h} when cascade c1 then a1 on peers within 1m }}\n"
    );
    let (set, d) = load(&src);
    assert!(
        d.iter()
            .any(|d| d.code == "E0012" && d.message.contains("nope"))
    );
    assert!(
        d.iter()
            .any(|d| d.code == "E0012" && d.message.contains("a2"))
    );
    assert_eq!(d.iter().filter(|d| d.code == "E0019").count(), 2, "{d:#?}");
    assert!(set.rules().iter().all(|r| !r.id.starts_with('c')));
}

#[test]
fn sequence_keys_must_exist_in_every_step() {
    let src = format!(
        "{OK}rule s {{ title \"t\" severity high category cpu-starvation when sequence by id within 1m {{ event a\n metric cpu > 1 }} }}\n"
    );
    let (_, d) = load(&src);
    assert!(d.iter().any(|d| d.code == "E0014"), "{d:#?}");
}

#[test]
fn bad_templates_are_reported_where_they_are() {
    let (set, d) = load("template a \"x {n:nope}\"\ntemplate b \"ok\"\n");
    assert_eq!(set.templates().len(), 1);
    assert_eq!((d[0].code, d[0].line), ("E0008", 1));
    assert!(d[0].message.contains("unknown capture type"));
}

#[test]
fn oversized_packs_are_refused() {
    let big = format!("{OK}{}", "# filler\n".repeat(300_000));
    let (_, d) = load(&big);
    assert!(d.iter().any(|d| d.code == "E0017"));
}

#[test]
fn builtin_examples_all_pass_and_every_rule_has_both_kinds() {
    let set = RuleSet::builtin();
    for r in set.rules() {
        assert!(
            r.examples.iter().any(|e| e.fire) && r.examples.iter().any(|e| !e.fire),
            "{}",
            r.id
        );
    }
    let res = coroner::engine::run_examples(&set);
    let bad: Vec<_> = res
        .iter()
        .filter(|r| r.outcome != coroner::engine::ExampleOutcome::Pass)
        .map(|r| format!("{} line {}", r.rule, r.line))
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    let packs: Vec<&str> = set.packs().iter().map(|p| &*p.name).collect();
    for p in [
        "nats-jetstream",
        "nats-mqtt",
        "nats-cluster",
        "nats-core",
        "resources",
    ] {
        assert!(packs.contains(&p), "{packs:?}");
    }
}
