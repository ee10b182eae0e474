//! The semantics written in rules/README.md, each tested against the known
//! failures of comparable tools (order past the first step, group-by
//! equality, windows stretching past their span, absence decided at the end
//! of the data, missing metrics treated as false).

use coroner::engine::{self, MemMetrics, MetricSource, NoMetrics};
use coroner::lang::RuleSet;
use coroner::model::{Event, Finding, Level, Location, Span, Timestamp};

const TEMPLATES: &str = r#"
template a "A {id:int}"
template b "B {id:int}"
template c "C {id:int}"
template x "X {id:int}"
"#;

fn set(rules: &str) -> RuleSet {
    let src = format!("{TEMPLATES}\n{rules}");
    let (set, diags) = RuleSet::from_sources(&[("t.rules".into(), src)]);
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    set
}

fn t(secs: f64) -> Timestamp {
    Timestamp(1_700_000_000_000_000_000 + (secs * 1e9) as i64)
}

/// Events from (node, seconds, message); sorted like the ingestion layer does.
fn events(set: &RuleSet, spec: &[(&str, f64, &str)]) -> Vec<Event> {
    let mut v: Vec<Event> = spec
        .iter()
        .enumerate()
        .map(|(i, (node, s, msg))| {
            let c = set.classifier_ref().classify(msg);
            Event {
                ts: Some(t(*s)),
                node: (*node).into(),
                level: Level::Warn,
                kind: c.kind,
                fields: c.fields,
                message: (*msg).into(),
                template: None,
                loc: Location {
                    file: format!("{node}.log").into(),
                    line: i as u64 + 1,
                },
                continuation: 0,
                repeat: 1,
                repeat_span: 0,
                absorbed: None,
                snapshot: false,
            }
        })
        .collect();
    v.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    v
}

fn run(rules: &str, spec: &[(&str, f64, &str)]) -> Vec<Finding> {
    run_with(rules, spec, &NoMetrics)
}

fn run_with(rules: &str, spec: &[(&str, f64, &str)], m: &dyn MetricSource) -> Vec<Finding> {
    let s = set(rules);
    let ev = events(&s, spec);
    engine::run(&s, &ev, m)
}

const RULE_HEAD: &str = "title \"t\"\n severity high\n category cpu-starvation\n";

fn rule(when: &str) -> String {
    format!("rule r {{\n {RULE_HEAD} when {when}\n}}\n")
}

// ------------------------------------------------------------ sequences

#[test]
fn sequence_enforces_order_at_every_step() {
    let r = rule("sequence within 1m { event a\n event b\n event c }");
    // c comes before b: a tool that checks order only after the first step would match
    assert!(
        run(
            &r,
            &[("n1", 0.0, "A 1"), ("n1", 1.0, "C 1"), ("n1", 2.0, "B 1")]
        )
        .is_empty()
    );
    assert_eq!(
        run(
            &r,
            &[("n1", 0.0, "A 1"), ("n1", 1.0, "B 1"), ("n1", 2.0, "C 1")]
        )
        .len(),
        1
    );
    // same instant, stream order decides
    assert_eq!(
        run(
            &r,
            &[("n1", 0.0, "A 1"), ("n1", 0.0, "B 1"), ("n1", 0.0, "C 1")]
        )
        .len(),
        1
    );
}

#[test]
fn sequence_key_is_equal_across_all_steps() {
    let r = rule("sequence by id within 1m { event a\n event b\n event c }");
    // the key matches on steps 1-2 but not on step 3
    assert!(
        run(
            &r,
            &[("n1", 0.0, "A 1"), ("n1", 1.0, "B 1"), ("n1", 2.0, "C 2")]
        )
        .is_empty()
    );
    assert!(
        run(
            &r,
            &[("n1", 0.0, "A 1"), ("n1", 1.0, "B 2"), ("n1", 2.0, "C 1")]
        )
        .is_empty()
    );
    assert_eq!(
        run(
            &r,
            &[("n1", 0.0, "A 1"), ("n1", 1.0, "B 1"), ("n1", 2.0, "C 1")]
        )
        .len(),
        1
    );
    // the node is always part of the key
    assert!(
        run(
            &r,
            &[("n1", 0.0, "A 1"), ("n2", 1.0, "B 1"), ("n1", 2.0, "C 1")]
        )
        .is_empty()
    );
}

