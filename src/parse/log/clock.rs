//! Fast timestamp parsing for the hot path, and local-time conversion.

use crate::model::Timestamp;
use chrono::{LocalResult, NaiveDate, Offset, TimeZone};
use chrono_tz::Tz;
use std::cell::Cell;

/// How to read timestamps that carry no zone (nats-server logs local time).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Zone {
    tz: Option<Tz>,
    fixed: Option<i64>,
}

thread_local! {
    /// (zone, hour bucket of naive seconds, offset seconds) of the last lookup.
    static OFFSET_CACHE: Cell<(Option<Tz>, i64, i64)> = const { Cell::new((None, i64::MIN, 0)) };
}

impl Zone {
    pub fn utc() -> Zone {
        Zone::default()
    }

    pub fn named(tz: Tz) -> Zone {
        Zone {
            tz: Some(tz),
            fixed: None,
        }
    }

    pub fn is_utc(&self) -> bool {
        self.tz.is_none() && self.fixed.unwrap_or(0) == 0
    }

    /// Parses `UTC`, `Europe/Paris`, `+02:00`, `-0530`.
    pub fn parse(s: &str) -> Result<Zone, String> {
        if s.eq_ignore_ascii_case("utc") || s == "Z" {
            return Ok(Zone::utc());
        }
        if let Ok(tz) = s.parse::<Tz>() {
            return Ok(Zone::named(tz));
        }
        if let Some(off) = parse_offset(s) {
            return Ok(Zone {
                tz: None,
                fixed: Some(off),
            });
        }
        Err(format!(
            "unknown time zone `{s}`: use an IANA name (Europe/Paris), UTC, or an offset (+02:00)"
        ))
    }

    /// Converts local calendar seconds (as if UTC) to a UTC timestamp.
    pub fn to_utc(&self, naive_secs: i64, nanos: u32) -> Timestamp {
        let off = self.offset(naive_secs);
        // Saturating: callers bound the year, but a hostile offset or year
        // hint must not overflow.
        Timestamp(
            naive_secs
                .saturating_sub(off)
                .saturating_mul(1_000_000_000)
                .saturating_add(nanos as i64),
        )
    }

    fn offset(&self, naive_secs: i64) -> i64 {
        if let Some(f) = self.fixed {
            return f;
        }
        let Some(tz) = self.tz else { return 0 };
        let b = naive_secs.div_euclid(3600);
        let (ctz, bucket, off) = OFFSET_CACHE.with(|c| c.get());
        if ctz == Some(tz) && bucket == b {
            return off;
        }
        let naive = chrono::DateTime::from_timestamp(naive_secs, 0)
            .map(|d| d.naive_utc())
            .unwrap_or_default();
        let off = match tz.offset_from_local_datetime(&naive) {
            LocalResult::Single(o) => o.fix().local_minus_utc() as i64,
            // DST fall-back: the earlier of the two readings.
            LocalResult::Ambiguous(a, _) => a.fix().local_minus_utc() as i64,
            // DST spring-forward gap: the offset in force just after it.
            LocalResult::None => tz.offset_from_utc_datetime(&naive).fix().local_minus_utc() as i64,
        };
        OFFSET_CACHE.with(|c| c.set((Some(tz), b, off)));
        off
    }
}

fn parse_offset(s: &str) -> Option<i64> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i64 = digits[..2].parse().ok()?;
    let m: i64 = digits[2..].parse().ok()?;
    Some(sign * (h * 3600 + m * 60))
}

#[inline]
fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + d as u32;
    }
    Some(v)
}

