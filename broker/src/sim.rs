//! The discrete-event engine: `Sim` owns the components of the model and
//! runs the event loop — a virtual clock, one event queue ordered by (time,
//! sequence), a 50 ms tick that shares each node's CPU. Here: process
//! lifecycle, faults, CPU and memory. Elsewhere, each on `Sim`: the startup
//! banner (`banner.rs`), routes (`routes.rs`), Raft groups at work
//! (`cluster.rs`), clients and workloads (`workload.rs`), monitoring
//! (`monitor.rs`).
//!
//! The state is split into owned components with their own invariants:
//! [`Queue`] (clock and events), [`Net`] (route links, black holes, who can
//! talk), [`Groups`] (Raft groups, hosting and replication lag),
//! [`Clients`] (streams the clients use, MQTT devices, the slow subscriber),
//! [`Truth`] (the causal chain and what truth.json reports), [`Monitor`]
//! (metric files), plus the nodes and their loggers.
//!
//! Architecture invariant: nothing here reads the wall clock or iterates a hash
//! map; every random choice comes from `self.rng`. Same scenario + seed → same bytes.

use crate::clock::{MS, Micros, SEC};
use crate::groups::Groups;
use crate::logger::{Level, LogFormat, Logger};
use crate::model::{Group, GroupKind, Node, Proc, cost};
use crate::monitor::Monitor;
use crate::net::Net;
pub use crate::queue::Ev;
use crate::queue::Queue;
use crate::rng::Rng;
use crate::scenario::{Fault, Params, Scenario};
pub use crate::truth::ChainEntry;
use crate::truth::Truth;
use crate::workload::Clients;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

pub const TICK: Micros = 50 * MS;

/// Writes one log line on node `$n`: `log!(self, n, t, Wrn, "fmt", args..)`.
macro_rules! log {
    ($s:expr, $n:expr, $t:expr, $lvl:ident, $($a:tt)*) => {
        {
            let __t: Micros = $t;
            $s.logs[$n].log(__t, Level::$lvl, format_args!($($a)*))
        }
    };
}
pub(crate) use log;

/// Output options chosen on the command line.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub out: PathBuf,
    pub log_format: LogFormat,
    pub metrics_interval: Micros,
    pub prometheus: bool,
}

/// What a finished run reports back (for the CLI summary and tests).
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    pub log_lines: u64,
    pub log_bytes: u64,
    pub metric_lines: u64,
    pub events: u64,
}

pub struct Sim {
    pub(crate) p: Params,
    pub(crate) fault: Fault,
    pub(crate) rng: Rng,
    queue: Queue,
    pub(crate) names: Vec<String>,
    pub(crate) raft_ids: Vec<String>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) logs: Vec<Logger>,
    pub(crate) mon: Monitor,
    pub(crate) net: Net,
    pub(crate) groups: Groups,
    pub(crate) clients: Clients,
    pub(crate) truth: Truth,
    /// The graceful stop at the end has begun.
    pub(crate) shutting_down: bool,
    pub(crate) tick_n: u64,
    stats: RunStats,
    pub(crate) opts: RunOptions,
}

/// SHA-256 based RAFT node id as nats-server derives it from the server name.
pub fn raft_node_id(name: &str) -> String {
    use sha2::{Digest, Sha256};
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let h = Sha256::digest(name.as_bytes());
    h[..8]
        .iter()
        .map(|b| DIGITS[(b % 62) as usize] as char)
        .collect()
}

/// nats-server's `friendlyBytes`.
pub fn friendly_bytes(b: u64) -> String {
    const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
    if b < 1024 {
        return format!("{b} B");
    }
    let mut v = b as f64;
    let mut i = 0;
    v /= 1024.0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.2} {}B", UNITS[i])
}

