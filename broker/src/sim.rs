//! The discrete-event engine: a virtual clock, one event queue ordered by
//! (time, sequence), a 50 ms CPU tick per node, and the handlers for process
//! lifecycle, routes, Raft groups and faults. Workloads live in `workload.rs`,
//! monitoring endpoints in `monitor.rs`.
//!
//! Architecture invariant: nothing here reads the wall clock or iterates a hash
//! map; every random choice comes from `self.rng`. Same scenario + seed → same bytes.

use crate::clock::{MS, Micros, SEC};
use crate::logger::{Level, LogFormat, Logger};
use crate::model::{Device, Group, GroupKind, Link, Node, Proc, SlowSub, cost};
use crate::monitor::Monitor;
use crate::rng::Rng;
use crate::scenario::{Fault, Params, Scenario};
use anyhow::{Context, Result};
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
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

#[derive(Clone, Debug)]
pub enum Ev {
    Tick,
    Start(usize),
    Dial {
        from: usize,
        to: usize,
        attempt: u32,
        after_loss: bool,
    },
    RoutingCheck(usize),
    CreateAssets,
    Sample,
    FaultStart,
    FaultEnd,
    Kill(usize),
    Shutdown(usize),
    MqttConnect(u32),
    MqttResponse(u32, u32),
    MqttTimeout(u32, u32),
    Backend,
    SlowStall(usize),
    SlowRestart(usize),
    FlapDown(usize),
    FlapUp(usize),
    LoadStop,
    /// A log line whose time lies beyond the current tick.
    Log {
        node: usize,
        lvl: Level,
        msg: String,
    },
}

struct Entry {
    t: Micros,
    seq: u64,
    ev: Ev,
}
impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        (self.t, self.seq) == (o.t, o.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.t, self.seq).cmp(&(o.t, o.seq))
    }
}

