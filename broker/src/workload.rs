//! Clients and what they do: ORDERS publishers and consumer, the slow
//! subscriber and its flood, the AUDIT backfill, the memory-backed CACHE
//! writer, MQTT devices and the JetStream API queue that serves them.

use crate::clock::{MS, Micros, SEC};
use crate::logger::Level;
use crate::model::{ApiKind, ApiReq, Device, GroupKind, SlowSub, cost};
use crate::scenario::Fault;
use crate::sim::{Ev, Sim, log};

/// The clients' side of the model: the streams they write to (by group
/// index, once created), the MQTT devices and the QoS1 backend, the slow
/// subscriber. Only this module reads or changes it.
pub struct Clients {
    /// The ORDERS publishers run (from asset creation to the graceful stop).
    load_on: bool,
    orders: Option<usize>,
    mqtt_msgs: Option<usize>,
    mqtt_sess: Option<usize>,
    audit: Option<usize>,
    cache: Option<usize>,
    devices: Vec<Device>,
    /// The inbox prefix of the JetStream API replies.
    nuid: String,
    backend_mid: u64,
    backend_port: u32,
    slow: SlowSub,
}

impl Clients {
    pub fn new(nuid: String) -> Clients {
        Clients {
            load_on: false,
            orders: None,
            mqtt_msgs: None,
            mqtt_sess: None,
            audit: None,
            cache: None,
            devices: Vec::new(),
            nuid,
            backend_mid: 0,
            backend_port: 0,
            slow: SlowSub::default(),
        }
    }

    /// The publishers stop (before the graceful shutdown).
    pub fn stop_load(&mut self) {
        self.load_on = false;
    }

    /// Bytes buffered for the slow subscriber while it is connected.
    pub fn slow_pending(&self) -> Option<f64> {
        self.slow.active.then_some(self.slow.pending)
    }
}

impl Sim {
    /// Streams and consumers the operator creates once the cluster is up.
    pub fn create_assets(&mut self, t: Micros) {
        let meta_ok = self.groups[0]
            .leader
            .is_some_and(|l| self.nodes[l].running());
        if !meta_ok {
            self.at(t + 500 * MS, Ev::CreateAssets);
            return;
        }
        let sl = self.p.stream_leader;
        let reps = self.placement(sl);
        let g = self.add_group(
            GroupKind::Stream,
            "APP > ORDERS".into(),
            reps.clone(),
            Some(sl),
            false,
            t,
        );
        self.clients.orders = Some(g);
        let lt = t + self.jit(5 * MS);
        self.log_new_leader(g, sl, lt);
        let c = self.add_group(
            GroupKind::Consumer,
            "APP > ORDERS > processor".into(),
            reps,
            Some(sl),
            false,
            t,
        );
        let lt = t + 200 * MS + self.jit(150 * MS);
        self.log_new_leader(c, sl, lt);
        let f = self.p.fail_node;
        match self.fault {
            Fault::StoreFull => {
                let a = self.add_group(
                    GroupKind::Stream,
                    "APP > AUDIT".into(),
                    vec![f],
                    Some(f),
                    false,
                    t,
                );
                self.clients.audit = Some(a);
                let lt = t + 3 * MS + self.jit(2 * MS);
                self.log_new_leader(a, f, lt);
            }
            Fault::MemoryGrowth => {
                let a = self.add_group(
                    GroupKind::Stream,
                    "APP > CACHE".into(),
                    vec![f],
                    Some(f),
                    true,
                    t,
                );
                self.clients.cache = Some(a);
                let lt = t + 3 * MS + self.jit(2 * MS);
                self.log_new_leader(a, f, lt);
            }
            _ => {}
        }
        for i in 0..self.p.nodes {
            self.nodes[i].api_total += 2;
        }
        // Publishers on the first and last node, the pull consumer on the second.
        self.clients.load_on = true;
        let np = self.p.nodes;
        for i in [0, np - 1, 1.min(np - 1)] {
            self.nodes[i].connections += 1;
            self.nodes[i].total_connections += 1;
        }
    }

