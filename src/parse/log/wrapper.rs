//! Deployment wrappers around nats-server lines: `kubectl logs --timestamps`
//! and `--prefix`, docker-compose `svc | `, docker json-file, journald and
//! syslog (BSD, RFC 5424 `<PRI>`).

use super::clock::{Zone, parse_rfc3339_prefix, parse_syslog_time};
use crate::model::{Level, Timestamp};
use std::borrow::Cow;

/// What a wrapper told us about a line, and the line inside it.
#[derive(Debug, PartialEq)]
pub struct Wrapped<'a> {
    pub format: &'static str,
    pub ts: Option<Timestamp>,
    pub node: Option<Cow<'a, str>>,
    pub level: Option<Level>,
    pub pid: Option<u32>,
    pub inner: Cow<'a, str>,
}

/// `[pod/nats-0/nats] rest` → ("nats-0", rest).
fn kubectl_prefix(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("[pod/")?;
    let close = rest.find("] ")?;
    let inner = &rest[..close];
    let pod = inner.split('/').next()?;
    if pod.is_empty() {
        return None;
    }
    Some((pod, &rest[close + 2..]))
}

/// `n1    | rest` or `project-n1-1  | rest`.
fn compose_prefix(line: &str) -> Option<(&str, &str)> {
    let bar = line.find(" | ").or_else(|| line.find("  |"))?;
    let name = line[..bar].trim_end();
    if name.is_empty() || name.contains(' ') || bar > 64 {
        return None;
    }
    let b0 = name.as_bytes()[0];
    if !b0.is_ascii_alphanumeric() {
        return None;
    }
    let rest = &line[bar..];
    let rest = rest.trim_start_matches(' ').strip_prefix('|')?;
    Some((name, rest.strip_prefix(' ').unwrap_or(rest)))
}

/// `host tag[pid]: msg` after a syslog time. Returns (host, pid, msg).
fn syslog_tail(s: &str) -> Option<(Option<&str>, Option<u32>, &str)> {
    let s = s.strip_prefix(' ')?;
    let colon = s.find(": ")?;
    let head = &s[..colon];
    let msg = &s[colon + 2..];
    let mut parts = head.split(' ');
    let first = parts.next()?;
    let second = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let (host, tag) = match second {
        Some(t) => (Some(first), t),
        None => (None, first),
    };
    let pid = tag
        .find('[')
        .and_then(|o| tag[o + 1..].strip_suffix(']'))
        .and_then(|p| p.parse().ok());
    if tag.is_empty() {
        return None;
    }
    Some((host, pid, msg))
}

fn pri_level(pri: u32) -> Level {
    match pri % 8 {
        0..=2 => Level::Fatal,
        3 => Level::Error,
        4 => Level::Warn,
        5 | 6 => Level::Info,
        _ => Level::Debug,
    }
}

/// Peels one wrapper off `line`, if it has one.
pub fn unwrap_line<'a>(line: &'a str, zone: &Zone, year_hint: i32) -> Option<Wrapped<'a>> {
    let b0 = *line.as_bytes().first()?;
    match b0 {
        b'[' => {
            let (pod, rest) = kubectl_prefix(line)?;
            // kubectl --prefix --timestamps: `[pod/x/c] 2023-...Z rest`
            let (ts, inner) = match parse_rfc3339_prefix(rest) {
                Some((ts, used)) => (
                    Some(ts),
                    rest[used..].strip_prefix(' ').unwrap_or(&rest[used..]),
                ),
                None => (None, rest),
            };
            Some(Wrapped {
                format: "kubectl",
                ts,
                node: Some(Cow::Borrowed(pod)),
                level: None,
                pid: None,
                inner: Cow::Borrowed(inner),
            })
        }
        b'0'..=b'9' => {
            let (ts, used) = parse_rfc3339_prefix(line)?;
            let rest = &line[used..];
            // journald short-iso: `2026-...+0000 host tag[pid]: msg`
            if let Some((host, pid, msg)) = syslog_tail(rest) {
                if pid.is_some() {
                    return Some(Wrapped {
                        format: "journald",
                        ts: Some(ts),
                        node: host.map(Cow::Borrowed),
                        level: None,
                        pid,
                        inner: Cow::Borrowed(msg),
                    });
                }
            }
            Some(Wrapped {
                format: "kubectl",
                ts: Some(ts),
                node: None,
                level: None,
                pid: None,
                inner: Cow::Borrowed(rest.strip_prefix(' ').unwrap_or(rest)),
            })
        }
        b'<' => {
            // <PRI>Mmm dd hh:mm:ss tag[pid]: msg  |  <PRI>RFC3339 host tag[pid]: msg  |  <PRI>1 RFC3339 host app pid msgid - msg
            // Bytes: the fifth byte may be inside a multi-byte character.
            let close = line.as_bytes()[..line.len().min(5)]
                .iter()
                .position(|&c| c == b'>')?;
            let pri: u32 = line[1..close].parse().ok()?;
            let rest = &line[close + 1..];
            let level = Some(pri_level(pri));
            if let Some((secs, nanos, used)) = parse_syslog_time(rest, year_hint) {
                let (host, pid, msg) = syslog_tail(&rest[used..])?;
                return Some(Wrapped {
                    format: "syslog",
                    ts: Some(zone.to_utc(secs, nanos)),
                    node: host.map(Cow::Borrowed),
                    level,
                    pid,
                    inner: Cow::Borrowed(msg),
                });
            }
            let rest5424 = rest.strip_prefix("1 ").unwrap_or(rest);
            let (ts, used) = parse_rfc3339_prefix(rest5424)?;
            let after = &rest5424[used..];
            if rest5424.len() != rest.len() {
                // RFC 5424: host app procid msgid sd msg
                let mut it = after.trim_start().splitn(6, ' ');
                let host = it.next()?;
                let _app = it.next()?;
                let pid = it.next().and_then(|p| p.parse().ok());
                let _msgid = it.next()?;
                let _sd = it.next()?;
                let msg = it.next().unwrap_or("");
                return Some(Wrapped {
                    format: "syslog",
                    ts: Some(ts),
                    node: Some(Cow::Borrowed(host)),
                    level,
                    pid,
                    inner: Cow::Borrowed(msg),
                });
            }
            let (host, pid, msg) = syslog_tail(after)?;
            Some(Wrapped {
                format: "syslog",
                ts: Some(ts),
                node: host.map(Cow::Borrowed),
                level,
                pid,
                inner: Cow::Borrowed(msg),
            })
        }
        b'{' => docker_json(line),
        b'A'..=b'Z' | b'a'..=b'z' => {
            if let Some((secs, nanos, used)) = parse_syslog_time(line, year_hint) {
                let (host, pid, msg) = syslog_tail(&line[used..])?;
                return Some(Wrapped {
                    format: "syslog",
                    ts: Some(zone.to_utc(secs, nanos)),
                    node: host.map(Cow::Borrowed),
                    level: None,
                    pid,
                    inner: Cow::Borrowed(msg),
                });
            }
            let (name, rest) = compose_prefix(line)?;
            Some(Wrapped {
                format: "compose",
                ts: None,
                node: Some(Cow::Borrowed(name)),
                level: None,
                pid: None,
                inner: Cow::Borrowed(rest),
            })
        }
        _ => None,
    }
}

