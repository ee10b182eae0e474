//! NATS monitoring JSON snapshots.
//!
//! Accepted layouts, mixed freely in one file: one snapshot, JSON lines,
//! pretty-printed snapshots one after another, arrays of snapshots; each
//! snapshot bare, wrapped with a fetch time (`{"fetched_at", "body"}`, or
//! `{"fetched_at", "error"}` when the fetch failed: the node did not answer),
//! or in the `$SYS` envelope (`{"server": {...}, "data": {...}}`) of
//! `nats audit gather` archives.
//!
//! Time: the snapshot's `now`, else the wrapper's `fetched_at` plus
//! `elapsed_ms` (when the answer arrived), else the envelope's `server.time`,
//! else a time in the file name. A failed fetch is dated `fetched_at` and
//! becomes `up = 0` for the node the path names.
//!
//! Values are cut out of the stream with serde_json's `StreamDeserializer`.
//! After a syntax error the parser resynchronises on the next line that starts
//! a value at column 0, so one bad record costs one record.

use super::names::{JSZ_FIELDS, VARZ_FIELDS, shared_between_endpoints};
use super::{Ctx, parse_time};
use crate::model::Timestamp;
use serde_json::{Map, Value};
use std::io::BufRead;
use std::sync::Arc;

pub(super) fn parse(cx: &mut Ctx, reader: &mut dyn BufRead) {
    let mut st = Chunker {
        buf: String::new(),
        buf_start: 1,
        skipping: false,
    };
    let mut raw = Vec::with_capacity(4096);
    let mut line_no = 0u64;
    while cx.next_line(reader, &mut raw, &mut line_no) {
        let line = String::from_utf8_lossy(&raw);
        let starts_value = line.starts_with('{') || line.starts_with('[');
        if st.skipping {
            if !starts_value {
                continue;
            }
            st.skipping = false;
        }
        let t = line.trim();
        let col0_text = line.starts_with(|c: char| !c.is_whitespace() && c != '}' && c != ']');
        if col0_text && st.buf.starts_with('{') && !st.buf.trim().is_empty() {
            // Text at column 0 while an object is still open: the object was
            // cut (pretty-printed members are indented, JSON lines are whole).
            cx.unparsed(
                st.buf_start,
                "truncated: JSON value not closed before the next line",
            );
            st.buf.clear();
        }
        if st.buf.trim().is_empty() {
            st.buf.clear();
            st.buf_start = line_no;
            if t.is_empty() {
                cx.report.lines_parsed += 1;
                continue;
            }
            if !(t.starts_with('{') || t.starts_with('[')) {
                cx.unparsed(line_no, "not a JSON value");
                continue;
            }
        }
        st.buf.push_str(&line);
        // A value spread over lines is bounded too (256 lines' worth).
        let max_value = cx.max_line.saturating_mul(256);
        if st.buf.len() > max_value {
            cx.unparsed(
                st.buf_start,
                format!("JSON value longer than {max_value} bytes: skipped"),
            );
            st.buf.clear();
            st.skipping = true;
            continue;
        }
        let col0 = starts_value || line.starts_with('}') || line.starts_with(']');
        if col0 && (t.ends_with('}') || t.ends_with(']')) {
            st.drain(cx, false);
        }
    }
    if !st.buf.trim().is_empty() {
        st.drain(cx, true);
    }
    // An empty snapshot file named by endpoint and time
    // (`healthz-20261126T170313Z.json`): the fetch failed, the node did not answer.
    if line_no == 0
        && let (Some(ts), Some(ep)) = (cx.name_time, cx.name_endpoint)
    {
        let (ep, key) = (cx.intern(ep), cx.intern("endpoint"));
        let node = cx.node_hint.clone();
        if node.is_none() {
            cx.report.unnamed.push((0, 0));
        }
        cx.set_node(&node);
        cx.push(ts, &node, "up", 0.0, &[(key, ep)]);
    }
}

struct Chunker {
    /// Text not yet turned into values.
    buf: String,
    /// Line number of the first line of `buf`.
    buf_start: u64,
    /// After a syntax error: skip lines until one starts a value at column 0.
    skipping: bool,
}

