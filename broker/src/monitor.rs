//! The monitoring side: what a once-per-interval sampler fetching /varz, /jsz,
//! /healthz and /routez (plus /proc) records, in the capture wrapper format
//! `{"fetched_at","elapsed_ms","http_status","body"}` / `{"fetched_at","elapsed_ms","error"}`,
//! and optional Prometheus text in prometheus-nats-exporter names.
//!
//! Bodies are written by hand into reused buffers (no serde in the hot path).

use crate::clock::{MS, Micros, SEC, TsFmt, TsStyle, my_uptime, write_rfc3339_nanos};
use crate::cluster::META_STALE;
use crate::logger::{Level, json_str};
use crate::model::{GroupKind, Proc};
use crate::sim::{Sim, log};
use anyhow::{Context, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

const REFUSED: &str = "URLError: <urlopen error [Errno 111] Connection refused>";
const TIMEOUT: &str = "TimeoutError: timed out";

struct NodeFiles {
    varz: BufWriter<File>,
    jsz: BufWriter<File>,
    healthz: BufWriter<File>,
    routez: BufWriter<File>,
    proc_csv: BufWriter<File>,
    prom: Option<Vec<Vec<u8>>>,
    first_sample: bool,
}

pub struct Monitor {
    files: Vec<NodeFiles>,
    names: Vec<String>,
    ts: TsFmt,
    buf: Vec<u8>,
    lines: u64,
    dir: std::path::PathBuf,
}

/// Prometheus families written with --prometheus: (metric suffix after `gnatsd_`, help).
const PROM: &[&str] = &[
    "varz_cpu",
    "varz_mem",
    "varz_connections",
    "varz_total_connections",
    "varz_routes",
    "varz_slow_consumers",
    "varz_in_msgs",
    "varz_out_msgs",
    "varz_in_bytes",
    "varz_out_bytes",
    "varz_jetstream_stats_memory",
    "varz_jetstream_stats_storage",
    "varz_jetstream_config_max_storage",
    "varz_jetstream_stats_api_total",
    "varz_jetstream_stats_api_errors",
    "varz_jetstream_meta_cluster_size",
    "varz_jetstream_meta_pending",
    "healthz_status",
];

fn bw(path: &Path) -> Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(
        1 << 18,
        File::create(path).with_context(|| format!("creating {}", path.display()))?,
    ))
}

impl Monitor {
    pub fn create(out: &Path, names: &[String], prometheus: bool) -> Result<Monitor> {
        let m = out.join("metrics");
        let mut files = Vec::new();
        for n in names {
            let mut proc_csv = bw(&m.join(format!("{n}.proc.csv")))?;
            proc_csv.write_all(b"ts,node,pid,state,cpu_pct,rss_kb,threads,fds,vol_ctxt_sw,nonvol_ctxt_sw,cg_quota_us,cg_nr_periods,cg_nr_throttled,cg_throttled_ms\n")?;
            files.push(NodeFiles {
                varz: bw(&m.join(format!("{n}.varz.jsonl")))?,
                jsz: bw(&m.join(format!("{n}.jsz.jsonl")))?,
                healthz: bw(&m.join(format!("{n}.healthz.jsonl")))?,
                routez: bw(&m.join(format!("{n}.routez.jsonl")))?,
                proc_csv,
                prom: prometheus.then(|| vec![Vec::new(); PROM.len()]),
                first_sample: true,
            });
        }
        Ok(Monitor {
            files,
            names: names.to_vec(),
            ts: TsFmt::new(TsStyle::Rfc3339Millis),
            buf: Vec::with_capacity(8192),
            lines: 0,
            dir: m,
        })
    }

    pub fn finish(&mut self) -> Result<u64> {
        for (k, f) in self.files.iter_mut().enumerate() {
            f.varz.flush()?;
            f.jsz.flush()?;
            f.healthz.flush()?;
            f.routez.flush()?;
            f.proc_csv.flush()?;
            if let Some(fams) = &f.prom {
                let mut w = bw(&self.dir.join(format!("{}.prom", self.names[k])))?;
                for (i, name) in PROM.iter().enumerate() {
                    writeln!(
                        w,
                        "# HELP gnatsd_{name} {}",
                        name.split_once('_').map(|x| x.1).unwrap_or(name)
                    )?;
                    writeln!(w, "# TYPE gnatsd_{name} gauge")?;
                    w.write_all(&fams[i])?;
                }
                w.flush()?;
            }
        }
        Ok(self.lines)
    }
}