impl Sim {
    pub fn new(sc: &Scenario, seed: u64, opts: RunOptions) -> Result<Sim> {
        let p = sc.params.clone();
        std::fs::create_dir_all(opts.out.join("metrics"))
            .with_context(|| format!("creating {}", opts.out.display()))?;
        let n = p.nodes;
        let names: Vec<String> = (1..=n).map(|i| format!("n{i}")).collect();
        let raft_ids = names.iter().map(|s| raft_node_id(s)).collect();
        let mut logs = Vec::with_capacity(n);
        for name in &names {
            let path = opts.out.join(format!("{name}.log"));
            logs.push(
                Logger::create(&path, opts.log_format, name)
                    .with_context(|| format!("creating {}", path.display()))?,
            );
        }
        let mon = Monitor::create(&opts.out, &names, opts.prometheus)?;
        let mut rng = Rng::new(seed);
        let nuid = rng.alnum(18);
        let mut nodes: Vec<Node> = (0..n).map(|_| Node::new()).collect();
        for (i, node) in nodes.iter_mut().enumerate() {
            node.max_memory = p.max_memory;
            node.max_storage = if i == p.fail_node && p.fail_max_storage > 0 {
                p.fail_max_storage
            } else {
                p.max_storage
            };
            node.next_port = 33_000 + rng.range(0, 20_000) as u32;
            node.pid = 1800 + (i as u32) * 29 + rng.range(0, 20) as u32;
        }
        let meta = Group {
            kind: GroupKind::Meta,
            asset: String::new(),
            raft: "_meta_".into(),
            replicas: (0..n).collect(),
            leader: None,
            term: 0,
            view: vec![None; n],
            contact: vec![p.start; n],
            deadline: vec![0; n],
            lag: vec![0.0; n],
            missed: vec![0.0; n],
            quorum_at: p.start,
            last_noquorum_log: i64::MIN / 2,
            memory: false,
            msgs: 0.0,
            bytes: 0.0,
        };
        let sim = Sim {
            queue: Queue::new(p.start, p.start + p.duration),
            fault: sc.fault,
            truth: Truth::new(sc, seed),
            rng,
            names,
            raft_ids,
            nodes,
            logs,
            mon,
            net: Net::new(n),
            groups: Groups::new(n, meta),
            clients: Clients::new(nuid),
            shutting_down: false,
            tick_n: 0,
            stats: RunStats::default(),
            opts,
            p,
        };
        Ok(sim)
    }

    pub fn at(&mut self, t: Micros, ev: Ev) {
        self.queue.at(t, ev);
    }

    /// Records a step of the causal chain once per key.
    pub fn chain(&mut self, t: Micros, node: Option<usize>, key: &str, what: String) {
        let node = node.map(|i| self.names[i].as_str());
        self.truth.record(t, node, key, what);
    }

    /// Logs now, or schedules the line if `t` is more than a tick ahead
    /// (a node's log must never run ahead of the clock).
    pub fn log_at(&mut self, node: usize, t: Micros, lvl: Level, msg: String) {
        if t <= self.queue.now() + TICK {
            self.logs[node].log(t, lvl, format_args!("{msg}"));
        } else {
            self.at(t, Ev::Log { node, lvl, msg });
        }
    }

    /// Recomputes who can exchange messages with whom right now.
    pub fn refresh_talk(&mut self) {
        self.net.refresh(&self.nodes);
    }

    /// Jitter inside the current tick.
    pub fn jit(&mut self, max: Micros) -> Micros {
        self.rng.range(0, max.max(0))
    }

    pub fn run(mut self) -> Result<(RunStats, Vec<ChainEntry>)> {
        self.schedule_initial();
        while let Some((t, ev)) = self.queue.pop() {
            self.stats.events += 1;
            self.handle(t, ev);
        }
        for l in &mut self.logs {
            l.flush()?;
            self.stats.log_lines += l.lines;
            self.stats.log_bytes += l.bytes;
        }
        self.stats.metric_lines = self.mon.finish()?;
        let end = self.queue.end();
        self.truth
            .write(&self.opts.out, &self.names, &self.p, end)?;
        Ok((self.stats.clone(), self.truth.chain().to_vec()))
    }

