//! Whether a message matches a template, without the regex: literal pieces
//! compared in place (`memmem` for the literal after a capture), captures
//! checked by type. Decides exactly what the template's regex decides, for
//! ASCII messages without a line feed (the others go to the regex: there the
//! regex's Unicode classes and `.` not matching `\n` would differ).
//! Counting lines (`coroner stats`) needs only this yes/no.

use super::template::CaptureType;
use memchr::memmem::Finder;

/// One piece of a compiled template.
#[derive(Clone, Debug)]
pub(crate) enum Part {
    Lit(Vec<u8>, Box<Finder<'static>>),
    /// A capture (`None`: `{_}`, any text, possibly empty).
    Cap(Option<CaptureType>),
}

/// The answer of [`Matcher::split`].
#[derive(Debug, PartialEq)]
pub(crate) enum Split {
    /// The message does not match.
    None,
    /// It matches in exactly one way: the spans of the captures.
    One(Vec<(usize, usize)>),
    /// The regex must decide.
    Undecided,
}

/// Backtracking steps allowed before the regex decides instead.
const BUDGET: u32 = 10_000;

#[derive(Clone, Debug)]
pub(crate) struct Matcher {
    parts: Vec<Part>,
}

impl Matcher {
    pub fn new(parts: Vec<Part>) -> Matcher {
        Matcher { parts }
    }

    /// `Some(matched)`, or `None` when the regex must decide (non-ASCII,
    /// a line feed, or too many ways to split the message).
    pub fn is_match(&self, msg: &str) -> Option<bool> {
        let w = self.walk(msg, 1, false)?;
        (w.budget > 0 || w.count > 0).then_some(w.count > 0)
    }

    /// How the message splits: not at all, in exactly one way (the capture
    /// spans: byte ranges, in order, `{_}` included; with one split, the
    /// regex's leftmost-first preferences cannot choose another), or
    /// `Undecided` when the regex must decide (several splits, non-ASCII or
    /// a line feed, too many ways tried).
    pub fn split(&self, msg: &str) -> Split {
        let Some(w) = self.walk(msg, 2, true) else {
            return Split::Undecided;
        };
        match (w.count, w.found) {
            _ if w.budget == 0 => Split::Undecided,
            (0, _) => Split::None,
            (1, Some(spans)) => Split::One(spans),
            _ => Split::Undecided,
        }
    }

    /// Enumerates the ways `msg` splits, up to `limit` of them (keeping the
    /// spans of the first when `spans`); `None` for messages left to the regex.
    fn walk(&self, msg: &str, limit: u32, spans: bool) -> Option<Walk> {
        let b = msg.as_bytes();
        if !msg.is_ascii() || memchr::memchr(b'\n', b).is_some() {
            return None;
        }
        let mut w = Walk {
            budget: BUDGET,
            limit,
            count: 0,
            record: spans,
            spans: Vec::new(),
            found: None,
        };
        self.step(0, b, 0, &mut w);
        Some(w)
    }

    fn step(&self, i: usize, b: &[u8], pos: usize, w: &mut Walk) {
        if w.budget == 0 || w.count >= w.limit {
            return;
        }
        w.budget -= 1;
        match self.parts.get(i) {
            None => {
                if pos == b.len() {
                    w.count += 1;
                    if w.count == 1 && w.record {
                        w.found = Some(w.spans.clone());
                    }
                }
            }
            Some(Part::Lit(l, _)) => {
                if b.len() - pos >= l.len() && super::dispatch::same(&b[pos..pos + l.len()], l) {
                    self.step(i + 1, b, pos + l.len(), w);
                }
            }
            Some(Part::Cap(ty)) => match self.parts.get(i + 1) {
                // Last piece: the capture runs to the end.
                None => {
                    if fits(*ty, &b[pos..]) {
                        w.enter(pos, b.len());
                        self.step(i + 1, b, b.len(), w);
                        w.leave();
                    }
                }
                Some(Part::Lit(l, finder)) => {
                    // Every place the next literal occurs is a possible end.
                    let mut from = pos;
                    while let Some(off) = finder.find(&b[from..]) {
                        let end = from + off;
                        if fits(*ty, &b[pos..end]) {
                            w.enter(pos, end);
                            self.step(i + 2, b, end + l.len(), w);
                            w.leave();
                            if w.count >= w.limit || w.budget == 0 {
                                return;
                            }
                        }
                        from = end + 1;
                        if from > b.len() {
                            break;
                        }
                    }
                }
                // Two captures in a row are rejected when templates compile.
                Some(Part::Cap(_)) => w.budget = 0,
            },
        }
    }
}

/// The state of one [`Matcher::walk`].
struct Walk {
    budget: u32,
    limit: u32,
    count: u32,
    record: bool,
    spans: Vec<(usize, usize)>,
    found: Option<Vec<(usize, usize)>>,
}

impl Walk {
    /// A capture spans `a..b` on the current path (kept only when recording).
    #[inline]
    fn enter(&mut self, a: usize, b: usize) {
        if self.record {
            self.spans.push((a, b));
        }
    }

