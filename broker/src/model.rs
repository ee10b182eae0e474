//! The model's state: nodes (processes with a CPU budget), route links, Raft
//! groups, MQTT devices. Plain data; behaviour lives in `sim.rs` and friends.

use crate::clock::Micros;
use std::collections::VecDeque;

/// Work costs in core-seconds (one full core busy for that long).
pub mod cost {
    /// Go runtime, timers, internal subscriptions: always-on load per node (cores).
    pub const BASELINE_CORES: f64 = 0.05;
    /// A client message in or out.
    pub const CLIENT_MSG: f64 = 60e-6;
    /// A message crossing a route (each side).
    pub const ROUTE_MSG: f64 = 25e-6;
    /// Storing a message on a stream leader.
    pub const STORE: f64 = 40e-6;
    /// Applying a replicated entry on a follower.
    pub const APPLY: f64 = 30e-6;
    /// One Raft heartbeat round of one group on one replica, per second.
    pub const HEARTBEAT: f64 = 35e-6;
    /// Applying one meta-group entry (stream/consumer assignment).
    pub const META_APPLY: f64 = 250e-6;
    /// Accepting one MQTT connection (CONNECT, session lookup, CONNACK).
    pub const MQTT_CONNECT: f64 = 150e-6;
    /// Persisting an MQTT session to `$MQTT_sess`.
    pub const MQTT_SESSION: f64 = 200e-6;
    /// Creating a Raft group replica (WAL, filestore, subscriptions).
    pub const GROUP_CREATE: f64 = 2.5e-3;
    /// Serving one monitoring HTTP request.
    pub const HTTP: f64 = 300e-6;
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Proc {
    Down,
    Running,
    Frozen,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ApiKind {
    /// Durable consumer create (`CC` in the MQTT layer's request names).
    ConsumerCreate,
}

#[derive(Clone, Debug)]
pub struct ApiReq {
    pub kind: ApiKind,
    pub client: u32,
    pub seq: u32,
    pub cost: f64,
}

/// The meta-group view one node holds.
#[derive(Clone, Debug, Default)]
pub struct MetaView {
    pub leader: Option<usize>,
    pub ever: bool,
    /// Committed but not applied entries.
    pub lag: f64,
}

pub struct Node {
    pub state: Proc,
    pub pid: u32,
    pub server_id: String,
    pub started: Micros,
    pub lifetimes: u32,
    pub next_id: u64,
    pub next_port: u32,
    // CPU
    pub quota: f64,
    pub quota_since: Micros,
    pub io_backlog: f64,
    pub route_backlog: f64,
    pub raft_backlog: f64,
    pub io_latency: f64,
    pub route_latency: f64,
    pub raft_latency: f64,
    pub hiccup_until: Micros,
    pub next_hiccup: Micros,
    pub cpu_window: f64,
    pub cpu_pct: f64,
    pub throttled_window: f64,
    pub cg_periods: u64,
    pub cg_throttled: u64,
    pub cg_throttled_ms: f64,
    pub ctx_vol: f64,
    pub ctx_nonvol: f64,
    // counters (cumulative in the process lifetime)
    pub in_msgs: f64,
    pub out_msgs: f64,
    pub in_bytes: f64,
    pub out_bytes: f64,
    pub slow_consumers: u64,
    pub sc_clients: u64,
    pub sc_routes: u64,
    pub total_connections: u64,
    pub connections: u64,
    pub mqtt_sessions: u64,
    pub api_total: u64,
    pub api_errors: u64,
    pub http_varz: u64,
    pub http_jsz: u64,
    pub http_healthz: u64,
    pub http_routez: u64,
    // JetStream
    pub max_memory: u64,
    pub max_storage: u64,
    pub mem_used: f64,
    pub store_used: f64,
    pub meta: MetaView,
    pub api_q: VecDeque<ApiReq>,
    pub api_head_done: f64,
    pub api_work: f64,
    pub pending_probes: u32,
    pub last_resource_err: Micros,
    pub last_pending_warn: Micros,
    pub last_limit_warn: Micros,
    pub rss: f64,
    pub out_of_storage: bool,
}

impl Default for Node {
    fn default() -> Self {
        Self::new()
    }
}

impl Node {
    pub fn new() -> Node {
        Node {
            state: Proc::Down,
            pid: 0,
            server_id: String::new(),
            started: 0,
            lifetimes: 0,
            next_id: 7,
            next_port: 33_000,
            quota: 0.0,
            quota_since: 0,
            io_backlog: 0.0,
            route_backlog: 0.0,
            raft_backlog: 0.0,
            io_latency: 0.0,
            route_latency: 0.0,
            raft_latency: 0.0,
            hiccup_until: 0,
            next_hiccup: 0,
            cpu_window: 0.0,
            cpu_pct: 0.0,
            throttled_window: 0.0,
            cg_periods: 0,
            cg_throttled: 0,
            cg_throttled_ms: 0.0,
            ctx_vol: 100.0,
            ctx_nonvol: 50.0,
            in_msgs: 0.0,
            out_msgs: 0.0,
            in_bytes: 0.0,
            out_bytes: 0.0,
            slow_consumers: 0,
            sc_clients: 0,
            sc_routes: 0,
            total_connections: 0,
            connections: 0,
            mqtt_sessions: 0,
            api_total: 0,
            api_errors: 0,
            http_varz: 0,
            http_jsz: 0,
            http_healthz: 0,
            http_routez: 0,
            max_memory: 0,
            max_storage: 0,
            mem_used: 0.0,
            store_used: 0.0,
            meta: MetaView::default(),
            api_q: VecDeque::new(),
            api_head_done: 0.0,
            api_work: 0.0,
            pending_probes: 0,
            last_resource_err: i64::MIN / 2,
            last_pending_warn: i64::MIN / 2,
            last_limit_warn: i64::MIN / 2,
            rss: 13e6,
            out_of_storage: false,
        }
    }

    pub fn running(&self) -> bool {
        self.state == Proc::Running
    }

    /// A new connection id (cid/rid/mid share one counter, as in nats-server).
    pub fn id(&mut self) -> u64 {
        let v = self.next_id;
        self.next_id += 1;
        v
    }

    /// A new ephemeral local port.
    pub fn port(&mut self) -> u32 {
        self.next_port += 2 + (self.next_port % 7);
        if self.next_port > 60_900 {
            self.next_port = 33_000 + (self.next_port % 97);
        }
        self.next_port
    }
}

/// One route connection between nodes `a < b`; index 0 is `a`'s side, 1 is `b`'s.
#[derive(Clone, Debug, Default)]
pub struct Link {
    pub open: [bool; 2],
    pub rid: [u64; 2],
    /// The remote address as each side labels it.
    pub addr: [String; 2],
    pub did_solicit: [bool; 2],
    pub since: Micros,
    pub ever_up: bool,
    pub in_msgs: [f64; 2],
    pub out_msgs: [f64; 2],
    pub in_bytes: [f64; 2],
    pub out_bytes: [f64; 2],
    /// Bytes queued at this side towards the other, not yet accepted by the peer.
    pub pending: [f64; 2],
    pub blocked_since: [Option<Micros>; 2],
    pub pings_out: [u32; 2],
    pub next_ping: [Micros; 2],
    pub last_in: [Micros; 2],
    pub last_out: [Micros; 2],
    /// A dial loop is scheduled from this side.
    pub dialing: [bool; 2],
}

impl Link {
    /// A fresh route: both sides open, `side` the one that dialed; route ids
    /// and remote addresses as (this side, other side); traffic, buffers and
    /// pings reset.
    pub fn connect(
        &mut self,
        side: usize,
        rid: (u64, u64),
        addr: (String, String),
        t: Micros,
        next_ping: Micros,
    ) {
        let other = 1 - side;
        self.open = [true, true];
        self.rid[side] = rid.0;
        self.rid[other] = rid.1;
        self.addr[side] = addr.0;
        self.addr[other] = addr.1;
        self.did_solicit[side] = true;
        self.did_solicit[other] = false;
        self.since = t;
        self.ever_up = true;
        self.in_msgs = [0.0; 2];
        self.out_msgs = [0.0; 2];
        self.in_bytes = [0.0; 2];
        self.out_bytes = [0.0; 2];
        self.pending = [0.0; 2];
        self.blocked_since = [None; 2];
        self.pings_out = [0; 2];
        self.last_in = [t; 2];
        self.last_out = [t; 2];
        self.next_ping = [next_ping; 2];
        self.dialing = [false; 2];
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum GroupKind {
    Meta,
    Stream,
    Consumer,
}

/// A Raft group (the meta group, a stream or a consumer).
#[derive(Clone, Debug)]
pub struct Group {
    pub kind: GroupKind,
    /// `APP > ORDERS` or `APP > ORDERS > processor`.
    pub asset: String,
    /// `_meta_`, `S-R3F-xxxxxxxx`, `C-R3F-xxxxxxxx`.
    pub raft: String,
    pub replicas: Vec<usize>,
    pub leader: Option<usize>,
    pub term: u64,
    /// Per replica slot: the leader that replica believes in.
    pub view: Vec<Option<usize>>,
    pub contact: Vec<Micros>,
    pub deadline: Vec<Micros>,
    /// Per replica slot: entries behind the leader.
    pub lag: Vec<f64>,
    /// Entries missed while unreachable (paid as catch-up work on reconnect).
    pub missed: Vec<f64>,
    pub quorum_at: Micros,
    pub last_noquorum_log: Micros,
    pub memory: bool,
    pub msgs: f64,
    pub bytes: f64,
}

impl Group {
    pub fn slot(&self, node: usize) -> Option<usize> {
        self.replicas.iter().position(|&r| r == node)
    }
}

/// An MQTT device of the storm.
#[derive(Clone, Debug, Default)]
pub struct Device {
    pub node: usize,
    pub mid: u64,
    pub port: u32,
    pub seq: u32,
    pub waiting: bool,
    pub loop_start: Micros,
    pub done: bool,
    pub durable: String,
    pub consumer: Option<u32>,
    pub connected: bool,
    pub session: bool,
}

/// The hung core-NATS subscriber of the slow-consumer scenario.
#[derive(Clone, Debug, Default)]
pub struct SlowSub {
    pub active: bool,
    pub stalled: bool,
    pub cid: u64,
    pub port: u32,
    pub pending: f64,
    pub block_start: Micros,
    pub max_pending_hit: bool,
    pub deadline_hit: bool,
    pub episode: usize,
}
