//! Message templates: literal text with typed captures, compiled to an
//! anchored regex plus the literal the prefilter looks for.
//!
//! Syntax (documented in rules/README.md):
//! `Readloop processing time: {elapsed:duration}` — `{name}` or `{name:type}`
//! with type `int`, `float`, `duration` (Go syntax, captured as seconds),
//! `word` (no spaces), `quoted` (a Go `%q` string, captured unquoted), `str`
//! (shortest text, the default) or `rest` (everything to the end). `{_}` matches
//! anything without capturing; `{{` and `}}` are literal braces.

use crate::model::{Meaning, Value, ValueRef};
use regex::Regex;
use std::fmt;
use std::sync::Arc;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CaptureType {
    Int,
    Float,
    Duration,
    Word,
    Quoted,
    Str,
    Rest,
}

impl CaptureType {
    pub const NAMES: &'static [&'static str] =
        &["int", "float", "duration", "word", "quoted", "str", "rest"];

    pub fn parse(s: &str) -> Option<CaptureType> {
        Some(match s {
            "int" => CaptureType::Int,
            "float" => CaptureType::Float,
            "duration" => CaptureType::Duration,
            "word" => CaptureType::Word,
            "quoted" => CaptureType::Quoted,
            "str" => CaptureType::Str,
            "rest" => CaptureType::Rest,
            _ => return None,
        })
    }

    fn regex(self) -> &'static str {
        match self {
            CaptureType::Int => r"-?\d+",
            CaptureType::Float => r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|NaN|[+-]?Inf)",
            CaptureType::Duration => r"(?:\d+(?:\.\d+)?(?:h|ms|m|s|µs|us|ns))+|0",
            CaptureType::Word => r"\S+",
            CaptureType::Quoted => r#""(?:[^"\\]|\\.)*""#,
            CaptureType::Str => r".+?",
            CaptureType::Rest => r".*",
        }
    }

    /// Converts captured text to a typed value; `None` if it does not fit.
    pub fn convert(self, text: &str) -> Option<Value> {
        Some(match self {
            CaptureType::Int => Value::Int(text.parse().ok()?),
            CaptureType::Float => Value::Float(text.parse().ok()?),
            CaptureType::Duration => Value::Float(parse_go_duration(text)?),
            CaptureType::Quoted => Value::Str(unquote_go(text).into()),
            CaptureType::Word | CaptureType::Str | CaptureType::Rest => Value::Str(text.into()),
        })
    }
}

/// Why a template pattern is invalid; `offset` is a byte offset in the pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Lit(String),
    Cap(Option<String>, CaptureType),
}

/// A compiled template.
#[derive(Clone, Debug)]
pub struct Template {
    pub kind: Arc<str>,
    pub pattern: String,
    regex: Regex,
    /// Decides `is_match` without the regex for most messages.
    matcher: super::matcher::Matcher,
    /// Per capture piece in order: named (captured) or `{_}`.
    piece_named: Vec<bool>,
    captures: Vec<(Arc<str>, CaptureType)>,
    /// The longest literal piece: a message must contain it to match.
    pub(crate) anchor: String,
    /// The literal text the pattern starts with (empty if it starts with a capture).
    pub(crate) prefix: String,
    /// The template's literal text, with captures as `<name>`.
    pub display: String,
    /// What the message means, when its pack says so.
    pub meaning: Option<Arc<Meaning>>,
}

