//! The virtual clock and the event queue: events ordered by (time, sequence),
//! so two events at the same microsecond run in the order they were
//! scheduled.

use crate::clock::Micros;
use crate::logger::Level;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

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

/// The clock (`now`, `end`) and the events still to come.
pub struct Queue {
    now: Micros,
    end: Micros,
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

impl Queue {
    /// An empty queue; the clock runs from `start` to `end`.
    pub fn new(start: Micros, end: Micros) -> Queue {
        Queue {
            now: start,
            end,
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }

    /// Schedules `ev` at `t`.
    pub fn at(&mut self, t: Micros, ev: Ev) {
        self.seq += 1;
        self.heap.push(Reverse(Entry {
            t,
            seq: self.seq,
            ev,
        }));
    }

    /// The next event, with the clock moved to its time; `None` when the
    /// queue is empty or the next event lies after the end.
    pub fn pop(&mut self) -> Option<(Micros, Ev)> {
        let Reverse(e) = self.heap.pop()?;
        if e.t > self.end {
            return None;
        }
        self.now = e.t;
        Some((e.t, e.ev))
    }

    pub fn now(&self) -> Micros {
        self.now
    }

    pub fn end(&self) -> Micros {
        self.end
    }
}
