//! The syscall-number dispatch of one architecture: a binary tree of `jge` tests over the
//! maximal intervals of equal decision, with the smallest possible depth, and the calls that
//! always run the filter lifted as close to the root as that depth allows.
//!
//! Two ideas keep it shallow:
//!
//! * **Peeling.** A single number between two intervals of the same decision (`A x A`) is one
//!   piece decided by one `jeq x`: three intervals cost one test instead of two levels.
//! * **Minimax merging.** Every piece gets a height: 0 for a plain interval, one more than its
//!   parts for a peeled triple, and `lift` for a hot leaf (an argument check, or a single
//!   number with an action of its own, such as `clone3` → ENOSYS). Adjacent pieces are merged
//!   pairwise, lowest heights first, into a tree whose cost is the largest depth + height of any
//!   piece (the alphabetic minimax tree): with `lift` = 0 it is the shallowest tree, and a hot
//!   leaf of height `lift` ends at least `lift` levels above the deepest leaf. [`build`] finds
//!   the largest lift that keeps the depth of the unlifted tree.
//!
//! Pieces keep their order, so every node is one `jge` at the first number of its right half.

#[cfg(test)]
use crate::policy::Leaf;

/// One leaf of the dispatch tree, covering the numbers from its start to the next piece's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Piece<L> {
    /// One decision for the whole range.
    Run(L),
    /// `jeq nr` → `inner`; every other number of the range → `outer`.
    Peel { nr: u32, inner: L, outer: L },
}

/// A node of the dispatch tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Node {
    /// Piece `i` of [`Dispatch::pieces`].
    Piece(usize),
    /// `jge at` → `right`, else `left` (indices into [`Dispatch::nodes`]).
    Split { at: u32, left: usize, right: usize },
}

/// A built dispatch tree.
#[derive(Clone, Debug)]
pub(crate) struct Dispatch<L> {
    /// `(first number, piece)`, sorted.
    pub pieces: Vec<(u32, Piece<L>)>,
    /// The tree's nodes; `root` is the top.
    pub nodes: Vec<Node>,
    /// The top node.
    pub root: usize,
}

impl<L: Copy> Dispatch<L> {
    /// The leaf the tree reaches for `w`, and the tests (`jge` and `jeq`) on the way.
    pub fn decide(&self, w: u32) -> (usize, L) {
        let mut n = self.root;
        let mut tests = 0;
        loop {
            match self.nodes[n] {
                Node::Split { at, left, right } => {
                    tests += 1;
                    n = if w >= at { right } else { left };
                }
                Node::Piece(i) => {
                    return match self.pieces[i].1 {
                        Piece::Run(l) => (tests, l),
                        Piece::Peel { nr, inner, outer } => {
                            (tests + 1, if w == nr { inner } else { outer })
                        }
                    }
                }
            }
        }
    }
}

/// Cut the intervals into pieces: a single number whose two neighbours decide alike is peeled.
/// Also returns each piece's height for a lift of 1 less its height for a lift of 0 (whether it
/// holds a hot interval) and its height without lift.
fn pieces<L: Copy + Eq>(ivs: &[(u32, L)], hot: &[bool]) -> Vec<(u32, Piece<L>, bool, u32)> {
    let single = |i: usize| {
        ivs.get(i + 1)
            .is_some_and(|n| u64::from(n.0) == u64::from(ivs[i].0) + 1)
    };
    let mut out = Vec::with_capacity(ivs.len());
    let mut i = 0;
    while i < ivs.len() {
        if i + 2 < ivs.len() && single(i + 1) && ivs[i].1 == ivs[i + 2].1 {
            out.push((
                ivs[i].0,
                Piece::Peel {
                    nr: ivs[i + 1].0,
                    inner: ivs[i + 1].1,
                    outer: ivs[i].1,
                },
                hot[i] || hot[i + 1] || hot[i + 2],
                1,
            ));
            i += 3;
        } else {
            out.push((ivs[i].0, Piece::Run(ivs[i].1), hot[i], 0));
            i += 1;
        }
    }
    out
}

/// Merge adjacent subtrees level by level (the alphabetic minimax tree): at level `w`, every
/// subtree below `w` is raised to `w` (it can only be merged at that cost now), and runs of
/// neighbours at `w` are paired left to right into subtrees of `w + 1`. Returns the nodes, the
/// root and the cost (largest depth + height).
fn merge<L>(pieces: &[(u32, Piece<L>)], heights: &[u32]) -> (Vec<Node>, usize, u32) {
    let mut nodes: Vec<Node> = (0..pieces.len()).map(Node::Piece).collect();
    // (height, node, first number)
    let mut row: Vec<(u32, usize, u32)> = heights
        .iter()
        .enumerate()
        .map(|(i, &h)| (h, i, pieces[i].0))
        .collect();
    let mut level = row.iter().map(|r| r.0).min().unwrap_or(0);
    while row.len() > 1 {
        let mut next = Vec::with_capacity(row.len());
        let mut i = 0;
        while i < row.len() {
            let h = row[i].0.max(level);
            if i + 1 < row.len() && h == level && row[i + 1].0 <= level {
                nodes.push(Node::Split {
                    at: row[i + 1].2,
                    left: row[i].1,
                    right: row[i + 1].1,
                });
                next.push((level + 1, nodes.len() - 1, row[i].2));
                i += 2;
            } else {
                next.push((h, row[i].1, row[i].2));
                i += 1;
            }
        }
        row = next;
        level += 1;
    }
    let (h, root, _) = row[0];
    (nodes, root, h)
}