#[test]
fn sequence_never_stretches_past_its_span() {
    let r = rule("sequence within 10s { event a\n event b\n event c }");
    assert!(
        run(
            &r,
            &[("n1", 0.0, "A 1"), ("n1", 5.0, "B 1"), ("n1", 10.5, "C 1")]
        )
        .is_empty()
    );
    assert_eq!(
        run(
            &r,
            &[("n1", 0.0, "A 1"), ("n1", 5.0, "B 1"), ("n1", 10.0, "C 1")]
        )
        .len(),
        1
    );
    // a later first step restarts the span: A at 4 + B + C within 10 s of it
    let f = run(
        &r,
        &[
            ("n1", 0.0, "A 1"),
            ("n1", 4.0, "A 2"),
            ("n1", 5.0, "B 1"),
            ("n1", 13.0, "C 1"),
        ],
    );
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].start, t(4.0));
}

#[test]
fn sequence_matches_are_tightest_and_do_not_overlap() {
    let r = rule("sequence within 1m { event a\n event b }");
    let f = run(
        &r,
        &[
            ("n1", 0.0, "A 1"),
            ("n1", 1.0, "A 2"),
            ("n1", 2.0, "B 1"),
            ("n1", 3.0, "B 2"),
        ],
    );
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        f[0].start,
        t(1.0),
        "the latest A before the B starts the match"
    );
    // a second A after the match starts a new one (merged into one finding
    // only if within the merge interval; here we make it far apart)
    let r2 = "rule r {\n title \"t\"\n severity high\n category cpu-starvation\n merge 1s\n when sequence within 1m { event a\n event b }\n}\n";
    let f = run(
        r2,
        &[
            ("n1", 0.0, "A 1"),
            ("n1", 2.0, "B 1"),
            ("n1", 30.0, "A 2"),
            ("n1", 31.0, "B 2"),
        ],
    );
    assert_eq!(f.len(), 2);
}

#[test]
fn sequence_without_blocks_between_steps_only() {
    let r = rule("sequence within 1m { event a\n event b without x }");
    assert!(
        run(
            &r,
            &[("n1", 0.0, "A 1"), ("n1", 1.0, "X 1"), ("n1", 2.0, "B 1")]
        )
        .is_empty()
    );
    // an X before the first step or after the last one does not matter
    assert_eq!(
        run(
            &r,
            &[
                ("n1", 0.0, "X 1"),
                ("n1", 1.0, "A 1"),
                ("n1", 2.0, "B 1"),
                ("n1", 3.0, "X 2")
            ]
        )
        .len(),
        1
    );
    // an X on another node does not matter
    assert_eq!(
        run(
            &r,
            &[("n1", 0.0, "A 1"), ("n2", 1.0, "X 1"), ("n1", 2.0, "B 1")]
        )
        .len(),
        1
    );
}

#[test]
fn sequence_mixes_log_and_metric_steps() {
    let r = rule("sequence within 2m { event a\n metric cpu < 10 for 10s }");
    let mut m = MemMetrics::new();
    m.add(
        "n2",
        "cpu",
        (0..120).map(|i| (t(i as f64), if i < 30 { 80.0 } else { 2.0 })),
    );
    // the collapse (at 30 s) follows the event (at 20 s) on the same node
    assert_eq!(run_with(&r, &[("n2", 20.0, "A 1")], &m).len(), 1);
    // the event after the collapse started: order is enforced
    assert!(run_with(&r, &[("n2", 40.0, "A 1")], &m).is_empty());
    // the event on another node
    assert!(run_with(&r, &[("n1", 20.0, "A 1")], &m).is_empty());
}

// ------------------------------------------------------------ windows

#[test]
fn window_never_stretches_past_its_span() {
    let r = rule("count(a) >= 3 within 10s");
    assert!(
        run(
            &r,
            &[("n1", 0.0, "A 1"), ("n1", 6.0, "A 1"), ("n1", 12.0, "A 1")]
        )
        .is_empty()
    );
    let f = run(
        &r,
        &[("n1", 0.0, "A 1"), ("n1", 5.0, "A 1"), ("n1", 10.0, "A 1")],
    );
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].start, f[0].end), (t(0.0), t(10.0)));
}

#[test]
fn window_groups_by_node_and_field() {
    let r = rule("count(a) >= 2 within 10s by id");
    assert!(
        run(
            &r,
            &[("n1", 0.0, "A 1"), ("n1", 1.0, "A 2"), ("n2", 2.0, "A 1")]
        )
        .is_empty()
    );
    let f = run(
        &r,
        &[("n1", 0.0, "A 1"), ("n1", 1.0, "A 2"), ("n1", 2.0, "A 1")],
    );
    assert_eq!(f.len(), 1);
    let r = rule("distinct(id of a) >= 3 within 10s");
    assert!(
        run(
            &r,
            &[("n1", 0.0, "A 1"), ("n1", 1.0, "A 1"), ("n1", 2.0, "A 2")]
        )
        .is_empty()
    );
    assert_eq!(
        run(
            &r,
            &[("n1", 0.0, "A 1"), ("n1", 1.0, "A 3"), ("n1", 2.0, "A 2")]
        )
        .len(),
        1
    );
    let r = rule("sum(id of a) >= 10 within 10s");
    assert_eq!(run(&r, &[("n1", 0.0, "A 4"), ("n1", 1.0, "A 6")]).len(), 1);
    let r = rule("max(id of a) > 5 within 10s");
    assert!(run(&r, &[("n1", 0.0, "A 4"), ("n1", 1.0, "A 5")]).is_empty());
}