fn elapsed(out: &mut Vec<u8>, ms: f64) {
    let _ = write!(out, "{:.1}", ms);
}

/// `15`, `15.3` — Go prints float64 JSON with the shortest form.
fn num(out: &mut Vec<u8>, v: f64) {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let _ = write!(out, "{}", v as i64);
    } else {
        let _ = write!(out, "{v}");
    }
}

impl Sim {
    /// One sampler round over all nodes.
    pub fn sample(&mut self, t: Micros) {
        for i in 0..self.p.nodes {
            let base = t + (i as Micros) * 4 * MS + self.jit(600);
            self.sample_node(i, base);
        }
    }

    fn wrapper_head(&mut self, at: Micros, ms: f64) {
        let m = &mut self.mon;
        m.buf.clear();
        m.buf.extend_from_slice(b"{\"fetched_at\":\"");
        m.ts.write(at, &mut m.buf);
        m.buf.extend_from_slice(b"\",\"elapsed_ms\":");
        elapsed(&mut m.buf, ms);
    }

    fn error_line(&mut self, at: Micros, ms: f64, err: &str) {
        self.wrapper_head(at, ms);
        let m = &mut self.mon;
        m.buf.extend_from_slice(b",\"error\":");
        json_str(err, &mut m.buf);
        m.buf.extend_from_slice(b"}\n");
    }

    fn emit(&mut self, i: usize, which: u8) {
        let f = &mut self.mon.files[i];
        let w = match which {
            0 => &mut f.varz,
            1 => &mut f.jsz,
            2 => &mut f.healthz,
            _ => &mut f.routez,
        };
        let _ = w.write_all(&self.mon.buf);
        self.mon.lines += 1;
    }

    fn sample_node(&mut self, i: usize, t: Micros) {
        let interval = self.opts.metrics_interval as f64 / SEC as f64;
        let state = self.nodes[i].state;
        // CPU over the last interval, as /proc and /varz see it.
        {
            let n = &mut self.nodes[i];
            n.cpu_pct = ((n.cpu_window / interval) * 1000.0).round() / 10.0;
            n.cpu_window = 0.0;
        }
        match state {
            Proc::Down => {
                for k in 0..4u8 {
                    let ms = 0.4 + self.rng.f64() * 1.1;
                    self.error_line(t + k as Micros * MS, ms, REFUSED);
                    self.emit(i, k);
                }
            }
            Proc::Frozen => {
                for k in 0..4u8 {
                    let ms = 2000.5 + self.rng.f64() * 4.0;
                    self.error_line(t + k as Micros * MS, ms, TIMEOUT);
                    self.emit(i, k);
                }
                self.nodes[i].pending_probes += 1;
            }
            Proc::Running => {
                let lat = self.nodes[i].io_latency;
                for k in 0..4u8 {
                    let at = t + k as Micros * MS;
                    let ms =
                        0.4 + self.rng.f64() * 2.2 + lat * 1000.0 * (0.6 + 0.4 * self.rng.f64());
                    self.nodes[i].io_backlog += crate::model::cost::HTTP;
                    match k {
                        0 => self.nodes[i].http_varz += 1,
                        1 => self.nodes[i].http_jsz += 1,
                        2 => self.nodes[i].http_healthz += 1,
                        _ => self.nodes[i].http_routez += 1,
                    }
                    if ms >= 2000.0 {
                        let ms = 2000.5 + self.rng.f64() * 4.0;
                        self.error_line(at, ms, TIMEOUT);
                        self.emit(i, k);
                        if k == 2 {
                            let when = at + (lat * SEC as f64) as Micros;
                            self.answer_probe(i, when);
                        }
                        continue;
                    }
                    self.wrapper_head(at, ms);
                    let now = at + (ms * 1000.0) as Micros - 300;
                    match k {
                        0 => self.varz_body(i, now),
                        1 => self.jsz_body(i, now),
                        2 => {
                            let err = self.answer_probe(i, now);
                            let m = &mut self.mon;
                            match err {
                                None => m.buf.extend_from_slice(
                                    b",\"http_status\":200,\"body\":{\"status\":\"ok\"}}\n",
                                ),
                                Some(e) => {
                                    m.buf.extend_from_slice(b",\"http_status\":503,\"body\":{\"status\":\"unavailable\",\"error\":");
                                    json_str(&e, &mut m.buf);
                                    m.buf.extend_from_slice(b"}}\n");
                                }
                            }
                        }
                        _ => self.routez_body(i, now),
                    }
                    self.emit(i, k);
                }
            }
        }
        self.proc_row(i, t + 13 * MS);
        self.mon.files[i].first_sample = state == Proc::Down && self.nodes[i].lifetimes == 0;
    }

