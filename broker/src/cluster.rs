//! Raft groups (elections, quorum, leader changes and what each node logs about
//! them) and route upkeep (pings, stale detection, write deadlines, buffering).

use crate::clock::{MS, Micros, SEC};
use crate::logger::Level;
use crate::model::{Group, GroupKind, cost};
use crate::sim::{Sim, log};

/// Raft election timeout range (nats-server: 4–9 s).
const ELECTION_MIN: Micros = 4 * SEC;
const ELECTION_MAX: Micros = 9 * SEC;
/// A follower counts as not current with the meta leader after this long without contact.
pub const META_STALE: Micros = 2 * SEC;
/// A leader without quorum for this long gives up (meta) or reports a stall (streams).
const LOST_QUORUM: Micros = 4 * SEC;

impl Sim {
    /// Creates a group with a fixed first leader and registers its replicas.
    pub fn add_group(
        &mut self,
        kind: GroupKind,
        asset: String,
        replicas: Vec<usize>,
        leader: Option<usize>,
        memory: bool,
        t: Micros,
    ) -> usize {
        let n = replicas.len();
        let prefix = match kind {
            GroupKind::Stream => 'S',
            _ => 'C',
        };
        let raft = format!(
            "{prefix}-R{n}{}-{}",
            if memory { 'M' } else { 'F' },
            self.rng.alnum(8)
        );
        for &r in &replicas {
            self.hosted[r] += 1;
        }
        let view = replicas
            .iter()
            .map(|&r| {
                if Some(r) == leader && self.nodes[r].running() {
                    leader
                } else {
                    None
                }
            })
            .collect();
        self.groups.push(Group {
            kind,
            asset,
            raft,
            replicas,
            leader,
            term: 1,
            view,
            contact: vec![t; n],
            deadline: vec![0; n],
            lag: vec![0.0; n],
            missed: vec![0.0; n],
            quorum_at: t,
            last_noquorum_log: i64::MIN / 2,
            memory,
            msgs: 0.0,
            bytes: 0.0,
        });
        self.groups.len() - 1
    }

    /// Three replicas starting at `first`, wrapping around (all nodes if fewer).
    pub fn placement(&self, first: usize) -> Vec<usize> {
        let n = self.p.nodes;
        (0..n.min(3)).map(|k| (first + k) % n).collect()
    }

    /// Logs that `leader` now leads group `gi` (on the leader or on the followers, as nats-server does).
    pub fn log_new_leader(&mut self, gi: usize, leader: usize, t: Micros) {
        let g = &self.groups[gi];
        let asset = g.asset.clone();
        match g.kind {
            GroupKind::Meta => {
                log!(
                    self,
                    leader,
                    t,
                    Inf,
                    "Self is new JetStream cluster metadata leader"
                );
                self.nodes[leader].meta.ever = true;
            }
            GroupKind::Stream => {
                log!(
                    self,
                    leader,
                    t,
                    Inf,
                    "JetStream cluster new stream leader for '{asset}'"
                );
            }
            GroupKind::Consumer => {
                log!(
                    self,
                    leader,
                    t,
                    Inf,
                    "JetStream cluster new consumer leader for '{asset}'"
                );
            }
        }
    }

