//! CSV metric dumps with a header row.
//!
//! * long: `ts,node,metric,value[,label...]` (any extra column is a label);
//! * wide: `ts[,node],col,...`: every other column is a metric, e.g. the
//!   sampler's `nN.proc.csv` (`ts,node,pid,state,cpu_pct,rss_kb,...`) and
//!   `host.csv` (`ts,load1,...`).
//!
//! Known columns get canonical names (`cpu_pct` → `proc_cpu`, `rss_kb` →
//! `proc_rss` in bytes, `state` → `proc_stopped`/`proc_absent`, ...); others
//! become `csv_<column>`. A file without a node column whose name starts with
//! `host` belongs to the pseudo-node `@host`, never a cluster node.

use super::names::canonical_prom;
use super::{Ctx, base_name, parse_time};
use std::io::BufRead;
use std::sync::Arc;

const TIME_COLS: &[&str] = &["ts", "time", "timestamp", "datetime", "fetched_at", "date"];
const NODE_COLS: &[&str] = &["node", "server", "server_name", "instance"];

/// Pseudo-node for host-level series.
pub const HOST_NODE: &str = "@host";

fn header_cols(first: &str) -> Vec<String> {
    first
        .split(',')
        .map(|c| c.trim().trim_matches('"').trim().to_ascii_lowercase())
        .collect()
}

/// A CSV header with a time column and identifier-like column names.
pub(crate) fn looks_like_header(first: &str) -> bool {
    let cols = header_cols(first.trim_start_matches('\u{feff}'));
    cols.len() >= 2
        && cols.iter().any(|c| TIME_COLS.contains(&c.as_str()))
        && cols.iter().all(|c| {
            !c.is_empty()
                && c.len() <= 64
                && c.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "_-. /%".contains(ch))
        })
}

/// Canonical name and scale for a wide-CSV column.
fn wide_column(col: &str) -> (String, f64) {
    let (m, scale) = match col {
        "cpu_pct" | "cpu" | "cpu_percent" => ("proc_cpu", 1.0),
        "rss_kb" => ("proc_rss", 1024.0),
        "rss" | "rss_bytes" => ("proc_rss", 1.0),
        "threads" | "num_threads" => ("threads", 1.0),
        "fds" | "open_fds" => ("fds", 1.0),
        "pid" => ("proc_pid", 1.0),
        "vol_ctxt_sw" => ("proc_vol_ctxt_sw", 1.0),
        "nonvol_ctxt_sw" => ("proc_nonvol_ctxt_sw", 1.0),
        "cg_quota_us" => ("cg_quota_us", 1.0),
        "cg_nr_periods" => ("cg_nr_periods", 1.0),
        "cg_nr_throttled" => ("cg_nr_throttled", 1.0),
        "cg_throttled_ms" => ("cg_throttled_ms", 1.0),
        "load1" => ("host_load1", 1.0),
        "load5" => ("host_load5", 1.0),
        "load15" => ("host_load15", 1.0),
        "host_cpu_busy_pct" => ("host_cpu", 1.0),
        "mem_available_kb" => ("host_mem_available", 1024.0),
        "procs_running" => ("host_procs_running", 1.0),
        _ => return (format!("csv_{}", sanitize(col)), 1.0),
    };
    (m.to_string(), scale)
}