    /// Fluid workload for one tick.
    pub fn workload(&mut self, t: Micros, dt: f64) {
        if !self.clients.load_on {
            return;
        }
        let np = self.p.nodes;
        let size = self.p.msg_size;
        if let Some(g) = self.clients.orders {
            let n = self.p.pub_rate * dt;
            let pubs = if np > 1 { vec![0, np - 1] } else { vec![0] };
            for pn in pubs {
                self.publish(g, pn, n, size, t);
            }
            // The pull consumer on n2 receives what ORDERS stored.
            let cn = 1.min(np - 1);
            if let Some(l) = self.groups[g].leader
                && self.net.can_talk(l, cn)
            {
                let m = 2.0 * n_or(self.p.pub_rate * dt);
                self.route_send(l, cn, m, m * size, t);
                self.client_out(cn, m, m * size);
            }
        }
        let f = self.p.fail_node;
        let fault_on = self.truth.fault_time().is_some();
        match self.fault {
            Fault::StoreFull
                if fault_on && t < self.p.start + self.p.fault_at + self.p.fault_for =>
            {
                if let Some(a) = self.clients.audit {
                    let n = self.p.backfill_rate * dt;
                    self.publish(a, f, n, self.p.backfill_size, t);
                }
            }
            Fault::MemoryGrowth if fault_on => {
                if let Some(c) = self.clients.cache {
                    let bytes = self.p.mem_rate * dt;
                    if self.nodes[f].running() && self.groups[c].leader == Some(f) {
                        let n = bytes / 1024.0;
                        self.client_in(f, n, bytes);
                        self.nodes[f].raft_backlog += n * cost::STORE * 0.5;
                        self.nodes[f].mem_used += bytes;
                        self.groups[c].msgs += n;
                        self.groups[c].bytes += bytes;
                    }
                }
            }
            Fault::SlowConsumer if self.clients.slow.active => self.flood(t, dt),
            _ => {}
        }
        if !self.clients.devices.is_empty() {
            // Keep-alives of connected MQTT sessions and their Raft groups' upkeep.
            for i in 0..np {
                if self.nodes[i].running() {
                    let s = self.nodes[i].mqtt_sessions as f64;
                    self.nodes[i].io_backlog += s * dt * 0.2 * cost::CLIENT_MSG;
                }
            }
        }
        for i in 0..np {
            if self.nodes[i].running() {
                self.nodes[i].raft_backlog += self.groups.hosted(i) as f64 * dt * cost::HEARTBEAT;
            }
        }
    }

    fn client_in(&mut self, i: usize, msgs: f64, bytes: f64) {
        let n = &mut self.nodes[i];
        n.in_msgs += msgs;
        n.in_bytes += bytes;
        n.io_backlog += msgs * cost::CLIENT_MSG;
    }

    fn client_out(&mut self, i: usize, msgs: f64, bytes: f64) {
        let n = &mut self.nodes[i];
        n.out_msgs += msgs;
        n.out_bytes += bytes;
        n.io_backlog += msgs * cost::CLIENT_MSG;
    }

    /// A client on `pn` publishes `n` messages into stream group `g`.
    fn publish(&mut self, g: usize, pn: usize, n: f64, size: f64, t: Micros) {
        if !self.nodes[pn].running() || n <= 0.0 {
            return;
        }
        self.client_in(pn, n, n * size);
        let Some(l) = self.groups[g].leader else {
            return;
        };
        let ls = self.groups[g].slot(l).unwrap_or(0);
        if self.groups[g].view[ls] != Some(l) || !self.nodes[l].running() {
            // Leader frozen: the request sits in the route's socket buffer.
            if pn != l {
                self.route_send(pn, l, n, n * size, t);
            }
            return;
        }
        if pn != l {
            if !self.net.can_talk(pn, l) {
                return;
            }
            self.route_send(pn, l, n, n * size, t);
        }
        let bytes = n * size;
        // Storage limit on the leader: reject, report, step down.
        if !self.groups[g].memory && self.nodes[l].store_used >= self.nodes[l].max_storage as f64 {
            self.nodes[l].api_errors += 1;
            self.resource_error(l, t);
            if self.groups[g].replicas.len() > 1 {
                self.step_down(g, t);
            }
            return;
        }
        self.nodes[l].raft_backlog += n * cost::STORE;
        self.groups[g].msgs += n;
        self.groups[g].bytes += bytes;
        if !self.groups[g].memory {
            self.nodes[l].store_used += bytes;
        }
        let reps = self.groups[g].replicas.clone();
        for (s, &r) in reps.iter().enumerate() {
            if r == l {
                continue;
            }
            if self.net.can_talk(l, r) {
                self.route_send(l, r, n, bytes, t);
                if self.nodes[r].store_used + bytes > self.nodes[r].max_storage as f64 {
                    if !self.nodes[r].out_of_storage {
                        self.nodes[r].out_of_storage = true;
                        let what = format!(
                            "{} is out of JetStream storage and stops applying '{}'",
                            self.names[r], self.groups[g].asset
                        );
                        self.chain(t, Some(r), "oos-follower", what);
                    }
                    self.groups.add_lag(g, s, n);
                    continue;
                }
                self.nodes[r].store_used += bytes;
                self.nodes[r].raft_backlog += n * cost::APPLY;
                self.groups.add_lag(g, s, n);
            } else {
                self.groups[g].missed[s] += n;
                self.groups.add_lag(g, s, n);
                if self.nodes[r].running() || self.nodes[r].state == crate::model::Proc::Frozen {
                    self.route_send(l, r, n, bytes, t);
                }
            }
        }
    }

