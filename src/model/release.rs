//! nats-server releases (`2.10.8`) and release ranges (`2.2.0..`,
//! `2.10.8..2.10.20`, `2.0.0..2.10`), as the rule language writes them.

use std::cmp::Ordering;

/// Metric series holding `/varz` `version` as [`Release::encode`]d numbers.
pub const SERVER_VERSION_METRIC: &str = "server_version";
use std::fmt;

/// A nats-server release: major.minor.patch. Pre-release suffixes
/// (`2.11.0-RC.1`) are ignored: a release candidate counts as its release.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Release {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Release {
        Release {
            major,
            minor,
            patch,
        }
    }

    /// As a number, for the `server_version` metric: `2.10.8` → 2_010_008.
    pub fn encode(self) -> f64 {
        f64::from(self.major) * 1e6 + f64::from(self.minor) * 1e3 + f64::from(self.patch)
    }

    /// The inverse of [`Release::encode`].
    pub fn decode(v: f64) -> Option<Release> {
        if !(v.is_finite() && v >= 0.0) {
            return None;
        }
        let v = v.round() as u64;
        Some(Release::new(
            u32::try_from(v / 1_000_000).ok()?,
            ((v / 1_000) % 1_000) as u32,
            (v % 1_000) as u32,
        ))
    }

    /// Reads `2.10.8`, `v2.10.8`, `2.11.0-RC.1`, `2.10` (patch 0). `None` for
    /// anything else (`not set`, a git hash).
    pub fn parse(s: &str) -> Option<Release> {
        let (r, _) = parse_parts(s)?;
        Some(r)
    }
}

/// (release, whether the patch was written).
fn parse_parts(s: &str) -> Option<(Release, bool)> {
    let s = s.trim();
    let s = s.strip_prefix('v').unwrap_or(s);
    let core = s.split(['-', '+', ' ']).next()?;
    let mut it = core.split('.');
    let num = |p: Option<&str>| -> Option<u32> {
        let p = p?;
        if p.is_empty() || p.len() > 6 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let major = num(it.next())?;
    let minor = num(it.next())?;
    let patch = match it.next() {
        Some(p) => Some(num(Some(p))?),
        None => None,
    };
    if it.next().is_some() {
        return None;
    }
    Some((
        Release::new(major, minor, patch.unwrap_or(0)),
        patch.is_some(),
    ))
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The upper end of a range: a release, or a whole release line (`2.10`
/// = every 2.10.x).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Upper {
    Release(Release),
    Line(u32, u32),
}

/// An inclusive range of releases: `from..to`, either end open.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct ReleaseRange {
    pub from: Option<Release>,
    pub to: Option<Upper>,
}

impl ReleaseRange {
    /// Reads `A..B`, `A..`, `..B` (both ends inclusive; `B` may be a line
    /// such as `2.10`), or one release `A` (= `A..A`).
    pub fn parse(s: &str) -> Result<ReleaseRange, String> {
        let s = s.trim();
        let (a, b) = match s.split_once("..") {
            Some((a, b)) => (a.trim(), Some(b.trim())),
            None => (s, None),
        };
        let from = if a.is_empty() {
            None
        } else {
            Some(
                parse_parts(a)
                    .ok_or_else(|| format!("`{a}` is not a release such as `2.10.8`"))?
                    .0,
            )
        };
        let to = match b {
            None => from.map(Upper::Release),
            Some("") => None,
            Some(b) => {
                let (r, patch) = parse_parts(b).ok_or_else(|| {
                    format!("`{b}` is not a release such as `2.10.20` or a line such as `2.10`")
                })?;
                Some(if patch {
                    Upper::Release(r)
                } else {
                    Upper::Line(r.major, r.minor)
                })
            }
        };
        if from.is_none() && to.is_none() {
            return Err("a release range needs at least one end, e.g. `2.2.0..`".into());
        }
        let range = ReleaseRange { from, to };
        if let (Some(f), Some(_)) = (from, to)
            && !range.contains(f)
        {
            return Err(format!(
                "the range `{s}` is empty: its end comes before its start"
            ));
        }
        Ok(range)
    }

    pub fn contains(&self, r: Release) -> bool {
        if let Some(f) = self.from
            && r < f
        {
            return false;
        }
        match self.to {
            None => true,
            Some(Upper::Release(t)) => r <= t,
            Some(Upper::Line(ma, mi)) => (r.major, r.minor).cmp(&(ma, mi)) != Ordering::Greater,
        }
    }

    /// In words: `2.2.0 and later`, `2.10.8 to 2.10.20`, `2.0.0 to the end of 2.10`.
    pub fn describe(&self) -> String {
        match (self.from, self.to) {
            (Some(f), None) => format!("{f} and later"),
            (Some(f), Some(Upper::Release(t))) if f == t => format!("{f} only"),
            (Some(f), Some(Upper::Release(t))) => format!("{f} to {t}"),
            (Some(f), Some(Upper::Line(a, b))) => format!("{f} to the last {a}.{b}.x"),
            (None, Some(Upper::Release(t))) => format!("up to {t}"),
            (None, Some(Upper::Line(a, b))) => format!("up to the last {a}.{b}.x"),
            (None, None) => "every release".into(),
        }
    }
}

impl fmt::Display for ReleaseRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(a) = self.from {
            write!(f, "{a}")?;
        }
        if self.to == self.from.map(Upper::Release) && self.from.is_some() {
            return Ok(());
        }
        f.write_str("..")?;
        match self.to {
            Some(Upper::Release(t)) => write!(f, "{t}"),
            Some(Upper::Line(a, b)) => write!(f, "{a}.{b}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_and_ranges() {
        assert_eq!(Release::parse("2.10.8"), Some(Release::new(2, 10, 8)));
        assert_eq!(Release::parse("v2.11.0-RC.1"), Some(Release::new(2, 11, 0)));
        assert_eq!(Release::parse("not set"), None);
        assert!(Release::new(2, 10, 8) > Release::new(2, 9, 25));
        let r = ReleaseRange::parse("2.10.8..2.10.20").unwrap();
        assert!(r.contains(Release::new(2, 10, 8)));
        assert!(r.contains(Release::new(2, 10, 20)));
        assert!(!r.contains(Release::new(2, 10, 21)));
        assert!(!r.contains(Release::new(2, 9, 25)));
        let open = ReleaseRange::parse("2.2.0..").unwrap();
        assert!(open.contains(Release::new(2, 14, 5)));
        assert!(!open.contains(Release::new(2, 1, 9)));
        let line = ReleaseRange::parse("2.0.0..2.10").unwrap();
        assert!(line.contains(Release::new(2, 10, 29)));
        assert!(!line.contains(Release::new(2, 11, 0)));
        assert_eq!(line.to_string(), "2.0.0..2.10");
        assert_eq!(open.to_string(), "2.2.0..");
        assert_eq!(ReleaseRange::parse("2.10.8").unwrap().to_string(), "2.10.8");
        assert!(ReleaseRange::parse("2.10.20..2.10.8").is_err());
        assert!(ReleaseRange::parse("..").is_err());
        assert!(ReleaseRange::parse("2.x..").is_err());
        assert_eq!(line.describe(), "2.0.0 to the last 2.10.x");
    }
}
