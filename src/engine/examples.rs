//! Examples inside rules: a tiny reader for nats-server log lines and metric
//! samples, and the runner behind `coroner rules test`.
//!
//! Example lines (one per line, `#` comments):
//!
//! ```text
//! n2 | [1] 2026/11/24 19:19:06.100000 [WRN] 127.0.0.1:40520 - mid:238 - "dev-1" - Readloop processing time: 2.1s
//! repeat 20 every 1s n2 | [1] 2026/11/24 19:19:06.100000 [WRN] ...     # 20 copies, 1 s apart
//! sample n2 cpu 19:19:01 98.5
//! samples n2 cpu from 19:19:00 every 1s: 20 20 98*40 20          # v*N repeats a value
//! gap n3 19:00:04 19:00:49                                       # n3 answered no scrape
//! end 19:30:00                                                   # the data goes on until then
//! expect n2                                                      # (fire) a finding on n2
//! ```
//!
//! The real log parser lives in `parse`; this one only knows the plain
//! nats-server header, the connection prefix and the RAFT prefix.

use super::{MemMetrics, run_rules};
use crate::lang::RuleSet;
use crate::lang::ir::{Example, Rule};
use crate::model::{Event, Finding, Level, Location, Span, Timestamp, Value};
use regex::Regex;
use std::sync::{Arc, OnceLock};

fn header() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(
            r"^(?:\[\d+\] )?(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) \[(\w+)\] ?(.*)$",
        )
        .expect("static regex")
    })
}

fn conn_prefix() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r#"^(\S+) - (cid|wid|rid|gid|lid|lid_ws|mid|mid_ws):(\d+)(?: - "([^"]*)")?(?: - "([^"]*)")? - (.*)$"#).expect("static regex")
    })
}

fn raft_prefix() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"^RAFT \[([0-9A-Za-z]+) - ([^\]]+)\] (.*)$").expect("static regex")
    })
}

/// The parsed input of one example.
#[derive(Clone, Debug, Default)]
pub struct ExampleInput {
    pub events: Vec<Event>,
    pub metrics: MemMetrics,
    pub expect_nodes: Vec<String>,
}

/// Splits a message into prefix fields and the body the templates match.
pub fn strip_prefixes(msg: &str) -> (Vec<(Arc<str>, Value)>, &str) {
    let mut fields: Vec<(Arc<str>, Value)> = Vec::new();
    if let Some(c) = conn_prefix().captures(msg) {
        fields.push(("addr".into(), Value::Str(c[1].into())));
        fields.push(("conn".into(), Value::Str(c[2].into())));
        fields.push(("conn_id".into(), Value::Int(c[3].parse().unwrap_or(0))));
        let segs: Vec<&str> = [c.get(4), c.get(5)]
            .into_iter()
            .flatten()
            .map(|m| m.as_str())
            .collect();
        for s in segs {
            let is_acc = s.contains('/')
                && ["user:", "nkey:", "jwt:", "token"]
                    .iter()
                    .any(|k| s.contains(k));
            let name: Arc<str> = if is_acc {
                "account_user".into()
            } else {
                "client".into()
            };
            if !fields.iter().any(|(k, _)| *k == name) {
                fields.push((name, Value::Str(s.into())));
            }
        }
        let body = c.get(6).map_or("", |m| m.as_str());
        return (fields, body);
    }
    if let Some(c) = raft_prefix().captures(msg) {
        fields.push(("raft_node".into(), Value::Str(c[1].into())));
        fields.push(("raft_group".into(), Value::Str(c[2].into())));
        return (fields, c.get(3).map_or("", |m| m.as_str()));
    }
    (fields, msg)
}

fn parse_time(s: &str, date: (i32, u32, u32)) -> Option<Timestamp> {
    let (d, t) = match s.split_once(' ') {
        Some((d, t)) => (Some(d), t),
        None => (None, s),
    };
    let (y, mo, da) = match d {
        Some(d) => {
            let p: Vec<&str> = d.split(['/', '-']).collect();
            (
                p.first()?.parse().ok()?,
                p.get(1)?.parse().ok()?,
                p.get(2)?.parse().ok()?,
            )
        }
        None => date,
    };
    let (hms, frac) = t.split_once('.').unwrap_or((t, "0"));
    let p: Vec<u32> = hms
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    if p.len() != 3 {
        return None;
    }
    let frac = format!("{:0<9}", frac);
    let nanos: u32 = frac.get(..9)?.parse().ok()?;
    Timestamp::from_utc_parts(y, mo, da, p[0], p[1], p[2], nanos)
}