    fn schedule_initial(&mut self) {
        let s = self.p.start;
        for i in 0..self.p.nodes {
            let off = 39 * MS + (i as Micros) * 208 * MS + self.jit(6 * MS);
            self.at(s + off, Ev::Start(i));
        }
        self.at(s + TICK, Ev::Tick);
        self.at(s + 59 * MS, Ev::Sample);
        let ready = s + 1_300 * MS + (self.p.nodes as Micros) * 200 * MS;
        self.at(ready, Ev::CreateAssets);
        let fa = s + self.p.fault_at;
        match self.fault {
            Fault::None => {}
            Fault::Freeze | Fault::MqttStorm | Fault::StoreFull => {
                self.at(fa, Ev::FaultStart);
                self.at(fa + self.p.fault_for, Ev::FaultEnd);
            }
            Fault::Crash => {
                self.at(fa, Ev::FaultStart);
                self.at(fa, Ev::Kill(self.p.fail_node));
                self.at(fa + self.p.fault_for, Ev::Start(self.p.fail_node));
            }
            Fault::MemoryGrowth => self.at(fa, Ev::FaultStart),
            Fault::SlowConsumer => {
                self.at(fa, Ev::FaultStart);
                let period = self.p.fault_for + self.p.episode_gap;
                for ep in 0..self.p.episodes {
                    let st = fa + ep as Micros * period;
                    self.at(st, Ev::SlowStall(ep));
                    self.at(st + self.p.fault_for, Ev::SlowRestart(ep));
                }
            }
            Fault::RouteFlap => {
                self.at(fa, Ev::FaultStart);
                let period = self.p.flap_down + self.p.flap_up;
                for k in 0..self.p.flaps {
                    let st = fa + k as Micros * period;
                    self.at(st, Ev::FlapDown(k));
                    self.at(st + self.p.flap_down, Ev::FlapUp(k));
                }
            }
        }
        // Graceful stop at the end, one node after the other.
        let stop = self.queue.end() - 1_500 * MS - (self.p.nodes as Micros) * 450 * MS;
        self.at(stop - 300 * MS, Ev::LoadStop);
        for i in 0..self.p.nodes {
            let t = stop + (i as Micros) * 450 * MS + self.jit(40 * MS);
            self.at(t, Ev::Shutdown(i));
        }
    }

    fn handle(&mut self, t: Micros, ev: Ev) {
        match ev {
            Ev::Tick => {
                self.tick(t);
                if t + TICK <= self.queue.end() {
                    self.at(t + TICK, Ev::Tick);
                }
            }
            Ev::Start(i) => self.start_node(i, t),
            Ev::Dial {
                from,
                to,
                attempt,
                after_loss,
            } => self.dial(from, to, attempt, after_loss, t),
            Ev::RoutingCheck(i) => {
                if self.nodes[i].running() {
                    let up = (0..self.p.nodes)
                        .filter(|&j| j != i && self.net.open(i, j))
                        .count();
                    if up + 1 < self.p.nodes {
                        log!(self, i, t, Wrn, "Waiting for routing to be established...");
                    }
                }
            }
            Ev::CreateAssets => self.create_assets(t),
            Ev::Sample => {
                if !self.shutting_down {
                    self.sample(t);
                    let next = t + self.opts.metrics_interval;
                    self.at(next, Ev::Sample);
                }
            }
            Ev::FaultStart => self.fault_start(t),
            Ev::FaultEnd => self.fault_end(t),
            Ev::Kill(i) => self.kill(i, t),
            Ev::Shutdown(i) => self.shutdown(i, t),
            Ev::MqttConnect(c) => self.mqtt_connect(c, t),
            Ev::MqttResponse(c, s) => self.mqtt_response(c, s, t),
            Ev::MqttTimeout(c, s) => self.mqtt_timeout(c, s, t),
            Ev::Backend => self.backend(t),
            Ev::SlowStall(ep) => self.slow_stall(ep, t),
            Ev::SlowRestart(ep) => self.slow_restart(ep, t),
            Ev::FlapDown(k) => self.flap(k, true, t),
            Ev::FlapUp(k) => self.flap(k, false, t),
            Ev::LoadStop => self.clients.stop_load(),
            Ev::Log { node, lvl, msg } => {
                if self.nodes[node].running() {
                    self.logs[node].log(t, lvl, format_args!("{msg}"));
                }
            }
        }
    }

    // ---------------------------------------------------------------- lifecycle