    /// G4: `JetStream resource limits exceeded for server`, at most once per 10 s.
    fn resource_error(&mut self, i: usize, t: Micros) {
        if t - self.nodes[i].last_resource_err < 10 * SEC {
            return;
        }
        self.nodes[i].last_resource_err = t;
        self.nodes[i].out_of_storage = true;
        let lt = t + self.jit(40 * MS);
        if self.p.version.at_least(2, 12, 0) {
            log!(
                self,
                i,
                lt,
                Err,
                "JetStream file resource limits exceeded for server"
            );
        } else {
            log!(
                self,
                i,
                lt,
                Err,
                "JetStream resource limits exceeded for server"
            );
        }
        let what = format!(
            "{} reached its JetStream file store limit ({}); publishes fail with insufficient resources",
            self.names[i],
            crate::sim::friendly_bytes(self.nodes[i].max_storage)
        );
        self.chain(lt, Some(i), "storage-limit", what);
    }

    // ------------------------------------------------------------ slow consumer

    fn flood_source(&self) -> usize {
        if self.p.fail_node == 0 {
            1.min(self.p.nodes - 1)
        } else {
            0
        }
    }

    fn flood(&mut self, t: Micros, dt: f64) {
        let src = self.flood_source();
        let f = self.p.fail_node;
        let n = self.p.flood_rate * dt;
        let bytes = n * self.p.flood_size;
        if !self.nodes[src].running() {
            return;
        }
        self.client_in(src, n, bytes);
        if src != f {
            if !self.net.can_talk(src, f) {
                return;
            }
            self.route_send(src, f, n, bytes, t);
        }
        if self.clients.slow.stalled && !self.clients.slow.max_pending_hit {
            self.clients.slow.pending += bytes;
            self.nodes[f].out_msgs += n;
            self.nodes[f].out_bytes += bytes;
            if self.clients.slow.pending > self.p.max_pending as f64 {
                self.clients.slow.max_pending_hit = true;
                let label = self.slow_label();
                let lt = t + self.jit(40 * MS);
                log!(
                    self,
                    f,
                    lt,
                    Inf,
                    "{label} - Slow Consumer Detected: MaxPending of {} Exceeded",
                    self.p.max_pending
                );
                self.nodes[f].slow_consumers += 1;
                self.nodes[f].sc_clients += 1;
                let what = format!(
                    "subscriber analytics-writer on {} exceeded max_pending ({} bytes buffered)",
                    self.names[f], self.p.max_pending
                );
                self.chain(
                    lt,
                    Some(f),
                    &format!("maxpending-{}", self.clients.slow.episode),
                    what,
                );
            }
        } else if !self.clients.slow.stalled {
            self.client_out(f, n, bytes);
        }
        if self.clients.slow.stalled
            && !self.clients.slow.deadline_hit
            && t - self.clients.slow.block_start >= self.p.write_deadline
        {
            self.clients.slow.deadline_hit = true;
            let chunks = self.rng.range(2, 3);
            let total = chunks * self.rng.range(55_000, 65_000);
            let label = self.slow_label();
            let mut d = Vec::new();
            crate::clock::go_duration(self.p.write_deadline * 1000, &mut d);
            let lt = t + self.jit(40 * MS);
            log!(
                self,
                f,
                lt,
                Inf,
                "{label} - Slow Consumer Detected: WriteDeadline of {} exceeded with {chunks} chunks of {total} total bytes.",
                String::from_utf8_lossy(&d)
            );
            self.nodes[f].slow_consumers += 1;
            self.nodes[f].sc_clients += 1;
            self.clients.slow.pending = 0.0;
        }
    }

