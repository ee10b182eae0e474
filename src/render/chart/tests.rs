use super::*;
use crate::model::{Level, Location, Point, Severity};
use crate::parse::metric::Sample;
use std::sync::Arc;

const SEC: i64 = NANOS_PER_SEC;
const T0: i64 = 1_764_011_000 * SEC;

fn ts(s: i64) -> Timestamp {
    Timestamp(T0 + s * SEC)
}

fn event(s: i64, node: &str, level: Level, msg: &str) -> Event {
    Event {
        ts: Some(ts(s)),
        node: node.into(),
        level,
        kind: "unknown".into(),
        fields: Vec::new(),
        message: msg.into(),
        template: None,
        loc: Location {
            file: "x.log".into(),
            line: s as u64 + 1,
        },
        continuation: 0,
        repeat: 1,
        repeat_span: 0,
        absorbed: None,
        snapshot: false,
    }
}

fn finding(node: Option<&str>, s: i64, e: i64, sev: Severity, title: &str) -> Finding {
    Finding {
        rule: "test-rule".into(),
        title: title.into(),
        severity: sev,
        category: "cpu-starvation".into(),
        node: node.map(Arc::from),
        start: ts(s),
        end: ts(e),
        message: "message \"&<> with </text><script>alert(1)</script>".into(),
        evidence: Vec::new(),
        explains: Vec::new(),
        advice: None,
        collect: Vec::new(),
    }
}

fn sample(node: &str, metric: &str, s: i64, v: f64) -> Sample {
    Sample::new(
        ts(s),
        Some(node.into()),
        metric.into(),
        v,
        Vec::new().into(),
    )
}

/// Three nodes (one called `<script>`), 120 s of cpu/mem/connections, a gap,
/// warnings and errors, findings, a restart, bands, a root cause.
fn fixture() -> (Vec<Event>, Vec<Finding>, MetricSet) {
    let nodes = ["n1", "n2", "<script>"];
    let mut samples = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        for s in 0..120 {
            if *n == "n2" && (60..75).contains(&s) {
                continue;
            }
            let cpu = if *n == "n2" && s > 40 {
                95.0
            } else {
                10.0 + i as f64
            };
            samples.push(sample(n, "cpu", s, cpu));
            samples.push(sample(
                n,
                "mem_rss",
                s,
                (50 + s + i as i64 * 10) as f64 * 1e6,
            ));
            samples.push(sample(
                n,
                "connections",
                s,
                (100 + (s % 7) * i as i64) as f64,
            ));
        }
    }
    let metrics = MetricSet::build(samples);
    let mut events = Vec::new();
    for s in 40..90 {
        events.push(event(s, "n2", Level::Warn, "healthcheck failed"));
        if s % 5 == 0 {
            events.push(event(s, "n2", Level::Error, "route error"));
        }
    }
    events.push(event(70, "<script>", Level::Error, "<b>boom</b>"));
    events.push(event(5, "n1", Level::Info, "hello"));
    events.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    let findings = vec![
        finding(
            Some("n2"),
            41,
            90,
            Severity::Critical,
            "cpu-starvation \"&<>",
        ),
        finding(
            Some("<script>"),
            70,
            72,
            Severity::Medium,
            "<script>alert(2)</script>",
        ),
        finding(None, 62, 80, Severity::High, "raft-quorum-loss"),
    ];
    (events, findings, metrics)
}

fn input<'a>(
    events: &'a [Event],
    findings: &'a [Finding],
    metrics: &'a MetricSet,
) -> ChartInput<'a> {
    ChartInput {
        activity: None,
        title: "test <script>alert('t')</script> & co".into(),
        span: Span::new(ts(0), ts(119)),
        nodes: vec!["n1".into(), "n2".into(), "<script>".into()],
        events,
        findings,
        metrics,
        panels: default_panels(),
        failing_node: Some("n2".into()),
        root_cause: Some((ts(41), "root cause: cpu-starvation on n2 \"&<>".into())),
        restarts: vec![("n2".into(), ts(75)), ("<script>".into(), ts(100))],
        bands: vec![
            (
                Some("n2".into()),
                Span::new(ts(60), ts(75)),
                "unresponsive".into(),
            ),
            (
                Some("n1".into()),
                Span::new(ts(62), ts(70)),
                "no meta leader".into(),
            ),
            (
                None,
                Span::new(ts(62), ts(70)),
                "<no leader & \"x\">".into(),
            ),
        ],
    }
}