impl Chunker {
    /// Parses every complete value in `buf`; keeps an incomplete tail unless
    /// `eof` (then it is a truncated record).
    fn drain(&mut self, cx: &mut Ctx, eof: bool) {
        loop {
            let (consumed, outcome) = {
                let mut de = serde_json::Deserializer::from_str(&self.buf).into_iter::<Value>();
                let mut consumed = 0usize;
                let outcome = loop {
                    let before = consumed;
                    match de.next() {
                        None => break Outcome::Done,
                        Some(Ok(v)) => {
                            consumed = de.byte_offset();
                            let text = &self.buf[before..consumed];
                            let lead = text.len() - text.trim_start().len();
                            let start = self.buf_start + count_nl(&self.buf[..before + lead]);
                            let span = count_nl(text.trim()) + 1;
                            cx.current_record = (start, span);
                            match handle_top(cx, &v) {
                                Ok(()) => cx.report.lines_parsed += span,
                                Err(reason) => cx.unparsed(start, reason),
                            }
                        }
                        Some(Err(e)) if e.is_eof() => break Outcome::Incomplete(consumed),
                        Some(Err(e)) => break Outcome::Error(consumed, e),
                    }
                };
                (consumed, outcome)
            };
            match outcome {
                Outcome::Done => {
                    self.buf.clear();
                    return;
                }
                Outcome::Incomplete(at) => {
                    if eof {
                        self.read_cut(cx, at);
                        self.buf.clear();
                    } else {
                        self.cut(at);
                    }
                    return;
                }
                Outcome::Error(at, e) => {
                    let start = self.value_line(at);
                    let err_line = self.buf_start + count_nl(&self.buf[..at]) + e.line() as u64 - 1;
                    let err_line = err_line.max(start);
                    cx.unparsed(err_line, format!("malformed JSON: {e}"));
                    // Resume at the next line after the bad value's first line
                    // that starts a value at column 0.
                    let from = at
                        + self.buf[at..]
                            .find(|c: char| !c.is_whitespace())
                            .unwrap_or(0);
                    let next = self.buf[from..]
                        .match_indices('\n')
                        .map(|(i, _)| from + i + 1)
                        .find(|&i| {
                            self.buf[i..].starts_with('{') || self.buf[i..].starts_with('[')
                        });
                    match next {
                        Some(i) => {
                            self.cut(i);
                            let _ = consumed;
                            continue;
                        }
                        None => {
                            self.buf.clear();
                            self.skipping = !eof;
                            return;
                        }
                    }
                }
            }
        }
    }

    /// A pretty-printed value the file ends inside of (a paste cut
    /// mid-object): what is complete in it is read, the rest is unparsed. A
    /// JSON line cut at the end (a collector stopped mid-write) stays unparsed.
    fn read_cut(&mut self, cx: &mut Ctx, at: usize) {
        let line = self.value_line(at);
        let rest = &self.buf[at..];
        let pretty = rest.trim().contains('\n');
        let Some(read) =
            crate::parse::json_prefix::read(rest).filter(|r| pretty && r.value.is_object())
        else {
            cx.unparsed(line, "truncated: JSON value not closed at end of file");
            return;
        };
        let lead = rest.len() - rest.trim_start().len();
        let used = count_nl(rest[lead..read.used].trim_end()) + 1;
        let total = count_nl(rest[lead..].trim_end()) + 1;
        cx.current_record = (line, used);
        match handle_top(cx, &read.value) {
            Ok(()) => {
                cx.report.lines_parsed += used;
                if total > used {
                    cx.unparsed(
                        line + used,
                        "truncated: the JSON value was cut here (what came before it was read)",
                    );
                }
            }
            Err(reason) => cx.unparsed(line, format!("truncated, and {reason}")),
        }
    }

    /// Line of the first non-blank character at or after byte `at`.
    fn value_line(&self, at: usize) -> u64 {
        let rest = &self.buf[at..];
        let lead = rest.len() - rest.trim_start().len();
        self.buf_start + count_nl(&self.buf[..at + lead])
    }

