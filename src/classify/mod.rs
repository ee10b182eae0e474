//! Message → event kind + typed fields, using the templates declared in rule
//! packs.
//!
//! Architecture invariant: matching never runs every template's regex over
//! every message. An Aho-Corasick automaton over each template's longest
//! literal picks the few candidates; only those regexes run, in declaration
//! order (the first match wins). Cost stays nearly flat as templates grow.

mod matcher;
mod normalize;
mod template;

pub use normalize::normalize;
pub use template::{CaptureType, PatternError, Template, parse_go_duration, unquote_go};

use crate::model::Fields;
use aho_corasick::{AhoCorasick, MatchKind, StartKind};

thread_local! {
    /// Reused candidate buffer: no allocation per message.
    static CANDIDATES: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}
use std::sync::Arc;

/// Kind given to messages that match no template.
pub const UNKNOWN_KIND: &str = crate::vocab::kind::UNKNOWN;

/// The compiled set of templates.
#[derive(Clone, Debug)]
pub struct Classifier {
    templates: Vec<Template>,
    /// Anchored automaton over the literal prefixes of templates that start
    /// with text: it reads only as far as the longest prefix that matches.
    prefix_ac: Option<AhoCorasick>,
    prefix_templates: Vec<Vec<u32>>,
    /// Unanchored automaton over the longest literal of templates that start
    /// with a capture; `anchor_templates[i]` = templates using anchor i.
    ac: Option<AhoCorasick>,
    anchor_templates: Vec<Vec<u32>>,
    /// Templates without any literal: always candidates.
    unanchored: Vec<u32>,
    unknown: Arc<str>,
}

/// The outcome of classifying one message.
#[derive(Clone, Debug, PartialEq)]
pub struct Classified {
    pub kind: Arc<str>,
    pub fields: Fields,
    /// Index of the template that matched, if any.
    pub template: Option<usize>,
}

impl Classifier {
    pub fn new(templates: Vec<Template>) -> Classifier {
        fn group(keys: impl Iterator<Item = (String, u32)>) -> (Vec<String>, Vec<Vec<u32>>) {
            let mut lits: Vec<String> = Vec::new();
            let mut members: Vec<Vec<u32>> = Vec::new();
            let mut index = std::collections::HashMap::new();
            for (k, i) in keys {
                let slot = *index.entry(k.clone()).or_insert_with(|| {
                    lits.push(k);
                    members.push(Vec::new());
                    lits.len() - 1
                });
                members[slot].push(i);
            }
            (lits, members)
        }
        let build = |lits: &[String], anchored: bool| -> Option<AhoCorasick> {
            if lits.is_empty() {
                return None;
            }
            let b = |kind| {
                AhoCorasick::builder()
                    // Prefixes: the longest one that matches at the start;
                    // anchors: every occurrence (overlapping).
                    .match_kind(if anchored {
                        MatchKind::LeftmostLongest
                    } else {
                        MatchKind::Standard
                    })
                    .start_kind(if anchored {
                        StartKind::Anchored
                    } else {
                        StartKind::Unanchored
                    })
                    .kind(kind)
                    .build(lits)
            };
            // A DFA (one table lookup per byte, whatever the number of
            // templates) unless it would be too large; then whatever fits.
            Some(
                b(Some(aho_corasick::AhoCorasickKind::DFA))
                    .or_else(|_| b(None))
                    .expect("literals always build"),
            )
        };
        let (prefixes, own) = group(
            templates
                .iter()
                .enumerate()
                .filter(|(_, t)| !t.prefix.is_empty())
                .map(|(i, t)| (t.prefix.clone(), i as u32)),
        );
        // The longest matching prefix stands for every shorter prefix of it:
        // its candidate list is the union of theirs.
        let prefix_templates: Vec<Vec<u32>> = prefixes
            .iter()
            .map(|p| {
                let mut v: Vec<u32> = prefixes
                    .iter()
                    .zip(&own)
                    .filter(|(q, _)| p.starts_with(q.as_str()))
                    .flat_map(|(_, m)| m.iter().copied())
                    .collect();
                v.sort_unstable();
                v
            })
            .collect();
        let (anchors, anchor_templates) = group(
            templates
                .iter()
                .enumerate()
                .filter(|(_, t)| t.prefix.is_empty() && !t.anchor.is_empty())
                .map(|(i, t)| (t.anchor.clone(), i as u32)),
        );
        let unanchored = templates
            .iter()
            .enumerate()
            .filter(|(_, t)| t.prefix.is_empty() && t.anchor.is_empty())
            .map(|(i, _)| i as u32)
            .collect();
        Classifier {
            prefix_ac: build(&prefixes, true),
            prefix_templates,
            ac: build(&anchors, false),
            anchor_templates,
            templates,
            unanchored,
            unknown: UNKNOWN_KIND.into(),
        }
    }