    /// One pass of Raft upkeep for group `gi`: heartbeats, quorum, elections.
    pub fn scan_group(&mut self, gi: usize, t: Micros) {
        let n = self.groups[gi].replicas.len();
        // The leader's side.
        if let Some(l) = self.groups[gi].leader {
            let ls = self.groups[gi].slot(l).unwrap_or(0);
            if self.nodes[l].running() && self.groups[gi].view[ls] == Some(l) {
                let mut votes = 1;
                for s in 0..n {
                    let r = self.groups[gi].replicas[s];
                    if r == l || !self.can_talk(l, r) {
                        continue;
                    }
                    votes += 1;
                    self.groups[gi].contact[s] = t;
                    self.groups[gi].deadline[s] = 0;
                    if self.groups[gi].view[s] != Some(l) {
                        self.groups[gi].view[s] = Some(l);
                        self.follower_learns(gi, r, l, t);
                    }
                    let missed = std::mem::take(&mut self.groups[gi].missed[s]);
                    if missed > 0.0 {
                        self.nodes[r].raft_backlog += missed * cost::APPLY;
                    }
                }
                if votes * 2 > n {
                    self.groups[gi].quorum_at = t;
                } else if t - self.groups[gi].quorum_at > LOST_QUORUM && n > 1 {
                    self.leader_without_quorum(gi, l, t);
                }
            }
        }
        // Followers: contact or campaign.
        for s in 0..n {
            let r = self.groups[gi].replicas[s];
            if !self.nodes[r].running() {
                continue;
            }
            let g = &self.groups[gi];
            if g.leader == Some(r) && g.view[s] == Some(r) {
                continue;
            }
            let leader_ok = match g.leader {
                Some(l) => {
                    l != r
                        && self.can_talk(l, r)
                        && g.slot(l).is_some_and(|ls| g.view[ls] == Some(l))
                }
                None => false,
            };
            if leader_ok {
                continue; // refreshed above
            }
            if g.deadline[s] == 0 {
                let designated =
                    g.kind == GroupKind::Meta && g.term == 0 && r == self.p.meta_leader;
                let wait = if designated {
                    250 * MS
                } else {
                    self.rng.range(ELECTION_MIN, ELECTION_MAX)
                };
                self.groups[gi].deadline[s] = self.groups[gi].contact[s].max(t - TICK_BACK) + wait;
                continue;
            }
            if t < g.deadline[s] {
                continue;
            }
            // Campaign: voters must reach us and must not be ahead of us.
            let my_lag = g.lag[s];
            let votes = (0..n)
                .filter(|&v| {
                    let vn = g.replicas[v];
                    self.nodes[vn].running() && self.can_talk(r, vn) && my_lag <= g.lag[v] + 0.5
                })
                .count();
            let oos = self.nodes[r].out_of_storage && g.kind == GroupKind::Stream && !g.memory;
            if votes * 2 > n && !oos {
                self.win_election(gi, r, t);
            } else {
                let wait = self.rng.range(ELECTION_MIN, ELECTION_MAX);
                self.groups[gi].deadline[s] = t + wait;
            }
        }
    }

    fn win_election(&mut self, gi: usize, r: usize, t: Micros) {
        let old = self.groups[gi].leader;
        {
            let g = &mut self.groups[gi];
            g.term += 1;
            g.leader = Some(r);
            g.quorum_at = t;
            let n = g.replicas.len();
            for s in 0..n {
                g.deadline[s] = 0;
                g.contact[s] = t;
            }
        }
        let s = self.groups[gi].slot(r).unwrap_or(0);
        self.groups[gi].view[s] = Some(r);
        let lt = t + self.jit(3 * MS);
        self.log_new_leader(gi, r, lt);
        let kind = self.groups[gi].kind;
        if kind == GroupKind::Meta {
            self.nodes[r].meta.leader = Some(r);
        }
        if let Some(o) = old
            && o != r
            && (kind != GroupKind::Consumer || gi <= 8)
        {
            let what = match kind {
                GroupKind::Meta => format!(
                    "meta leadership moved from {} to {}",
                    self.names[o], self.names[r]
                ),
                _ => format!(
                    "'{}' leadership moved from {} to {}",
                    self.groups[gi].asset, self.names[o], self.names[r]
                ),
            };
            let key = format!("leader-{gi}-{}", self.groups[gi].term);
            if self.chain.len() < 40 {
                self.chain(lt, Some(r), &key, what);
            }
        }
        // Followers that can hear the new leader learn at once.
        let n = self.groups[gi].replicas.len();
        for v in 0..n {
            let vn = self.groups[gi].replicas[v];
            if vn != r && self.can_talk(r, vn) && self.groups[gi].view[v] != Some(r) {
                self.groups[gi].view[v] = Some(r);
                let ft = lt + 300 + self.jit(3 * MS);
                self.follower_learns(gi, vn, r, ft);
            }
        }
    }

