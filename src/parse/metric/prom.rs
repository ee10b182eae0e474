//! Prometheus text exposition (prometheus-nats-exporter, node exporter,
//! `nats server check --format prometheus`), one or many scrapes.
//!
//! Time of a sample: its own timestamp (ms), else the time of the current
//! scrape given by a marker line (`# 2026-11-24T19:00:04Z`, `# ts=...`,
//! `# scrape at ...`, or a bare RFC 3339 / Unix-seconds line between scrapes),
//! else a time in the file name. A sample with none of these is unparsed.
//!
//! Node: label `server_name`, else `server_id` (an exporter URL gives its host,
//! an nkey id is mapped later by the metric set), else `instance` (host part),
//! else the path's node. NaN and ±Inf values are valid but carry nothing: the
//! line counts as parsed and no sample is kept.

use super::names::canonical_prom;
use super::{Ctx, parse_time};
use crate::model::Timestamp;
use std::io::BufRead;
use std::sync::Arc;

/// One sample line, borrowed from the input.
#[derive(Debug, PartialEq)]
pub(crate) struct Line<'a> {
    pub name: &'a str,
    pub labels: Vec<(&'a str, String)>,
    pub value: f64,
    pub ts_ms: Option<i64>,
}

/// Parses `name{a="x",b="y"} value [timestamp_ms]`.
pub(crate) fn parse_line(l: &str) -> Result<Line<'_>, String> {
    let l = l.trim();
    let name_end = l
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(l.len());
    let name = &l[..name_end];
    if name.is_empty() || name.as_bytes()[0].is_ascii_digit() {
        return Err("no metric name".into());
    }
    let mut rest = &l[name_end..];
    let mut labels = Vec::new();
    if let Some(r) = rest.strip_prefix('{') {
        rest = r;
        loop {
            rest = rest.trim_start_matches([' ', ',']);
            if let Some(r) = rest.strip_prefix('}') {
                rest = r;
                break;
            }
            let eq = rest.find('=').ok_or("label without `=`")?;
            let key = rest[..eq].trim();
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("bad label name `{key}`"));
            }
            rest = rest[eq + 1..].trim_start();
            rest = rest.strip_prefix('"').ok_or("label value not quoted")?;
            let mut val = String::new();
            let mut chars = rest.char_indices();
            let end = loop {
                match chars.next() {
                    None => return Err("unterminated label value".into()),
                    Some((i, '"')) => break i,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => val.push('\n'),
                        Some((_, c)) => val.push(c),
                        None => return Err("unterminated label value".into()),
                    },
                    Some((_, c)) => val.push(c),
                }
            };
            labels.push((key, val));
            rest = &rest[end + 1..];
        }
    }
    if !rest.starts_with([' ', '\t']) {
        return Err("no value after the metric name".into());
    }
    let mut parts = rest.split_whitespace();
    let v = parts.next().ok_or("no value")?;
    let value = parse_value(v).ok_or_else(|| format!("bad value `{v}`"))?;
    let ts_ms = match parts.next() {
        None => None,
        Some(t) => Some(
            t.parse::<i64>()
                .map_err(|_| format!("bad timestamp `{t}`"))?,
        ),
    };
    if parts.next().is_some() {
        return Err("trailing text after the timestamp".into());
    }
    Ok(Line {
        name,
        labels,
        value,
        ts_ms,
    })
}

fn parse_value(v: &str) -> Option<f64> {
    match v {
        "NaN" | "nan" => Some(f64::NAN),
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ => v.parse::<f64>().ok(),
    }
}

/// A line that marks the time of the next scrape.
fn marker_time(l: &str) -> Option<Timestamp> {
    let body = l.trim_start_matches('#').trim();
    let body = body
        .strip_prefix("ts=")
        .or_else(|| body.strip_prefix("time="))
        .or_else(|| body.strip_prefix("scrape at "))
        .or_else(|| body.strip_prefix("scraped at "))
        .unwrap_or(body);
    parse_time(body)
}