/// Parses one log line of an example: `NODE | <nats-server line>`.
fn log_line(line: &str, file: &Arc<str>, lineno: usize, rules: &RuleSet) -> Result<Event, String> {
    let (node, raw) = line
        .split_once('|')
        .ok_or("expected `NODE | [pid] yyyy/mm/dd hh:mm:ss.uuuuuu [LVL] message`")?;
    let node = node.trim();
    let raw = raw.trim_start();
    let c = header()
        .captures(raw)
        .ok_or("not a nats-server log line (`[pid] yyyy/mm/dd hh:mm:ss.uuuuuu [LVL] message`)")?;
    let n = |i: usize| c[i].parse::<u32>().unwrap_or(0);
    let ts = Timestamp::from_utc_parts(
        c[1].parse().unwrap_or(0),
        n(2),
        n(3),
        n(4),
        n(5),
        n(6),
        n(7) * 1000,
    )
    .ok_or("invalid date")?;
    let level = Level::parse(&c[8]).ok_or_else(|| format!("unknown level `{}`", &c[8]))?;
    let msg = c.get(9).map_or("", |m| m.as_str());
    let (mut fields, body) = strip_prefixes(msg);
    let cl = rules.classifier_ref().classify(body);
    fields.extend(cl.fields);
    Ok(Event {
        ts: Some(ts),
        node: node.into(),
        level,
        kind: cl.kind,
        fields,
        message: msg.into(),
        template: None,
        loc: Location {
            file: file.clone(),
            line: lineno as u64,
        },
        continuation: 0,
        repeat: 1,
        repeat_span: 0,
        absorbed: None,
        snapshot: false,
    })
}

/// Most samples one `samples` line may expand to.
const MAX_EXAMPLE_SAMPLES: usize = 100_000;

fn dur(s: &str) -> Option<i64> {
    crate::classify::parse_go_duration(s).map(|x| (x * 1e9).round() as i64)
}

/// Parses the lines of an example. Errors name the pack line.
pub fn parse_example(
    ex: &Example,
    file: &str,
    rules: &RuleSet,
) -> Result<ExampleInput, (usize, String)> {
    let file: Arc<str> = Arc::from(format!("{file}#example@{}", ex.line));
    let mut input = ExampleInput::default();
    // the date for bare times: the first log line's date
    let date = ex
        .lines
        .iter()
        .find_map(|(_, l)| {
            let raw = l.split_once('|')?.1.trim_start();
            let c = header().captures(raw)?;
            Some((c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?))
        })
        .unwrap_or((2026, 1, 1));
    for (lineno, line) in &ex.lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        let read = match words.first().copied() {
            Some("sample") => add_sample(&mut input, &words, date),
            Some("samples") => add_samples(&mut input, line, date),
            Some("gap") => add_gap(&mut input, &words, date),
            Some("end") => parse_time(&words[1..].join(" "), date)
                .map(|t| input.metrics.extend_span(Span::new(t, t)))
                .ok_or_else(|| String::from("invalid time")),
            Some("expect") => {
                if words.len() != 2 {
                    Err(String::from("expected `expect NODE`"))
                } else {
                    input.expect_nodes.push(words[1].to_string());
                    Ok(())
                }
            }
            Some("repeat") => add_repeat(&mut input, line, &file, *lineno, rules),
            _ => log_line(line, &file, *lineno, rules).map(|ev| input.events.push(ev)),
        };
        read.map_err(|m| (*lineno, m))?;
    }
    input
        .events
        .sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    crate::ingest::derive_fields(&mut input.events, &|_, _| true);
    Ok(input)
}