    fn slow_label(&self) -> String {
        if self.p.version.has_client_info_segment() {
            format!(
                "127.0.0.1:{} - cid:{} - \"v0.1:python-raw:analytics-writer\"",
                self.clients.slow.port, self.clients.slow.cid
            )
        } else {
            format!(
                "127.0.0.1:{} - cid:{}",
                self.clients.slow.port, self.clients.slow.cid
            )
        }
    }

    fn slow_connect(&mut self) {
        let f = self.p.fail_node;
        self.clients.slow.cid = self.nodes[f].id();
        self.clients.slow.port = self.nodes[f].port();
        self.nodes[f].connections += 1;
        self.nodes[f].total_connections += 1;
        self.clients.slow.pending = 0.0;
        self.clients.slow.max_pending_hit = false;
        self.clients.slow.deadline_hit = false;
        self.clients.slow.stalled = false;
    }

    pub fn slow_stall(&mut self, ep: usize, t: Micros) {
        if ep == 0 {
            // The subscriber and the flood publisher come up a few seconds before the stall.
            self.clients.slow.active = true;
            let src = self.flood_source();
            self.nodes[src].connections += 1;
            self.nodes[src].total_connections += 1;
            self.slow_connect();
            let f = self.p.fail_node;
            let what = format!(
                "core subscriber analytics-writer on {} stops reading its socket while telemetry-ingest on {} floods it ({:.0} msg/s)",
                self.names[f], self.names[src], self.p.flood_rate
            );
            self.chain(t, Some(f), "stall", what);
        }
        self.clients.slow.episode = ep;
        self.clients.slow.stalled = true;
        self.clients.slow.block_start = t + 40 * MS + self.jit(20 * MS);
    }

    pub fn slow_restart(&mut self, ep: usize, t: Micros) {
        let f = self.p.fail_node;
        self.nodes[f].connections = self.nodes[f].connections.saturating_sub(1);
        if ep + 1 < self.p.episodes {
            self.slow_connect();
        } else {
            self.clients.slow.active = false;
            self.clients.slow.stalled = false;
            let _ = t;
        }
    }

    // --------------------------------------------------------------------- MQTT

    pub fn start_storm(&mut self, t: Micros) {
        let f = self.p.fail_node;
        let total = self.p.mqtt_clients;
        self.clients.devices = Vec::with_capacity(total);
        for k in 0..total {
            let durable = format!(
                "{}_{}{}",
                self.rng.alnum(8),
                self.clients.nuid,
                self.rng.alnum(4)
            );
            self.clients.devices.push(Device {
                node: f,
                durable,
                ..Default::default()
            });
            let at = t + (k as f64 / self.p.mqtt_rate * SEC as f64) as Micros + self.jit(2 * MS);
            self.at(at, Ev::MqttConnect(k as u32));
        }
        // The backend that sends QoS1 commands lives on another node.
        let b = self.flood_source();
        if b != f || self.p.nodes == 1 {
            self.clients.backend_mid = self.nodes[b].id();
            self.clients.backend_port = self.nodes[b].port();
            self.nodes[b].connections += 1;
            self.nodes[b].total_connections += 1;
            log!(
                self,
                b,
                t + 100 * MS + self.jit(MS),
                Inf,
                "Creating MQTT streams/consumers with replicas {} for account \"APP\"",
                self.p.nodes.min(3)
            );
            self.at(t + 2 * SEC, Ev::Backend);
        }
    }

