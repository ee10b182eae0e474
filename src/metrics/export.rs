//! The long frame and its writers; resampling to a common grid.

use super::ExportError;
use super::names::is_derived;
use super::{MetricSet, Resampled};
use crate::model::{Nanos, Timestamp};
use polars::prelude::*;
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

/// Which rows to export: empty lists mean everything.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    pub metrics: Vec<String>,
    pub nodes: Vec<String>,
}

impl Selection {
    pub fn all() -> Selection {
        Selection::default()
    }

    pub fn wants_metric(&self, m: &str) -> bool {
        self.metrics.is_empty() || self.metrics.iter().any(|x| x == m)
    }

    pub fn wants_node(&self, n: &str) -> bool {
        self.nodes.is_empty() || self.nodes.iter().any(|x| x == n)
    }
}

/// `coroner metrics --format`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Csv,
    Json,
    Parquet,
}

struct Row {
    ts: i64,
    node: Arc<str>,
    metric: Arc<str>,
    value: f64,
    labels: String,
}

/// Rows of the long frame: samples as read (deduplicated) plus derived series.
fn rows(set: &MetricSet, sel: &Selection) -> Result<Vec<Row>, ExportError> {
    let d = &set.dict;
    let mut out = Vec::new();
    let raw = &set.raw;
    let ts = raw.column("ts")?.i64()?;
    let node = raw.column("node")?.u32()?;
    let metric = raw.column("metric")?.u32()?;
    let lset = raw.column("lset")?.u32()?;
    let value = raw.column("value")?.f64()?;
    let node_ok: Vec<bool> = d.nodes.iter().map(|n| sel.wants_node(n)).collect();
    let metric_ok: Vec<bool> = d.metrics.iter().map(|m| sel.wants_metric(m)).collect();
    let mut ltext: HashMap<u32, String> = HashMap::new();
    for ((((t, n), m), l), v) in ts
        .into_no_null_iter()
        .zip(node.into_no_null_iter())
        .zip(metric.into_no_null_iter())
        .zip(lset.into_no_null_iter())
        .zip(value.into_no_null_iter())
    {
        if !node_ok[n as usize] || !metric_ok[m as usize] {
            continue;
        }
        let labels = ltext.entry(l).or_insert_with(|| d.lset_text(l)).clone();
        out.push(Row {
            ts: t,
            node: d.nodes[n as usize].clone(),
            metric: d.metrics[m as usize].clone(),
            value: v,
            labels,
        });
    }
    for (n, ms) in &set.series {
        if !sel.wants_node(n) {
            continue;
        }
        for (m, s) in ms {
            let derived = is_derived(m);
            if !derived || !sel.wants_metric(m) {
                continue;
            }
            out.extend(s.points.iter().map(|p| Row {
                ts: p.ts.0,
                node: n.clone(),
                metric: m.clone(),
                value: p.value,
                labels: String::new(),
            }));
        }
    }
    out.sort_by(|a, b| {
        (&a.node, &a.metric, &a.labels, a.ts).cmp(&(&b.node, &b.metric, &b.labels, b.ts))
    });
    Ok(out)
}

pub(super) fn long_frame(set: &MetricSet, sel: &Selection) -> Result<DataFrame, ExportError> {
    let rows = rows(set, sel)?;
    let n = rows.len();
    let ts: Vec<i64> = rows.iter().map(|r| r.ts).collect();
    let node: Vec<&str> = rows.iter().map(|r| &*r.node).collect();
    let metric: Vec<&str> = rows.iter().map(|r| &*r.metric).collect();
    let value: Vec<f64> = rows.iter().map(|r| r.value).collect();
    let labels: Vec<&str> = rows.iter().map(|r| r.labels.as_str()).collect();
    let time = Column::new("time".into(), ts).cast(&DataType::Datetime(
        TimeUnit::Nanoseconds,
        Some(TimeZone::UTC),
    ))?;
    Ok(DataFrame::new(
        n,
        vec![
            time,
            Column::new("node".into(), node),
            Column::new("metric".into(), metric),
            Column::new("value".into(), value),
            Column::new("labels".into(), labels),
        ],
    )?)
}