/// `sample NODE METRIC TIME VALUE` (TIME may be `yyyy/mm/dd hh:mm:ss`).
fn add_sample(
    input: &mut ExampleInput,
    words: &[&str],
    date: (i32, u32, u32),
) -> Result<(), String> {
    // sample NODE METRIC TIME VALUE  (TIME may be `yyyy/mm/dd hh:mm:ss`)
    if words.len() < 5 {
        return Err(String::from(
            "expected `sample NODE METRIC hh:mm:ss[.fff] VALUE`",
        ));
    }
    let (t, v) = if words.len() == 6 {
        (format!("{} {}", words[3], words[4]), words[5])
    } else {
        (words[3].to_string(), words[4])
    };
    let ts = parse_time(&t, date).ok_or_else(|| String::from("invalid time"))?;
    let v: f64 = v.parse().map_err(|_| String::from("invalid value"))?;
    input.metrics.add(words[1], words[2], [(ts, v)]);
    Ok(())
}

/// `samples NODE METRIC from TIME every DUR: v v*N _ ...` (`_`: no sample).
fn add_samples(input: &mut ExampleInput, line: &str, date: (i32, u32, u32)) -> Result<(), String> {
    // samples NODE METRIC from TIME every DUR: v v*N ...
    let (head, vals) = line
        .split_once(':')
        .map(|(h, _)| {
            let idx = line
                .find(": ")
                .or_else(|| line.rfind(':'))
                .unwrap_or(h.len());
            (&line[..idx], &line[idx + 1..])
        })
        .ok_or_else(|| {
            String::from("expected `samples NODE METRIC from hh:mm:ss every 1s: v v*N ...`")
        })?;
    let hw: Vec<&str> = head.split_whitespace().collect();
    if hw.len() != 7 || hw[3] != "from" || hw[5] != "every" {
        return Err(String::from(
            "expected `samples NODE METRIC from hh:mm:ss every 1s: v v*N ...`",
        ));
    }
    let t0 = parse_time(hw[4], date).ok_or_else(|| String::from("invalid time"))?;
    let step = dur(hw[6]).ok_or_else(|| String::from("invalid step duration"))?;
    let mut pts = Vec::new();
    for tok in vals.split_whitespace() {
        let (v, n) = match tok.split_once('*') {
            Some((v, n)) => (
                v,
                n.parse::<usize>()
                    .map_err(|_| String::from("invalid repeat count"))?,
            ),
            None => (tok, 1),
        };
        // Checked before expanding: `0*18446744073709551615` must not hang.
        if pts.len().saturating_add(n) > MAX_EXAMPLE_SAMPLES {
            return Err(String::from("too many samples (limit 100000)"));
        }
        for _ in 0..n {
            if v == "_" {
                pts.push(None);
            } else {
                pts.push(Some(
                    v.parse::<f64>()
                        .map_err(|_| format!("invalid value `{v}`"))?,
                ));
            }
        }
    }
    let points: Vec<(Timestamp, f64)> = pts
        .into_iter()
        .enumerate()
        .filter_map(|(k, v)| Some((t0.add(step.saturating_mul(k as i64)), v?)))
        .collect();
    input.metrics.add(hw[1], hw[2], points);
    Ok(())
}

/// `gap NODE TIME TIME`.
fn add_gap(input: &mut ExampleInput, words: &[&str], date: (i32, u32, u32)) -> Result<(), String> {
    if words.len() != 4 {
        return Err(String::from("expected `gap NODE hh:mm:ss hh:mm:ss`"));
    }
    let a = parse_time(words[2], date).ok_or_else(|| String::from("invalid time"))?;
    let b = parse_time(words[3], date).ok_or_else(|| String::from("invalid time"))?;
    input.metrics.add_gap(words[1], Span::new(a, b));
    Ok(())
}

