//! AST → IR: resolves kinds, fields, metrics, categories, rule references and
//! regexes, and reports every problem as a [`Diagnostic`]. A rule with an
//! error is left out; the others load.

use super::ast::{self, Detect as AD, Sp};
use super::diag::{Diagnostic, SourceMap, did_you_mean};
use super::ir::*;
use crate::classify::Template;
use crate::model::{Level, Meaning, Release, ReleaseRange, Severity, Value, Weight};
use crate::vocab;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// Maximum compiled size of a regex in a rule (bytes of the compiled program).
pub const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// Maximum length of a regex pattern in a rule.
pub const REGEX_MAX_LEN: usize = 1000;

/// A template declared in a pack.
#[derive(Clone, Debug)]
pub struct TemplateInfo {
    pub kind: Arc<str>,
    pub pattern: Arc<str>,
    pub catalog: Option<Arc<str>>,
    pub pack: Arc<str>,
    pub file: Arc<str>,
    pub line: usize,
    pub compiled: Template,
    /// What the message means (`means`, `evidence`, `weight`, `releases`);
    /// `None` when the template declares no complete meaning (W0104).
    pub meaning: Option<Arc<Meaning>>,
}

/// One parsed pack, ready to check.
pub struct ParsedPack<'a> {
    pub name: Arc<str>,
    pub map: SourceMap<'a>,
    pub ast: ast::PackFile,
}

