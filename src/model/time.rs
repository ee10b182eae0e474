//! Time on one clock: nanoseconds since the Unix epoch, UTC.

use std::fmt;

/// Signed duration in nanoseconds.
pub type Nanos = i64;

pub const NANOS_PER_SEC: i64 = 1_000_000_000;

/// An instant in UTC, nanoseconds since the Unix epoch.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const MIN: Timestamp = Timestamp(i64::MIN);
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    pub fn from_secs_f64(s: f64) -> Timestamp {
        Timestamp((s * 1e9).round() as i64)
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    pub fn nanos(self) -> i64 {
        self.0
    }

    #[allow(clippy::should_implement_trait)]
    pub fn add(self, d: Nanos) -> Timestamp {
        Timestamp(self.0.saturating_add(d))
    }

    #[allow(clippy::should_implement_trait)]
    pub fn sub(self, d: Nanos) -> Timestamp {
        Timestamp(self.0.saturating_sub(d))
    }

    /// `self - other` in nanoseconds.
    pub fn since(self, other: Timestamp) -> Nanos {
        self.0.saturating_sub(other.0)
    }

    /// Parses RFC 3339 (`2026-11-24T19:00:04.440Z`, `...+02:00`). Also accepts a
    /// space instead of `T`.
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        let dt = chrono::DateTime::parse_from_rfc3339(s.trim())
            .or_else(|_| chrono::DateTime::parse_from_rfc3339(&s.trim().replacen(' ', "T", 1)))
            .ok()?;
        dt.timestamp_nanos_opt().map(Timestamp)
    }

    /// Builds a UTC timestamp from calendar fields (no validation beyond chrono's).
    pub fn from_utc_parts(
        y: i32,
        mo: u32,
        d: u32,
        h: u32,
        mi: u32,
        s: u32,
        nanos: u32,
    ) -> Option<Timestamp> {
        let date = chrono::NaiveDate::from_ymd_opt(y, mo, d)?;
        let dt = date.and_hms_nano_opt(h, mi, s, nanos)?;
        dt.and_utc().timestamp_nanos_opt().map(Timestamp)
    }

    /// Where a line of a file without any time is placed: line N at N ms
    /// after the epoch, so such lines keep their order and windows count them
    /// as close together (a pasted screen of messages). Reports print these
    /// instants as `line N`, never as a date.
    pub fn of_line(line: u64) -> Timestamp {
        Timestamp((line as i64).saturating_mul(LINE_ORDER_STEP))
    }

    /// Whether this instant is a line-order placement ([`Timestamp::of_line`]).
    pub fn is_line_order(self) -> bool {
        (0..86_400 * NANOS_PER_SEC).contains(&self.0)
    }

    fn datetime(self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp_nanos(self.0)
    }

    /// `2026-11-24T19:00:04.440000Z` (microsecond precision, as nats-server logs).
    pub fn rfc3339(self) -> String {
        self.datetime().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }

    /// `19:00:04.440` for compact timelines.
    pub fn hms_millis(self) -> String {
        if self.is_line_order() {
            return self.line_label();
        }
        self.datetime().format("%H:%M:%S%.3f").to_string()
    }

    /// `2026-11-24 19:00:04.440` for reports.
    pub fn short(self) -> String {
        if self.is_line_order() {
            return self.line_label();
        }
        self.datetime().format("%Y-%m-%d %H:%M:%S%.3f").to_string()
    }
}

impl Timestamp {
    fn line_label(self) -> String {
        format!("line {} (no time)", self.0 / LINE_ORDER_STEP)
    }
}

/// The spacing of line-order placements.
pub const LINE_ORDER_STEP: Nanos = 1_000_000;

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

/// Formats a duration in nanoseconds as `1m30s`, `2.5s`, `850ms`.
pub fn format_duration(d: Nanos) -> String {
    let neg = d < 0;
    let d = d.unsigned_abs();
    let s = if d >= 60 * NANOS_PER_SEC as u64 {
        let secs = d / NANOS_PER_SEC as u64;
        let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
        if h > 0 {
            format!("{h}h{m}m{s}s")
        } else {
            format!("{m}m{s}s")
        }
    } else if d >= NANOS_PER_SEC as u64 {
        let s = d as f64 / 1e9;
        let txt = format!("{s:.3}");
        format!("{}s", txt.trim_end_matches('0').trim_end_matches('.'))
    } else {
        format!("{}ms", d / 1_000_000)
    };
    if neg { format!("-{s}") } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        let t = Timestamp::parse_rfc3339("2026-11-24T19:00:04.440Z").unwrap();
        assert_eq!(t.rfc3339(), "2026-11-24T19:00:04.440000Z");
        assert_eq!(t.hms_millis(), "19:00:04.440");
        let t2 = Timestamp::parse_rfc3339("2026-11-24T21:00:04.440+02:00").unwrap();
        assert_eq!(t, t2);
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(90 * NANOS_PER_SEC), "1m30s");
        assert_eq!(format_duration(2_500_000_000), "2.5s");
        assert_eq!(format_duration(850_000_000), "850ms");
    }
}
