//! Raft groups at work: elections, quorum, leader changes and what each node
//! logs about them (the groups themselves are in `groups.rs`).

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
        self.groups.add(Group {
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
        })
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
                    if r == l || !self.net.can_talk(l, r) {
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
                        && self.net.can_talk(l, r)
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
                    self.nodes[vn].running() && self.net.can_talk(r, vn) && my_lag <= g.lag[v] + 0.5
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
            if self.truth.chain().len() < 40 {
                self.chain(lt, Some(r), &key, what);
            }
        }
        // Followers that can hear the new leader learn at once.
        let n = self.groups[gi].replicas.len();
        for v in 0..n {
            let vn = self.groups[gi].replicas[v];
            if vn != r && self.net.can_talk(r, vn) && self.groups[gi].view[v] != Some(r) {
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
}

/// How far back a freshly armed election timer may start (covers the tick granularity).
const TICK_BACK: Micros = 50 * MS;
