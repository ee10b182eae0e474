//! The network between the nodes: one route link per pair of nodes (two
//! sides, one per end), which nodes are black-holed, and who can exchange
//! messages with whom right now.

use crate::model::{Link, Node};
use std::ops::{Index, IndexMut};

pub struct Net {
    nodes: usize,
    /// `nodes × nodes`, only `a < b` used: see [`Net::idx`].
    links: Vec<Link>,
    /// Black-holed (a route flap): nothing in or out.
    down: Vec<bool>,
    /// `talk[a * nodes + b]`: `a` and `b` both run and have an open route
    /// through a network that is up (a node always talks to itself).
    talk: Vec<bool>,
}

impl Net {
    pub fn new(nodes: usize) -> Net {
        Net {
            nodes,
            links: vec![Link::default(); nodes * nodes],
            down: vec![false; nodes],
            talk: vec![false; nodes * nodes],
        }
    }

    /// The link between `a` and `b` and `a`'s side of it.
    pub fn idx(&self, a: usize, b: usize) -> (usize, usize) {
        if a < b {
            (a * self.nodes + b, 0)
        } else {
            (b * self.nodes + a, 1)
        }
    }

    /// Both sides of the route between `a` and `b` are open.
    pub fn open(&self, a: usize, b: usize) -> bool {
        let (li, _) = self.idx(a, b);
        self.links[li].open == [true, true]
    }

    /// `a`'s side of the route to `b` is open.
    pub fn side_open(&self, a: usize, b: usize) -> bool {
        let (li, side) = self.idx(a, b);
        self.links[li].open[side]
    }

    pub fn can_talk(&self, a: usize, b: usize) -> bool {
        self.talk[a * self.nodes + b]
    }

    pub fn is_down(&self, i: usize) -> bool {
        self.down[i]
    }

    /// Black-holes node `i`'s network (or brings it back); call
    /// [`Net::refresh`] after.
    pub fn set_down(&mut self, i: usize, down: bool) {
        self.down[i] = down;
    }

    /// Recomputes who can exchange messages with whom right now.
    pub fn refresh(&mut self, nodes: &[Node]) {
        let n = self.nodes;
        for a in 0..n {
            for b in 0..n {
                let ok = nodes[a].running()
                    && nodes[b].running()
                    && (a == b || (self.open(a, b) && !self.down[a] && !self.down[b]));
                self.talk[a * n + b] = ok;
            }
        }
    }
}

/// A link by its index from [`Net::idx`].
impl Index<usize> for Net {
    type Output = Link;
    fn index(&self, li: usize) -> &Link {
        &self.links[li]
    }
}

impl IndexMut<usize> for Net {
    fn index_mut(&mut self, li: usize) -> &mut Link {
        &mut self.links[li]
    }
}
