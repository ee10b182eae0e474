//! Detections as state machines fed one selected event at a time, in time
//! order: what a finding-to-be keeps is bounded ([`Acc`]: counts, the first
//! and last events), not the list of every event it covers.
//!
//! `event`, `window` (80 of the builtin packs' 107 `when` clauses) and `not
//! followed` rules run this way. The feeding still walks the events of the bundle by index,
//! rule by rule; the step after this one feeds the same machines from the
//! files' merged stream while it is read (bench/RESULTS.md, "What would meet
//! the targets").

use super::{Ctx, Hit, MAX_EVIDENCE};
use crate::lang::ir::{Agg, CmpOp, Sel};
use crate::model::{Evidence, Node, Timestamp, Value, format_duration};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// The events of a finding-to-be, pushed in time order, (ts, index) order
/// within a second: how many and the lines they stand for, the first
/// [`MAX_EVIDENCE`] and the last two (what [`Acc::shown`] cites), and every
/// one only when asked ([`Acc::keeping_all`]: sequence steps join hits).
#[derive(Clone, Debug, Default)]
pub(crate) struct Acc {
    pub events: usize,
    /// Lines: an event may stand for several (engine::coalesce).
    pub lines: usize,
    head: Vec<u32>,
    /// The last two events pushed (`tail[1]` is the last; `tail[0]` only
    /// when there were two).
    tail: [u32; 2],
    all: Option<Vec<u32>>,
}

impl Acc {
    pub fn keeping_all() -> Acc {
        Acc {
            all: Some(Vec::new()),
            ..Acc::default()
        }
    }

    /// The sorted, distinct events `evs`.
    pub fn of(cx: &Ctx<'_>, evs: &[u32]) -> Acc {
        let mut a = Acc::default();
        for &i in evs {
            a.push(cx, i);
        }
        a
    }

    pub fn push(&mut self, cx: &Ctx<'_>, i: u32) {
        self.events += 1;
        self.lines += cx.events[i as usize].repeat.max(1) as usize;
        if self.head.len() < MAX_EVIDENCE {
            self.head.push(i);
        }
        self.tail = [self.tail[1], i];
        if let Some(all) = &mut self.all {
            all.push(i);
        }
    }

    /// Appends `o`, whose events all come after this one's.
    pub fn append(&mut self, o: Acc) {
        if o.events == 0 {
            return;
        }
        let room = MAX_EVIDENCE.saturating_sub(self.head.len());
        self.head.extend(o.head.iter().take(room));
        self.tail = if o.events >= 2 {
            o.tail
        } else {
            [self.tail[1], o.tail[1]]
        };
        if let (Some(all), Some(more)) = (&mut self.all, o.all) {
            all.extend(more);
        }
        self.events += o.events;
        self.lines += o.lines;
    }

    pub fn first(&self) -> Option<u32> {
        self.head.first().copied()
    }

    pub fn last(&self) -> Option<u32> {
        (self.events > 0).then_some(self.tail[1])
    }

    /// The events cited as evidence: all of them up to [`MAX_EVIDENCE`],
    /// else the first `MAX_EVIDENCE - 2` and the last two.
    pub fn shown(&self) -> Vec<u32> {
        if self.events <= MAX_EVIDENCE {
            self.head.clone()
        } else {
            let mut v = self.head[..MAX_EVIDENCE - 2].to_vec();
            v.extend(self.tail);
            v
        }
    }

    /// Every event pushed (empty unless made with [`Acc::keeping_all`]).
    pub fn into_all(self) -> Vec<u32> {
        self.all.unwrap_or_default()
    }
}

/// A finding before its message is rendered (`engine::finish`).
#[derive(Clone, Debug)]
pub(crate) struct Draft {
    pub node: Node,
    pub key: Vec<String>,
    pub start: Timestamp,
    pub at: Timestamp,
    pub end: Timestamp,
    pub acc: Acc,
    pub notes: Vec<Evidence>,
    pub caps: Vec<(Arc<str>, Value)>,
    /// Hits merged into it.
    pub hits: usize,
}

