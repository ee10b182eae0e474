//! Axis labels: value units per metric (percent, bytes, rates, flags), round
//! axis tops, compact numbers, panel titles, and wall-clock time ticks.

use super::layout::XMap;
use crate::model::{NANOS_PER_SEC, Timestamp};

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Unit {
    Percent,
    Bytes,
    PerSec,
    Flag,
    Count,
}

impl Unit {
    /// The unit the vocabulary gives the metric; names it lacks (Prometheus
    /// pass-through, `csv_` columns) by their suffix.
    pub(super) fn of(metric: &str) -> Unit {
        use crate::vocab::Unit as V;
        match crate::vocab::metric::metric(metric).map(|m| m.unit) {
            Some(V::Percent) => Unit::Percent,
            Some(V::Bytes) => Unit::Bytes,
            Some(V::PerSecond) => Unit::PerSec,
            Some(V::Flag) => Unit::Flag,
            Some(_) => Unit::Count,
            None if metric.ends_with("_cpu") || metric.ends_with("_pct") => Unit::Percent,
            None if metric.ends_with("_rate") => Unit::PerSec,
            None => Unit::Count,
        }
    }

    /// A round axis top at or above `v`: 1/2/3/4/5/6/8 × 10^k, in binary
    /// units for bytes (so ticks read 512 MiB, 1 GiB).
    pub(super) fn nice_top(self, v: f64) -> f64 {
        // A percentage that reaches its limit tops out at 100%, not 200%.
        if self == Unit::Percent && v > 50.0 && v <= 110.0 {
            return 100.0;
        }
        if self == Unit::Bytes && v >= 1024.0 {
            let mut unit = 1024.0;
            while v / unit >= 1024.0 {
                unit *= 1024.0;
            }
            return nice_ceil(v / unit) * unit;
        }
        nice_ceil(v)
    }

    /// The smallest y top, so a quiet series is not blown up to full height.
    pub(super) fn min_top(self) -> f64 {
        match self {
            Unit::Percent => 10.0,
            Unit::Bytes => 1024.0 * 1024.0,
            Unit::Flag => 1.0,
            Unit::PerSec | Unit::Count => 1.0,
        }
    }

    pub(super) fn fmt(self, v: f64) -> String {
        match self {
            Unit::Percent => format!("{}%", compact(v)),
            Unit::Bytes => bytes(v),
            Unit::PerSec => format!("{}/s", compact(v)),
            Unit::Flag | Unit::Count => compact(v),
        }
    }
}

/// The panel title: the vocabulary's label, or nothing for names it lacks.
pub(super) fn unit_title(metric: &str) -> String {
    crate::vocab::metric::metric(metric)
        .map(|m| m.label.to_string())
        .unwrap_or_default()
}

/// `950`, `1.2k`, `3.4M`, `12`, `0.25`.
fn compact(v: f64) -> String {
    let a = v.abs();
    let (x, suf) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = if x == x.trunc() || x.abs() >= 10.0 {
        format!("{x:.0}")
    } else if x.abs() >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    format!("{s}{suf}")
}

fn bytes(v: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = v;
    let mut i = 0;
    while x.abs() >= 1024.0 && i < units.len() - 1 {
        x /= 1024.0;
        i += 1;
    }
    format!("{} {}", compact(x), units[i])
}

/// The smallest 1/2/3/4/5/6/8 × 10^k at or above `v` (halves stay short:
/// 1.5, not 1.25).
pub(super) fn nice_ceil(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let e = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        if m * e >= v * (1.0 - 1e-12) {
            return m * e;
        }
    }
    10.0 * e
}

pub(super) fn hms(t: Timestamp) -> String {
    chrono::DateTime::from_timestamp_nanos(t.0)
        .format("%H:%M:%S")
        .to_string()
}

/// Tick times on round wall-clock steps, at most one per `min_px` pixels.
pub(super) fn time_ticks(x: &XMap, min_px: i32) -> Vec<Timestamp> {
    const STEPS: [i64; 20] = [
        1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
        86400, 604800,
    ];
    let width = (x.x1 - x.x0).max(1) as f64;
    let max_ticks = (width / min_px.max(1) as f64).floor().max(2.0);
    let dur_s = (x.t1 - x.t0) as f64 / 1e9;
    let step = STEPS
        .iter()
        .copied()
        .find(|&s| dur_s / s as f64 <= max_ticks)
        .unwrap_or(*STEPS.last().unwrap_or(&86400));
    let step_ns = step * NANOS_PER_SEC;
    let first = x.t0.div_euclid(step_ns) * step_ns
        + if x.t0.rem_euclid(step_ns) == 0 {
            0
        } else {
            step_ns
        };
    let mut out = Vec::new();
    let mut t = first;
    while t <= x.t1 && out.len() < 1000 {
        out.push(Timestamp(t));
        t += step_ns;
    }
    out
}
