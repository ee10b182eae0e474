//! Routes between the nodes: dialing (retries, refused and timed-out dials,
//! the self-route and duplicate-route handshakes), closing, and the upkeep of
//! open routes each tick (traffic, socket buffering, PING/PONG and stale
//! detection, write deadlines, slow read loops).

use crate::clock::{MS, Micros, SEC};
use crate::logger::Level;
use crate::model::{Proc, cost};
use crate::queue::Ev;
use crate::sim::{Sim, log};

/// Jitter of a line logged within the tick.
const TICK_J: Micros = 45 * MS;

impl Sim {
    /// Closes `a`'s side of the route to `b`, logging `reason` (None = silent, e.g. a killed process).
    pub fn close_link_side(&mut self, a: usize, b: usize, t: Micros, reason: Option<&str>) {
        let (li, side) = self.net.idx(a, b);
        if !self.net[li].open[side] {
            return;
        }
        self.net[li].open[side] = false;
        self.net[li].pending[side] = 0.0;
        self.net[li].blocked_since[side] = None;
        self.net[li].pings_out[side] = 0;
        if let Some(r) = reason {
            let addr = self.net[li].addr[side].clone();
            let rid = self.net[li].rid[side];
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
                && !self.net[li].dialing[side]
            {
                self.net[li].dialing[side] = true;
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

    pub(crate) fn dial(
        &mut self,
        from: usize,
        to: usize,
        attempt: u32,
        after_loss: bool,
        t: Micros,
    ) {
        if self.shutting_down || self.nodes[from].state == Proc::Down {
            return;
        }
        let (li, side) = self.net.idx(from, to);
        let retry = |s: &mut Sim, at: Micros, report_every_attempt: bool| {
            let (li, side) = s.net.idx(from, to);
            s.net[li].dialing[side] = true;
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
        if self.net[li].open[side] && self.net[li].open[1 - side] {
            self.net[li].dialing[side] = false;
            // Already connected from the other side: this one is a duplicate.
            let r1 = self.nodes[from].id();
            let eph = self.nodes[from].port();
            let r2 = self.nodes[to].id();
            if self.nodes[to].running() && !self.net.is_down(from) && !self.net.is_down(to) {
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
        if self.net.is_down(from) || self.net.is_down(to) {
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
        self.connect_route(from, to, t);
    }

    /// `from` reached `to`: a fresh route replaces whatever half-open one the
    /// peer still had; both ends log it.
    fn connect_route(&mut self, from: usize, to: usize, t: Micros) {
        let (li, side) = self.net.idx(from, to);
        let port = 16221 + to;
        let eph = self.nodes[from].port();
        let r_from = self.nodes[from].id();
        let r_to = self.nodes[to].id();
        let ping_at = t + self.p.ping_interval;
        let addrs = (format!("127.0.0.1:{port}"), format!("127.0.0.1:{eph}"));
        self.net[li].connect(side, (r_from, r_to), addrs, t, ping_at);
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

    /// Route upkeep: traffic bookkeeping, buffered bytes, PING/PONG and stale
    /// detection, write deadlines, slow route read loops.
    pub fn routes_tick(&mut self, t: Micros, dt: f64) {
        let n = self.p.nodes;
        let pings_inbound = self.p.version.pings_on_inbound_idle();
        for a in 0..n {
            for b in (a + 1)..n {
                let (li, _) = self.net.idx(a, b);
                if !self.net[li].open[0] && !self.net[li].open[1] {
                    continue;
                }
                // Raft heartbeats and internal traffic on every live route.
                let hb = 10.0 + (self.groups.hosted(a).min(self.groups.hosted(b)) as f64);
                for side in 0..2 {
                    let (x, y) = if side == 0 { (a, b) } else { (b, a) };
                    if !self.net[li].open[side] || !self.nodes[x].running() {
                        continue;
                    }
                    self.route_send(x, y, hb * dt, hb * dt * 120.0, t);
                }
                for side in 0..2 {
                    let (x, y) = if side == 0 { (a, b) } else { (b, a) };
                    if !self.net[li].open[side] || !self.nodes[x].running() {
                        continue;
                    }
                    if self.write_deadline((li, side), (x, y), t) {
                        continue;
                    }
                    if self.ping((li, side), (x, y), t, pings_inbound) {
                        continue;
                    }
                    self.slow_read_loop((li, side), x, t);
                }
                // Buffered bytes flow once the peer can read again.
                for side in 0..2 {
                    let (x, y) = if side == 0 { (a, b) } else { (b, a) };
                    if self.net[li].pending[side] > 0.0 && self.net.can_talk(x, y) {
                        let bytes = std::mem::take(&mut self.net[li].pending[side]);
                        self.net[li].blocked_since[side] = None;
                        self.nodes[y].route_backlog += bytes / 600.0 * cost::ROUTE_MSG;
                    }
                }
            }
        }
    }

    /// `x`'s side of link `li` blocked on a peer that does not read for the
    /// write deadline: `x` reports a slow consumer and cuts the route
    /// (returns true).
    fn write_deadline(
        &mut self,
        (li, side): (usize, usize),
        (x, y): (usize, usize),
        t: Micros,
    ) -> bool {
        if let Some(since) = self.net[li].blocked_since[side]
            && t - since >= self.p.write_deadline
        {
            let addr = self.net[li].addr[side].clone();
            let rid = self.net[li].rid[side];
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
            return true;
        }
        false
    }

    /// The PING timer of `x`'s side: recent activity (or a PONG that makes it
    /// back) resets the count; too many unanswered and `x` closes the route
    /// as stale (returns true).
    fn ping(
        &mut self,
        (li, side): (usize, usize),
        (x, y): (usize, usize),
        t: Micros,
        pings_inbound: bool,
    ) -> bool {
        if t >= self.net[li].next_ping[side] {
            self.net[li].next_ping[side] = t + self.p.ping_interval;
            let idle_ref = if pings_inbound {
                self.net[li].last_in[side]
            } else {
                self.net[li].last_out[side]
            };
            // Recent activity (or a PONG that makes it back) resets the count.
            if t - idle_ref < self.p.ping_interval || self.net.can_talk(x, y) {
                self.net[li].pings_out[side] = 0;
            } else {
                self.net[li].pings_out[side] += 1;
                if self.net[li].pings_out[side] > self.p.ping_max {
                    let what = format!(
                        "{} found its route to {} stale (no PONG)",
                        self.names[x], self.names[y]
                    );
                    self.chain(t, Some(x), &format!("stale-{x}-{y}"), what);
                    self.close_link_side(x, y, t, Some("Stale Connection"));
                    return true;
                }
            }
        }
        false
    }

    /// A starved read loop on a route logs its processing time (now and then).
    fn slow_read_loop(&mut self, (li, side): (usize, usize), x: usize, t: Micros) {
        let lat = self.nodes[x].route_latency;
        if lat >= 2.0 && self.tick_n % 1200 == (li as u64 * 7 % 1200) {
            let addr = self.net[li].addr[side].clone();
            let rid = self.net[li].rid[side];
            let mut d = Vec::new();
            crate::clock::go_duration((lat * 1e9) as i64 + self.rng.range(0, 999_999), &mut d);
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

    /// Sends `msgs`/`bytes` from `x` to `y` over their route (costs, counters,
    /// socket buffering when `y` cannot read).
    pub fn route_send(&mut self, x: usize, y: usize, msgs: f64, bytes: f64, t: Micros) {
        if x == y || msgs <= 0.0 {
            return;
        }
        let (li, side) = self.net.idx(x, y);
        if !self.net[li].open[side] {
            return;
        }
        let other = 1 - side;
        let talk = self.net.can_talk(x, y);
        let sock_buf = self.p.sock_buf as f64;
        let l = &mut self.net[li];
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