type GroupKey = (Node, Vec<String>);

/// Hash maps whose order is never read (fixed seeds: the same on every run).
type Map<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// Drafts in the order the findings of one rule are made in: by (node,
/// key), then time. `closed` holds each group's drafts in time order;
/// `open` the group's last one.
fn in_group_order(mut closed: Vec<(GroupKey, Draft)>, open: Map<GroupKey, Draft>) -> Vec<Draft> {
    closed.extend(open);
    // Stable: a group's drafts stay in time order, its open one (at most
    // one per group) last.
    closed.sort_by(|a, b| a.0.cmp(&b.0));
    closed.into_iter().map(|(_, d)| d).collect()
}

/// `event` rules: the selected events of each (node, key), cut where the
/// next one starts more than `merge` after the run's end; one draft per run,
/// with one hit per event.
pub(crate) fn event_runs(cx: &Ctx<'_>, sel: &Sel, by: &[Arc<str>], merge: i64) -> Vec<Draft> {
    let mut open: Map<GroupKey, Draft> = Map::default();
    let mut closed = Vec::new();
    for i in cx.select(sel) {
        let Some(key) = cx.key_of(i, by) else {
            continue;
        };
        let g = (cx.events[i as usize].node.clone(), key);
        let (t, t_end) = (cx.ts(i), cx.ts_end(i));
        match open.get_mut(&g) {
            Some(d) if t <= d.end.add(merge) => {
                d.end = d.end.max(t_end);
                d.acc.push(cx, i);
                d.hits += 1;
            }
            Some(d) => {
                let new = event_draft(cx, i, g.clone());
                closed.push((g, std::mem::replace(d, new)));
            }
            None => {
                let d = event_draft(cx, i, g.clone());
                open.insert(g, d);
            }
        }
    }
    in_group_order(closed, open)
}

fn event_draft(cx: &Ctx<'_>, i: u32, (node, key): GroupKey) -> Draft {
    let mut acc = Acc::default();
    acc.push(cx, i);
    Draft {
        node,
        key,
        start: cx.ts(i),
        at: cx.ts(i),
        end: cx.ts_end(i),
        acc,
        notes: Vec::new(),
        caps: Vec::new(),
        hits: 1,
    }
}

/// What a `window` test reads.
#[derive(Clone, Copy)]
pub(crate) struct WindowTest<'a> {
    pub agg: Agg,
    pub field: Option<&'a str>,
    pub op: CmpOp,
    pub value: f64,
    pub within: i64,
}

/// One episode of a window test on one group: consecutive passing windows
/// that share events.
pub(crate) struct Episode {
    pub start: Timestamp,
    /// When the test first passed.
    pub at: Timestamp,
    pub end: Timestamp,
    /// The index of its first event.
    pub first: u32,
    pub peak: f64,
    pub acc: Acc,
}

/// An event in the sliding window.
struct Slot {
    seq: u64,
    i: u32,
    ts: Timestamp,
    weight: f64,
    num: Option<f64>,
    hashes: Vec<u64>,
}

/// The sliding window of one group, ending at each event fed: the events
/// with `t_last - within <= t <= t_last`. When the aggregate passes the
/// test, the window's events join the current episode; a passing window
/// that starts after the episode's last event opens a new one.
pub(crate) struct WindowState {
    slots: VecDeque<Slot>,
    seq: u64,
    lines: f64,
    sum: f64,
    nsum: f64,
    /// Distinct field values by hash, with how many events carry each.
    distinct: Map<u64, usize>,
    /// The open episode, with the position of its last event.
    ep: Option<(Episode, u64)>,
    keep_all: bool,
}

impl WindowState {
    pub fn new(keep_all: bool) -> WindowState {
        WindowState {
            slots: VecDeque::new(),
            seq: 0,
            lines: 0.0,
            sum: 0.0,
            nsum: 0.0,
            distinct: Map::default(),
            ep: None,
            keep_all,
        }
    }

