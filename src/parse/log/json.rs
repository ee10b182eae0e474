//! JSON structured logs, one object per line: the broker's format
//! (`{"ts","level","node","msg",...}`) and common shapes (`time`/`timestamp`/
//! `@timestamp`, `lvl`/`severity`, `message`, `server_name`/`host`).

use crate::model::{Level, Timestamp, Value};
use serde_json::Value as J;

pub struct JsonRecord {
    pub ts: Option<Timestamp>,
    pub level: Level,
    pub msg: String,
    pub node: Option<String>,
    pub pid: Option<u32>,
    /// Other scalar keys, kept as fields.
    pub extra: Vec<(String, Value)>,
    /// Whether the object had a level key (a log, not some other JSON).
    pub level_given: bool,
}

const TS_KEYS: &[&str] = &["ts", "time", "timestamp", "@timestamp", "t"];
const LEVEL_KEYS: &[&str] = &["level", "lvl", "severity", "log.level"];
const MSG_KEYS: &[&str] = &["msg", "message", "log"];
const NODE_KEYS: &[&str] = &["node", "server_name", "server", "host", "hostname"];

fn ts_of(v: &J) -> Option<Timestamp> {
    match v {
        J::String(s) => Timestamp::parse_rfc3339(s),
        J::Number(n) => {
            let f = n.as_f64()?;
            // seconds, milliseconds, microseconds or nanoseconds since the epoch
            Some(if f > 1e17 {
                Timestamp(f as i64)
            } else if f > 1e14 {
                Timestamp((f * 1e3) as i64)
            } else if f > 1e11 {
                Timestamp((f * 1e6) as i64)
            } else {
                Timestamp::from_secs_f64(f)
            })
        }
        _ => None,
    }
}

/// Parses a JSON log line; `None` if it is not an object with a message.
pub fn parse_json_line(line: &str) -> Option<JsonRecord> {
    let v: J = serde_json::from_str(line).ok()?;
    let obj = v.as_object()?;
    let msg = MSG_KEYS
        .iter()
        .find_map(|k| obj.get(*k)?.as_str())?
        .to_string();
    let ts = TS_KEYS.iter().find_map(|k| ts_of(obj.get(*k)?));
    let level_given = LEVEL_KEYS.iter().any(|k| obj.contains_key(*k));
    let level = LEVEL_KEYS
        .iter()
        .find_map(|k| match obj.get(*k)? {
            J::String(s) => Level::parse(s),
            J::Number(n) => n.as_u64().map(|p| match p {
                0..=2 => Level::Fatal,
                3 => Level::Error,
                4 => Level::Warn,
                5 | 6 => Level::Info,
                _ => Level::Debug,
            }),
            _ => None,
        })
        .unwrap_or(Level::Info);
    let node = NODE_KEYS
        .iter()
        .find_map(|k| obj.get(*k)?.as_str().map(str::to_string));
    let pid = obj.get("pid").and_then(J::as_u64).map(|p| p as u32);
    let mut extra = Vec::new();
    for (k, v) in obj {
        let k = k.as_str();
        if TS_KEYS.contains(&k)
            || LEVEL_KEYS.contains(&k)
            || MSG_KEYS.contains(&k)
            || NODE_KEYS.contains(&k)
            || k == "pid"
        {
            continue;
        }
        let val = match v {
            J::String(s) => Value::Str(s.as_str().into()),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::Bool(b) => Value::Bool(*b),
            _ => continue,
        };
        extra.push((k.to_string(), val));
    }
    Some(JsonRecord {
        ts,
        level,
        msg,
        node,
        pid,
        extra,
        level_given,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let r = parse_json_line(r#"{"ts":"2026-11-24T19:00:04.440Z","level":"warn","node":"n2","msg":"Readloop processing time: 2s","cid":5}"#).unwrap();
        assert_eq!(
            (r.level, r.node.as_deref(), r.msg.as_str()),
            (Level::Warn, Some("n2"), "Readloop processing time: 2s")
        );
        assert_eq!(r.extra, vec![("cid".to_string(), Value::Int(5))]);
        let r = parse_json_line(r#"{"time":1764010804.5,"lvl":"ERR","message":"x"}"#).unwrap();
        assert_eq!(r.level, Level::Error);
        assert_eq!(r.ts.unwrap().rfc3339(), "2025-11-24T19:00:04.500000Z");
        assert!(parse_json_line(r#"{"a":1}"#).is_none());
        assert!(parse_json_line("[1,2]").is_none());
    }
}
