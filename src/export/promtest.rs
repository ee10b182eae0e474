//! `promtool test rules` fixtures from the rules' examples: each metric
//! sample of an example becomes a sample of the exporter's series (a rate
//! becomes the counter it is the rate of, a percentage a used/limit pair, a
//! restart count a start time), and the alert is expected to fire where the
//! rule fires (its finding, as `coroner rules test` computes it) and to stay
//! silent on the quiet examples.

use super::promql::{Exporter, PromOptions, Source, source};
use super::yaml::quote;
use super::{Exported, duration, expand};
use crate::engine::examples::parse_example;
use crate::engine::{MetricSource, run_example};
use crate::lang::RuleSet;
use crate::lang::ir::{Detect, MC, MX, Rule};
use std::collections::BTreeMap;

/// The metrics a metric rule reads.
fn metrics_of(r: &Rule) -> Vec<String> {
    fn mx(e: &MX, out: &mut Vec<String>) {
        match e {
            MX::Num(_) => {}
            MX::Metric(m) | MX::Peers(m, _) | MX::Win(_, m, _) => {
                if !out.iter().any(|x| x == &**m) {
                    out.push(m.to_string());
                }
            }
            MX::Bin(a, _, b) => {
                mx(a, out);
                mx(b, out);
            }
        }
    }
    fn mc(c: &MC, out: &mut Vec<String>) {
        match c {
            MC::Cmp(a, _, b) => {
                mx(a, out);
                mx(b, out);
            }
            MC::And(a, b) | MC::Or(a, b) => {
                mc(a, out);
                mc(b, out);
            }
        }
    }
    let mut out = Vec::new();
    if let Detect::Metric(m) = &r.detect {
        mc(&m.cond, &mut out);
    }
    out
}

/// Series of one example in the exporter's names: (series name, node) → values per step.
struct Fixture {
    step_ns: i64,
    t0: i64,
    len: usize,
    series: BTreeMap<(String, String), Vec<Option<f64>>>,
}

fn fixture(r: &Rule, m: &crate::engine::MemMetrics, exporter: Exporter) -> Result<Fixture, String> {
    let names = metrics_of(r);
    let mut pts: Vec<(String, String, Vec<(i64, f64)>)> = Vec::new();
    for node in m.nodes() {
        for name in &names {
            if let Some(s) = m.series(&node, name) {
                pts.push((
                    node.to_string(),
                    name.clone(),
                    s.points.iter().map(|p| (p.ts.0, p.value)).collect(),
                ));
            }
        }
    }
    if pts.is_empty() {
        return Err("the example has no sample of the rule's metrics".into());
    }
    let t0 = pts
        .iter()
        .flat_map(|x| x.2.iter().map(|p| p.0))
        .min()
        .unwrap_or(0);
    let t1 = pts
        .iter()
        .flat_map(|x| x.2.iter().map(|p| p.0))
        .max()
        .unwrap_or(0);
    let step_ns = pts
        .iter()
        .flat_map(|x| x.2.windows(2).map(|w| w[1].0 - w[0].0))
        .filter(|d| *d > 0)
        .min()
        .unwrap_or(1_000_000_000);
    let len = usize::try_from((t1 - t0) / step_ns + 1).unwrap_or(1);
    if len > 20_000 {
        return Err("the example spans too many steps for a fixture".into());
    }
    let mut series: BTreeMap<(String, String), Vec<Option<f64>>> = BTreeMap::new();
    for (node, name, points) in pts {
        let src = source(&name, exporter)?;
        let idx = |t: i64| {
            usize::try_from((t - t0) / step_ns)
                .unwrap_or(0)
                .min(len - 1)
        };
        let mut put = |series_name: &str, i: usize, v: f64| {
            series
                .entry((series_name.to_string(), node.clone()))
                .or_insert_with(|| vec![None; len])[i] = Some(v);
        };
        match src {
            Source::Gauge(s) => {
                for (t, v) in &points {
                    put(s, idx(*t), *v);
                }
            }
            Source::CounterRate(c) => {
                // The counter whose per-second increase is the rate.
                let mut total = 1000.0;
                let mut prev: Option<i64> = None;
                for (t, v) in &points {
                    if let Some(p) = prev {
                        total += v.max(0.0) * (t - p) as f64 / 1e9;
                    }
                    prev = Some(*t);
                    put(c, idx(*t), total);
                }
            }
            Source::Pct(u, l) => {
                for (t, v) in &points {
                    put(l, idx(*t), 1e9);
                    put(u, idx(*t), v / 100.0 * 1e9);
                }
            }
            Source::Start(s) => {
                for (t, v) in &points {
                    put(s, idx(*t), 1.7e12 + v * 1000.0);
                }
            }
        }
    }
    Ok(Fixture {
        step_ns,
        t0,
        len,
        series,
    })
}