    fn cut(&mut self, at: usize) {
        self.buf_start += count_nl(&self.buf[..at]);
        self.buf.drain(..at);
    }
}

enum Outcome {
    Done,
    Incomplete(usize),
    Error(usize, serde_json::Error),
}

fn count_nl(s: &str) -> u64 {
    memchr::memchr_iter(b'\n', s.as_bytes()).count() as u64
}

/// Where a body came from when its wrapper tells more than the body.
#[derive(Default)]
struct Origin {
    ts: Option<Timestamp>,
    node: Option<Arc<str>>,
}

fn handle_top(cx: &mut Ctx, v: &Value) -> Result<(), String> {
    match v {
        Value::Array(items) => {
            let mut errs = Vec::new();
            for it in items {
                if let Err(e) = handle_top(cx, it) {
                    errs.push(e);
                }
            }
            match errs.len() {
                0 => Ok(()),
                n => Err(format!(
                    "{n} of {} array items unusable: {}",
                    items.len(),
                    errs[0]
                )),
            }
        }
        Value::Object(obj) => handle_object(cx, obj),
        _ => Err("top-level JSON value is not an object".into()),
    }
}

fn handle_object(cx: &mut Ctx, obj: &Map<String, Value>) -> Result<(), String> {
    if obj.contains_key("fetched_at") && (obj.contains_key("body") || obj.contains_key("error")) {
        let ts = obj
            .get("fetched_at")
            .and_then(Value::as_str)
            .and_then(parse_time);
        // An answer without its own `now` is dated when it arrived.
        let answered = ts.map(|t| {
            let ms = obj.get("elapsed_ms").and_then(Value::as_f64).unwrap_or(0.0);
            t.add((ms.max(0.0) * 1e6) as i64)
        });
        return match obj.get("body") {
            Some(Value::Object(body)) => handle_body(
                cx,
                body,
                Origin {
                    ts: answered,
                    node: None,
                },
            ),
            _ => {
                // A failed fetch: the node did not answer. A data point.
                let ts = ts
                    .or(cx.name_time)
                    .ok_or("failed fetch without a parsable `fetched_at`")?;
                let ep = cx.name_endpoint.unwrap_or("unknown");
                let ep = cx.intern(ep);
                let key = cx.intern("endpoint");
                // `coroner collect` names the server in its failure lines.
                let node = match obj.get("server_name").and_then(Value::as_str) {
                    Some(n) if !n.is_empty() => Some(cx.intern(n)),
                    _ => cx.node_hint.clone(),
                };
                if node.is_none() {
                    cx.report.unnamed.push(cx.current_record);
                }
                cx.set_node(&node);
                cx.push(ts, &node, "up", 0.0, &[(key, ep)]);
                Ok(())
            }
        };
    }
    if let Some(Value::Object(server)) = obj.get("server")
        && (obj.contains_key("data") || obj.contains_key("error"))
    {
        let ts = server
            .get("time")
            .and_then(Value::as_str)
            .and_then(parse_time);
        let node = server
            .get("name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(|s| cx.intern(s));
        return match obj.get("data") {
            Some(Value::Object(data)) => handle_body(cx, data, Origin { ts, node }),
            Some(Value::Array(items)) if !items.is_empty() => {
                for it in items {
                    if let Value::Object(data) = it {
                        handle_body(
                            cx,
                            data,
                            Origin {
                                ts,
                                node: node.clone(),
                            },
                        )?;
                    }
                }
                Ok(())
            }
            _ => {
                // The server answered, with an error: it is up.
                let ts = ts.or(cx.name_time).ok_or("$SYS envelope without a time")?;
                let node = node.or(cx.node_hint.clone());
                cx.set_node(&node);
                let ep = cx.intern(cx.name_endpoint.unwrap_or("unknown"));
                let key = cx.intern("endpoint");
                cx.push(ts, &node, "up", 1.0, &[(key, ep)]);
                Ok(())
            }
        };
    }
    handle_body(cx, obj, Origin::default())
}

/// Which monitoring endpoint produced this body, by its fields.
pub(crate) fn detect_endpoint(b: &Map<String, Value>) -> Option<&'static str> {
    let has = |k: &str| b.contains_key(k);
    if has("cpu") && has("mem") || has("in_msgs") && has("start") && has("server_id") {
        return Some("varz");
    }
    if has("meta_cluster")
        || has("account_details")
        || has("api") && (has("streams") || has("memory") || has("config"))
        || has("disabled") && has("server_id")
    {
        return Some("jsz");
    }
    if has("num_routes") || b.get("routes").is_some_and(Value::is_array) {
        return Some("routez");
    }
    if has("num_connections") || b.get("connections").is_some_and(Value::is_array) {
        return Some("connz");
    }
    if b.get("status").is_some_and(Value::is_string) && b.len() <= 6 {
        return Some("healthz");
    }
    if is_raftz(b) {
        return Some("raftz");
    }
    if is_ipqueuesz(b) {
        return Some("ipqueuesz");
    }
    None
}

