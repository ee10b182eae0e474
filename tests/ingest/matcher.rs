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

/// The classifier's answer is, by definition, the first template in
/// declaration order that matches (`find`), or whose captures all convert
/// (`classify`); its prefilters (the first-bytes dispatch over template
/// prefixes, the capture-first templates kept per prefix, the automaton over
/// literals) only skip templates that cannot match. Checked against that
/// definition, template by template, on the real messages, each template's
/// generated and mutated examples, and template sets where capture-first
/// templates come before the prefix templates whose messages they also match.
#[test]
fn classifier_answers_the_first_matching_template() {
    use coroner::classify::Classifier;
    let mut rng = Lcg(11);
    let builtin = coroner::lang::RuleSet::builtin()
        .classifier()
        .templates()
        .to_vec();
    let t = |k: &str, p: &str| Template::new(k, p).unwrap();
    // Capture-first templates ahead of prefix templates they overlap, a
    // prefix that is a prefix of others, non-ASCII text, a template with
    // no literal at all.
    let mut tricky = vec![
        t(
            "a",
            "{who:word} cluster new consumer leader for '{rest:rest}",
        ),
        t("b", "{n:int} append entries pending"),
        t("c", "{q:str} limit reached, dropping {n:int} requests"),
        t("d", "{_} connection closed: {reason:rest}"),
        t("e", "{s:quoted} is {what:word}"),
        t("f", "{d:duration} later"),
        t("g", "{x:float}% used"),
    ];
    tricky.extend(builtin.iter().take(150).cloned());
    tricky.extend([
        t("h", "JetStream"),
        t("i", "JetStream {rest:rest}"),
        t("j", "Jet{x:word} cluster {_}"),
        t("k", "é{x:int} ü"),
        t("l", "{everything:rest}"),
    ]);
    tricky.extend(builtin.iter().skip(150).cloned());
    let sets = [builtin, tricky];
    let mut msgs = BTreeSet::new();
    for name in ["mqtt-storm", "node-freeze", "crash-restart", "healthy"] {
        let b = read_all(&[&sample(name)]);
        for e in b.events.iter().step_by(3) {
            let (_, body) = coroner::engine::examples::strip_prefixes(&e.message);
            msgs.insert(body.to_string());
        }
    }
    for set in &sets {
        for tpl in set {
            msgs.insert(tpl.sample_message());
            for _ in 0..12 {
                let m = instance(&tpl.pattern, &mut rng);
                msgs.insert(mutate(&m, &mut rng));
                msgs.insert(format!("x{m}"));
                msgs.insert(m);
            }
        }
    }
    for m in [
        "",
        " ",
        "J",
        "Jet",
        "JetStream",
        "JetStream ",
        "é12 ü",
        "é",
        "12 append entries pending",
        "\"a b\" is here",
        "1.5% used",
        "2m later",
        "a b limit reached, dropping 3 requests",
    ] {
        msgs.insert(m.to_string());
    }
    let mut checked = 0;
    for set in &sets {
        let c = Classifier::new(set.clone());
        for m in &msgs {
            let want = set.iter().position(|t| t.is_match(m));
            assert_eq!(c.find(m), want, "find {m:?}");
            let want = set.iter().position(|t| t.matches(m).is_some());
            let got = c.classify(m);
            assert_eq!(got.template, want, "classify {m:?}");
            if let Some(i) = want {
                assert_eq!(
                    format!("{:?}", got.fields),
                    format!("{:?}", set[i].matches(m).unwrap())
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 20_000, "{checked} messages");
}
