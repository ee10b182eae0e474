//! Message → event kind + typed fields, using the templates declared in rule
//! packs.
//!
//! Architecture invariant: matching never runs every template's regex over
//! every message. An Aho-Corasick automaton over each template's longest
//! literal picks the few candidates; only those regexes run, in declaration
//! order (the first match wins). Cost stays nearly flat as templates grow.

mod normalize;
mod template;

pub use normalize::normalize;
pub use template::{CaptureType, PatternError, Template, parse_go_duration, unquote_go};

use crate::model::Fields;
use aho_corasick::{AhoCorasick, MatchKind};
use std::sync::Arc;

/// Kind given to messages that match no template.
pub const UNKNOWN_KIND: &str = "unknown";

/// The compiled set of templates.
#[derive(Clone, Debug)]
pub struct Classifier {
    templates: Vec<Template>,
    /// Automaton over distinct anchors; `anchor_templates[i]` = templates using anchor i.
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
        let mut anchors: Vec<String> = Vec::new();
        let mut anchor_templates: Vec<Vec<u32>> = Vec::new();
        let mut unanchored = Vec::new();
        let mut index = std::collections::HashMap::new();
        for (i, t) in templates.iter().enumerate() {
            if t.anchor.is_empty() {
                unanchored.push(i as u32);
                continue;
            }
            let slot = *index.entry(t.anchor.clone()).or_insert_with(|| {
                anchors.push(t.anchor.clone());
                anchor_templates.push(Vec::new());
                anchors.len() - 1
            });
            anchor_templates[slot].push(i as u32);
        }
        let ac = (!anchors.is_empty()).then(|| {
            let build = |kind| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .kind(kind)
                    .build(&anchors)
            };
            // A DFA (one table lookup per byte, whatever the number of
            // templates) unless it would be too large; then whatever fits.
            build(Some(aho_corasick::AhoCorasickKind::DFA))
                .or_else(|_| build(None))
                .expect("anchors are plain literals")
        });
        Classifier {
            templates,
            ac,
            anchor_templates,
            unanchored,
            unknown: UNKNOWN_KIND.into(),
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
        let mut small = [0u32; 8];
        let mut n = 0;
        let mut spill: Vec<u32> = Vec::new();
        let mut push = |i: u32, small: &mut [u32; 8], n: &mut usize| {
            if *n < small.len() {
                small[*n] = i;
                *n += 1;
            } else {
                spill.push(i);
            }
        };
        for &i in &self.unanchored {
            push(i, &mut small, &mut n);
        }
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(msg) {
                for &i in &self.anchor_templates[m.pattern().as_usize()] {
                    push(i, &mut small, &mut n);
                }
            }
        }
        let mut cands: Vec<u32> = small[..n].to_vec();
        cands.extend(spill);
        cands.sort_unstable();
        cands.dedup();
        cands
            .into_iter()
            .map(|i| i as usize)
            .find(|&i| self.templates[i].is_match(msg))
    }

    /// Classifies `msg` (the message body with any connection or RAFT prefix removed).
    pub fn classify(&self, msg: &str) -> Classified {
        let mut cands: Vec<u32> = self.unanchored.clone();
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(msg) {
                cands.extend_from_slice(&self.anchor_templates[m.pattern().as_usize()]);
            }
        }
        if cands.len() > 1 {
            cands.sort_unstable();
            cands.dedup();
        }
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