fn sanitize(col: &str) -> String {
    col.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

pub(super) fn parse(cx: &mut Ctx, reader: &mut dyn BufRead) {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut records = rdr.byte_records();
    // Header.
    let header = match records.next() {
        None => return,
        Some(Err(e)) => {
            cx.report.lines_read += 1;
            let what = if e.is_io_error() {
                "read error"
            } else {
                "unreadable CSV header"
            };
            cx.unparsed(1, format!("{what}: {e}"));
            return;
        }
        Some(Ok(h)) => h,
    };
    let cols: Vec<String> = header
        .iter()
        .map(|c| {
            String::from_utf8_lossy(c)
                .trim()
                .trim_start_matches('\u{feff}')
                .trim_matches('"')
                .to_ascii_lowercase()
        })
        .collect();
    cx.report.lines_read += 1;
    let Some(tcol) = cols.iter().position(|c| TIME_COLS.contains(&c.as_str())) else {
        cx.unparsed(1, "CSV header has no time column (ts, time, timestamp)");
        return;
    };
    cx.report.lines_parsed += 1;
    let ncol = cols.iter().position(|c| NODE_COLS.contains(&c.as_str()));
    let mcol = cols.iter().position(|c| c == "metric" || c == "name");
    let vcol = cols.iter().position(|c| c == "value");
    let file_node: Option<Arc<str>> =
        if ncol.is_none() && base_name(&cx.name).to_ascii_lowercase().starts_with("host") {
            Some(cx.intern(HOST_NODE))
        } else {
            cx.node_hint.clone()
        };
    let long = mcol.zip(vcol);
    let wide: Vec<(usize, String, f64)> = cols
        .iter()
        .enumerate()
        .filter(|(i, c)| *i != tcol && Some(*i) != ncol && c.as_str() != "state")
        .map(|(i, c)| {
            let (m, s) = wide_column(c);
            (i, m, s)
        })
        .collect();
    let state_col = cols.iter().position(|c| c == "state");
    let label_cols: Vec<(usize, Arc<str>)> = match long {
        Some((m, v)) => cols
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != tcol && Some(*i) != ncol && *i != m && *i != v)
            .map(|(i, c)| (i, cx.intern(c)))
            .collect(),
        None => Vec::new(),
    };
    let mut next_line = 2u64;
    for rec in records {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = next_line;
                next_line += 1;
                cx.report.lines_read = line;
                if e.is_io_error() {
                    // The stream ended early (truncated gzip, a limit): stop.
                    cx.unparsed(line, format!("read error: {e}"));
                    break;
                }
                cx.unparsed(line, format!("bad CSV record: {e}"));
                continue;
            }
        };
        // Own line count: the csv crate miscounts CRLF files. A quoted field
        // may span lines.
        let line = next_line;
        let embedded: usize = rec
            .iter()
            .map(|f| memchr::memchr_iter(b'\n', f).count())
            .sum();
        next_line += 1 + embedded as u64;
        cx.report.lines_read = next_line - 1;
        let cell = |i: usize| {
            rec.get(i)
                .map(|b| String::from_utf8_lossy(b).trim().to_string())
        };
        let Some(tcell) = cell(tcol) else {
            cx.unparsed(line, "record has no time field");
            continue;
        };
        let Some(ts) = parse_time(&tcell) else {
            cx.unparsed(line, format!("bad time `{tcell}`"));
            continue;
        };
        let node: Option<Arc<str>> = match ncol.and_then(cell).filter(|s| !s.is_empty()) {
            Some(n) => Some(cx.intern(&n)),
            None => file_node.clone(),
        };
        cx.set_node(&node);
        if let Some((m, v)) = long {
            let (Some(name), Some(val)) = (cell(m), cell(v)) else {
                cx.unparsed(line, "record lacks the metric or value field");
                continue;
            };
            if val.is_empty() {
                cx.report.lines_parsed += 1;
                continue;
            }
            let Ok(x) = val.parse::<f64>() else {
                cx.unparsed(line, format!("bad value `{val}`"));
                continue;
            };
            let map = canonical_prom(&name);
            let labels: Vec<(Arc<str>, Arc<str>)> = label_cols
                .iter()
                .filter_map(|(i, k)| {
                    let v = cell(*i)?;
                    (!v.is_empty()).then(|| (k.clone(), cx.intern(&v)))
                })
                .collect();
            cx.report.lines_parsed += 1;
            cx.push(ts, &node, &map.metric, x * map.scale + map.offset, &labels);
            continue;
        }
        cx.report.lines_parsed += 1;
        if let Some(state) = state_col.and_then(cell).filter(|s| !s.is_empty()) {
            let s = state.to_ascii_lowercase();
            let absent = matches!(s.as_str(), "absent" | "x" | "z" | "dead" | "none" | "-");
            cx.push(
                ts,
                &node,
                "proc_absent",
                if absent { 1.0 } else { 0.0 },
                &[],
            );
            if !absent {
                let stopped = s == "t" || s.starts_with("t ") || s == "stopped";
                cx.push(
                    ts,
                    &node,
                    "proc_stopped",
                    if stopped { 1.0 } else { 0.0 },
                    &[],
                );
            }
        }
        for (i, m, scale) in &wide {
            let Some(v) = cell(*i).filter(|s| !s.is_empty()) else {
                continue;
            };
            if let Ok(x) = v.parse::<f64>() {
                cx.push(ts, &node, m, x * scale, &[]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert!(looks_like_header("ts,node,pid,state,cpu_pct"));
        assert!(looks_like_header("timestamp,node,metric,value"));
        assert!(!looks_like_header(
            "[123] 2026/01/01 12:00:00.000 [INF] hello, world"
        ));
        assert!(!looks_like_header("a,b,c"));
    }
}
