//! Findings → verdict: the failing node, the root cause and its chain of
//! consequences, confidence with reasons, alternatives, advice and what to
//! collect next.
//!
//! How the failing node is chosen (documented in README.md):
//! 1. An incident exists only if some finding is high or critical.
//! 2. Findings are split into *causal* categories (a node's own trouble:
//!    cpu-starvation, node-unresponsive, process-restart, storage-exhaustion,
//!    ...) and *cascade* categories (route-instability, raft-quorum-loss,
//!    consequence), which healthy peers report about a sick node.
//! 3. Each node's onset is the start of its first causal finding of medium
//!    severity or more, on one clock (per-node clock offsets estimated from
//!    leader changes both sides logged are removed first).
//! 4. The failing node is the node with the earliest onset; a node whose
//!    onset is within [`ONSET_TOLERANCE`] of the earliest and whose evidence
//!    weighs clearly more wins instead (a sampler 1 s late must not decide).
//!    Peers blamed by cascade findings (route errors naming the node's address,
//!    leaders moving away from it) add weight to the blamed node.
//! 5. With one node, or the same causal category starting on every node
//!    within the tolerance and no node standing out, the verdict says so and
//!    names no node.

mod policy;
mod skew;

use crate::ingest::Bundle;
use crate::metrics::MetricSet;
use crate::model::{Finding, Nanos, Node, Severity, Timestamp, format_duration};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub use policy::{Factor, InputKind, Policy};
pub use skew::{ClockOffset, estimate_offsets};

/// Onsets closer than this are treated as simultaneous ([`Policy::onset_tolerance`]).
pub const ONSET_TOLERANCE: Nanos = Policy::DEFAULT.onset_tolerance;

/// Whether a category is a node's own trouble (its role in [`crate::vocab::CATEGORIES`]).
pub fn is_causal(category: &str) -> bool {
    crate::vocab::category::is_cause(category)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// No high or critical finding.
    NoIncident,
    /// One node started it.
    Node,
    /// Only one node in the input: nothing to compare it with.
    SingleNode,
    /// Every node shows the same cause at once (a bad config everywhere...).
    ClusterWide,
    /// Findings exist but none is causal or attributable to a node.
    Undetermined,
}

