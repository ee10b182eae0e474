//! Text → [`ast`](super::ast), with nom 8. One small function per grammar
//! production (the grammar is in rules/README.md). Parsing never stops at the
//! first error: a rule that fails to parse is reported and skipped, and the
//! parser resumes at the next top-level item (`pack`, `template`, `rule` at
//! the start of a line).

use super::ast::*;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, digit1};
use nom::combinator::{opt, recognize};
use nom::error::{ErrorKind, ParseError};
use nom::{Err as NErr, IResult, Parser};

/// A parse error: where (the remaining input) and what was expected.
#[derive(Clone, Debug, PartialEq)]
pub struct PErr<'a> {
    pub at: &'a str,
    pub msg: String,
    pub code: &'static str,
    pub hint: Option<String>,
    pub len: usize,
}

impl<'a> PErr<'a> {
    fn new(at: &'a str, msg: impl Into<String>) -> PErr<'a> {
        PErr {
            at,
            msg: msg.into(),
            code: "E0001",
            hint: None,
            len: token_len(at),
        }
    }
}

fn token_len(s: &str) -> usize {
    let n = s
        .char_indices()
        .find(|(_, c)| c.is_whitespace())
        .map_or(s.len(), |(i, _)| i);
    n.clamp(1, 40)
}

impl<'a> ParseError<&'a str> for PErr<'a> {
    fn from_error_kind(input: &'a str, kind: ErrorKind) -> Self {
        PErr::new(input, format!("unexpected input ({kind:?})"))
    }
    fn append(_: &'a str, _: ErrorKind, other: Self) -> Self {
        other
    }
    fn or(self, other: Self) -> Self {
        // keep the error that got further
        if other.at.len() <= self.at.len() {
            other
        } else {
            self
        }
    }
}

type R<'a, T> = IResult<&'a str, T, PErr<'a>>;

/// A non-fatal problem found while parsing (the item was still produced).
#[derive(Clone, Debug)]
pub struct SyntaxIssue {
    pub start: usize,
    pub end: usize,
    pub code: &'static str,
    pub msg: String,
    pub hint: Option<String>,
}

pub const RULE_ATTRS: &[&str] = &[
    "title",
    "description",
    "severity",
    "category",
    "when",
    "message",
    "advice",
    "collect",
    "explains",
    "merge",
    "fixed",
    "example",
];

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "where", "within", "without", "by", "for", "then", "of", "has",
    "followed", "while", "peers", "active", "on", "min", "true", "false",
];

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}
fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}
fn is_rid_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '*')
}

/// Skips blanks, newlines and `#` comments.
fn ws(mut i: &str) -> &str {
    loop {
        let t = i.trim_start();
        if let Some(rest) = t.strip_prefix('#') {
            i = rest.find('\n').map_or("", |n| &rest[n..]);
        } else {
            return t;
        }
    }
}

/// Skips blanks and comments but not newlines.
fn ws_line(mut i: &str) -> &str {
    loop {
        let t = i.trim_start_matches([' ', '\t', '\r']);
        if let Some(rest) = t.strip_prefix('#') {
            i = rest.find('\n').map_or("", |n| &rest[n..]);
        } else {
            return t;
        }
    }
}

pub struct PackParser<'s> {
    src: &'s str,
    pub issues: Vec<SyntaxIssue>,
}

/// Parses one pack file. Returns the items that parsed and every problem met.
pub fn parse_pack(src: &str) -> (PackFile, Vec<SyntaxIssue>) {
    let mut p = PackParser {
        src,
        issues: Vec::new(),
    };
    let pack = p.file();
    (pack, p.issues)
}

impl<'s> PackParser<'s> {
    fn off(&self, rest: &str) -> usize {
        self.src.len() - rest.len()
    }

    fn span(&self, from: &str, to: &str) -> Span {
        Span::new(self.off(from), self.off(to))
    }

    fn fail<T>(&self, at: &'s str, msg: impl Into<String>) -> R<'s, T> {
        Err(NErr::Failure(PErr::new(ws(at), msg)))
    }

    /// Turns a recoverable error into a committed failure with `what` expected.
    fn must<T>(&self, i: &'s str, what: &str, r: R<'s, T>) -> R<'s, T> {
        r.map_err(|e| match e {
            NErr::Error(_) => {
                let at = ws(i);
                let found = if at.is_empty() {
                    "end of file".to_string()
                } else {
                    format!("`{}`", &at[..floor(at, token_len(at))])
                };
                NErr::Failure(PErr::new(at, format!("expected {what}, found {found}")))
            }
            o => o,
        })
    }

    fn file(&mut self) -> PackFile {
        let mut pack = PackFile::default();
        let mut i = self.src;
        loop {
            i = ws(i);
            if i.is_empty() {
                break;
            }
            let res = if peek_kw(i, "pack") {
                self.pack_decl(i).map(|(r, (n, d))| {
                    if pack.name.is_some() {
                        self.issues.push(SyntaxIssue {
                            start: n.span.start,
                            end: n.span.end,
                            code: "E0011",
                            msg: "`pack` given twice in one file".into(),
                            hint: None,
                        });
                    }
                    pack.name = Some(n);
                    pack.description = d;
                    r
                })
            } else if peek_kw(i, "template") {
                self.template_decl(i).map(|(r, t)| {
                    pack.templates.push(t);
                    r
                })
            } else if peek_kw(i, "rule") {
                self.rule_decl(i).map(|(r, t)| {
                    pack.rules.push(t);
                    r
                })
            } else {
                let word: String = i.chars().take_while(|c| is_rid_char(*c)).collect();
                let hint = super::diag::did_you_mean(&word, ["pack", "template", "rule"]);
                let mut e = PErr::new(
                    i,
                    format!(
                        "expected `pack`, `template` or `rule`, found `{}`",
                        &i[..floor(i, token_len(i))]
                    ),
                );
                e.code = "E0002";
                e.hint = hint;
                Err(NErr::Failure(e))
            };
            match res {
                Ok(rest) => i = rest,
                Err(NErr::Error(e)) | Err(NErr::Failure(e)) => {
                    let start = self.off(e.at);
                    self.issues.push(SyntaxIssue {
                        start,
                        end: start + e.len,
                        code: e.code,
                        msg: e.msg,
                        hint: e.hint,
                    });
                    i = recover(&self.src[start..]);
                }
                Err(NErr::Incomplete(_)) => break,
            }
        }
        pack
    }