    pub fn stop_storm(&mut self, t: Micros) {
        let f = self.p.fail_node;
        let connected = self.clients.devices.iter().filter(|d| d.connected).count() as u64;
        self.nodes[f].connections = self.nodes[f].connections.saturating_sub(connected);
        for d in &mut self.clients.devices {
            d.connected = false;
            d.done = true;
            d.waiting = false;
        }
        let what = format!(
            "storm ends: devices disconnect, {} CPU quota lifted",
            self.names[f]
        );
        self.chain(t, Some(f), "storm-end", what);
    }

    fn ensure_mqtt_streams(&mut self, t: Micros) {
        if self.clients.mqtt_msgs.is_some() {
            return;
        }
        let f = self.p.fail_node;
        log!(
            self,
            f,
            t + self.jit(MS),
            Inf,
            "Creating MQTT streams/consumers with replicas {} for account \"APP\"",
            self.p.nodes.min(3)
        );
        let reps = self.placement(f);
        let m = self.add_group(
            GroupKind::Stream,
            "APP > $MQTT_msgs".into(),
            reps.clone(),
            Some(f),
            false,
            t,
        );
        self.clients.mqtt_msgs = Some(m);
        self.log_new_leader(m, f, t + 500 * MS);
        let other = reps.get(1).copied().unwrap_or(f);
        let s = self.add_group(
            GroupKind::Stream,
            "APP > $MQTT_sess".into(),
            reps.clone(),
            Some(other),
            false,
            t,
        );
        self.clients.mqtt_sess = Some(s);
        self.log_new_leader(s, other, t + 480 * MS);
        let r = self.add_group(
            GroupKind::Stream,
            "APP > $MQTT_rmsgs".into(),
            reps,
            Some(other),
            false,
            t,
        );
        self.log_new_leader(r, other, t + 490 * MS);
    }

    pub fn mqtt_connect(&mut self, c: u32, t: Micros) {
        let d = &self.clients.devices[c as usize];
        if d.done || self.shutting_down {
            return;
        }
        let i = d.node;
        if !self.nodes[i].running() {
            let back = t + SEC + self.jit(2 * SEC);
            self.at(back, Ev::MqttConnect(c));
            return;
        }
        self.ensure_mqtt_streams(t);
        let mid = self.nodes[i].id();
        let port = self.nodes[i].port();
        {
            let n = &mut self.nodes[i];
            n.connections += 1;
            n.total_connections += 1;
            n.io_backlog += cost::MQTT_CONNECT;
            n.in_msgs += 2.0;
            n.in_bytes += 120.0;
        }
        if !self.clients.devices[c as usize].session {
            self.clients.devices[c as usize].session = true;
            self.nodes[i].mqtt_sessions += 1;
        }
        // Session persistence: a write to $MQTT_sess.
        if let Some(sg) = self.clients.mqtt_sess
            && let Some(l) = self.groups[sg].leader
            && self.nodes[l].running()
        {
            self.nodes[l].raft_backlog += cost::MQTT_SESSION;
            for &r in &self.groups[sg].replicas.clone() {
                if r != l && self.net.can_talk(l, r) {
                    self.nodes[r].raft_backlog += cost::APPLY;
                }
            }
        }
        let lat = self.nodes[i].io_latency;
        let dev = &mut self.clients.devices[c as usize];
        dev.mid = mid;
        dev.port = port;
        dev.connected = true;
        dev.seq += 1;
        dev.waiting = true;
        dev.loop_start = t;
        let seq = dev.seq;
        // SUBSCRIBE (QoS1) → durable consumer create, sent to the meta leader.
        let issue = t + (lat * SEC as f64) as Micros + 300 + self.jit(700);
        let exists = self.clients.devices[c as usize].consumer.is_some();
        let base = self.p.api_cost_ms / 1000.0;
        let cost = if exists { base * 0.1 } else { base };
        let req = ApiReq {
            kind: ApiKind::ConsumerCreate,
            client: c,
            seq,
            cost,
        };
        if let Some(m) = self.groups[0]
            .leader
            .filter(|&m| self.nodes[m].running() && self.net.can_talk(i, m))
        {
            self.enqueue_api(m, req, issue)
        }
        let timeout = issue + self.p.mqtt_timeout;
        self.at(timeout, Ev::MqttTimeout(c, seq));
    }