/// The digits of a fraction of a second starting at `b[start]`: (nanoseconds,
/// index after the last digit). At least one digit; digits past nanoseconds
/// are read and ignored.
fn fraction(b: &[u8], start: usize) -> Option<(u32, usize)> {
    let mut i = start;
    let mut nanos = 0u32;
    let mut scale = 100_000_000u32;
    while i < b.len() && b[i].is_ascii_digit() {
        nanos += (b[i] - b'0') as u32 * scale;
        scale /= 10;
        i += 1;
    }
    (i > start).then_some((nanos, i))
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// First and last years whose every instant fits in a [`Timestamp`].
pub const MIN_YEAR: i64 = 1678;
pub const MAX_YEAR: i64 = 2261;

thread_local! {
    /// The `yyyy/mm/dd hh:mm:ss` of the last timestamp parsed on this thread
    /// (as [`second_key`]) and its naive seconds (`i64::MIN`: none yet). The
    /// lines of one second share them; only the fraction differs.
    static LAST_SECOND: Cell<([u64; 3], i64)> = const { Cell::new(([0; 3], i64::MIN)) };
}

/// The 19 bytes of `yyyy/mm/dd hh:mm:ss` as three overlapping words: equal
/// keys, equal bytes (compared in three instructions, not a `memcmp`).
#[inline]
fn second_key(b: &[u8; 19]) -> [u64; 3] {
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[at..at + 8]);
        u64::from_le_bytes(w)
    };
    [word(0), word(8), word(11)]
}

/// Parses `yyyy/mm/dd hh:mm:ss.uuuuuu` (also `-` date separators, any number
/// of fraction digits, or none). Returns (naive seconds, nanos, bytes used).
///
/// The date and time to the second are read once per second of input: when
/// their 19 bytes equal the last ones parsed on this thread, their seconds
/// are reused (the result is the same, this only saves the work).
pub fn parse_nats_datetime(b: &[u8]) -> Option<(i64, u32, usize)> {
    let head: &[u8; 19] = b.get(..19)?.try_into().ok()?;
    let key = second_key(head);
    let (last, last_secs) = LAST_SECOND.get();
    let secs = if last == key && last_secs != i64::MIN {
        last_secs
    } else {
        let secs = civil_seconds(head)?;
        LAST_SECOND.set((key, secs));
        secs
    };
    let (nanos, used) = match b.get(19) {
        Some(b'.' | b',') => fraction(b, 20)?,
        _ => (0, 19),
    };
    Some((secs, nanos, used))
}

/// The naive seconds of `yyyy/mm/dd hh:mm:ss` (or `-` / `T` separators).
fn civil_seconds(b: &[u8; 19]) -> Option<i64> {
    let sep = b[4];
    if (sep != b'/' && sep != b'-')
        || b[7] != sep
        || (b[10] != b' ' && b[10] != b'T')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let y = digits(&b[0..4])? as i64;
    // Nanoseconds since 1970 in an i64 cover 1677-09-21 to 2262-04-11: a
    // date outside is not a timestamp we can hold.
    if !(MIN_YEAR..=MAX_YEAR).contains(&y) {
        return None;
    }
    let mo = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    let h = digits(&b[11..13])?;
    let mi = digits(&b[14..16])?;
    let s = digits(&b[17..19])?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86400 + (h * 3600 + mi * 60 + s) as i64)
}

