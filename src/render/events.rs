//! `coroner events`: the merged event stream as aligned text or JSON lines.

use super::Style;
use super::escape::terminal;
use crate::model::{Event, Level, Value};
use serde::Serialize;
use std::io::{self, Write};

pub fn level_color(l: Level) -> &'static str {
    match l {
        Level::Trace | Level::Debug => "2",
        Level::Info => "32",
        Level::Warn => "33",
        Level::Error => "31",
        Level::Fatal => "1;31",
    }
}

/// One aligned, escaped line per event.
pub fn write_text(out: &mut dyn Write, events: &[&Event], style: Style) -> io::Result<()> {
    let node_w = events
        .iter()
        .map(|e| e.node.chars().count())
        .max()
        .unwrap_or(1);
    let kind_w = events
        .iter()
        .map(|e| e.kind.len())
        .max()
        .unwrap_or(1)
        .min(28);
    for e in events {
        let ts =
            e.ts.map_or_else(|| "(no timestamp)         ".to_string(), |t| t.short());
        let lvl = style.paint(level_color(e.level), e.level.tag());
        writeln!(
            out,
            "{ts} {:<node_w$} {lvl} {:<kind_w$} {}",
            terminal(&e.node),
            terminal(&e.kind),
            terminal(&e.message),
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonEvent<'a> {
    ts: Option<String>,
    node: &'a str,
    level: &'static str,
    kind: &'a str,
    fields: serde_json::Map<String, serde_json::Value>,
    message: &'a str,
    file: &'a str,
    line: u64,
    #[serde(skip_serializing_if = "is_zero")]
    continuation: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

pub fn value_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Int(i) => (*i).into(),
        Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
        }
        Value::Str(s) => serde_json::Value::String(s.to_string()),
        Value::Bool(b) => (*b).into(),
    }
}

/// One JSON object per event: ts, node, level, kind, fields, message, file, line.
pub fn write_jsonl(out: &mut dyn Write, events: &[&Event]) -> io::Result<()> {
    for e in events {
        let fields = e
            .fields
            .iter()
            .map(|(k, v)| (k.to_string(), value_json(v)))
            .collect();
        let j = JsonEvent {
            ts: e.ts.map(|t| t.rfc3339()),
            node: &e.node,
            level: e.level.name(),
            kind: &e.kind,
            fields,
            message: &e.message,
            file: &e.loc.file,
            line: e.loc.line,
            continuation: e.continuation,
        };
        serde_json::to_writer(&mut *out, &j)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
