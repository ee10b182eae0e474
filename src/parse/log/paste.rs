//! What a paste carries around a nats-server line: box borders of k9s and
//! `less` (`│ … │`), markdown bullets and quotes, `<pod> <container> `
//! prefixes, and a log shipper's own timestamp before a bare message
//! (`Jan 10, 2025  21:36:41.602 Internal subscription … took too long`).
//!
//! Tried only on lines no other format recognised, so it costs nothing on
//! ordinary log files.

use super::clock::{Zone, days_from_civil, parse_rfc3339_prefix};
use super::nats::{Header, parse_header};
use crate::model::Timestamp;

/// Border and bullet characters pastes put around a line.
const BORDER: &[char] = &['│', '┃', '║', '|'];

/// The line without a paste's decoration at either end: box borders,
/// markdown bullets (`- `, `* `, `+ `), quotes (`> `), surrounding spaces.
pub fn undecorate(line: &str) -> &str {
    let mut s = line.trim();
    loop {
        let before = s.len();
        s = s.trim_start_matches(BORDER).trim_start();
        for bullet in ["- ", "* ", "+ ", "> ", "• "] {
            if let Some(r) = s.strip_prefix(bullet) {
                s = r.trim_start();
            }
        }
        s = s.trim_end_matches(BORDER).trim_end();
        if s.len() == before {
            return s;
        }
    }
}

/// A nats-server header anywhere in the line, after any prefix (pod and
/// container names, a border): the header and the text before it.
pub fn find_header<'a>(line: &'a str, zone: &Zone) -> Option<(Header<'a>, &'a str)> {
    let b = line.as_bytes();
    // A level tag is the one part every header has: look for it, then for
    // the header's start at most 48 bytes before it.
    let mut from = 0;
    while let Some(off) = memchr::memchr(b'[', &b[from..]) {
        let tag = from + off;
        from = tag + 1;
        if b.len() < tag + 5 || b[tag + 4] != b']' || !is_level(&b[tag + 1..tag + 4]) {
            continue;
        }
        let lo = tag.saturating_sub(48);
        for start in lo..tag {
            if !line.is_char_boundary(start) {
                continue;
            }
            let at_word = start == 0 || matches!(b[start - 1], b' ' | b'\t');
            if !at_word {
                continue;
            }
            if let Some(h) = parse_header(&line[start..], zone)
                && (h.ts.is_some() || h.pid.is_some())
            {
                return Some((h, &line[..start]));
            }
        }
    }
    None
}

fn is_level(tag: &[u8]) -> bool {
    matches!(tag, b"INF" | b"WRN" | b"ERR" | b"DBG" | b"TRC" | b"FTL")
}

/// The node a `<pod> <container> ` prefix names: the first of two plain
/// words (`nats-1 nats `). Anything else names no node.
pub fn prefix_node(prefix: &str) -> Option<&str> {
    let words: Vec<&str> = prefix.split_whitespace().collect();
    let plain = |w: &str| {
        !w.is_empty()
            && w.len() <= 63
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && w.chars().any(|c| c.is_ascii_alphabetic())
    };
    (words.len() == 2 && plain(words[0]) && plain(words[1])).then(|| words[0])
}

/// A log shipper's timestamp at the start of a line, then the message:
/// `Jan 10, 2025  21:36:41.602 msg` (Datadog, Grafana exports),
/// `2025-01-10T21:36:41.602Z msg` and `2025-01-10 21:36:41.602 msg`.
pub fn shipper_time<'a>(line: &'a str, zone: &Zone) -> Option<(Timestamp, &'a str)> {
    if let Some((ts, used)) = parse_rfc3339_prefix(line) {
        let rest = line[used..].trim_start();
        return (!rest.is_empty() && used < line.len()).then_some((ts, rest));
    }
    if let Some((secs, nanos, used)) = month_day_year(line) {
        let rest = line[used..].trim_start();
        return (!rest.is_empty()).then(|| (zone.to_utc(secs, nanos), rest));
    }
    None
}

