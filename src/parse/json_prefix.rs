//! A JSON value read from a paste that may be cut: the members and elements
//! that were complete, with the containers left open closed. A monitoring
//! dump cut inside its peers (`/raftz` pasted into an issue and cut at the
//! screen's end) still says its state, size and quorum.
//!
//! The scanner is incremental (lines are pushed as they are read) and tells
//! when the value is closed, so a reader can stop at the value's end. It never
//! panics and bounds what it holds: past [`MAX_DEPTH`] nested containers or
//! [`MAX_BYTES`] of text it stops, as at a cut.

use serde_json::Value;

/// Deepest nesting followed (serde_json itself refuses past 128).
pub const MAX_DEPTH: usize = 100;
/// Most text held for one value.
pub const MAX_BYTES: usize = 4 << 20;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Expect {
    /// After `{`: a key or `}`.
    KeyOrEnd,
    /// After `,` in an object.
    Key,
    /// After a key.
    Colon,
    /// After `:` or `,` in an array, or after `[` (with `]` allowed).
    Value { or_end: bool },
    /// After a complete member or element.
    CommaOrEnd,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Open {
    Object,
    Array,
}

/// What the scan of the text pushed so far says.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Nothing but whitespace yet.
    Empty,
    /// A value is open.
    Open,
    /// The value is closed; `rest` holds what followed it on its last line.
    Closed,
    /// The text is not JSON from this point on (or a limit was reached): the
    /// value ends at its last complete part.
    Broken,
}

/// The incremental scanner.
#[derive(Debug)]
pub struct Scanner {
    text: String,
    /// Bytes of `text` already scanned.
    pos: usize,
    stack: Vec<(Open, Expect)>,
    /// Inside a string (`key` tells whether it is an object key).
    in_string: Option<bool>,
    escaped: bool,
    /// Inside a number or literal (`true`, `null`...).
    in_scalar: bool,
    /// The last point where cutting gives valid JSON: (byte, closers).
    good: Option<(usize, String)>,
    /// The top-level value closed at this byte.
    closed_at: Option<usize>,
    broken: bool,
    started: bool,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner::new()
    }
}

/// A value read by [`Scanner::finish`].
#[derive(Debug, PartialEq)]
pub struct Read {
    pub value: Value,
    /// The text ended (or broke) before the value did: what is there is complete,
    /// what was cut is left out.
    pub cut: bool,
    /// Bytes of the pushed text the value used (up to its end, or its last
    /// complete part when cut).
    pub used: usize,
}

impl Scanner {
    pub fn new() -> Scanner {
        Scanner {
            text: String::new(),
            pos: 0,
            stack: Vec::new(),
            in_string: None,
            escaped: false,
            in_scalar: false,
            good: None,
            closed_at: None,
            broken: false,
            started: false,
        }
    }

    /// The scan so far.
    pub fn state(&self) -> State {
        if self.closed_at.is_some() {
            State::Closed
        } else if self.broken {
            State::Broken
        } else if self.started {
            State::Open
        } else {
            State::Empty
        }
    }

    /// Adds text (a line with its line break) and scans it.
    pub fn push(&mut self, s: &str) -> State {
        if self.closed_at.is_some() || self.broken {
            return self.state();
        }
        if self.text.len() + s.len() > MAX_BYTES {
            self.broken = true;
            return self.state();
        }
        self.text.push_str(s);
        self.scan();
        self.state()
    }

    fn closers(&self) -> String {
        self.stack
            .iter()
            .rev()
            .map(|(o, _)| match o {
                Open::Object => '}',
                Open::Array => ']',
            })
            .collect()
    }

    /// A value (scalar or container) ended just before byte `at`.
    fn value_done(&mut self, at: usize) {
        match self.stack.last_mut() {
            None => self.closed_at = Some(at),
            Some((_, e)) => {
                *e = Expect::CommaOrEnd;
                self.good = Some((at, self.closers()));
            }
        }
    }

    fn scan(&mut self) {
        let text = std::mem::take(&mut self.text);
        self.scan_bytes(text.as_bytes());
        self.text = text;
    }