// ------------------------------------------------------------ absence

#[test]
fn not_followed_by_waits_for_the_span_to_close_inside_the_data() {
    let r = rule("event a not followed by b within 30s");
    // the data ends 10 s after A: undecided, so quiet
    assert!(run(&r, &[("n1", 0.0, "A 1"), ("n2", 10.0, "X 1")]).is_empty());
    // the data goes on past the span: decided
    assert_eq!(run(&r, &[("n1", 0.0, "A 1"), ("n2", 40.0, "X 1")]).len(), 1);
    // followed in time
    assert!(
        run(
            &r,
            &[("n1", 0.0, "A 1"), ("n1", 20.0, "B 1"), ("n2", 40.0, "X 1")]
        )
        .is_empty()
    );
    // followed too late
    assert_eq!(run(&r, &[("n1", 0.0, "A 1"), ("n1", 31.0, "B 1")]).len(), 1);
    // a B before the A does not count
    assert_eq!(
        run(
            &r,
            &[("n1", 0.0, "B 1"), ("n1", 1.0, "A 1"), ("n2", 40.0, "X 1")]
        )
        .len(),
        1
    );
    // metrics extend the data too
    let mut m = MemMetrics::new();
    m.extend_span(Span::new(t(0.0), t(100.0)));
    assert_eq!(run_with(&r, &[("n1", 0.0, "A 1")], &m).len(), 1);
}

#[test]
fn silence_is_decided_inside_the_data_only() {
    let r = rule("silence of any for 30s while peers active");
    // n1 goes quiet at 0; n2 logs until 20: the window has not closed
    assert!(
        run(
            &r,
            &[("n1", 0.0, "A 1"), ("n2", 10.0, "A 1"), ("n2", 20.0, "A 1")]
        )
        .is_empty()
    );
    // n2 logs until 40: n1 was silent 40 s while n2 was active
    let f = run(
        &r,
        &[("n1", 0.0, "A 1"), ("n2", 10.0, "A 1"), ("n2", 40.0, "A 1")],
    );
    assert_eq!(
        f.iter().filter(|f| f.node.as_deref() == Some("n1")).count(),
        1,
        "{f:?}"
    );
    // no silence before a node's first line
    let f = run(
        &r,
        &[("n2", 0.0, "A 1"), ("n2", 35.0, "A 1"), ("n1", 40.0, "A 1")],
    );
    assert!(f.iter().all(|f| f.node.as_deref() != Some("n1")), "{f:?}");
}

#[test]
fn gaps_need_peers_to_be_answering() {
    let r = rule("gap for 10s while peers active");
    let mut m = MemMetrics::new();
    m.add("n1", "up", (0..60).map(|i| (t(i as f64), 1.0)));
    m.add_gap("n2", Span::new(t(5.0), t(30.0)));
    let f = run_with(&r, &[], &m);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].node.as_deref(), Some("n2"));
    let mut m = MemMetrics::new();
    m.add_gap("n1", Span::new(t(5.0), t(30.0)));
    m.add_gap("n2", Span::new(t(5.0), t(30.0)));
    assert!(
        run_with(&r, &[], &m).is_empty(),
        "the collector itself stopped"
    );
}

// ------------------------------------------------------------ metrics

#[test]
fn missing_metric_data_is_unknown_never_false_or_true() {
    let r = rule("metric cpu > 90 for 10s");
    let mut m = MemMetrics::new();
    // 95 for 0..6, a hole 6..9, 95 for 9..16: no 10 s run without a hole
    m.add(
        "n1",
        "cpu",
        (0..6).chain(9..16).map(|i| (t(i as f64 * 1.0), 95.0)),
    );
    m.add("n1", "cpu", (16..40).map(|i| (t(i as f64), 10.0)));
    // step = 1 s, so a hole of 3+ s breaks the run
    assert!(run_with(&r, &[], &m).is_empty());
    // comparing with peers that have no data: unknown, quiet
    let r = rule("metric cpu > 2 * peers(cpu)");
    let mut m = MemMetrics::new();
    m.add("n1", "cpu", (0..10).map(|i| (t(i as f64), 99.0)));
    assert!(run_with(&r, &[], &m).is_empty());
    // a negated test on a missing metric is unknown too
    let r = rule("metric cpu > 0 and mem_rss < 100");
    let mut m = MemMetrics::new();
    m.add("n1", "cpu", (0..10).map(|i| (t(i as f64), 99.0)));
    assert!(run_with(&r, &[], &m).is_empty());
}

