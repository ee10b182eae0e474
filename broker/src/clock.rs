//! Virtual time: microseconds since the Unix epoch, and fast formatters for the
//! three timestamp shapes the broker writes (nats log header, RFC 3339 with
//! microseconds, RFC 3339 with milliseconds).
//!
//! Formatting caches the date-and-time-of-second prefix, so consecutive lines in
//! the same second only rewrite the fractional digits.

/// Microseconds since 1970-01-01T00:00:00Z.
pub type Micros = i64;

pub const SEC: Micros = 1_000_000;
pub const MS: Micros = 1_000;

/// Days since the epoch to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since the epoch.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
pub fn parse_rfc3339(s: &str) -> Option<Micros> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || !s.ends_with('Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut frac: Micros = 0;
    if b[19] == b'.' {
        let digits = &s[20..s.len() - 1];
        let mut scale = 100_000;
        for c in digits.bytes().take(6) {
            if !c.is_ascii_digit() {
                return None;
            }
            frac += (c - b'0') as i64 * scale;
            scale /= 10;
        }
    }
    let days = days_from_civil(y, mo as u32, d as u32);
    Some(((days * 86_400 + h * 3600 + mi * 60 + se) * SEC) + frac)
}

/// Which timestamp shape a [`TsFmt`] produces.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TsStyle {
    /// `2026/11/24 18:55:57.502235` (nats-server log header, UTC).
    NatsLog,
    /// `2026-11-24T18:55:57.502235Z`.
    Rfc3339Micros,
    /// `2026-11-24T18:55:57.502Z`.
    Rfc3339Millis,
}

/// A timestamp formatter that reuses the per-second prefix.
pub struct TsFmt {
    style: TsStyle,
    cached_sec: i64,
    prefix: [u8; 20],
}

impl TsFmt {
    pub fn new(style: TsStyle) -> Self {
        TsFmt {
            style,
            cached_sec: i64::MIN,
            prefix: [0; 20],
        }
    }

    fn refresh(&mut self, sec: i64) {
        self.cached_sec = sec;
        let days = sec.div_euclid(86_400);
        let sod = sec.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let (hh, mm, ss) = (sod / 3600, (sod / 60) % 60, sod % 60);
        let (dsep, tsep) = match self.style {
            TsStyle::NatsLog => (b'/', b' '),
            _ => (b'-', b'T'),
        };
        let p = &mut self.prefix;
        put_digits(&mut p[0..4], y as u64);
        p[4] = dsep;
        put_digits(&mut p[5..7], m as u64);
        p[7] = dsep;
        put_digits(&mut p[8..10], d as u64);
        p[10] = tsep;
        put_digits(&mut p[11..13], hh as u64);
        p[13] = b':';
        put_digits(&mut p[14..16], mm as u64);
        p[16] = b':';
        put_digits(&mut p[17..19], ss as u64);
        p[19] = b'.';
    }

    /// Appends the formatted timestamp of `t` to `out`.
    pub fn write(&mut self, t: Micros, out: &mut Vec<u8>) {
        let sec = t.div_euclid(SEC);
        if sec != self.cached_sec {
            self.refresh(sec);
        }
        out.extend_from_slice(&self.prefix);
        let us = t.rem_euclid(SEC) as u64;
        let mut frac = [0u8; 6];
        match self.style {
            TsStyle::NatsLog => {
                put_digits(&mut frac, us);
                out.extend_from_slice(&frac);
            }
            TsStyle::Rfc3339Micros => {
                put_digits(&mut frac, us);
                out.extend_from_slice(&frac);
                out.push(b'Z');
            }
            TsStyle::Rfc3339Millis => {
                put_digits(&mut frac[..3], us / 1000);
                out.extend_from_slice(&frac[..3]);
                out.push(b'Z');
            }
        }
    }

    /// Convenience: the timestamp as a `String` (not for hot paths).
    pub fn string(&mut self, t: Micros) -> String {
        let mut v = Vec::with_capacity(32);
        self.write(t, &mut v);
        String::from_utf8(v).unwrap_or_default()
    }
}