    /// A follower hears from a (new) leader.
    fn follower_learns(&mut self, gi: usize, r: usize, l: usize, t: Micros) {
        if self.groups[gi].kind == GroupKind::Meta {
            self.nodes[r].meta.ever = true;
            if self.nodes[r].meta.leader != Some(l) {
                self.nodes[r].meta.leader = Some(l);
                let ln = self.names[l].clone();
                log!(
                    self,
                    r,
                    t,
                    Inf,
                    "JetStream cluster new metadata leader: {ln}/{}",
                    self.p.cluster
                );
            }
        }
    }

    fn leader_without_quorum(&mut self, gi: usize, l: usize, t: Micros) {
        match self.groups[gi].kind {
            GroupKind::Meta => {
                let s = self.groups[gi].slot(l).unwrap_or(0);
                self.groups[gi].view[s] = None;
                self.groups[gi].leader = None;
                self.nodes[l].meta.leader = None;
                log!(self, l, t, Inf, "JetStream cluster no metadata leader");
            }
            GroupKind::Stream | GroupKind::Consumer => {
                if t - self.groups[gi].last_noquorum_log >= 10 * SEC {
                    self.groups[gi].last_noquorum_log = t;
                    let asset = self.groups[gi].asset.clone();
                    if self.groups[gi].kind == GroupKind::Stream {
                        log!(
                            self,
                            l,
                            t,
                            Wrn,
                            "JetStream cluster stream '{asset}' has NO quorum, stalled"
                        );
                    } else {
                        log!(
                            self,
                            l,
                            t,
                            Wrn,
                            "JetStream cluster consumer '{asset}' has NO quorum, stalled."
                        );
                    }
                }
            }
        }
    }

    /// A stream leader that cannot store steps down; another replica takes over quickly.
    pub fn step_down(&mut self, gi: usize, t: Micros) {
        let Some(l) = self.groups[gi].leader else {
            return;
        };
        let s = self.groups[gi].slot(l).unwrap_or(0);
        self.groups[gi].view[s] = None;
        self.groups[gi].leader = None;
        let n = self.groups[gi].replicas.len();
        for v in 0..n {
            if v != s {
                self.groups[gi].deadline[v] = t + 15 * MS + self.jit(20 * MS);
            }
        }
        let what = format!(
            "{} steps down as '{}' leader (cannot store)",
            self.names[l], self.groups[gi].asset
        );
        self.chain(t, Some(l), &format!("stepdown-{gi}"), what);
    }

