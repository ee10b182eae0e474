//! Strings chosen by whoever could connect a client (client names) or
//! configure a server (server names) go through every renderer; none
//! survives as HTML/SVG markup, a Markdown link or table break, or a
//! terminal control sequence.

use super::*;
use coroner::render::Style;

const PAYLOADS: &[&str] = &[
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "[x](javascript:alert(1)) | --- |",
    "\x1b[31mred\x1b[0m\x1b]0;title\x07",
    "</svg><svg onload=alert(1)>",
    "\u{202e}gnp.exe",
];

/// A server name carrying every payload at once.
const EVIL_NAME: &str =
    "<script>n</script>\"><img src=x onerror=alert(2)>[n](javascript:alert(2))|x\x1b[32m";

/// Go's `%q` quoting of a client name, as nats-server writes it (but raw
/// control bytes are kept, as a forged log would have them).
fn go_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn hostile_logs(dir: &Path) {
    let mut evil = String::new();
    evil.push_str("[1] 2026/11/24 19:00:00.000001 [INF] Starting nats-server\n");
    evil.push_str(&format!(
        "[1] 2026/11/24 19:00:00.000002 [INF]   Name:     {EVIL_NAME}\n"
    ));
    for (i, p) in PAYLOADS.iter().enumerate() {
        for k in 0..3 {
            evil.push_str(&format!(
                "[1] 2026/11/24 19:05:{:02}.000000 [INF] 127.0.0.1:{} - cid:{} - {} - Slow Consumer Detected: MaxPending of 67108864 Exceeded\n",
                i * 6 + k,
                5000 + i,
                20 + i,
                go_quote(p)
            ));
        }
        evil.push_str(&format!(
            "[1] 2026/11/24 19:06:{:02}.000000 [ERR] {} - rid:{} - Error {}\n",
            i, "10.0.0.9:6222", i, p
        ));
    }
    write(dir, "evil/nats.log", evil.as_bytes());
    write(dir, "n2/nats.log", nats_log("n2", 5).as_bytes());
    write(dir, "n3/nats.log", nats_log("n3", 5).as_bytes());
}

fn no_terminal_controls(what: &str, s: &str) {
    assert!(
        !s.chars()
            .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c)),
        "{what}: a control character survived:\n{s}"
    );
}

fn no_markup(what: &str, s: &str) {
    let l = s.to_ascii_lowercase();
    for bad in [
        "<script",
        "<img",
        "<svg onload",
        "onerror=alert(1)>",
        "href=\"javascript",
    ] {
        assert!(!l.contains(bad), "{what}: `{bad}` survived");
    }
    assert!(!s.contains('\x1b'), "{what}: ESC survived");
}

/// Unescaped `|` in a Markdown line.
fn pipes(line: &str) -> usize {
    let b = line.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
        .count()
}

fn check_markdown(md: &str) {
    no_markup("markdown", md);
    no_terminal_controls("markdown", md);
    assert!(!md.contains("](javascript:"), "markdown link survived");
    // Every row of a table has the header's number of cells.
    let mut header: Option<usize> = None;
    for l in md.lines() {
        if l.starts_with('|') {
            let n = pipes(l);
            match header {
                None => header = Some(n),
                Some(h) => assert_eq!(n, h, "table row broken: {l}"),
            }
        } else {
            header = None;
        }
    }
}

#[test]
fn hostile_names_are_escaped_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    hostile_logs(dir.path());
    let a = analyze_with(&[dir.path()], &IngestOptions::default());
    assert_balanced_everywhere(&a);
    // The payloads really reached the analysis: the server name, and the
    // client names as fields where every field is kept (what `coroner
    // events` reads; `analyze` keeps only the fields rules read, and the
    // client names reach its reports in the evidence lines).
    assert!(a.bundle.nodes.keys().any(|n| n.contains("<script>n")));
    let all = read_all(&[dir.path()]);
    let clients: Vec<String> = all
        .events
        .iter()
        .filter_map(|e| e.fields.iter().find(|(k, _)| &**k == "client"))
        .map(|(_, v)| format!("{v:?}"))
        .collect();
    assert!(
        clients.iter().any(|c| c.contains("<script>alert(1)")),
        "{clients:?}"
    );
    assert!(
        a.findings.iter().any(|f| f.message.contains("<script>")),
        "no finding carries a payload: {:?}",
        a.findings.iter().map(|f| &f.message).collect::<Vec<_>>()
    );

    // Terminal text, without colour: no control character at all.
    let mut text = Vec::new();
    coroner::render::report::text::write(&mut text, &a, Style { color: false }).unwrap();
    let text = String::from_utf8(text).unwrap();
    no_terminal_controls("text report", &text);
    assert!(
        text.contains("\\u{1b}["),
        "payload not shown escaped:\n{text}"
    );

    // With colour, the only escapes are ours: the payload's are shown as text.
    let mut color = Vec::new();
    coroner::render::report::text::write(&mut color, &a, Style { color: true }).unwrap();
    let color = String::from_utf8(color).unwrap();
    assert!(!color.contains("\x1b[31mred") && !color.contains("\x1b]0;"));

    // Markdown.
    let mut md = Vec::new();
    coroner::render::report::markdown::write(&mut md, &a, Some("chart (1).png")).unwrap();
    let md = String::from_utf8(md).unwrap();
    check_markdown(&md);
    assert!(md.contains("&lt;script&gt;"), "payload not in the markdown");

    // HTML with the chart SVG inside.
    let root = a
        .verdict
        .root_cause
        .as_ref()
        .map(|r| (r.at, format!("root cause: {}", r.summary)));
    let input = coroner::render::chart::chart_input_from(
        &a.bundle,
        &a.metrics,
        &a.findings,
        a.verdict.failing_node.clone(),
        root,
    );
    let svg = coroner::render::chart::render_svg(&input, 1600, 900).unwrap();
    no_markup("svg", &svg);
    no_terminal_controls("svg", &svg.replace('\t', " "));
    let mut html = Vec::new();
    coroner::render::report::html::write(&mut html, &a, &[svg]).unwrap();
    let html = String::from_utf8(html).unwrap();
    no_markup("html", &html);
    no_terminal_controls("html", &html.replace('\t', " "));
    assert!(
        html.contains("&lt;script&gt;alert(1)"),
        "payload not in the html"
    );

    // JSON: a string is a string; control characters are \u escapes.
    let mut json = Vec::new();
    coroner::render::report::json::write(&mut json, &a).unwrap();
    assert!(!json.contains(&0x1b));
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert!(
        v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["name"] == EVIL_NAME)
    );

    // `events`: text and JSON lines, with every field.
    let events: Vec<&coroner::model::Event> = all.events.iter().collect();
    let mut ev = Vec::new();
    coroner::render::events::write_text(&mut ev, &events, Style { color: false }).unwrap();
    let ev = String::from_utf8(ev).unwrap();
    no_terminal_controls("events text", &ev);
    let mut jl = Vec::new();
    coroner::render::events::write_jsonl(&mut jl, &events).unwrap();
    assert!(!jl.contains(&0x1b));
    for l in jl.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        serde_json::from_slice::<serde_json::Value>(l).unwrap();
    }

    // `stats` text.
    let st = coroner::render::stats::build(&a.bundle, 20);
    let mut out = Vec::new();
    coroner::render::stats::write_text(&mut out, &st, Style { color: false }).unwrap();
    no_terminal_controls("stats text", &String::from_utf8(out).unwrap());
}