    fn start_node(&mut self, i: usize, t: Micros) {
        if self.shutting_down {
            return;
        }
        let restart = self.nodes[i].lifetimes > 0;
        let sid = self.rng.server_id();
        let pid_step = self.rng.range(60, 140) as u32;
        {
            let n = &mut self.nodes[i];
            n.lifetimes += 1;
            if restart {
                n.pid += pid_step;
            }
            n.state = Proc::Running;
            n.server_id = sid;
            n.started = t;
            n.next_id = 7 + 5 * (n.lifetimes as u64 - 1);
            n.io_backlog = 0.0;
            n.route_backlog = 0.0;
            n.route_latency = 0.0;
            n.raft_backlog = 0.0;
            n.io_latency = 0.0;
            n.raft_latency = 0.0;
            n.in_msgs = 0.0;
            n.out_msgs = 0.0;
            n.in_bytes = 0.0;
            n.out_bytes = 0.0;
            n.slow_consumers = 0;
            n.sc_clients = 0;
            n.sc_routes = 0;
            n.total_connections = 0;
            n.connections = 0;
            n.mqtt_sessions = 0;
            n.api_total = 0;
            n.api_errors = 0;
            n.http_varz = 0;
            n.http_jsz = 0;
            n.http_healthz = 0;
            n.http_routez = 0;
            n.api_q.clear();
            n.api_work = 0.0;
            n.api_head_done = 0.0;
            n.mem_used = 0.0;
            n.pending_probes = 0;
            n.cpu_window = 0.0;
            n.cpu_pct = 0.0;
            n.meta = Default::default();
        }
        let pid = self.nodes[i].pid;
        self.logs[i].set_pid(pid);
        // Memory-backed streams lose their data with the process.
        for g in &mut self.groups {
            if let Some(s) = g.slot(i) {
                g.view[s] = None;
                g.contact[s] = t;
                g.deadline[s] = 0;
                if g.memory {
                    g.msgs = 0.0;
                    g.bytes = 0.0;
                }
            }
        }
        self.nodes[i].store_used = self.store_of(i);
        self.banner(i, t, restart);
        let mut tt = self.logs[i].last() + 500;
        for j in 0..self.p.nodes {
            tt += 60 + self.jit(120);
            self.at(
                tt,
                Ev::Dial {
                    from: i,
                    to: j,
                    attempt: 1,
                    after_loss: false,
                },
            );
        }
        let rc = t + 100 * MS + self.jit(3 * MS);
        self.at(rc, Ev::RoutingCheck(i));
        if restart {
            self.chain(
                t,
                Some(i),
                &format!("restart-{i}-{}", self.nodes[i].lifetimes),
                format!(
                    "{} restarted (new pid {pid}) and recovers its JetStream state",
                    self.names[i]
                ),
            );
        }
        self.refresh_talk();
    }

    /// Bytes of file-backed stream data this node holds.
    fn store_of(&self, i: usize) -> f64 {
        self.groups
            .stored_on(i)
            .min(self.nodes[i].max_storage as f64 * 1.0001)
    }

    pub fn kill(&mut self, i: usize, t: Micros) {
        if self.nodes[i].state == Proc::Down {
            return;
        }
        self.nodes[i].state = Proc::Down;
        self.nodes[i].api_q.clear();
        self.nodes[i].api_work = 0.0;
        for g in &mut self.groups {
            if let Some(s) = g.slot(i) {
                g.view[s] = None;
            }
        }
        self.groups.forget_lags(i);
        for j in 0..self.p.nodes {
            if j != i {
                self.close_link_side(i, j, t, None);
                // The peer sees EOF at once.
                if self.nodes[j].running() && !self.net.is_down(j) {
                    let tt = t - 4 * MS + self.jit(2 * MS);
                    self.close_link_side(j, i, tt, Some("Client Closed"));
                }
            }
        }
        self.refresh_talk();
    }

    fn shutdown(&mut self, i: usize, t: Micros) {
        if !self.shutting_down {
            self.shutting_down = true;
        }
        if !self.nodes[i].running() {
            return;
        }
        log!(self, i, t, Inf, "Initiating Shutdown...");
        log!(self, i, t + 16, Inf, "Initiating JetStream Shutdown...");
        let l = log!(
            self,
            i,
            t + 3_000 + self.jit(8_000),
            Inf,
            "JetStream Shutdown"
        );
        let mut tt = l;
        for j in 0..self.p.nodes {
            if j != i && self.net.side_open(i, j) {
                tt += 80 + self.jit(60);
                self.close_link_side(i, j, tt, Some("Server Shutdown"));
                if self.nodes[j].running() {
                    let dt = 100 + self.jit(300);
                    self.close_link_side(j, i, tt + dt, Some("Client Closed"));
                }
            }
        }
        log!(self, i, tt + 150, Inf, "Server Exiting..");
        self.nodes[i].state = Proc::Down;
        self.refresh_talk();
    }