    /// Pushes a request onto the meta leader's JetStream API queue, with the
    /// version's pending-count warning and queue limit.
    fn enqueue_api(&mut self, m: usize, req: ApiReq, t: Micros) {
        let v = self.p.version;
        let n = &mut self.nodes[m];
        n.api_work += req.cost;
        n.api_q.push_back(req);
        let len = n.api_q.len();
        if len >= 100 {
            let what = format!(
                "JetStream API queue on {} backs up (>100 pending): arrivals exceed what its CPU share can serve",
                self.names[m]
            );
            self.chain(t, Some(m), "api-backlog", what);
        }
        if v.has_pending_count_warning() && len >= v.pending_warning_threshold() {
            let per_format = v.at_least(2, 10, 19);
            if !per_format || t - self.nodes[m].last_pending_warn >= SEC {
                self.nodes[m].last_pending_warn = t;
                log!(
                    self,
                    m,
                    t,
                    Wrn,
                    "JetStream request queue has high pending count: {len}"
                );
            }
        }
        if v.has_api_queue_limit() && len >= self.p.api_queue_limit {
            let n = &mut self.nodes[m];
            let dropped = n.api_q.len();
            n.api_q.clear();
            n.api_work = 0.0;
            n.api_head_done = 0.0;
            n.api_errors += dropped as u64;
            if t - n.last_limit_warn >= SEC {
                n.last_limit_warn = t;
                log!(
                    self,
                    m,
                    t,
                    Wrn,
                    "JetStream API queue limit reached, dropping {dropped} requests"
                );
            }
            let what = format!(
                "JetStream API queue on {} hit its limit ({}): requests dropped",
                self.names[m], self.p.api_queue_limit
            );
            self.chain(t, Some(m), "api-limit", what);
        }
    }

    /// The API worker on node `m` spends `budget` core-seconds on its queue.
    pub fn serve_api(&mut self, m: usize, mut budget: f64, t: Micros) {
        while budget > 0.0 {
            let Some(head) = self.nodes[m].api_q.front() else {
                break;
            };
            // A consumer that already exists makes the create a cheap lookup.
            let (c, full) = (head.client as usize, head.cost);
            let cheap = self.p.api_cost_ms / 1000.0 * 0.1;
            if self.nodes[m].api_head_done == 0.0
                && full > cheap
                && self
                    .clients
                    .devices
                    .get(c)
                    .is_some_and(|d| d.consumer.is_some())
            {
                self.nodes[m].api_work -= full - cheap;
                if let Some(h) = self.nodes[m].api_q.front_mut() {
                    h.cost = cheap;
                }
            }
            let Some(head) = self.nodes[m].api_q.front() else {
                break;
            };
            let need = head.cost - self.nodes[m].api_head_done;
            if budget < need {
                self.nodes[m].api_head_done += budget;
                self.nodes[m].api_work -= budget;
                break;
            }
            budget -= need;
            self.nodes[m].api_work -= need;
            self.nodes[m].api_head_done = 0.0;
            let Some(req) = self.nodes[m].api_q.pop_front() else {
                break;
            };
            let done = t + self.jit(crate::sim::TICK);
            self.api_done(m, req, done);
        }
        if self.nodes[m].api_q.is_empty() {
            self.nodes[m].api_work = 0.0;
        }
    }

    fn api_done(&mut self, m: usize, req: ApiReq, t: Micros) {
        self.nodes[m].api_total += 1;
        match req.kind {
            ApiKind::ConsumerCreate => {
                let c = req.client as usize;
                if self.clients.devices[c].consumer.is_none() {
                    self.create_device_consumer(c, t);
                }
                let dn = self.clients.devices[c].node;
                let hop = if dn == m { 0 } else { 400 };
                let lat = (self.nodes[dn].io_latency * SEC as f64) as Micros;
                let at = t + hop + lat + self.jit(500);
                self.at(at, Ev::MqttResponse(req.client, req.seq));
            }
        }
    }

