//! Log files → records, with exact accounting: for every file,
//! lines read = parsed + continuation + unparsed.
//!
//! A line is tried, in order, as: a nats-server header (possibly inside a
//! deployment wrapper: kubectl, compose, docker json-file, journald, syslog),
//! a JSON structured-log object, a Windows event-log body, Go runtime output
//! (`panic:`, `fatal error:`, `goroutine N [...]:`). A line that is none of
//! these is tried as a paste (`paste`: a header after any prefix or inside box
//! borders, a log shipper's timestamp before a bare message), then offered to
//! the sink as a bare message (a known message text with no header at all:
//! [`Sink::bare`]). A line that is none of these continues the previous record
//! (banners, stack dumps, multi-line error texts) when there is one and it is
//! text; otherwise it is unparsed and kept with its line number.
//!
//! Two readers come before that fallback. The outputs of CLIs pasted beside
//! logs (`kubectl get pods`, `nats server report jetstream`, a `/raftz`
//! pasted without a time...) are read by [`cli`] into records of their own.
//! And a line that a terminal or a paste wrapped (its tail on the next line,
//! no header) is offered to the sink as the tail of the record before it
//! ([`Sink::wrapped`]): joined when the joined text is a message the sink
//! knows better, counted as a continuation.

pub mod cli;
pub mod clock;
pub mod json;
pub mod nats;
pub mod paste;
pub mod wrapper;

use crate::model::{Level, Timestamp, Value};
use crate::parse::lines::LineReader;
pub use clock::Zone;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::BufRead;

/// How to read log files.
#[derive(Clone, Debug)]
pub struct LogOptions {
    /// Zone of timestamps that carry none (nats-server writes local time).
    pub zone: Zone,
    /// Lines longer than this are cut and counted.
    pub max_line: usize,
    /// Year for syslog timestamps, which carry none.
    pub year_hint: i32,
    /// How many unparsed lines to keep per file (all are counted).
    pub unparsed_samples: usize,
}

impl Default for LogOptions {
    fn default() -> LogOptions {
        LogOptions {
            zone: Zone::utc(),
            max_line: 1 << 20,
            year_hint: 2026,
            unparsed_samples: 20,
        }
    }
}

/// One parsed record (borrowed from the line where possible).
#[derive(Debug)]
pub struct Record<'a> {
    pub ts: Option<Timestamp>,
    pub level: Level,
    /// The message after the header (connection prefix included).
    pub msg: Cow<'a, str>,
    pub pid: Option<u32>,
    /// Node named by a wrapper (kubectl pod, compose service, syslog host) or a JSON key.
    pub node: Option<Cow<'a, str>>,
    /// The format that recognised the line (`nats`, `kubectl`, `json`, ...).
    pub format: &'static str,
    /// Extra fields (JSON logs).
    pub extra: Vec<(String, Value)>,
}

/// Receives records as they are parsed.
pub trait Sink {
    fn record(&mut self, rec: Record<'_>, line: u64);
    /// A line that continues the last record.
    fn continuation(&mut self, line: u64, text: &str);
    /// A line without any header (decoration removed): the sink takes it as a
    /// record of its own when it recognises the message, and says so.
    fn bare(&mut self, _text: &str, _line: u64) -> bool {
        false
    }
    /// A record read from a CLI output ([`cli`]): no time of its own;
    /// `block` is the first line of the output it came from (its rows are
    /// one instant).
    fn snapshot(&mut self, rec: Record<'_>, line: u64, _block: u64) {
        self.record(rec, line);
    }
    /// A header-less line right after a record (or after its last joined
    /// tail): the sink joins it to that record when it is the record's tail,
    /// wrapped by a terminal or a paste, and says so.
    fn wrapped(&mut self, _tail: &str, _line: u64) -> bool {
        false
    }
}

/// Formats whose records may have been wrapped by a paste (one text line
/// each; not JSON objects, not Go runtime output).
pub fn wrappable(format: &str) -> bool {
    !matches!(format, "json" | "docker-json" | "go-runtime" | "windows")
        && !cli::FORMATS.contains(&format)
}

/// Per-file accounting.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileAccount {
    pub lines_read: u64,
    pub parsed: u64,
    pub continuation: u64,
    pub unparsed: u64,
    /// Lines cut at the maximum length (also counted in the three above).
    pub truncated: u64,
    pub bytes: u64,
    /// Records without a timestamp (logtime off, Go runtime output).
    pub untimed: u64,
    pub formats: BTreeMap<&'static str, u64>,
    pub unparsed_samples: Vec<(u64, String)>,
    /// The read error that ended the file early, if any (truncated gzip...).
    pub error: Option<String>,
}

