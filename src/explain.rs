//! `coroner explain`: one log line → which nats-server message it is, what it
//! means, what usually causes it, how much it weighs, what to check next (the
//! advice and collect lines of the rules that read it) and the releases that
//! log it.
//!
//! The line may carry the nats-server header or not, and any of the prefixes
//! the log reader understands (kubectl, compose, syslog...); the connection
//! (`cid:5`) and RAFT (`RAFT [node - group]`) prefixes are taken off as
//! ingestion does before templates are matched.

use crate::classify::Template;
use crate::lang::RuleSet;
use crate::lang::ir::{Detect, Rule, Sel};
use crate::model::{Fields, Level, Meaning, Release, Severity};
use crate::parse::log::{LogOptions, parse_line};
use std::sync::Arc;

/// A rule that reads the message's kind: what it concludes and what to check.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleHint {
    pub id: Arc<str>,
    pub title: Arc<str>,
    pub severity: Severity,
    pub category: Arc<str>,
    pub advice: Option<Arc<str>>,
    pub collect: Vec<Arc<str>>,
    /// For known-defect rules: the release that fixes the defect.
    pub fixed: Option<Release>,
}

/// What `explain` found for a line whose message matched a template.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// The message body the templates were matched against.
    pub body: String,
    /// The level of the header, when the line had one.
    pub level: Option<Level>,
    /// The connection or RAFT prefix that was taken off, if any.
    pub prefix: Option<String>,
    pub kind: Arc<str>,
    pub catalog: Option<Arc<str>>,
    pub pattern: Arc<str>,
    pub pack: Arc<str>,
    /// The captured fields.
    pub fields: Fields,
    pub meaning: Option<Arc<Meaning>>,
    /// Rules that select this kind, in rule order.
    pub rules: Vec<RuleHint>,
}

/// The answer for one line.
#[derive(Clone, Debug, PartialEq)]
pub enum Explained {
    Match(Box<Explanation>),
    /// No template matched; the closest templates (kind, pattern), best first.
    NoMatch {
        body: String,
        level: Option<Level>,
        nearest: Vec<(Arc<str>, Arc<str>)>,
    },
}

/// Takes off what surrounds the message: the log header (with any wrapper
/// the log reader knows), else a bare `[LVL] ` marker anywhere in the line;
/// then paste borders; then the connection or RAFT prefix.
/// Returns (level, prefix taken off, body).
pub fn message_of(line: &str) -> (Option<Level>, Option<String>, String) {
    let line = line.trim_end_matches(['\r', '\n']);
    let (level, msg) = match parse_line(line, &LogOptions::default()) {
        Some(rec) => (Some(rec.level), rec.msg.into_owned()),
        None => bare_level(line),
    };
    // paste borders (k9s, less) and trailing blanks
    let msg = msg
        .trim_end()
        .trim_end_matches(['│', '|', '┃'])
        .trim_end()
        .to_string();
    let body = crate::parse::log::nats::message_body(&msg);
    let prefix = (body.len() < msg.len()).then(|| {
        msg[..msg.len() - body.len()]
            .trim_end_matches([' ', '-'])
            .to_string()
    });
    (level, prefix, body.to_string())
}

/// A line without a header the reader knows: the text after the first
/// `[INF] `-style marker, or the whole line.
fn bare_level(line: &str) -> (Option<Level>, String) {
    for tag in ["INF", "WRN", "ERR", "FTL", "DBG", "TRC"] {
        let marker = format!("[{tag}] ");
        if let Some(i) = line.find(&marker) {
            return (Level::parse(tag), line[i + marker.len()..].to_string());
        }
        let bare = format!("[{tag}]");
        if line.trim_end().ends_with(&bare) {
            return (Level::parse(tag), String::new());
        }
    }
    let t = line.trim_start_matches(['│', '|', '┃', '-', '*', '•', ' ', '\t']);
    (None, t.to_string())
}

/// The text after a clock time (`hh:mm:ss[.frac]`) found in the first 40
/// bytes of `s`, if any.
fn after_leading_time(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let limit = b.len().min(40);
    (0..limit).find_map(|i| {
        let w = b.get(i..i + 8)?;
        let digits = [0, 1, 3, 4, 6, 7].iter().all(|&k| w[k].is_ascii_digit());
        if !(digits && w[2] == b':' && w[5] == b':') {
            return None;
        }
        let mut j = i + 8;
        if b.get(j) == Some(&b'.') || b.get(j) == Some(&b',') {
            j += 1;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
        }
        // an optional zone (`Z`, `+01:00`) or `]`, then blanks
        while b.get(j).is_some_and(|c| !c.is_ascii_whitespace()) && j < i + 20 {
            j += 1;
        }
        let rest = s.get(j..)?.trim_start();
        (!rest.is_empty()).then_some(rest)
    })
}

