//! Ordered sequences (EQL-like semantics, written down in rules/README.md):
//!
//! * Hits of all steps are processed in time order (onset, then event order);
//!   for one event matching several steps, later steps are tried first, so an
//!   event never fills two steps of one match.
//! * Per key (node + `by` fields, equal across ALL steps) at most one partial
//!   match waits at each step; a newer hit of step 1 replaces the waiting one
//!   (tightest match wins).
//! * Step k+1 advances the partial of step k only if it comes strictly after
//!   it (order enforced at every step), if the time it is established is within
//!   `within` of the first step's onset (the window never stretches), and if
//!   no `without` event of the same key lies between the two steps.
//! * A complete match clears the key's partials: matches do not overlap.

use super::{Ctx, Hit, detect};
use crate::lang::ir::{Sel, Step};
use crate::model::{Node, Timestamp, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

type Key = (Node, Vec<String>);
/// Per key, the (time, order) of the `without` events of one step.
type WithoutIndex = BTreeMap<Key, Vec<(Timestamp, u64)>>;

/// A hit of one step: an event (most steps: one per selected line, kept
/// small until it joins a partial match) or any other hit.
enum Cand {
    Ev(u32, Vec<String>),
    Hit(Box<Hit>),
}

impl Cand {
    fn key(&self, cx: &Ctx<'_>) -> Key {
        match self {
            Cand::Ev(i, k) => (cx.events[*i as usize].node.clone(), k.clone()),
            Cand::Hit(h) => (h.node.clone(), h.key.clone()),
        }
    }

    fn at(&self, cx: &Ctx<'_>) -> Timestamp {
        match self {
            Cand::Ev(i, _) => cx.ts(*i),
            Cand::Hit(h) => h.at,
        }
    }

    /// Onset and order, as [`detect::event_hit`] makes them of an event.
    fn start_ord(&self, cx: &Ctx<'_>) -> (Timestamp, u64) {
        match self {
            Cand::Ev(i, _) => (cx.ts(*i), u64::from(*i)),
            Cand::Hit(h) => (h.start, h.ord),
        }
    }

    fn into_hit(self, cx: &Ctx<'_>) -> Hit {
        match self {
            Cand::Ev(i, k) => detect::event_hit(cx, i, k),
            Cand::Hit(h) => *h,
        }
    }
}

/// The hits of one step in time order: selected events (4 bytes each until
/// one joins a partial match) or the hits of any other detection.
enum StepHits {
    Ev(std::iter::Peekable<std::vec::IntoIter<u32>>),
    Hits(std::iter::Peekable<std::vec::IntoIter<Hit>>),
}

impl StepHits {
    /// (onset, order) of the next hit.
    fn head(&mut self, cx: &Ctx<'_>) -> Option<(Timestamp, u64)> {
        match self {
            StepHits::Ev(v) => v.peek().map(|&i| (cx.ts(i), u64::from(i))),
            StepHits::Hits(v) => v.peek().map(|h| (h.start, h.ord)),
        }
    }
}

pub(crate) fn hits(cx: &Ctx<'_>, by: &[Arc<str>], within: i64, steps: &[Step]) -> Vec<Hit> {
    let n = steps.len();
    let mut per_step: Vec<StepHits> = steps
        .iter()
        .map(|step| match &step.detect {
            crate::lang::ir::Detect::Event { sel, .. } => {
                StepHits::Ev(cx.select(sel).into_iter().peekable())
            }
            d => {
                // metric/gap steps carry only the node: give them an empty extra key;
                // the checker allows that only when `by` is node only.
                let mut h = detect::hits(cx, d, Some(by));
                h.sort_by_key(|h| (h.start, h.ord));
                StepHits::Hits(h.into_iter().peekable())
            }
        })
        .collect();
    let withouts: Vec<Option<WithoutIndex>> = steps
        .iter()
        .map(|st| st.without.as_ref().map(|w| without_index(cx, w, by)))
        .collect();
    // The steps' hits merged in (onset, order, later step first) order, one
    // at a time: no list of every step's hits is built. Events without one
    // of the key's fields are skipped.
    let mut next = || -> Option<(Timestamp, u64, usize, Cand)> {
        loop {
            let mut best: Option<((Timestamp, u64, usize), usize)> = None;
            for (s, hs) in per_step.iter_mut().enumerate() {
                if let Some((t, o)) = hs.head(cx) {
                    let k = (t, o, n - s);
                    if best.is_none_or(|(b, _)| k < b) {
                        best = Some((k, s));
                    }
                }
            }
            let ((t, o, _), s) = best?;
            match &mut per_step[s] {
                StepHits::Ev(v) => {
                    let i = v.next()?;
                    if let Some(k) = cx.key_of(i, by) {
                        return Some((t, o, s, Cand::Ev(i, k)));
                    }
                }
                StepHits::Hits(v) => return Some((t, o, s, Cand::Hit(Box::new(v.next()?)))),
            }
        }
    };

    // The partial matches per key: the step hits of each, kept as they
    // came (an event stays 4 bytes and its key until the match completes).
    let mut partials: HashMap<Key, Vec<Option<Vec<Cand>>>, foldhash::fast::FixedState> =
        HashMap::default();
    let mut out = Vec::new();
    while let Some((start, ord, s, c)) = next() {
        let key: Key = c.key(cx);
        if s == 0 {
            let slots = partials
                .entry(key)
                .or_insert_with(|| (0..n).map(|_| None).collect());
            // A newer first step replaces the waiting one, in its place.
            match &mut slots[0] {
                Some(chain) => {
                    chain.clear();
                    chain.push(c);
                }
                none => *none = Some(vec![c]),
            }
            continue;
        }
        // Only keys with a partial match are kept: a key seen only at later
        // steps (e.g. every client of a storm) costs nothing.
        let Some(slots) = partials.get_mut(&key) else {
            continue;
        };
        let Some(prev) = slots[s - 1].as_ref() else {
            continue;
        };
        let (first_start, _) = prev[0].start_ord(cx);
        let last = prev[prev.len() - 1].start_ord(cx);
        if start > first_start.add(within) {
            slots[s - 1] = None; // expired
            continue;
        }
        let in_order = (start, ord) > last;
        let in_span = c.at(cx) <= first_start.add(within);
        let blocked = withouts[s].as_ref().is_some_and(|idx| {
            idx.get(&key).is_some_and(|ws| {
                let lo = last;
                let p = ws.partition_point(|w| *w <= lo);
                ws.get(p).is_some_and(|w| *w < (start, ord))
            })
        });
        if blocked {
            slots[s - 1] = None;
            continue;
        }
        if !(in_order && in_span) {
            continue;
        }
        let mut chain = slots[s - 1].take().unwrap_or_default();
        chain.push(c);
        if s + 1 == n {
            partials.remove(&key);
            let chain = chain.into_iter().map(|c| c.into_hit(cx)).collect();
            out.push(combine(cx, chain));
        } else {
            slots[s] = Some(chain);
        }
    }
    out
}

fn without_index(cx: &Ctx<'_>, w: &Sel, by: &[Arc<str>]) -> BTreeMap<Key, Vec<(Timestamp, u64)>> {
    detect::groups(cx, cx.select(w), by)
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().map(|i| (cx.ts(i), i as u64)).collect()))
        .collect()
}