    // ------------------------------------------------------------------ faults

    fn fault_start(&mut self, t: Micros) {
        let f = self.p.fail_node;
        self.truth.fault_injected(t);
        let name = self.names[f].clone();
        match self.fault {
            Fault::Freeze => {
                self.nodes[f].state = Proc::Frozen;
                self.chain(t, Some(f), "freeze", format!("{name} process frozen (SIGSTOP): it stops answering routes, Raft and monitoring"));
                self.refresh_talk();
            }
            Fault::Crash => {
                self.chain(
                    t,
                    Some(f),
                    "kill",
                    format!("{name} killed (SIGKILL): no last words in its log"),
                );
            }
            Fault::MqttStorm => {
                if self.p.cpu_quota > 0.0 {
                    self.nodes[f].quota = self.p.cpu_quota;
                    self.nodes[f].quota_since = t;
                    self.chain(
                        t,
                        Some(f),
                        "quota",
                        format!(
                            "{name} limited to {} CPU by a cgroup quota",
                            self.p.cpu_quota
                        ),
                    );
                }
                self.chain(
                    t,
                    Some(f),
                    "storm",
                    format!(
                        "{} MQTT devices start connecting to {name} at {}/s",
                        self.p.mqtt_clients, self.p.mqtt_rate
                    ),
                );
                self.start_storm(t);
            }
            Fault::StoreFull => {
                self.chain(t, Some(f), "backfill", format!("backfill job starts writing {:.0} msg/s x {:.0} B to AUDIT on {name} (max_file_store {})", self.p.backfill_rate, self.p.backfill_size, friendly_bytes(self.nodes[f].max_storage)));
            }
            Fault::SlowConsumer => {}
            Fault::RouteFlap => {}
            Fault::MemoryGrowth => {
                self.chain(t, Some(f), "cache", format!("writer starts filling the memory-backed CACHE stream on {name} at {}/s (max_memory {} > container limit {})", friendly_bytes(self.p.mem_rate as u64), friendly_bytes(self.p.max_memory), friendly_bytes(self.p.mem_limit)));
            }
            Fault::None => {}
        }
    }

    fn fault_end(&mut self, t: Micros) {
        let f = self.p.fail_node;
        match self.fault {
            Fault::Freeze => self.resume(f, t),
            Fault::MqttStorm => {
                self.nodes[f].quota = 0.0;
                self.stop_storm(t);
            }
            _ => {}
        }
    }

    /// SIGCONT: the node looks at the world it slept through.
    fn resume(&mut self, i: usize, t: Micros) {
        self.nodes[i].state = Proc::Running;
        self.refresh_talk();
        let mut tt = t + 2_500 + self.jit(1_000);
        // Streams it led lost their quorum long ago.
        for gi in 0..self.groups.len() {
            let g = &self.groups[gi];
            let Some(s) = g.slot(i) else { continue };
            if g.view[s] == Some(i) && g.leader != Some(i) {
                if g.kind == GroupKind::Stream {
                    let asset = g.asset.clone();
                    tt = log!(
                        self,
                        i,
                        tt,
                        Wrn,
                        "JetStream cluster stream '{asset}' has NO quorum, stalled"
                    );
                }
                self.groups[gi].view[s] = None;
            }
        }
        // Routes: the peers' data buffered in the sockets arrives now.
        for j in 0..self.p.nodes {
            if j == i {
                continue;
            }
            let (li, side) = self.net.idx(j, i);
            let bytes = self.net[li].pending[side];
            self.net[li].pending[side] = 0.0;
            self.net[li].blocked_since[side] = None;
            self.nodes[i].route_backlog += bytes / 600.0 * cost::ROUTE_MSG;
        }
        // Health probes queued while stopped are answered in a burst.
        let queued = std::mem::take(&mut self.nodes[i].pending_probes);
        let learn_after = 3.min(queued);
        for k in 0..queued {
            if k == learn_after {
                for gi in 0..self.groups.len() {
                    self.scan_group(gi, tt + 900);
                }
            }
            tt += 200 + self.jit(400);
            self.answer_probe(i, tt);
        }
        self.chain(
            t,
            Some(i),
            "resume",
            format!("{} resumed (SIGCONT) and catches up", self.names[i]),
        );
    }

