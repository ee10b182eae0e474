//! Samples → polars frame → deduplicated, sorted, aggregated series and rates.

use super::derive;
use super::names::{INTERNAL, MIN_AGG, counter_rate, counters, endpoint_rank, gauge_diffs};
use super::{MetricSet, UNKNOWN_NODE};
use crate::model::{Point, Series, Span, Timestamp};
use crate::parse::metric::Sample;
use polars::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Row kinds, decided per metric.
pub(super) const KIND_GAUGE: u32 = 0;
pub(super) const KIND_COUNTER: u32 = 1;
pub(super) const KIND_GAUGE_DIFF: u32 = 2;
pub(super) const KIND_MIN: u32 = 3;
/// Not a series by itself (`up` per endpoint, `meta_leader{leader}`): handled in [`derive`].
pub(super) const KIND_SPECIAL: u32 = 4;

type Labels = Vec<(Arc<str>, Arc<str>)>;

/// Interned nodes, metrics and label sets (row columns hold their ids).
#[derive(Default)]
pub(super) struct Dicts {
    pub nodes: Vec<Arc<str>>,
    pub metrics: Vec<Arc<str>>,
    pub lsets: Vec<Labels>,
    node_ids: HashMap<Arc<str>, u32>,
    metric_ids: HashMap<Arc<str>, u32>,
    lset_ids: HashMap<Labels, u32>,
}

impl Dicts {
    fn id(map: &mut HashMap<Arc<str>, u32>, list: &mut Vec<Arc<str>>, s: &Arc<str>) -> u32 {
        if let Some(&i) = map.get(s) {
            return i;
        }
        let i = list.len() as u32;
        list.push(s.clone());
        map.insert(s.clone(), i);
        i
    }

    pub fn node_id(&mut self, s: &Arc<str>) -> u32 {
        Self::id(&mut self.node_ids, &mut self.nodes, s)
    }

    pub fn metric_id(&mut self, s: &Arc<str>) -> u32 {
        Self::id(&mut self.metric_ids, &mut self.metrics, s)
    }

    pub fn find_metric(&self, s: &str) -> Option<u32> {
        self.metric_ids.get(s).copied()
    }

    fn lset_id(&mut self, mut l: Labels) -> u32 {
        if self.lsets.is_empty() {
            self.lsets.push(Vec::new());
            self.lset_ids.insert(Vec::new(), 0);
        }
        if l.is_empty() {
            return 0;
        }
        l.sort();
        if let Some(&i) = self.lset_ids.get(&l) {
            return i;
        }
        let i = self.lsets.len() as u32;
        self.lsets.push(l.clone());
        self.lset_ids.insert(l, i);
        i
    }

    pub fn label(&self, lset: u32, key: &str) -> Option<&Arc<str>> {
        self.lsets
            .get(lset as usize)?
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| v)
    }

    /// `k=v,k2=v2`.
    pub fn lset_text(&self, lset: u32) -> String {
        let mut s = String::new();
        for (i, (k, v)) in self
            .lsets
            .get(lset as usize)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if i > 0 {
                s.push(',');
            }
            s.push_str(k);
            s.push('=');
            s.push_str(v);
        }
        s
    }
}

fn kind_of(metric: &str) -> u32 {
    if metric == "up" || metric == "meta_leader" {
        KIND_SPECIAL
    } else if counters().any(|(m, _)| m == metric) {
        KIND_COUNTER
    } else if gauge_diffs().any(|(m, _)| m == metric) {
        KIND_GAUGE_DIFF
    } else if MIN_AGG.contains(&metric) {
        KIND_MIN
    } else {
        KIND_GAUGE
    }
}

/// Row columns before polars.
struct Cols {
    ts: Vec<i64>,
    node: Vec<u32>,
    metric: Vec<u32>,
    lset: Vec<u32>,
    ep: Vec<u32>,
    kind: Vec<u32>,
    value: Vec<f64>,
}

pub(super) fn build(samples: Vec<Vec<Sample>>) -> MetricSet {
    match try_build(samples) {
        Ok(set) => set,
        // polars errors here would be bugs (schema is fixed); fail soft, loudly.
        Err(e) => panic!("building the metric set failed: {e}"),
    }
}