    /// A durable consumer for device `c`: a new R3 Raft group, a meta entry on every node.
    fn create_device_consumer(&mut self, c: usize, t: Micros) {
        let np = self.p.nodes;
        let first = (self.p.fail_node + c) % np;
        let reps = self.placement(first);
        // The replica whose Raft work runs fastest wins the first election.
        let mut best = reps[0];
        let mut best_score = f64::MAX;
        for &r in &reps {
            if !self.nodes[r].running() {
                continue;
            }
            let score = self.nodes[r].raft_latency + self.rng.f64() * 0.05;
            if score < best_score {
                best_score = score;
                best = r;
            }
        }
        let asset = format!("APP > $MQTT_msgs > {}", self.clients.devices[c].durable);
        let g = self.add_group(
            GroupKind::Consumer,
            asset,
            reps.clone(),
            Some(best),
            false,
            t,
        );
        self.clients.devices[c].consumer = Some(g as u32);
        let lt =
            t + (self.nodes[best].raft_latency.min(3.0) * SEC as f64) as Micros + self.jit(2 * MS);
        let asset = self.groups[g].asset.clone();
        self.log_at(
            best,
            lt,
            Level::Inf,
            format!("JetStream cluster new consumer leader for '{asset}'"),
        );
        for (s, &r) in reps.iter().enumerate() {
            if r == best || !self.nodes[r].running() {
                continue;
            }
            self.nodes[r].raft_backlog += cost::GROUP_CREATE + 3.0 * cost::APPLY;
            let lat = self.nodes[r].raft_latency;
            self.groups.add_lag(g, s, 3.0);
            if lat > 0.3 {
                let raft = self.groups[g].raft.clone();
                let ft = t + (lat.min(3.0) * SEC as f64) as Micros + self.jit(3 * MS);
                let fid = self.raft_ids[r].clone();
                let msg = format!(
                    "RAFT [{fid} - {raft}] Expected first catchup entry to be a snapshot and peerstate, will retry"
                );
                self.log_at(r, ft, Level::Wrn, msg);
                let lid = self.raft_ids[best].clone();
                let lt2 = ft + 200 + self.jit(2 * MS);
                let msg = format!(
                    "RAFT [{lid} - {raft}] Request from follower for index [1] possibly beyond our last index [3] - no message found"
                );
                self.log_at(best, lt2, Level::Wrn, msg);
                let what = format!(
                    "{} lags on new consumer Raft groups (catch-up retries)",
                    self.names[r]
                );
                self.chain(ft, Some(r), &format!("catchup-{r}"), what);
            }
        }
        // The assignment is a meta-group entry every node must apply.
        for i in 0..np {
            if self.nodes[i].running() {
                self.nodes[i].raft_backlog += cost::META_APPLY;
                self.groups.add_lag(0, i, 1.0);
            }
        }
    }

    pub fn mqtt_response(&mut self, c: u32, seq: u32, t: Micros) {
        let d = &mut self.clients.devices[c as usize];
        if !d.waiting || d.seq != seq {
            return;
        }
        d.waiting = false;
        d.done = true;
        let took = t - d.loop_start;
        let (i, mid, port) = (d.node, d.mid, d.port);
        if took >= 2 * SEC {
            let ns = took * 1000 + self.rng.range(0, 999);
            let mut buf = Vec::new();
            crate::clock::go_duration(ns, &mut buf);
            log!(
                self,
                i,
                t,
                Wrn,
                "127.0.0.1:{port} - mid:{mid} - \"dev-{c:05}\" - Readloop processing time: {}",
                String::from_utf8_lossy(&buf)
            );
            let what = format!(
                "MQTT read loops on {} blocked >2 s waiting for JetStream API responses",
                self.names[i]
            );
            self.chain(t, Some(i), "readloop", what);
        }
    }