pub(super) fn parse(cx: &mut Ctx, reader: &mut dyn BufRead) {
    let mut scrape_ts: Option<Timestamp> = None;
    let mut raw = Vec::new();
    let mut line_no = 0u64;
    let endpoint_key = cx.intern("endpoint");
    while cx.next_line(reader, &mut raw, &mut line_no) {
        let line = String::from_utf8_lossy(&raw);
        let l = line.trim();
        if l.is_empty() {
            cx.report.lines_parsed += 1;
            continue;
        }
        if l.starts_with('#') {
            if !l.starts_with("# HELP")
                && !l.starts_with("# TYPE")
                && !l.starts_with("# EOF")
                && let Some(t) = marker_time(l)
            {
                scrape_ts = Some(t);
            }
            cx.report.lines_parsed += 1;
            continue;
        }
        if (!l.contains([' ', '\t']) || l.as_bytes()[0].is_ascii_digit())
            && let Some(t) = marker_time(l)
        {
            scrape_ts = Some(t);
            cx.report.lines_parsed += 1;
            continue;
        }
        let s = match parse_line(l) {
            Ok(s) => s,
            Err(e) => {
                cx.unparsed(line_no, e);
                continue;
            }
        };
        let ts = match s
            .ts_ms
            .map(|ms| Timestamp(ms.saturating_mul(1_000_000)))
            .or(scrape_ts)
            .or(cx.name_time)
        {
            Some(t) => t,
            None => {
                cx.unparsed(line_no, "sample without a time (no timestamp, no scrape marker, no time in the file name)");
                continue;
            }
        };
        cx.report.lines_parsed += 1;
        if !s.value.is_finite() {
            continue;
        }
        let map = canonical_prom(s.name);
        let mut node: Option<Arc<str>> = None;
        let mut labels: Vec<(Arc<str>, Arc<str>)> = Vec::with_capacity(s.labels.len());
        let mut unmapped_id: Option<String> = None;
        let mut instance: Option<String> = None;
        for (k, v) in &s.labels {
            match *k {
                "server_name" if !v.is_empty() => node = Some(cx.intern(v)),
                "server_id" => {
                    if let Some(host) = url_host(v) {
                        if node.is_none() {
                            node = Some(cx.intern(host));
                        }
                    } else if looks_like_nkey(v) {
                        unmapped_id = Some(v.clone());
                    } else if node.is_none() && !v.is_empty() {
                        node = Some(cx.intern(v));
                    }
                }
                "instance" => instance = Some(v.clone()),
                "value" if map.metric == "meta_leader" => {
                    labels.push((cx.intern("leader"), cx.intern(v)));
                }
                _ => labels.push((cx.intern(k), cx.intern(v))),
            }
        }
        if node.is_none() {
            if let Some(id) = unmapped_id {
                labels.push((cx.intern("server_id"), cx.intern(&id)));
            } else if let Some(inst) = instance {
                let host = url_host(&inst).unwrap_or(&inst);
                let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
                node = Some(cx.intern(host));
            }
        } else if let Some(inst) = instance {
            labels.push((cx.intern("instance"), cx.intern(&inst)));
        }
        let node = node.or_else(|| cx.node_hint.clone());
        cx.set_node(&node);
        if let Some(ep) = map.endpoint
            && super::names::shared_between_endpoints(&map.metric)
        {
            labels.push((endpoint_key.clone(), cx.intern(ep)));
        }
        let value = s.value * map.scale + map.offset;
        cx.push(ts, &node, &map.metric, value, &labels);
        if map.metric == "meta_leader" {
            let lab: Vec<_> = labels
                .iter()
                .filter(|(k, _)| &**k != "leader")
                .cloned()
                .collect();
            cx.push(ts, &node, "meta_has_leader", 1.0, &lab);
        }
    }
}

/// `http://nats-0:8222` → `nats-0`.
fn url_host(s: &str) -> Option<&str> {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))?;
    let host = rest.split(['/', ':']).next()?;
    (!host.is_empty()).then_some(host)
}

/// A server nkey id: `N` + 55 base32 characters.
fn looks_like_nkey(s: &str) -> bool {
    s.len() == 56
        && s.starts_with('N')
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let l = parse_line(r#"gnatsd_varz_cpu{server_id="http://nats-0:8222"} 37.5"#).unwrap();
        assert_eq!(l.name, "gnatsd_varz_cpu");
        assert_eq!(
            l.labels,
            vec![("server_id", "http://nats-0:8222".to_string())]
        );
        assert_eq!(l.value, 37.5);
        let l = parse_line(r#"x{a="q\"uo\\te\n",b="2"} 1.23456512e+08 1700000000000"#).unwrap();
        assert_eq!(l.labels[0].1, "q\"uo\\te\n");
        assert_eq!(l.value, 1.23456512e8);
        assert_eq!(l.ts_ms, Some(1_700_000_000_000));
        assert!(parse_line("up NaN").unwrap().value.is_nan());
        assert_eq!(parse_line("up +Inf").unwrap().value, f64::INFINITY);
        assert_eq!(parse_line("up -Inf").unwrap().value, f64::NEG_INFINITY);
        assert!(parse_line("up").is_err());
        assert!(parse_line(r#"x{a="1} 2"#).is_err());
        assert!(parse_line("[1] 2026/01/01 INF hello").is_err());
        assert!(parse_line("x 1 2 3").is_err());
    }
}