/// `repeat N every DUR NODE | line`: the log line N times, DUR apart.
fn add_repeat(
    input: &mut ExampleInput,
    line: &str,
    file: &Arc<str>,
    lineno: usize,
    rules: &RuleSet,
) -> Result<(), String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    // repeat N every DUR NODE | line
    if words.len() < 5 || words[2] != "every" {
        return Err(String::from(
            "expected `repeat N every DUR NODE | <log line>`",
        ));
    }
    let n: usize = words[1]
        .parse()
        .map_err(|_| String::from("invalid count"))?;
    if n > 100_000 {
        return Err(String::from("too many repetitions (limit 100000)"));
    }
    let step = dur(words[3]).ok_or_else(|| String::from("invalid duration"))?;
    let rest = line.splitn(5, char::is_whitespace).nth(4).unwrap_or("");
    let ev = log_line(rest, file, lineno, rules)?;
    for k in 0..n {
        let mut e = ev.clone();
        e.ts = ev.ts.map(|t| t.add(step.saturating_mul(k as i64)));
        input.events.push(e);
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExampleOutcome {
    Pass,
    /// A `fire` example produced no finding of the rule (or none on the expected node).
    Missed,
    /// A `quiet` example produced findings.
    FalsePositive,
    /// The example itself is malformed.
    Invalid {
        line: usize,
        message: String,
    },
}

#[derive(Clone, Debug)]
pub struct ExampleResult {
    pub rule: Arc<str>,
    pub fire: bool,
    pub name: Option<String>,
    pub line: usize,
    pub outcome: ExampleOutcome,
    /// Findings of the rule under test.
    pub findings: Vec<Finding>,
}

/// The rule plus every rule its cascades read (transitively).
fn with_deps(rules: &RuleSet, rule: &Rule) -> Vec<Rule> {
    let mut out: Vec<Rule> = vec![rule.clone()];
    let mut i = 0;
    while i < out.len() {
        for d in out[i].detect.depends_on() {
            if !out.iter().any(|r| r.id == d)
                && let Some(r) = rules.rule(&d)
            {
                out.push(r.clone());
            }
        }
        i += 1;
    }
    out
}

/// Runs one example of `rule`.
pub fn run_example(rules: &RuleSet, rule: &Rule, ex: &Example) -> ExampleResult {
    let mut res = ExampleResult {
        rule: rule.id.clone(),
        fire: ex.fire,
        name: ex.name.clone(),
        line: ex.line,
        outcome: ExampleOutcome::Pass,
        findings: Vec::new(),
    };
    let mut input = match parse_example(ex, &rule.file, rules) {
        Ok(i) => i,
        Err((line, message)) => {
            res.outcome = ExampleOutcome::Invalid { line, message };
            return res;
        }
    };
    let set = with_deps(rules, rule);
    let releases = super::releases::NodeReleases::build(&input.events, &input.metrics);
    super::releases::annotate(&mut input.events, &releases, &|_| true);
    let findings: Vec<Finding> = run_rules(&set, &input.events, &input.metrics)
        .into_iter()
        .filter(|f| f.rule == rule.id)
        .collect();
    let ok = if ex.fire {
        !findings.is_empty()
            && input.expect_nodes.iter().all(|n| {
                findings
                    .iter()
                    .any(|f| f.node.as_deref() == Some(n.as_str()))
            })
    } else {
        findings.is_empty()
    };
    if !ok {
        res.outcome = if ex.fire {
            ExampleOutcome::Missed
        } else {
            ExampleOutcome::FalsePositive
        };
    }
    res.findings = findings;
    res
}

/// Runs every example of every rule (in parallel), in rule order.
pub fn run_examples(rules: &RuleSet) -> Vec<ExampleResult> {
    use rayon::prelude::*;
    rules
        .rules()
        .par_iter()
        .flat_map_iter(|r| {
            r.examples
                .iter()
                .map(move |ex| run_example(rules, r, ex))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_example_passes() {
        let set = RuleSet::builtin();
        let results = run_examples(&set);
        let failures: Vec<String> = results
            .iter()
            .filter(|r| r.outcome != ExampleOutcome::Pass)
            .map(|r| {
                format!(
                    "{} example {} (line {}): {:?}; findings: {:?}",
                    r.rule,
                    r.name
                        .as_deref()
                        .unwrap_or(if r.fire { "fire" } else { "quiet" }),
                    r.line,
                    r.outcome,
                    r.findings
                        .iter()
                        .map(|f| (&f.node, f.start.hms_millis(), &f.message))
                        .collect::<Vec<_>>()
                )
            })
            .collect();
        assert!(
            failures.is_empty(),
            "{} failing examples:\n{}",
            failures.len(),
            failures.join("\n")
        );
        assert!(results.len() >= 80);
    }
}