/// docker json-file: `{"log":"...\n","stream":"stderr","time":"..."}`.
fn docker_json(line: &str) -> Option<Wrapped<'_>> {
    if !line.contains("\"log\"") {
        return None;
    }
    #[derive(serde::Deserialize)]
    struct D<'a> {
        #[serde(borrow)]
        log: Cow<'a, str>,
        time: Option<&'a str>,
    }
    let d: D = serde_json::from_str(line).ok()?;
    let ts = d.time.and_then(Timestamp::parse_rfc3339);
    let inner = match d.log {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim_end_matches(['\n', '\r'])),
        Cow::Owned(s) => Cow::Owned(s.trim_end_matches(['\n', '\r']).to_string()),
    };
    Some(Wrapped {
        format: "docker-json",
        ts,
        node: None,
        level: None,
        pid: None,
        inner,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(line: &str) -> Wrapped<'_> {
        unwrap_line(line, &Zone::utc(), 2026).unwrap()
    }

    #[test]
    fn kubectl() {
        let w = u(
            "[pod/nats-0/nats] 2023-04-28T18:18:19.790095123Z [7] 2023/04/28 18:18:19.790095 [INF] x",
        );
        assert_eq!(w.node.as_deref(), Some("nats-0"));
        assert!(w.inner.starts_with("[7] 2023"));
        let w = u("2023-04-28T18:18:19.790095123Z [7] 2023/04/28 18:18:19.790095 [INF] x");
        assert_eq!(w.format, "kubectl");
        assert!(w.inner.starts_with("[7]"));
    }

    #[test]
    fn journald_and_syslog() {
        let w = u(
            "Nov 24 19:02:17 host1 nats-server[2723]: [2723] 2026/11/24 19:02:17.717340 [INF] Starting nats-server",
        );
        assert_eq!(
            (w.format, w.node.as_deref(), w.pid),
            ("syslog", Some("host1"), Some(2723))
        );
        assert!(w.inner.starts_with("[2723]"));
        let w = u("2026-11-24T19:02:17+0000 host1 nats-server[2723]: Server is ready");
        assert_eq!(
            (w.format, w.inner.as_ref()),
            ("journald", "Server is ready")
        );
        let w = u("<28>Nov 24 19:02:17 nats-server[12]: Healthcheck failed");
        assert_eq!((w.level, w.node), (Some(Level::Warn), None));
        let w = u("<4>2026-11-24T19:02:17.5Z n1 nats-server[12]: x");
        assert_eq!(
            (w.level, w.node.as_deref()),
            (Some(Level::Warn), Some("n1"))
        );
    }

    #[test]
    fn compose_and_docker() {
        let w = u("n1    | [1] 2021/12/14 08:56:56.427316 [ERR] boom");
        assert_eq!(
            (w.node.as_deref(), w.inner.as_ref()),
            (Some("n1"), "[1] 2021/12/14 08:56:56.427316 [ERR] boom")
        );
        let w = u(
            r#"{"log":"[1] 2021/12/14 08:56:56.427316 [ERR] boom\n","stream":"stderr","time":"2021-12-14T08:56:56.427Z"}"#,
        );
        assert_eq!(
            w.inner.as_ref(),
            "[1] 2021/12/14 08:56:56.427316 [ERR] boom"
        );
    }
}
