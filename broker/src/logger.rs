//! Per-node log sink: the nats-server text format or JSON lines, written through
//! a buffered file with one reused line buffer (no allocation per line).

use crate::clock::{Micros, TsFmt, TsStyle};
use std::fmt::{self, Write as _};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Level {
    Inf,
    Wrn,
    Err,
}

impl Level {
    fn label(self) -> &'static [u8] {
        match self {
            Level::Inf => b"[INF] ",
            Level::Wrn => b"[WRN] ",
            Level::Err => b"[ERR] ",
        }
    }
    fn json(self) -> &'static str {
        match self {
            Level::Inf => "info",
            Level::Wrn => "warn",
            Level::Err => "error",
        }
    }
}

pub struct Logger {
    out: BufWriter<File>,
    format: LogFormat,
    node: String,
    pid: u32,
    ts: TsFmt,
    last: Micros,
    line: Vec<u8>,
    msg: String,
    pub lines: u64,
    pub bytes: u64,
}

impl Logger {
    pub fn create(path: &Path, format: LogFormat, node: &str) -> io::Result<Logger> {
        let style = match format {
            LogFormat::Text => TsStyle::NatsLog,
            LogFormat::Json => TsStyle::Rfc3339Micros,
        };
        Ok(Logger {
            out: BufWriter::with_capacity(1 << 18, File::create(path)?),
            format,
            node: node.to_string(),
            pid: 0,
            ts: TsFmt::new(style),
            last: i64::MIN,
            line: Vec::with_capacity(512),
            msg: String::with_capacity(512),
            lines: 0,
            bytes: 0,
        })
    }

    pub fn set_pid(&mut self, pid: u32) {
        self.pid = pid;
    }

    /// The time the last line was stamped with (lines never go back in time).
    pub fn last(&self) -> Micros {
        self.last
    }

    /// Writes one line stamped `t` (moved forward to stay monotonic), returns the stamp used.
    pub fn log(&mut self, t: Micros, lvl: Level, args: fmt::Arguments<'_>) -> Micros {
        let t = if t <= self.last { self.last + 1 } else { t };
        self.last = t;
        self.msg.clear();
        let _ = self.msg.write_fmt(args);
        self.line.clear();
        match self.format {
            LogFormat::Text => {
                self.line.push(b'[');
                push_u32(&mut self.line, self.pid);
                self.line.extend_from_slice(b"] ");
                self.ts.write(t, &mut self.line);
                self.line.push(b' ');
                self.line.extend_from_slice(lvl.label());
                self.line.extend_from_slice(self.msg.as_bytes());
            }
            LogFormat::Json => {
                self.line.extend_from_slice(b"{\"ts\":\"");
                self.ts.write(t, &mut self.line);
                self.line.extend_from_slice(b"\",\"level\":\"");
                self.line.extend_from_slice(lvl.json().as_bytes());
                self.line.extend_from_slice(b"\",\"node\":\"");
                self.line.extend_from_slice(self.node.as_bytes());
                self.line.extend_from_slice(b"\",\"msg\":");
                json_str(&self.msg, &mut self.line);
                self.line.push(b'}');
            }
        }
        self.line.push(b'\n');
        self.lines += 1;
        self.bytes += self.line.len() as u64;
        let _ = self.out.write_all(&self.line);
        t
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn push_u32(out: &mut Vec<u8>, v: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `s` as a JSON string literal.
pub fn json_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 15) as usize]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}