    fn scan_bytes(&mut self, bytes: &[u8]) {
        let mut i = self.pos;
        while i < bytes.len() {
            let b = bytes[i];
            if let Some(key) = self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = None;
                    if key {
                        if let Some((_, e)) = self.stack.last_mut() {
                            *e = Expect::Colon;
                        }
                    } else {
                        self.value_done(i + 1);
                        if self.closed_at.is_some() {
                            break;
                        }
                    }
                } else if b < 0x20 {
                    // A raw control character (a line break) inside a string: not JSON.
                    self.broken = true;
                    break;
                }
                i += 1;
                continue;
            }
            if self.in_scalar {
                if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.') {
                    i += 1;
                    continue;
                }
                self.in_scalar = false;
                self.value_done(i);
                if self.closed_at.is_some() {
                    break;
                }
            }
            if b.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            let expect = self.stack.last().map(|(_, e)| *e);
            match (b, expect) {
                (b'{' | b'[', None) if !self.started => self.open(b, i),
                (b'{' | b'[', Some(Expect::Value { .. })) => {
                    if self.stack.len() >= MAX_DEPTH {
                        self.broken = true;
                        break;
                    }
                    self.open(b, i);
                }
                (b'"', Some(Expect::KeyOrEnd | Expect::Key)) => self.in_string = Some(true),
                (b'"', Some(Expect::Value { .. })) => self.in_string = Some(false),
                (b':', Some(Expect::Colon)) => {
                    if let Some((_, e)) = self.stack.last_mut() {
                        *e = Expect::Value { or_end: false };
                    }
                }
                (b',', Some(Expect::CommaOrEnd)) => {
                    if let Some((o, e)) = self.stack.last_mut() {
                        *e = match o {
                            Open::Object => Expect::Key,
                            Open::Array => Expect::Value { or_end: false },
                        };
                    }
                }
                (b'}', Some(Expect::KeyOrEnd | Expect::CommaOrEnd))
                    if self.stack.last().map(|(o, _)| *o) == Some(Open::Object) =>
                {
                    self.stack.pop();
                    self.value_done(i + 1);
                    if self.closed_at.is_some() {
                        break;
                    }
                }
                (b']', Some(Expect::Value { or_end: true } | Expect::CommaOrEnd))
                    if self.stack.last().map(|(o, _)| *o) == Some(Open::Array) =>
                {
                    self.stack.pop();
                    self.value_done(i + 1);
                    if self.closed_at.is_some() {
                        break;
                    }
                }
                (b'-' | b'0'..=b'9' | b't' | b'f' | b'n', Some(Expect::Value { .. })) => {
                    self.in_scalar = true;
                }
                _ => {
                    self.broken = true;
                    break;
                }
            }
            i += 1;
        }
        self.pos = i.min(bytes.len());
    }

    fn open(&mut self, b: u8, i: usize) {
        self.started = true;
        let (o, e) = if b == b'{' {
            (Open::Object, Expect::KeyOrEnd)
        } else {
            (Open::Array, Expect::Value { or_end: true })
        };
        self.stack.push((o, e));
        self.good = Some((i + 1, self.closers()));
    }

    /// The value: whole when it closed, else its complete part closed.
    /// `None` when no value was started or what is there is not JSON.
    pub fn finish(&self) -> Option<Read> {
        if let Some(end) = self.closed_at {
            let value = serde_json::from_str(self.text[..end].trim_start()).ok()?;
            return Some(Read {
                value,
                cut: false,
                used: end,
            });
        }
        let (at, closers) = self.good.as_ref()?;
        let mut repaired = String::with_capacity(at + closers.len());
        repaired.push_str(&self.text[..*at]);
        repaired.push_str(closers);
        let value = serde_json::from_str(repaired.trim_start()).ok()?;
        Some(Read {
            value,
            cut: true,
            used: *at,
        })
    }

    /// The text pushed so far.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Reads `text` as one JSON value, tolerating a cut (see [`Scanner`]).
pub fn read(text: &str) -> Option<Read> {
    let mut s = Scanner::new();
    s.push(text);
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_whole_value_is_read_as_is() {
        let r = read("{\"a\": [1, 2, {\"b\": \"x}\"}], \"c\": null}\n").unwrap();
        assert_eq!(r.value, json!({"a": [1, 2, {"b": "x}"}], "c": null}));
        assert!(!r.cut);
    }

    #[test]
    fn a_cut_value_keeps_its_complete_members() {
        let text = "{\n \"id\": \"S1\",\n \"size\": 10,\n \"peers\": {\n  \"a\": {\"name\": \"\", \"known\": true},\n  \"b\": {\"name\": \"n2\", \"kno";
        let r = read(text).unwrap();
        assert!(r.cut);
        assert_eq!(
            r.value,
            json!({"id": "S1", "size": 10, "peers": {"a": {"name": "", "known": true}, "b": {"name": "n2"}}})
        );
    }

    #[test]
    fn a_cut_number_or_key_is_left_out() {
        assert_eq!(read("{\"a\": 1, \"b\": 12").unwrap().value, json!({"a": 1}));
        assert_eq!(read("{\"a\": 1, \"b\"").unwrap().value, json!({"a": 1}));
        assert_eq!(read("{\"a\": 1, \"b\":").unwrap().value, json!({"a": 1}));
        assert_eq!(read("[1, 2, [3").unwrap().value, json!([1, 2, []]));
        assert_eq!(read("{").unwrap().value, json!({}));
    }

    #[test]
    fn escapes_and_quotes_inside_strings() {
        let r = read("{\"\\\"kCG\": {\"name\": \"a\\\\\"}, \"x\": \"cut here").unwrap();
        assert_eq!(r.value, json!({"\"kCG": {"name": "a\\"}}));
    }

    #[test]
    fn incremental_push_tells_when_the_value_closes() {
        let mut s = Scanner::new();
        assert_eq!(s.push("  \n"), State::Empty);
        assert_eq!(s.push("{\n"), State::Open);
        assert_eq!(s.push("  \"a\": 1\n"), State::Open);
        assert_eq!(s.push("}\n"), State::Closed);
        assert_eq!(s.finish().unwrap().value, json!({"a": 1}));
    }

    #[test]
    fn hostile_input_never_panics() {
        for t in [
            "",
            "}",
            "]]]",
            "{\"a\" 1}",
            "{,}",
            "[,]",
            "\"just a string\"",
            "{\"a\": tru",
            "{\"a\": \"\u{0}\"}",
            "{\"é\": \"ü\", \"b\": [",
        ] {
            let _ = read(t);
        }
        let deep = "[".repeat(10_000);
        let r = read(&deep).unwrap();
        assert!(r.cut);
        let deep_obj = "{\"a\":".repeat(10_000);
        assert!(read(&deep_obj).is_some());
    }

    #[test]
    fn text_that_is_not_json_is_refused() {
        assert!(read("hello {").is_none());
        assert!(read("").is_none());
    }
}
