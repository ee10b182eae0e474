//! What the rule engine reports: a finding with its evidence.

use super::{Level, Location, Node, Timestamp};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Root-cause category, one of [`crate::vocab::CATEGORIES`].
pub type Category = Arc<str>;

/// One line of evidence: a log line (with its location) or a metric observation.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    pub loc: Option<Location>,
    pub ts: Option<Timestamp>,
    pub node: Option<Node>,
    /// A log line's level (its text is then the line's message, shared with
    /// the event: findings of big inputs hold many); `None` for a note.
    pub level: Option<Level>,
    pub text: Arc<str>,
}

impl Evidence {
    /// The evidence as reports show it: `[WRN] message` for a log line, the
    /// note's text otherwise.
    pub fn line(&self) -> Cow<'_, str> {
        match self.level {
            Some(l) => Cow::Owned(format!("[{}] {}", l.tag(), self.text)),
            None => Cow::Borrowed(&self.text),
        }
    }
}

/// A rule that fired: when, where, why, with evidence.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: Arc<str>,
    pub title: Arc<str>,
    pub severity: Severity,
    pub category: Category,
    pub node: Option<Node>,
    pub start: Timestamp,
    pub end: Timestamp,
    /// The rule's message with captured values filled in.
    pub message: String,
    pub evidence: Vec<Evidence>,
    /// Ids of rules whose findings this one explains (it is their cause).
    pub explains: Vec<Arc<str>>,
    pub advice: Option<Arc<str>>,
    pub collect: Vec<Arc<str>>,
}

impl Finding {
    /// Deterministic order: (start, node, rule, end).
    pub fn order_key(&self) -> (Timestamp, Option<&str>, &str, Timestamp) {
        (self.start, self.node.as_deref(), &self.rule, self.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(level: Option<Level>, text: &str) -> Evidence {
        Evidence {
            loc: None,
            ts: None,
            node: None,
            level,
            text: text.into(),
        }
    }

    #[test]
    fn a_log_line_shows_its_level_and_a_note_only_its_text() {
        let line = evidence(Some(Level::Warn), "Readloop processing time: 2.5s");
        assert_eq!(line.line(), "[WRN] Readloop processing time: 2.5s");
        let note = evidence(None, "not followed within 30s");
        assert_eq!(note.line(), "not followed within 30s");
        // The note's text is lent, not copied.
        assert!(matches!(note.line(), Cow::Borrowed(_)));
    }
}
