//! The machine-readable report: a documented, versioned contract
//! (README.md, "JSON report"). These wire types are the only serde view of
//! an analysis; changing a field's meaning bumps `schema_version`.

use super::Analysis;
use crate::model::{Finding, Level};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

pub const SCHEMA_VERSION: &str = "1.0";

/// At most this many evidence lines per finding in the report.
pub const MAX_EVIDENCE: usize = 8;

#[derive(Serialize)]
pub struct Report<'a> {
    pub schema_version: &'static str,
    pub tool: Tool,
    pub input: Input,
    pub nodes: Vec<NodeOut>,
    pub findings: Findings<'a>,
    pub verdict: VerdictOut,
    pub diagnosis: Diagnosis,
}

#[derive(Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
    pub rule_packs: Vec<String>,
}

#[derive(Serialize)]
pub struct Input {
    pub files: Vec<FileOut>,
    pub nodes: Vec<String>,
    pub lines_read: u64,
    pub lines_parsed: u64,
    pub lines_continuation: u64,
    pub lines_unparsed: u64,
    pub start: Option<String>,
    pub end: Option<String>,
    pub errors: Vec<String>,
}

#[derive(Serialize)]
pub struct FileOut {
    pub file: String,
    pub kind: &'static str,
    pub node: Option<String>,
    pub attribution: String,
    pub lines_read: u64,
    pub parsed: u64,
    pub continuation: u64,
    pub unparsed: u64,
}

#[derive(Serialize)]
pub struct NodeOut {
    pub name: String,
    pub attribution: String,
    pub first: Option<String>,
    pub last: Option<String>,
    pub levels: BTreeMap<&'static str, u64>,
    pub restarts: u64,
    pub scrape_gaps: usize,
    pub findings: usize,
    pub health: &'static str,
    /// The nats-server release the node ran last (banner `Version:` or
    /// `/varz` `version`); absent when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Serialize)]
pub struct EvidenceOut {
    pub file: Option<String>,
    pub line: Option<u64>,
    pub ts: Option<String>,
    pub node: Option<String>,
    pub text: String,
}

#[derive(Serialize)]
pub struct FindingOut {
    pub rule: String,
    pub title: String,
    pub severity: &'static str,
    pub category: String,
    pub node: Option<String>,
    pub start: String,
    pub end: String,
    pub message: String,
    pub evidence: Vec<EvidenceOut>,
    pub evidence_total: usize,
    pub explains: Vec<String>,
    pub advice: Option<String>,
    pub collect_next: Vec<String>,
}

#[derive(Serialize)]
pub struct RootCauseOut {
    pub category: String,
    pub rule: String,
    pub node: Option<String>,
    pub at: String,
    pub summary: String,
}

#[derive(Serialize)]
pub struct ChainOut {
    pub category: String,
    pub node: Option<String>,
    pub at: String,
    pub rules: Vec<String>,
}

#[derive(Serialize)]
pub struct AlternativeOut {
    pub node: Option<String>,
    pub category: String,
    pub at: String,
    pub score: f64,
    pub why_lower: String,
}

#[derive(Serialize)]
pub struct VerdictOut {
    pub failing_node: Option<String>,
    pub root_cause: Option<RootCauseOut>,
    pub chain: Vec<ChainOut>,
    pub confidence: f64,
    pub alternatives: Vec<AlternativeOut>,
    pub advice: Vec<String>,
    pub collect_next: Vec<String>,
}

#[derive(Serialize)]
pub struct Diagnosis {
    pub scope: &'static str,
    pub headline: String,
    /// What kind of input was read: bundle, logs-only, one-node, excerpt, metrics-only, empty.
    pub input: &'static str,
    pub confidence_reasons: Vec<String>,
    /// How the confidence was reached: the policy's base, then each factor.
    pub confidence_base: f64,
    pub confidence_factors: Vec<FactorOut>,
    pub clock_offsets_ms: BTreeMap<String, f64>,
}

#[derive(Serialize)]
pub struct FactorOut {
    pub delta: f64,
    pub reason: String,
}

pub fn finding_out(f: &Finding) -> FindingOut {
    FindingOut {
        rule: f.rule.to_string(),
        title: f.title.to_string(),
        severity: f.severity.name(),
        category: f.category.to_string(),
        node: f.node.as_deref().map(str::to_string),
        start: f.start.rfc3339(),
        end: f.end.rfc3339(),
        message: f.message.clone(),
        evidence: f
            .evidence
            .iter()
            .take(MAX_EVIDENCE)
            .map(|e| EvidenceOut {
                file: e.loc.as_ref().map(|l| l.file.to_string()),
                line: e.loc.as_ref().map(|l| l.line),
                ts: e.ts.map(|t| t.rfc3339()),
                node: e.node.as_deref().map(str::to_string),
                text: e.line().into_owned(),
            })
            .collect(),
        evidence_total: f.evidence.len(),
        explains: f.explains.iter().map(|s| s.to_string()).collect(),
        advice: f.advice.as_deref().map(str::to_string),
        collect_next: f.collect.iter().map(|s| s.to_string()).collect(),
    }
}

/// The findings as [`FindingOut`]s, each made when it is written: a large
/// bundle has tens of thousands, and a copy of all of them beside the
/// analysis was the peak of `analyze`'s memory.
pub struct Findings<'a>(pub &'a [Finding]);

