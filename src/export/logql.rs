//! Log rules → Loki ruler rules: `count_over_time({SELECTOR} |~ `RE` [W]) > n`.
//!
//! The regular expression is built from the message templates of the kinds
//! a rule selects: literal pieces escaped, captures as `.*`, unanchored (the
//! line also holds the header and connection prefix). Conditions on captured
//! fields (`where elapsed >= 2s`) have no LogQL line-filter equivalent and
//! are reported as not exported; `level` conditions become a filter on the
//! `[WRN]`-style level tag.

use super::{Alert, Exported, common, duration};
use crate::lang::RuleSet;
use crate::lang::ir::{Agg, CmpOp, Detect, FieldRef, Operand, Pred, Rule, Sel};
use crate::model::Level;

#[derive(Clone, Debug)]
pub struct LokiOptions {
    /// The stream selector of the NATS servers' logs, e.g. `{app="nats"}`.
    pub selector: String,
    /// The stream label that names the server (for annotations).
    pub node_label: String,
}

/// Checks a stream selector's outer form: `{...}` with at least one matcher.
pub fn check_selector(s: &str) -> Result<(), String> {
    let t = s.trim();
    if !(t.starts_with('{') && t.ends_with('}')) || t.len() < 5 || !t.contains(['=', '~']) {
        return Err(format!(
            "`{s}` is not a LogQL stream selector; write e.g. {{app=\"nats\"}} or {{namespace=\"nats\",container=\"nats\"}}"
        ));
    }
    if t.contains('`') {
        return Err(format!("`{s}`: backticks are not allowed in the selector"));
    }
    Ok(())
}

/// Escapes text for an RE2 regular expression inside a LogQL backtick string.
fn re_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '`' => out.push_str(r"\x60"),
            c if c.is_control() => out.push_str(&format!(r"\x{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A template pattern (`Readloop processing time: {elapsed:duration}`) as a regex.
pub fn template_regex(pattern: &str) -> String {
    let mut out = String::new();
    let mut lit = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                lit.push('}');
            }
            '{' => {
                for d in chars.by_ref() {
                    if d == '}' {
                        break;
                    }
                }
                out.push_str(&re_escape(&lit));
                lit.clear();
                if !out.ends_with(".*") {
                    out.push_str(".*");
                }
            }
            c => lit.push(c),
        }
    }
    out.push_str(&re_escape(&lit));
    // Trim leading/trailing wildcards: the match is unanchored.
    let t = out.trim_start_matches(".*");
    let t = t.strip_suffix(".*").unwrap_or(t);
    t.to_string()
}

/// The level tags at or above `l` in nats-server's header.
fn level_filter(l: Level, op: CmpOp) -> Option<String> {
    let all = [
        (Level::Trace, "TRC"),
        (Level::Debug, "DBG"),
        (Level::Info, "INF"),
        (Level::Warn, "WRN"),
        (Level::Error, "ERR"),
        (Level::Fatal, "FTL"),
    ];
    let tags: Vec<&str> = all
        .iter()
        .filter(|(x, _)| match op {
            CmpOp::Ge => *x >= l,
            CmpOp::Gt => *x > l,
            CmpOp::Le => *x <= l,
            CmpOp::Lt => *x < l,
            CmpOp::Eq => *x == l,
            CmpOp::Ne => *x != l,
        })
        .map(|(_, t)| *t)
        .collect();
    (!tags.is_empty()).then(|| format!(r"\[({})\]", tags.join("|")))
}

/// The line filters of a selector: `|~ `kinds`` and a level filter.
fn filters(sel: &Sel, set: &RuleSet) -> Result<String, String> {
    let mut out = String::new();
    if let Some(kinds) = &sel.kinds {
        let mut res: Vec<String> = Vec::new();
        for k in kinds {
            let pats: Vec<String> = set
                .templates()
                .iter()
                .filter(|t| t.kind == *k)
                .map(|t| template_regex(&t.pattern))
                .collect();
            if pats.is_empty() {
                return Err(format!("kind `{k}` has no message template"));
            }
            for p in pats {
                if p.len() < 6 {
                    return Err(format!(
                        "the message of `{k}` has too little fixed text to filter lines on"
                    ));
                }
                if !res.contains(&p) {
                    res.push(p);
                }
            }
        }
        out.push_str(&format!(" |~ `{}`", res.join("|")));
    }
    if let Some(p) = &sel.pred {
        match p {
            Pred::Cmp(Operand::Field(FieldRef::Level), op, Operand::Level(l))
            | Pred::Cmp(Operand::Level(l), op, Operand::Field(FieldRef::Level)) => {
                let f = level_filter(*l, *op).ok_or("a level condition no line meets")?;
                out.push_str(&format!(" |~ `{f}`"));
            }
            _ => {
                return Err(
                    "a condition on captured fields (`where ...`), which a LogQL line filter cannot test"
                        .into(),
                );
            }
        }
    }
    if out.is_empty() {
        return Err("selects every line (no message kind)".into());
    }
    Ok(out)
}

