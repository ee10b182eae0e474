//! Metric dumps → samples. (Interim interface; the metrics work replaces it.)

use crate::model::Timestamp;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Sample {
    pub ts: Timestamp,
    pub node: Option<Arc<str>>,
    pub metric: Arc<str>,
    pub value: f64,
    pub labels: Vec<(Arc<str>, Arc<str>)>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MetricFormat {
    JsonSnapshots,
    Prometheus,
    Csv,
}

#[derive(Clone, Debug, Default)]
pub struct MetricFileReport {
    pub samples: Vec<Sample>,
    pub lines_read: u64,
    pub lines_parsed: u64,
    pub unparsed: Vec<(u64, String)>,
    pub node: Option<Arc<str>>,
    pub error: Option<String>,
}

pub fn sniff(_name: &str, head: &[u8]) -> Option<MetricFormat> {
    let h = String::from_utf8_lossy(&head[..head.len().min(4096)]);
    let t = h.trim_start();
    if t.starts_with('{')
        && (t.contains("\"fetched_at\"") || t.contains("\"server_id\"") || t.contains("\"status\""))
    {
        Some(MetricFormat::JsonSnapshots)
    } else if t.starts_with("# HELP") || t.starts_with("# TYPE") {
        Some(MetricFormat::Prometheus)
    } else if t.starts_with("ts,") || t.starts_with("time,") || t.starts_with("timestamp,") {
        Some(MetricFormat::Csv)
    } else {
        None
    }
}

pub fn parse(
    _format: MetricFormat,
    _name: &str,
    _node_hint: Option<&str>,
    reader: &mut dyn std::io::BufRead,
) -> MetricFileReport {
    let mut r = MetricFileReport::default();
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        r.lines_read += 1;
        line.clear();
    }
    r
}