    /// Route upkeep: traffic bookkeeping, buffered bytes, PING/PONG and stale
    /// detection, write deadlines, slow route read loops.
    pub fn routes_tick(&mut self, t: Micros, dt: f64) {
        let n = self.p.nodes;
        let pings_inbound = self.p.version.pings_on_inbound_idle();
        for a in 0..n {
            for b in (a + 1)..n {
                let li = a * n + b;
                if !self.links[li].open[0] && !self.links[li].open[1] {
                    continue;
                }
                // Raft heartbeats and internal traffic on every live route.
                let hb = 10.0 + (self.hosted[a].min(self.hosted[b]) as f64);
                for side in 0..2 {
                    let (x, y) = if side == 0 { (a, b) } else { (b, a) };
                    if !self.links[li].open[side] || !self.nodes[x].running() {
                        continue;
                    }
                    self.route_send(x, y, hb * dt, hb * dt * 120.0, t);
                }
                for side in 0..2 {
                    let (x, y) = if side == 0 { (a, b) } else { (b, a) };
                    if !self.links[li].open[side] || !self.nodes[x].running() {
                        continue;
                    }
                    // Write deadline on a blocked socket.
                    if let Some(since) = self.links[li].blocked_since[side]
                        && t - since >= self.p.write_deadline
                    {
                        let addr = self.links[li].addr[side].clone();
                        let rid = self.links[li].rid[side];
                        let chunks = self.rng.range(1, 3);
                        let bytes = chunks * self.rng.range(300, 900);
                        let mut d = Vec::new();
                        crate::clock::go_duration(self.p.write_deadline * 1000, &mut d);
                        let d = String::from_utf8_lossy(&d).into_owned();
                        log!(
                            self,
                            x,
                            t,
                            Inf,
                            "{addr} - rid:{rid} - Slow Consumer Detected: WriteDeadline of {d} exceeded with {chunks} chunks of {bytes} total bytes."
                        );
                        self.nodes[x].slow_consumers += 1;
                        self.nodes[x].sc_routes += 1;
                        let what = format!(
                            "{} cut its route to {} (write deadline exceeded)",
                            self.names[x], self.names[y]
                        );
                        self.chain(t, Some(x), &format!("wd-{x}-{y}"), what);
                        self.close_link_side(x, y, t + 40, Some("Slow Consumer (Write Deadline)"));
                        continue;
                    }
                    // PING timer.
                    if t >= self.links[li].next_ping[side] {
                        self.links[li].next_ping[side] = t + self.p.ping_interval;
                        let idle_ref = if pings_inbound {
                            self.links[li].last_in[side]
                        } else {
                            self.links[li].last_out[side]
                        };
                        // Recent activity (or a PONG that makes it back) resets the count.
                        if t - idle_ref < self.p.ping_interval || self.can_talk(x, y) {
                            self.links[li].pings_out[side] = 0;
                        } else {
                            self.links[li].pings_out[side] += 1;
                            if self.links[li].pings_out[side] > self.p.ping_max {
                                let what = format!(
                                    "{} found its route to {} stale (no PONG)",
                                    self.names[x], self.names[y]
                                );
                                self.chain(t, Some(x), &format!("stale-{x}-{y}"), what);
                                self.close_link_side(x, y, t, Some("Stale Connection"));
                                continue;
                            }
                        }
                    }
                    // A starved read loop on a route.
                    let lat = self.nodes[x].route_latency;
                    if lat >= 2.0 && self.tick_n % 1200 == (li as u64 * 7 % 1200) {
                        let addr = self.links[li].addr[side].clone();
                        let rid = self.links[li].rid[side];
                        let mut d = Vec::new();
                        crate::clock::go_duration(
                            (lat * 1e9) as i64 + self.rng.range(0, 999_999),
                            &mut d,
                        );
                        log!(
                            self,
                            x,
                            t + self.jit(TICK_J),
                            Wrn,
                            "{addr} - rid:{rid} - Readloop processing time: {}",
                            String::from_utf8_lossy(&d)
                        );
                    }
                }
                // Buffered bytes flow once the peer can read again.
                for side in 0..2 {
                    let (x, y) = if side == 0 { (a, b) } else { (b, a) };
                    if self.links[li].pending[side] > 0.0 && self.can_talk(x, y) {
                        let bytes = std::mem::take(&mut self.links[li].pending[side]);
                        self.links[li].blocked_since[side] = None;
                        self.nodes[y].route_backlog += bytes / 600.0 * cost::ROUTE_MSG;
                    }
                }
            }
        }
    }

    /// Sends `msgs`/`bytes` from `x` to `y` over their route (costs, counters,
    /// socket buffering when `y` cannot read).
    pub fn route_send(&mut self, x: usize, y: usize, msgs: f64, bytes: f64, t: Micros) {
        if x == y || msgs <= 0.0 {
            return;
        }
        let (li, side) = self.link_idx(x, y);
        if !self.links[li].open[side] {
            return;
        }
        let other = 1 - side;
        let talk = self.can_talk(x, y);
        let sock_buf = self.p.sock_buf as f64;
        let l = &mut self.links[li];
        l.out_msgs[side] += msgs;
        l.out_bytes[side] += bytes;
        l.last_out[side] = t;
        self.nodes[x].out_msgs += msgs;
        self.nodes[x].out_bytes += bytes;
        self.nodes[x].route_backlog += msgs * cost::ROUTE_MSG;
        if talk && l.open[other] {
            l.in_msgs[other] += msgs;
            l.in_bytes[other] += bytes;
            l.last_in[other] = t;
            self.nodes[y].in_msgs += msgs;
            self.nodes[y].in_bytes += bytes;
            self.nodes[y].route_backlog += msgs * cost::ROUTE_MSG;
        } else {
            l.pending[side] += bytes;
            if l.pending[side] > sock_buf && l.blocked_since[side].is_none() {
                l.blocked_since[side] = Some(t);
            }
        }
    }
}

/// How far back a freshly armed election timer may start (covers the tick granularity).
const TICK_BACK: Micros = 50 * MS;
const TICK_J: Micros = 45 * MS;