fn values(v: &[Option<f64>]) -> String {
    v.iter()
        .map(|x| match x {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Some(f) => format!("{f}"),
            None => "_".into(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The promtool test file for `exported` (written to `rules_file`), and
/// the examples left out with the reason.
pub fn tests(
    set: &RuleSet,
    exported: &[Exported],
    o: &PromOptions,
    rules_file: &str,
) -> (String, Vec<String>) {
    let node_label = o.node_label();
    let mut out = format!(
        "# promtool test rules: the examples of coroner's rules against the exported alerts.\nrule_files:\n  - {}\nevaluation_interval: 1s\ntests:\n",
        quote(rules_file)
    );
    let mut skipped = Vec::new();
    let mut count = 0;
    for e in exported {
        let Ok(alert) = &e.result else { continue };
        let Some(r) = set.rule(&e.rule) else { continue };
        for ex in &r.examples {
            let what = format!(
                "{} [{}] {}:{}",
                r.id,
                if ex.fire { "fire" } else { "quiet" },
                r.file,
                ex.line
            );
            let input = match parse_example(ex, &r.file, set) {
                Ok(i) => i,
                Err((line, m)) => {
                    skipped.push(format!("{what}: invalid at line {line}: {m}"));
                    continue;
                }
            };
            let fx = match fixture(r, &input.metrics, o.exporter) {
                Ok(f) => f,
                Err(m) => {
                    skipped.push(format!("{what}: {m}"));
                    continue;
                }
            };
            let at = |t: i64| duration(((t - fx.t0).max(0) / 1_000_000) * 1_000_000);
            let mut evals: Vec<(String, Vec<String>)> = Vec::new();
            if ex.fire {
                let res = run_example(set, r, ex);
                let Some(f) = res.findings.first() else {
                    skipped.push(format!("{what}: the rule itself does not fire"));
                    continue;
                };
                // The last instant of the finding: the condition has held
                // since its start, at least the rule's `for`.
                let t = f.end.0;
                let nodes: Vec<String> = res
                    .findings
                    .iter()
                    .filter(|g| g.start.0 <= t && g.end.0 >= t)
                    .filter_map(|g| g.node.as_deref().map(str::to_string))
                    .collect();
                evals.push((at(t), nodes));
            } else {
                let end = fx.t0 + fx.step_ns * (fx.len as i64 - 1);
                for k in 1..=3 {
                    let t = fx.t0 + (end - fx.t0) * k / 3;
                    evals.push((at(t), Vec::new()));
                }
            }
            count += 1;
            out.push_str(&format!("  - name: {}\n", quote(&what)));
            out.push_str(&format!("    interval: {}\n", duration(fx.step_ns)));
            out.push_str("    input_series:\n");
            for ((name, node), v) in &fx.series {
                out.push_str(&format!(
                    "      - series: {}\n        values: {}\n",
                    quote(&format!(
                        "{name}{{job=\"nats\",{node_label}={}}}",
                        serde_json::to_string(node).unwrap_or_default()
                    )),
                    quote(&values(v))
                ));
            }
            out.push_str("    alert_rule_test:\n");
            for (t, nodes) in evals {
                out.push_str(&format!(
                    "      - eval_time: {t}\n        alertname: {}\n",
                    quote(&alert.alert)
                ));
                if nodes.is_empty() {
                    out.push_str("        exp_alerts: []\n");
                    continue;
                }
                out.push_str("        exp_alerts:\n");
                for n in nodes {
                    out.push_str("          - exp_labels:\n");
                    let mut labels: Vec<(String, String)> = alert.labels.clone();
                    labels.push(("job".into(), "nats".into()));
                    labels.push((node_label.into(), n.clone()));
                    labels.sort();
                    for (k, v) in labels {
                        out.push_str(&format!("              {k}: {}\n", quote(&v)));
                    }
                    out.push_str("            exp_annotations:\n");
                    for (k, v) in &alert.annotations {
                        out.push_str(&format!(
                            "              {k}: {}\n",
                            quote(&expand(v, node_label, &n))
                        ));
                    }
                }
            }
        }
    }
    if count == 0 {
        out.push_str("  []\n");
    }
    (out, skipped)
}