    /// Candidate templates for `msg`, in declaration order.
    fn candidates(&self, msg: &str, out: &mut Vec<u32>) {
        out.clear();
        out.extend_from_slice(&self.unanchored);
        if let Some(ac) = &self.prefix_ac {
            let input = aho_corasick::Input::new(msg).anchored(aho_corasick::Anchored::Yes);
            if let Some(m) = ac.find(input) {
                out.extend_from_slice(&self.prefix_templates[m.pattern().as_usize()]);
            }
        }
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(msg) {
                out.extend_from_slice(&self.anchor_templates[m.pattern().as_usize()]);
            }
        }
        if out.len() > 1 {
            out.sort_unstable();
            out.dedup();
        }
    }

    pub fn templates(&self) -> &[Template] {
        &self.templates
    }

    pub fn len(&self) -> usize {
        self.templates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// The index of the first template matching `msg`, without captures
    /// (the fast path when only counts are needed).
    pub fn find(&self, msg: &str) -> Option<usize> {
        CANDIDATES.with(|c| {
            let mut c = c.borrow_mut();
            self.candidates(msg, &mut c);
            c.iter()
                .map(|&i| i as usize)
                .find(|&i| self.templates[i].is_match(msg))
        })
    }

    /// Classifies `msg` (the message body with any connection or RAFT prefix removed).
    pub fn classify(&self, msg: &str) -> Classified {
        let mut cands = Vec::new();
        self.candidates(msg, &mut cands);
        for &i in &cands {
            let t = &self.templates[i as usize];
            if let Some(fields) = t.matches(msg) {
                return Classified {
                    kind: t.kind.clone(),
                    fields,
                    template: Some(i as usize),
                };
            }
        }
        Classified {
            kind: self.unknown.clone(),
            fields: Vec::new(),
            template: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Value;

    fn classifier() -> Classifier {
        Classifier::new(vec![
            Template::new(
                "readloop_slow",
                "Readloop processing time: {elapsed:duration}",
            )
            .unwrap(),
            Template::new("health_fail", "Healthcheck failed: {reason:quoted}").unwrap(),
            Template::new(
                "health_fail_stream",
                "Healthcheck failed: \"JetStream stream '{account} > {stream}' is not current\"",
            )
            .unwrap(),
            Template::new("pending_raft", "{n:int} append entries pending").unwrap(),
        ])
    }

    #[test]
    fn first_declared_match_wins() {
        let c = classifier();
        let r =
            c.classify("Healthcheck failed: \"JetStream stream 'APP > ORDERS' is not current\"");
        assert_eq!(&*r.kind, "health_fail");
        let r = c.classify("Readloop processing time: 2.5s");
        assert_eq!(&*r.kind, "readloop_slow");
        assert_eq!(r.fields[0].1, Value::Float(2.5));
    }

    #[test]
    fn unanchored_and_unknown() {
        let c = classifier();
        assert_eq!(
            &*c.classify("12 append entries pending").kind,
            "pending_raft"
        );
        let r = c.classify("something else entirely");
        assert_eq!(&*r.kind, UNKNOWN_KIND);
        assert!(r.template.is_none());
    }
}

/// The built-in message templates (rules/nats-messages.rules), read with a
/// line scanner. Interim: the rule-language loader supersedes this.
pub fn builtin_templates() -> Vec<Template> {
    parse_template_lines(include_str!("../../rules/nats-messages.rules"))
}

/// Reads `template <kind> "<pattern>" [catalog <ID>]` lines; ignores the rest.
pub fn parse_template_lines(src: &str) -> Vec<Template> {
    let mut out = Vec::new();
    for line in src.lines() {
        let Some(rest) = line.trim().strip_prefix("template ") else {
            continue;
        };
        let Some((kind, rest)) = rest.trim().split_once(' ') else {
            continue;
        };
        let rest = rest.trim();
        let Some(body) = rest.strip_prefix('"') else {
            continue;
        };
        let Some(end) = body.rfind('"') else { continue };
        if let Ok(t) = Template::new(kind, &body[..end]) {
            out.push(t);
        }
    }
    out
}

#[cfg(test)]
mod builtin_tests {
    #[test]
    fn every_builtin_template_compiles() {
        let src = include_str!("../../rules/nats-messages.rules");
        let declared = src.lines().filter(|l| l.starts_with("template ")).count();
        assert_eq!(super::builtin_templates().len(), declared);
        assert!(declared >= 60);
    }
}