impl Scope {
    pub fn name(&self) -> &'static str {
        match self {
            Scope::NoIncident => "no-incident",
            Scope::Node => "node",
            Scope::SingleNode => "single-node",
            Scope::ClusterWide => "cluster-wide",
            Scope::Undetermined => "undetermined",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RootCause {
    pub category: Arc<str>,
    pub rule: Arc<str>,
    pub node: Option<Node>,
    pub at: Timestamp,
    pub summary: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChainStep {
    pub category: Arc<str>,
    pub nodes: Vec<Node>,
    pub at: Timestamp,
    pub rules: Vec<Arc<str>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Alternative {
    pub node: Option<Node>,
    pub category: Arc<str>,
    pub at: Timestamp,
    pub score: f64,
    pub why_lower: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub scope: Scope,
    pub failing_node: Option<Node>,
    pub root_cause: Option<RootCause>,
    pub chain: Vec<ChainStep>,
    pub confidence: f64,
    /// The confidence as the factors that moved it from the policy's base.
    pub factors: Vec<Factor>,
    /// What kind of input this was.
    pub input: InputKind,
    pub reasons: Vec<String>,
    pub alternatives: Vec<Alternative>,
    pub advice: Vec<String>,
    pub collect_next: Vec<String>,
    pub clock_offsets: Vec<ClockOffset>,
    /// One-paragraph summary a tired engineer reads first.
    pub headline: String,
}

fn sev_weight(s: Severity) -> f64 {
    Policy::DEFAULT.severity_weight(s)
}

/// The kind of input, from what was read.
pub fn input_kind(bundle: &Bundle, metrics: &MetricSet, p: &Policy) -> InputKind {
    let logs: Vec<u64> = bundle
        .nodes
        .iter()
        .filter(|(n, s)| !n.starts_with('@') && s.records > 0)
        .map(|(_, s)| s.records)
        .collect();
    InputKind::classify(
        logs.len(),
        logs.iter().copied().max().unwrap_or(0),
        !metrics.is_empty(),
        p,
    )
}

/// Per-node evidence used for ranking.
#[derive(Clone, Debug, Default)]
struct NodeCase {
    onset: Option<Timestamp>,
    onset_finding: Option<usize>,
    score: f64,
    categories: BTreeSet<Arc<str>>,
    rules: BTreeSet<Arc<str>>,
    max_sev: Option<Severity>,
    metric_signal: bool,
    log_signal: bool,
}

/// Decides the verdict from findings sorted by `Finding::order_key`.
pub fn diagnose(findings: &[Finding], bundle: &Bundle, metrics: &MetricSet) -> Verdict {
    let offsets = estimate_offsets(&bundle.events);
    let offset_of = |n: &str| -> Nanos {
        offsets
            .iter()
            .find(|o| &*o.node == n)
            .map_or(0, |o| o.offset)
    };
    let corrected = |f: &Finding| -> Timestamp {
        f.node
            .as_deref()
            .map_or(f.start, |n| f.start.sub(offset_of(n)))
    };
    let nodes: BTreeSet<Node> = bundle
        .nodes
        .keys()
        .filter(|n| !n.starts_with('@'))
        .cloned()
        .chain(metrics.nodes())
        .collect();
    let incident = findings.iter().any(|f| f.severity >= Severity::High);
    if !incident {
        return no_incident(findings, bundle, metrics, &nodes, offsets);
    }

    // Evidence per node (causal findings of medium severity or more).
    // When no node shows a cause of its own, the high cascade findings are
    // all there is: rank on them (a node whose routes flap while its peers
    // see less, say).
    let any_causal = findings
        .iter()
        .any(|f| f.node.is_some() && f.severity >= Severity::Medium && is_causal(&f.category));
    let counts = |f: &Finding| {
        if any_causal {
            is_causal(&f.category)
        } else {
            f.severity >= Severity::High
        }
    };
    let mut cases: BTreeMap<Node, NodeCase> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        let Some(node) = &f.node else { continue };
        if f.severity < Severity::Medium {
            continue;
        }
        let c = cases.entry(node.clone()).or_default();
        if counts(f) {
            let t = corrected(f);
            if c.onset.is_none_or(|o| t < o) {
                c.onset = Some(t);
                c.onset_finding = Some(i);
            }
            if c.rules.insert(f.rule.clone()) {
                c.score += sev_weight(f.severity);
            }
            c.categories.insert(f.category.clone());
            let from_metrics = f.evidence.iter().any(|e| e.loc.is_none());
            c.metric_signal |= from_metrics;
            c.log_signal |= f.evidence.iter().any(|e| e.loc.is_some());
        }
        c.max_sev = c.max_sev.max(Some(f.severity));
    }
    // Cascade findings on peers blame the node they name (explicit `blamed`
    // evidence text "→ node") — counted as extra weight for the blamed node.
    for f in findings {
        if is_causal(&f.category) {
            continue;
        }
        for b in blamed_nodes(f, &nodes) {
            if f.node.as_ref() != Some(&b) {
                if let Some(c) = cases.get_mut(&b) {
                    let p = &Policy::DEFAULT;
                    c.score += p.blame_share * sev_weight(f.severity).min(p.blame_cap);
                }
            }
        }
    }
    let mut ranked: Vec<(&Node, &NodeCase)> =
        cases.iter().filter(|(_, c)| c.onset.is_some()).collect();
    ranked.sort_by(|a, b| {
        a.1.onset
            .cmp(&b.1.onset)
            .then(b.1.score.total_cmp(&a.1.score))
            .then(a.0.cmp(b.0))
    });

    let mut reasons = Vec::new();
    if !any_causal && !ranked.is_empty() {
        reasons.push(
            "no node shows a cause of its own: ranked on the cluster symptoms (routes, quorum)"
                .into(),
        );
    }
    let (scope, failing) = if ranked.is_empty() {
        (Scope::Undetermined, None)
    } else {
        let earliest = ranked[0].1.onset.unwrap_or_default();
        // Among nodes starting within the tolerance, the clearly heavier evidence wins.
        let contenders: Vec<&(&Node, &NodeCase)> = ranked
            .iter()
            .filter(|(_, c)| {
                c.onset
                    .is_some_and(|o| o.since(earliest) <= ONSET_TOLERANCE)
            })
            .collect();
        let best = contenders
            .iter()
            .max_by(|a, b| {
                a.1.score
                    .total_cmp(&b.1.score)
                    .then(b.1.onset.cmp(&a.1.onset))
                    .then(b.0.cmp(a.0))
            })
            .map(|x| **x)
            .unwrap_or(ranked[0]);
        let chosen = if best.1.score >= ranked[0].1.score * Policy::DEFAULT.dominance_ratio {
            best
        } else {
            ranked[0]
        };
        if chosen.0 != ranked[0].0 {
            reasons.push(format!(
                "{} started {} after {}, within the {} tolerance, but its evidence weighs more ({:.1} vs {:.1})",
                chosen.0,
                format_duration(chosen.1.onset.unwrap_or_default().since(earliest)),
                ranked[0].0,
                format_duration(ONSET_TOLERANCE),
                chosen.1.score,
                ranked[0].1.score
            ));
        }
        let same_everywhere = nodes.len() >= 2 && contenders.len() == nodes.len() && {
            let common: BTreeSet<&Arc<str>> = contenders
                .iter()
                .map(|(_, c)| c.categories.iter().collect::<BTreeSet<_>>())
                .reduce(|a, b| a.intersection(&b).copied().collect())
                .unwrap_or_default();
            !common.is_empty()
                && contenders
                    .iter()
                    .all(|(_, c)| c.categories.len() == common.len())
        };
        if nodes.len() == 1 {
            // Nothing to compare with: "failed first" has no meaning.
            (Scope::SingleNode, None)
        } else if same_everywhere {
            (Scope::ClusterWide, None)
        } else {
            (Scope::Node, Some(chosen.0.clone()))
        }
    };

    // Root cause: on the chosen node, the earliest causal finding; a finding
    // that explains it (same node, not later than the tolerance) goes first.
    let root_node = failing
        .clone()
        .or_else(|| (scope == Scope::SingleNode).then(|| ranked[0].0.clone()));
    let root_idx = match &root_node {
        Some(n) => cases.get(n).and_then(|c| c.onset_finding),
        None => findings
            .iter()
            .position(|f| is_causal(&f.category) && f.severity >= Severity::Medium)
            .or_else(|| findings.iter().position(|f| f.severity >= Severity::High)),
    };
    // Within the tolerance after the onset, the most severe finding of the
    // node is the better root (a medium CPU blip just before a critical
    // memory exhaustion is its symptom, not its cause).
    let root_idx = root_idx.map(|i| {
        let f0 = &findings[i];
        findings
            .iter()
            .enumerate()
            .filter(|(_, g)| {
                g.node == f0.node
                    && counts(g)
                    && g.start >= f0.start
                    && g.start.since(f0.start) <= ONSET_TOLERANCE
            })
            .max_by(|(ia, a), (ib, b)| {
                a.severity
                    .cmp(&b.severity)
                    .then(b.start.cmp(&a.start))
                    .then(ib.cmp(ia))
            })
            .map_or(i, |(j, _)| j)
    });
    let root_idx = root_idx.map(|i| prefer_explainer(findings, i));
    let root_cause = root_idx.map(|i| {
        let f = &findings[i];
        RootCause {
            category: f.category.clone(),
            rule: f.rule.clone(),
            node: f.node.clone(),
            at: f.start,
            summary: f.message.clone(),
        }
    });
    let chain = build_chain(findings, failing.as_ref(), root_idx);

    // Confidence: the policy's base moved by named factors.
    let p = &Policy::DEFAULT;
    let mut factors: Vec<Factor> = Vec::new();
    let mut factor = |delta: f64, reason: String, reasons: &mut Vec<String>| {
        reasons.push(reason.clone());
        factors.push(Factor { delta, reason });
    };
    if let Some(n) = &failing {
        let c = &cases[n];
        if c.metric_signal && c.log_signal {
            factor(
                p.logs_and_metrics_agree,
                format!("logs and metrics agree on {n}"),
                &mut reasons,
            );
        } else if c.metric_signal {
            factor(
                0.0,
                format!("{n} is implicated by metrics only (its own log says little)"),
                &mut reasons,
            );
        } else {
            factor(
                0.0,
                format!("{n} is implicated by its logs only"),
                &mut reasons,
            );
        }
        let k = c.categories.len();
        if k >= 2 {
            factor(
                p.per_extra_category * (k.min(3) - 1) as f64,
                format!(
                    "{k} independent causal signals on {n}: {}",
                    c.categories
                        .iter()
                        .map(|s| &**s)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                &mut reasons,
            );
        }
        let peers_react = findings.iter().any(|f| {
            !is_causal(&f.category)
                && f.node.as_ref().is_some_and(|x| x != n)
                && c.onset.is_some_and(|o| f.start >= o)
        });
        if peers_react {
            factor(
                p.peers_react,
                "peers show the consequences after the onset".into(),
                &mut reasons,
            );
        }
        if let Some((rn, rc)) = ranked.iter().find(|(x, _)| *x != n) {
            let gap = rc
                .onset
                .unwrap_or_default()
                .since(c.onset.unwrap_or_default());
            if rc.score >= p.close_competitor_share * c.score && gap.abs() < p.onset_tolerance {
                factor(
                    p.close_competitor,
                    format!(
                        "{rn} shows comparable trouble {} later: the order is close",
                        format_duration(gap)
                    ),
                    &mut reasons,
                );
            } else {
                factor(
                    0.0,
                    format!("next candidate {rn} starts {} later", format_duration(gap)),
                    &mut reasons,
                );
            }
        } else {
            factor(
                p.alone,
                format!("no other node shows causal trouble of its own besides {n}"),
                &mut reasons,
            );
        }
    }
    let input = input_kind(bundle, metrics, p);
    if input == InputKind::Excerpt {
        factor(
            p.excerpt,
            "an excerpt of a few lines: what happened before and after it, and on the other nodes, was not seen".into(),
            &mut reasons,
        );
    } else if metrics.is_empty() {
        factor(
            p.no_metrics,
            "no metric dumps in the input: only logs were used".into(),
            &mut reasons,
        );
    }
    if scope == Scope::SingleNode {
        factor(
            0.0,
            "only one node in the input: no peer to compare with".into(),
            &mut reasons,
        );
    }
    for o in &offsets {
        if o.offset.abs() >= p.report_offset {
            factor(
                0.0,
                format!(
                    "clock of {} is {} off (estimated from {} leader changes); corrected before ordering",
                    o.node,
                    format_duration(o.offset),
                    o.pairs
                ),
                &mut reasons,
            );
        }
    }
    let confidence = p.confidence_base + factors.iter().map(|f| f.delta).sum::<f64>();
    let confidence =
        (confidence.clamp(p.confidence_floor, p.confidence_ceiling) * 100.0).round() / 100.0;

    let alternatives = ranked
        .iter()
        .filter(|(n, _)| Some(*n) != failing.as_ref())
        .take(4)
        .map(|(n, c)| {
            let f = &findings[c.onset_finding.unwrap_or(0)];
            let why = match (&failing, failing.as_ref().and_then(|x| cases.get(x))) {
                (Some(fn_), Some(fc)) => {
                    let d = c
                        .onset
                        .unwrap_or_default()
                        .since(fc.onset.unwrap_or_default());
                    if d > 0 {
                        format!("starts {} after {fn_}", format_duration(d))
                    } else {
                        format!(
                            "its evidence weighs less than {fn_}'s ({:.1} vs {:.1})",
                            c.score, fc.score
                        )
                    }
                }
                _ => "not decisive".to_string(),
            };
            Alternative {
                node: Some((*n).clone()),
                category: f.category.clone(),
                at: f.start,
                score: (c.score * 10.0).round() / 10.0,
                why_lower: why,
            }
        })
        .collect();

    let (advice, collect_next) = advice_and_collect(
        findings,
        failing.as_ref(),
        root_cause.as_ref(),
        bundle,
        metrics,
    );
    let headline = headline(
        &scope,
        failing.as_ref(),
        root_cause.as_ref(),
        &chain,
        confidence,
    );
    Verdict {
        scope,
        failing_node: failing,
        root_cause,
        chain,
        confidence,
        factors,
        input,
        reasons,
        alternatives,
        advice,
        collect_next,
        clock_offsets: offsets,
        headline,
    }
}

/// If a finding on the same node that explains `i` starts no later than the
/// tolerance after it, it is the better root.
fn prefer_explainer(findings: &[Finding], i: usize) -> usize {
    let f = &findings[i];
    findings
        .iter()
        .enumerate()
        .filter(|(_, g)| {
            g.node == f.node
                && g.explains.iter().any(|r| rule_matches(r, &f.rule))
                && g.start.since(f.start) <= ONSET_TOLERANCE
                && is_causal(&g.category)
        })
        .min_by_key(|(_, g)| g.start)
        .map_or(i, |(j, _)| j)
}

/// `explains` entries are rule ids or globs (`nats-mqtt.*`).
pub fn rule_matches(pattern: &str, rule: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == rule,
        Some((pre, post)) => {
            rule.len() >= pre.len() + post.len() && rule.starts_with(pre) && rule.ends_with(post)
        }
    }
}

/// Nodes a cascade finding points at: node names mentioned in its evidence or message.
fn blamed_nodes(f: &Finding, nodes: &BTreeSet<Node>) -> Vec<Node> {
    let mut out = Vec::new();
    for n in nodes {
        let mention = |s: &str| {
            s.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
                .any(|w| w == &**n)
        };
        if mention(&f.message) {
            out.push(n.clone());
        }
    }
    out
}

fn build_chain(
    findings: &[Finding],
    failing: Option<&Node>,
    root: Option<usize>,
) -> Vec<ChainStep> {
    let Some(root) = root else { return Vec::new() };
    let t0 = findings[root].start;
    let mut steps: Vec<ChainStep> = Vec::new();
    let mut push = |f: &Finding| {
        if let Some(s) = steps.iter_mut().find(|s| {
            s.category == f.category
                && (f.node.as_ref() == failing) == s.nodes.iter().any(|n| Some(n) == failing)
        }) {
            if let Some(n) = &f.node {
                if !s.nodes.contains(n) {
                    s.nodes.push(n.clone());
                    s.nodes.sort();
                }
            }
            if !s.rules.contains(&f.rule) {
                s.rules.push(f.rule.clone());
            }
            s.at = s.at.min(f.start);
        } else {
            steps.push(ChainStep {
                category: f.category.clone(),
                nodes: f.node.iter().cloned().collect(),
                at: f.start,
                rules: vec![f.rule.clone()],
            });
        }
    };
    push(&findings[root]);
    // Causal findings on the failing node, then what followed on the peers.
    for f in findings {
        if f.severity < Severity::Medium || f.start < t0.sub(ONSET_TOLERANCE) {
            continue;
        }
        let on_failing = failing.is_some() && f.node.as_ref() == failing;
        if (on_failing && is_causal(&f.category))
            || (!on_failing && !is_causal(&f.category) && f.start >= t0.sub(ONSET_TOLERANCE))
        {
            push(f);
        }
    }
    let root_cat = findings[root].category.clone();
    steps.sort_by(|a, b| {
        (a.category != root_cat)
            .cmp(&(b.category != root_cat))
            .then(a.at.cmp(&b.at))
            .then(a.category.cmp(&b.category))
    });
    steps.truncate(8);
    steps
}

fn advice_and_collect(
    findings: &[Finding],
    failing: Option<&Node>,
    root: Option<&RootCause>,
    bundle: &Bundle,
    metrics: &MetricSet,
) -> (Vec<String>, Vec<String>) {
    let mut advice: Vec<String> = Vec::new();
    let mut collect: Vec<String> = Vec::new();
    let mut ordered: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.severity >= Severity::Medium)
        .collect();
    ordered.sort_by_key(|f| {
        (
            f.node.as_ref() != failing,
            std::cmp::Reverse(f.severity),
            f.start,
        )
    });
    for f in &ordered {
        if let Some(a) = &f.advice {
            if !advice.iter().any(|x| x == &**a) {
                advice.push(a.to_string());
            }
        }
        for c in &f.collect {
            if !collect.iter().any(|x| x == &**c) {
                collect.push(c.to_string());
            }
        }
    }
    let generic_start = collect.len();
    let when = root.map(|r| r.at.hms_millis()).unwrap_or_default();
    let who = failing
        .map(|n| n.to_string())
        .unwrap_or_else(|| "every node".into());
    if metrics.is_empty() {
        collect.push(format!(
            "/varz, /jsz and /healthz of every node, once per second, around {when} (curl -s http://<node>:8222/varz)"
        ));
    } else if failing.is_some_and(|n| {
        metrics.series(n, "proc_cpu").is_none() && metrics.series(n, "cpu").is_none()
    }) {
        collect.push(format!(
            "process CPU and RSS of {who} around {when} (pidstat -durh 1, or node-exporter)"
        ));
    }
    if root
        .is_some_and(|r| &*r.category == "process-restart" || &*r.category == "memory-exhaustion")
    {
        collect.push(format!("the kernel log of {who} around {when} for OOM kills (dmesg -T | grep -i oom; journalctl -k)"));
        collect.push(format!(
            "GOMEMLIMIT and the container memory limit of {who}"
        ));
    }
    if root.is_some_and(|r| {
        &*r.category == "jetstream-api-overload" || &*r.category == "cpu-starvation"
    }) {
        collect.push(format!(
            "`nats server report jetstream` and /jsz?raft=true of {who} around {when}"
        ));
        collect.push(format!(
            "the CPU quota and throttling of {who} (cgroup cpu.max, cpu.stat nr_throttled)"
        ));
    }
    if bundle.nodes.values().all(|n| n.levels[1] == 0) && root.is_some() {
        collect.push("if the incident recurs: debug logging (-D) on the failing node shows client connects and RAFT state changes".into());
    }
    // The generic, evidence-gap items go right after the rules' first few.
    let generic: Vec<String> = collect.drain(generic_start..).collect();
    let at = collect.len().min(4);
    for (i, g) in generic.into_iter().enumerate() {
        collect.insert(at + i, g);
    }
    // A tired engineer reads the first few: the failing node's come first.
    advice.truncate(MAX_ADVICE);
    collect.truncate(MAX_COLLECT);
    (advice, collect)
}

/// How many pieces of advice and of what-to-collect the verdict keeps.
pub const MAX_ADVICE: usize = 6;
pub const MAX_COLLECT: usize = 8;

fn headline(
    scope: &Scope,
    failing: Option<&Node>,
    root: Option<&RootCause>,
    chain: &[ChainStep],
    confidence: f64,
) -> String {
    let chain_txt: Vec<String> = chain
        .iter()
        .map(|s| {
            let nodes: Vec<&str> = s.nodes.iter().map(|n| &**n).collect();
            format!(
                "{} {} on {}",
                s.category,
                s.at.hms_millis(),
                if nodes.is_empty() {
                    "cluster".to_string()
                } else {
                    nodes.join(", ")
                }
            )
        })
        .collect();
    match (scope, failing, root) {
        (Scope::Node, Some(n), Some(r)) => format!(
            "{n} failed first: {} at {} ({:.0}% confidence). Chain: {}",
            r.category,
            r.at.short(),
            confidence * 100.0,
            chain_txt.join(" → ")
        ),
        (Scope::SingleNode, _, Some(r)) => format!(
            "Single node in the input: {} at {} on {}. Chain: {}",
            r.category,
            r.at.short(),
            r.node.as_deref().unwrap_or("-"),
            chain_txt.join(" → ")
        ),
        (Scope::ClusterWide, _, Some(r)) => format!(
            "Cluster-wide: every node shows {} from {} — look for a shared cause (configuration, host, network) rather than one node.",
            r.category,
            r.at.short()
        ),
        (Scope::NoIncident, _, _) => "No incident found.".to_string(),
        _ => {
            "Findings exist, but none names a cause on a node: see the findings below.".to_string()
        }
    }
}

fn no_incident(
    findings: &[Finding],
    bundle: &Bundle,
    metrics: &MetricSet,
    nodes: &BTreeSet<Node>,
    offsets: Vec<ClockOffset>,
) -> Verdict {
    let warn: u64 = bundle.nodes.values().map(|n| n.levels[3]).sum();
    let err: u64 = bundle
        .nodes
        .values()
        .map(|n| n.levels[4] + n.levels[5])
        .sum();
    let gaps: usize = metrics.nodes().iter().map(|n| metrics.gaps(n).len()).sum();
    let span = bundle
        .span()
        .map(|(a, b)| format_duration(b.since(a)))
        .unwrap_or_else(|| "-".into());
    let mut reasons = vec![
        format!(
            "{} node(s), {} log lines over {span}",
            nodes.len(),
            bundle.lines_read()
        ),
        format!(
            "{warn} warnings and {err} errors, none matching an incident pattern of high severity"
        ),
        format!("{} finding(s) of lower severity", findings.len()),
    ];
    if !metrics.is_empty() {
        reasons.push(format!("{gaps} scrape gap(s) in the metric dumps"));
    }
    Verdict {
        scope: Scope::NoIncident,
        failing_node: None,
        root_cause: None,
        chain: Vec::new(),
        confidence: 0.0,
        factors: Vec::new(),
        input: input_kind(bundle, metrics, &Policy::DEFAULT),
        reasons,
        alternatives: Vec::new(),
        advice: Vec::new(),
        collect_next: if metrics.is_empty() {
            vec!["/varz, /jsz and /healthz of every node over the same period, to confirm from the servers' own counters".into()]
        } else {
            Vec::new()
        },
        clock_offsets: offsets,
        headline: format!(
            "No incident found: {} node(s), {warn} warnings, {err} errors, no finding of high severity.",
            nodes.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Bundle, NodeStats};
    use crate::model::{Evidence, Location};

    const S: i64 = 1_000_000_000;

    fn finding(rule: &str, node: &str, cat: &str, sev: Severity, start_s: i64) -> Finding {
        Finding {
            rule: rule.into(),
            title: rule.into(),
            severity: sev,
            category: cat.into(),
            node: Some(node.into()),
            start: Timestamp(start_s * S),
            end: Timestamp((start_s + 10) * S),
            message: format!("{rule} on {node}"),
            evidence: vec![Evidence {
                loc: Some(Location {
                    file: "x.log".into(),
                    line: 1,
                }),
                ts: Some(Timestamp(start_s * S)),
                node: Some(node.into()),
                level: None,
                text: "line".into(),
            }],
            explains: Vec::new(),
            advice: None,
            collect: Vec::new(),
        }
    }

    fn bundle(nodes: &[&str]) -> Bundle {
        let mut b = Bundle::default();
        for n in nodes {
            b.nodes.insert((*n).into(), NodeStats::default());
        }
        b
    }

    fn run(fs: &mut [Finding], nodes: &[&str]) -> Verdict {
        fs.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
        diagnose(fs, &bundle(nodes), &MetricSet::empty())
    }

    #[test]
    fn no_high_finding_is_no_incident() {
        let v = run(
            &mut [finding("a", "n1", "cpu-starvation", Severity::Medium, 0)],
            &["n1", "n2"],
        );
        assert_eq!((v.scope, v.failing_node), (Scope::NoIncident, None));
    }

    #[test]
    fn earliest_causal_onset_wins_over_louder_cascade() {
        let mut fs = [
            finding("route", "n2", "route-instability", Severity::Critical, 1),
            finding("route", "n3", "route-instability", Severity::Critical, 1),
            finding("freeze", "n1", "node-unresponsive", Severity::High, 5),
        ];
        let v = run(&mut fs, &["n1", "n2", "n3"]);
        assert_eq!(v.failing_node.as_deref(), Some("n1"));
        assert_eq!(v.root_cause.unwrap().category.as_ref(), "node-unresponsive");
        // the peers' reaction is in the chain
        assert!(v.chain.iter().any(|c| &*c.category == "route-instability"));
    }

    #[test]
    fn much_heavier_evidence_wins_within_tolerance_only() {
        let heavy = |n: &str, t: i64| {
            vec![
                finding("a", n, "cpu-starvation", Severity::Critical, t),
                finding("b", n, "jetstream-api-overload", Severity::Critical, t + 1),
                finding("c", n, "mqtt-connection-storm", Severity::High, t + 2),
            ]
        };
        let mut fs: Vec<Finding> = heavy("n2", 5);
        fs.push(finding("z", "n1", "slow-consumer", Severity::High, 0));
        let v = run(&mut fs, &["n1", "n2"]);
        assert_eq!(v.failing_node.as_deref(), Some("n2"), "{:?}", v.reasons);
        let mut fs: Vec<Finding> = heavy("n2", 100);
        fs.push(finding("z", "n1", "slow-consumer", Severity::High, 0));
        let v = run(&mut fs, &["n1", "n2"]);
        assert_eq!(v.failing_node.as_deref(), Some("n1"));
    }

    #[test]
    fn explaining_finding_becomes_the_root() {
        let mut a = finding("restart", "n1", "process-restart", Severity::Critical, 10);
        a.explains = vec!["resources.*".into()];
        let b = finding(
            "resources.silent",
            "n1",
            "node-unresponsive",
            Severity::Critical,
            5,
        );
        let v = run(&mut [a, b], &["n1", "n2"]);
        assert_eq!(v.root_cause.unwrap().rule.as_ref(), "restart");
    }

    #[test]
    fn single_node_and_cluster_wide_name_no_failing_node_or_say_so() {
        let v = run(
            &mut [finding("a", "n1", "cpu-starvation", Severity::High, 0)],
            &["n1"],
        );
        assert_eq!(
            (v.scope.clone(), v.failing_node.clone()),
            (Scope::SingleNode, None)
        );
        assert_eq!(v.root_cause.unwrap().node.as_deref(), Some("n1"));
        let mut fs = [
            finding("cfg", "n1", "config-error", Severity::High, 0),
            finding("cfg", "n2", "config-error", Severity::High, 1),
            finding("cfg", "n3", "config-error", Severity::High, 2),
        ];
        let v = run(&mut fs, &["n1", "n2", "n3"]);
        assert_eq!((v.scope, v.failing_node), (Scope::ClusterWide, None));
        assert!(v.root_cause.is_some());
    }

    #[test]
    fn only_cascade_findings_rank_on_the_symptoms() {
        let v = run(
            &mut [finding("r", "n2", "route-instability", Severity::High, 0)],
            &["n1", "n2"],
        );
        assert_eq!(
            (v.scope, v.failing_node.as_deref()),
            (Scope::Node, Some("n2"))
        );
        let mut fs = [
            finding("r", "n2", "route-instability", Severity::High, 0),
            finding("c", "n1", "cpu-starvation", Severity::Low, 0),
        ];
        let v = run(&mut fs, &["n1", "n2", "n3"]);
        assert_eq!(v.failing_node.as_deref(), Some("n2"));
        // a causal finding of medium severity elsewhere outranks cascade symptoms
        let mut fs = [
            finding("r", "n2", "route-instability", Severity::Critical, 0),
            finding("c", "n1", "cpu-starvation", Severity::High, 3),
        ];
        let v = run(&mut fs, &["n1", "n2", "n3"]);
        assert_eq!(v.failing_node.as_deref(), Some("n1"));
    }

    #[test]
    fn globs() {
        assert!(rule_matches("nats-mqtt.*", "nats-mqtt.storm"));
        assert!(!rule_matches("nats-mqtt.*", "nats-core.x"));
        assert!(rule_matches("a.b", "a.b"));
    }
}