    fn pack_decl(&mut self, i: &'s str) -> R<'s, (Sp<String>, Option<String>)> {
        let (i, _) = kw("pack")(i)?;
        let (i, name) = self.must(i, "a pack name", self.rid(i))?;
        let (i, desc) = opt(|i| self.string(i)).parse(i)?;
        Ok((i, (name, desc.map(|d| d.v))))
    }

    fn template_decl(&mut self, i0: &'s str) -> R<'s, TemplateDecl> {
        let (i, _) = kw("template")(i0)?;
        let (i, kind) = self.must(i, "a template kind (an identifier)", self.ident(i))?;
        let (i, pattern) = self.must(i, "a quoted template pattern", self.string(i))?;
        let (i, catalog) = if peek_kw(ws_line(i), "catalog") {
            let (i, _) = kw("catalog")(ws_line(i))?;
            let t = ws_line(i);
            let n = t.find(char::is_whitespace).unwrap_or(t.len());
            if n == 0 {
                return self.fail(t, "expected a catalog id such as `C1`");
            }
            (
                &t[n..],
                Some(Sp::new(t[..n].to_string(), self.span(t, &t[n..]))),
            )
        } else {
            (i, None)
        };
        let rest = ws_line(i);
        if !(rest.is_empty() || rest.starts_with('\n')) {
            return self.fail(
                rest,
                "unexpected text after template declaration (one template per line)",
            );
        }
        let span = self.span(ws(i0), i);
        let mut t = TemplateDecl {
            kind,
            pattern,
            catalog,
            means: None,
            evidence: Vec::new(),
            weight: None,
            releases: None,
            span,
        };
        let (i, ()) = self.template_attrs(i, &mut t)?;
        Ok((i, t))
    }

    /// The meaning lines under a template (`means`, `evidence`, `weight`,
    /// `releases`), one per line, until the next item.
    fn template_attrs(&mut self, mut i: &'s str, t: &mut TemplateDecl) -> R<'s, ()> {
        loop {
            let at = ws(i);
            let Some(attr) = TEMPLATE_ATTRS
                .iter()
                .copied()
                .find(|a| peek_kw(at, a) && !at[a.len()..].starts_with('"'))
            else {
                return Ok((i, ()));
            };
            let (rest, _) = kw(attr)(at)?;
            let name_span = self.span(at, rest);
            let (rest, present) = match attr {
                "means" => {
                    let (rest, s) = self.must(rest, "a quoted sentence", self.string(rest))?;
                    (rest, t.means.replace(s).is_some())
                }
                "evidence" => {
                    let (rest, list) = self.must(rest, "cause categories", self.rid_list(rest))?;
                    let present = !t.evidence.is_empty();
                    t.evidence.extend(list);
                    (rest, present)
                }
                "weight" => {
                    let (rest, w) =
                        self.must(rest, "`decisive`, `few` or `context`", self.ident(rest))?;
                    (rest, t.weight.replace(w).is_some())
                }
                _ => {
                    let v = ws_line(rest);
                    let n = v.find(char::is_whitespace).unwrap_or(v.len());
                    if n == 0 {
                        return self.fail(v, "expected a release range such as `2.2.0..`");
                    }
                    let r = Sp::new(v[..n].to_string(), self.span(v, &v[n..]));
                    (&v[n..], t.releases.replace(r).is_some())
                }
            };
            if present {
                self.issues.push(SyntaxIssue {
                    start: name_span.start,
                    end: name_span.end,
                    code: "E0011",
                    msg: format!("`{attr}` given twice for one template; the last one is used"),
                    hint: None,
                });
            }
            let end = ws_line(rest);
            if !(end.is_empty() || end.starts_with('\n')) {
                return self.fail(
                    end,
                    format!("unexpected text after `{attr}` (one attribute per line)"),
                );
            }
            t.span.end = self.off(rest);
            i = rest;
        }
    }

    fn rule_decl(&mut self, i0: &'s str) -> R<'s, RuleDecl> {
        let (i, _) = kw("rule")(i0)?;
        let (i, id) = self.must(i, "a rule id", self.rid(i))?;
        let (mut i, _) = self.must(i, "`{`", sym("{")(i))?;
        let mut r = RuleDecl {
            id,
            span: Span::default(),
            title: None,
            description: None,
            severity: None,
            category: None,
            when: None,
            message: None,
            advice: None,
            collect: Vec::new(),
            explains: Vec::new(),
            merge: None,
            fixed: None,
            examples: Vec::new(),
        };
        loop {
            i = ws(i);
            if let Some(rest) = i.strip_prefix('}') {
                r.span = self.span(ws(i0), rest);
                return Ok((rest, r));
            }
            if i.is_empty() {
                return self.fail(i, "expected `}` to close the rule");
            }
            let (rest, attr) = self.must(i, "a rule attribute", self.ident(i))?;
            let dup = |p: &mut Self, present: bool| {
                if present {
                    p.issues.push(SyntaxIssue {
                        start: attr.span.start,
                        end: attr.span.end,
                        code: "E0011",
                        msg: format!("`{}` given twice; the last one is used", attr.v),
                        hint: None,
                    });
                }
            };
            i = match attr.v.as_str() {
                "title" | "description" | "message" | "advice" => {
                    let (rest, s) = self.must(rest, "a quoted string", self.string(rest))?;
                    let slot = match attr.v.as_str() {
                        "title" => &mut r.title,
                        "description" => &mut r.description,
                        "message" => &mut r.message,
                        _ => &mut r.advice,
                    };
                    let present = slot.is_some();
                    *slot = Some(s);
                    dup(self, present);
                    rest
                }
                "collect" => {
                    let (rest, s) = self.must(rest, "a quoted string", self.string(rest))?;
                    r.collect.push(s);
                    rest
                }
                "severity" | "category" => {
                    let (rest, s) = self.must(rest, "a name", self.rid(rest))?;
                    let slot = if attr.v == "severity" {
                        &mut r.severity
                    } else {
                        &mut r.category
                    };
                    let present = slot.is_some();
                    *slot = Some(s);
                    dup(self, present);
                    rest
                }
                "explains" => {
                    let (rest, list) = self.must(rest, "rule ids", self.rid_list(rest))?;
                    r.explains.extend(list);
                    rest
                }
                "merge" => {
                    let (rest, d) =
                        self.must(rest, "a duration such as `5m`", self.duration(rest))?;
                    let present = r.merge.is_some();
                    r.merge = Some(d);
                    dup(self, present);
                    rest
                }
                "when" => {
                    let start = ws(rest);
                    let (rest, d) = self.must(rest, "a detection (`event`, `count(...)`, `metric`, `sequence`, `silence`, `gap`, `cascade`)", self.detect(rest))?;
                    let present = r.when.is_some();
                    r.when = Some(Sp::new(d, self.span(start, rest)));
                    dup(self, present);
                    rest
                }
                "fixed" => {
                    let v = ws(rest);
                    let n = v.find(char::is_whitespace).unwrap_or(v.len());
                    if n == 0 {
                        return self.fail(
                            v,
                            "expected the release that fixes the defect, e.g. `2.10.9`",
                        );
                    }
                    let present = r.fixed.is_some();
                    r.fixed = Some(Sp::new(v[..n].to_string(), self.span(v, &v[n..])));
                    dup(self, present);
                    &v[n..]
                }
                "example" => {
                    let (rest, ex) = self.example(ws(i), rest)?;
                    r.examples.push(ex);
                    rest
                }
                other => {
                    let mut e = PErr::new(i, format!("unknown rule attribute `{other}`"));
                    e.code = "E0006";
                    e.hint = super::diag::did_you_mean(other, RULE_ATTRS.iter().copied())
                        .or_else(|| Some(format!("attributes are: {}", RULE_ATTRS.join(", "))));
                    return Err(NErr::Failure(e));
                }
            };
        }
    }

    fn example(&mut self, start: &'s str, i: &'s str) -> R<'s, Example> {
        let (i, kind) = self.must(i, "`fire` or `quiet`", self.ident(i))?;
        let fire = match kind.v.as_str() {
            "fire" => true,
            "quiet" => false,
            _ => {
                return self.fail(
                    self.src_at(kind.span.start),
                    "expected `fire` or `quiet` after `example`",
                );
            }
        };
        let (i, name) = opt(|i| self.string(i)).parse(i)?;
        let (i, _) = self.must(i, "`{`", sym("{")(i))?;
        let rest = ws_line(i);
        let Some(mut rest) = rest.strip_prefix('\n') else {
            return self.fail(rest, "example lines start on the line after `{`");
        };
        let mut lines = Vec::new();
        loop {
            if rest.is_empty() {
                return self.fail(rest, "expected a line with `}` closing the example");
            }
            let (line, next) = match rest.find('\n') {
                Some(n) => (&rest[..n], &rest[n + 1..]),
                None => (rest, ""),
            };
            let t = line.trim();
            if t == "}" {
                let end = &rest[line.find('}').unwrap_or(0) + 1..];
                return Ok((
                    end,
                    Example {
                        fire,
                        name: name.map(|n| n.v),
                        lines,
                        span: self.span(start, end),
                    },
                ));
            }
            if !t.is_empty() && !t.starts_with('#') {
                let lead = line.len() - line.trim_start().len();
                lines.push((self.off(rest) + lead, t.to_string()));
            }
            rest = next;
        }
    }

    fn src_at(&self, off: usize) -> &'s str {
        &self.src[off..]
    }

    // ---------- tokens ----------

    fn ident(&self, i: &'s str) -> R<'s, Sp<String>> {
        let i = ws(i);
        let (rest, s) =
            recognize((take_while1(is_ident_start), take_while(is_ident_char))).parse(i)?;
        Ok((rest, Sp::new(s.to_string(), self.span(i, rest))))
    }

    /// A field name in a condition: an identifier that is not a keyword.
    fn field(&self, i: &'s str) -> R<'s, Sp<String>> {
        let (rest, id) = self.ident(i)?;
        if KEYWORDS.contains(&id.v.as_str()) {
            return Err(NErr::Error(PErr::new(
                ws(i),
                format!("`{}` is a keyword", id.v),
            )));
        }
        Ok((rest, id))
    }

    /// Rule ids, categories, pack names: identifiers that may contain `-`, `.` and `*`.
    fn rid(&self, i: &'s str) -> R<'s, Sp<String>> {
        let i = ws(i);
        let (rest, s) = recognize((
            take_while1(|c: char| is_ident_start(c) || c == '*'),
            take_while(is_rid_char),
        ))
        .parse(i)?;
        Ok((rest, Sp::new(s.to_string(), self.span(i, rest))))
    }

    fn rid_list(&self, i: &'s str) -> R<'s, Vec<Sp<String>>> {
        let (mut i, first) = self.rid(i)?;
        let mut v = vec![first];
        while let Ok((rest, _)) = sym(",")(i) {
            let (rest, r) = self.must(rest, "a rule id", self.rid(rest))?;
            v.push(r);
            i = rest;
        }
        Ok((i, v))
    }

    fn ident_list(&self, i: &'s str) -> R<'s, Vec<Sp<String>>> {
        let (mut i, first) = self.field(i)?;
        let mut v = vec![first];
        while let Ok((rest, _)) = sym(",")(i) {
            let (rest, r) = self.must(rest, "a field name", self.field(rest))?;
            v.push(r);
            i = rest;
        }
        Ok((i, v))
    }

    /// One or more adjacent string literals, joined with a space.
    fn string(&self, i: &'s str) -> R<'s, Sp<String>> {
        let start = ws(i);
        let (mut i, mut s) = self.one_string(start)?;
        while let Ok((rest, more)) = self.one_string(ws(i)) {
            if !s.ends_with(' ') && !s.is_empty() {
                s.push(' ');
            }
            s.push_str(&more);
            i = rest;
        }
        Ok((i, Sp::new(s, self.span(start, i))))
    }

    fn one_string(&self, i: &'s str) -> R<'s, String> {
        let (mut rest, _) = char('"').parse(i)?;
        let mut out = String::new();
        loop {
            let mut chars = rest.chars();
            match chars.next() {
                None => return self.fail(i, "unterminated string"),
                Some('\n') => {
                    // a string may continue on the next line: the line break and
                    // the indentation become one space
                    let t = chars.as_str().trim_start_matches([' ', '\t', '\r']);
                    if !out.ends_with(' ') {
                        out.push(' ');
                    }
                    rest = t;
                }
                Some('"') => return Ok((chars.as_str(), out)),
                Some('\\') => {
                    match chars.next() {
                        Some('n') => out.push('\n'),
                        Some('t') => out.push('\t'),
                        Some(c) => out.push(c),
                        None => return self.fail(i, "unterminated string"),
                    }
                    rest = chars.as_str();
                }
                Some(c) => {
                    out.push(c);
                    rest = chars.as_str();
                }
            }
        }
    }

    fn regex_lit(&self, i: &'s str) -> R<'s, Sp<String>> {
        let start = ws(i);
        if start.starts_with('"') {
            return self.string(start);
        }
        let (mut rest, _) = char('/').parse(start)?;
        let mut out = String::new();
        loop {
            let mut chars = rest.chars();
            match chars.next() {
                None | Some('\n') => {
                    return self.fail(start, "unterminated regex (write `/.../` on one line)");
                }
                Some('/') => {
                    let r = chars.as_str();
                    return Ok((r, Sp::new(out, self.span(start, r))));
                }
                Some('\\') if chars.as_str().starts_with('/') => {
                    out.push('/');
                    chars.next();
                }
                Some(c) => out.push(c),
            }
            rest = chars.as_str();
        }
    }

    /// A number with an optional unit. Durations become seconds, sizes bytes, `%` is dropped.
    /// Returns (value, is_duration).
    fn number(&self, i: &'s str) -> R<'s, (Sp<f64>, bool)> {
        let start = ws(i);
        let (mut rest, neg) = opt(char('-')).parse(start)?;
        let mut total = 0.0;
        let mut is_dur = false;
        let mut first = true;
        loop {
            let r = recognize((digit1, opt((char('.'), digit1)))).parse(rest);
            let (r2, digits) = match r {
                Ok(x) => x,
                Err(e) if first => return Err(e),
                Err(_) => break,
            };
            let n: f64 = digits.parse().unwrap_or(0.0);
            let units: &[(&str, f64, bool)] = &[
                ("ms", 1e-3, true),
                ("ns", 1e-9, true),
                ("us", 1e-6, true),
                ("µs", 1e-6, true),
                ("h", 3600.0, true),
                ("m", 60.0, true),
                ("s", 1.0, true),
                ("KiB", 1024.0, false),
                ("MiB", 1048576.0, false),
                ("GiB", 1073741824.0, false),
                ("KB", 1e3, false),
                ("MB", 1e6, false),
                ("GB", 1e9, false),
                ("%", 1.0, false),
            ];
            let mut matched = None;
            for (u, mult, dur) in units {
                if let Some(after) = r2.strip_prefix(u) {
                    let boundary = after
                        .chars()
                        .next()
                        .is_none_or(|c| !is_ident_char(c) || (*dur && c.is_ascii_digit()));
                    if boundary {
                        matched = Some((after, *mult, *dur));
                        break;
                    }
                }
            }
            match matched {
                Some((after, mult, dur)) if dur => {
                    total += n * mult;
                    is_dur = true;
                    rest = after;
                    first = false;
                    if !after.starts_with(|c: char| c.is_ascii_digit()) {
                        break;
                    }
                }
                Some((after, mult, _)) if first => {
                    total = n * mult;
                    rest = after;
                    break;
                }
                _ if first => {
                    total = n;
                    rest = r2;
                    if r2.starts_with(is_ident_start) {
                        return self.fail(r2, "unknown unit (durations: ns us ms s m h; sizes: KB MB GB KiB MiB GiB; or %)");
                    }
                    break;
                }
                _ => {
                    return self.fail(
                        r2,
                        "a duration continues with a number and a unit, e.g. `1m30s`",
                    );
                }
            }
        }
        let v = if neg.is_some() { -total } else { total };
        Ok((rest, (Sp::new(v, self.span(start, rest)), is_dur)))
    }

    fn duration(&self, i: &'s str) -> R<'s, Sp<i64>> {
        let (rest, (n, is_dur)) = self.number(i)?;
        if !is_dur {
            return self.fail(
                i,
                "expected a duration with a unit, e.g. `30s`, `2m`, `500ms`",
            );
        }
        if n.v < 0.0 {
            return self.fail(i, "a duration cannot be negative");
        }
        Ok((rest, Sp::new((n.v * 1e9).round() as i64, n.span)))
    }

    fn cmp_op(&self, i: &'s str) -> R<'s, CmpOp> {
        let i = ws(i);
        for (s, op) in [
            ("==", CmpOp::Eq),
            ("!=", CmpOp::Ne),
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
            ("=", CmpOp::Eq),
        ] {
            if let Some(r) = i.strip_prefix(s) {
                if s == "=" && r.starts_with('~') {
                    continue;
                }
                return Ok((r, op));
            }
        }
        Err(NErr::Error(PErr::new(
            i,
            "expected a comparison (== != < <= > >=)",
        )))
    }

    // ---------- detections ----------

    fn detect(&self, i: &'s str) -> R<'s, Detect> {
        let t = ws(i);
        if peek_kw(t, "event") {
            return self.detect_event(t);
        }
        if peek_kw(t, "metric") {
            return self.detect_metric(t);
        }
        if peek_kw(t, "sequence") {
            return self.detect_sequence(t);
        }
        if peek_kw(t, "silence") {
            return self.detect_silence(t);
        }
        if peek_kw(t, "gap") {
            return self.detect_gap(t);
        }
        if peek_kw(t, "cascade") {
            return self.detect_cascade(t);
        }
        self.window(t)
    }

    /// `event SEL [by k]` or `event A not followed by B within D [by k]`.
    fn detect_event(&self, t: &'s str) -> R<'s, Detect> {
        let (i, _) = kw("event")(t)?;
        let (i, sel) = self.must(i, "an event kind", self.selector(i))?;
        if peek_kw(ws(i), "not") {
            let (i, _) = kw("not")(i)?;
            let (i, _) = self.must(i, "`followed by`", (kw("followed"), kw("by")).parse(i))?;
            let (i, _) = opt(kw("event")).parse(i)?;
            let (i, b) = self.must(i, "an event kind", self.selector(i))?;
            let (i, _) = self.must(i, "`within`", kw("within")(i))?;
            let (i, within) = self.must(i, "a duration", self.duration(i))?;
            let (i, by) = self.by_clause(i)?;
            return Ok((
                i,
                Detect::NotFollowed {
                    a: sel,
                    b,
                    within,
                    by,
                },
            ));
        }
        let (i, by) = self.by_clause(i)?;
        Ok((i, Detect::Event { sel, by }))
    }

    /// `metric COND [for D]`.
    fn detect_metric(&self, t: &'s str) -> R<'s, Detect> {
        let (i, _) = kw("metric")(t)?;
        let (i, cond) = self.must(i, "a metric condition such as `cpu > 95`", self.mcond(i))?;
        let (i, for_) = if peek_kw(ws(i), "for") {
            let (i, _) = kw("for")(i)?;
            let (i, d) = self.must(i, "a duration", self.duration(i))?;
            (i, Some(d))
        } else {
            (i, None)
        };
        Ok((i, Detect::Metric { cond, for_ }))
    }

    /// `sequence [by k] within D { step [without SEL] ... }`.
    fn detect_sequence(&self, t: &'s str) -> R<'s, Detect> {
        let (i, _) = kw("sequence")(t)?;
        let (i, by) = self.by_clause(i)?;
        let (i, _) = self.must(i, "`within`", kw("within")(i))?;
        let (i, within) = self.must(i, "a duration", self.duration(i))?;
        let (mut i, _) = self.must(i, "`{`", sym("{")(i))?;
        let mut steps = Vec::new();
        loop {
            if let Ok((rest, _)) = sym("}")(i) {
                i = rest;
                break;
            }
            if let Ok((rest, _)) = kw("then")(i) {
                i = rest;
            }
            let start = ws(i);
            let (rest, d) = self.must(
                i,
                "a sequence step (`event`, `count(...)`, `metric`, `gap`) or `}`",
                self.step_detect(i),
            )?;
            let span = self.span(start, rest);
            let (rest, without) = if peek_kw(ws(rest), "without") {
                let (r, _) = kw("without")(rest)?;
                let (r, s) = self.must(r, "an event kind", self.selector(r))?;
                (r, Some(s))
            } else {
                (rest, None)
            };
            steps.push(Step {
                detect: Sp::new(d, span),
                without,
            });
            i = rest;
        }
        Ok((i, Detect::Sequence { by, within, steps }))
    }

    /// `silence [of SEL] [and scrapes] for D [while peers active]`.
    fn detect_silence(&self, t: &'s str) -> R<'s, Detect> {
        let (i, _) = kw("silence")(t)?;
        let (i, sel) = if peek_kw(ws(i), "of") {
            let (i, _) = kw("of")(i)?;
            let (i, s) = self.must(i, "an event kind or `any`", self.selector(i))?;
            (i, Some(s))
        } else {
            (i, None)
        };
        let (i, scrapes) = if peek_kw(ws(i), "and") {
            let (i, _) = kw("and")(i)?;
            let (i, _) = self.must(i, "`scrapes`", kw("scrapes")(i))?;
            (i, true)
        } else {
            (i, false)
        };
        let (i, _) = self.must(i, "`for`", kw("for")(i))?;
        let (i, dur) = self.must(i, "a duration", self.duration(i))?;
        let (i, peers) = self.while_peers(i)?;
        Ok((
            i,
            Detect::Silence {
                sel,
                scrapes,
                dur,
                peers,
            },
        ))
    }

    /// `gap for D [while peers active]`.
    fn detect_gap(&self, t: &'s str) -> R<'s, Detect> {
        let (i, _) = kw("gap")(t)?;
        let (i, _) = self.must(i, "`for`", kw("for")(i))?;
        let (i, dur) = self.must(i, "a duration", self.duration(i))?;
        let (i, peers) = self.while_peers(i)?;
        Ok((i, Detect::Gap { dur, peers }))
    }

    /// `cascade R, ... then R, ... on peers within D [min N]`.
    fn detect_cascade(&self, t: &'s str) -> R<'s, Detect> {
        let (i, _) = kw("cascade")(t)?;
        let (i, origin) = self.must(i, "rule ids", self.rid_list(i))?;
        let (i, _) = self.must(i, "`then`", kw("then")(i))?;
        let (i, then) = self.must(i, "rule ids", self.rid_list(i))?;
        let (i, _) = self.must(i, "`on peers`", (kw("on"), kw("peers")).parse(i))?;
        let (i, _) = self.must(i, "`within`", kw("within")(i))?;
        let (i, within) = self.must(i, "a duration", self.duration(i))?;
        let (i, min) = if peek_kw(ws(i), "min") {
            let (i, _) = kw("min")(i)?;
            let (i, (n, _)) = self.must(i, "a number of peers", self.number(i))?;
            (i, n.v.max(1.0) as usize)
        } else {
            (i, 1)
        };
        Ok((
            i,
            Detect::Cascade {
                origin,
                then,
                within,
                min,
            },
        ))
    }

    fn step_detect(&self, i: &'s str) -> R<'s, Detect> {
        let t = ws(i);
        for k in ["sequence", "cascade", "silence"] {
            if peek_kw(t, k) {
                return self.fail(t, format!("`{k}` cannot be a step of a sequence"));
            }
        }
        if peek_kw(t, "event") {
            let (i, _) = kw("event")(t)?;
            let (i, sel) = self.must(i, "an event kind", self.selector(i))?;
            return Ok((
                i,
                Detect::Event {
                    sel,
                    by: Vec::new(),
                },
            ));
        }
        self.detect(t)
    }

    fn while_peers(&self, i: &'s str) -> R<'s, bool> {
        if peek_kw(ws(i), "while") {
            let (i, _) = kw("while")(i)?;
            let (i, _) = self.must(i, "`peers active`", (kw("peers"), kw("active")).parse(i))?;
            Ok((i, true))
        } else {
            Ok((i, false))
        }
    }

    fn by_clause(&self, i: &'s str) -> R<'s, Vec<Sp<String>>> {
        if peek_kw(ws(i), "by") {
            let (i, _) = kw("by")(i)?;
            self.must(i, "field names", self.ident_list(i))
        } else {
            Ok((i, Vec::new()))
        }
    }

    /// `AGG([field of] SEL) op N within D [by ...]`
    fn window(&self, i: &'s str) -> R<'s, Detect> {
        let start = ws(i);
        let (i, name) = self.ident(start)?;
        let Some(agg) = Agg::parse(&name.v) else {
            let mut e = PErr::new(start, format!("expected a detection, found `{}`", name.v));
            e.hint = super::diag::did_you_mean(
                &name.v,
                ["event", "metric", "sequence", "silence", "gap", "cascade"]
                    .into_iter()
                    .chain(Agg::NAMES.iter().copied()),
            );
            return Err(NErr::Failure(e));
        };
        let agg = Sp::new(agg, name.span);
        let (i, _) = self.must(i, "`(`", sym("(")(i))?;
        let (i, field) = {
            let save = i;
            match self.field(i) {
                Ok((r, f)) if peek_kw(ws(r), "of") => {
                    let (r, _) = kw("of")(r)?;
                    (r, Some(f))
                }
                _ => (save, None),
            }
        };
        let (i, sel) = self.must(i, "an event kind", self.selector(i))?;
        let (i, _) = self.must(i, "`)`", sym(")")(i))?;
        let (i, op) = self.must(i, "a comparison", self.cmp_op(i))?;
        let (i, (value, _)) = self.must(i, "a number", self.number(i))?;
        let (i, _) = self.must(i, "`within`", kw("within")(i))?;
        let (i, within) = self.must(i, "a duration", self.duration(i))?;
        let (i, by) = self.by_clause(i)?;
        Ok((
            i,
            Detect::Window {
                agg,
                field,
                sel,
                op,
                value,
                within,
                by,
            },
        ))
    }

    fn selector(&self, i: &'s str) -> R<'s, Selector> {
        let start = ws(i);
        let (mut i, first) = self.field(start)?;
        let mut kinds = vec![first];
        while let Ok((rest, _)) = sym("|")(i) {
            let (rest, k) = self.must(rest, "an event kind", self.field(rest))?;
            kinds.push(k);
            i = rest;
        }
        let (i, cond) = if peek_kw(ws(i), "where") {
            let (i, _) = kw("where")(i)?;
            let (i, c) = self.must(i, "a condition", self.cond(i))?;
            (i, Some(c))
        } else {
            (i, None)
        };
        Ok((
            i,
            Selector {
                kinds,
                cond,
                span: self.span(start, i),
            },
        ))
    }

    // ---------- event conditions ----------

    fn cond(&self, i: &'s str) -> R<'s, Cond> {
        let (mut i, mut left) = self.cond_and(i)?;
        while let Ok((rest, _)) = kw("or")(i) {
            let (rest, right) = self.must(rest, "a condition", self.cond_and(rest))?;
            left = Cond::Or(Box::new(left), Box::new(right));
            i = rest;
        }
        Ok((i, left))
    }

    fn cond_and(&self, i: &'s str) -> R<'s, Cond> {
        let (mut i, mut left) = self.cond_not(i)?;
        while let Ok((rest, _)) = kw("and")(i) {
            let (rest, right) = self.must(rest, "a condition", self.cond_not(rest))?;
            left = Cond::And(Box::new(left), Box::new(right));
            i = rest;
        }
        Ok((i, left))
    }

    fn cond_not(&self, i: &'s str) -> R<'s, Cond> {
        if let Ok((rest, _)) = kw("not")(i) {
            let (rest, c) = self.must(rest, "a condition", self.cond_not(rest))?;
            return Ok((rest, Cond::Not(Box::new(c))));
        }
        if let Ok((rest, _)) = sym("(")(i) {
            let (rest, c) = self.must(rest, "a condition", self.cond(rest))?;
            let (rest, _) = self.must(rest, "`)`", sym(")")(rest))?;
            return Ok((rest, c));
        }
        if let Ok((rest, _)) = kw("has")(i) {
            let (rest, f) = self.must(rest, "a field name", self.field(rest))?;
            return Ok((rest, Cond::Has(f)));
        }
        let (i, lhs) = self.operand(i)?;
        let t = ws(i);
        if let Some(rest) = t.strip_prefix("!~") {
            let (rest, re) = self.must(rest, "a regex `/.../`", self.regex_lit(rest))?;
            return Ok((rest, Cond::Match(lhs, re, true)));
        }
        if let Some(rest) = t.strip_prefix('~').or_else(|| t.strip_prefix("=~")) {
            let (rest, re) = self.must(rest, "a regex `/.../`", self.regex_lit(rest))?;
            return Ok((rest, Cond::Match(lhs, re, false)));
        }
        if peek_kw(t, "in") || (peek_kw(t, "not") && peek_kw(ws(&t[3..]), "in")) {
            let negated = peek_kw(t, "not");
            let rest = if negated {
                kw("in")(kw("not")(t)?.0)?.0
            } else {
                kw("in")(t)?.0
            };
            let v = ws(rest);
            if v.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
                // a release range: `release in 2.10.0..2.10.8`
                let n = v
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
                    .unwrap_or(v.len());
                let r = Sp::new(v[..n].to_string(), self.span(v, &v[n..]));
                return Ok((&v[n..], Cond::InRange(lhs, r, negated)));
            }
            let (mut rest, _) = self.must(rest, "`[` or a release range", sym("[")(rest))?;
            let mut items = Vec::new();
            loop {
                if let Ok((r, _)) = sym("]")(rest) {
                    rest = r;
                    break;
                }
                let (r, l) = self.must(rest, "a literal or `]`", self.literal(rest))?;
                items.push(l);
                rest = r;
                if let Ok((r, _)) = sym(",")(rest) {
                    rest = r;
                }
            }
            return Ok((rest, Cond::In(lhs, items, negated)));
        }
        let (i, op) = self.must(i, "a comparison (== != < <= > >= ~ in)", self.cmp_op(i))?;
        let (i, rhs) = self.must(i, "a value or a field", self.operand(i))?;
        Ok((i, Cond::Cmp(lhs, op, rhs)))
    }

    fn literal(&self, i: &'s str) -> R<'s, Sp<Lit>> {
        let t = ws(i);
        if t.starts_with('"') {
            let (r, s) = self.string(t)?;
            return Ok((r, Sp::new(Lit::Str(s.v), s.span)));
        }
        if let Ok((r, _)) = kw("true")(t) {
            return Ok((r, Sp::new(Lit::Bool(true), self.span(t, r))));
        }
        if let Ok((r, _)) = kw("false")(t) {
            return Ok((r, Sp::new(Lit::Bool(false), self.span(t, r))));
        }
        let (r, (n, _)) = self.number(t)?;
        Ok((r, Sp::new(Lit::Num(n.v), n.span)))
    }

    fn operand(&self, i: &'s str) -> R<'s, Operand> {
        if let Ok((r, l)) = self.literal(i) {
            return Ok((r, Operand::Lit(l)));
        }
        let (r, f) = self.field(i)?;
        Ok((r, Operand::Field(f)))
    }

    // ---------- metric conditions ----------

    fn mcond(&self, i: &'s str) -> R<'s, MCond> {
        let (mut i, mut left) = self.mcond_and(i)?;
        while let Ok((rest, _)) = kw("or")(i) {
            let (rest, right) = self.must(rest, "a metric comparison", self.mcond_and(rest))?;
            left = MCond::Or(Box::new(left), Box::new(right));
            i = rest;
        }
        Ok((i, left))
    }

    fn mcond_and(&self, i: &'s str) -> R<'s, MCond> {
        let (mut i, mut left) = self.mcmp(i)?;
        while let Ok((rest, _)) = kw("and")(i) {
            let (rest, right) = self.must(rest, "a metric comparison", self.mcmp(rest))?;
            left = MCond::And(Box::new(left), Box::new(right));
            i = rest;
        }
        Ok((i, left))
    }

    fn mcmp(&self, i: &'s str) -> R<'s, MCond> {
        let (i, a) = self.mexpr(i)?;
        let (i, op) = self.must(i, "a comparison", self.cmp_op(i))?;
        let (i, b) = self.must(i, "a metric expression", self.mexpr(i))?;
        Ok((i, MCond::Cmp(a, op, b)))
    }

    fn mexpr(&self, i: &'s str) -> R<'s, MExpr> {
        let (mut i, mut left) = self.mterm(i)?;
        loop {
            let t = ws(i);
            let op = match t.chars().next() {
                Some(c @ ('+' | '-')) => c,
                _ => break,
            };
            let (rest, right) = self.must(&t[1..], "a metric expression", self.mterm(&t[1..]))?;
            left = MExpr::Bin(Box::new(left), op, Box::new(right));
            i = rest;
        }
        Ok((i, left))
    }

    fn mterm(&self, i: &'s str) -> R<'s, MExpr> {
        let (mut i, mut left) = self.mfactor(i)?;
        loop {
            let t = ws(i);
            let op = match t.chars().next() {
                Some(c @ ('*' | '/')) => c,
                _ => break,
            };
            let (rest, right) = self.must(&t[1..], "a metric expression", self.mfactor(&t[1..]))?;
            left = MExpr::Bin(Box::new(left), op, Box::new(right));
            i = rest;
        }
        Ok((i, left))
    }

    fn mfactor(&self, i: &'s str) -> R<'s, MExpr> {
        let t = ws(i);
        if let Ok((r, _)) = sym("(")(t) {
            let (r, e) = self.must(r, "a metric expression", self.mexpr(r))?;
            let (r, _) = self.must(r, "`)`", sym(")")(r))?;
            return Ok((r, e));
        }
        if let Ok((r, (n, _))) = self.number(t) {
            return Ok((r, MExpr::Num(n.v)));
        }
        let (r, name) = self.ident(t)?;
        if KEYWORDS.contains(&name.v.as_str()) && !r.starts_with('(') {
            return Err(NErr::Error(PErr::new(
                t,
                format!("`{}` is a keyword", name.v),
            )));
        }
        if let Some(mut r) = r.strip_prefix('(') {
            let mut args = Vec::new();
            loop {
                if let Ok((r2, _)) = sym(")")(r) {
                    r = r2;
                    break;
                }
                let (r2, a) = self.must(r, "a function argument", self.mexpr(r))?;
                args.push(a);
                r = r2;
                if let Ok((r2, _)) = sym(",")(r) {
                    r = r2;
                }
            }
            return Ok((r, MExpr::Call(name, args)));
        }
        Ok((r, MExpr::Metric(name)))
    }
}

fn floor(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A keyword: the word, not followed by an identifier character.
fn kw<'a>(word: &'static str) -> impl Fn(&'a str) -> R<'a, &'a str> {
    move |i: &'a str| {
        let t = ws(i);
        let (rest, w) = tag(word).parse(t)?;
        if rest.starts_with(|c: char| is_rid_char(c) && c != '.' && c != '*') {
            return Err(NErr::Error(PErr::new(t, format!("expected `{word}`"))));
        }
        Ok((rest, w))
    }
}

fn sym<'a>(s: &'static str) -> impl Fn(&'a str) -> R<'a, &'a str> {
    move |i: &'a str| {
        let t = ws(i);
        tag(s)
            .parse(t)
            .map_err(|_: NErr<PErr<'a>>| NErr::Error(PErr::new(t, format!("expected `{s}`"))))
    }
}

fn peek_kw(i: &str, word: &str) -> bool {
    i.starts_with(word)
        && !i[word.len()..].starts_with(|c: char| is_rid_char(c) && c != '.' && c != '*')
}

/// Resumes after an error at the next line that starts a top-level item.
fn recover(from: &str) -> &str {
    let mut rest = from;
    while let Some(n) = rest.find('\n') {
        rest = &rest[n + 1..];
        if ["rule ", "template ", "pack "]
            .iter()
            .any(|k| rest.starts_with(k))
        {
            return rest;
        }
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_rule_with_all_attributes() {
        let src = r#"
pack demo "A demo pack"
template readloop_slow "Readloop processing time: {elapsed:duration}" catalog C1

rule demo.readloop {   # trailing comment
  title "Read loop stalls"
  severity high
  category cpu-starvation
  when count(readloop_slow where elapsed >= 2s and conn in ["cid", "mid"]) >= 20 within 30s by node
  message "{count} stalls"
  advice "Give the server more CPU"
         "and check GOMAXPROCS"
  collect "top -H on {node}"
  explains demo.other, demo.x*
  merge 5m
  example fire "burst" {
    n2 | [1] 2026/11/24 19:19:06.000000 [WRN] 127.0.0.1:1 - mid:1 - "d" - Readloop processing time: 2.1s
  }
}
"#;
        let (p, issues) = parse_pack(src);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(p.name.unwrap().v, "demo");
        assert_eq!(p.templates.len(), 1);
        assert_eq!(p.templates[0].catalog.as_ref().unwrap().v, "C1");
        let r = &p.rules[0];
        assert_eq!(r.id.v, "demo.readloop");
        assert_eq!(
            r.advice.as_ref().unwrap().v,
            "Give the server more CPU and check GOMAXPROCS"
        );
        assert_eq!(r.explains.len(), 2);
        assert_eq!(r.merge.as_ref().unwrap().v, 300_000_000_000);
        assert_eq!(r.examples[0].lines.len(), 1);
        match &r.when.as_ref().unwrap().v {
            Detect::Window {
                agg,
                within,
                by,
                value,
                ..
            } => {
                assert_eq!(agg.v, Agg::Count);
                assert_eq!(within.v, 30_000_000_000);
                assert_eq!(by[0].v, "node");
                assert_eq!(value.v, 20.0);
            }
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn parses_sequences_metrics_and_absence() {
        let src = r#"
rule a { when sequence by node within 2m {
    event js_api_pending where pending > 100
    then metric cpu < 5 for 10s
    event healthcheck_failed without server_starting
  } }
rule b { when metric cpu > 2 * peers(cpu) + 10 and mem_rss > 1GB for 30s }
rule c { when event route_closed not followed by route_created within 30s by addr }
rule d { when silence of any and scrapes for 30s while peers active }
rule e { when gap for 20s while peers active }
rule f { when cascade x.freeze then y.* on peers within 2m min 2 }
rule g { when max(elapsed of readloop_slow) >= 5s within 1m }
"#;
        let (p, issues) = parse_pack(src);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(p.rules.len(), 7);
        match &p.rules[0].when.as_ref().unwrap().v {
            Detect::Sequence { steps, .. } => {
                assert_eq!(steps.len(), 3);
                assert!(steps[2].without.is_some());
            }
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn one_bad_rule_does_not_stop_the_others() {
        let src = "rule a {\n  severty high\n}\nrule b {\n  title \"ok\"\n}\nrul c {}\nrule d { when count(x) >= }\nrule e { title \"fine\" }\n";
        let (p, issues) = parse_pack(src);
        let ids: Vec<_> = p.rules.iter().map(|r| r.id.v.as_str()).collect();
        assert_eq!(ids, ["b", "e"]);
        assert_eq!(issues.len(), 3, "{issues:?}");
        assert_eq!(issues[0].code, "E0006");
        assert_eq!(issues[0].hint.as_deref(), Some("did you mean `severity`?"));
        assert_eq!(issues[1].code, "E0002");
        assert!(
            issues[2].msg.contains("expected a number"),
            "{}",
            issues[2].msg
        );
    }

    #[test]
    fn numbers_and_units() {
        let n = |s: &'static str| {
            let p = PackParser {
                src: s,
                issues: vec![],
            };
            p.number(s).map(|(_, (n, d))| (n.v, d)).ok()
        };
        assert_eq!(n("1m30s"), Some((90.0, true)));
        assert_eq!(n("500ms"), Some((0.5, true)));
        assert_eq!(n("95%"), Some((95.0, false)));
        assert_eq!(n("32MiB"), Some((33554432.0, false)));
        assert_eq!(n("-3"), Some((-3.0, false)));
        assert!(n("5x").is_none());
    }
}
