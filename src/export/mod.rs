//! `coroner rules export`: the rule packs as alerting rules for the tools
//! operators already run — Prometheus (PromQL over the metric names of
//! prometheus-nats-exporter or NATS Surveyor) and the Loki ruler (LogQL over
//! the server logs). Pure functions from the checked rules to text.
//!
//! Nothing vanishes: a rule that cannot be expressed in the target language
//! is written as a YAML comment that says why.
//!
//! [`promtest`] writes `promtool test rules` fixtures from the rules'
//! examples, so an exported alert is checked against the same cases as the
//! rule: it fires on the `fire` examples and stays quiet on the `quiet` ones.

pub mod logql;
pub mod promql;
pub mod promtest;
mod yaml;

pub use yaml::{comment as yaml_comment, quote};

use crate::lang::ir::Rule;

/// One rule in the export: an alerting rule, or the reason it has none.
#[derive(Clone, Debug, PartialEq)]
pub struct Exported {
    pub rule: String,
    pub pack: String,
    pub result: Result<Alert, String>,
}

/// A Prometheus-style alerting rule (Prometheus and Loki rulers share the format).
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub alert: String,
    pub expr: String,
    pub for_: Option<String>,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    /// Where the translation differs from coroner's own evaluation.
    pub notes: Vec<String>,
}

/// `nats-jetstream.api-queue-backlog` → `CoronerNatsJetstreamApiQueueBacklog`
/// (a valid alert name: letters and digits only).
pub fn alert_name(id: &str) -> String {
    let mut out = String::from("Coroner");
    let mut up = true;
    for c in id.chars() {
        if c.is_ascii_alphanumeric() {
            if up {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            up = false;
        } else {
            up = true;
        }
    }
    out
}

/// Prometheus/Loki duration: `10s`, `1m30s`, `250ms`.
pub fn duration(ns: i64) -> String {
    let ms = ns.max(0) / 1_000_000;
    if ms % 1000 != 0 {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// Rule text made safe for a Go template annotation: `{node}` becomes the
/// node label, other placeholders plain words; `{{`/`}}` in the text are
/// neutralized so the ruler's template engine never executes rule text.
pub fn annotation(text: &str, node_label: &str) -> String {
    let text = text.replace("{{", "{ {").replace("}}", "} }");
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find('}') {
            Some(j)
                if after[..j]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.()".contains(c)) =>
            {
                let name = &after[..j];
                out.push_str(&match name {
                    "node" => format!("{{{{ $labels.{node_label} }}}}"),
                    "start" => "the start of the alert".to_string(),
                    "peers" => "its peers".to_string(),
                    other => format!("<{other}>"),
                });
                rest = &after[j + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// [`annotation`] with the node label's template expanded for `node`, as
/// the ruler renders it (promtool's expected annotations).
pub fn expand(annotation: &str, node_label: &str, node: &str) -> String {
    annotation.replace(&format!("{{{{ $labels.{node_label} }}}}"), node)
}

/// The labels and annotations every exported alert carries.
pub(crate) fn common(
    rule: &Rule,
    node_label: &str,
) -> (Vec<(String, String)>, Vec<(String, String)>) {
    let labels = vec![
        ("severity".to_string(), rule.severity.name().to_string()),
        ("category".to_string(), rule.category.to_string()),
        ("coroner_rule".to_string(), rule.id.to_string()),
    ];
    let mut ann = vec![(
        "summary".to_string(),
        annotation(&format!("{} on {{node}}", rule.title), node_label),
    )];
    if let Some(d) = &rule.description {
        ann.push(("description".to_string(), annotation(d, node_label)));
    }
    if let Some(a) = &rule.advice {
        ann.push(("advice".to_string(), annotation(a, node_label)));
    }
    ann.push((
        "explain".to_string(),
        format!("coroner rules explain {}", rule.id),
    ));
    (labels, ann)
}

/// The rules file: one group per pack, comments for what is not expressed.
pub fn render(title: &str, exported: &[Exported]) -> String {
    let mut out = String::new();
    for line in title.lines() {
        out.push_str(&format!("# {line}\n"));
    }
    let expressed = exported.iter().filter(|e| e.result.is_ok()).count();
    out.push_str(&format!(
        "# {expressed} of {} rules expressed; the others are listed as comments with the reason.\n",
        exported.len()
    ));
    out.push_str("groups:\n");
    let mut packs: Vec<&str> = Vec::new();
    for e in exported {
        if !packs.contains(&e.pack.as_str()) {
            packs.push(&e.pack);
        }
    }
    for pack in packs {
        out.push_str(&format!(
            "  - name: {}\n",
            quote(&format!("coroner-{pack}"))
        ));
        let rules: Vec<&Exported> = exported.iter().filter(|e| e.pack == pack).collect();
        if rules.iter().all(|e| e.result.is_err()) {
            out.push_str("    rules: []\n");
        } else {
            out.push_str("    rules:\n");
        }
        for e in rules {
            match &e.result {
                Ok(a) => yaml::alert(&mut out, a),
                Err(reason) => {
                    out.push_str(&format!(
                        "      # not exported: {}: {}\n",
                        yaml::comment(&e.rule),
                        yaml::comment(reason)
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_durations_annotations() {
        assert_eq!(
            alert_name("nats-jetstream.api-queue-backlog"),
            "CoronerNatsJetstreamApiQueueBacklog"
        );
        assert_eq!(duration(10_000_000_000), "10s");
        assert_eq!(duration(90_000_000_000), "1m30s");
        assert_eq!(duration(250_000_000), "250ms");
        assert_eq!(duration(0), "0s");
        let a = annotation(
            "Find what paused {node} at {start}; {{ .Evil }}",
            "server_id",
        );
        assert_eq!(
            a,
            "Find what paused {{ $labels.server_id }} at the start of the alert; { { .Evil } }"
        );
        assert_eq!(
            expand(&a, "server_id", "n3"),
            "Find what paused n3 at the start of the alert; { { .Evil } }"
        );
    }
}
