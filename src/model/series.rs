//! A metric time series for one node, sorted by time, and the windowed
//! functions the rule engine asks of it. Missing data is `None` (unknown),
//! never zero.

use super::{Nanos, Node, Timestamp};
use std::sync::Arc;

#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Point {
    pub ts: Timestamp,
    pub value: f64,
}

/// A closed time interval `[start, end]`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Span {
    pub fn new(start: Timestamp, end: Timestamp) -> Span {
        Span { start, end }
    }

    pub fn duration(&self) -> Nanos {
        self.end.since(self.start)
    }

    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t <= self.end
    }

    pub fn overlaps(&self, other: &Span) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

/// Aggregates over a window. All `None` when the window holds no sample.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowStats {
    pub count: usize,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub sum: f64,
    pub first: Option<f64>,
    pub last: Option<f64>,
}

/// One metric of one node: points sorted by time, no duplicate timestamps.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub node: Node,
    pub metric: Arc<str>,
    pub points: Vec<Point>,
    /// Expected spacing between samples (median step), used to tell a gap from
    /// normal spacing. 0 when fewer than two points.
    pub step: Nanos,
}

impl Series {
    /// Builds a series; sorts the points and keeps the last of duplicate timestamps.
    pub fn new(node: Node, metric: Arc<str>, mut points: Vec<Point>) -> Series {
        points.sort_by_key(|p| p.ts);
        let mut dedup: Vec<Point> = Vec::with_capacity(points.len());
        for p in points {
            match dedup.last_mut() {
                Some(last) if last.ts == p.ts => *last = p,
                _ => dedup.push(p),
            }
        }
        let step = median_step(&dedup);
        Series {
            node,
            metric,
            points: dedup,
            step,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    pub fn span(&self) -> Option<Span> {
        Some(Span::new(self.points.first()?.ts, self.points.last()?.ts))
    }

    /// Index of the first point with `ts >= t`.
    fn lower(&self, t: Timestamp) -> usize {
        self.points.partition_point(|p| p.ts < t)
    }

    /// Points with `from <= ts <= to`.
    pub fn range(&self, from: Timestamp, to: Timestamp) -> &[Point] {
        let a = self.lower(from);
        let b = self.points.partition_point(|p| p.ts <= to);
        &self.points[a..b.max(a)]
    }

    /// The last value at or before `t`, if it is no older than `max_age`
    /// (pass `self.step * 3` or similar). Unknown otherwise.
    pub fn value_at(&self, t: Timestamp, max_age: Nanos) -> Option<f64> {
        let idx = self.points.partition_point(|p| p.ts <= t);
        let p = self.points.get(idx.checked_sub(1)?)?;
        (t.since(p.ts) <= max_age).then_some(p.value)
    }

    /// min/max/mean/sum/first/last over `[from, to]`.
    pub fn window(&self, from: Timestamp, to: Timestamp) -> WindowStats {
        let pts = self.range(from, to);
        if pts.is_empty() {
            return WindowStats::default();
        }
        let mut st = WindowStats {
            count: pts.len(),
            first: Some(pts[0].value),
            last: Some(pts[pts.len() - 1].value),
            ..WindowStats::default()
        };
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for p in pts {
            min = min.min(p.value);
            max = max.max(p.value);
            st.sum += p.value;
        }
        st.min = Some(min);
        st.max = Some(max);
        st.mean = Some(st.sum / pts.len() as f64);
        st
    }

    /// The `q` quantile (0..=1, nearest rank) over `[from, to]`.
    pub fn percentile(&self, from: Timestamp, to: Timestamp, q: f64) -> Option<f64> {
        let mut v: Vec<f64> = self.range(from, to).iter().map(|p| p.value).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let rank = ((q.clamp(0.0, 1.0) * v.len() as f64).ceil() as usize).clamp(1, v.len());
        Some(v[rank - 1])
    }

    /// Maximal intervals where `pred` holds on consecutive samples for at least
    /// `min_dur`. A gap in the data (more than `max_gap` between samples) breaks
    /// an interval: missing data is unknown, never true.
    pub fn sustained(
        &self,
        pred: impl Fn(f64) -> bool,
        min_dur: Nanos,
        max_gap: Nanos,
    ) -> Vec<Span> {
        let mut out = Vec::new();
        let mut run: Option<(Timestamp, Timestamp)> = None;
        let mut prev_ts: Option<Timestamp> = None;
        for p in &self.points {
            let gap = prev_ts.is_some_and(|pt| p.ts.since(pt) > max_gap);
            if gap {
                if let Some((s, e)) = run.take() {
                    if e.since(s) >= min_dur {
                        out.push(Span::new(s, e));
                    }
                }
            }
            if pred(p.value) {
                run = Some(match run {
                    Some((s, _)) => (s, p.ts),
                    None => (p.ts, p.ts),
                });
            } else if let Some((s, e)) = run.take() {
                if e.since(s) >= min_dur {
                    out.push(Span::new(s, e));
                }
            }
            prev_ts = Some(p.ts);
        }
        if let Some((s, e)) = run {
            if e.since(s) >= min_dur {
                out.push(Span::new(s, e));
            }
        }
        out
    }
}

fn median_step(points: &[Point]) -> Nanos {
    if points.len() < 2 {
        return 0;
    }
    let mut d: Vec<Nanos> = points.windows(2).map(|w| w[1].ts.since(w[0].ts)).collect();
    let mid = d.len() / 2;
    *d.select_nth_unstable(mid).1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(vals: &[(i64, f64)]) -> Series {
        Series::new(
            "n1".into(),
            "cpu".into(),
            vals.iter()
                .map(|&(t, v)| Point {
                    ts: Timestamp(t * 1_000_000_000),
                    value: v,
                })
                .collect(),
        )
    }

    #[test]
    fn dedup_and_sort() {
        let x = s(&[(3, 1.0), (1, 2.0), (3, 5.0)]);
        assert_eq!(x.points.len(), 2);
        assert_eq!(x.points[1].value, 5.0);
    }

    #[test]
    fn value_at_respects_age() {
        let x = s(&[(0, 1.0), (10, 2.0)]);
        let sec = 1_000_000_000;
        assert_eq!(x.value_at(Timestamp(5 * sec), 6 * sec), Some(1.0));
        assert_eq!(x.value_at(Timestamp(5 * sec), 2 * sec), None);
        assert_eq!(x.value_at(Timestamp(-1), sec), None);
    }

    #[test]
    fn sustained_broken_by_gap_and_value() {
        let sec = 1_000_000_000;
        let x = s(&[
            (0, 99.0),
            (1, 99.0),
            (2, 99.0),
            (3, 10.0),
            (4, 99.0),
            (20, 99.0),
            (21, 99.0),
        ]);
        let spans = x.sustained(|v| v > 95.0, 2 * sec, 2 * sec);
        assert_eq!(spans, vec![Span::new(Timestamp(0), Timestamp(2 * sec))]);
    }

    #[test]
    fn window_and_percentile() {
        let x = s(&[(0, 1.0), (1, 2.0), (2, 3.0), (3, 4.0)]);
        let w = x.window(Timestamp(0), Timestamp(2_000_000_000));
        assert_eq!(
            (w.count, w.min, w.max, w.mean),
            (3, Some(1.0), Some(3.0), Some(2.0))
        );
        assert_eq!(
            x.percentile(Timestamp(0), Timestamp(3_000_000_000), 0.5),
            Some(2.0)
        );
    }
}