    /// Evaluates /healthz on node `i` and logs the failure as nats-server does.
    pub fn answer_probe(&mut self, i: usize, t: Micros) -> Option<String> {
        let err = self.healthz_error(i, t);
        if let Some(e) = &err {
            log!(self, i, t, Wrn, "Healthcheck failed: \"{e}\"");
        }
        err
    }

    fn healthz_error(&mut self, i: usize, t: Micros) -> Option<String> {
        let meta = &self.groups[0];
        let node = &self.nodes[i];
        if !node.meta.ever {
            return Some("JetStream has not established contact with a meta leader".into());
        }
        let view = meta.view[i];
        match view {
            None => return Some("JetStream has not established contact with a meta leader".into()),
            Some(l) => {
                let stale = l != i && t - meta.contact[i] > META_STALE;
                let leader_gone = !self.nodes[l].running() || meta.leader != Some(l);
                if stale
                    || (l != i && leader_gone && t - meta.contact[i] > META_STALE)
                    || meta.lag[i] >= 0.5
                {
                    return Some("JetStream is not current with the meta leader".into());
                }
            }
        }
        let reasons = self.p.version.healthz_reasons();
        // Replicas behind their leader (or without one). Consumers are checked
        // first half of the time, like a map walk would.
        let consumers_first = self.rng.chance(0.6);
        for pass in 0..2 {
            let want = if (pass == 0) == consumers_first {
                GroupKind::Consumer
            } else {
                GroupKind::Stream
            };
            for g in self.groups.iter().skip(1) {
                if g.kind != want {
                    continue;
                }
                let Some(s) = g.slot(i) else { continue };
                let no_leader = g.view[s].is_none() || g.leader.is_none();
                if g.lag[s] >= 0.5 || (no_leader && g.replicas.len() > 1) {
                    let what = if g.kind == GroupKind::Stream {
                        "stream"
                    } else {
                        "consumer"
                    };
                    let why = if reasons {
                        if no_leader {
                            ": group node unhealthy"
                        } else {
                            ": stream catching up"
                        }
                    } else {
                        ""
                    };
                    return Some(format!(
                        "JetStream {what} '{}' is not current{why}",
                        g.asset
                    ));
                }
            }
        }
        None
    }

    fn meta_json(&mut self, i: usize, now: Micros, key_replicas: bool) {
        let v = self.p.version;
        let g = &self.groups[0];
        let m = &mut self.mon.buf;
        m.extend_from_slice(b"{\"name\":");
        json_str(&self.p.cluster, m);
        if let Some(l) = g.view[i] {
            m.extend_from_slice(b",\"leader\":\"");
            m.extend_from_slice(self.names[l].as_bytes());
            m.extend_from_slice(b"\",\"peer\":\"");
            m.extend_from_slice(self.raft_ids[l].as_bytes());
            m.push(b'"');
            if l == i && key_replicas {
                m.extend_from_slice(b",\"replicas\":[");
                let mut first = true;
                for (s, &r) in g.replicas.iter().enumerate() {
                    if r == i {
                        continue;
                    }
                    if !first {
                        m.push(b',');
                    }
                    first = false;
                    let running = self.nodes[r].running();
                    let current = running && g.lag[s] < 0.5 && g.view[s] == Some(i);
                    let active = ((now - g.contact[s]).max(0) * 1000) + (s as i64 * 4547);
                    let _ = write!(m, "{{\"name\":\"{}\",\"current\":{current}", self.names[r]);
                    if !current && !running {
                        m.extend_from_slice(b",\"offline\":true");
                    }
                    let _ = write!(m, ",\"active\":{active}");
                    if g.lag[s] >= 0.5 {
                        let _ = write!(m, ",\"lag\":{}", g.lag[s] as u64);
                    }
                    let _ = write!(m, ",\"peer\":\"{}\"}}", self.raft_ids[r]);
                }
                m.push(b']');
            }
        }
        let _ = write!(m, ",\"cluster_size\":{}", self.p.nodes);
        if v.has_api_queue_limit() {
            let _ = write!(m, ",\"pending\":{}", self.nodes[i].api_q.len());
        }
        m.push(b'}');
    }