    fn enter(&mut self, s: Slot) {
        self.lines += s.weight;
        for h in &s.hashes {
            *self.distinct.entry(*h).or_default() += 1;
        }
        if let Some(x) = s.num {
            self.sum += x * s.weight;
            self.nsum += s.weight;
        }
        self.slots.push_back(s);
    }

    fn leave(&mut self) {
        let Some(s) = self.slots.pop_front() else {
            return;
        };
        self.lines -= s.weight;
        for h in s.hashes {
            if let Some(c) = self.distinct.get_mut(&h) {
                *c -= 1;
                if *c == 0 {
                    self.distinct.remove(&h);
                }
            }
        }
        if let Some(x) = s.num {
            self.sum -= x * s.weight;
            self.nsum -= s.weight;
        }
    }

    fn value(&self, agg: Agg) -> Option<f64> {
        let nums = || self.slots.iter().filter_map(|s| s.num);
        match agg {
            Agg::Count => Some(self.lines),
            Agg::Distinct => Some(self.distinct.len() as f64),
            Agg::Sum => (self.nsum > 0.0).then_some(self.sum),
            Agg::Avg => (self.nsum > 0.0).then(|| self.sum / self.nsum),
            Agg::Max => nums().reduce(f64::max),
            Agg::Min => nums().reduce(f64::min),
        }
    }

    /// Feeds event `i` (the group's events in time order); returns the
    /// episode it closed, if any.
    pub fn feed(&mut self, cx: &Ctx<'_>, t: &WindowTest<'_>, i: u32) -> Option<Episode> {
        let e = &cx.events[i as usize];
        let value = t.field.and_then(|f| e.field(f));
        // Distinct values by hash, with the hashes of lines merged into the event.
        let hashes = match t.field.filter(|_| t.agg == Agg::Distinct) {
            Some(f) => value
                .map(crate::model::value_hash)
                .into_iter()
                .chain(e.absorbed_hashes(f).unwrap_or_default().iter().copied())
                .collect(),
            None => Vec::new(),
        };
        let tj = cx.ts(i);
        let seq = self.seq;
        self.seq += 1;
        self.enter(Slot {
            seq,
            i,
            ts: tj,
            // Events stand for `repeat` lines each (see engine::coalesce).
            weight: f64::from(e.repeat.max(1)),
            num: value.and_then(Value::as_f64),
            hashes,
        });
        while self
            .slots
            .front()
            .is_some_and(|s| tj.since(s.ts) > t.within)
        {
            self.leave();
        }
        let v = self.value(t.agg).filter(|v| t.op.eval_f64(*v, t.value))?;
        let left = self.slots.front().map_or(seq, |s| s.seq);
        match &mut self.ep {
            // Windows that share an event are one episode.
            Some((ep, b)) if left <= *b => {
                for s in self.slots.iter().filter(|s| s.seq > *b) {
                    ep.acc.push(cx, s.i);
                }
                *b = seq;
                ep.end = cx.ts_end(i);
                ep.peak = ep.peak.max(v);
                None
            }
            _ => {
                let mut acc = if self.keep_all {
                    Acc::keeping_all()
                } else {
                    Acc::default()
                };
                for s in &self.slots {
                    acc.push(cx, s.i);
                }
                let first = self.slots.front().map_or(i, |s| s.i);
                let ep = Episode {
                    start: cx.ts(first),
                    at: tj,
                    end: cx.ts_end(i),
                    first,
                    peak: v,
                    acc,
                };
                self.ep.replace((ep, seq)).map(|(old, _)| old)
            }
        }
    }

    /// The episode still open when the group's events end.
    pub fn end(self) -> Option<Episode> {
        self.ep.map(|(ep, _)| ep)
    }
}

/// A `window` hit's captures: the aggregate's peak (as `value` and under
/// the aggregate's name) and the field it reads.
pub(crate) fn window_caps(t: &WindowTest<'_>, peak: f64) -> Vec<(Arc<str>, Value)> {
    let mut caps = vec![
        (Arc::from("value"), Value::Float(peak)),
        (Arc::from(t.agg.name()), Value::Float(peak)),
    ];
    if let Some(f) = t.field {
        caps.push((Arc::from("field"), Value::Str(f.into())));
    }
    caps
}

