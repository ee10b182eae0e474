//! nats-server release numbers and the message-text variants that depend on them
//! (see NATS-CATALOG.md §2: the "First" column and the Notes).

use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim().trim_start_matches('v');
        let mut it = s.split('.').map(|p| p.parse::<u32>().ok());
        let v = Version(it.next()??, it.next()??, it.next().unwrap_or(Some(0))?);
        if it.next().is_some() || v.0 != 2 {
            return None;
        }
        Some(v)
    }

    pub fn at_least(self, a: u32, b: u32, c: u32) -> bool {
        self >= Version(a, b, c)
    }

    /// B1 `JetStream request queue has high pending count: %d` (2.10.8 – 2.10.20).
    pub fn has_pending_count_warning(self) -> bool {
        self.at_least(2, 10, 8) && !self.at_least(2, 10, 21)
    }

    /// B1 threshold and de-duplication: per distinct line until 2.10.18 (>32),
    /// per format from 2.10.19 (>=128).
    pub fn pending_warning_threshold(self) -> usize {
        if self.at_least(2, 10, 19) { 128 } else { 33 }
    }

    /// B2/B3 queue limit with dropped requests (2.10.21+); `meta.pending` in /jsz and /varz.
    pub fn has_api_queue_limit(self) -> bool {
        self.at_least(2, 10, 21)
    }

    /// Client info segment `"v<ver>:<lang>:<name>"` in connection labels
    /// (present 2.2.0 – 2.9.14 and 2.12.0+).
    pub fn has_client_info_segment(self) -> bool {
        !self.at_least(2, 9, 15) || self.at_least(2, 12, 0)
    }

    /// Routes answer PINGs only when idle inbound (2.10+) rather than idle outbound (≤2.9).
    pub fn pings_on_inbound_idle(self) -> bool {
        self.at_least(2, 10, 0)
    }

    /// Healthz "is not current" errors carry a reason after a colon (2.10+ in this model).
    pub fn healthz_reasons(self) -> bool {
        self.at_least(2, 10, 0)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// The Go toolchain a release was built with (as /varz `go` shows it).
pub fn go_version(v: Version) -> &'static str {
    match (v.1, v.2) {
        (9, _) => "go1.19.8",
        (10, p) if p < 15 => "go1.21.8",
        (10, _) => "go1.22.8",
        (11, _) => "go1.23.6",
        (12, _) => "go1.24.5",
        _ => "go1.25.1",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        let a = Version::parse("2.9.10").unwrap();
        let b = Version::parse("v2.10.12").unwrap();
        assert!(a < b);
        assert!(b.has_pending_count_warning());
        assert!(!a.has_pending_count_warning());
        assert!(Version::parse("2.10.22").unwrap().has_api_queue_limit());
        assert!(Version::parse("3.1.0").is_none());
    }
}