fn parse_pieces(pattern: &str) -> Result<Vec<Piece>, PatternError> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let b = pattern.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' if b.get(i + 1) == Some(&b'{') => {
                lit.push('{');
                i += 2;
            }
            b'}' if b.get(i + 1) == Some(&b'}') => {
                lit.push('}');
                i += 2;
            }
            b'{' => {
                let close = pattern[i..].find('}').ok_or(PatternError {
                    offset: i,
                    message: "unclosed `{` in template (write `{{` for a literal brace)".into(),
                })? + i;
                let inner = &pattern[i + 1..close];
                let (name, ty) = match inner.split_once(':') {
                    Some((n, t)) => {
                        let ty = CaptureType::parse(t.trim()).ok_or_else(|| PatternError {
                            offset: i + 1 + n.len() + 1,
                            message: format!(
                                "unknown capture type `{}`; expected one of {}",
                                t.trim(),
                                CaptureType::NAMES.join(", ")
                            ),
                        })?;
                        (n.trim(), ty)
                    }
                    None => (inner.trim(), CaptureType::Str),
                };
                let name = if name == "_" || name == "*" {
                    None
                } else {
                    let ok = !name.is_empty()
                        && name
                            .chars()
                            .next()
                            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !ok {
                        return Err(PatternError {
                            offset: i + 1,
                            message: format!(
                                "invalid capture name `{name}`: use letters, digits and `_`"
                            ),
                        });
                    }
                    Some(name.to_string())
                };
                if !lit.is_empty() {
                    pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                if let Some(Piece::Cap(..)) = pieces.last() {
                    return Err(PatternError {
                        offset: i,
                        message:
                            "two captures in a row are ambiguous: put literal text between them"
                                .into(),
                    });
                }
                pieces.push(Piece::Cap(name, ty));
                i = close + 1;
            }
            b'}' => {
                return Err(PatternError {
                    offset: i,
                    message: "unmatched `}` in template (write `}}` for a literal brace)".into(),
                });
            }
            _ => {
                let ch = pattern[i..].chars().next().unwrap_or('\u{fffd}');
                lit.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    Ok(pieces)
}

impl Template {
    /// Compiles `pattern` for event kind `kind`.
    pub fn new(kind: &str, pattern: &str) -> Result<Template, PatternError> {
        let pieces = parse_pieces(pattern)?;
        let mut re = String::from("^");
        let mut captures = Vec::new();
        let mut anchor = String::new();
        let prefix = match pieces.first() {
            Some(Piece::Lit(l)) => l.clone(),
            _ => String::new(),
        };
        let mut display = String::new();
        let mut seen = std::collections::HashSet::new();
        let mut parts = Vec::with_capacity(pieces.len());
        for p in &pieces {
            use super::matcher::Part;
            parts.push(match p {
                Piece::Lit(l) => Part::Lit(
                    l.as_bytes().to_vec(),
                    Box::new(memchr::memmem::Finder::new(l.as_bytes()).into_owned()),
                ),
                Piece::Cap(None, _) => Part::Cap(None),
                Piece::Cap(Some(_), ty) => Part::Cap(Some(*ty)),
            });
            match p {
                Piece::Lit(l) => {
                    re.push_str(&regex::escape(l));
                    display.push_str(l);
                    if l.len() > anchor.len() {
                        anchor = l.clone();
                    }
                }
                Piece::Cap(name, ty) => match name {
                    Some(n) => {
                        if !seen.insert(n.clone()) {
                            return Err(PatternError {
                                offset: 0,
                                message: format!("capture `{n}` appears twice"),
                            });
                        }
                        re.push_str(&format!("({})", ty.regex()));
                        captures.push((Arc::from(n.as_str()), *ty));
                        display.push_str(&format!("<{n}>"));
                    }
                    None => {
                        re.push_str(".*?");
                        display.push('*');
                    }
                },
            }
        }
        re.push('$');
        let regex = regex::RegexBuilder::new(&re)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| PatternError {
                offset: 0,
                message: format!("template too complex: {e}"),
            })?;
        Ok(Template {
            kind: kind.into(),
            pattern: pattern.to_string(),
            regex,
            matcher: super::matcher::Matcher::new(parts),
            piece_named: pieces
                .iter()
                .filter_map(|p| match p {
                    Piece::Cap(name, _) => Some(name.is_some()),
                    Piece::Lit(_) => None,
                })
                .collect(),
            captures,
            anchor,
            prefix,
            display,
            meaning: None,
        })
    }

    /// Whether a message that starts with `m` may match: `false` only when
    /// none can (see [`super::matcher::Matcher::may_start_with`]). The
    /// classifier asks it once per template prefix, to keep as candidates
    /// of the messages that start with that prefix only the templates that
    /// could match them.
    pub(crate) fn may_match_starting_with(&self, m: &str) -> bool {
        self.matcher.may_start_with(m.as_bytes())
    }

    /// The same template with `meaning` attached.
    pub fn with_meaning(mut self, meaning: Option<Arc<Meaning>>) -> Template {
        self.meaning = meaning;
        self
    }

    /// A message this template matches, built from its pattern: every
    /// capture filled with a value of its type (for `coroner explain` and
    /// tests that every template answers).
    pub fn sample_message(&self) -> String {
        let mut out = String::new();
        let Ok(pieces) = parse_pieces(&self.pattern) else {
            return out;
        };
        for p in pieces {
            match p {
                Piece::Lit(l) => out.push_str(&l),
                Piece::Cap(_, ty) => out.push_str(match ty {
                    CaptureType::Int => "12",
                    CaptureType::Float => "1.5",
                    CaptureType::Duration => "2.5s",
                    CaptureType::Word => "x",
                    CaptureType::Quoted => "\"x\"",
                    CaptureType::Str | CaptureType::Rest => "x",
                }),
            }
        }
        out
    }

    /// Names of the typed captures, in order.
    pub fn capture_names(&self) -> impl Iterator<Item = (&str, CaptureType)> {
        self.captures.iter().map(|(n, t)| (&**n, *t))
    }

    /// Whether the whole message matches (no captures: faster).
    pub fn is_match(&self, msg: &str) -> bool {
        match self.matcher.is_match(msg) {
            Some(m) => m,
            None => self.regex.is_match(msg),
        }
    }

    /// The regex's answer alone (for tests of the matcher).
    #[doc(hidden)]
    pub fn regex_is_match(&self, msg: &str) -> bool {
        self.regex.is_match(msg)
    }

    /// Matches the whole message; returns the typed captures.
    pub fn matches(&self, msg: &str) -> Option<Vec<(Arc<str>, Value)>> {
        if self.captures.is_empty() {
            return self.is_match(msg).then(Vec::new);
        }
        // The matcher decides most messages; the regex (whose captures cost
        // the most) the rest.
        let mut spans = super::matcher::Spans::default();
        match self.matcher.split(msg, &mut spans) {
            super::matcher::Split::None => return None,
            super::matcher::Split::Undecided => return self.regex_matches(msg),
            super::matcher::Split::One => {}
        }
        let mut out = Vec::with_capacity(self.captures.len());
        for ((name, ty), (a, b)) in self.named_spans(&spans) {
            out.push((name.clone(), ty.convert(&msg[a..b])?));
        }
        Some(out)
    }

    /// Each named capture with its span in a split; `{_}` pieces are not captured.
    fn named_spans<'t>(
        &'t self,
        spans: &super::matcher::Spans,
    ) -> impl Iterator<Item = (&'t (Arc<str>, CaptureType), (usize, usize))> {
        let named = spans
            .iter()
            .zip(&self.piece_named)
            .filter(|(_, named)| **named)
            .map(|(s, _)| s);
        self.captures.iter().zip(named)
    }

    /// The captures of a message this template matches (as
    /// `Classifier::find` says), borrowed from it, appended to `out` in the
    /// order [`Template::matches`] gives them. `None` when that takes more
    /// than the matcher's split: the regex decides, a number does not fit, a
    /// quoted text has escapes to undo (ask [`Template::matches`] then).
    pub fn captures_in<'m>(
        &'m self,
        msg: &'m str,
        out: &mut Vec<(&'m str, ValueRef<'m>)>,
    ) -> Option<()> {
        if self.captures.is_empty() {
            return Some(());
        }
        let mut spans = super::matcher::Spans::default();
        if !matches!(
            self.matcher.split(msg, &mut spans),
            super::matcher::Split::One
        ) {
            return None;
        }
        for ((name, ty), (a, b)) in self.named_spans(&spans) {
            let text = &msg[a..b];
            let v = match ty {
                CaptureType::Int => ValueRef::Int(text.parse().ok()?),
                CaptureType::Float => ValueRef::Float(text.parse().ok()?),
                CaptureType::Duration => ValueRef::Float(parse_go_duration(text)?),
                CaptureType::Quoted => {
                    let inner = text
                        .strip_prefix('"')
                        .and_then(|x| x.strip_suffix('"'))
                        .unwrap_or(text);
                    if inner.contains('\\') {
                        return None;
                    }
                    ValueRef::Str(inner)
                }
                CaptureType::Word | CaptureType::Str | CaptureType::Rest => ValueRef::Str(text),
            };
            out.push((&**name, v));
        }
        Some(())
    }

    /// The captures as the regex finds them (for tests of the matcher).
    #[doc(hidden)]
    pub fn regex_matches(&self, msg: &str) -> Option<Vec<(Arc<str>, Value)>> {
        let caps = self.regex.captures(msg)?;
        let mut out = Vec::with_capacity(self.captures.len());
        for (i, (name, ty)) in self.captures.iter().enumerate() {
            let text = caps.get(i + 1).map_or("", |m| m.as_str());
            out.push((name.clone(), ty.convert(text)?));
        }
        Some(out)
    }
}