/// `/raftz` (2.10.17+): account → group → Raft node state (`state`, `term`,
/// `committed`, `applied`, ...).
fn is_raftz(b: &Map<String, Value>) -> bool {
    !b.is_empty()
        && b.values().all(|groups| {
            groups.as_object().is_some_and(|g| {
                !g.is_empty()
                    && g.values().all(|n| {
                        n.get("state").is_some_and(Value::is_string) && n.get("committed").is_some()
                    })
            })
        })
}

/// `/ipqueuesz`: queue name → `{"pending": n, "in_progress": m}`.
fn is_ipqueuesz(b: &Map<String, Value>) -> bool {
    !b.is_empty()
        && b.values().all(|q| {
            q.as_object()
                .is_some_and(|o| o.get("pending").is_some_and(Value::is_number) && o.len() <= 4)
        })
}

/// The internal queue that holds JetStream API requests: `Routed JS API
/// Requests` (2.10), `JetStream API queue` (2.11+).
fn is_js_api_queue(name: &str) -> bool {
    name == "Routed JS API Requests" || name == "JetStream API queue"
}

fn handle_body(cx: &mut Ctx, b: &Map<String, Value>, o: Origin) -> Result<(), String> {
    // /raftz and /ipqueuesz bodies have no field that names them: the file name does.
    let by_name = cx
        .name_endpoint
        .filter(|e| matches!(*e, "raftz" | "ipqueuesz"));
    let ep = match detect_endpoint(b).or(by_name) {
        Some(ep) => ep,
        // `/raftz` without Raft groups, `/ipqueuesz` without a queue matching its filter.
        None if b.is_empty() && matches!(cx.name_endpoint, Some("raftz" | "ipqueuesz")) => {
            cx.name_endpoint.unwrap_or_default()
        }
        None => {
            let keys: Vec<&str> = b.keys().take(8).map(String::as_str).collect();
            return Err(format!("unknown JSON shape (keys: {})", keys.join(", ")));
        }
    };
    let now = b.get("now").and_then(Value::as_str).and_then(parse_time);
    let ts = now
        .or(o.ts)
        .or(cx.name_time)
        .ok_or("snapshot without a time (no `now`, no fetch time, no time in the file name)")?;
    let name = b
        .get("server_name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let id = b
        .get("server_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let mut base: Vec<(Arc<str>, Arc<str>)> = Vec::new();
    let node = if let Some(n) = name {
        Some(cx.intern(n))
    } else if o.node.is_some() {
        o.node.clone()
    } else {
        if let Some(id) = id {
            base.push((cx.intern("server_id"), cx.intern(id)));
        }
        cx.node_hint.clone()
    };
    if node.is_none() && base.is_empty() {
        // A body that names no server (`/healthz`, `/raftz`...) in a file whose
        // path names no node either: ingestion gives it the node the dumps
        // beside it name, or counts it unparsed (`MetricFileReport::unnamed`).
        cx.report.unnamed.push(cx.current_record);
    }
    if name.is_some() || o.node.is_some() {
        cx.report.named_by_content = true;
    } else {
        cx.report.unnamed_bodies = true;
    }
    cx.set_node(&node);
    // The id → name link, for snapshots of the same server that carry only the id.
    if let (Some(n), Some(id)) = (name, id) {
        let labels = [(cx.intern("server_id"), cx.intern(id))];
        let node = Some(cx.intern(n));
        cx.push(ts, &node, "server_id_seen", 1.0, &labels);
    }
    let mut with_ep = base.clone();
    with_ep.push((cx.intern("endpoint"), cx.intern(ep)));
    let mut e = Emit {
        cx,
        ts,
        node,
        base,
        with_ep,
    };
    e.put("up", 1.0);
    match ep {
        "varz" => {
            for (ptr, canon) in VARZ_FIELDS {
                if let Some(x) = b_num(b, ptr) {
                    e.put(canon, x);
                }
            }
            if let Some(api) = pointer(b, "/jetstream/stats/api")
                && api.get("inflight").is_none()
            {
                e.put("js_api_inflight", 0.0);
            }
            let version = b.get("version").and_then(Value::as_str);
            if let Some(r) = version.and_then(crate::model::Release::parse) {
                e.put(crate::model::SERVER_VERSION_METRIC, r.encode());
            }
            if let Some(meta) = pointer(b, "/jetstream/meta").and_then(Value::as_object) {
                e.meta(meta, version);
            }
            let start = b.get("start").and_then(Value::as_str).and_then(parse_time);
            if let Some(s) = start {
                e.put("start_time", s.as_secs_f64());
                if let Some(n) = now {
                    e.put("uptime_s", n.since(s) as f64 / 1e9);
                }
            } else if let Some(u) = b
                .get("uptime")
                .and_then(Value::as_str)
                .and_then(parse_uptime)
            {
                e.put("uptime_s", u);
            }
        }
        "jsz" => {
            for (ptr, canon) in JSZ_FIELDS {
                if let Some(x) = b_num(b, ptr) {
                    e.put(canon, x);
                }
            }
            if let Some(api) = b.get("api")
                && api.get("inflight").is_none()
            {
                e.put("js_api_inflight", 0.0);
            }
            if let Some(meta) = b.get("meta_cluster").and_then(Value::as_object) {
                e.meta(meta, None);
            }
        }
        "healthz" => {
            let ok = b.get("status").and_then(Value::as_str) == Some("ok");
            e.put("healthy", if ok { 1.0 } else { 0.0 });
        }
        "routez" => {
            let routes = b.get("routes").and_then(Value::as_array);
            let n = b
                .get("num_routes")
                .and_then(Value::as_f64)
                .or(routes.map(|r| r.len() as f64));
            if let Some(n) = n {
                e.put("routes", n);
            }
            if let Some(r) = routes {
                let pending: f64 = r
                    .iter()
                    .filter_map(|x| x.get("pending_size").and_then(Value::as_f64))
                    .sum();
                e.put("route_pending", pending);
            }
        }
        "raftz" => e.raftz(b),
        "ipqueuesz" => {
            let pending = |q: &Value| q.get("pending").and_then(Value::as_f64).unwrap_or(0.0);
            let api: Vec<f64> = b
                .iter()
                .filter(|(k, _)| is_js_api_queue(k))
                .map(|(_, q)| pending(q))
                .collect();
            if !api.is_empty() {
                e.put("ipq_js_api_pending", api.iter().sum());
            }
            if let Some(q) = b.get("JetStream API info queue") {
                e.put("ipq_js_api_info_pending", pending(q));
            }
            let max = b.values().map(pending).fold(0.0, f64::max);
            e.put("ipq_pending_max", max);
        }
        "connz" => {
            if let Some(n) = b.get("num_connections").and_then(Value::as_f64) {
                e.put("connections", n);
            }
            if let Some(c) = b.get("connections").and_then(Value::as_array) {
                let pending: f64 = c
                    .iter()
                    .filter_map(|x| x.get("pending_bytes").and_then(Value::as_f64))
                    .sum();
                e.put("conn_pending_bytes", pending);
            }
        }
        _ => {}
    }
    Ok(())
}

fn pointer<'a>(b: &'a Map<String, Value>, ptr: &str) -> Option<&'a Value> {
    let mut parts = ptr.trim_start_matches('/').split('/');
    let mut cur = b.get(parts.next()?)?;
    for p in parts {
        cur = cur.get(p)?;
    }
    Some(cur)
}

