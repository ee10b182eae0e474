//! Message → event kind + typed fields, using the templates declared in rule
//! packs.
//!
//! Architecture invariant: matching never runs every template's regex over
//! every message. The answer is the first template, in declaration order,
//! that matches; prefilters pick the few candidates that could:
//!
//! - a first-bytes dispatch (`dispatch`, a radix trie) finds the longest
//!   template prefix the message starts with; the candidates are then the
//!   templates that a message starting with it may match, whether they start
//!   with text or with a capture (decided once per prefix when the
//!   classifier is built: usually one or two);
//! - a message that starts with no template prefix can only match templates
//!   that start with a capture: an Aho-Corasick automaton over each one's
//!   longest literal picks those.
//!
//! Cost stays nearly flat as templates grow.

mod dispatch;
mod matcher;
mod normalize;
mod template;

pub use normalize::normalize;
pub use template::{CaptureType, PatternError, Template, parse_go_duration, unquote_go};

use crate::model::{Fields, Meaning};
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
    /// The distinct literal prefixes of templates that start with text.
    prefixes: dispatch::PrefixTrie,
    /// Per prefix: the templates a message whose longest template prefix it
    /// is may match (sorted): some of those with a prefix it starts with,
    /// now and then one that starts with a capture.
    prefix_templates: Vec<Vec<u32>>,
    /// Unanchored automaton over the longest literal of templates that start
    /// with a capture, for messages that start with no template prefix;
    /// `anchor_templates[i]` = templates using anchor i.
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
        let build = |lits: &[String]| -> Option<AhoCorasick> {
            if lits.is_empty() {
                return None;
            }
            let b = |kind| {
                AhoCorasick::builder()
                    // Every occurrence of every anchor (overlapping).
                    .match_kind(MatchKind::Standard)
                    .start_kind(StartKind::Unanchored)
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
        let (prefixes, _) = group(
            templates
                .iter()
                .enumerate()
                .filter(|(_, t)| !t.prefix.is_empty())
                .map(|(i, t)| (t.prefix.clone(), i as u32)),
        );
        // A message whose longest template prefix is `p` can match only
        // the templates whose prefix `p` starts with, or that start with a
        // capture, and of those only the ones that a message starting with
        // `p` may match: decided once per prefix (usually one or two).
        let prefix_templates: Vec<Vec<u32>> = prefixes
            .iter()
            .map(|p| {
                templates
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| p.starts_with(t.prefix.as_str()))
                    .filter(|(_, t)| t.may_match_starting_with(p))
                    .map(|(i, _)| i as u32)
                    .collect()
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
            prefixes: dispatch::PrefixTrie::new(&prefixes),
            prefix_templates,
            ac: build(&anchors),
            anchor_templates,
            templates,
            unanchored,
            unknown: UNKNOWN_KIND.into(),
        }
    }

    /// The first template, in declaration order, for which `hit` answers
    /// `Some`, among those that may match `msg`; with its answer.
    fn first<T>(&self, msg: &str, mut hit: impl FnMut(usize) -> Option<T>) -> Option<(usize, T)> {
        let mut try_one = |i: u32| hit(i as usize).map(|v| (i as usize, v));
        if let Some(p) = self.prefixes.longest(msg.as_bytes()) {
            // No other template can match.
            return self.prefix_templates[p as usize]
                .iter()
                .find_map(|&i| try_one(i));
        }
        // No template prefix: the templates without one, by their literals.
        CANDIDATES.with(|c| {
            let mut out = c.borrow_mut();
            out.clear();
            out.extend_from_slice(&self.unanchored);
            if let Some(ac) = &self.ac {
                for m in ac.find_overlapping_iter(msg) {
                    out.extend_from_slice(&self.anchor_templates[m.pattern().as_usize()]);
                }
            }
            if out.len() > 1 {
                out.sort_unstable();
                out.dedup();
            }
            out.iter().find_map(|&i| try_one(i))
        })
    }

    pub fn templates(&self) -> &[Template] {
        &self.templates
    }

    /// The meaning of template `template` (an index of [`Classified::template`]).
    pub fn meaning(&self, template: usize) -> Option<&Meaning> {
        self.templates.get(template)?.meaning.as_deref()
    }

    /// The meaning of an event kind: that of the first template of the kind
    /// that has one (templates of one kind are version variants of one
    /// message).
    pub fn kind_meaning(&self, kind: &str) -> Option<&Meaning> {
        self.templates
            .iter()
            .filter(|t| &*t.kind == kind)
            .find_map(|t| t.meaning.as_deref())
    }

    /// The meaning of the message `msg` (body without prefixes): the
    /// matching template's, else its kind's.
    pub fn meaning_of(&self, msg: &str) -> Option<&Meaning> {
        let i = self.find(msg)?;
        self.meaning(i)
            .or_else(|| self.kind_meaning(&self.templates[i].kind))
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
        self.first(msg, |i| self.templates[i].is_match(msg).then_some(()))
            .map(|(i, ())| i)
    }

    /// Classifies `msg` (the message body with any connection or RAFT prefix
    /// removed): the first template whose captures all convert.
    pub fn classify(&self, msg: &str) -> Classified {
        match self.first(msg, |i| self.templates[i].matches(msg)) {
            Some((i, fields)) => Classified {
                kind: self.templates[i].kind.clone(),
                fields,
                template: Some(i),
            },
            None => Classified {
                kind: self.unknown.clone(),
                fields: Vec::new(),
                template: None,
            },
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