/// `window` rules: each group's episodes, merged into one draft when the
/// next starts less than `merge` after the draft's end (the peak is the
/// highest of them; the other captures are the first episode's).
pub(crate) fn window_runs(
    cx: &Ctx<'_>,
    sel: &Sel,
    by: &[Arc<str>],
    t: &WindowTest<'_>,
    merge: i64,
) -> Vec<Draft> {
    struct Group {
        win: WindowState,
        draft: Option<Draft>,
    }
    let mut groups: Map<GroupKey, Group> = Map::default();
    let mut closed = Vec::new();
    let mut add = |g: &GroupKey, draft: &mut Option<Draft>, ep: Episode| match draft {
        Some(d) if ep.start <= d.end.add(merge) => {
            d.end = d.end.max(ep.end);
            d.at = d.at.min(ep.at);
            d.acc.append(ep.acc);
            if let Some((_, Value::Float(peak))) = d.caps.first_mut()
                && ep.peak > *peak
            {
                *peak = ep.peak;
            }
            d.hits += 1;
        }
        _ => {
            let new = Draft {
                node: g.0.clone(),
                key: g.1.clone(),
                start: ep.start,
                at: ep.at,
                end: ep.end,
                acc: ep.acc,
                notes: Vec::new(),
                caps: window_caps(t, ep.peak),
                hits: 1,
            };
            if let Some(old) = draft.replace(new) {
                closed.push((g.clone(), old));
            }
        }
    };
    for i in cx.select(sel) {
        let Some(key) = cx.key_of(i, by) else {
            continue;
        };
        let g = (cx.events[i as usize].node.clone(), key);
        let group = match groups.get_mut(&g) {
            Some(group) => group,
            None => groups.entry(g.clone()).or_insert_with(|| Group {
                win: WindowState::new(false),
                draft: None,
            }),
        };
        if let Some(ep) = group.win.feed(cx, t, i) {
            add(&g, &mut group.draft, ep);
        }
    }
    let mut open = Map::default();
    for (g, mut group) in groups {
        if let Some(ep) = group.win.end() {
            add(&g, &mut group.draft, ep);
        }
        if let Some(d) = group.draft {
            open.insert(g, d);
        }
    }
    in_group_order(closed, open)
}

