//! The hand matcher behind `Template::is_match` and `Template::matches`
//! answers (and captures) as the template's regex does: on every message of the bundled captures, on messages built
//! from each template with good and bad values, and on mutations of both.

use crate::common::*;
use coroner::classify::{Template, builtin_templates};
use std::collections::BTreeSet;

/// A small deterministic generator (no dependency, same cases every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.next() % v.len()]
    }
}

fn values(ty: &str) -> &'static [&'static str] {
    match ty {
        "int" => &[
            "0",
            "42",
            "-7",
            "12345678901234567890",
            "",
            "x",
            "4 2",
            "-",
            "1.5",
        ],
        "float" => &[
            "1.5", "-2", "1e9", "2.5E-3", "NaN", "+Inf", "-Inf", "+-Inf", "1.", ".5", "x", "1e", "",
        ],
        "duration" => &[
            "2.5s", "1m3.2s", "850ms", "0", "5us", "3h", "1.s", "s", "5n", "2m", "1h2m3s", "00", "",
        ],
        "word" => &["abc", "a b", "", "x\"y", "$MQTT.sess", "-"],
        "quoted" => &[
            "\"a\"",
            "\"a\\\"b\"",
            "\"unterminated",
            "x",
            "\"\"",
            "\"a\" \"b\"",
            "\"trailing\\\"",
        ],
        _ => &["", "a", "a - b", "some words here", " ", "x: y"],
    }
}

/// The pattern with each `{name:type}` replaced by a value of (mostly) that type.
fn instance(pattern: &str, rng: &mut Lcg) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        if rest[open..].starts_with("{{") {
            out.push_str(&rest[..open + 1]);
            rest = &rest[open + 2..];
            continue;
        }
        out.push_str(&rest[..open]);
        let close = open + rest[open..].find('}').unwrap();
        let inner = &rest[open + 1..close];
        let ty = inner.split_once(':').map_or("str", |(_, t)| t.trim());
        // Now and then a value of another type.
        let ty = if rng.next().is_multiple_of(5) {
            ["int", "float", "duration", "word", "quoted", "str"][rng.next() % 6]
        } else {
            ty
        };
        out.push_str(rng.pick(values(ty)));
        rest = &rest[close + 1..];
    }
    out.push_str(&rest.replace("}}", "}"));
    out
}

fn mutate(s: &str, rng: &mut Lcg) -> String {
    let mut b: Vec<char> = s.chars().collect();
    match rng.next() % 4 {
        0 if !b.is_empty() => {
            b.remove(rng.next() % b.len());
        }
        1 => {
            let at = rng.next() % (b.len() + 1);
            b.insert(
                at,
                [' ', '"', '\\', '0', 'x', '.', 'm', '-'][rng.next() % 8],
            );
        }
        2 if !b.is_empty() => {
            b.truncate(rng.next() % b.len());
        }
        _ => b.push(' '),
    }
    b.into_iter().collect()
}

fn check(templates: &[Template], msgs: &BTreeSet<String>) -> usize {
    let mut checked = 0;
    for m in msgs {
        for t in templates {
            assert_eq!(
                t.is_match(m),
                t.regex_is_match(m),
                "template {:?} on {m:?}",
                t.pattern
            );
            // Compared as text: NaN captures are equal there.
            assert_eq!(
                format!("{:?}", t.matches(m)),
                format!("{:?}", t.regex_matches(m)),
                "captures of {:?} on {m:?}",
                t.pattern
            );
            checked += 1;
        }
    }
    checked
}

#[test]
fn matcher_agrees_with_the_regex() {
    let templates = builtin_templates();
    let mut rng = Lcg(7);
    let mut msgs = BTreeSet::new();
    // Messages of the real captures, with and without their prefixes.
    for name in [
        "mqtt-storm",
        "node-freeze",
        "crash-restart",
        "slow-consumer",
        "store-full",
        "healthy",
    ] {
        let b = read_all(&[&sample(name)]);
        for e in &b.events {
            let (_, body) = coroner::engine::examples::strip_prefixes(&e.message);
            msgs.insert(body.to_string());
            msgs.insert(e.message.to_string());
        }
    }
    let real: Vec<String> = msgs.iter().cloned().collect();
    for m in real.iter().step_by(7) {
        msgs.insert(mutate(m, &mut rng));
    }
    // Built from each template, then mutated.
    for t in &templates {
        for _ in 0..40 {
            let m = instance(&t.pattern, &mut rng);
            msgs.insert(mutate(&m, &mut rng));
            msgs.insert(m);
        }
    }
    // Non-ASCII and line feeds go to the regex; they must agree too.
    msgs.insert("Readloop processing time: 2µs".into());
    msgs.insert("Healthcheck failed: \"a\nb\"".into());
    msgs.insert("Readloop processing time: ٣s".into());
    let n = check(&templates, &msgs);
    assert!(n > 1_000_000, "{n} checks");
}