/// `Jan 10, 2025  21:36:41.602` → (naive seconds, nanos, bytes used).
fn month_day_year(s: &str) -> Option<(i64, u32, usize)> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| s.starts_with(m))? as u32 + 1;
    let mut i = 3;
    let b = s.as_bytes();
    let skip_spaces = |i: &mut usize| {
        while b.get(*i) == Some(&b' ') {
            *i += 1;
        }
    };
    let number = |i: &mut usize, max_len: usize| -> Option<i64> {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < max_len {
            *i += 1;
        }
        (*i > start).then(|| s[start..*i].parse().ok()).flatten()
    };
    skip_spaces(&mut i);
    let day = number(&mut i, 2)?;
    if b.get(i) == Some(&b',') {
        i += 1;
    }
    skip_spaces(&mut i);
    let year = number(&mut i, 4)?;
    skip_spaces(&mut i);
    let hour = number(&mut i, 2)?;
    (b.get(i) == Some(&b':')).then_some(())?;
    i += 1;
    let min = number(&mut i, 2)?;
    (b.get(i) == Some(&b':')).then_some(())?;
    i += 1;
    let sec = number(&mut i, 2)?;
    let mut nanos = 0u32;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        let frac = number(&mut i, 9)?;
        nanos = (frac as u32) * 10u32.pow(9 - (i - start) as u32);
    }
    if !(1..=31).contains(&day)
        || !(1970..=9999).contains(&year)
        || hour > 23
        || min > 59
        || sec > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day as u32);
    Some((days * 86_400 + hour * 3600 + min * 60 + sec, nanos, i))
}

/// A connection prefix whose address the paste lost: `mid: 102204 - "client" - rest`
/// or `cid:5 - rest` → the rest. Pastes cut lines at the left edge.
pub fn strip_partial_conn_prefix(msg: &str) -> Option<&str> {
    let (kind, rest) = msg.split_once(':')?;
    if !matches!(
        kind,
        "cid" | "rid" | "mid" | "wid" | "gid" | "lid" | "mid_ws" | "lid_ws"
    ) {
        return None;
    }
    let rest = rest.trim_start();
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let mut rest = rest[digits..].strip_prefix(" - ")?;
    // up to two quoted segments (client, account/user), each followed by " - "
    for _ in 0..2 {
        if rest.starts_with('"')
            && let Some(end) = rest[1..].find("\" - ")
        {
            rest = &rest[end + 5..];
        }
    }
    Some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Level;

    #[test]
    fn borders_and_bullets() {
        assert_eq!(undecorate("│ [1] x [WRN] y   │"), "[1] x [WRN] y");
        assert_eq!(undecorate("- * > text"), "text");
        assert_eq!(undecorate("plain"), "plain");
    }

    #[test]
    fn header_after_a_pod_prefix() {
        let z = Zone::utc();
        let (h, prefix) = find_header(
            "nats-1 nats [7] 2023/09/03 13:50:12.281150 [WRN] Readloop processing time: 2s",
            &z,
        )
        .unwrap();
        assert_eq!(prefix, "nats-1 nats ");
        assert_eq!(prefix_node(prefix), Some("nats-1"));
        assert_eq!(h.level, Level::Warn);
        assert_eq!(h.pid, Some(7));
        assert_eq!(h.msg, "Readloop processing time: 2s");
        assert!(find_header("no header [WRN] here", &z).is_none());
    }

    #[test]
    fn shipper_times() {
        let z = Zone::utc();
        let (ts, msg) = shipper_time(
            "Jan 10, 2025  21:36:41.602 Readloop processing time: 19s",
            &z,
        )
        .unwrap();
        assert_eq!(msg, "Readloop processing time: 19s");
        assert_eq!(ts.0 % 1_000_000_000, 602_000_000);
        let (_, msg) = shipper_time("2025-01-10T21:36:41.602Z Internal x", &z).unwrap();
        assert_eq!(msg, "Internal x");
        assert!(shipper_time("Jan is a month", &z).is_none());
    }

    #[test]
    fn partial_connection_prefix() {
        assert_eq!(
            strip_partial_conn_prefix(r#"mid: 102204 - "cae2" - Unable to persist session"#),
            Some("Unable to persist session")
        );
        assert_eq!(strip_partial_conn_prefix("cid:5 - x"), Some("x"));
        assert_eq!(strip_partial_conn_prefix("hello: 5 - x"), None);
    }
}