    fn js_stats(&self, i: usize) -> (f64, f64, u32, u32, f64, f64) {
        let mut streams = 0;
        let mut consumers = 0;
        let mut msgs = 0.0;
        let mut bytes = 0.0;
        for g in self.groups.iter().skip(1) {
            let Some(s) = g.slot(i) else { continue };
            match g.kind {
                GroupKind::Stream => {
                    streams += 1;
                    let behind = g.lag[s].min(g.msgs);
                    msgs += g.msgs - behind;
                    bytes += (g.msgs - behind) * if g.msgs > 0.0 { g.bytes / g.msgs } else { 0.0 };
                }
                GroupKind::Consumer => consumers += 1,
                GroupKind::Meta => {}
            }
        }
        let n = &self.nodes[i];
        (
            n.mem_used,
            n.store_used.min(bytes.max(n.store_used)),
            streams,
            consumers,
            msgs,
            bytes,
        )
    }

    fn js_config(&mut self, i: usize) {
        let name = &self.names[i];
        let n = &self.nodes[i];
        let _ = write!(
            self.mon.buf,
            "{{\"max_memory\":{},\"max_storage\":{},\"store_dir\":\"/data/{name}/jetstream\",\"compress_ok\":true}}",
            n.max_memory, n.max_storage
        );
    }

    fn varz_body(&mut self, i: usize, now: Micros) {
        let np = self.p.nodes;
        let routes = (0..np)
            .filter(|&j| j != i && self.net.side_open(i, j))
            .count();
        let (mem, storage, _, _, _, _) = self.js_stats(i);
        let hosted = self.groups.hosted(i);
        let name = self.names[i].clone();
        self.varz_config(i, routes, &name);
        self.js_config(i);
        {
            let n = &self.nodes[i];
            let m = &mut self.mon.buf;
            let _ = write!(
                m,
                ",\"stats\":{{\"memory\":{},\"storage\":{},\"reserved_memory\":0,\"reserved_storage\":0,\"accounts\":1,\"ha_assets\":{},\"api\":{{\"total\":{},\"errors\":{}}}}},\"meta\":",
                mem as u64,
                storage as u64,
                hosted + 1,
                n.api_total,
                n.api_errors
            );
        }
        self.meta_json(i, now, true);
        self.varz_runtime(i, now, routes, hosted, &name);
        self.push_prom(i, now);
    }

