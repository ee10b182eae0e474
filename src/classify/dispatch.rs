//! First-bytes dispatch: which templates' literal prefixes a message starts
//! with, without an automaton stepping through every byte.
//!
//! A radix trie over the distinct prefixes. The root is a table indexed by
//! the message's first byte; every node then compares a run of bytes at once
//! (the text its prefixes share) and picks its child by the next byte. Most
//! nats-server messages part ways within their first word, so a lookup is a
//! handful of comparisons however long the prefix: an anchored
//! leftmost-longest DFA reads the prefix byte by byte, one dependent table
//! load each, which was the largest single cost of `stats`.

/// No node / no prefix.
const NONE: u32 = u32::MAX;

#[derive(Clone, Debug)]
struct Node {
    /// The bytes after the one that led to this node.
    label: Box<[u8]>,
    /// The prefix that ends after `label`, or `NONE`.
    value: u32,
    /// Next byte → child.
    next: Next,
}

/// A node's children by the byte that leads to them.
#[derive(Clone, Debug)]
enum Next {
    /// A few: compared one by one (`keys[i]` leads to `kids[i]`).
    Few { keys: Box<[u8]>, kids: Box<[u32]> },
    /// Many (the words after `JetStream `, say): a table by byte.
    Dense(Box<[u32; 256]>),
}

/// Children past this many go in a table.
const FEW: usize = 4;

impl Next {
    #[inline]
    fn get(&self, c: u8) -> u32 {
        match self {
            Next::Few { keys, kids } => keys.iter().position(|&k| k == c).map_or(NONE, |i| kids[i]),
            Next::Dense(t) => t[c as usize],
        }
    }
}

/// The longest of a set of literal prefixes that a message starts with.
#[derive(Clone, Debug)]
pub(crate) struct PrefixTrie {
    root: Box<[u32; 256]>,
    nodes: Vec<Node>,
}

impl PrefixTrie {
    /// A trie over `prefixes` (distinct, non-empty); lookups answer indexes
    /// into it.
    pub fn new(prefixes: &[String]) -> PrefixTrie {
        let mut t = PrefixTrie {
            root: Box::new([NONE; 256]),
            nodes: Vec::new(),
        };
        let mut all: Vec<(&[u8], u32)> = prefixes
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.is_empty())
            .map(|(i, p)| (p.as_bytes(), i as u32))
            .collect();
        all.sort_unstable();
        for group in all.chunk_by(|a, b| a.0[0] == b.0[0]) {
            t.root[group[0].0[0] as usize] = t.build(group, 1);
        }
        t
    }

    /// Builds the node for `group`: prefixes (sorted) that agree on their
    /// first `depth` bytes. Returns its index.
    fn build(&mut self, group: &[(&[u8], u32)], depth: usize) -> u32 {
        // The label runs as far as every prefix agrees and none has ended.
        let first = &group[0].0[depth..];
        let mut len = first.len();
        for (p, _) in &group[1..] {
            let rest = &p[depth..];
            len = len.min(rest.len());
            len = first[..len]
                .iter()
                .zip(rest)
                .take_while(|(a, b)| a == b)
                .count();
        }
        let end = depth + len;
        let value = group
            .iter()
            .find(|(p, _)| p.len() == end)
            .map_or(NONE, |(_, i)| *i);
        let idx = self.nodes.len() as u32;
        self.nodes.push(Node {
            label: first[..len].into(),
            value,
            next: Next::Few {
                keys: Box::new([]),
                kids: Box::new([]),
            },
        });
        let longer: Vec<(&[u8], u32)> = group
            .iter()
            .filter(|(p, _)| p.len() > end)
            .copied()
            .collect();
        let (mut keys, mut kids) = (Vec::new(), Vec::new());
        for sub in longer.chunk_by(|a, b| a.0[end] == b.0[end]) {
            keys.push(sub[0].0[end]);
            kids.push(self.build(sub, end + 1));
        }
        self.nodes[idx as usize].next = if keys.len() > FEW {
            let mut t = Box::new([NONE; 256]);
            for (k, c) in keys.iter().zip(&kids) {
                t[*k as usize] = *c;
            }
            Next::Dense(t)
        } else {
            Next::Few {
                keys: keys.into(),
                kids: kids.into(),
            }
        };
        idx
    }

    /// The index of the longest prefix `msg` starts with.
    #[inline]
    pub fn longest(&self, msg: &[u8]) -> Option<u32> {
        let mut best = NONE;
        let mut n = *self.root.get(*msg.first()? as usize)?;
        let mut pos = 1;
        while n != NONE {
            let node = &self.nodes[n as usize];
            let l = &node.label[..];
            match msg.get(pos..pos + l.len()) {
                Some(s) if same(s, l) => pos += l.len(),
                _ => break,
            }
            if node.value != NONE {
                best = node.value;
            }
            let Some(&c) = msg.get(pos) else { break };
            n = node.next.get(c);
            pos += 1;
        }
        (best != NONE).then_some(best)
    }
}

/// `a == b` for slices of equal length, eight bytes at a time and inline:
/// labels and literals are short, and a `memcmp` call per comparison was a
/// tenth of `stats`.
#[inline]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    debug_assert_eq!(a.len(), b.len());
    let (mut a, mut b) = (a, b);
    while let (Some((x, ra)), Some((y, rb))) =
        (a.split_first_chunk::<8>(), b.split_first_chunk::<8>())
    {
        if u64::from_ne_bytes(*x) != u64::from_ne_bytes(*y) {
            return false;
        }
        (a, b) = (ra, rb);
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: the longest prefix by brute force.
    fn naive(prefixes: &[String], msg: &str) -> Option<u32> {
        prefixes
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.is_empty() && msg.starts_with(p.as_str()))
            .max_by_key(|(_, p)| p.len())
            .map(|(i, _)| i as u32)
    }

    #[test]
    fn longest_prefix_as_brute_force() {
        let prefixes: Vec<String> = [
            "a",
            "ab",
            "abc",
            "abd",
            "b",
            "JetStream cluster new consumer leader for '",
            "JetStream cluster new stream leader for '",
            "JetStream cluster new metadata leader",
            "JetStream cluster new metadata leader: ",
            "JetStream ",
            "Jet",
            "x y z",
            "é",
            "éa",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let t = PrefixTrie::new(&prefixes);
        let mut msgs: Vec<String> = prefixes.clone();
        for p in &prefixes {
            for cut in 0..p.len() {
                if p.is_char_boundary(cut) {
                    msgs.push(p[..cut].to_string());
                    msgs.push(format!("{}Q", &p[..cut]));
                }
            }
            msgs.push(format!("{p} and more"));
        }
        msgs.extend(["", "zzz", "JetStream cluster new", "abz"].map(String::from));
        for m in &msgs {
            assert_eq!(t.longest(m.as_bytes()), naive(&prefixes, m), "{m:?}");
        }
    }

    #[test]
    fn same_bytes() {
        let s = b"JetStream cluster new consumer leader for '";
        for n in 0..s.len() {
            assert!(same(&s[..n], &s[..n]));
            for at in 0..n {
                let mut t = s[..n].to_vec();
                t[at] ^= 1;
                assert!(!same(&s[..n], &t), "{n} {at}");
            }
        }
    }

    #[test]
    fn empty_set() {
        let t = PrefixTrie::new(&[]);
        assert_eq!(t.longest(b"anything"), None);
        assert_eq!(t.longest(b""), None);
    }
}