#[test]
fn metric_sustained_and_peers() {
    let r = rule("metric cpu > 90 and cpu > 2 * peers(cpu) for 10s");
    let mut m = MemMetrics::new();
    m.add("n1", "cpu", (0..30).map(|i| (t(i as f64), 20.0)));
    m.add("n2", "cpu", (0..30).map(|i| (t(i as f64), 95.0)));
    m.add("n3", "cpu", (0..30).map(|i| (t(i as f64), 25.0)));
    let f = run_with(&r, &[], &m);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].node.as_deref(), Some("n2"));
    assert_eq!((f[0].start, f[0].end), (t(0.0), t(29.0)));
    let r = rule("metric cpu > 1.5 * baseline(cpu, 10s) for 3s");
    let mut m = MemMetrics::new();
    m.add(
        "n1",
        "cpu",
        (0..40).map(|i| (t(i as f64), if i < 20 { 10.0 } else { 50.0 })),
    );
    let f = run_with(&r, &[], &m);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].start, t(20.0));
}

// ------------------------------------------------------------ event conditions

#[test]
fn event_conditions_are_three_valued() {
    let r = rule("event a where nope > 1");
    assert!(run(&r.replace("nope", "id"), &[("n1", 0.0, "A 1")]).is_empty());
    assert_eq!(
        run(&r.replace("nope", "id"), &[("n1", 0.0, "A 2")]).len(),
        1
    );
    let r = rule("event a | b where not (id == 1) and node in [\"n1\", \"n3\"] and message ~ /^A/");
    assert!(run(&r, &[("n1", 0.0, "A 1")]).is_empty());
    assert_eq!(run(&r, &[("n1", 0.0, "A 2")]).len(), 1);
    assert!(run(&r, &[("n2", 0.0, "A 2")]).is_empty());
    assert!(run(&r, &[("n1", 0.0, "B 2")]).is_empty());
    let r = rule("event a where level >= warn and kind != \"b\"");
    assert_eq!(run(&r, &[("n1", 0.0, "A 2")]).len(), 1);
}

// ------------------------------------------------------------ cascades, order

#[test]
fn cascade_needs_findings_on_other_nodes_after_the_origin() {
    let src = format!(
        "rule o {{ {RULE_HEAD} when event a }}\nrule p {{ {RULE_HEAD} when event b }}\nrule c {{ {RULE_HEAD} when cascade o then p on peers within 1m min 2 }}\n"
    );
    let only_c = |f: Vec<Finding>| {
        f.into_iter()
            .filter(|f| &*f.rule == "c")
            .collect::<Vec<_>>()
    };
    let f = only_c(run(
        &src,
        &[("n1", 0.0, "A 1"), ("n2", 5.0, "B 1"), ("n3", 6.0, "B 1")],
    ));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].node.as_deref(), Some("n1"));
    // one peer only
    assert!(
        only_c(run(
            &src,
            &[("n1", 0.0, "A 1"), ("n2", 5.0, "B 1"), ("n1", 6.0, "B 1")]
        ))
        .is_empty()
    );
    // the peers reacted before the origin
    assert!(
        only_c(run(
            &src,
            &[("n2", 0.0, "B 1"), ("n3", 0.5, "B 1"), ("n1", 1.0, "A 1")]
        ))
        .is_empty()
    );
}

#[test]
fn findings_are_ordered_by_start_node_rule() {
    let src =
        format!("rule z {{ {RULE_HEAD} when event a }}\nrule y {{ {RULE_HEAD} when event a }}\n");
    let f = run(
        &src,
        &[("n2", 0.0, "A 1"), ("n1", 0.0, "A 1"), ("n1", 5.0, "A 1")],
    );
    let keys: Vec<(String, String)> = f
        .iter()
        .map(|f| (f.node.as_deref().unwrap().to_string(), f.rule.to_string()))
        .collect();
    assert_eq!(
        keys,
        [("n1", "y"), ("n1", "z"), ("n2", "y"), ("n2", "z")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // hits of one rule on one node within the merge interval form one finding
    assert_eq!(f[0].evidence.len(), 2);
}

#[test]
fn messages_fill_placeholders() {
    let src = format!(
        "rule r {{ {RULE_HEAD} when count(a) >= 2 within 10s\n message \"{{node}}: {{count}} lines, first id {{id}}, last {{last.id}}, {{unknown}}\" }}\n"
    );
    let f = run(&src, &[("n1", 0.0, "A 1"), ("n1", 1.0, "A 7")]);
    assert_eq!(f[0].message, "n1: 2 lines, first id 1, last 7, {?unknown}");
}