    /// /varz up to the JetStream config: identity, ports, limits, cluster
    /// and MQTT settings.
    fn varz_config(&mut self, i: usize, routes: usize, name: &str) {
        let v = self.p.version;
        let np = self.p.nodes;
        let n = &self.nodes[i];
        let m = &mut self.mon.buf;
        let _ = write!(
            m,
            ",\"http_status\":200,\"body\":{{\"server_id\":\"{}\",\"server_name\":\"{name}\",\"version\":\"{v}\",\"proto\":1,\"go\":\"{}\",\"host\":\"127.0.0.1\",\"port\":{},\"auth_required\":true,",
            n.server_id,
            crate::version::go_version(v),
            14221 + i
        );
        if routes > 0 {
            m.extend_from_slice(b"\"connect_urls\":[");
            for k in 0..np {
                if k > 0 {
                    m.push(b',');
                }
                let _ = write!(m, "\"127.0.0.1:{}\"", 14221 + (i + k) % np);
            }
            m.extend_from_slice(b"],");
        }
        let _ = write!(
            m,
            "\"max_connections\":65536,\"ping_interval\":{},\"ping_max\":{},\"http_host\":\"127.0.0.1\",\"http_port\":{},\"http_base_path\":\"\",\"https_port\":0,\"auth_timeout\":2,\"max_control_line\":4096,\"max_payload\":1048576,\"max_pending\":{},\"cluster\":{{\"name\":\"{}\",\"addr\":\"127.0.0.1\",\"cluster_port\":{},\"auth_timeout\":2,\"urls\":[",
            self.p.ping_interval * 1000,
            self.p.ping_max,
            18221 + i,
            self.p.max_pending,
            self.p.cluster,
            16221 + i
        );
        for k in 0..np {
            if k > 0 {
                m.push(b',');
            }
            let _ = write!(m, "\"127.0.0.1:{}\"", 16221 + k);
        }
        let _ = write!(
            m,
            "],\"tls_timeout\":2}},\"gateway\":{{}},\"leaf\":{{}},\"mqtt\":{{\"host\":\"127.0.0.1\",\"port\":{},\"tls_timeout\":2}},\"websocket\":{{}},\"jetstream\":{{\"config\":",
            11881 + i
        );
    }

    /// /varz after the JetStream part: start, uptime, memory, CPU, traffic
    /// and connection counters, request stats.
    fn varz_runtime(&mut self, i: usize, now: Micros, routes: usize, hosted: u32, name: &str) {
        let v = self.p.version;
        let n = &self.nodes[i];
        let m = &mut self.mon.buf;
        let _ = write!(
            m,
            "}},\"tls_timeout\":2,\"write_deadline\":{},\"start\":\"",
            self.p.write_deadline * 1000
        );
        write_rfc3339_nanos(n.started, (n.pid * 7919) % 1000, m);
        m.extend_from_slice(b"\",\"now\":\"");
        write_rfc3339_nanos(now, (now as u32).wrapping_mul(2_654_435_761) % 1000, m);
        m.extend_from_slice(b"\",\"uptime\":\"");
        my_uptime((now - n.started) / SEC, m);
        let subs = 54 + 99 * (routes > 0) as u32 + 37 * hosted + n.connections as u32 * 2;
        let _ = write!(
            m,
            "\",\"mem\":{},\"cores\":{},\"gomaxprocs\":{},\"cpu\":",
            n.rss as u64,
            self.p.cores.ceil() as u32,
            self.p.cores.ceil() as u32
        );
        num(m, n.cpu_pct);
        let _ = write!(
            m,
            ",\"connections\":{},\"total_connections\":{},\"routes\":{routes},\"remotes\":{routes},\"leafnodes\":0,\"in_msgs\":{},\"out_msgs\":{},\"in_bytes\":{},\"out_bytes\":{},\"slow_consumers\":{}",
            n.connections,
            n.total_connections,
            n.in_msgs as u64,
            n.out_msgs as u64,
            n.in_bytes as u64,
            n.out_bytes as u64,
            n.slow_consumers
        );
        if v.at_least(2, 10, 0) {
            let _ = write!(
                m,
                ",\"slow_consumer_stats\":{{\"clients\":{},\"routes\":{},\"gateways\":0,\"leafs\":0}}",
                n.sc_clients, n.sc_routes
            );
        }
        let _ = write!(
            m,
            ",\"subscriptions\":{subs},\"http_req_stats\":{{\"/healthz\":{},\"/jsz\":{},\"/routez\":{},\"/varz\":{}}},\"config_load_time\":\"",
            n.http_healthz, n.http_jsz, n.http_routez, n.http_varz
        );
        write_rfc3339_nanos(n.started, (n.pid * 7919) % 1000, m);
        let _ = writeln!(
            m,
            "\",\"tags\":[\"node:{name}\"],\"system_account\":\"SYS\"}}}}"
        );
    }

