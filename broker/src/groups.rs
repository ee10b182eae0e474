//! The Raft groups (the meta group, streams, consumers) with what follows from
//! them per node: how many groups each node hosts, and which of its replicas
//! still have entries to apply.

use crate::model::{Group, GroupKind};
use std::ops::{Index, IndexMut};

pub struct Groups {
    /// Index 0 is the meta group.
    groups: Vec<Group>,
    /// Stream and consumer groups with a replica on each node.
    hosted: Vec<u32>,
    /// Per node, the (group, replica slot) pairs with a lag to apply.
    lagging: Vec<Vec<(u32, u8)>>,
}

impl Groups {
    /// The meta group alone, on `nodes` nodes.
    pub fn new(nodes: usize, meta: Group) -> Groups {
        Groups {
            groups: vec![meta],
            hosted: vec![0; nodes],
            lagging: vec![Vec::new(); nodes],
        }
    }

    /// Adds a stream or consumer group; returns its index.
    pub fn add(&mut self, g: Group) -> usize {
        for &r in &g.replicas {
            self.hosted[r] += 1;
        }
        self.groups.push(g);
        self.groups.len() - 1
    }

    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Never: the meta group is always there.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Group> {
        self.groups.iter()
    }

    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, Group> {
        self.groups.iter_mut()
    }

    /// Stream and consumer groups with a replica on node `i`.
    pub fn hosted(&self, i: usize) -> u32 {
        self.hosted[i]
    }

    /// Bytes of file-backed stream data on node `i`.
    pub fn stored_on(&self, i: usize) -> f64 {
        self.groups
            .iter()
            .filter(|g| g.kind == GroupKind::Stream && !g.memory && g.slot(i).is_some())
            .map(|g| g.bytes)
            .sum::<f64>()
    }

    /// Adds `entries` of replication lag for replica slot `s` of group `g`.
    pub fn add_lag(&mut self, g: usize, s: usize, entries: f64) {
        let node = self.groups[g].replicas[s];
        if self.groups[g].lag[s] == 0.0 {
            self.lagging[node].push((g as u32, s as u8));
        }
        self.groups[g].lag[s] += entries;
    }

    /// Replicas on node `i` apply their backlog: each lag is multiplied by
    /// `frac` (the Raft work left), file-backed streams not at all while the
    /// node is out of storage.
    pub fn drain_lags(&mut self, i: usize, frac: f64, out_of_storage: bool) {
        let mut list = std::mem::take(&mut self.lagging[i]);
        list.retain(|&(g, s)| {
            let g = &mut self.groups[g as usize];
            if out_of_storage && g.kind == GroupKind::Stream && !g.memory {
                return true;
            }
            let l = &mut g.lag[s as usize];
            *l *= frac;
            if *l < 0.5 {
                *l = 0.0;
                false
            } else {
                true
            }
        });
        self.lagging[i] = list;
    }

    /// Node `i` lost its process: nothing is being applied there any more.
    pub fn forget_lags(&mut self, i: usize) {
        self.lagging[i].clear();
    }
}

impl Index<usize> for Groups {
    type Output = Group;
    fn index(&self, gi: usize) -> &Group {
        &self.groups[gi]
    }
}

impl IndexMut<usize> for Groups {
    fn index_mut(&mut self, gi: usize) -> &mut Group {
        &mut self.groups[gi]
    }
}

impl<'a> IntoIterator for &'a Groups {
    type Item = &'a Group;
    type IntoIter = std::slice::Iter<'a, Group>;
    fn into_iter(self) -> Self::IntoIter {
        self.groups.iter()
    }
}

impl<'a> IntoIterator for &'a mut Groups {
    type Item = &'a mut Group;
    type IntoIter = std::slice::IterMut<'a, Group>;
    fn into_iter(self) -> Self::IntoIter {
        self.groups.iter_mut()
    }
}