/// One rule as a Loki alert, or why not.
pub fn rule(r: &Rule, set: &RuleSet, o: &LokiOptions) -> Result<Alert, String> {
    let (sel, within, op, value) = match &r.detect {
        Detect::Event { sel, by } => {
            if by.iter().any(|b| &**b != "node") {
                return Err("groups hits by captured fields".into());
            }
            (sel, 60_000_000_000, CmpOp::Gt, 0.0)
        }
        Detect::Window {
            agg: Agg::Count,
            field: None,
            sel,
            op,
            value,
            within,
            by,
        } => {
            if by.iter().any(|b| &**b != "node") {
                return Err("counts per captured field (`by ...`)".into());
            }
            (sel, *within, *op, *value)
        }
        Detect::Window { .. } => {
            return Err(
                "an aggregate of captured values (sum/avg/max/distinct), not a line count".into(),
            );
        }
        Detect::Metric(_) => return Err("a metric condition (see --format prometheus)".into()),
        Detect::NotFollowed { .. } => {
            return Err("an absence (`not followed by`), which a count cannot express".into());
        }
        Detect::Sequence { .. } => return Err("an ordered sequence of steps".into()),
        Detect::Silence { .. } => {
            return Err(
                "silence of a node while its peers log: needs a comparison across streams".into(),
            );
        }
        Detect::Gap { .. } => return Err("a gap in metric scrapes, not a log condition".into()),
        Detect::Cascade { .. } => return Err("a cascade of other rules' findings".into()),
    };
    let f = filters(sel, set)?;
    let op = match op {
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
        CmpOp::Ne => "!=",
        _ => return Err("a count compared with <, <= or ==".into()),
    };
    let n = if value.fract() == 0.0 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    };
    let (labels, annotations) = common(r, &o.node_label);
    Ok(Alert {
        alert: super::alert_name(&r.id),
        expr: format!(
            "count_over_time({}{f} [{}]) {op} {n}",
            o.selector.trim(),
            duration(within)
        ),
        for_: None,
        labels,
        annotations,
        notes: Vec::new(),
    })
}

/// Every rule of the set, in pack order.
pub fn export(set: &RuleSet, o: &LokiOptions) -> Vec<Exported> {
    set.rules()
        .iter()
        .map(|r| Exported {
            rule: r.id.to_string(),
            pack: r.pack.to_string(),
            result: rule(r, set, o),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_become_unanchored_regexes() {
        assert_eq!(
            template_regex("Readloop processing time: {elapsed:duration}"),
            "Readloop processing time: "
        );
        assert_eq!(
            template_regex("JetStream cluster stream '{stream}' has NO quorum, stalled"),
            "JetStream cluster stream '.*' has NO quorum, stalled"
        );
        assert_eq!(template_regex("a {{b}} (c)"), r"a \{b\} \(c\)");
    }

    #[test]
    fn builtin_log_rules_export_with_valid_regexes() {
        let set = RuleSet::builtin();
        let o = LokiOptions {
            selector: r#"{app="nats"}"#.into(),
            node_label: "pod".into(),
        };
        let ex = export(&set, &o);
        let ok: Vec<&Alert> = ex.iter().filter_map(|e| e.result.as_ref().ok()).collect();
        assert!(ok.len() >= 20, "{} log rules exported", ok.len());
        for a in &ok {
            assert!(
                a.expr.starts_with(r#"count_over_time({app="nats"} |~ `"#),
                "{}",
                a.expr
            );
            for part in a.expr.split('`').skip(1).step_by(2) {
                regex::Regex::new(part).unwrap_or_else(|e| panic!("{}: {e}", a.expr));
            }
        }
        let stall = ex
            .iter()
            .find(|e| e.rule == "nats-cluster.route-retries")
            .unwrap();
        assert!(
            stall.result.is_err(),
            "a `where attempt >= 2` rule is not exported"
        );
        assert!(check_selector("app=nats").is_err());
        assert!(check_selector(r#"{app="nats"}"#).is_ok());
    }
}