/// Writes `v` as zero-padded decimal filling `dst` exactly.
fn put_digits(dst: &mut [u8], mut v: u64) {
    for slot in dst.iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// RFC 3339 with nanosecond digits as Go's `time.Time` JSON encoding prints it
/// (trailing zeros trimmed), from microseconds plus extra nanoseconds.
pub fn write_rfc3339_nanos(t: Micros, extra_ns: u32, out: &mut Vec<u8>) {
    let mut f = TsFmt::new(TsStyle::Rfc3339Micros);
    f.write(t, out);
    out.pop(); // 'Z'
    let ns = extra_ns % 1000;
    let mut digits = [0u8; 3];
    put_digits(&mut digits, ns as u64);
    out.extend_from_slice(&digits);
    while out.last() == Some(&b'0') {
        out.pop();
    }
    if out.last() == Some(&b'.') {
        out.pop();
    }
    out.push(b'Z');
}

/// Go's `time.Duration.String()` for positive durations given in nanoseconds.
pub fn go_duration(ns: i64, out: &mut Vec<u8>) {
    use std::io::Write;
    if ns <= 0 {
        out.extend_from_slice(b"0s");
        return;
    }
    if ns < 1_000 {
        let _ = write!(out, "{ns}ns");
        return;
    }
    if ns < 1_000_000 {
        write_trimmed(out, ns as u64, 3);
        out.extend_from_slice("µs".as_bytes());
        return;
    }
    if ns < 1_000_000_000 {
        write_trimmed(out, ns as u64, 6);
        out.extend_from_slice(b"ms");
        return;
    }
    let total_s = ns / 1_000_000_000;
    let (h, m) = (total_s / 3600, (total_s / 60) % 60);
    if h > 0 {
        let _ = write!(out, "{h}h");
    }
    if h > 0 || m > 0 {
        let _ = write!(out, "{m}m");
    }
    let rem = (ns % 60_000_000_000) as u64;
    write_trimmed(out, rem, 9);
    out.push(b's');
}

/// Writes `v / 10^scale` with the fraction's trailing zeros trimmed.
fn write_trimmed(out: &mut Vec<u8>, v: u64, scale: u32) {
    use std::io::Write;
    let div = 10u64.pow(scale);
    let (int, frac) = (v / div, v % div);
    let _ = write!(out, "{int}");
    if frac != 0 {
        let mut digits = vec![0u8; scale as usize];
        put_digits(&mut digits, frac);
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        out.push(b'.');
        out.extend_from_slice(&digits);
    }
}

/// nats-server's `myUptime`: `1y2d3h4m5s` style, leading zero units dropped.
pub fn my_uptime(secs: i64, out: &mut Vec<u8>) {
    use std::io::Write;
    let s = secs.max(0);
    let (y, d, h, m, ss) = (
        s / 31_536_000,
        (s / 86_400) % 365,
        (s / 3600) % 24,
        (s / 60) % 60,
        s % 60,
    );
    if y > 0 {
        let _ = write!(out, "{y}y{d}d{h}h{m}m{ss}s");
    } else if d > 0 {
        let _ = write!(out, "{d}d{h}h{m}m{ss}s");
    } else if h > 0 {
        let _ = write!(out, "{h}h{m}m{ss}s");
    } else if m > 0 {
        let _ = write!(out, "{m}m{ss}s");
    } else {
        let _ = write!(out, "{ss}s");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip() {
        let t = parse_rfc3339("2026-11-24T18:55:57.502235Z").unwrap();
        let mut f = TsFmt::new(TsStyle::NatsLog);
        assert_eq!(f.string(t), "2026/11/24 18:55:57.502235");
        let mut g = TsFmt::new(TsStyle::Rfc3339Millis);
        assert_eq!(g.string(t), "2026-11-24T18:55:57.502Z");
        let mut h = TsFmt::new(TsStyle::Rfc3339Micros);
        assert_eq!(
            h.string(t + SEC * 86_400 * 40),
            "2027-01-03T18:55:57.502235Z"
        );
    }

    #[test]
    fn go_durations() {
        let s = |ns| {
            let mut v = Vec::new();
            go_duration(ns, &mut v);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(s(2_109_081_818), "2.109081818s");
        assert_eq!(s(10_000_000_000), "10s");
        assert_eq!(s(850_000_000), "850ms");
        assert_eq!(s(63_200_000_000), "1m3.2s");
    }
}