fn b_num(b: &Map<String, Value>, ptr: &str) -> Option<f64> {
    pointer(b, ptr).and_then(Value::as_f64)
}

struct Emit<'a> {
    cx: &'a mut Ctx,
    ts: Timestamp,
    node: Option<Arc<str>>,
    base: Vec<(Arc<str>, Arc<str>)>,
    with_ep: Vec<(Arc<str>, Arc<str>)>,
}

impl Emit<'_> {
    fn put(&mut self, metric: &str, v: f64) {
        let labels = if shared_between_endpoints(metric) {
            &self.with_ep
        } else {
            &self.base
        };
        self.cx.push(self.ts, &self.node, metric, v, labels);
    }

    /// `/raftz`: per node, how many Raft groups it is in, leads, has no leader
    /// for; the largest apply lag (committed - applied) and internal queue; the
    /// WAL bytes of all groups; the meta group's term.
    fn raftz(&mut self, b: &Map<String, Value>) {
        let (mut groups, mut leading, mut leaderless) = (0.0, 0.0, 0.0);
        let (mut lag, mut ipq, mut wal) = (0.0f64, 0.0f64, 0.0);
        let mut meta_term = None;
        for (gname, n) in b.values().filter_map(Value::as_object).flatten() {
            let num = |k: &str| n.get(k).and_then(Value::as_f64);
            groups += 1.0;
            if n.get("state").and_then(Value::as_str) == Some("LEADER") {
                leading += 1.0;
            }
            if n.get("leader")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                leaderless += 1.0;
            }
            if let (Some(c), Some(a)) = (num("committed"), num("applied")) {
                lag = lag.max(c - a);
            }
            for k in [
                "ipq_proposal_len",
                "ipq_entry_len",
                "ipq_resp_len",
                "ipq_apply_len",
            ] {
                ipq = ipq.max(num(k).unwrap_or(0.0));
            }
            wal += n
                .get("wal")
                .and_then(|w| w.get("bytes"))
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            if gname == "_meta_" {
                meta_term = num("term");
            }
        }
        self.put("raft_groups", groups);
        self.put("raft_leader_groups", leading);
        self.put("raft_leaderless_groups", leaderless);
        self.put("raft_apply_lag_max", lag);
        self.put("raft_ipq_max", ipq);
        self.put("raft_wal_bytes", wal);
        if let Some(t) = meta_term {
            self.put("raft_meta_term", t);
        }
    }

    /// JetStream meta group view: leader, API queue (`pending`, 2.10.21+).
    fn meta(&mut self, meta: &Map<String, Value>, version: Option<&str>) {
        let leader = meta
            .get("leader")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        self.put("meta_has_leader", if leader.is_some() { 1.0 } else { 0.0 });
        if let Some(l) = leader {
            let mut labels = self.with_ep.clone();
            labels.push((self.cx.intern("leader"), self.cx.intern(l)));
            self.cx
                .push(self.ts, &self.node, "meta_leader", 1.0, &labels);
        }
        if meta.get("pending").is_none() {
            // `omitempty`: absent means 0 on servers that have the field.
            let has_field = meta.contains_key("pending_requests")
                || version
                    .and_then(parse_version)
                    .is_some_and(|v| v >= (2, 10, 21));
            if has_field {
                self.put("js_api_pending", 0.0);
            }
        }
        if let Some(x) = meta.get("pending_requests").and_then(Value::as_f64) {
            self.put("js_api_pending_requests", x);
        }
        if let Some(x) = meta.get("pending_infos").and_then(Value::as_f64) {
            self.put("js_api_pending_infos", x);
        }
    }
}

fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let v = v.trim_start_matches('v');
    let mut it = v.split(|c: char| !c.is_ascii_digit());
    Some((
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next().and_then(|x| x.parse().ok()).unwrap_or(0),
    ))
}

/// nats-server `myUptime`: `2y3d4h5m6s`, `45s`.
fn parse_uptime(s: &str) -> Option<f64> {
    let mut total = 0.0;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += n * match c {
            'y' => 365.0 * 86400.0,
            'd' => 86400.0,
            'h' => 3600.0,
            'm' => 60.0,
            's' => 1.0,
            _ => return None,
        };
    }
    num.is_empty().then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `coroner collect` writes for /raftz, /ipqueuesz and a failed fetch.
    #[test]
    fn collect_records_for_raftz_ipqueuesz_and_failures() {
        let parse = |name: &str, text: &str| {
            let mut r = std::io::BufReader::new(text.as_bytes());
            super::super::parse(
                super::super::MetricFormat::JsonSnapshots,
                name,
                Some("n1"),
                &mut r,
            )
        };
        let raftz = r#"{"fetched_at":"2026-11-24T19:00:01.000Z","elapsed_ms":1.0,"http_status":200,"body":{"$G":{"_meta_":{"leader":"n2","term":3},"S-R3F-x":{"leader":""}}}}"#;
        let r = parse("b/metrics/n1.raftz.jsonl", raftz);
        assert!(r.unparsed.is_empty(), "{:?}", r.unparsed);
        let v = |r: &super::super::MetricFileReport, m: &str| {
            r.samples
                .iter()
                .find(|s| &**s.metric() == m)
                .map(|s| s.value)
        };
        assert_eq!(v(&r, "raft_groups"), Some(2.0));
        assert_eq!(v(&r, "raft_leaderless_groups"), Some(1.0));
        assert_eq!(v(&r, "up"), Some(1.0));
        let ipq = r#"{"fetched_at":"2026-11-24T19:00:01.000Z","elapsed_ms":1.0,"http_status":200,"body":{"JetStream API queue":{"pending":7,"in_progress":1},"Routed JS API Requests":{"pending":0}}}"#;
        let r = parse("b/metrics/n1.ipqueuesz.jsonl", ipq);
        assert!(r.unparsed.is_empty(), "{:?}", r.unparsed);
        assert_eq!(v(&r, "ipq_js_api_pending"), Some(7.0));
        // A failure names its server: it wins over the path.
        let fail = r#"{"fetched_at":"2026-11-24T19:00:02.000Z","elapsed_ms":800.2,"server_name":"nats-0.example","error":"timeout after 800ms"}"#;
        let r = parse("b/metrics/nats-0_example.varz.jsonl", fail);
        assert!(r.unparsed.is_empty(), "{:?}", r.unparsed);
        assert_eq!(r.samples[0].node().map(|n| &**n), Some("nats-0.example"));
        assert_eq!(r.samples[0].value, 0.0);
    }

    #[test]
    fn a_dated_dump_cut_mid_object_keeps_what_it_has() {
        let text = "{\n  \"server_id\": \"NX\",\n  \"server_name\": \"b2\",\n  \"now\": \"2026-01-01T00:00:00Z\",\n  \"mem\": 1048576,\n  \"cpu\": 12.5,\n  \"connections\": 7,\n  \"in_msgs\": 100,\n  \"start\": \"2025-12-31T00:00:00Z\",\n  \"routes\": 2,\n  \"jetstream\": {\n    \"config\": {\n      \"max_memory\": 10";
        let mut reader = std::io::BufReader::new(text.as_bytes());
        let r = super::super::parse(
            super::super::MetricFormat::JsonSnapshots,
            "paste/b2.varz.json",
            None,
            &mut reader,
        );
        assert!(
            r.samples
                .iter()
                .any(|s| s.value == 1048576.0 && s.node().map(|n| &**n) == Some("b2")),
            "{:?}",
            r.samples
        );
        assert_eq!(r.lines_read, 13);
        assert_eq!(r.lines_parsed, 12);
        assert_eq!(r.unparsed.len(), 1);
        assert!(
            r.unparsed[0]
                .1
                .starts_with("truncated: the JSON value was cut")
        );
    }

    #[test]
    fn uptime_and_version() {
        assert_eq!(
            parse_uptime("2d3h4m5s"),
            Some(2.0 * 86400.0 + 3.0 * 3600.0 + 245.0)
        );
        assert_eq!(parse_uptime("0s"), Some(0.0));
        assert_eq!(parse_uptime("3x"), None);
        assert_eq!(parse_version("2.10.21"), Some((2, 10, 21)));
        assert_eq!(parse_version("2.11.0-RC.1"), Some((2, 11, 0)));
    }
}