/// The dispatch tree over `ivs` (sorted interval starts with their leaves; the first starts at
/// 0). `hot[i]` says whether interval `i` is to be lifted; `lift_hot` off builds the plain
/// shallowest tree.
pub(crate) fn build<L: Copy + Eq>(ivs: &[(u32, L)], hot: &[bool], lift_hot: bool) -> Dispatch<L> {
    let cut = pieces(ivs, hot);
    let heights_for = |lift: u32| -> Vec<u32> {
        cut.iter()
            .map(|&(_, _, h, base)| if h { base + lift } else { base })
            .collect()
    };
    let pieces: Vec<(u32, Piece<L>)> = cut.iter().map(|&(s, p, _, _)| (s, p)).collect();
    let (nodes, root, depth) = merge(&pieces, &heights_for(0));
    if !lift_hot || !cut.iter().any(|c| c.2) {
        return Dispatch {
            pieces,
            nodes,
            root,
        };
    }
    // the cost grows with the lift: find the largest lift that keeps the plain depth
    let (mut lo, mut hi) = (0u32, depth);
    let mut best = (nodes, root);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let (n, r, d) = merge(&pieces, &heights_for(mid));
        if d <= depth {
            lo = mid;
            best = (n, r);
        } else {
            hi = mid - 1;
        }
    }
    Dispatch {
        pieces,
        nodes: best.0,
        root: best.1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confine_bpf::action::Ret;

    fn depth_of(d: &Dispatch<Leaf>, node: usize, piece: usize) -> Option<u32> {
        match d.nodes[node] {
            Node::Piece(i) => (i == piece).then_some(0),
            Node::Split { left, right, .. } => depth_of(d, left, piece)
                .or_else(|| depth_of(d, right, piece))
                .map(|x| x + 1),
        }
    }

    fn find(d: &Dispatch<Leaf>, nr: u32) -> Leaf {
        d.decide(nr).1
    }

    /// A distinct leaf per `v`.
    fn ret(v: u32) -> Leaf {
        Leaf::Ret(Ret::Errno(v as u16))
    }

    fn ivs(leaves: &[(u32, u32)]) -> Vec<(u32, Leaf)> {
        leaves.iter().map(|&(s, v)| (s, ret(v))).collect()
    }

    #[test]
    fn plain_tree_is_shallowest_and_decides_like_the_intervals() {
        for n in 1..70u32 {
            // alternating decisions over wide intervals: nothing to peel
            let v = ivs(&(0..n).map(|i| (i * 10, i % 2)).collect::<Vec<_>>());
            let d = build(&v, &vec![false; v.len()], false);
            assert_eq!(d.pieces.len(), n as usize);
            let max = (0..d.pieces.len())
                .map(|p| depth_of(&d, d.root, p).unwrap())
                .max()
                .unwrap();
            assert_eq!(max, (n as f64).log2().ceil() as u32, "{n} intervals");
            for nr in 0..n * 10 + 5 {
                assert_eq!(find(&d, nr), ret((nr / 10).min(n - 1) % 2), "{nr}");
            }
        }
    }

    #[test]
    fn single_numbers_between_equal_neighbours_are_peeled() {
        // 0..10 → 0, 10 → 1, 11..20 → 0, 20 → 2, 21.. → 0
        let v = ivs(&[(0, 0), (10, 1), (11, 0), (20, 2), (21, 0)]);
        let d = build(&v, &vec![false; v.len()], false);
        assert_eq!(d.pieces.len(), 3);
        for nr in 0..40 {
            let want = match nr {
                10 => 1,
                20 => 2,
                _ => 0,
            };
            assert_eq!(find(&d, nr), ret(want), "{nr}");
        }
    }

    #[test]
    fn hot_leaves_rise_without_deepening_the_tree() {
        // 40 wide intervals, one hot in the middle
        let v = ivs(&(0..40u32).map(|i| (i * 10, i)).collect::<Vec<_>>());
        let hot: Vec<bool> = (0..40).map(|i| i == 23).collect();
        let plain = build(&v, &hot, false);
        let lifted = build(&v, &hot, true);
        let max = |d: &Dispatch<Leaf>| {
            (0..d.pieces.len())
                .map(|p| depth_of(d, d.root, p).unwrap())
                .max()
                .unwrap()
        };
        assert_eq!(max(&plain), 6);
        assert_eq!(max(&lifted), 6);
        assert!(depth_of(&lifted, lifted.root, 23).unwrap() <= 2);
        assert!(depth_of(&plain, plain.root, 23).unwrap() > 2);
        for nr in 0..400 {
            assert_eq!(find(&lifted, nr), ret(nr / 10), "{nr}");
        }
    }
}
