//! Search trees stored as arenas: a vector of nodes in which the children of a node are
//! contiguous, `first_child..first_child + num_children`. The sequential searches ([`Uct`] and
//! [`Puct`]) share the child ranges and the copy of a subtree into a fresh arena (tree reuse)
//! through [`ArenaNode`].
//!
//! [`Uct`]: crate::Uct
//! [`Puct`]: crate::alphazero::Puct

use std::ops::Range;

/// `num_children` of a node that has not been expanded.
pub(crate) const UNEXPANDED: u16 = u16::MAX;

/// A node of an arena tree.
pub(crate) trait ArenaNode: Copy {
    /// Index of the first child (meaningless before expansion).
    fn first_child(&self) -> u32;
    /// Moves the node's children to start at `first`.
    fn set_first_child(&mut self, first: u32);
    /// Number of children, or [`UNEXPANDED`].
    fn num_children(&self) -> u16;

    /// Whether the node has been expanded (its children exist, possibly none).
    #[inline]
    fn expanded(&self) -> bool {
        self.num_children() != UNEXPANDED
    }

    /// Indices of the children (empty before expansion).
    #[inline]
    fn children(&self) -> Range<usize> {
        let first = self.first_child() as usize;
        if self.expanded() {
            first..first + self.num_children() as usize
        } else {
            first..first
        }
    }
}

/// The subtree of `nodes` below `root`, copied breadth first into a fresh arena whose node 0
/// is `root` (a fresh vector of capacity `capacity`, grown as needed).
pub(crate) fn subtree<N: ArenaNode>(nodes: &[N], root: usize, capacity: usize) -> Vec<N> {
    let mut fresh = Vec::with_capacity(capacity);
    fresh.push(nodes[root]);
    let mut i = 0;
    while i < fresh.len() {
        let old = fresh[i];
        if old.expanded() {
            let first = fresh.len() as u32;
            fresh[i].set_first_child(first);
            fresh.extend_from_slice(&nodes[old.children()]);
        }
        i += 1;
    }
    fresh
}