/// Parses an RFC 3339 timestamp at the start of `s` (up to the first space).
/// Returns the timestamp and the bytes used.
pub fn parse_rfc3339_prefix(s: &str) -> Option<(Timestamp, usize)> {
    let end = s.find(' ').unwrap_or(s.len());
    let tok = &s[..end];
    if tok.len() < 20 || tok.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    // Fast path: ...Z with our own parser.
    let b = tok.as_bytes();
    if b[b.len() - 1] == b'Z' {
        let (secs, nanos, used) = parse_nats_datetime(b)?;
        if used == b.len() - 1 {
            let ns = secs.checked_mul(1_000_000_000)?.checked_add(nanos as i64)?;
            return Some((Timestamp(ns), end));
        }
    }
    // journald short-iso writes +0000 without a colon.
    let t = chrono::DateTime::parse_from_rfc3339(tok)
        .or_else(|_| chrono::DateTime::parse_from_str(tok, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .or_else(|_| chrono::DateTime::parse_from_str(tok, "%Y-%m-%dT%H:%M:%S%z"))
        .ok()?;
    Some((Timestamp(t.timestamp_nanos_opt()?), end))
}

/// Parses a BSD syslog time `Nov 24 19:02:17` (optionally with `.uuuuuu`),
/// completing the year from `year_hint`. Returns naive seconds, nanos, bytes used.
pub fn parse_syslog_time(s: &str, year_hint: i32) -> Option<(i64, u32, usize)> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let b = s.as_bytes();
    if b.len() < 15 {
        return None;
    }
    let mo = MONTHS.iter().position(|m| s.starts_with(m))? as u32 + 1;
    if b[3] != b' ' {
        return None;
    }
    // Bytes, not `str` slicing: a multi-byte character may sit here.
    let day_str = std::str::from_utf8(&b[4..6]).ok()?.trim_start();
    let d: u32 = day_str.parse().ok()?;
    if b[6] != b' ' || b[9] != b':' || b[12] != b':' {
        return None;
    }
    let h = digits(&b[7..9])?;
    let mi = digits(&b[10..12])?;
    let sec = digits(&b[13..15])?;
    let (nanos, used) = match b.get(15) {
        Some(b'.') => fraction(b, 16)?,
        _ => (0, 15),
    };
    NaiveDate::from_ymd_opt(year_hint, mo, d)?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&(year_hint as i64)) {
        return None;
    }
    let secs = days_from_civil(year_hint as i64, mo, d) * 86400 + (h * 3600 + mi * 60 + sec) as i64;
    Some((secs, nanos, used))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nats_datetime() {
        let (s, n, used) = parse_nats_datetime(b"2026/11/24 19:02:17.717340 [INF]").unwrap();
        let t = Timestamp(s * 1_000_000_000 + n as i64);
        assert_eq!(t.rfc3339(), "2026-11-24T19:02:17.717340Z");
        assert_eq!(used, 26);
        assert!(parse_nats_datetime(b"2026/13/24 19:02:17").is_none());
    }

    /// A fresh parse, without the reuse of the last second.
    fn uncached(b: &[u8]) -> Option<(i64, u32, usize)> {
        let secs = civil_seconds(b.get(..19)?.try_into().ok()?)?;
        let (nanos, used) = match b.get(19) {
            Some(b'.' | b',') => fraction(b, 20)?,
            _ => (0, 19),
        };
        Some((secs, nanos, used))
    }

    const SECOND_EDGES: &[&str] = &[
        "2026/11/24 19:02:17.717340 [INF] x",
        "2026/11/24 19:02:17.999999 [INF] x",
        // The next second, then back (lines of a peer, or a clock step).
        "2026/11/24 19:02:18.000001 [INF] x",
        "2026/11/24 19:02:17.5 [INF] x",
        // Day, month, leap day and year rollovers.
        "2026/11/24 23:59:59.999",
        "2026/11/25 00:00:00.000",
        "2026/11/30 23:59:59.9",
        "2026/12/01 00:00:00.1",
        "2024/02/28 23:59:59",
        "2024/02/29 00:00:00",
        "2024/03/01 00:00:00",
        "2026/12/31 23:59:59.9",
        "2027/01/01 00:00:00",
        // The same second in other formats.
        "2026-11-24 19:02:17.717340",
        "2026-11-24T19:02:17.717340Z",
        "2026/11/24T19:02:17.1",
        "2026/11/24 19:02:17",
        "2026/11/24 19:02:17,5",
        // The same second, then a fraction without digits (invalid).
        "2026/11/24 19:02:17.",
        // Invalid, then valid again; short; NUL bytes (the initial key).
        "2026/13/24 19:02:17.1",
        "2026/11/24 19:02:17.2",
        "2026/11/24 19:02:1",
        "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0.5",
    ];

    #[test]
    fn second_reuse_equals_a_fresh_parse() {
        for l in SECOND_EDGES {
            let b = l.as_bytes();
            assert_eq!(parse_nats_datetime(b), uncached(b), "{l:?}");
        }
        // Every line right after every other one (the reused second is the
        // previous line's).
        for a in SECOND_EDGES {
            for l in SECOND_EDGES {
                let _ = parse_nats_datetime(a.as_bytes());
                assert_eq!(
                    parse_nats_datetime(l.as_bytes()),
                    uncached(l.as_bytes()),
                    "{l:?} after {a:?}"
                );
            }
        }
    }

    #[test]
    fn second_reuse_across_rollovers() {
        let at = |l: &str| {
            let (s, n, _) = parse_nats_datetime(l.as_bytes()).unwrap();
            Timestamp(s * 1_000_000_000 + n as i64).rfc3339()
        };
        assert_eq!(
            at("2026/12/31 23:59:59.900000"),
            "2026-12-31T23:59:59.900000Z"
        );
        assert_eq!(
            at("2026/12/31 23:59:59.950000"),
            "2026-12-31T23:59:59.950000Z"
        );
        assert_eq!(
            at("2027/01/01 00:00:00.000001"),
            "2027-01-01T00:00:00.000001Z"
        );
        assert_eq!(at("2024/02/28 23:59:59.5"), "2024-02-28T23:59:59.500000Z");
        assert_eq!(at("2024/02/29 00:00:00.5"), "2024-02-29T00:00:00.500000Z");
        assert_eq!(at("2024-02-29T00:00:00.6"), "2024-02-29T00:00:00.600000Z");
        assert_eq!(at("2024/02/29 00:00:00.7"), "2024-02-29T00:00:00.700000Z");
    }

    #[test]
    fn second_reuse_with_zones_and_rfc3339() {
        // Local time across the spring-forward gap (zone-less headers).
        let z = Zone::parse("Europe/Paris").unwrap();
        let utc = |l: &str| {
            let (s, n, _) = parse_nats_datetime(l.as_bytes()).unwrap();
            z.to_utc(s, n).rfc3339()
        };
        assert_eq!(utc("2026/03/29 01:59:59.25"), "2026-03-29T00:59:59.250000Z");
        assert_eq!(utc("2026/03/29 01:59:59.75"), "2026-03-29T00:59:59.750000Z");
        assert_eq!(utc("2026/03/29 03:00:00.25"), "2026-03-29T01:00:00.250000Z");
        // RFC 3339 with and without an offset, in one second.
        let r = |l: &str| parse_rfc3339_prefix(l).unwrap().0.rfc3339();
        assert_eq!(r("2026-11-24T19:02:17.4Z x"), "2026-11-24T19:02:17.400000Z");
        assert_eq!(
            r("2026-11-24T19:02:17.5+01:00 x"),
            "2026-11-24T18:02:17.500000Z"
        );
        assert_eq!(r("2026-11-24T19:02:17.6Z x"), "2026-11-24T19:02:17.600000Z");
    }

    #[test]
    fn zones() {
        let z = Zone::parse("Europe/Paris").unwrap();
        let (s, n, _) = parse_nats_datetime(b"2026/07/01 12:00:00").unwrap();
        assert_eq!(z.to_utc(s, n).rfc3339(), "2026-07-01T10:00:00.000000Z");
        let z = Zone::parse("+05:30").unwrap();
        assert_eq!(z.to_utc(s, n).rfc3339(), "2026-07-01T06:30:00.000000Z");
        assert!(Zone::parse("Mars/Olympus").is_err());
    }

    #[test]
    fn rfc3339_prefix() {
        let (t, used) = parse_rfc3339_prefix("2023-04-28T18:18:19.790095123Z [7] x").unwrap();
        assert_eq!(used, 30);
        assert_eq!(t.rfc3339(), "2023-04-28T18:18:19.790095Z");
        let (t, _) = parse_rfc3339_prefix("2026-11-24T19:02:17+0100 host x").unwrap();
        assert_eq!(t.rfc3339(), "2026-11-24T18:02:17.000000Z");
    }

    #[test]
    fn syslog_time() {
        let (s, _, used) = parse_syslog_time("Nov  4 19:02:17 host", 2026).unwrap();
        assert_eq!(used, 15);
        assert_eq!(
            Timestamp(s * 1_000_000_000).rfc3339(),
            "2026-11-04T19:02:17.000000Z"
        );
    }
}