    fn jsz_body(&mut self, i: usize, now: Micros) {
        let (mem, storage, streams, consumers, msgs, bytes) = self.js_stats(i);
        let hosted = self.groups.hosted(i);
        {
            let n = &self.nodes[i];
            let m = &mut self.mon.buf;
            let _ = write!(
                m,
                ",\"http_status\":200,\"body\":{{\"server_id\":\"{}\",\"now\":\"",
                n.server_id
            );
            write_rfc3339_nanos(now, (now as u32).wrapping_mul(40503) % 1000, m);
            m.extend_from_slice(b"\",\"config\":");
        }
        self.js_config(i);
        {
            let n = &self.nodes[i];
            let m = &mut self.mon.buf;
            let _ = write!(
                m,
                ",\"memory\":{},\"storage\":{},\"reserved_memory\":0,\"reserved_storage\":0,\"accounts\":1,\"ha_assets\":{},\"api\":{{\"total\":{},\"errors\":{}}},\"streams\":{streams},\"consumers\":{consumers},\"messages\":{},\"bytes\":{},\"meta_cluster\":",
                mem as u64,
                storage as u64,
                hosted + 1,
                n.api_total,
                n.api_errors,
                msgs as u64,
                bytes as u64
            );
        }
        self.meta_json(i, now, true);
        let n = &self.nodes[i];
        let m = &mut self.mon.buf;
        let _ = writeln!(
            m,
            ",\"account_details\":[{{\"name\":\"APP\",\"id\":\"APP\",\"memory\":{},\"storage\":{},\"reserved_memory\":18446744073709551615,\"reserved_storage\":18446744073709551615,\"accounts\":0,\"ha_assets\":0,\"api\":{{\"total\":{},\"errors\":{}}}}}]}}}}",
            mem as u64, storage as u64, n.api_total, n.api_errors
        );
    }

    fn routez_body(&mut self, i: usize, now: Micros) {
        let np = self.p.nodes;
        let with_name = self.p.version.at_least(2, 9, 16);
        let open: Vec<usize> = (0..np)
            .filter(|&j| j != i && self.net.side_open(i, j))
            .collect();
        let sides: Vec<(usize, usize)> = open.iter().map(|&j| self.net.idx(i, j)).collect();
        let m = &mut self.mon.buf;
        let _ = write!(
            m,
            ",\"http_status\":200,\"body\":{{\"server_id\":\"{}\",\"now\":\"",
            self.nodes[i].server_id
        );
        write_rfc3339_nanos(now, (now as u32).wrapping_mul(7) % 1000, m);
        let _ = write!(m, "\",\"num_routes\":{},\"routes\":[", open.len());
        for (k, &j) in open.iter().enumerate() {
            let (li, s) = sides[k];
            let l = &self.net[li];
            if k > 0 {
                m.push(b',');
            }
            let port = l.addr[s].rsplit(':').next().unwrap_or("0");
            let _ = write!(
                m,
                "{{\"rid\":{},\"remote_id\":\"{}\",",
                l.rid[s], self.nodes[j].server_id
            );
            if with_name {
                let _ = write!(m, "\"remote_name\":\"{}\",", self.names[j]);
            }
            let _ = write!(
                m,
                "\"did_solicit\":{},\"is_configured\":true,\"ip\":\"127.0.0.1\",\"port\":{port},\"start\":\"",
                l.did_solicit[s]
            );
            write_rfc3339_nanos(l.since, (l.rid[s] as u32 * 131) % 1000, m);
            m.extend_from_slice(b"\",\"last_activity\":\"");
            write_rfc3339_nanos(l.last_in[s].max(l.last_out[s]).min(now), 0, m);
            let rtt = if self.net.can_talk(i, j) {
                "0s"
            } else {
                "1.002s"
            };
            let _ = write!(m, "\",\"rtt\":\"{rtt}\",\"uptime\":\"");
            my_uptime((now - l.since) / SEC, m);
            m.extend_from_slice(b"\",\"idle\":\"");
            my_uptime((now - l.last_in[s]).max(0) / SEC, m);
            let _ = write!(
                m,
                "\",\"pending_size\":{},\"in_msgs\":{},\"out_msgs\":{},\"in_bytes\":{},\"out_bytes\":{},\"subscriptions\":{}}}",
                l.pending[s] as u64,
                l.in_msgs[s] as u64,
                l.out_msgs[s] as u64,
                l.in_bytes[s] as u64,
                l.out_bytes[s] as u64,
                54 + 37 * self.groups.hosted(j)
            );
        }
        m.extend_from_slice(b"]}}\n");
    }