fn combine(cx: &Ctx<'_>, chain: Vec<Hit>) -> Hit {
    let first = &chain[0];
    let mut h = Hit {
        node: first.node.clone(),
        key: first.key.clone(),
        start: first.start,
        at: chain[chain.len() - 1].at,
        end: chain.iter().map(|c| c.end).max().unwrap_or(first.end),
        ord: first.ord,
        events: Vec::new(),
        notes: Vec::new(),
        caps: Vec::new(),
    };
    // Event hits carry no captures of their own: take their event's fields.
    let caps: Vec<Vec<(Arc<str>, Value)>> = chain
        .iter()
        .map(|c| match c.events.first() {
            Some(&e) if c.caps.is_empty() => cx.event_caps(e),
            _ => c.caps.clone(),
        })
        .collect();
    for (i, c) in chain.iter().enumerate() {
        h.events.extend(&c.events);
        h.notes.extend(c.notes.iter().cloned());
        for (k, v) in &caps[i] {
            h.caps.push((format!("s{}.{k}", i + 1).into(), v.clone()));
        }
        h.caps.push((
            format!("s{}.at", i + 1).into(),
            Value::Str(c.start.hms_millis().into()),
        ));
    }
    for c in &caps {
        for (k, v) in c {
            if !h.caps.iter().any(|(x, _)| x == k) {
                h.caps.push((k.clone(), v.clone()));
            }
        }
    }
    h
}
