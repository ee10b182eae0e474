//! The startup banner a node logs (version, identity, configuration, the
//! JetStream box, restored streams on a restart, the listeners), line by line
//! with the timing of the real server.

use crate::clock::Micros;
use crate::logger::Level;
use crate::model::GroupKind;
use crate::sim::{Sim, commas, friendly_bytes, log};

/// Where the banner's next line goes: `gap` µs (plus 0–1 µs of jitter) after
/// the previous line or whatever else the node logged last.
struct Cursor {
    i: usize,
    tt: Micros,
}

impl Cursor {
    fn step(&mut self, s: &mut Sim, gap: Micros) -> Micros {
        self.tt = self.tt.max(s.logs[self.i].last()) + gap + s.rng.range(0, 2);
        self.tt
    }
}

impl Sim {
    /// Node `i` starts at `t` (`restart`: not its first lifetime).
    pub(crate) fn banner(&mut self, i: usize, t: Micros, restart: bool) {
        let mut c = Cursor { i, tt: t };
        self.banner_identity(&mut c);
        self.banner_jetstream(&mut c);
        if restart {
            self.banner_restore(&mut c);
        }
        self.banner_listeners(&mut c, t, restart);
    }

    /// Version, identity, configuration file, monitoring port.
    fn banner_identity(&mut self, c: &mut Cursor) {
        let i = c.i;
        let v = self.p.version;
        let name = self.names[i].clone();
        let l = c.step(self, 0);
        log!(self, i, l, Inf, "Starting nats-server");
        let l = c.step(self, 45);
        log!(self, i, l, Inf, "  Version:  {v}");
        let l = c.step(self, 1);
        log!(self, i, l, Inf, "  Git:      [not set]");
        let l = c.step(self, 1);
        log!(self, i, l, Inf, "  Cluster:  {}", self.p.cluster);
        let l = c.step(self, 1);
        log!(self, i, l, Inf, "  Name:     {name}");
        let l = c.step(self, 1);
        log!(self, i, l, Inf, "  Node:     {}", self.raft_ids[i]);
        let l = c.step(self, 2);
        log!(self, i, l, Inf, "  ID:       {}", self.nodes[i].server_id);
        let l = c.step(self, 2);
        log!(
            self,
            i,
            l,
            Wrn,
            "Plaintext passwords detected, use nkeys or bcrypt"
        );
        let l = c.step(self, 3);
        if v.at_least(2, 11, 0) {
            let digest = format!(
                "{:016x}{:016x}{:016x}{:016x}",
                self.truth.seed().wrapping_mul(31),
                i,
                self.truth.seed() ^ 0x5bd1e995,
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
        let l = c.step(self, 400);
        log!(
            self,
            i,
            l,
            Inf,
            "Starting http monitor on 127.0.0.1:{}",
            18221 + i
        );
    }

    /// The JetStream box: ASCII art, limits, store directory, API level.
    fn banner_jetstream(&mut self, c: &mut Cursor) {
        let i = c.i;
        let v = self.p.version;
        let name = self.names[i].clone();
        let l = c.step(self, 25);
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
            let l = c.step(self, if k == 0 { 90 } else { 1 });
            log!(self, i, l, Inf, "{line}");
        }
        let l = c.step(self, 1);
        log!(
            self,
            i,
            l,
            Inf,
            "---------------- JETSTREAM ----------------"
        );
        let l = c.step(self, 5);
        log!(
            self,
            i,
            l,
            Inf,
            "  Max Memory:      {}",
            friendly_bytes(self.nodes[i].max_memory)
        );
        let l = c.step(self, 2);
        log!(
            self,
            i,
            l,
            Inf,
            "  Max Storage:     {}",
            friendly_bytes(self.nodes[i].max_storage)
        );
        let l = c.step(self, 2);
        log!(
            self,
            i,
            l,
            Inf,
            "  Store Directory: \"/data/{name}/jetstream\""
        );
        if v.at_least(2, 11, 0) {
            let l = c.step(self, 1);
            log!(
                self,
                i,
                l,
                Inf,
                "  API Level:       {}",
                if v.at_least(2, 12, 0) { 2 } else { 1 }
            );
        }
        let l = c.step(self, 1);
        log!(
            self,
            i,
            l,
            Inf,
            "-------------------------------------------"
        );
    }

    /// A restarted node restores its streams and their consumers.
    fn banner_restore(&mut self, c: &mut Cursor) {
        let i = c.i;
        let v = self.p.version;
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
            let l = c.step(self, 1500);
            log!(self, i, l, Inf, "  Starting restore for stream '{asset}'");
            let took = 3_000 + (msgs as i64) * 3;
            let l = c.step(self, took);
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
                let l = c.step(self, 20);
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

    /// The JetStream cluster, then the client, MQTT and route listeners.
    fn banner_listeners(&mut self, c: &mut Cursor, t: Micros, restart: bool) {
        let i = c.i;
        let v = self.p.version;
        let l = c.step(self, 700);
        log!(self, i, l, Inf, "Starting JetStream cluster");
        let l = c.step(self, 8);
        log!(self, i, l, Inf, "Creating JetStream metadata controller");
        let l = c.step(self, 320);
        if restart {
            log!(self, i, l, Inf, "JetStream cluster recovering state");
        } else {
            log!(self, i, l, Inf, "JetStream cluster bootstrapping");
        }
        if v.at_least(2, 11, 11) {
            let l = c.step(self, 30);
            log!(
                self,
                i,
                l,
                Inf,
                "Took {}ms to start JetStream",
                1 + (l - t) / 1000
            );
        }
        let l = c.step(self, 180);
        log!(
            self,
            i,
            l,
            Inf,
            "Listening for MQTT clients on mqtt://127.0.0.1:{}",
            11881 + i
        );
        let l = c.step(self, 30);
        log!(
            self,
            i,
            l,
            Inf,
            "Listening for client connections on 127.0.0.1:{}",
            14221 + i
        );
        let l = c.step(self, 4);
        log!(self, i, l, Inf, "Server is ready");
        let l = c.step(self, 150);
        log!(self, i, l, Inf, "Cluster name is {}", self.p.cluster);
        let l = c.step(self, 15);
        log!(
            self,
            i,
            l,
            Inf,
            "Listening for route connections on 127.0.0.1:{}",
            16221 + i
        );
    }
}