/// Explains one line with the templates and rules of `rules`.
pub fn explain_line(rules: &RuleSet, line: &str) -> Explained {
    let (level, mut prefix, mut body) = message_of(line);
    let classifier = rules.classifier_ref();
    let mut c = classifier.classify(&body);
    if c.template.is_none()
        && let Some(rest) = after_leading_time(&body)
    {
        // a log shipper's own timestamp before a bare message
        // (`Jan 10, 2025  21:36:41.602 Internal subscription on ...`)
        let (_, p2, b2) = message_of(rest);
        let c2 = classifier.classify(&b2);
        if c2.template.is_some() {
            (prefix, body, c) = (p2, b2, c2);
        }
    }
    let Some(i) = c.template else {
        return Explained::NoMatch {
            nearest: nearest(classifier.templates(), &body, 3),
            body,
            level,
        };
    };
    let info = &rules.templates()[i];
    let meaning = info.meaning.clone().or_else(|| {
        classifier
            .kind_meaning(&c.kind)
            .map(|m| Arc::new(m.clone()))
    });
    Explained::Match(Box::new(Explanation {
        body,
        level,
        prefix,
        kind: c.kind.clone(),
        catalog: info.catalog.clone(),
        pattern: info.pattern.clone(),
        pack: info.pack.clone(),
        fields: c.fields,
        meaning,
        rules: rules_reading(rules, &c.kind),
    }))
}

/// The rules whose detection selects `kind` (not `any`).
pub fn rules_reading(rules: &RuleSet, kind: &str) -> Vec<RuleHint> {
    rules
        .rules()
        .iter()
        .filter(|r| reads_kind(&r.detect, kind))
        .map(hint)
        .collect()
}

fn hint(r: &Rule) -> RuleHint {
    RuleHint {
        id: r.id.clone(),
        title: r.title.clone(),
        severity: r.severity,
        category: r.category.clone(),
        advice: r.advice.clone(),
        collect: r.collect.clone(),
        fixed: r.fixed,
    }
}

fn reads_kind(d: &Detect, kind: &str) -> bool {
    let sel = |s: &Sel| {
        s.kinds
            .as_ref()
            .is_some_and(|k| k.iter().any(|x| &**x == kind))
    };
    match d {
        Detect::Event { sel: s, .. } | Detect::Window { sel: s, .. } => sel(s),
        Detect::NotFollowed { a, b, .. } => sel(a) || sel(b),
        Detect::Sequence { steps, .. } => steps
            .iter()
            .any(|st| reads_kind(&st.detect, kind) || st.without.as_ref().is_some_and(sel)),
        Detect::Silence { sel: Some(s), .. } => sel(s),
        _ => false,
    }
}

/// The templates whose literal words best cover the message's words
/// (a did-you-mean; cheap: word sets, no regex).
fn nearest(templates: &[Template], body: &str, n: usize) -> Vec<(Arc<str>, Arc<str>)> {
    fn words(s: &str) -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 3)
            .map(str::to_ascii_lowercase)
            .collect()
    }
    let mine = words(body);
    if mine.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(f64, usize)> = templates
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            // literal words only: `<capture>` names are not text of the message
            let lit: String = t
                .display
                .split('<')
                .enumerate()
                .map(|(k, part)| {
                    if k == 0 {
                        part
                    } else {
                        part.split_once('>').map_or("", |x| x.1)
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            let theirs = words(&lit);
            if theirs.is_empty() {
                return None;
            }
            let common = theirs.iter().filter(|w| mine.contains(w)).count();
            let score = common as f64 / (theirs.len().max(mine.len()) as f64);
            (common >= 2 && score >= 0.3).then_some((score, i))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut out: Vec<(Arc<str>, Arc<str>)> = Vec::new();
    for (_, i) in scored {
        let t = &templates[i];
        if out.iter().any(|(k, _)| *k == t.kind) {
            continue;
        }
        out.push((t.kind.clone(), t.pattern.as_str().into()));
        if out.len() == n {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_prefix_and_borders_are_taken_off() {
        let (l, p, b) = message_of(
            "│ [1] 2024/03/09 02:50:26.280253 [WRN] 10.0.0.1:4222 - cid:5 - Readloop processing time: 2.5s │",
        );
        assert_eq!(l, Some(Level::Warn));
        assert_eq!(p.as_deref(), Some("10.0.0.1:4222 - cid:5"));
        assert_eq!(b, "Readloop processing time: 2.5s");
        let (l, p, b) = message_of("JetStream out of File resources, will be DISABLED");
        assert_eq!((l, p), (None, None));
        assert_eq!(b, "JetStream out of File resources, will be DISABLED");
    }

    #[test]
    fn every_builtin_template_is_explained_by_its_own_sample() {
        let rules = RuleSet::builtin();
        for t in rules.templates() {
            let line = t.compiled.sample_message();
            match explain_line(
                &rules,
                &format!("[1] 2024/01/01 00:00:00.000000 [WRN] {line}"),
            ) {
                Explained::Match(e) => assert!(e.meaning.is_some(), "{}: no meaning", t.kind),
                Explained::NoMatch { .. } => {
                    panic!("{} does not match its sample {line:?}", t.kind)
                }
            }
        }
    }
}