    fn flap(&mut self, k: usize, down: bool, t: Micros) {
        let f = self.p.fail_node;
        self.net.set_down(f, down);
        if down {
            let what = format!(
                "network of {} black-holed (outage {} of {})",
                self.names[f],
                k + 1,
                self.p.flaps
            );
            self.chain(t, Some(f), &format!("flap-{k}"), what);
        }
        self.refresh_talk();
    }

    // ---------------------------------------------------------------- the tick

    fn tick(&mut self, t: Micros) {
        self.tick_n += 1;
        let dt = TICK as f64 / SEC as f64;
        self.workload(t, dt);
        for i in 0..self.p.nodes {
            self.cpu(i, t, dt);
        }
        self.routes_tick(t, dt);
        if !self.shutting_down {
            let many = self.groups.len() > 64;
            for gi in 0..self.groups.len() {
                let bulk = self.groups[gi].kind == GroupKind::Consumer && gi > 8;
                if !many || !bulk || self.tick_n.is_multiple_of(5) {
                    self.scan_group(gi, t);
                }
            }
        }
        self.memory_tick(t);
    }

    /// Shares the node's CPU for one tick between runtime, client/route I/O,
    /// Raft and the JetStream API worker (processor sharing: each class gets
    /// the same fraction of its demand when demand exceeds capacity).
    fn cpu(&mut self, i: usize, t: Micros, dt: f64) {
        if !self.nodes[i].running() {
            return;
        }
        let noise = self.p.noise;
        let fail = i == self.p.fail_node;
        let mem_fault = self.fault == Fault::MemoryGrowth && fail;
        let mem_limit = self.p.mem_limit as f64;
        // Host interference: short CPU-steal hiccups (a shared, busy host).
        if noise > 0.0 && t >= self.nodes[i].next_hiccup {
            let gap = self.rng.exp(22.0 / noise);
            let len = 100 + self.rng.range(0, 500);
            let n = &mut self.nodes[i];
            n.hiccup_until = t + len * MS;
            n.next_hiccup = t + (gap * SEC as f64) as Micros + len * MS;
        }
        let n = &mut self.nodes[i];
        let mut cores = self.p.cores;
        if n.quota > 0.0 {
            cores = cores.min(n.quota);
        }
        let nominal = cores;
        if t < n.hiccup_until {
            cores *= 0.04;
        }
        let cap = cores * dt;
        let gc = if mem_fault {
            0.02 + 0.9 * (n.rss / mem_limit).min(1.2).powi(4)
        } else {
            0.01
        };
        let base = (cost::BASELINE_CORES + gc) * dt;
        let api_d = n.api_work.min(dt);
        let demand = base + n.io_backlog + n.route_backlog + n.raft_backlog + api_d;
        // The runtime takes its part first; I/O, Raft and the API worker then
        // share the rest max-min fairly (a busy class cannot starve a light one).
        let want = [n.io_backlog, n.route_backlog, n.raft_backlog, api_d];
        let weight = [1.0 + (n.connections as f64 / 50.0).min(40.0), 2.0, 2.0, 3.0];
        let got = fair_share((cap - base).max(0.0), want, weight);
        let rate = fair_share(((nominal * dt) - base).max(0.0), want, weight);
        let (served_io, served_route, served_raft, served_api) = (got[0], got[1], got[2], got[3]);
        let raft_before = n.raft_backlog;
        n.io_backlog -= served_io;
        n.route_backlog -= served_route;
        n.raft_backlog -= served_raft;
        // Latency: time to drain what is left at the rate this class gets once
        // any momentary hiccup is over.
        n.io_latency = if n.io_backlog > 1e-9 {
            n.io_backlog / (rate[0] / dt).max(1e-4)
        } else {
            0.0
        };
        n.route_latency = if n.route_backlog > 1e-9 {
            n.route_backlog / (rate[1] / dt).max(1e-4)
        } else {
            0.0
        };
        n.raft_latency = if n.raft_backlog > 1e-9 {
            n.raft_backlog / (rate[2] / dt).max(1e-4)
        } else {
            0.0
        };
        let used = (base.min(cap) + served_io + served_route + served_raft + served_api).min(cap);
        n.cpu_window += used;
        if n.quota > 0.0 {
            n.cg_periods += 5;
            if demand > cap {
                n.cg_throttled += 5;
                n.cg_throttled_ms += (dt - cap / self.p.cores.max(1.0)) * 1000.0 * 0.6;
                n.throttled_window += dt;
            }
        }
        let busy = demand > cap;
        n.ctx_vol += 30.0 + 400.0 * used;
        n.ctx_nonvol += 10.0 + 200.0 * used * if busy { 3.0 } else { 1.0 };
        let frac = if raft_before > 1e-12 {
            n.raft_backlog / raft_before
        } else {
            0.0
        };
        let out_of_storage = n.out_of_storage;
        self.groups.drain_lags(i, frac, out_of_storage);
        self.serve_api(i, served_api, t);
    }