fn try_build(files: Vec<Vec<Sample>>) -> PolarsResult<MetricSet> {
    let n = files.iter().map(Vec::len).sum();
    let mut rows = Rows::new(server_names(&files), n);
    // File by file: each file's samples are freed once in the columns.
    for s in files.into_iter().flat_map(Vec::into_iter) {
        if INTERNAL.contains(&&**s.metric()) && &**s.metric() != "meta_leader" {
            continue;
        }
        rows.push(s);
    }
    let Rows { c, dict, .. } = rows;
    let raw = raw_frame(c, &dict)?;
    let mut series = canonical_series(&raw, &dict)?;
    let derived = derive::derive(&raw, &dict, &mut series)?;
    let span = series
        .values()
        .flat_map(|m| m.values())
        .filter_map(Series::span)
        .reduce(|a, b| Span::new(a.start.min(b.start), a.end.max(b.end)));
    Ok(MetricSet {
        series,
        gaps: derived.gaps,
        raw,
        dict,
        span,
    })
}

/// server_id → server_name, from snapshots that carry both.
fn server_names(files: &[Vec<Sample>]) -> HashMap<Arc<str>, Arc<str>> {
    let mut id_names: HashMap<Arc<str>, Arc<str>> = HashMap::new();
    for s in files.iter().flatten() {
        if &**s.metric() == "server_id_seen"
            && let (Some(n), Some((_, id))) = (
                s.node(),
                s.labels().iter().find(|(k, _)| &**k == "server_id"),
            )
        {
            id_names.insert(id.clone(), n.clone());
        }
    }
    id_names
}

/// Shared label sets (by address) → (the set, its id, its server_id).
type LsetEntry = (crate::parse::metric::Labels, u32, Option<Arc<str>>);

/// Samples → integer columns: names and label sets as dictionary ids, the
/// node resolved from a `server_id` label where there is one.
struct Rows {
    c: Cols,
    dict: Dicts,
    id_names: HashMap<Arc<str>, Arc<str>>,
    unknown: Arc<str>,
    /// Per-metric kind cache, and a one-entry cache on Arc pointers (samples
    /// of one file share their names).
    kinds: Vec<u32>,
    last_node: Option<(Arc<str>, u32)>,
    last_metric: Option<(Arc<str>, u32)>,
    /// Endpoint rank per label set id.
    lset_ep: Vec<u32>,
    lset_cache: HashMap<usize, LsetEntry>,
}

impl Rows {
    fn new(id_names: HashMap<Arc<str>, Arc<str>>, n: usize) -> Rows {
        let mut dict = Dicts::default();
        dict.lset_id(Vec::new());
        Rows {
            c: Cols {
                ts: Vec::with_capacity(n),
                node: Vec::with_capacity(n),
                metric: Vec::with_capacity(n),
                lset: Vec::with_capacity(n),
                ep: Vec::with_capacity(n),
                kind: Vec::with_capacity(n),
                value: Vec::with_capacity(n),
            },
            dict,
            id_names,
            unknown: Arc::from(UNKNOWN_NODE),
            kinds: Vec::new(),
            last_node: None,
            last_metric: None,
            lset_ep: vec![0],
            lset_cache: HashMap::new(),
        }
    }

    fn push(&mut self, s: Sample) {
        let mut node = s.node().cloned();
        let lid = self.label_set(s.labels(), &mut node);
        let node = node.unwrap_or_else(|| self.unknown.clone());
        let nid = match &self.last_node {
            Some((a, i)) if Arc::ptr_eq(a, &node) => *i,
            _ => {
                let i = self.dict.node_id(&node);
                self.last_node = Some((node, i));
                i
            }
        };
        let mid = match &self.last_metric {
            Some((a, i)) if Arc::ptr_eq(a, s.metric()) => *i,
            _ => {
                let i = self.dict.metric_id(s.metric());
                if self.kinds.len() <= i as usize {
                    self.kinds.push(kind_of(s.metric()));
                }
                self.last_metric = Some((s.metric().clone(), i));
                i
            }
        };
        if self.lset_ep.len() <= lid as usize {
            let ep = self
                .dict
                .label(lid, "endpoint")
                .map_or(0, |e| endpoint_rank(e));
            self.lset_ep.push(ep);
        }
        let c = &mut self.c;
        c.ts.push(s.ts.0);
        c.node.push(nid);
        c.metric.push(mid);
        c.lset.push(lid);
        c.ep.push(self.lset_ep[lid as usize]);
        c.kind.push(self.kinds[mid as usize]);
        c.value.push(s.value);
    }