    fn proc_row(&mut self, i: usize, t: Micros) {
        let first = self.mon.files[i].first_sample;
        let name = self.names[i].clone();
        let n = &self.nodes[i];
        let m = &mut self.mon.buf;
        m.clear();
        self.mon.ts.write(t, m);
        let _ = write!(m, ",{name},{},", n.pid);
        match n.state {
            Proc::Down => {
                m.extend_from_slice(b"absent,,,,,,,,,,\n");
            }
            st => {
                let letter = match st {
                    Proc::Frozen => 'T',
                    _ if n.io_latency > 0.05 || n.api_work > 0.01 => 'R',
                    _ => 'S',
                };
                let _ = write!(m, "{letter},");
                if !first {
                    let pct = if st == Proc::Frozen {
                        0.0
                    } else {
                        n.cpu_pct.round()
                    };
                    let _ = write!(m, "{pct:.1}");
                }
                let threads = 8
                    + (self.p.cores as u32).min(8) / 2
                    + (n.io_latency > 0.2) as u32 * 4
                    + (n.api_q.len() > 10) as u32 * 2;
                let fds = 15 + n.connections + 2 * self.groups.hosted(i) as u64 + 6;
                let _ = write!(
                    m,
                    ",{},{threads},{fds},{},{},",
                    (n.rss / 1024.0) as u64,
                    n.ctx_vol as u64,
                    n.ctx_nonvol as u64
                );
                if n.quota > 0.0 || (n.cg_periods > 0) {
                    let _ = writeln!(
                        m,
                        "{},{},{},{}",
                        (n.quota.max(0.0) * 100_000.0) as u64,
                        n.cg_periods,
                        n.cg_throttled,
                        n.cg_throttled_ms as u64
                    );
                } else {
                    m.extend_from_slice(b",,,\n");
                }
            }
        }
        let _ = self.mon.files[i].proc_csv.write_all(&self.mon.buf);
        self.mon.lines += 1;
        let _ = self.mon.files[i].first_sample;
    }

    fn push_prom(&mut self, i: usize, now: Micros) {
        if self.mon.files[i].prom.is_none() {
            return;
        }
        let n = &self.nodes[i];
        let routes = (0..self.p.nodes)
            .filter(|&j| j != i && self.net.side_open(i, j))
            .count();
        let healthy = self.healthz_probe_state(i);
        let vals = [
            n.cpu_pct,
            n.rss,
            n.connections as f64,
            n.total_connections as f64,
            routes as f64,
            n.slow_consumers as f64,
            n.in_msgs.floor(),
            n.out_msgs.floor(),
            n.in_bytes.floor(),
            n.out_bytes.floor(),
            n.mem_used.floor(),
            n.store_used.floor(),
            n.max_storage as f64,
            n.api_total as f64,
            n.api_errors as f64,
            self.p.nodes as f64,
            n.api_q.len() as f64,
            if healthy { 0.0 } else { 1.0 },
        ];
        let port = 18221 + i;
        let ms = now / 1000;
        let with_pending = self.p.version.has_api_queue_limit();
        let Some(fams) = self.mon.files[i].prom.as_mut() else {
            return;
        };
        for (k, v) in vals.iter().enumerate() {
            if PROM[k] == "varz_jetstream_meta_pending" && !with_pending {
                continue;
            }
            let out = &mut fams[k];
            let _ = write!(
                out,
                "gnatsd_{}{{server_id=\"http://127.0.0.1:{port}\"}} ",
                PROM[k]
            );
            if v.fract() == 0.0 && v.abs() < 1e6 {
                let _ = write!(out, "{}", *v as i64);
            } else {
                let _ = write!(out, "{:e}", v);
            }
            let _ = writeln!(out, " {ms}");
        }
    }

    fn healthz_probe_state(&self, i: usize) -> bool {
        let g = &self.groups[0];
        self.nodes[i].meta.ever && g.view[i].is_some() && g.lag[i] < 0.5
    }
}

/// Silences an unused-import lint for `Level` when the log! macro is not expanded.
#[allow(dead_code)]
fn _level(_: Level) {}