#[cfg(test)]
mod newer_endpoints {
    use super::super::{MetricFormat, parse};

    fn values(name: &str, text: &str) -> Vec<(String, f64)> {
        let r = parse(
            MetricFormat::JsonSnapshots,
            name,
            Some("n2"),
            &mut std::io::Cursor::new(text.as_bytes()),
        );
        assert!(r.unparsed.is_empty(), "{:?}", r.unparsed);
        let mut v: Vec<(String, f64)> = r
            .samples
            .iter()
            .map(|s| (s.metric().to_string(), s.value))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    #[test]
    fn raftz_groups_lag_and_meta_term() {
        // Shape of a real 2.10.26 /raftz answer (lab), two groups.
        let body = r#"{"fetched_at":"2026-12-04T15:24:10.165Z","elapsed_ms":4.9,"http_status":200,"body":{"$SYS":{"_meta_":{"id":"44jzkV9D","state":"LEADER","size":3,"quorum_needed":2,"committed":12,"applied":10,"leader":"44jzkV9D","term":3,"ipq_proposal_len":0,"ipq_entry_len":4,"ipq_resp_len":0,"ipq_apply_len":1,"wal":{"messages":2,"bytes":1812}}},"$G":{"S-R3F-abc":{"id":"44jzkV9D","state":"FOLLOWER","size":3,"quorum_needed":2,"committed":5,"applied":5,"term":1,"wal":{"bytes":100}}}}}"#;
        let v = values("metrics/n2.raftz.jsonl", body);
        let get = |m: &str| v.iter().find(|(k, _)| k == m).map(|(_, x)| *x);
        assert_eq!(get("raft_groups"), Some(2.0));
        assert_eq!(get("raft_leader_groups"), Some(1.0));
        assert_eq!(get("raft_leaderless_groups"), Some(1.0));
        assert_eq!(get("raft_apply_lag_max"), Some(2.0));
        assert_eq!(get("raft_ipq_max"), Some(4.0));
        assert_eq!(get("raft_wal_bytes"), Some(1912.0));
        assert_eq!(get("raft_meta_term"), Some(3.0));
        assert_eq!(get("up"), Some(1.0));
    }

    #[test]
    fn ipqueuesz_api_queue_of_each_release() {
        let v210 = values(
            "n2.ipqueuesz.jsonl",
            r#"{"fetched_at":"2026-12-04T15:24:09.198Z","elapsed_ms":6.0,"http_status":200,"body":{"Routed JS API Requests":{"pending":7},"delayed API responses":{"pending":0}}}"#,
        );
        assert!(v210.contains(&("ipq_js_api_pending".into(), 7.0)));
        assert!(v210.contains(&("ipq_pending_max".into(), 7.0)));
        let v215 = values(
            "n2.ipqueuesz.jsonl",
            r#"{"fetched_at":"2026-12-04T15:25:39.280Z","elapsed_ms":40.5,"http_status":200,"body":{"JetStream API info queue":{"pending":2},"JetStream API queue":{"pending":30,"in_progress":1}}}"#,
        );
        assert!(v215.contains(&("ipq_js_api_pending".into(), 30.0)));
        assert!(v215.contains(&("ipq_js_api_info_pending".into(), 2.0)));
        // No queue matched the filter: still an answer.
        let empty = values(
            "n2.ipqueuesz.jsonl",
            r#"{"fetched_at":"2026-12-04T15:25:39.280Z","elapsed_ms":1.0,"http_status":200,"body":{}}"#,
        );
        assert_eq!(
            empty,
            [
                ("ipq_pending_max".to_string(), 0.0),
                ("up".to_string(), 1.0)
            ]
        );
    }
}
