//! The files' events merged into one stream in [`Event::order_key`] order
//! (time, node, file, line): a k-way merge of the files' lists, each already
//! in that order or sorted on its own first, instead of one sort of every
//! event. The result is the same for any order of the inputs and any thread
//! count.

use crate::model::{Event, Node, Timestamp};
use rayon::prelude::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

/// A list is shrunk (its memory given back) once it has at least this many
/// spare events and an eighth of its length: while the merged list fills,
/// the files' lists hold at most ~1/8 more than the events they still have.
/// (Shrinking a large list unmaps its tail: no copy.)
const SHRINK_SPARE: usize = 1 << 14;

/// Merges the files' event lists into one. Each list is consumed from its
/// end and shrunk as it empties, so that the merged list and the files'
/// lists do not both hold every event at once.
pub(crate) fn merge(mut runs: Vec<Vec<Event>>) -> Vec<Event> {
    runs.retain(|r| !r.is_empty());
    runs.par_iter_mut().for_each(|r| {
        if !r.is_sorted_by(|a, b| a.order_key() <= b.order_key()) {
            // Stable: equal keys keep their order in the file.
            r.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
        }
        r.reverse();
    });
    if runs.len() <= 1 {
        let mut one = runs.pop().unwrap_or_default();
        one.reverse();
        return one;
    }
    type Key = (Option<Timestamp>, Node, Arc<str>, u64);
    let key = |e: &Event| -> Key { (e.ts, e.node.clone(), e.loc.file.clone(), e.loc.line) };
    let mut out = Vec::with_capacity(runs.iter().map(Vec::len).sum());
    // Ties (the same key in two lists) go to the list given first.
    let mut heap: BinaryHeap<Reverse<(Key, usize)>> = runs
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.last().map(|e| Reverse((key(e), i))))
        .collect();
    while let Some(Reverse((_, i))) = heap.pop() {
        let r = &mut runs[i];
        let Some(e) = r.pop() else { continue };
        out.push(e);
        match r.last() {
            Some(next) => heap.push(Reverse((key(next), i))),
            None => *r = Vec::new(),
        }
        if r.capacity() - r.len() >= SHRINK_SPARE.max(r.len() / 8) {
            r.shrink_to_fit();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: i64, node: &str, file: &str, line: u64) -> Event {
        Event::at(ts, node, "k", file, line)
    }

    fn keys(v: &[Event]) -> Vec<(i64, String, String, u64)> {
        v.iter()
            .map(|e| {
                (
                    e.ts.unwrap_or_default().0,
                    e.node.to_string(),
                    e.loc.file.to_string(),
                    e.loc.line,
                )
            })
            .collect()
    }

    #[test]
    fn merging_gives_the_order_of_one_sort_of_every_event() {
        // Two files interleaved in time, one out of order within itself,
        // equal times across files (node, then file decides) and an empty one.
        let a = vec![
            ev(1, "n1", "a", 1),
            ev(3, "n1", "a", 2),
            ev(3, "n1", "a", 3),
        ];
        let b = vec![
            ev(5, "n2", "b", 1),
            ev(2, "n2", "b", 2),
            ev(3, "n0", "b", 3),
        ];
        let c = (0..40_000)
            .map(|i| ev(i * 7, "n3", "c", i as u64 + 1))
            .collect();
        let runs = vec![a, Vec::new(), b, c];
        let mut all: Vec<Event> = runs.iter().flatten().cloned().collect();
        all.sort_by(|x, y| x.order_key().cmp(&y.order_key()));
        let merged = merge(runs.clone());
        assert_eq!(keys(&merged), keys(&all));
        // Any order of the files gives the same stream.
        let mut reversed = runs;
        reversed.reverse();
        assert_eq!(keys(&merge(reversed)), keys(&all));
        assert_eq!(merged.len(), 40_006);
    }

    #[test]
    fn one_file_or_none() {
        assert!(merge(Vec::new()).is_empty());
        let one = vec![ev(2, "n1", "a", 2), ev(1, "n1", "a", 1)];
        assert_eq!(
            keys(&merge(vec![one])),
            vec![
                (1, "n1".into(), "a".into(), 1),
                (2, "n1".into(), "a".into(), 2)
            ]
        );
    }
}