#[test]
fn png_is_png_of_the_requested_size() {
    let (ev, fi, me) = fixture();
    let png = render_png(&input(&ev, &fi, &me), 1600, 900).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: width and height, big endian, at bytes 16..24.
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 1600);
    assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 900);
}

#[test]
fn svg_embeds_the_font_and_escapes_log_text() {
    let (ev, fi, me) = fixture();
    let svg = render_svg(&input(&ev, &fi, &me), 1600, 900).unwrap();
    assert!(svg.starts_with("<svg"));
    assert!(
        svg.contains("@font-face{font-family:'coroner-sans';src:url(data:font/ttf;base64,AAEAAA")
    );
    assert!(svg.contains("font-family=\"coroner-sans"));
    assert!(
        !svg.to_ascii_lowercase().contains("<script"),
        "unescaped <script> in the SVG"
    );
    assert!(
        svg.contains("&lt;script&gt;"),
        "the node name is drawn, escaped"
    );
    assert!(
        svg.contains("&quot;&amp;&lt;&gt;"),
        "quotes, ampersands and brackets escaped"
    );
    // Well-formed enough: every text element closed.
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
}

#[test]
fn control_characters_never_reach_the_svg() {
    let (ev, fi, me) = fixture();
    let mut inp = input(&ev, &fi, &me);
    inp.nodes.push("n\u{1b}[31m4\u{0}".into());
    inp.title = "bell\u{7} title".into();
    let svg = render_svg(&inp, 1600, 900).unwrap();
    assert!(!svg.chars().any(|c| c.is_control() && c != '\n'));
}

#[test]
fn empty_input_does_not_panic() {
    let me = MetricSet::empty();
    let empty = ChartInput {
        activity: None,
        title: String::new(),
        span: Span::new(ts(0), ts(0)),
        nodes: Vec::new(),
        events: &[],
        findings: &[],
        metrics: &me,
        panels: default_panels(),
        failing_node: None,
        root_cause: None,
        restarts: Vec::new(),
        bands: Vec::new(),
    };
    render_png(&empty, 1600, 900).unwrap();
    render_svg(&empty, 1600, 900).unwrap();
    // Nodes without any data, a root cause outside the span, a tiny image.
    let mut some = empty.clone();
    some.nodes = vec!["n1".into(), "n2".into()];
    some.failing_node = Some("n9".into());
    some.root_cause = Some((ts(-100), "before".into()));
    some.restarts = vec![("n7".into(), ts(5))];
    render_png(&some, 200, 120).unwrap();
    render_svg(&some, 200, 120).unwrap();
    assert!(render_png(&some, 0, 900).is_err());
}

#[test]
fn same_input_same_bytes() {
    let (ev, fi, me) = fixture();
    let inp = input(&ev, &fi, &me);
    assert_eq!(
        render_png(&inp, 1600, 900).unwrap(),
        render_png(&inp, 1600, 900).unwrap()
    );
    assert_eq!(
        render_svg(&inp, 1600, 900).unwrap(),
        render_svg(&inp, 1600, 900).unwrap()
    );
}

#[test]
fn panels_fall_back_and_skip_missing_metrics() {
    let (ev, fi, me) = fixture();
    let mut inp = input(&ev, &fi, &me);
    inp.panels = vec![
        "nope|cpu".into(),
        "js_api_pending".into(),
        "mem_rss".into(),
        "cpu".into(),
    ];
    assert_eq!(layout::choose_panels_for_test(&inp), vec!["cpu", "mem_rss"]);
}

#[test]
fn stretches_of_zero_and_gaps() {
    let s = Series::new(
        "n1".into(),
        "meta_has_leader".into(),
        [(0, 1.0), (1, 0.0), (2, 0.0), (3, 1.0), (4, 0.0), (10, 0.0)]
            .iter()
            .map(|&(t, v)| Point {
                ts: ts(t),
                value: v,
            })
            .collect(),
    );
    let got = stretches(&s, is_zero);
    assert_eq!(
        got,
        vec![
            Span::new(ts(1), ts(3)),
            Span::new(ts(4), ts(5)),
            Span::new(ts(10), ts(11)),
        ]
    );
}

#[test]
fn natural_node_order() {
    let mut v = vec!["n10", "n2", "n1", "a"];
    v.sort_by(|a, b| natural_cmp(a, b));
    assert_eq!(v, vec!["a", "n1", "n2", "n10"]);
}

#[test]
fn base64_matches_rfc4648() {
    for (i, o) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foobar", "Zm9vYmFy"),
    ] {
        let mut s = String::new();
        encode::base64_into(i.as_bytes(), &mut s);
        assert_eq!(s, o);
    }
}