impl FileAccount {
    /// The accounting invariant.
    pub fn balanced(&self) -> bool {
        self.lines_read == self.parsed + self.continuation + self.unparsed
    }

    /// The format most lines had.
    pub fn main_format(&self) -> Option<&'static str> {
        self.formats
            .iter()
            .max_by_key(|(k, v)| (**v, std::cmp::Reverse(**k)))
            .map(|(k, _)| *k)
    }
}

/// Lines per format name; names are `&'static str` constants, so the same
/// address is the same name (and equal text still counts together).
#[derive(Default)]
struct FormatTally(Vec<(&'static str, u64)>);

impl FormatTally {
    #[inline]
    fn add(&mut self, format: &'static str) {
        let same = |f: &&'static str| std::ptr::eq(*f, format) || **f == *format;
        match self.0.iter_mut().find(|(f, _)| same(f)) {
            Some((_, n)) => *n += 1,
            None => self.0.push((format, 1)),
        }
    }
}

/// Tries to read `line` as a record.
pub fn parse_line<'a>(line: &'a str, opts: &LogOptions) -> Option<Record<'a>> {
    let zone = &opts.zone;
    // Plain nats-server header (the common case) first.
    if let Some(h) = nats::parse_header(line, zone) {
        return Some(Record {
            ts: h.ts,
            level: h.level,
            msg: Cow::Borrowed(h.msg),
            pid: h.pid,
            node: None,
            format: if h.ts.is_some() {
                "nats"
            } else {
                "nats-notime"
            },
            extra: Vec::new(),
        });
    }
    if line.starts_with('\x1b') || line.contains("\x1b[") {
        let clean = nats::strip_ansi(line);
        if let Some(h) = nats::parse_header(&clean, zone) {
            return Some(Record {
                ts: h.ts,
                level: h.level,
                msg: Cow::Owned(h.msg.to_string()),
                pid: h.pid,
                node: None,
                format: "nats-color",
                extra: Vec::new(),
            });
        }
    }
    if let Some(w) = wrapper::unwrap_line(line, zone, opts.year_hint) {
        // The wrapped line is usually a full nats-server line.
        let inner_clean = nats::strip_ansi(&w.inner);
        if let Some(h) = nats::parse_header(&inner_clean, zone) {
            return Some(Record {
                ts: h.ts.or(w.ts),
                level: h.level,
                msg: Cow::Owned(h.msg.to_string()),
                pid: h.pid.or(w.pid),
                node: w.node.map(|n| Cow::Owned(n.into_owned())),
                format: w.format,
                extra: Vec::new(),
            });
        }
        if w.format != "compose" || w.ts.is_some() {
            // syslog / journald without nats header: level from PRI, else info.
            if w.ts.is_some() {
                let level = w.level.unwrap_or(Level::Info);
                return Some(Record {
                    ts: w.ts,
                    level,
                    msg: Cow::Owned(w.inner.into_owned()),
                    pid: w.pid,
                    node: w.node.map(|n| Cow::Owned(n.into_owned())),
                    format: w.format,
                    extra: Vec::new(),
                });
            }
        }
        if w.format == "docker-json" {
            return Some(Record {
                ts: w.ts,
                level: Level::Info,
                msg: Cow::Owned(w.inner.into_owned()),
                pid: None,
                node: None,
                format: w.format,
                extra: Vec::new(),
            });
        }
    }
    if line.starts_with('{') {
        if let Some(j) = json::parse_json_line(line) {
            return Some(Record {
                ts: j.ts,
                level: j.level,
                msg: Cow::Owned(j.msg),
                pid: j.pid,
                node: j.node.map(Cow::Owned),
                format: "json",
                extra: j.extra,
            });
        }
    }
    if let Some((pid, level, msg)) = nats::parse_windows(line) {
        return Some(Record {
            ts: None,
            level,
            msg: Cow::Borrowed(msg),
            pid: Some(pid),
            node: None,
            format: "windows",
            extra: Vec::new(),
        });
    }
    if line.starts_with("panic: ") || line.starts_with("fatal error: ") {
        return Some(Record {
            ts: None,
            level: Level::Fatal,
            msg: Cow::Borrowed(line),
            pid: None,
            node: None,
            format: "go-runtime",
            extra: Vec::new(),
        });
    }
    parse_paste(line, zone)
}