    pub fn mqtt_timeout(&mut self, c: u32, seq: u32, t: Micros) {
        let d = &self.clients.devices[c as usize];
        if !d.waiting || d.seq != seq {
            return;
        }
        let (i, mid, port, start) = (d.node, d.mid, d.port, d.loop_start);
        let durable = d.durable.clone();
        self.clients.devices[c as usize].waiting = false;
        self.clients.devices[c as usize].connected = false;
        let rid = self.raft_ids[i].clone();
        let reply = format!("{}{}", self.clients.nuid, self.rng.alnum(4));
        log!(
            self,
            i,
            t,
            Err,
            "127.0.0.1:{port} - mid:{mid} - \"dev-{c:05}\" - Unable to add JetStream consumer for subscription on \"devices.dev-{c:05}.cmd\": err=timeout for request type \"CC\" on \"$JS.API.CONSUMER.DURABLE.CREATE.$MQTT_msgs.{durable}\" (reply=\"$MQTT.JSA.{rid}.CC.{reply}\")"
        );
        let extra = self.rng.range(2 * MS, 250 * MS);
        let ns = (t + extra - start) * 1000 + self.rng.range(0, 999);
        let mut buf = Vec::new();
        crate::clock::go_duration(ns, &mut buf);
        let d = String::from_utf8_lossy(&buf);
        let msg = format!(
            "127.0.0.1:{port} - mid:{mid} - \"dev-{c:05}\" - Readloop processing time: {d}"
        );
        self.log_at(i, t + extra, Level::Wrn, msg);
        let what = format!(
            "MQTT subscriptions on {} fail: JetStream consumer create timed out after {}s; devices reconnect and retry",
            self.names[i],
            self.p.mqtt_timeout / SEC
        );
        self.chain(t, Some(i), "mqtt-timeout", what);
        self.nodes[i].connections = self.nodes[i].connections.saturating_sub(1);
        let back = t + 3 * SEC + self.jit(9 * SEC);
        self.at(back, Ev::MqttConnect(c));
    }

    /// The QoS1 command publisher: each command is stored in `$MQTT_msgs` on its leader.
    pub fn backend(&mut self, t: Micros) {
        if self.shutting_down
            || self.clients.devices.iter().all(|d| d.done && !d.waiting)
                && self
                    .truth
                    .fault_time()
                    .is_some_and(|ft| t > ft + self.p.fault_for)
        {
            return;
        }
        let b = self.flood_source();
        let Some(g) = self.clients.mqtt_msgs else {
            self.at(t + SEC, Ev::Backend);
            return;
        };
        let Some(l) = self.groups[g].leader else {
            self.at(t + SEC, Ev::Backend);
            return;
        };
        let wait = self.nodes[l].io_latency + self.nodes[l].raft_latency * 0.5 + 0.002;
        let timeout = self.p.mqtt_timeout as f64 / SEC as f64;
        let rid = self.raft_ids[b].clone();
        let (mid, port) = (self.clients.backend_mid, self.clients.backend_port);
        if wait >= timeout {
            let took = timeout + self.rng.f64() * 0.01;
            let mut buf = Vec::new();
            crate::clock::go_duration((took * 1e9) as i64, &mut buf);
            let tt = t + (took * SEC as f64) as Micros;
            let d = String::from_utf8_lossy(&buf);
            let msg = format!(
                "127.0.0.1:{port} - mid:{mid} - \"dev-backend\" - Readloop processing time: {d}"
            );
            self.log_at(b, tt, Level::Wrn, msg);
            let dev = self.rng.range(0, self.p.mqtt_clients.max(1) as i64 - 1);
            let reply = format!("{}{}", self.clients.nuid, self.rng.alnum(4));
            let msg = format!(
                "127.0.0.1:{port} - mid:{mid} - \"dev-backend\" - timeout for request type \"MS\" on \"$MQTT.msgs.devices.dev-{dev:05}.cmd\" (reply=\"$MQTT.JSA.{rid}.MS.{reply}\")"
            );
            self.log_at(b, tt + 30, Level::Err, msg);
            // The backend reconnects.
            self.clients.backend_mid = self.nodes[b].id();
            self.clients.backend_port = self.nodes[b].port();
            self.at(tt + SEC, Ev::Backend);
        } else {
            if wait >= 2.0 {
                let mut buf = Vec::new();
                crate::clock::go_duration(
                    (wait * 1e9) as i64 + self.rng.range(0, 999_999),
                    &mut buf,
                );
                let tt = t + (wait * SEC as f64) as Micros;
                let d = String::from_utf8_lossy(&buf);
                let msg = format!(
                    "127.0.0.1:{port} - mid:{mid} - \"dev-backend\" - Readloop processing time: {d}"
                );
                self.log_at(b, tt, Level::Wrn, msg);
            }
            let next = t + ((wait.max(0.5)) * SEC as f64) as Micros + self.jit(200 * MS);
            self.at(next, Ev::Backend);
        }
    }
}

fn n_or(x: f64) -> f64 {
    x
}