/// Parses a Go `time.Duration` string (`1m3.2s`, `850ms`, `2.109081818s`) into seconds.
pub fn parse_go_duration(s: &str) -> Option<f64> {
    let s = s.trim();
    if s == "0" {
        return Some(0.0);
    }
    let mut total = 0.0;
    let mut rest = s;
    let mut any = false;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_end == 0 {
            return None;
        }
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let (mult, len) = if rest.starts_with("ms") {
            (1e-3, 2)
        } else if rest.starts_with("µs") {
            (1e-6, "µs".len())
        } else if rest.starts_with("us") {
            (1e-6, 2)
        } else if rest.starts_with("ns") {
            (1e-9, 2)
        } else if rest.starts_with('h') {
            (3600.0, 1)
        } else if rest.starts_with('m') {
            (60.0, 1)
        } else if rest.starts_with('s') {
            (1.0, 1)
        } else {
            return None;
        };
        total += n * mult;
        rest = &rest[len..];
        any = true;
    }
    any.then_some(total)
}

/// Removes Go `%q` quoting: `"a\"b"` → `a"b`. Leaves unquoted text as is.
pub fn unquote_go(s: &str) -> String {
    let inner = s
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s);
    if !inner.contains('\\') {
        return inner.to_string();
    }
    let mut out = String::with_capacity(inner.len());
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_captures() {
        let t = Template::new(
            "js_api_pending",
            "JetStream request queue has high pending count: {pending:int}",
        )
        .unwrap();
        let f = t
            .matches("JetStream request queue has high pending count: 1234")
            .unwrap();
        assert_eq!(f[0].1, Value::Int(1234));
        assert!(
            t.matches("JetStream request queue has high pending count: x")
                .is_none()
        );
        assert_eq!(t.anchor, "JetStream request queue has high pending count: ");
    }

    #[test]
    fn durations_and_quoted() {
        let t = Template::new(
            "slow_sub",
            "Internal subscription on {subject:quoted} took too long: {took:duration}",
        )
        .unwrap();
        let f = t
            .matches(
                r#"Internal subscription on "$JS.API.STREAM.INFO.ORDERS" took too long: 1m3.5s"#,
            )
            .unwrap();
        assert_eq!(f[0].1, Value::Str("$JS.API.STREAM.INFO.ORDERS".into()));
        assert_eq!(f[1].1, Value::Float(63.5));
        assert_eq!(parse_go_duration("2.109081818s"), Some(2.109081818));
        assert_eq!(parse_go_duration("850ms"), Some(0.85));
        assert_eq!(parse_go_duration("abc"), None);
    }

    #[test]
    fn may_match_a_message_starting_with() {
        let may = |pattern: &str, m: &str| {
            Template::new("k", pattern)
                .unwrap()
                .may_match_starting_with(m)
        };
        // A word cannot hold the space of the prefix, nor can the literal
        // after it start anywhere in its first word.
        let closed = "{kind:word} connection closed: {reason:rest}";
        assert!(!may(closed, "JetStream cluster new consumer leader for '"));
        assert!(may(closed, "Client"));
        assert!(may(closed, "Client connection"));
        assert!(may(closed, "JetStream "));
        assert!(!may(closed, "Client connected"));
        // Digits only; `{_}` and `str` text may hold anything.
        assert!(!may(
            "{n:int} append entries pending",
            "Readloop processing time: "
        ));
        assert!(may("{n:int} append entries pending", "12"));
        assert!(may("{q:str} limit reached", "JetStream cluster "));
        assert!(may("{_} limit reached", "x"));
        assert!(may("{_} limit reached", " limit"));
        // A quoted text starts with a quote.
        assert!(!may("{s:quoted} is {w:word}", "JetStream"));
        assert!(may("{s:quoted} is {w:word}", "\"a b\" i"));
        // No literal after the capture; the empty pattern.
        assert!(may("{all:rest}", "anything"));
        assert!(!may("", "x"));
        assert!(may("", ""));
        // A template with a prefix: its prefix and the message's agree,
        // and so do the pieces after it.
        assert!(may("Jet{x:word}", "JetStream"));
        assert!(!may("Jet{x:word}", "Route"));
        let limits = "JetStream {store:word} resource limits exceeded for server";
        assert!(!may(limits, "JetStream cluster new consumer leader for '"));
        assert!(may(limits, "JetStream "));
        assert!(may(limits, "JetStream memory resource"));
        assert!(!may(limits, "JetStream memory resources"));
        let leader =
            "JetStream cluster new consumer leader for '{account} > {stream} > {consumer}'";
        assert!(may(leader, "JetStream cluster new consumer leader for '"));
        assert!(!may(leader, "JetStream cluster new stream leader for '"));
        // The pattern ends before the known text does.
        assert!(!may("Server is ready", "Server is ready now"));
        assert!(may("{a:word} is {b:int}", "x is 12"));
        assert!(!may("{a:word} is {b:int}", "x is 1 2"));
    }

    #[test]
    fn many_captures_go_to_the_regex() {
        // More captures than the matcher keeps spans of: same answer.
        let pattern: Vec<String> = (0..20).map(|i| format!("{{c{i}:int}}")).collect();
        let t = Template::new("k", &pattern.join(",")).unwrap();
        let msg: Vec<String> = (0..20).map(|i| i.to_string()).collect();
        let got = t.matches(&msg.join(",")).unwrap();
        assert_eq!(got.len(), 20);
        assert_eq!(got[19].1, Value::Int(19));
        assert_eq!(Some(got), t.regex_matches(&msg.join(",")));
    }

    #[test]
    fn pattern_errors_point_at_offsets() {
        assert_eq!(Template::new("k", "a {x:nope}").unwrap_err().offset, 5);
        assert_eq!(Template::new("k", "a {x").unwrap_err().offset, 2);
        assert!(Template::new("k", "{a}{b}").is_err());
        assert!(
            Template::new("k", "literal {{ok}}")
                .unwrap()
                .matches("literal {ok}")
                .is_some()
        );
    }
}