/// An `a` event with no `b` event of the same node and key after it within
/// `within`. Decided only when `t_a + within` is inside the data: near the
/// end of the capture nothing fires.
///
/// Fed the `a` and `b` events in time order: each group keeps its `a`
/// events still waiting for a `b`; a `b` decides all of them (the first `b`
/// after an `a` is the one that counts), a later `a` decides those whose
/// deadline it has passed. An event selected by both follows the earlier
/// `a` events, then waits as an `a`.
pub(crate) fn not_followed(
    cx: &Ctx<'_>,
    a: &Sel,
    b: &Sel,
    within: i64,
    by: &[Arc<str>],
) -> Vec<Hit> {
    let Some(end) = cx.data_end else {
        return Vec::new();
    };
    let unfollowed = |i: u32, (node, key): &GroupKey| {
        let deadline = cx.ts(i).add(within);
        let mut h = super::detect::event_hit(cx, i, key.clone());
        h.at = deadline;
        // The last line this event stands for was not followed either
        // (it came later in the same second).
        h.end = cx.ts_end(i).add(within);
        h.notes.push(Evidence {
            loc: None,
            ts: Some(deadline),
            node: Some(node.clone()),
            level: None,
            text: format!("not followed within {}", format_duration(within)).into(),
        });
        h
    };
    let (sa, sb) = (cx.select(a), cx.select(b));
    let (mut ia, mut ib) = (0, 0);
    let mut waiting: Map<GroupKey, VecDeque<u32>> = Map::default();
    let mut out = Vec::new();
    loop {
        // The next event in (time, index) order, and whether it is an `a`, a `b`.
        let next = |k: Option<&u32>| k.map(|&i| (cx.ts(i), i));
        let (i, is_a, is_b) = match (next(sa.get(ia)), next(sb.get(ib))) {
            (None, None) => break,
            (Some(x), Some(y)) if x == y => (x.1, true, true),
            (Some(x), y) if y.is_none_or(|y| x < y) => (x.1, true, false),
            (_, Some(y)) => (y.1, false, true),
            (Some(x), None) => (x.1, true, false),
        };
        ia += usize::from(is_a);
        ib += usize::from(is_b);
        let Some(key) = cx.key_of(i, by) else {
            continue;
        };
        let g = (cx.events[i as usize].node.clone(), key);
        let t = cx.ts(i);
        if is_b && let Some(q) = waiting.get_mut(&g) {
            for w in q.drain(..) {
                if t > cx.ts(w).add(within) {
                    out.push(unfollowed(w, &g));
                }
            }
        }
        if is_a {
            let q = waiting.entry(g.clone()).or_default();
            // No `b` at or after `t` can follow those.
            while let Some(&w) = q.front()
                && cx.ts(w).add(within) < t
            {
                q.pop_front();
                out.push(unfollowed(w, &g));
            }
            q.push_back(i);
        }
    }
    for (g, q) in waiting {
        for w in q {
            if cx.ts(w).add(within) <= end {
                out.push(unfollowed(w, &g));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NoMetrics;
    use crate::model::Event;

    fn ev(ts: i64, node: &str, kind: &str, line: u64) -> Event {
        Event::at(ts, node, kind, "f", line)
    }

    fn sel(kinds: &[&str]) -> Sel {
        Sel {
            kinds: Some(kinds.iter().map(|k| Arc::from(*k)).collect()),
            pred: None,
        }
    }

    /// The definition: every `a` whose first `b` after it (same node) comes
    /// later than `within`, or never, with its deadline inside the data.
    fn by_definition(cx: &Ctx<'_>, a: &Sel, b: &Sel, within: i64) -> Vec<u32> {
        let (sa, sb) = (cx.select(a), cx.select(b));
        let end = cx.data_end.unwrap_or_default();
        sa.iter()
            .copied()
            .filter(|&i| {
                let e = &cx.events[i as usize];
                let deadline = cx.ts(i).add(within);
                let first_b = sb.iter().copied().find(|&j| {
                    cx.events[j as usize].node == e.node && (cx.ts(j), j) > (cx.ts(i), i)
                });
                deadline <= end && first_b.is_none_or(|j| cx.ts(j) > deadline)
            })
            .collect()
    }

    #[test]
    fn not_followed_fires_as_defined_on_mixed_streams() {
        // A pseudo-random stream of three kinds on two nodes, equal times
        // included; `a|c not followed by b|c` makes `c` both an `a` and a `b`.
        let mut x: u64 = 7;
        let mut rnd = |n: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % n
        };
        let mut t = 0;
        let mut events = Vec::new();
        for line in 1..=400 {
            t += rnd(4) as i64 * 500;
            let node = ["n1", "n2"][rnd(2) as usize];
            let kind = ["a", "b", "c", "x"][rnd(4) as usize];
            events.push(ev(t, node, kind, line));
        }
        let cx = Ctx::new(&events, &NoMetrics);
        let (mut fired, mut followed) = (0, 0);
        for (a, b) in [
            (sel(&["a"]), sel(&["b"])),
            (sel(&["a", "c"]), sel(&["b", "c"])),
        ] {
            for within in [0, 500, 1_000, 5_000] {
                let mut got: Vec<u32> = not_followed(&cx, &a, &b, within, &[])
                    .iter()
                    .map(|h| h.events[0])
                    .collect();
                got.sort_unstable();
                let want = by_definition(&cx, &a, &b, within);
                assert_eq!(got, want, "within {within}");
                fired += want.len();
                followed += cx.select(&a).len() - want.len();
            }
        }
        // Both outcomes were exercised.
        assert!(fired > 100 && followed > 100, "{fired} {followed}");
    }
}
