//! Whether a message matches a template, without the regex: literal pieces
//! compared in place (`memmem` for the literal after a capture), captures
//! checked by type. Decides exactly what the template's regex decides, for
//! ASCII messages without a line feed (the others go to the regex: there the
//! regex's Unicode classes and `.` not matching `\n` would differ).
//! Counting lines (`coroner stats`) needs only this yes/no.

use super::dispatch::same;
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
    /// It matches in exactly one way, whose capture spans were written.
    One,
    /// The regex must decide.
    Undecided,
}

/// Captures the matcher records spans of; patterns with more go to the regex.
const MAX_SPANS: usize = 16;

/// The capture spans of one split (byte ranges, in order), kept inline: no
/// allocation per message.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Spans {
    len: usize,
    at: [(u32, u32); MAX_SPANS],
}

impl Spans {
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.at[..self.len]
            .iter()
            .map(|&(a, b)| (a as usize, b as usize))
    }

    fn push(&mut self, a: usize, b: usize) {
        // `split` walks only patterns whose captures fit, and messages whose
        // offsets fit in `u32`.
        self.at[self.len] = (a as u32, b as u32);
        self.len += 1;
    }

    fn copy_from(&mut self, other: &Spans) {
        self.at[..other.len].copy_from_slice(&other.at[..other.len]);
        self.len = other.len;
    }
}

/// Backtracking steps allowed before the regex decides instead.
const BUDGET: u32 = 10_000;

#[derive(Clone, Debug)]
pub(crate) struct Matcher {
    parts: Vec<Part>,
    /// Whether the captures fit in [`Spans`].
    few_captures: bool,
}

impl Matcher {
    pub fn new(parts: Vec<Part>) -> Matcher {
        let captures = parts.iter().filter(|p| matches!(p, Part::Cap(_))).count();
        Matcher {
            parts,
            few_captures: captures <= MAX_SPANS,
        }
    }

    /// `Some(matched)`, or `None` when the regex must decide (non-ASCII,
    /// a line feed, or too many ways to split the message).
    pub fn is_match(&self, msg: &str) -> Option<bool> {
        let (count, budget) = self.walk(msg, 1, None)?;
        (budget > 0 || count > 0).then_some(count > 0)
    }

    /// How the message splits: not at all, in exactly one way (its capture
    /// spans written to `spans`, `{_}` included; with one split, the regex's
    /// leftmost-first preferences cannot choose another), or `Undecided`
    /// when the regex must decide (several splits, non-ASCII or a line feed,
    /// too many ways tried, too many captures).
    pub fn split(&self, msg: &str, spans: &mut Spans) -> Split {
        if !self.few_captures || u32::try_from(msg.len()).is_err() {
            return Split::Undecided;
        }
        let Some((count, budget)) = self.walk(msg, 2, Some(spans)) else {
            return Split::Undecided;
        };
        match count {
            _ if budget == 0 => Split::Undecided,
            0 => Split::None,
            1 => Split::One,
            _ => Split::Undecided,
        }
    }

    /// Whether a message that starts with `m` may match: `false` only when
    /// none can, whatever follows `m` (a cheap, conservative reading of the
    /// pattern against known text, not a match).
    ///
    /// Literal pieces must agree with `m` where they overlap it. A capture
    /// followed by a literal may end anywhere in `m` or past it; a type
    /// without spaces (`word`, numbers, durations) cannot run over a space
    /// of `m`, a quoted text starts with `"`. Past a budget of steps the
    /// answer is `true`.
    pub fn may_start_with(&self, m: &[u8]) -> bool {
        // Asked of every (prefix, template) pair when a classifier is built.
        let mut budget = 512;
        may_start(&self.parts, m, &mut budget)
    }

    /// Enumerates the ways `msg` splits, up to `limit` of them (writing the
    /// spans of the first to `found`, when given): (splits, budget left), or
    /// `None` for messages left to the regex.
    fn walk(&self, msg: &str, limit: u32, found: Option<&mut Spans>) -> Option<(u32, u32)> {
        let b = msg.as_bytes();
        let mut w = Walk {
            budget: BUDGET,
            limit,
            count: 0,
            record: found.map(|found| Record {
                path: Spans::default(),
                found,
            }),
        };
        // A pattern that ends with text matches only messages that end with
        // it, whatever their bytes (the regex's `$` is the end of the text):
        // most candidates that do not match fail here, without a scan.
        if let Some(Part::Lit(l, _)) = self.parts.last() {
            let tail = b.len().checked_sub(l.len()).map(|at| &b[at..]);
            if !tail.is_some_and(|t| same(t, l)) {
                return Some((0, BUDGET));
            }
        }
        if !msg.is_ascii() || memchr::memchr(b'\n', b).is_some() {
            return None;
        }
        self.step(0, b, 0, &mut w);
        Some((w.count, w.budget))
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
                    if let (1, Some(r)) = (w.count, &mut w.record) {
                        r.found.copy_from(&r.path);
                    }
                }
            }
            Some(Part::Lit(l, _)) => {
                if b.len() - pos >= l.len() && same(&b[pos..pos + l.len()], l) {
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

/// [`Matcher::may_start_with`] for the pieces `parts` and the known text `m`.
fn may_start(parts: &[Part], m: &[u8], budget: &mut u32) -> bool {
    use CaptureType::*;
    if m.is_empty() || *budget == 0 {
        return true;
    }
    *budget -= 1;
    match parts {
        [] => false,
        [Part::Lit(l, _), rest @ ..] => {
            let k = l.len().min(m.len());
            l[..k] == m[..k] && (l.len() >= m.len() || may_start(rest, &m[l.len()..], budget))
        }
        [Part::Cap(ty), rest @ ..] => {
            if *ty == Some(Quoted) && m[0] != b'"' {
                return false;
            }
            // Types whose text has no space (`\S`, digits, units, NaN, Inf).
            let no_space = matches!(ty, Some(Word | Int | Float | Duration));
            let Some(Part::Lit(..)) = rest.first() else {
                // The capture runs to the end (or the pattern is invalid).
                return !(no_space && m.contains(&b' '));
            };
            // Types that match the empty text (`{_}`: `.*?`; `rest`: `.*`).
            let min = usize::from(!matches!(ty, None | Some(Rest)));
            // The capture ends at `j` within `m` (at its end: it may run on).
            for j in min..=m.len() {
                if no_space && m[..j].contains(&b' ') {
                    return false;
                }
                if may_start(rest, &m[j..], budget) {
                    return true;
                }
            }
            false
        }
    }
}

/// The state of one [`Matcher::walk`].
struct Walk<'s> {
    budget: u32,
    limit: u32,
    count: u32,
    record: Option<Record<'s>>,
}

/// The spans on the current path, and where the first split's go.
struct Record<'s> {
    path: Spans,
    found: &'s mut Spans,
}

impl Walk<'_> {
    /// A capture spans `a..b` on the current path (kept only when recording).
    #[inline]
    fn enter(&mut self, a: usize, b: usize) {
        if let Some(r) = &mut self.record {
            r.path.push(a, b);
        }
    }

    #[inline]
    fn leave(&mut self) {
        if let Some(r) = &mut self.record {
            r.path.len -= 1;
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