    /// The id of the label set without `server_id`; `node` becomes the
    /// server's name (or its id, when the sample had no node) when the set
    /// has a `server_id`.
    fn label_set(
        &mut self,
        labels: &crate::parse::metric::Labels,
        node: &mut Option<Arc<str>>,
    ) -> u32 {
        let ptr = Arc::as_ptr(labels) as *const u8 as usize;
        if let Some((_, lid, id)) = self.lset_cache.get(&ptr) {
            if let Some(id) = id {
                resolve_node(&self.id_names, id, node);
            }
            return *lid;
        }
        let mut rest = labels.to_vec();
        let id = rest
            .iter()
            .position(|(k, _)| &**k == "server_id")
            .map(|i| rest.remove(i).1);
        if let Some(id) = &id {
            resolve_node(&self.id_names, id, node);
        }
        let lid = self.dict.lset_id(rest);
        // The cache holds the set alive, so its address is not reused.
        self.lset_cache.insert(ptr, (labels.clone(), lid, id));
        lid
    }
}

/// A sample's node from its `server_id`: the server's name when known, else
/// the id when the sample names no node.
fn resolve_node(
    id_names: &HashMap<Arc<str>, Arc<str>>,
    id: &Arc<str>,
    node: &mut Option<Arc<str>>,
) {
    match id_names.get(id) {
        Some(name) => *node = Some(name.clone()),
        None if node.is_none() => *node = Some(id.clone()),
        None => {}
    }
}

/// The deduplicated long frame: rows sorted by (node, metric, label set, time),
/// one per key and time (the last one read), with their kind, and whether
/// they come from the preferred endpoint (`keep`) of a (node, metric) with
/// several label sets (`multi`).
fn raw_frame(c: Cols, dict: &Dicts) -> PolarsResult<DataFrame> {
    // Row keys: `nm` = (node, metric), `key` = (node, metric, label set), so
    // polars sorts on two integer columns instead of four.
    if dict.nodes.len() >= 1 << 20 || dict.metrics.len() >= 1 << 20 || dict.lsets.len() >= 1 << 24 {
        return Err(PolarsError::ComputeError(
            "too many nodes, metrics or label sets".into(),
        ));
    }
    let nm: Vec<u64> = c
        .node
        .iter()
        .zip(&c.metric)
        .map(|(&n, &m)| (u64::from(n) << 20) | u64::from(m))
        .collect();
    let key: Vec<u64> = nm
        .iter()
        .zip(&c.lset)
        .map(|(&k, &l)| (k << 24) | u64::from(l))
        .collect();
    // Keep one source endpoint per (node, metric); flag (node, metric)s that
    // have several label sets left (they need aggregation).
    let mut best: HashMap<u64, (u32, u32, bool)> = HashMap::new(); // nm → (min ep, lset, multi)
    for (i, &key) in nm.iter().enumerate() {
        let e = best.entry(key).or_insert((c.ep[i], c.lset[i], false));
        if c.ep[i] < e.0 {
            *e = (c.ep[i], c.lset[i], false);
        } else if c.ep[i] == e.0 && c.lset[i] != e.1 {
            e.2 = true;
        }
    }
    let keep: Vec<bool> = (0..nm.len()).map(|i| c.ep[i] == best[&nm[i]].0).collect();
    let multi: Vec<bool> = nm.iter().map(|k| best[k].2).collect();
    drop(best);
    // Sorted by (key, time), stable (among duplicates the last one read stays
    // last), then a row is dropped when the next one has the same key and
    // time. Done on row numbers before polars sees the rows: sorting the
    // frame would copy every column at once, the largest allocation of the
    // metric set (each column here is copied and freed in turn).
    let rows = u32::try_from(c.ts.len())
        .map_err(|_| PolarsError::ComputeError("too many samples".into()))?;
    let mut order: Vec<u32> = (0..rows).collect();
    order.sort_by_key(|&i| (key[i as usize], c.ts[i as usize]));
    let same =
        |a: u32, b: u32| key[a as usize] == key[b as usize] && c.ts[a as usize] == c.ts[b as usize];
    let mut last = Vec::with_capacity(order.len());
    for (p, &i) in order.iter().enumerate() {
        if order.get(p + 1).is_none_or(|&next| !same(i, next)) {
            last.push(i);
        }
    }
    drop(order);
    drop(key); // only the sort and deduplication read it
    let height = last.len();
    let df = DataFrame::new(
        height,
        vec![
            Column::new("ts".into(), pick(c.ts, &last)),
            Column::new("nm".into(), pick(nm, &last)),
            Column::new("node".into(), pick(c.node, &last)),
            Column::new("metric".into(), pick(c.metric, &last)),
            Column::new("lset".into(), pick(c.lset, &last)),
            Column::new("kind".into(), pick(c.kind, &last)),
            Column::new("keep".into(), pick(keep, &last)),
            Column::new("multi".into(), pick(multi, &last)),
            Column::new("value".into(), pick(c.value, &last)),
        ],
    )?;
    Ok(df)
}