/// Checks all packs together (rules may refer to templates and rules of other packs).
pub fn check(
    packs: &[ParsedPack<'_>],
    diags: &mut Vec<Diagnostic>,
) -> (Vec<TemplateInfo>, Vec<Rule>) {
    // 1. templates
    let mut templates = Vec::new();
    for p in packs {
        for t in &p.ast.templates {
            match Template::new(&t.kind.v, &t.pattern.v) {
                Ok(compiled) => {
                    let meaning = template_meaning(t, &p.map, diags).map(Arc::new);
                    templates.push(TemplateInfo {
                        kind: t.kind.v.as_str().into(),
                        pattern: t.pattern.v.as_str().into(),
                        catalog: t.catalog.as_ref().map(|c| c.v.as_str().into()),
                        pack: p.name.clone(),
                        file: p.map.file.clone(),
                        line: p.map.line_col(t.span.start).0,
                        compiled: compiled.with_meaning(meaning.clone()),
                        meaning,
                    })
                }
                Err(e) => {
                    // +1 for the opening quote; offsets are bytes of the unescaped pattern (close enough)
                    let at = (t.pattern.span.start + 1 + e.offset).min(t.pattern.span.end);
                    diags.push(p.map.diag(
                        "E0008",
                        at,
                        at + 1,
                        format!("invalid template pattern: {}", e.message),
                        None,
                    ));
                }
            }
        }
    }
    let mut fields_by_kind: HashMap<Arc<str>, BTreeSet<String>> = HashMap::new();
    for t in &templates {
        let e = fields_by_kind.entry(t.kind.clone()).or_default();
        for (n, _) in t.compiled.capture_names() {
            e.insert(n.to_string());
        }
    }
    fields_by_kind.entry("unknown".into()).or_default();

    // 2. all rule ids (later definitions replace earlier ones from other files)
    let mut all_ids: Vec<String> = Vec::new();
    for p in packs {
        let mut seen_here: HashMap<&str, usize> = HashMap::new();
        for r in &p.ast.rules {
            if let Some(prev) = seen_here.insert(&r.id.v, r.id.span.start) {
                let (l, _) = p.map.line_col(prev);
                diags.push(p.map.diag(
                    "E0007",
                    r.id.span.start,
                    r.id.span.end,
                    format!(
                        "rule `{}` is defined twice in this file (first at line {l})",
                        r.id.v
                    ),
                    None,
                ));
            }
            all_ids.push(r.id.v.clone());
        }
    }

    // 3. rules
    let mut rules: Vec<Rule> = Vec::new();
    for p in packs {
        let cx = Cx {
            map: &p.map,
            fields_by_kind: &fields_by_kind,
            all_ids: &all_ids,
        };
        let mut seen_here = HashSet::new();
        for r in &p.ast.rules {
            if !seen_here.insert(r.id.v.as_str()) {
                continue;
            }
            let before = diags.iter().filter(|d| d.is_error()).count();
            let rule = cx.rule(r, &p.name, diags);
            let after = diags.iter().filter(|d| d.is_error()).count();
            if let Some(rule) = rule.filter(|_| after == before) {
                if let Some(pos) = rules.iter().position(|x| x.id == rule.id) {
                    rules.remove(pos);
                }
                rules.push(rule);
            }
        }
    }

    // 4. cascade cycles
    let deps: HashMap<&str, Vec<Arc<str>>> = rules
        .iter()
        .map(|r| (&*r.id, r.detect.depends_on()))
        .collect();
    let mut bad = HashSet::new();
    for r in &rules {
        if reaches(&deps, &r.id, &r.id, &mut HashSet::new()) {
            bad.insert(r.id.clone());
            let p = packs.iter().find(|p| p.map.file == r.file);
            if let Some(p) = p {
                let off = p
                    .ast
                    .rules
                    .iter()
                    .find(|x| *x.id.v == *r.id)
                    .map_or(0, |x| x.id.span.start);
                diags.push(p.map.diag(
                    "E0019",
                    off,
                    off + r.id.len(),
                    format!(
                        "rule `{}` depends on its own findings through cascades",
                        r.id
                    ),
                    None,
                ));
            }
        }
    }
    rules.retain(|r| !bad.contains(&r.id));
    (templates, rules)
}

/// Checks a template's meaning lines: categories from the vocabulary (E0004),
/// a known weight (E0024), a valid release range (E0025); a template without
/// all four is loaded without a meaning (W0104).
fn template_meaning(
    t: &ast::TemplateDecl,
    map: &SourceMap<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Meaning> {
    let mut ok = true;
    let mut evidence = Vec::new();
    for c in &t.evidence {
        if vocab::category::category(&c.v).is_some() {
            evidence.push(Arc::from(c.v.as_str()));
        } else {
            ok = false;
            diags.push(map.diag(
                "E0004",
                c.span.start,
                c.span.end,
                format!("unknown cause category `{}`", c.v),
                did_you_mean(&c.v, vocab::category::names()).or_else(|| {
                    Some(format!(
                        "categories are: {}",
                        vocab::category::names().collect::<Vec<_>>().join(", ")
                    ))
                }),
            ));
        }
    }
    let weight = match &t.weight {
        Some(w) => match Weight::parse(&w.v) {
            Some(w) => Some(w),
            None => {
                ok = false;
                diags.push(
                    map.diag(
                        "E0024",
                        w.span.start,
                        w.span.end,
                        format!("unknown weight `{}`", w.v),
                        did_you_mean(&w.v, Weight::NAMES.iter().copied())
                            .or_else(|| Some("weights are: decisive, few, context".into())),
                    ),
                );
                None
            }
        },
        None => None,
    };
    let releases = match &t.releases {
        Some(r) => match ReleaseRange::parse(&r.v) {
            Ok(range) => Some(range),
            Err(e) => {
                ok = false;
                diags.push(map.diag(
                    "E0025",
                    r.span.start,
                    r.span.end,
                    format!("invalid release range: {e}"),
                    Some("write `2.2.0..`, `2.10.8..2.10.20` or `2.0.0..2.10`".into()),
                ));
                None
            }
        },
        None => None,
    };
    let mut missing = Vec::new();
    if t.means.as_ref().is_none_or(|m| m.v.trim().is_empty()) {
        missing.push("means");
    }
    if t.evidence.is_empty() {
        missing.push("evidence");
    }
    if t.weight.is_none() {
        missing.push("weight");
    }
    if t.releases.is_none() {
        missing.push("releases");
    }
    if !missing.is_empty() {
        diags.push(
            map.diag(
                "W0104",
                t.kind.span.start,
                t.kind.span.end,
                format!(
                    "template `{}` has no {}: it carries no meaning",
                    t.kind.v,
                    missing.join(", ")
                ),
                Some(
                    "add indented lines under it: `means \"...\"`, `evidence <category>`, \
                 `weight decisive|few|context`, `releases 2.2.0..`"
                        .into(),
                ),
            ),
        );
        return None;
    }
    if !ok {
        return None;
    }
    Some(Meaning {
        means: t.means.as_ref()?.v.trim().into(),
        evidence,
        weight: weight?,
        releases: releases?,
    })
}

fn reaches(
    deps: &HashMap<&str, Vec<Arc<str>>>,
    from: &str,
    target: &str,
    seen: &mut HashSet<String>,
) -> bool {
    for d in deps.get(from).into_iter().flatten() {
        if &**d == target {
            return true;
        }
        if seen.insert(d.to_string()) && reaches(deps, d, target, seen) {
            return true;
        }
    }
    false
}

struct Cx<'a, 'm> {
    map: &'a SourceMap<'m>,
    fields_by_kind: &'a HashMap<Arc<str>, BTreeSet<String>>,
    all_ids: &'a [String],
}

fn glob_match(pat: &str, s: &str) -> bool {
    match pat.split_once('*') {
        None => pat == s,
        Some((pre, post)) => {
            s.len() >= pre.len() + post.len()
                && s.starts_with(pre)
                && glob_match_rest(post, &s[pre.len()..])
        }
    }
}

fn glob_match_rest(pat: &str, s: &str) -> bool {
    if !pat.contains('*') {
        return s.ends_with(pat);
    }
    (0..=s.len())
        .filter(|&i| s.is_char_boundary(i))
        .any(|i| glob_match(pat, &s[i..]))
}

impl Cx<'_, '_> {
    fn err(
        &self,
        diags: &mut Vec<Diagnostic>,
        code: &'static str,
        span: ast::Span,
        msg: String,
        hint: Option<String>,
    ) {
        diags.push(self.map.diag(code, span.start, span.end, msg, hint));
    }

    fn rule(
        &self,
        r: &ast::RuleDecl,
        pack: &Arc<str>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Rule> {
        let title = r.title.as_ref().map(|t| t.v.clone());
        if title.is_none() {
            self.missing(r, "title", diags);
        }
        let severity = self.rule_severity(r, diags);
        let category = self.rule_category(r, diags);
        let detect = match &r.when {
            None => {
                self.missing(r, "when", diags);
                None
            }
            Some(w) => self.detect(&w.v, w.span, diags, false),
        };
        let mut explains = Vec::new();
        for e in &r.explains {
            let hits = self.refs(e, diags);
            explains.extend(hits);
        }
        for (name, s) in [("message", &r.message), ("advice", &r.advice)] {
            if let Some(s) = s {
                self.placeholders(name, s, diags);
            }
        }
        for c in &r.collect {
            self.placeholders("collect", c, diags);
        }
        self.examples_present(r, diags);
        let merge = r
            .merge
            .as_ref()
            .map(|m| m.v)
            .unwrap_or_else(|| match &detect {
                Some(Detect::Window { within, .. }) | Some(Detect::Sequence { within, .. }) => {
                    (*within).max(60_000_000_000)
                }
                _ => 60_000_000_000,
            });
        let fixed = match &r.fixed {
            Some(f) => match Release::parse(&f.v) {
                Some(v) => Some(v),
                None => {
                    self.err(
                        diags,
                        "E0025",
                        f.span,
                        format!("`{}` is not a release such as `2.10.9`", f.v),
                        None,
                    );
                    None
                }
            },
            None => None,
        };
        let (line, _) = self.map.line_col(r.id.span.start);
        let source = self.map.src
            [r.span.start.min(self.map.src.len())..r.span.end.min(self.map.src.len())]
            .to_string();
        Some(Rule {
            id: r.id.v.as_str().into(),
            title: title?.into(),
            description: r.description.as_ref().map(|d| d.v.as_str().into()),
            severity: severity?,
            category: category?.into(),
            pack: pack.clone(),
            file: self.map.file.clone(),
            line,
            detect: detect?,
            message: r
                .message
                .as_ref()
                .or(r.title.as_ref())
                .map(|m| m.v.as_str().into())?,
            advice: r.advice.as_ref().map(|a| a.v.as_str().into()),
            collect: r.collect.iter().map(|c| c.v.as_str().into()).collect(),
            explains,
            merge,
            fixed,
            examples: self.examples(r),
            source: source.into(),
        })
    }

    /// E0010: the rule lacks a required clause.
    fn missing(&self, r: &ast::RuleDecl, name: &str, diags: &mut Vec<Diagnostic>) {
        self.err(
            diags,
            "E0010",
            r.id.span,
            format!("rule `{}` has no `{name}`", r.id.v),
            None,
        );
    }

    fn rule_severity(&self, r: &ast::RuleDecl, diags: &mut Vec<Diagnostic>) -> Option<Severity> {
        match &r.severity {
            None => {
                self.missing(r, "severity", diags);
                None
            }
            Some(s) => match Severity::parse(&s.v) {
                Some(x) => Some(x),
                None => {
                    let names = ["info", "low", "medium", "high", "critical"];
                    self.err(
                        diags,
                        "E0005",
                        s.span,
                        format!("unknown severity `{}`", s.v),
                        did_you_mean(&s.v, names)
                            .or_else(|| Some(format!("one of {}", names.join(", ")))),
                    );
                    None
                }
            },
        }
    }

    fn rule_category(&self, r: &ast::RuleDecl, diags: &mut Vec<Diagnostic>) -> Option<String> {
        match &r.category {
            None => {
                self.missing(r, "category", diags);
                None
            }
            Some(c) => {
                if vocab::category::category(&c.v).is_some() {
                    Some(c.v.clone())
                } else {
                    self.err(
                        diags,
                        "E0004",
                        c.span,
                        format!("unknown cause category `{}`", c.v),
                        did_you_mean(&c.v, vocab::category::names())
                            .or_else(|| Some("see the category list in rules/README.md".into())),
                    );
                    None
                }
            }
        }
    }

    /// W0102/W0103: a rule should show that it fires and that it stays quiet.
    fn examples_present(&self, r: &ast::RuleDecl, diags: &mut Vec<Diagnostic>) {
        if r.examples.is_empty() {
            self.err(
                diags,
                "W0102",
                r.id.span,
                format!("rule `{}` has no examples", r.id.v),
                Some("add `example fire { ... }` and `example quiet { ... }`".into()),
            );
        } else if !r.examples.iter().any(|e| e.fire) || !r.examples.iter().any(|e| !e.fire) {
            let which = if r.examples.iter().any(|e| e.fire) {
                "quiet"
            } else {
                "fire"
            };
            self.err(
                diags,
                "W0103",
                r.id.span,
                format!("rule `{}` has no `{which}` example", r.id.v),
                None,
            );
        }
    }

    /// The rule's examples, with their lines' line numbers in the pack.
    fn examples(&self, r: &ast::RuleDecl) -> Vec<Example> {
        r.examples
            .iter()
            .map(|e| Example {
                fire: e.fire,
                name: e.name.clone(),
                lines: e
                    .lines
                    .iter()
                    .map(|(o, t)| (self.map.line_col(*o).0, t.clone()))
                    .collect(),
                line: self.map.line_col(e.span.start).0,
            })
            .collect()
    }

    fn placeholders(&self, what: &str, s: &Sp<String>, diags: &mut Vec<Diagnostic>) {
        let mut depth = 0i32;
        for c in s.v.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if !(0..=1).contains(&depth) {
                break;
            }
        }
        if depth != 0 {
            self.err(
                diags,
                "E0022",
                s.span,
                format!("unbalanced `{{` `}}` in {what}"),
                Some("placeholders look like `{count}` or `{node}`".into()),
            );
        }
    }

    fn refs(&self, e: &Sp<String>, diags: &mut Vec<Diagnostic>) -> Vec<Arc<str>> {
        let hits: Vec<Arc<str>> = self
            .all_ids
            .iter()
            .filter(|id| glob_match(&e.v, id))
            .map(|s| Arc::from(s.as_str()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if hits.is_empty() {
            self.err(
                diags,
                "E0012",
                e.span,
                format!("no rule `{}`", e.v),
                did_you_mean(&e.v, self.all_ids.iter().map(|s| s.as_str())),
            );
        }
        hits
    }

    fn detect(
        &self,
        d: &AD,
        span: ast::Span,
        diags: &mut Vec<Diagnostic>,
        in_seq: bool,
    ) -> Option<Detect> {
        Some(match d {
            AD::Event { sel, by } => {
                let s = self.sel(sel, diags)?;
                let by = self.keys(by, Some(sel), diags)?;
                Detect::Event { sel: s, by }
            }
            AD::Window {
                agg,
                field,
                sel,
                op,
                value,
                within,
                by,
            } => {
                if !self.window_ok(agg, field.as_ref(), sel, *op, within, diags) {
                    return None;
                }
                let s = self.sel(sel, diags)?;
                let by = self.keys(by, Some(sel), diags)?;
                Detect::Window {
                    agg: agg.v,
                    field: field.as_ref().map(|f| f.v.as_str().into()),
                    sel: s,
                    op: *op,
                    value: value.v,
                    within: within.v,
                    by,
                }
            }
            AD::Metric { cond, for_ } => self.metric(cond, for_.as_ref(), span, diags)?,
            AD::NotFollowed { a, b, within, by } => {
                let sa = self.sel(a, diags)?;
                let sb = self.sel(b, diags)?;
                let by = self.keys(by, Some(a), diags)?;
                Detect::NotFollowed {
                    a: sa,
                    b: sb,
                    within: within.v,
                    by,
                }
            }
            AD::Sequence { by, within, steps } => {
                if in_seq {
                    self.err(
                        diags,
                        "E0018",
                        span,
                        "sequences cannot be nested".into(),
                        None,
                    );
                    return None;
                }
                self.sequence(by, within.v, steps, span, diags)?
            }
            AD::Silence {
                sel,
                scrapes,
                dur,
                peers,
            } => Detect::Silence {
                sel: self.sel_opt(sel.as_ref(), diags)?,
                scrapes: *scrapes,
                dur: dur.v,
                peers: *peers,
            },
            AD::Gap { dur, peers } => Detect::Gap {
                dur: dur.v,
                peers: *peers,
            },
            AD::Cascade {
                origin,
                then,
                within,
                min,
            } => {
                if in_seq {
                    self.err(
                        diags,
                        "E0018",
                        span,
                        "a cascade cannot be a sequence step".into(),
                        None,
                    );
                    return None;
                }
                self.cascade(origin, then, within.v, *min, diags)?
            }
        })
    }

    /// An optional selector: `Some(None)` without one, `None` when it does
    /// not resolve.
    fn sel_opt(
        &self,
        sel: Option<&ast::Selector>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Option<Sel>> {
        match sel {
            Some(s) => Some(Some(self.sel(s, diags)?)),
            None => Some(None),
        }
    }

    /// A window's aggregate fits its test and has the field it needs (false:
    /// an error that leaves the rule out); the field is known and the window
    /// not empty (reported, the check goes on).
    fn window_ok(
        &self,
        agg: &Sp<Agg>,
        field: Option<&Sp<String>>,
        sel: &ast::Selector,
        op: CmpOp,
        within: &Sp<i64>,
        diags: &mut Vec<Diagnostic>,
    ) -> bool {
        if matches!(op, CmpOp::Lt | CmpOp::Le | CmpOp::Eq) && agg.v == Agg::Count {
            self.err(
                diags,
                "E0018",
                agg.span,
                "a window count can only be tested with >, >= or !=".into(),
                Some(
                    "to detect that something did not happen, use `silence` or `not followed by`"
                        .into(),
                ),
            );
            return false;
        }
        if agg.v != Agg::Count && field.is_none() {
            self.err(
                diags,
                "E0013",
                agg.span,
                format!(
                    "`{}` needs a field: `{}(FIELD of KIND)`",
                    agg.v.name(),
                    agg.v.name()
                ),
                None,
            );
            return false;
        }
        if let Some(f) = field {
            self.field_known(f, sel, diags);
        }
        if within.v <= 0 {
            self.err(
                diags,
                "E0015",
                within.span,
                "a window must be longer than 0".into(),
                None,
            );
        }
        true
    }

    /// `metric COND [for D]`: the condition, the first metric it names and
    /// its source text.
    fn metric(
        &self,
        cond: &ast::MCond,
        for_: Option<&Sp<i64>>,
        span: ast::Span,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Detect> {
        let mut first = None;
        let c = self.mcond(cond, &mut first, diags)?;
        let Some(primary) = first else {
            self.err(
                diags,
                "E0013",
                span,
                "a metric condition must name at least one metric".into(),
                None,
            );
            return None;
        };
        let text = self.map.src[span.start..span.end]
            .trim()
            .trim_start_matches("metric")
            .trim();
        Some(Detect::Metric(MetricCond {
            cond: c,
            for_: for_.map(|f| f.v),
            primary,
            text: text.into(),
        }))
    }

    /// `sequence [by k] within D { step ... }`: two steps or more, each able
    /// to carry every key.
    fn sequence(
        &self,
        by: &[Sp<String>],
        within: i64,
        steps: &[ast::Step],
        span: ast::Span,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Detect> {
        if steps.len() < 2 {
            self.err(
                diags,
                "E0010",
                span,
                "a sequence needs at least two steps".into(),
                None,
            );
            return None;
        }
        let keys = self.keys(by, None, diags)?;
        let mut out = Vec::new();
        for st in steps {
            out.push(self.sequence_step(st, by, diags)?);
        }
        Some(Detect::Sequence {
            by: keys,
            within,
            steps: out,
        })
    }

    fn sequence_step(
        &self,
        st: &ast::Step,
        by: &[Sp<String>],
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Step> {
        let det = self.detect(&st.detect.v, st.detect.span, diags, true)?;
        // every key must be available from every step
        let event_sel = match &st.detect.v {
            AD::Event { sel, .. } | AD::Window { sel, .. } => Some(sel),
            _ => None,
        };
        for k in by {
            if k.v == "node" {
                continue;
            }
            match event_sel {
                None => {
                    self.err(diags, "E0014", st.detect.span, format!("this step has no field `{}` (metric, gap and silence steps only carry `node`)", k.v), Some("group the sequence `by node` only, or make this step an event".into()));
                    return None;
                }
                Some(sel) => self.field_known(k, sel, diags),
            }
        }
        let without = self.sel_opt(st.without.as_ref(), diags)?;
        Some(Step {
            detect: det,
            without,
        })
    }

    /// `cascade R, ... then R, ... within D [min N]`: both rule lists resolve
    /// to at least one rule.
    fn cascade(
        &self,
        origin: &[Sp<String>],
        then: &[Sp<String>],
        within: i64,
        min: usize,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Detect> {
        let mut o = Vec::new();
        for r in origin {
            o.extend(self.refs(r, diags));
        }
        let mut t = Vec::new();
        for r in then {
            t.extend(self.refs(r, diags));
        }
        if o.is_empty() || t.is_empty() {
            return None;
        }
        Some(Detect::Cascade {
            origin: o,
            then: t,
            within,
            min,
        })
    }

    fn keys(
        &self,
        by: &[Sp<String>],
        sel: Option<&ast::Selector>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Vec<Arc<str>>> {
        let mut out = Vec::new();
        for k in by {
            if k.v == "node" {
                continue; // node is always part of the key
            }
            if let Some(sel) = sel {
                self.field_known(k, sel, diags);
            }
            out.push(Arc::from(k.v.as_str()));
        }
        Some(out)
    }

    /// Fields available for a selector: captures of its kinds, prefix fields, builtins.
    fn fields_for(&self, sel: &ast::Selector) -> Option<BTreeSet<String>> {
        if sel
            .kinds
            .iter()
            .any(|k| k.v == "any" || !self.fields_by_kind.contains_key(k.v.as_str()))
        {
            return None; // `any`, or an unknown kind (already reported)
        }
        let mut set: BTreeSet<String> = BTreeSet::new();
        for k in &sel.kinds {
            if let Some(f) = self.fields_by_kind.get(k.v.as_str()) {
                set.extend(f.iter().cloned());
            }
        }
        set.extend(PREFIX_FIELDS.iter().map(|s| s.to_string()));
        set.extend(BUILTIN_FIELDS.iter().map(|s| s.to_string()));
        Some(set)
    }

    fn field_known(&self, f: &Sp<String>, sel: &ast::Selector, diags: &mut Vec<Diagnostic>) {
        if let Some(set) = self.fields_for(sel)
            && !set.contains(&f.v)
            && !Level::ALL.iter().any(|l| l.name() == f.v)
        {
            {
                let kinds: Vec<&str> = sel.kinds.iter().map(|k| k.v.as_str()).collect();
                self.err(
                    diags,
                    "E0023",
                    f.span,
                    format!("no field `{}` in events of kind {}", f.v, kinds.join(" | ")),
                    did_you_mean(&f.v, set.iter().map(|s| s.as_str())).or_else(|| {
                        Some(format!(
                            "available: {}",
                            set.iter().cloned().collect::<Vec<_>>().join(", ")
                        ))
                    }),
                );
            }
        }
    }

    fn sel(&self, s: &ast::Selector, diags: &mut Vec<Diagnostic>) -> Option<Sel> {
        let mut kinds = Vec::new();
        let mut any = false;
        let mut ok = true;
        for k in &s.kinds {
            if k.v == "any" {
                any = true;
            } else if self.fields_by_kind.contains_key(k.v.as_str()) {
                kinds.push(Arc::from(k.v.as_str()));
            } else {
                ok = false;
                self.err(
                    diags,
                    "E0003",
                    k.span,
                    format!("unknown event kind `{}`", k.v),
                    did_you_mean(&k.v, self.fields_by_kind.keys().map(|k| &**k))
                        .or_else(|| Some("declare it with `template <kind> \"<pattern>\"`".into())),
                );
            }
        }
        let pred = match &s.cond {
            Some(c) => Some(self.pred(c, s, diags)?),
            None => None,
        };
        ok.then_some(Sel {
            kinds: (!any).then_some(kinds),
            pred,
        })
    }

    fn fieldref(
        &self,
        f: &Sp<String>,
        sel: &ast::Selector,
        diags: &mut Vec<Diagnostic>,
    ) -> FieldRef {
        match f.v.as_str() {
            "level" => FieldRef::Level,
            "node" => FieldRef::Node,
            "kind" => FieldRef::Kind,
            "message" | "msg" => FieldRef::Message,
            other => {
                self.field_known(f, sel, diags);
                FieldRef::Field(other.into())
            }
        }
    }

    fn operand(
        &self,
        o: &ast::Operand,
        other_is_level: bool,
        sel: &ast::Selector,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Operand> {
        Some(match o {
            ast::Operand::Lit(l) => {
                if other_is_level {
                    let name = match &l.v {
                        ast::Lit::Str(s) => s.clone(),
                        _ => String::new(),
                    };
                    match Level::parse(&name) {
                        Some(lv) => Operand::Level(lv),
                        None => {
                            self.err(
                                diags,
                                "E0020",
                                l.span,
                                "compare `level` with a level name".into(),
                                Some("trace, debug, info, warn, error, fatal".into()),
                            );
                            return None;
                        }
                    }
                } else {
                    Operand::Lit(lit_value(&l.v))
                }
            }
            ast::Operand::Field(f) => {
                if other_is_level {
                    match Level::parse(&f.v) {
                        Some(lv) => Operand::Level(lv),
                        None => {
                            self.err(
                                diags,
                                "E0020",
                                f.span,
                                format!("unknown level `{}`", f.v),
                                did_you_mean(&f.v, Level::ALL.iter().map(|l| l.name())),
                            );
                            return None;
                        }
                    }
                } else {
                    Operand::Field(self.fieldref(f, sel, diags))
                }
            }
        })
    }

    fn pred(
        &self,
        c: &ast::Cond,
        sel: &ast::Selector,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Pred> {
        let is_level = |o: &ast::Operand| matches!(o, ast::Operand::Field(f) if f.v == "level");
        Some(match c {
            ast::Cond::And(a, b) => Pred::And(
                Box::new(self.pred(a, sel, diags)?),
                Box::new(self.pred(b, sel, diags)?),
            ),
            ast::Cond::Or(a, b) => Pred::Or(
                Box::new(self.pred(a, sel, diags)?),
                Box::new(self.pred(b, sel, diags)?),
            ),
            ast::Cond::Not(a) => Pred::Not(Box::new(self.pred(a, sel, diags)?)),
            ast::Cond::Cmp(a, op, b) => {
                let la = self.operand(a, is_level(b), sel, diags)?;
                let lb = self.operand(b, is_level(a), sel, diags)?;
                Pred::Cmp(la, *op, lb)
            }
            ast::Cond::In(a, items, neg) => {
                let la = self.operand(a, false, sel, diags)?;
                Pred::In(la, items.iter().map(|l| lit_value(&l.v)).collect(), *neg)
            }
            ast::Cond::Match(a, re, neg) => {
                let la = self.operand(a, false, sel, diags)?;
                Pred::Match(la, self.regex(re, diags)?, *neg)
            }
            ast::Cond::InRange(a, r, neg) => {
                let la = self.operand(a, false, sel, diags)?;
                match ReleaseRange::parse(&r.v) {
                    Ok(range) => Pred::InRange(la, range, *neg),
                    Err(e) => {
                        self.err(
                            diags,
                            "E0025",
                            r.span,
                            format!("invalid release range: {e}"),
                            Some("write `2.10.0..2.10.8`, `2.9.0..` or `..2.10`".into()),
                        );
                        return None;
                    }
                }
            }
            ast::Cond::Has(f) => Pred::Has(self.fieldref(f, sel, diags)),
        })
    }

    fn regex(&self, re: &Sp<String>, diags: &mut Vec<Diagnostic>) -> Option<regex::Regex> {
        if re.v.len() > REGEX_MAX_LEN {
            self.err(
                diags,
                "E0009",
                re.span,
                format!("regex longer than {REGEX_MAX_LEN} characters"),
                None,
            );
            return None;
        }
        match regex::RegexBuilder::new(&re.v)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .build()
        {
            Ok(r) => Some(r),
            Err(e) => {
                let msg = match &e {
                    regex::Error::CompiledTooBig(_) => {
                        format!("regex too complex (compiled size over {REGEX_SIZE_LIMIT} bytes)")
                    }
                    other => format!(
                        "invalid regex: {}",
                        other.to_string().lines().last().unwrap_or("")
                    ),
                };
                self.err(diags, "E0009", re.span, msg, None);
                None
            }
        }
    }

    fn mcond(
        &self,
        c: &ast::MCond,
        first: &mut Option<Arc<str>>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<MC> {
        Some(match c {
            ast::MCond::Cmp(a, op, b) => MC::Cmp(
                self.mexpr(a, first, diags)?,
                *op,
                self.mexpr(b, first, diags)?,
            ),
            ast::MCond::And(a, b) => MC::And(
                Box::new(self.mcond(a, first, diags)?),
                Box::new(self.mcond(b, first, diags)?),
            ),
            ast::MCond::Or(a, b) => MC::Or(
                Box::new(self.mcond(a, first, diags)?),
                Box::new(self.mcond(b, first, diags)?),
            ),
        })
    }

    fn metric_name(
        &self,
        m: &Sp<String>,
        first: &mut Option<Arc<str>>,
        diags: &mut Vec<Diagnostic>,
    ) -> Arc<str> {
        if vocab::metric::metric(&m.v).is_none() {
            self.err(
                diags,
                "W0101",
                m.span,
                format!("unknown metric `{}`", m.v),
                did_you_mean(&m.v, vocab::metric::names()),
            );
        }
        let a: Arc<str> = m.v.as_str().into();
        if first.is_none() {
            *first = Some(a.clone());
        }
        a
    }

    fn mexpr(
        &self,
        e: &ast::MExpr,
        first: &mut Option<Arc<str>>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<MX> {
        const FUNCS: &[&str] = &[
            "peers",
            "peers_max",
            "peers_min",
            "avg",
            "max",
            "min",
            "baseline",
            "change",
            "rate",
        ];
        Some(match e {
            ast::MExpr::Num(n) => MX::Num(*n),
            ast::MExpr::Metric(m) => MX::Metric(self.metric_name(m, first, diags)),
            ast::MExpr::Bin(a, op, b) => MX::Bin(
                Box::new(self.mexpr(a, first, diags)?),
                *op,
                Box::new(self.mexpr(b, first, diags)?),
            ),
            ast::MExpr::Call(name, args) => {
                let metric_arg = |idx: usize,
                                  diags: &mut Vec<Diagnostic>,
                                  first: &mut Option<Arc<str>>|
                 -> Option<Arc<str>> {
                    match args.get(idx) {
                        Some(ast::MExpr::Metric(m)) => Some(self.metric_name(m, first, diags)),
                        _ => {
                            self.err(
                                diags,
                                "E0013",
                                name.span,
                                format!("`{}` takes a metric name as argument {}", name.v, idx + 1),
                                None,
                            );
                            None
                        }
                    }
                };
                let dur_arg = |diags: &mut Vec<Diagnostic>| -> Option<i64> {
                    match args.get(1) {
                        Some(ast::MExpr::Num(n)) if *n > 0.0 && args.len() == 2 => {
                            Some((n * 1e9) as i64)
                        }
                        _ => {
                            self.err(diags, "E0013", name.span, format!("`{}(metric, duration)` takes a metric and a duration such as `5m`", name.v), None);
                            None
                        }
                    }
                };
                match name.v.as_str() {
                    "peers" | "peers_max" | "peers_min" => {
                        if args.len() != 1 {
                            self.err(
                                diags,
                                "E0013",
                                name.span,
                                format!("`{}(metric)` takes one metric", name.v),
                                None,
                            );
                            return None;
                        }
                        let m = metric_arg(0, diags, first)?;
                        let agg = match name.v.as_str() {
                            "peers" => PeerAgg::Median,
                            "peers_max" => PeerAgg::Max,
                            _ => PeerAgg::Min,
                        };
                        MX::Peers(m, agg)
                    }
                    "avg" | "max" | "min" | "baseline" | "change" | "rate" => {
                        let m = metric_arg(0, diags, first)?;
                        let d = dur_arg(diags)?;
                        let f = match name.v.as_str() {
                            "avg" => WinFn::Avg,
                            "max" => WinFn::Max,
                            "min" => WinFn::Min,
                            "baseline" => WinFn::Baseline,
                            "change" => WinFn::Change,
                            _ => WinFn::Rate,
                        };
                        MX::Win(f, m, d)
                    }
                    other => {
                        self.err(
                            diags,
                            "E0013",
                            name.span,
                            format!("unknown function `{other}`"),
                            did_you_mean(other, FUNCS.iter().copied())
                                .or_else(|| Some(format!("functions: {}", FUNCS.join(", ")))),
                        );
                        return None;
                    }
                }
            }
        })
    }
}

fn lit_value(l: &ast::Lit) -> Value {
    match l {
        ast::Lit::Num(n) => {
            if n.fract() == 0.0 && n.abs() < 9e15 {
                Value::Int(*n as i64)
            } else {
                Value::Float(*n)
            }
        }
        ast::Lit::Str(s) => Value::Str(s.as_str().into()),
        ast::Lit::Bool(b) => Value::Bool(*b),
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("cluster.*", "cluster.route-closed"));
        assert!(glob_match("*", "x"));
        assert!(glob_match("a*c", "abbc"));
        assert!(!glob_match("a*c", "abbd"));
        assert!(glob_match("exact", "exact"));
    }
}