/// A pasted line: a header after a prefix or inside borders, or a shipper's
/// timestamp before a bare message (its level is unknown: recorded as info;
/// rules select such lines by their kind).
fn parse_paste<'a>(line: &'a str, zone: &Zone) -> Option<Record<'a>> {
    let core = paste::undecorate(line);
    if let Some((h, prefix)) = paste::find_header(core, zone) {
        return Some(Record {
            ts: h.ts,
            level: h.level,
            msg: Cow::Borrowed(paste::undecorate(h.msg)),
            pid: h.pid,
            node: paste::prefix_node(prefix).map(Cow::Borrowed),
            format: "paste",
            extra: Vec::new(),
        });
    }
    let (ts, msg) = paste::shipper_time(core, zone)?;
    Some(Record {
        ts: Some(ts),
        level: Level::Info,
        msg: Cow::Borrowed(msg),
        pid: None,
        node: None,
        format: "shipper",
        extra: Vec::new(),
    })
}

fn is_text(s: &str) -> bool {
    !s.chars()
        .any(|c| (c.is_control() && c != '\t') || c == '\u{fffd}')
}

/// Parses a whole stream; calls `sink` for every record and continuation.
pub fn parse_stream(
    reader: &mut dyn BufRead,
    opts: &LogOptions,
    sink: &mut dyn Sink,
) -> FileAccount {
    parse_stream_from(reader, opts, sink, false)
}

