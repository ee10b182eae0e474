//! What a message means: the metadata every template of the rule packs
//! carries (rules/README.md §2.1) — a sentence for the operator, the cause
//! categories it is evidence of, how much one occurrence weighs, and the
//! nats-server releases that log it.

use super::ReleaseRange;
use std::fmt;
use std::sync::Arc;

/// How much one occurrence of a message weighs as evidence.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weight {
    /// Only context: start-up lines, normal lifecycle, recoveries.
    Context,
    /// A few occurrences (or a repeated pattern) make evidence.
    Few,
    /// One occurrence is evidence on its own.
    Decisive,
}

impl Weight {
    pub const NAMES: &'static [&'static str] = &["context", "few", "decisive"];

    pub fn parse(s: &str) -> Option<Weight> {
        Some(match s {
            "context" => Weight::Context,
            "few" => Weight::Few,
            "decisive" => Weight::Decisive,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Weight::Context => "context",
            Weight::Few => "few",
            Weight::Decisive => "decisive",
        }
    }

    /// In words, for `coroner explain`.
    pub fn describe(self) -> &'static str {
        match self {
            Weight::Context => "context only: normal on a healthy server, it explains others",
            Weight::Few => "evidence when it repeats (a few occurrences)",
            Weight::Decisive => "decisive: one occurrence is evidence on its own",
        }
    }
}

impl fmt::Display for Weight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The meaning of one message template.
#[derive(Clone, Debug, PartialEq)]
pub struct Meaning {
    /// What the message means, in a sentence an operator understands.
    pub means: Arc<str>,
    /// Cause categories (CATEGORIES) the message is evidence of;
    /// `consequence` for a pure symptom.
    pub evidence: Vec<Arc<str>>,
    pub weight: Weight,
    /// The nats-server releases that log this text.
    pub releases: ReleaseRange,
}

impl Meaning {
    /// True when the message is evidence of `category`.
    pub fn is_evidence_of(&self, category: &str) -> bool {
        self.evidence.iter().any(|c| &**c == category)
    }

    /// True when the message is only a symptom of other causes.
    pub fn is_consequence(&self) -> bool {
        self.evidence.iter().all(|c| &**c == "consequence")
    }
}