    #[inline]
    fn leave(&mut self) {
        if self.record {
            self.spans.pop();
        }
    }
}

/// Whether `s` (ASCII, no line feed) is wholly matched by the capture's regex.
fn fits(ty: Option<CaptureType>, s: &[u8]) -> bool {
    use CaptureType::*;
    match ty {
        None | Some(Rest) => true,
        Some(Str) => !s.is_empty(),
        Some(Word) => !s.is_empty() && !s.iter().any(|c| is_space(*c)),
        Some(Int) => {
            let d = s.strip_prefix(b"-").unwrap_or(s);
            !d.is_empty() && d.iter().all(u8::is_ascii_digit)
        }
        Some(Float) => is_float(s),
        Some(Duration) => is_duration(s),
        Some(Quoted) => is_quoted(s),
    }
}

/// `\s` on ASCII: space, \t, \n, \v, \f, \r.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn digits(s: &[u8]) -> usize {
    s.iter().take_while(|c| c.is_ascii_digit()).count()
}

/// `[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|NaN|[+-]?Inf)`
fn is_float(s: &[u8]) -> bool {
    let s = match s.first() {
        Some(b'-' | b'+') => &s[1..],
        _ => s,
    };
    if s == b"NaN" || s == b"Inf" || s == b"+Inf" || s == b"-Inf" {
        return true;
    }
    let n = digits(s);
    if n == 0 {
        return false;
    }
    let mut r = &s[n..];
    if let Some(x) = r.strip_prefix(b".") {
        r = x;
    }
    r = &r[digits(r)..];
    if r.is_empty() {
        return true;
    }
    let Some(e) = r.strip_prefix(b"e").or_else(|| r.strip_prefix(b"E")) else {
        return false;
    };
    let e = match e.first() {
        Some(b'-' | b'+') => &e[1..],
        _ => e,
    };
    let n = digits(e);
    n > 0 && n == e.len()
}

/// `(?:\d+(?:\.\d+)?(?:h|ms|m|s|µs|us|ns))+|0` (ASCII: no `µs`).
fn is_duration(s: &[u8]) -> bool {
    if s == b"0" {
        return true;
    }
    let mut r = s;
    if r.is_empty() {
        return false;
    }
    while !r.is_empty() {
        let n = digits(r);
        if n == 0 {
            return false;
        }
        r = &r[n..];
        if let Some(x) = r.strip_prefix(b".") {
            let m = digits(x);
            if m == 0 {
                return false;
            }
            r = &x[m..];
        }
        // A unit; a digit (or the end) must follow it, so `ms` before `m`.
        r = if let Some(x) = r
            .strip_prefix(b"ms")
            .or_else(|| r.strip_prefix(b"us"))
            .or_else(|| r.strip_prefix(b"ns"))
        {
            x
        } else if let Some((b'h' | b'm' | b's', x)) = r.split_first() {
            x
        } else {
            return false;
        };
    }
    true
}

/// `"(?:[^"\\]|\\.)*"`
fn is_quoted(s: &[u8]) -> bool {
    let Some(inner) = s.strip_prefix(b"\"") else {
        return false;
    };
    let mut i = 0;
    while i < inner.len() {
        match inner[i] {
            b'\\' => {
                // `\\.`: any character but a line feed (none here).
                if i + 1 >= inner.len() {
                    return false;
                }
                i += 2;
            }
            b'"' => return i + 1 == inner.len(),
            _ => i += 1,
        }
    }
    false
}