pub(super) fn write_csv(
    set: &MetricSet,
    sel: &Selection,
    out: &mut dyn Write,
) -> Result<(), ExportError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["time", "node", "metric", "value", "labels"])?;
    for r in rows(set, sel)? {
        w.write_record([
            Timestamp(r.ts).rfc3339().as_str(),
            &r.node,
            &r.metric,
            &r.value.to_string(),
            &r.labels,
        ])?;
    }
    w.flush()?;
    Ok(())
}

pub(super) fn write_json(
    set: &MetricSet,
    sel: &Selection,
    out: &mut dyn Write,
) -> Result<(), ExportError> {
    for r in rows(set, sel)? {
        let labels: serde_json::Map<String, serde_json::Value> = r
            .labels
            .split(',')
            .filter(|s| !s.is_empty())
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), serde_json::Value::from(v)))
            .collect();
        let obj = serde_json::json!({
            "time": Timestamp(r.ts).rfc3339(),
            "node": &*r.node,
            "metric": &*r.metric,
            "value": r.value,
            "labels": labels,
        });
        serde_json::to_writer(&mut *out, &obj)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

pub(super) fn write_parquet(
    set: &MetricSet,
    sel: &Selection,
    out: &mut dyn Write,
) -> Result<(), ExportError> {
    let mut df = long_frame(set, sel)?;
    ParquetWriter::new(out)
        .with_compression(ParquetCompression::Uncompressed)
        .finish(&mut df)?;
    Ok(())
}

pub(super) fn resample(set: &MetricSet, metric: &str, step: Nanos) -> Resampled {
    let step = step.max(1);
    let nodes: Vec<Arc<str>> = set
        .nodes()
        .into_iter()
        .filter(|n| set.series(n, metric).is_some())
        .collect();
    let mut out = Resampled {
        metric: Arc::from(metric),
        step,
        times: Vec::new(),
        nodes: nodes.clone(),
        values: vec![Vec::new(); nodes.len()],
    };
    let (mut ts, mut nd, mut val) = (Vec::new(), Vec::new(), Vec::new());
    for (i, n) in nodes.iter().enumerate() {
        if let Some(s) = set.series(n, metric) {
            for p in &s.points {
                ts.push(p.ts.0);
                nd.push(i as u32);
                val.push(p.value);
            }
        }
    }
    let (Some(&lo), Some(&hi)) = (ts.iter().min(), ts.iter().max()) else {
        return out;
    };
    let t0 = lo.div_euclid(step) * step;
    let buckets = ((hi - t0) / step + 1) as usize;
    out.times = (0..buckets)
        .map(|k| Timestamp(t0 + k as i64 * step))
        .collect();
    for v in &mut out.values {
        *v = vec![None; buckets];
    }
    let grouped = (|| -> PolarsResult<DataFrame> {
        let n = ts.len();
        let time =
            Column::new("ts".into(), ts).cast(&DataType::Datetime(TimeUnit::Nanoseconds, None))?;
        let df = DataFrame::new(
            n,
            vec![
                time,
                Column::new("node".into(), nd),
                Column::new("value".into(), val),
            ],
        )?;
        let every = Duration::parse(&format!("{step}ns"));
        df.lazy()
            .sort_by_exprs([col("node"), col("ts")], SortMultipleOptions::default())
            .group_by_dynamic(
                col("ts"),
                [col("node")],
                DynamicGroupOptions {
                    index_column: "ts".into(),
                    every,
                    period: every,
                    offset: Duration::parse("0ns"),
                    label: Label::Left,
                    include_boundaries: false,
                    closed_window: ClosedWindow::Left,
                    start_by: StartBy::WindowBound,
                },
            )
            .agg([col("value").mean().alias("value")])
            .with_column(col("ts").cast(DataType::Int64))
            .collect()
    })();
    let Ok(g) = grouped else { return out };
    let (Ok(t), Ok(n), Ok(v)) = (g.column("ts"), g.column("node"), g.column("value")) else {
        return out;
    };
    let (Ok(t), Ok(n), Ok(v)) = (t.i64(), n.u32(), v.f64()) else {
        return out;
    };
    for ((t, n), v) in t.iter().zip(n.iter()).zip(v.iter()) {
        let (Some(t), Some(n), Some(v)) = (t, n, v) else {
            continue;
        };
        let k = ((t - t0) / step) as usize;
        if let Some(slot) = out
            .values
            .get_mut(n as usize)
            .and_then(|row| row.get_mut(k))
        {
            *slot = Some(v);
        }
    }
    out
}