/// Like [`parse_stream`], for a chunk of a file that does not start at its
/// beginning: with `continued`, leading lines without a header continue the
/// previous chunk's last record instead of being unparsed.
pub fn parse_stream_from(
    reader: &mut dyn BufRead,
    opts: &LogOptions,
    sink: &mut dyn Sink,
    continued: bool,
) -> FileAccount {
    let mut acc = FileAccount::default();
    let mut lines = LineReader::new(reader, opts.max_line);
    let mut have_record = continued;
    // Lines per format, added to `acc.formats` at the end: a file has one
    // or two formats, found here without comparing names on every line.
    let mut tally = FormatTally::default();
    let mut cli = cli::Reader::new();
    let mut outs: Vec<cli::Out> = Vec::new();
    // The previous line was a record (or a tail joined to it) that a paste may have wrapped.
    let mut wrap_open = false;
    let read = lines.for_each(|line| {
        let number = line.number;
        acc.lines_read += 1;
        if line.truncated {
            acc.truncated += 1;
        }
        // Fast SIMD validation first; the lossy copy only for invalid UTF-8.
        let text = match std::str::from_utf8(line.bytes) {
            Ok(t) => Cow::Borrowed(t),
            Err(_) => String::from_utf8_lossy(line.bytes),
        };
        let text_ref: &str = text.trim_end_matches('\r');
        if let Some(rec) = parse_line(text_ref, opts) {
            if cli.in_block() {
                cli.end(&mut outs);
                apply(&mut outs, &mut acc, sink, &mut have_record, opts);
            }
            acc.parsed += 1;
            tally.add(rec.format);
            if rec.ts.is_none() {
                acc.untimed += 1;
            }
            have_record = true;
            wrap_open = wrappable(rec.format);
            sink.record(rec, number);
            return;
        }
        let taken = is_text(text_ref) && cli.feed(text_ref, number, &mut outs);
        apply(&mut outs, &mut acc, sink, &mut have_record, opts);
        if taken {
            wrap_open = false;
            return;
        }
        // A wrapped tail starts at the left edge (one space at most: the one
        // the cut fell on); indented lines are payloads of their record.
        let core = paste::undecorate(text_ref);
        let tail = if text_ref.starts_with(' ') && !text_ref.starts_with("  ") {
            text_ref.trim_end()
        } else {
            core
        };
        let at_left_edge = !text_ref.starts_with("  ") && !text_ref.starts_with('\t');
        if wrap_open
            && at_left_edge
            && !core.is_empty()
            && is_text(tail)
            && sink.wrapped(tail, number)
        {
            acc.continuation += 1;
            return;
        }
        wrap_open = false;
        header_less(text_ref, number, &mut acc, sink, &mut have_record, opts);
    });
    if let Err(e) = read {
        acc.error = Some(format!("read error after line {}: {e}", lines.line_no));
    }
    if cli.in_block() {
        cli.end(&mut outs);
        apply(&mut outs, &mut acc, sink, &mut have_record, opts);
    }
    for (format, n) in tally.0 {
        *acc.formats.entry(format).or_insert(0) += n;
    }
    acc.bytes = lines.bytes;
    acc
}

/// A line without a header that no CLI reader took: a message the sink
/// knows (bare), a continuation of the record before it, or unparsed.
fn header_less(
    text: &str,
    number: u64,
    acc: &mut FileAccount,
    sink: &mut dyn Sink,
    have_record: &mut bool,
    opts: &LogOptions,
) {
    let core = paste::undecorate(text);
    if !core.is_empty() && is_text(core) && sink.bare(core, number) {
        acc.parsed += 1;
        *acc.formats.entry("bare").or_insert(0) += 1;
        acc.untimed += 1;
        *have_record = true;
        return;
    }
    if *have_record && is_text(text) {
        acc.continuation += 1;
        sink.continuation(number, text);
    } else {
        unparsed(text, number, acc, opts);
    }
}

fn unparsed(text: &str, number: u64, acc: &mut FileAccount, opts: &LogOptions) {
    acc.unparsed += 1;
    if acc.unparsed_samples.len() < opts.unparsed_samples {
        let s: String = text
            .chars()
            .take(200)
            .map(|c| if c.is_control() { '\u{fffd}' } else { c })
            .collect();
        acc.unparsed_samples.push((number, s));
    }
}