/// The rows `at` of a column, in that order (the column is freed).
fn pick<T: Copy>(col: Vec<T>, at: &[u32]) -> Vec<T> {
    at.iter().map(|&i| col[i as usize]).collect()
}

/// Canonical series from the raw frame: label sets aggregated per timestamp
/// where a metric has several, then counters → rates.
fn canonical_series(
    raw: &DataFrame,
    dict: &Dicts,
) -> PolarsResult<BTreeMap<Arc<str>, BTreeMap<Arc<str>, Series>>> {
    canonical_sliced(raw, dict, CANON_SLICE_ROWS)
}

/// [`canonical_series`], made `rows` rows (rounded up to whole series) at a time.
fn canonical_sliced(
    raw: &DataFrame,
    dict: &Dicts,
    rows: usize,
) -> PolarsResult<BTreeMap<Arc<str>, BTreeMap<Arc<str>, Series>>> {
    let mut series: BTreeMap<Arc<str>, BTreeMap<Arc<str>, Series>> = BTreeMap::new();
    for (offset, len) in nm_slices(raw, rows)? {
        canonical_part(&raw.slice(offset as i64, len), dict, &mut series)?;
    }
    Ok(series)
}

/// Rows per slice of the raw frame made canonical at once: each slice's
/// intermediate frames are freed before the next is built, so the metric
/// set's peak follows the slice, not the dumps (one frame of every sample
/// was the largest allocation after ingestion).
const CANON_SLICE_ROWS: usize = 1 << 18;

/// `(offset, len)` of consecutive slices of about `rows` rows, cut where
/// (node, metric) changes: the frame is sorted by it, so each series lies
/// whole in one slice.
fn nm_slices(raw: &DataFrame, rows: usize) -> PolarsResult<Vec<(usize, usize)>> {
    let nm = raw.column("nm")?.u64()?;
    let height = raw.height();
    let mut out = Vec::new();
    let mut start = 0;
    while start < height {
        let mut end = (start + rows).min(height);
        if end < height {
            let cut = nm.get(end - 1);
            while end < height && nm.get(end) == cut {
                end += 1;
            }
        }
        out.push((start, end - start));
        start = end;
    }
    Ok(out)
}

/// [`canonical_series`] of a slice holding whole series.
fn canonical_part(
    raw: &DataFrame,
    dict: &Dicts,
    series: &mut BTreeMap<Arc<str>, BTreeMap<Arc<str>, Series>>,
) -> PolarsResult<()> {
    let base = raw
        .clone()
        .lazy()
        .filter(col("keep").and(col("kind").neq(lit(KIND_SPECIAL))));
    let single = base.clone().filter(col("multi").not()).select([
        col("nm"),
        col("ts"),
        col("value"),
        col("kind"),
    ]);
    let multi = base
        .filter(col("multi"))
        .group_by([col("nm"), col("ts")])
        .agg([
            col("value").sum().alias("vsum"),
            col("value").min().alias("vmin"),
            col("kind").first().alias("kind"),
        ])
        .select([
            col("nm"),
            col("ts"),
            when(col("kind").eq(lit(KIND_MIN)))
                .then(col("vmin"))
                .otherwise(col("vsum"))
                .alias("value"),
            col("kind"),
        ])
        .sort_by_exprs([col("nm"), col("ts")], SortMultipleOptions::default());
    for lf in [single, multi] {
        let canon = with_rates(lf).collect()?;
        add_series(&canon, dict, series)?;
    }
    Ok(())
}

/// Adds `rate`: per-second change from the previous row of the same series,
/// for counters (never negative: a reset gives no point) and gauge diffs.
fn with_rates(lf: LazyFrame) -> LazyFrame {
    let same = col("nm").eq(col("nm").shift(lit(1)));
    let dv = col("value") - col("value").shift(lit(1));
    let dt = (col("ts") - col("ts").shift(lit(1))).cast(DataType::Float64);
    let ok = same.and(dt.clone().gt(lit(0.0))).and(
        col("kind").eq(lit(KIND_GAUGE_DIFF)).or(col("kind")
            .eq(lit(KIND_COUNTER))
            .and(dv.clone().gt_eq(lit(0.0)))),
    );
    lf.with_column(
        when(ok)
            .then(dv / dt * lit(1e9))
            .otherwise(lit(NULL))
            .cast(DataType::Float64)
            .alias("rate"),
    )
}