/// Output options chosen on the command line.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub out: PathBuf,
    pub log_format: LogFormat,
    pub metrics_interval: Micros,
    pub prometheus: bool,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ChainEntry {
    pub at: String,
    pub node: Option<String>,
    pub what: String,
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
    pub p: Params,
    pub fault: Fault,
    pub scenario: String,
    pub root_cause: Option<String>,
    pub causes: Vec<String>,
    pub seed: u64,
    pub rng: Rng,
    pub now: Micros,
    pub end: Micros,
    q: BinaryHeap<Reverse<Entry>>,
    seq: u64,
    pub names: Vec<String>,
    pub raft_ids: Vec<String>,
    pub nodes: Vec<Node>,
    pub logs: Vec<Logger>,
    pub mon: Monitor,
    pub links: Vec<Link>,
    pub net_down: Vec<bool>,
    pub talk: Vec<bool>,
    pub groups: Vec<Group>,
    pub hosted: Vec<u32>,
    pub lagging: Vec<Vec<(u32, u8)>>,
    pub orders: Option<usize>,
    pub mqtt_msgs: Option<usize>,
    pub mqtt_sess: Option<usize>,
    pub audit: Option<usize>,
    pub cache: Option<usize>,
    pub devices: Vec<Device>,
    pub nuid: String,
    pub nuid_seq: u64,
    pub backend_mid: u64,
    pub backend_port: u32,
    pub slow: SlowSub,
    pub chain: Vec<ChainEntry>,
    chain_keys: BTreeSet<String>,
    pub fault_time: Option<Micros>,
    pub load_on: bool,
    pub shutting_down: bool,
    pub tick_n: u64,
    pub stats: RunStats,
    pub opts: RunOptions,
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
        let mut sim = Sim {
            end: p.start + p.duration,
            now: p.start,
            fault: sc.fault,
            scenario: sc.name.clone(),
            root_cause: sc.root_cause.clone(),
            causes: sc.causes.clone(),
            seed,
            rng,
            q: BinaryHeap::new(),
            seq: 0,
            names,
            raft_ids,
            nodes,
            logs,
            mon,
            links: vec![Link::default(); n * n],
            net_down: vec![false; n],
            talk: vec![false; n * n],
            groups: Vec::new(),
            hosted: vec![0; n],
            lagging: vec![Vec::new(); n],
            orders: None,
            mqtt_msgs: None,
            mqtt_sess: None,
            audit: None,
            cache: None,
            devices: Vec::new(),
            nuid,
            nuid_seq: 0,
            backend_mid: 0,
            backend_port: 0,
            slow: SlowSub::default(),
            chain: Vec::new(),
            chain_keys: BTreeSet::new(),
            fault_time: None,
            load_on: false,
            shutting_down: false,
            tick_n: 0,
            stats: RunStats::default(),
            opts,
            p,
        };
        sim.p.cluster = sc.params.cluster.clone();
        let meta = Group {
            kind: GroupKind::Meta,
            asset: String::new(),
            raft: "_meta_".into(),
            replicas: (0..n).collect(),
            leader: None,
            term: 0,
            view: vec![None; n],
            contact: vec![sim.p.start; n],
            deadline: vec![0; n],
            lag: vec![0.0; n],
            missed: vec![0.0; n],
            quorum_at: sim.p.start,
            last_noquorum_log: i64::MIN / 2,
            memory: false,
            msgs: 0.0,
            bytes: 0.0,
        };
        sim.groups.push(meta);
        Ok(sim)
    }

    pub fn at(&mut self, t: Micros, ev: Ev) {
        self.seq += 1;
        self.q.push(Reverse(Entry {
            t,
            seq: self.seq,
            ev,
        }));
    }

    /// Records a step of the causal chain once per key.
    pub fn chain(&mut self, t: Micros, node: Option<usize>, key: &str, what: String) {
        if self.chain_keys.insert(key.to_string()) {
            let at = crate::clock::TsFmt::new(crate::clock::TsStyle::Rfc3339Millis).string(t);
            self.chain.push(ChainEntry {
                at,
                node: node.map(|i| self.names[i].clone()),
                what,
            });
        }
    }

    /// Logs now, or schedules the line if `t` is more than a tick ahead
    /// (a node's log must never run ahead of the clock).
    pub fn log_at(&mut self, node: usize, t: Micros, lvl: Level, msg: String) {
        if t <= self.now + TICK {
            self.logs[node].log(t, lvl, format_args!("{msg}"));
        } else {
            self.at(t, Ev::Log { node, lvl, msg });
        }
    }

    pub fn can_talk(&self, a: usize, b: usize) -> bool {
        self.talk[a * self.p.nodes + b]
    }

    pub fn link_idx(&self, a: usize, b: usize) -> (usize, usize) {
        if a < b {
            (a * self.p.nodes + b, 0)
        } else {
            (b * self.p.nodes + a, 1)
        }
    }

    pub fn link_open(&self, a: usize, b: usize) -> bool {
        let (li, _) = self.link_idx(a, b);
        self.links[li].open == [true, true]
    }

    /// Recomputes who can exchange messages with whom right now.
    pub fn refresh_talk(&mut self) {
        let n = self.p.nodes;
        for a in 0..n {
            for b in 0..n {
                let ok = self.nodes[a].running()
                    && self.nodes[b].running()
                    && (a == b || (self.link_open(a, b) && !self.net_down[a] && !self.net_down[b]));
                self.talk[a * n + b] = ok;
            }
        }
    }

    /// Jitter inside the current tick.
    pub fn jit(&mut self, max: Micros) -> Micros {
        self.rng.range(0, max.max(0))
    }

    pub fn run(mut self) -> Result<(RunStats, Vec<ChainEntry>)> {
        self.schedule_initial();
        while let Some(Reverse(e)) = self.q.pop() {
            if e.t > self.end {
                break;
            }
            self.now = e.t;
            self.stats.events += 1;
            self.handle(e.t, e.ev);
        }
        for l in &mut self.logs {
            l.flush()?;
            self.stats.log_lines += l.lines;
            self.stats.log_bytes += l.bytes;
        }
        self.stats.metric_lines = self.mon.finish()?;
        crate::truth::write(&self)?;
        Ok((self.stats.clone(), self.chain.clone()))
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
        let stop = self.end - 1_500 * MS - (self.p.nodes as Micros) * 450 * MS;
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
                if t + TICK <= self.end {
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
                        .filter(|&j| j != i && self.link_open(i, j))
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
            Ev::LoadStop => self.load_on = false,
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
            .iter()
            .filter(|g| g.kind == GroupKind::Stream && !g.memory && g.slot(i).is_some())
            .map(|g| g.bytes)
            .sum::<f64>()
            .min(self.nodes[i].max_storage as f64 * 1.0001)
    }

    fn banner(&mut self, i: usize, t: Micros, restart: bool) {
        let v = self.p.version;
        let name = self.names[i].clone();
        let mut tt = t;
        let mut step = |s: &mut Sim, gap: Micros| {
            tt = tt.max(s.logs[i].last()) + gap + s.rng.range(0, 2);
            tt
        };
        let l = step(self, 0);
        log!(self, i, l, Inf, "Starting nats-server");
        let l = step(self, 45);
        log!(self, i, l, Inf, "  Version:  {v}");
        let l = step(self, 1);
        log!(self, i, l, Inf, "  Git:      [not set]");
        let l = step(self, 1);
        log!(self, i, l, Inf, "  Cluster:  {}", self.p.cluster);
        let l = step(self, 1);
        log!(self, i, l, Inf, "  Name:     {name}");
        let l = step(self, 1);
        log!(self, i, l, Inf, "  Node:     {}", self.raft_ids[i]);
        let l = step(self, 2);
        log!(self, i, l, Inf, "  ID:       {}", self.nodes[i].server_id);
        let l = step(self, 2);
        log!(
            self,
            i,
            l,
            Wrn,
            "Plaintext passwords detected, use nkeys or bcrypt"
        );
        let l = step(self, 3);
        if v.at_least(2, 11, 0) {
            let digest = format!(
                "{:016x}{:016x}{:016x}{:016x}",
                self.seed.wrapping_mul(31),
                i,
                self.seed ^ 0x5bd1e995,
                7u64
            );
            log!(
                self,
                i,
                l,
                Inf,
                "Using configuration file: /etc/nats/{name}.conf (sha256:{digest})"
            );
        } else {
            log!(
                self,
                i,
                l,
                Inf,
                "Using configuration file: /etc/nats/{name}.conf"
            );
        }
        let l = step(self, 400);
        log!(
            self,
            i,
            l,
            Inf,
            "Starting http monitor on 127.0.0.1:{}",
            18221 + i
        );
        let l = step(self, 25);
        log!(self, i, l, Inf, "Starting JetStream");
        const ART: [&str; 7] = [
            "    _ ___ _____ ___ _____ ___ ___   _   __  __",
            " _ | | __|_   _/ __|_   _| _ \\ __| /_\\ |  \\/  |",
            "| || | _|  | | \\__ \\ | | |   / _| / _ \\| |\\/| |",
            " \\__/|___| |_| |___/ |_| |_|_\\___/_/ \\_\\_|  |_|",
            "",
            "         https://docs.nats.io/jetstream",
            "",
        ];
        for (k, line) in ART.iter().enumerate() {
            let l = step(self, if k == 0 { 90 } else { 1 });
            log!(self, i, l, Inf, "{line}");
        }
        let l = step(self, 1);
        log!(
            self,
            i,
            l,
            Inf,
            "---------------- JETSTREAM ----------------"
        );
        let l = step(self, 5);
        log!(
            self,
            i,
            l,
            Inf,
            "  Max Memory:      {}",
            friendly_bytes(self.nodes[i].max_memory)
        );
        let l = step(self, 2);
        log!(
            self,
            i,
            l,
            Inf,
            "  Max Storage:     {}",
            friendly_bytes(self.nodes[i].max_storage)
        );
        let l = step(self, 2);
        log!(
            self,
            i,
            l,
            Inf,
            "  Store Directory: \"/data/{name}/jetstream\""
        );
        if v.at_least(2, 11, 0) {
            let l = step(self, 1);
            log!(
                self,
                i,
                l,
                Inf,
                "  API Level:       {}",
                if v.at_least(2, 12, 0) { 2 } else { 1 }
            );
        }
        let l = step(self, 1);
        log!(
            self,
            i,
            l,
            Inf,
            "-------------------------------------------"
        );
        if restart {
            let streams: Vec<usize> = (0..self.groups.len())
                .filter(|&g| {
                    self.groups[g].kind == GroupKind::Stream && self.groups[g].slot(i).is_some()
                })
                .collect();
            for g in streams {
                let asset = self.groups[g].asset.clone();
                let msgs = if self.groups[g].memory {
                    0.0
                } else {
                    self.groups[g].msgs
                };
                let l = step(self, 1500);
                log!(self, i, l, Inf, "  Starting restore for stream '{asset}'");
                let took = 3_000 + (msgs as i64) * 3;
                let l = step(self, took);
                let count = commas(msgs as u64);
                if v.at_least(2, 10, 0) {
                    let mut d = Vec::new();
                    crate::clock::go_duration(took * 1000, &mut d);
                    log!(
                        self,
                        i,
                        l,
                        Inf,
                        "  Restored {count} messages for stream '{asset}' in {}",
                        String::from_utf8_lossy(&d)
                    );
                } else {
                    log!(
                        self,
                        i,
                        l,
                        Inf,
                        "  Restored {count} messages for stream '{asset}'"
                    );
                }
                let consumers = self
                    .groups
                    .iter()
                    .filter(|c| {
                        c.kind == GroupKind::Consumer
                            && c.asset.starts_with(&asset)
                            && c.slot(i).is_some()
                    })
                    .count();
                if consumers > 0 {
                    let l = step(self, 20);
                    log!(
                        self,
                        i,
                        l,
                        Inf,
                        "  Recovering {consumers} consumers for stream - '{asset}'"
                    );
                }
            }
        }
        let l = step(self, 700);
        log!(self, i, l, Inf, "Starting JetStream cluster");
        let l = step(self, 8);
        log!(self, i, l, Inf, "Creating JetStream metadata controller");
        let l = step(self, 320);
        if restart {
            log!(self, i, l, Inf, "JetStream cluster recovering state");
        } else {
            log!(self, i, l, Inf, "JetStream cluster bootstrapping");
        }
        if v.at_least(2, 11, 11) {
            let l = step(self, 30);
            log!(
                self,
                i,
                l,
                Inf,
                "Took {}ms to start JetStream",
                1 + (l - t) / 1000
            );
        }
        let l = step(self, 180);
        log!(
            self,
            i,
            l,
            Inf,
            "Listening for MQTT clients on mqtt://127.0.0.1:{}",
            11881 + i
        );
        let l = step(self, 30);
        log!(
            self,
            i,
            l,
            Inf,
            "Listening for client connections on 127.0.0.1:{}",
            14221 + i
        );
        let l = step(self, 4);
        log!(self, i, l, Inf, "Server is ready");
        let l = step(self, 150);
        log!(self, i, l, Inf, "Cluster name is {}", self.p.cluster);
        let l = step(self, 15);
        log!(
            self,
            i,
            l,
            Inf,
            "Listening for route connections on 127.0.0.1:{}",
            16221 + i
        );
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
        self.lagging[i].clear();
        for j in 0..self.p.nodes {
            if j != i {
                self.close_link_side(i, j, t, None);
                // The peer sees EOF at once.
                if self.nodes[j].running() && !self.net_down[j] {
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
            if j != i && self.links[self.link_idx(i, j).0].open[self.link_idx(i, j).1] {
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

    // ------------------------------------------------------------------ routes

    /// Closes `a`'s side of the route to `b`, logging `reason` (None = silent, e.g. a killed process).
    pub fn close_link_side(&mut self, a: usize, b: usize, t: Micros, reason: Option<&str>) {
        let (li, side) = self.link_idx(a, b);
        if !self.links[li].open[side] {
            return;
        }
        self.links[li].open[side] = false;
        self.links[li].pending[side] = 0.0;
        self.links[li].blocked_since[side] = None;
        self.links[li].pings_out[side] = 0;
        if let Some(r) = reason {
            let addr = self.links[li].addr[side].clone();
            let rid = self.links[li].rid[side];
            if self.p.version.at_least(2, 12, 0) {
                let remote = self.names[b].clone();
                log!(
                    self,
                    a,
                    t,
                    Inf,
                    "{addr} - rid:{rid} - Router connection closed: {r} - Remote: {remote}"
                );
            } else {
                log!(
                    self,
                    a,
                    t,
                    Inf,
                    "{addr} - rid:{rid} - Router connection closed: {r}"
                );
            }
            // A configured route is solicited again after a loss (not on shutdown).
            if r != "Server Shutdown"
                && r != "Duplicate Route"
                && !self.shutting_down
                && self.nodes[a].running()
                && !self.links[li].dialing[side]
            {
                self.links[li].dialing[side] = true;
                let at = t + SEC + self.jit(90 * MS);
                self.at(
                    at,
                    Ev::Dial {
                        from: a,
                        to: b,
                        attempt: 1,
                        after_loss: true,
                    },
                );
            }
        }
        self.refresh_talk();
    }

    /// A route opened twice: each end (node, peer port, route id) logs the
    /// connection, then closes it as a duplicate. `waits` are (base, jitter)
    /// before the second end's creation, the first end's close (from `t`) and
    /// the second end's close (from the first's), drawn in that order.
    fn duplicate_route(
        &mut self,
        t: Micros,
        ends: [(usize, u64, u64); 2],
        waits: [(Micros, Micros); 3],
    ) {
        let [(a, pa, ra), (b, pb, rb)] = ends;
        log!(
            self,
            a,
            t,
            Inf,
            "127.0.0.1:{pa} - rid:{ra} - Route connection created"
        );
        let created = t + waits[0].0 + self.jit(waits[0].1);
        log!(
            self,
            b,
            created,
            Inf,
            "127.0.0.1:{pb} - rid:{rb} - Route connection created"
        );
        let tt = t + waits[1].0 + self.jit(waits[1].1);
        log!(
            self,
            a,
            tt,
            Inf,
            "127.0.0.1:{pa} - rid:{ra} - Router connection closed: Duplicate Route"
        );
        let closed = tt + waits[2].0 + self.jit(waits[2].1);
        log!(
            self,
            b,
            closed,
            Inf,
            "127.0.0.1:{pb} - rid:{rb} - Router connection closed: Duplicate Route"
        );
    }

    fn dial(&mut self, from: usize, to: usize, attempt: u32, after_loss: bool, t: Micros) {
        if self.shutting_down || self.nodes[from].state == Proc::Down {
            return;
        }
        let (li, side) = self.link_idx(from, to);
        let retry = |s: &mut Sim, at: Micros, report_every_attempt: bool| {
            let (li, side) = s.link_idx(from, to);
            s.links[li].dialing[side] = true;
            s.at(
                at,
                Ev::Dial {
                    from,
                    to,
                    attempt: attempt + 1,
                    after_loss: report_every_attempt,
                },
            );
        };
        if self.nodes[from].state == Proc::Frozen {
            retry(self, t + SEC, after_loss);
            return;
        }
        let port = 16221 + to;
        if from == to {
            // Our own URL is in the route list: connect, detect, drop.
            let own = self.nodes[from].port();
            let r1 = self.nodes[from].id();
            let r2 = self.nodes[from].id();
            let ends = [(from, port as u64, r1), (from, u64::from(own), r2)];
            self.duplicate_route(t, ends, [(80, 40), (150, 100), (70, 40)]);
            return;
        }
        if self.links[li].open[side] && self.links[li].open[1 - side] {
            self.links[li].dialing[side] = false;
            // Already connected from the other side: this one is a duplicate.
            let r1 = self.nodes[from].id();
            let eph = self.nodes[from].port();
            let r2 = self.nodes[to].id();
            if self.nodes[to].running() && !self.net_down[from] && !self.net_down[to] {
                let ends = [(from, port as u64, r1), (to, u64::from(eph), r2)];
                self.duplicate_route(t, ends, [(40, 40), (300, 300), (50, 200)]);
            }
            return;
        }
        let report = attempt == 1 || after_loss;
        match self.nodes[to].state {
            Proc::Down => {
                if report {
                    log!(
                        self,
                        from,
                        t,
                        Err,
                        "Error trying to connect to route (attempt {attempt}): dial tcp 127.0.0.1:{port}: connect: connection refused"
                    );
                }
                let at = t + SEC + self.jit(2 * MS);
                retry(self, at, after_loss);
                return;
            }
            Proc::Frozen => {
                let at = t + SEC + self.jit(2 * MS);
                retry(self, at, after_loss);
                return;
            }
            Proc::Running => {}
        }
        if self.net_down[from] || self.net_down[to] {
            let tt = t + 2 * SEC + self.jit(3 * MS);
            if report {
                log!(
                    self,
                    from,
                    tt,
                    Err,
                    "Error trying to connect to route (attempt {attempt}): dial tcp 127.0.0.1:{port}: i/o timeout"
                );
            }
            retry(self, tt + SEC, after_loss);
            return;
        }
        // Connected: a fresh route replaces whatever half-open one the peer still had.
        let other = 1 - side;
        if self.links[li].open[other] {
            self.links[li].open[other] = false;
        }
        let eph = self.nodes[from].port();
        let r_from = self.nodes[from].id();
        let r_to = self.nodes[to].id();
        {
            let l = &mut self.links[li];
            l.open = [true, true];
            l.rid[side] = r_from;
            l.rid[other] = r_to;
            l.addr[side] = format!("127.0.0.1:{port}");
            l.addr[other] = format!("127.0.0.1:{eph}");
            l.did_solicit[side] = true;
            l.did_solicit[other] = false;
            l.since = t;
            l.ever_up = true;
            l.in_msgs = [0.0; 2];
            l.out_msgs = [0.0; 2];
            l.in_bytes = [0.0; 2];
            l.out_bytes = [0.0; 2];
            l.pending = [0.0; 2];
            l.blocked_since = [None; 2];
            l.pings_out = [0; 2];
            l.last_in = [t; 2];
            l.last_out = [t; 2];
            l.next_ping = [t + self.p.ping_interval; 2];
            l.dialing = [false; 2];
        }
        log!(
            self,
            from,
            t,
            Inf,
            "127.0.0.1:{port} - rid:{r_from} - Route connection created"
        );
        log!(
            self,
            to,
            t + 60 + self.jit(300),
            Inf,
            "127.0.0.1:{eph} - rid:{r_to} - Route connection created"
        );
        self.refresh_talk();
    }

    // ------------------------------------------------------------------ faults

    fn fault_start(&mut self, t: Micros) {
        let f = self.p.fail_node;
        self.fault_time = Some(t);
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
            let (li, side) = self.link_idx(j, i);
            let bytes = self.links[li].pending[side];
            self.links[li].pending[side] = 0.0;
            self.links[li].blocked_since[side] = None;
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
        self.net_down[f] = down;
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
        self.drain_lags(i, frac);
        self.serve_api(i, served_api, t);
    }

    /// Replicas on node `i` apply their backlog in proportion to the Raft work done.
    fn drain_lags(&mut self, i: usize, frac: f64) {
        let mut list = std::mem::take(&mut self.lagging[i]);
        let oos = self.nodes[i].out_of_storage;
        list.retain(|&(g, s)| {
            let g = &mut self.groups[g as usize];
            if oos && g.kind == GroupKind::Stream && !g.memory {
                return true;
            }
            let l = &mut g.lag[s as usize];
            *l *= frac;
            if *l < 0.5 {
                *l = 0.0;
                false
            } else {
                true
            }
        });
        self.lagging[i] = list;
    }

    /// Adds `entries` of replication lag for replica slot `s` of group `g`.
    pub fn add_lag(&mut self, g: usize, s: usize, entries: f64) {
        let node = self.groups[g].replicas[s];
        if self.groups[g].lag[s] == 0.0 {
            self.lagging[node].push((g as u32, s as u8));
        }
        self.groups[g].lag[s] += entries;
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
                    let (li, side) = self.link_idx(i, j);
                    pending += self.links[li].pending[side];
                }
            }
            if i == self.p.fail_node && self.slow.active {
                pending += self.slow.pending;
            }
            let n = &mut self.nodes[i];
            let file_cache = (n.store_used * 0.25).min(48e6);
            n.rss = 13.5e6
                + 180e3 * self.hosted[i] as f64
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