impl Serialize for Findings<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(finding_out))
    }
}

pub fn build(a: &Analysis) -> Report<'_> {
    let b = &a.bundle;
    let v = &a.verdict;
    let files = b.files.iter().map(file_out).collect::<Vec<_>>();
    let views = super::view::nodes(a, 1);
    let span = b
        .span()
        .or_else(|| a.metrics.span().map(|s| (s.start, s.end)));
    Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "coroner",
            version: env!("CARGO_PKG_VERSION"),
            rule_packs: a.packs.clone(),
        },
        input: Input {
            nodes: views.iter().map(|n| n.name.to_string()).collect(),
            lines_read: files.iter().map(|f| f.lines_read).sum(),
            lines_parsed: files.iter().map(|f| f.parsed).sum(),
            lines_continuation: files.iter().map(|f| f.continuation).sum(),
            lines_unparsed: files.iter().map(|f| f.unparsed).sum(),
            files,
            start: span.map(|s| s.0.rfc3339()),
            end: span.map(|s| s.1.rfc3339()),
            errors: b.errors.iter().map(|e| e.to_string()).collect(),
        },
        nodes: views.iter().map(node_out).collect(),
        findings: Findings(&a.findings),
        verdict: verdict_out(v),
        diagnosis: Diagnosis {
            scope: v.scope.name(),
            headline: v.headline.clone(),
            input: v.input.name(),
            confidence_reasons: v.reasons.clone(),
            confidence_base: crate::diagnose::Policy::DEFAULT.confidence_base,
            confidence_factors: v
                .factors
                .iter()
                .map(|f| FactorOut {
                    delta: (f.delta * 100.0).round() / 100.0,
                    reason: f.reason.clone(),
                })
                .collect(),
            clock_offsets_ms: v
                .clock_offsets
                .iter()
                .map(|o| (o.node.to_string(), o.offset as f64 / 1e6))
                .collect(),
        },
    }
}

fn file_out(f: &crate::ingest::FileReport) -> FileOut {
    FileOut {
        file: f.display.to_string(),
        kind: match f.kind {
            crate::ingest::FileKind::Log => "log",
            crate::ingest::FileKind::Metric => "metric",
        },
        node: f.node.as_deref().map(str::to_string),
        attribution: f.attribution.to_string(),
        lines_read: f.account.lines_read,
        parsed: f.account.parsed,
        continuation: f.account.continuation,
        unparsed: f.account.unparsed,
    }
}

fn node_out(n: &super::view::NodeView) -> NodeOut {
    NodeOut {
        name: n.name.to_string(),
        attribution: n.attribution.clone(),
        first: n.first.map(|t| t.rfc3339()),
        last: n.last.map(|t| t.rfc3339()),
        levels: Level::ALL
            .iter()
            .map(|l| (l.name(), n.levels[l.index()]))
            .filter(|(_, c)| *c > 0)
            .collect(),
        restarts: n.restarts,
        scrape_gaps: n.gaps,
        findings: n.findings,
        health: n.health,
        version: n.releases.last().map(|r| r.to_string()),
    }
}

/// The verdict; a chain step on several nodes is one entry per node.
fn verdict_out(v: &crate::diagnose::Verdict) -> VerdictOut {
    VerdictOut {
        failing_node: v.failing_node.as_deref().map(str::to_string),
        root_cause: v.root_cause.as_ref().map(|r| RootCauseOut {
            category: r.category.to_string(),
            rule: r.rule.to_string(),
            node: r.node.as_deref().map(str::to_string),
            at: r.at.rfc3339(),
            summary: r.summary.clone(),
        }),
        chain: v
            .chain
            .iter()
            .flat_map(|s| {
                let nodes: Vec<Option<String>> = if s.nodes.is_empty() {
                    vec![None]
                } else {
                    s.nodes.iter().map(|n| Some(n.to_string())).collect()
                };
                nodes.into_iter().map(move |node| ChainOut {
                    category: s.category.to_string(),
                    node,
                    at: s.at.rfc3339(),
                    rules: s.rules.iter().map(|r| r.to_string()).collect(),
                })
            })
            .collect(),
        confidence: v.confidence,
        alternatives: v
            .alternatives
            .iter()
            .map(|x| AlternativeOut {
                node: x.node.as_deref().map(str::to_string),
                category: x.category.to_string(),
                at: x.at.rfc3339(),
                score: x.score,
                why_lower: x.why_lower.clone(),
            })
            .collect(),
        advice: v.advice.clone(),
        collect_next: v.collect_next.clone(),
    }
}

pub fn write(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &build(a))?;
    out.write_all(b"\n")
}