    fn memory_tick(&mut self, t: Micros) {
        if !self.tick_n.is_multiple_of(4) {
            return;
        }
        for i in 0..self.p.nodes {
            if self.nodes[i].state == Proc::Down {
                continue;
            }
            let mut pending = 0.0;
            for j in 0..self.p.nodes {
                if j != i {
                    let (li, side) = self.net.idx(i, j);
                    pending += self.net[li].pending[side];
                }
            }
            if i == self.p.fail_node {
                if let Some(bytes) = self.clients.slow_pending() {
                    pending += bytes;
                }
            }
            let n = &mut self.nodes[i];
            let file_cache = (n.store_used * 0.25).min(48e6);
            n.rss = 13.5e6
                + 180e3 * self.groups.hosted(i) as f64
                + 45e3 * n.connections as f64
                + 70e3 * n.mqtt_sessions as f64
                + 3e3 * n.api_q.len() as f64
                + pending
                + n.mem_used * 1.08
                + file_cache
                + 4e6 * (n.in_msgs > 0.0) as u8 as f64;
            let oom = self.fault == Fault::MemoryGrowth
                && i == self.p.fail_node
                && n.rss >= self.p.mem_limit as f64
                && n.running();
            if oom {
                let name = self.names[i].clone();
                let lt = self.nodes[i].lifetimes;
                self.chain(t, Some(i), &format!("oom-{lt}"), format!("{name} exceeded its {} memory limit and was OOM-killed by the kernel (no Server Exiting..)", friendly_bytes(self.p.mem_limit)));
                self.kill(i, t);
                let back = t + self.p.restart_delay + self.jit(300 * MS);
                self.at(back, Ev::Start(i));
            }
        }
    }
}

/// Weighted max-min fair split of `cap` between demands `want` (Go's scheduler
/// shares time per runnable goroutine, so a class's weight is roughly how many
/// goroutines it keeps busy).
fn fair_share(cap: f64, want: [f64; 4], weight: [f64; 4]) -> [f64; 4] {
    let mut got = [0.0; 4];
    let mut left = cap;
    let mut open: Vec<usize> = (0..4).filter(|&k| want[k] > 0.0).collect();
    while !open.is_empty() && left > 1e-15 {
        let wsum: f64 = open.iter().map(|&k| weight[k]).sum();
        let mut next = Vec::new();
        let mut spent = 0.0;
        for &k in &open {
            let each = left * weight[k] / wsum;
            let need = want[k] - got[k];
            if need <= each {
                got[k] = want[k];
                spent += need;
            } else {
                next.push(k);
            }
        }
        if next.len() == open.len() {
            for &k in &next {
                got[k] += left * weight[k] / wsum;
            }
            break;
        }
        left -= spent;
        open = next;
    }
    got
}

/// `8972` → `8,972` (Go's humanize-style thousands separator used in restore lines).
pub fn commas(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (k, c) in s.chars().enumerate() {
        if k > 0 && (s.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn out_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
