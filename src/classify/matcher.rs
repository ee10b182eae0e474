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
        let b = msg.as_bytes();
        if !msg.is_ascii() || memchr::memchr(b'\n', b).is_some() {
            return None;
        }
        let mut budget = BUDGET;
        self.at(0, b, 0, &mut budget)
    }

    fn at(&self, i: usize, b: &[u8], pos: usize, budget: &mut u32) -> Option<bool> {
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        match self.parts.get(i) {
            None => Some(pos == b.len()),
            Some(Part::Lit(l, _)) => {
                if b[pos..].starts_with(l) {
                    self.at(i + 1, b, pos + l.len(), budget)
                } else {
                    Some(false)
                }
            }
            Some(Part::Cap(ty)) => match self.parts.get(i + 1) {
                // Last piece: the capture runs to the end.
                None => Some(fits(*ty, &b[pos..])),
                Some(Part::Lit(l, finder)) => {
                    // Every place the next literal occurs is a possible end.
                    let mut from = pos;
                    while let Some(off) = finder.find(&b[from..]) {
                        let end = from + off;
                        if fits(*ty, &b[pos..end]) {
                            match self.at(i + 2, b, end + l.len(), budget) {
                                Some(true) => return Some(true),
                                Some(false) => {}
                                None => return None,
                            }
                        }
                        from = end + 1;
                        if from > b.len() {
                            break;
                        }
                    }
                    Some(false)
                }
                // Two captures in a row are rejected when templates compile.
                Some(Part::Cap(_)) => None,
            },
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

impl Matcher {
    /// The capture spans (byte ranges, in order, `{_}` included) when the
    /// message matches in exactly one way; `None` when the regex must decide
    /// (no match, several splits, non-ASCII or a line feed): with one split,
    /// the regex's leftmost-first preferences cannot choose another.
    pub fn unique_spans(&self, msg: &str) -> Option<Vec<(usize, usize)>> {
        let b = msg.as_bytes();
        if !msg.is_ascii() || memchr::memchr(b'\n', b).is_some() {
            return None;
        }
        let mut budget = BUDGET;
        let mut found: Option<Vec<(usize, usize)>> = None;
        let mut spans = Vec::new();
        let mut count = 0u32;
        self.all(0, b, 0, &mut budget, &mut spans, &mut found, &mut count);
        if count == 1 && budget > 0 {
            found
        } else {
            None
        }
    }

    /// Enumerates splits (stopping after a second one or the budget).
    #[allow(clippy::too_many_arguments)]
    fn all(
        &self,
        i: usize,
        b: &[u8],
        pos: usize,
        budget: &mut u32,
        spans: &mut Vec<(usize, usize)>,
        found: &mut Option<Vec<(usize, usize)>>,
        count: &mut u32,
    ) {
        if *budget == 0 || *count > 1 {
            return;
        }
        *budget -= 1;
        match self.parts.get(i) {
            None => {
                if pos == b.len() {
                    *count += 1;
                    if *count == 1 {
                        *found = Some(spans.clone());
                    }
                }
            }
            Some(Part::Lit(l, _)) => {
                if b[pos..].starts_with(l) {
                    self.all(i + 1, b, pos + l.len(), budget, spans, found, count);
                }
            }
            Some(Part::Cap(ty)) => match self.parts.get(i + 1) {
                None => {
                    if fits(*ty, &b[pos..]) {
                        spans.push((pos, b.len()));
                        self.all(i + 1, b, b.len(), budget, spans, found, count);
                        spans.pop();
                    }
                }
                Some(Part::Lit(l, finder)) => {
                    let mut from = pos;
                    while let Some(off) = finder.find(&b[from..]) {
                        let end = from + off;
                        if fits(*ty, &b[pos..end]) {
                            spans.push((pos, end));
                            self.all(i + 2, b, end + l.len(), budget, spans, found, count);
                            spans.pop();
                            if *count > 1 || *budget == 0 {
                                return;
                            }
                        }
                        from = end + 1;
                        if from > b.len() {
                            break;
                        }
                    }
                }
                Some(Part::Cap(_)) => *budget = 0,
            },
        }
    }
}
