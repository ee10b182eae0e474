//! The nats-server line header and the message-body prefixes.
//!
//! `[pid] yyyy/mm/dd hh:mm:ss.uuuuuu [LVL] msg`, with or without pid, with or
//! without time (`logtime: false`), ANSI-coloured labels, Windows event-log
//! bodies (`pid[N][WARN]: msg`).

use super::clock::{Zone, parse_nats_datetime};
use crate::model::{Level, Timestamp};

/// A parsed nats-server header.
#[derive(Debug, PartialEq)]
pub struct Header<'a> {
    pub pid: Option<u32>,
    pub ts: Option<Timestamp>,
    pub level: Level,
    pub msg: &'a str,
}

fn level_tag(tag: &str) -> Option<Level> {
    Some(match tag {
        "INF" => Level::Info,
        "WRN" => Level::Warn,
        "ERR" => Level::Error,
        "DBG" => Level::Debug,
        "TRC" => Level::Trace,
        "FTL" => Level::Fatal,
        _ => return None,
    })
}

/// Strips ANSI colour sequences (`\x1b[...m`). Borrowed when there are none.
pub fn strip_ansi(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('\x1b') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut it = s.char_indices().peekable();
    while let Some((_, c)) = it.next() {
        if c == '\x1b' && it.peek().map(|x| x.1) == Some('[') {
            it.next();
            for (_, c2) in it.by_ref() {
                if c2.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Parses a nats-server header at the start of `line`.
pub fn parse_header<'a>(line: &'a str, zone: &Zone) -> Option<Header<'a>> {
    let b = line.as_bytes();
    let mut i = 0;
    let mut pid = None;
    // [pid]
    if b.first() == Some(&b'[') && b.get(1).is_some_and(|c| c.is_ascii_digit()) {
        let close = memchr::memchr(b']', &b[..b.len().min(16)])?;
        pid = Some(line[1..close].parse().ok()?);
        i = close + 1;
        if b.get(i) != Some(&b' ') {
            return None;
        }
        i += 1;
    }
    // date time
    let mut ts = None;
    if b.get(i).is_some_and(|c| c.is_ascii_digit()) {
        let (secs, nanos, used) = parse_nats_datetime(&b[i..])?;
        ts = Some(zone.to_utc(secs, nanos));
        i += used;
        if b.get(i) != Some(&b' ') {
            return None;
        }
        i += 1;
    }
    // [LVL]
    if b.get(i) != Some(&b'[') || b.len() < i + 5 || b[i + 4] != b']' {
        return None;
    }
    let level = level_tag(&line[i + 1..i + 4])?;
    i += 5;
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    if pid.is_none() && ts.is_none() && i > 6 {
        return None;
    }
    Some(Header {
        pid,
        ts,
        level,
        msg: &line[i..],
    })
}

/// Windows event-log body: `pid[1234][WARN]: message`.
pub fn parse_windows(line: &str) -> Option<(u32, Level, &str)> {
    let rest = line.strip_prefix("pid[")?;
    let close = rest.find(']')?;
    let pid = rest[..close].parse().ok()?;
    let rest = rest[close + 1..].strip_prefix('[')?;
    let close = rest.find(']')?;
    let level = match &rest[..close] {
        "NOTICE" => Level::Info,
        "WARN" => Level::Warn,
        "ERROR" => Level::Error,
        "FATAL" => Level::Fatal,
        "DEBUG" => Level::Debug,
        "TRACE" => Level::Trace,
        _ => return None,
    };
    let msg = rest[close + 1..].strip_prefix(": ")?;
    Some((pid, level, msg))
}

/// The connection prefix of a message: `addr - kind:id[ - "seg"][ - "seg"] - rest`.
#[derive(Debug, PartialEq)]
pub struct ConnPrefix<'a> {
    pub addr: &'a str,
    pub kind: &'a str,
    pub id: u64,
    pub client: Option<&'a str>,
    pub account_user: Option<&'a str>,
    pub rest: &'a str,
}

const CONN_KINDS: &[&str] = &["cid", "rid", "mid", "mid_ws", "wid", "gid", "lid", "lid_ws"];

/// A Go `%q` string at the start of `s`: returns its raw content and the rest after it.
fn quoted(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    if b.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some((&s[1..i], &s[i + 1..])),
            _ => i += 1,
        }
    }
    None
}

pub fn parse_conn_prefix(msg: &str) -> Option<ConnPrefix<'_>> {
    // The address has no space: it ends at the first one, which must open " - ".
    let sp = memchr::memchr(b' ', msg.as_bytes())?;
    if !msg[sp..].starts_with(" - ") {
        return None;
    }
    let addr = &msg[..sp];
    if addr.is_empty() || !addr.contains(':') {
        return None;
    }
    let rest = &msg[sp + 3..];
    let colon = rest.find(':')?;
    let kind = &rest[..colon];
    if !CONN_KINDS.contains(&kind) {
        return None;
    }
    let after = &rest[colon + 1..];
    let digits_end = after
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(after.len());
    if digits_end == 0 {
        return None;
    }
    let id = after[..digits_end].parse().ok()?;
    let mut rest = &after[digits_end..];
    let mut segs: [Option<&str>; 2] = [None, None];
    for seg in segs.iter_mut() {
        if let Some(r) = rest.strip_prefix(" - \"") {
            if let Some((content, after_q)) = quoted(&rest[3..]) {
                if after_q.starts_with(" - ") || after_q.is_empty() {
                    *seg = Some(content);
                    rest = after_q;
                    continue;
                }
            }
            let _ = r;
        }
        break;
    }
    let rest = rest.strip_prefix(" - ").unwrap_or(rest.trim_start());
    // seg1 is client info or MQTT client id; seg2 account/user. A lone
    // segment with `/` and a user kind marker is account/user (2.12+).
    let (client, account_user) = match segs {
        [Some(a), Some(b)] => (Some(a), Some(b)),
        [Some(a), None]
            if a.contains('/')
                && ["user:", "nkey:", "jwt:", "token"]
                    .iter()
                    .any(|m| a.contains(m)) =>
        {
            (None, Some(a))
        }
        [a, _] => (a, None),
    };
    Some(ConnPrefix {
        addr,
        kind,
        id,
        client,
        account_user,
        rest,
    })
}