/// Sorted `(nm, ts, value, rate)` rows → one series per run of `nm`, plus the
/// rate series of counters. Read chunk by chunk, as polars left the columns
/// (making each contiguous first would copy all four).
fn add_series(
    canon: &DataFrame,
    dict: &Dicts,
    series: &mut BTreeMap<Arc<str>, BTreeMap<Arc<str>, Series>>,
) -> PolarsResult<()> {
    let ts = canon.column("ts")?.i64()?;
    let nm = canon.column("nm")?.u64()?;
    let value = canon.column("value")?.f64()?;
    let rate = canon.column("rate")?.f64()?;
    let rows = nm
        .into_no_null_iter()
        .zip(ts.into_no_null_iter())
        .zip(value.into_no_null_iter())
        .zip(rate.iter());
    // The run of one `nm`: its points and its rate points.
    let mut run: Option<(u64, Vec<Point>, Vec<Point>)> = None;
    for (((k, t), v), r) in rows {
        let ts = Timestamp(t);
        match &mut run {
            Some((cur, points, rates)) if *cur == k => {
                points.push(Point { ts, value: v });
                rates.extend(r.map(|value| Point { ts, value }));
            }
            _ => {
                if let Some((cur, points, rates)) = run.take() {
                    add_run(cur, points, rates, dict, series);
                }
                let rates = r.map(|value| Point { ts, value }).into_iter().collect();
                run = Some((k, vec![Point { ts, value: v }], rates));
            }
        }
    }
    if let Some((cur, points, rates)) = run {
        add_run(cur, points, rates, dict, series);
    }
    Ok(())
}

/// One (node, metric)'s points, and its rate series when it is a counter.
fn add_run(
    k: u64,
    points: Vec<Point>,
    rpoints: Vec<Point>,
    dict: &Dicts,
    series: &mut BTreeMap<Arc<str>, BTreeMap<Arc<str>, Series>>,
) {
    let node_name = dict.nodes[(k >> 20) as usize].clone();
    let metric_name = dict.metrics[(k & 0xF_FFFF) as usize].clone();
    let entry = series.entry(node_name.clone()).or_default();
    if let Some(rname) = counter_rate(&metric_name)
        && !rpoints.is_empty()
    {
        let rname: Arc<str> = Arc::from(rname);
        entry.insert(
            rname.clone(),
            Series::new(node_name.clone(), rname, rpoints),
        );
    }
    entry.insert(
        metric_name.clone(),
        Series::new(node_name, metric_name, points),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::metric::Sample;

    /// Counters (rates), gauges, a metric with two label sets (aggregated
    /// per timestamp) and a duplicate timestamp, over two nodes.
    fn samples() -> Vec<Vec<Sample>> {
        let mut out = Vec::new();
        for node in ["n1", "n2"] {
            let node: Arc<str> = Arc::from(node);
            let mut v = Vec::new();
            for t in 0..50i64 {
                let ts = Timestamp(t * 1_000_000_000);
                let n = Some(node.clone());
                v.push(Sample::new(
                    ts,
                    n.clone(),
                    "js_api_total".into(),
                    (t * t) as f64,
                    Arc::new([]),
                ));
                v.push(Sample::new(
                    ts,
                    n.clone(),
                    "cpu".into(),
                    (t % 7) as f64,
                    Arc::new([]),
                ));
                for stream in ["a", "b"] {
                    let labels: crate::parse::metric::Labels =
                        Arc::new([(Arc::from("stream"), Arc::from(stream))]);
                    v.push(Sample::new(
                        ts,
                        n.clone(),
                        "stream_msgs".into(),
                        t as f64,
                        labels,
                    ));
                }
                if t % 10 == 0 {
                    v.push(Sample::new(ts, n.clone(), "cpu".into(), 99.0, Arc::new([])));
                }
            }
            out.push(v);
        }
        out
    }

    #[test]
    fn series_made_in_slices_equal_those_made_at_once() {
        let mut rows = Rows::new(HashMap::new(), 0);
        for s in samples().into_iter().flatten() {
            rows.push(s);
        }
        let Rows { c, dict, .. } = rows;
        let raw = raw_frame(c, &dict).unwrap();
        let whole = canonical_sliced(&raw, &dict, usize::MAX).unwrap();
        assert_eq!(nm_slices(&raw, usize::MAX).unwrap().len(), 1);
        let n = whole.values().map(BTreeMap::len).sum::<usize>();
        assert!(n >= 6, "{whole:?}");
        for rows in [1, 7, 60] {
            let slices = nm_slices(&raw, rows).unwrap();
            assert!(slices.len() > 1, "{rows}");
            assert_eq!(
                slices.iter().map(|s| s.1).sum::<usize>(),
                raw.height(),
                "{rows}"
            );
            assert_eq!(
                canonical_sliced(&raw, &dict, rows).unwrap(),
                whole,
                "{rows}"
            );
        }
    }
}