/// Counts what the CLI reader made of its lines and hands its records to the sink.
fn apply(
    outs: &mut Vec<cli::Out>,
    acc: &mut FileAccount,
    sink: &mut dyn Sink,
    have_record: &mut bool,
    opts: &LogOptions,
) {
    for o in outs.drain(..) {
        match o {
            cli::Out::Row(r) => {
                acc.untimed += 1;
                *have_record = true;
                sink.snapshot(
                    Record {
                        ts: None,
                        level: Level::Info,
                        msg: Cow::Owned(r.msg),
                        pid: None,
                        node: r.node.map(Cow::Owned),
                        format: r.format,
                        extra: Vec::new(),
                    },
                    r.line,
                    r.block,
                );
            }
            cli::Out::Parsed(format, n) => {
                acc.parsed += n;
                *acc.formats.entry(format).or_insert(0) += n;
            }
            cli::Out::Unparsed(line, text) => unparsed(&text, line, acc, opts),
            cli::Out::Plain(line, text) => header_less(&text, line, acc, sink, have_record, opts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Collect(Vec<(u64, String, Level)>, u64);
    impl Sink for Collect {
        fn record(&mut self, rec: Record<'_>, line: u64) {
            self.0.push((line, rec.msg.into_owned(), rec.level));
        }
        fn continuation(&mut self, _line: u64, _text: &str) {
            self.1 += 1;
        }
    }

    #[test]
    fn accounting_balances() {
        let input = "garbage first\n[1] 2026/11/24 19:02:17.717340 [INF] Starting nats-server\n  continued\n\u{1}\u{2}binary\n[1] 2026/11/24 19:02:18.000000 [WRN] second\n";
        let mut c = Collect(Vec::new(), 0);
        let acc = parse_stream(&mut input.as_bytes(), &LogOptions::default(), &mut c);
        assert_eq!(
            (acc.lines_read, acc.parsed, acc.continuation, acc.unparsed),
            (5, 2, 1, 2)
        );
        assert!(acc.balanced());
        assert_eq!(acc.unparsed_samples[0].0, 1);
        assert_eq!(c.0[1], (5, "second".to_string(), Level::Warn));
    }

    /// Lines of one second (and the seconds around it) in every header
    /// format: each parses to the same record whatever was parsed before it
    /// (the date and time to the second are reused from the previous line
    /// when equal).
    #[test]
    fn same_second_in_several_formats() {
        let lines = [
            "[7] 2026/11/24 19:02:17.717340 [INF] Server is ready",
            "2026/11/24 19:02:17.800000 [WRN] no pid",
            "[7] [INF] no time",
            "[7] 2026/11/24 19:02:18.000001 [INF] next second",
            "[7] 2026/11/24 19:02:17.900000 [ERR] back a second",
            "[7] 2026-11-24 19:02:17.950000 [INF] dashes",
            "[pod/nats-0/nats] 2026-11-24T19:02:17.790095123Z [7] 2026/11/24 19:02:17.790095 [INF] kubectl",
            "2026-11-24T19:02:17.5Z n1 nats-server[12]: [12] 2026/11/24 19:02:17.6 [INF] journald",
            "Nov 24 19:02:17 host1 nats-server[2723]: [2723] 2026/11/24 19:02:17.717340 [INF] syslog",
            "2026-11-24T19:02:17+0100 host1 nats-server[2723]: Server is ready",
            "| [7] 2026/11/24 19:02:17.1 [WRN] pasted",
            "2026-11-24T19:02:17.25Z Server is ready",
            "Nov 24, 2026  19:02:17.3 Server is ready",
            "[7] 2026/12/31 23:59:59.999999 [INF] year end",
            "[7] 2027/01/01 00:00:00.000001 [INF] new year",
        ];
        let zone = Zone::parse("Europe/Paris").unwrap();
        let opts = LogOptions {
            zone,
            ..LogOptions::default()
        };
        let show = |l: &str| format!("{:?}", parse_line(l, &opts));
        let alone: Vec<String> = lines.iter().map(|l| show(l)).collect();
        for l in lines {
            let r = parse_line(l, &opts).expect(l);
            assert_eq!(r.ts.is_some(), !l.contains("no time"), "{l}");
        }
        for a in lines {
            for (b, want) in lines.iter().zip(&alone) {
                let _ = show(a);
                assert_eq!(&show(b), want, "{b} after {a}");
            }
        }
        for (l, want) in lines.iter().zip(&alone).rev() {
            assert_eq!(&show(l), want);
        }
    }

    #[test]
    fn go_panic_block() {
        let input = "[1] 2026/11/24 19:02:17.717340 [INF] ok\npanic: runtime error\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:5 +0x1d\n";
        let mut c = Collect(Vec::new(), 0);
        let acc = parse_stream(&mut input.as_bytes(), &LogOptions::default(), &mut c);
        assert_eq!((acc.parsed, acc.continuation, acc.unparsed), (2, 4, 0));
        assert_eq!(c.0[1].2, Level::Fatal);
    }
}