/// The message with its connection or RAFT prefix removed: the text
/// templates are matched against.
pub fn message_body(msg: &str) -> &str {
    if let Some(p) = parse_conn_prefix(msg) {
        p.rest
    } else if let Some((_, _, rest)) = parse_raft_prefix(msg) {
        rest
    } else {
        msg
    }
}

/// `RAFT [node - group] rest` → (node, group, rest).
pub fn parse_raft_prefix(msg: &str) -> Option<(&str, &str, &str)> {
    let rest = msg.strip_prefix("RAFT [")?;
    // Byte searches: `str::find` with a `&str` pattern builds a searcher on
    // every call, and every RAFT line comes here.
    let b = rest.as_bytes();
    let close = memchr::memchr_iter(b']', b).find(|&i| b.get(i + 1) == Some(&b' '))?;
    let inner = &b[..close];
    let dash = memchr::memchr_iter(b'-', inner)
        .find(|&i| i > 0 && inner[i - 1] == b' ' && inner.get(i + 1) == Some(&b' '))?;
    Some((
        &rest[..dash - 1],
        &rest[dash + 2..close],
        &rest[close + 2..],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        let z = Zone::utc();
        let h = parse_header(
            "[2723] 2026/11/24 19:02:17.717340 [WRN] Plaintext passwords",
            &z,
        )
        .unwrap();
        assert_eq!(h.pid, Some(2723));
        assert_eq!(h.level, Level::Warn);
        assert_eq!(h.msg, "Plaintext passwords");
        assert_eq!(h.ts.unwrap().rfc3339(), "2026-11-24T19:02:17.717340Z");
        let h = parse_header("[7] [INF] no time", &z).unwrap();
        assert_eq!((h.ts, h.msg), (None, "no time"));
        let h = parse_header("2026/11/24 19:02:17.717340 [ERR] no pid", &z).unwrap();
        assert_eq!(h.pid, None);
        let h = parse_header("[1] 2026/11/24 19:02:17.717340 [INF]", &z).unwrap();
        assert_eq!(h.msg, "");
        assert!(parse_header("[1] 2026/11/24 19:02:17.717340 [XXX] x", &z).is_none());
        assert!(parse_header("hello", &z).is_none());
        let colored = strip_ansi("[1] 2026/11/24 19:02:17.717340 [\x1b[32mINF\x1b[0m] hi");
        assert_eq!(parse_header(&colored, &z).unwrap().msg, "hi");
    }

    #[test]
    fn conn_prefixes() {
        let p = parse_conn_prefix(
            r#"127.0.0.1:40520 - mid:238 - "dev-00202" - Readloop processing time: 2.1s"#,
        )
        .unwrap();
        assert_eq!(
            (p.kind, p.id, p.client, p.rest),
            (
                "mid",
                238,
                Some("dev-00202"),
                "Readloop processing time: 2.1s"
            )
        );
        let p =
            parse_conn_prefix("127.0.0.1:16221 - rid:9 - Router connection closed: Client Closed")
                .unwrap();
        assert_eq!(
            (p.kind, p.client, p.rest),
            ("rid", None, "Router connection closed: Client Closed")
        );
        let p = parse_conn_prefix(r#"10.0.0.1:52712 - cid:5 - "v1.31.0:go:orders-svc" - "APP/user:bob" - authentication error"#).unwrap();
        assert_eq!(
            (p.client, p.account_user),
            (Some("v1.31.0:go:orders-svc"), Some("APP/user:bob"))
        );
        let p = parse_conn_prefix("[::1]:4222 - cid:5 - Client connection created").unwrap();
        assert_eq!(p.addr, "[::1]:4222");
        assert!(
            parse_conn_prefix("Error trying to connect to route (attempt 1): dial - x").is_none()
        );
    }

    #[test]
    fn raft_prefix() {
        let (n, g, r) =
            parse_raft_prefix("RAFT [fjFyEjc1 - C-R3F-h0qGKue9] Request from follower").unwrap();
        assert_eq!(
            (n, g, r),
            ("fjFyEjc1", "C-R3F-h0qGKue9", "Request from follower")
        );
        // The first `] ` and the first ` - ` within it, as `find` and
        // `split_once` would.
        assert_eq!(
            parse_raft_prefix("RAFT [a-b - c - d]x] e] f"),
            Some(("a-b", "c - d]x", "e] f"))
        );
        assert_eq!(parse_raft_prefix("RAFT [- a] b"), None);
        assert_eq!(
            parse_raft_prefix("RAFT [a -  - b] c"),
            Some(("a", " - b", "c"))
        );
        assert_eq!(parse_raft_prefix("RAFT [a - b]"), None);
        assert_eq!(parse_raft_prefix("RAFT [a-b] c"), None);
    }

    #[test]
    fn windows() {
        assert_eq!(
            parse_windows("pid[12][WARN]: x y"),
            Some((12, Level::Warn, "x y"))
        );
    }
}
