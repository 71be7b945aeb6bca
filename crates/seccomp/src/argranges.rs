//! Argument checks on one argument, laid out again as range tests.
//!
//! libseccomp's merge fixes the shape of a syscall's argument tree (and which rules conflict),
//! so the policy keeps that tree. But a tree whose nodes all test the same argument with plain
//! comparisons (`==`, `>`, `>=`; a masked `==` only under a zero mask, whose outcome is fixed)
//! is a function of that argument's two 32-bit words that can change only where some node's
//! comparison flips: at its operand and at the number after it, on the word it tests. So the
//! operands cut both words into a grid, the tree is constant on every cell, and evaluating it
//! once per cell gives the whole function exactly. [`ranges`] does that and lays the function
//! out as the dispatch does syscall numbers: a shallowest `jge` tree over the high word (on
//! 64-bit ABIs), whose leaves are returns or a `jge` tree over the low word.
//!
//! Docker's `socket` rules (`a0 < 38`, `a0 == 39`, `a0 > 40`) merge into a tree that takes 10
//! instructions for `AF_INET`; as ranges it takes 4. The optimiser keeps whichever layout has
//! the shorter longest path.

use crate::dispatch::{self, Dispatch};
use crate::tree::{Cmp, Forest, NodeId};
use confine_bpf::action::Ret;

/// A leaf of a range tree over one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WordLeaf {
    /// Return this action.
    Ret(Ret),
    /// Go on with low-word tree `k` of [`Ranges::low`].
    Low(usize),
}

/// One argument check as range trees.
#[derive(Clone, Debug)]
pub(crate) struct Ranges {
    /// The argument tested.
    pub arg: u8,
    /// The tree over the high word; `None` on 32-bit ABIs, where `low[0]` decides alone.
    pub high: Option<Dispatch<WordLeaf>>,
    /// The trees over the low word (their leaves are returns).
    pub low: Vec<Dispatch<WordLeaf>>,
    /// One argument value in every cell of the grid: what a layout is measured on.
    pub samples: Vec<u64>,
}

impl Ranges {
    /// Instructions the layout executes for argument value `v`, the return included.
    pub fn executed(&self, v: u64) -> usize {
        let (mut n, mut leaf) = (0, WordLeaf::Low(0));
        if let Some(h) = &self.high {
            (n, leaf) = walk(h, (v >> 32) as u32);
        }
        if let WordLeaf::Low(k) = leaf {
            n += walk(&self.low[k], v as u32).0;
        }
        n + 1
    }

    /// The longest path and the total over [`Ranges::samples`], against the same of the merged
    /// tree at `root` as the optimiser emits it: what decides between the two.
    pub fn beats_merged(&self, f: &Forest, root: NodeId) -> bool {
        let (mut mine, mut merged) = ((0, 0), (0, 0));
        let mut args = [0u64; 6];
        for &v in &self.samples {
            args[usize::from(self.arg)] = v;
            let a = self.executed(v);
            let b = merged_executed(f, root, &args, None).1 + 1;
            mine = (mine.0.max(a), mine.1 + a);
            merged = (merged.0.max(b), merged.1 + b);
        }
        mine < merged
    }
}

/// Instructions one word's range tree executes for `w` (its load included unless the tree is
/// a single run, which needs neither load nor test), and the leaf reached.
fn walk(d: &Dispatch<WordLeaf>, w: u32) -> (usize, WordLeaf) {
    let (tests, leaf) = d.decide(w);
    (tests + usize::from(tests > 0), leaf)
}

/// What the accumulator holds while a merged tree runs: `(high word, mask)`.
pub(crate) type Held = Option<(bool, u32)>;

/// The merged tree's outcome for `args` and the instructions the optimiser's emission of it
/// executes (returns not counted): a node costs its test, plus a load (and `and`) unless the
/// accumulator already holds its word, as `Gen::level` emits it; a zero-mask node costs
/// nothing.
pub(crate) fn merged_executed(
    f: &Forest,
    start: NodeId,
    args: &[u64; 6],
    held: Held,
) -> (Option<Ret>, usize) {
    let (mut held, mut count) = (held, 0);
    let mut it = Some(f.level_first(start));
    while let Some(id) = it {
        let n = f.node(id);
        let known = n.cmp == Cmp::MaskedEq && n.mask == 0;
        if !known {
            count += 1 + match held {
                Some((hi, m)) if hi == n.hi && m == n.mask => 0,
                Some((hi, u32::MAX)) if hi == n.hi => 1,
                _ => 1 + usize::from(n.mask != u32::MAX),
            };
        }
        let here = if known { held } else { Some((n.hi, n.mask)) };
        let (act, nxt) = n.branch(args);
        if let Some(sub) = nxt {
            let (r, c) = merged_executed(f, sub, args, here);
            count += c;
            if r.is_some() {
                return (r, count);
            }
        } else if act.is_some() {
            return (act, count);
        }
        held = if n.nxt_t.is_some() || n.nxt_f.is_some() {
            None
        } else {
            here
        };
        it = f.next_sibling(id);
    }
    (None, count)
}

/// Grids larger than this are left as merged (a profile with hundreds of values for one
/// argument gains little from the re-layout and would cost compile time).
const MAX_CELLS: usize = 4096;

/// Every node of the tree whose level holds `start`, the levels below included; `None` when
/// there are more than `limit`.
fn nodes(f: &Forest, start: NodeId, out: &mut Vec<NodeId>, limit: usize) -> Option<()> {
    let mut it = Some(f.level_first(start));
    while let Some(id) = it {
        if out.len() >= limit {
            return None;
        }
        out.push(id);
        let n = f.node(id);
        for sub in [n.nxt_t, n.nxt_f].into_iter().flatten() {
            nodes(f, sub, out, limit)?;
        }
        it = f.next_sibling(id);
    }
    Some(())
}

/// Sorted, distinct interval starts `(first value, leaf)` of `decide` over the cuts of one
/// word (the cuts are sorted and start at 0), neighbours merged.
fn intervals(cuts: &[u32], mut decide: impl FnMut(u32) -> WordLeaf) -> Vec<(u32, WordLeaf)> {
    let mut out: Vec<(u32, WordLeaf)> = Vec::new();
    for &c in cuts {
        let leaf = decide(c);
        if out.last().is_none_or(|l| l.1 != leaf) {
            out.push((c, leaf));
        }
    }
    out
}

/// The range layout of the argument tree at `root`, or `None` when it tests more than one
/// argument, uses a mask other than all-ones or zero, or is too large. `default` is what the
/// tree's unmatched outcome returns; `bits64` whether the ABI compares both words.
pub(crate) fn ranges(f: &Forest, root: NodeId, default: Ret, bits64: bool) -> Option<Ranges> {
    let mut ids = Vec::new();
    nodes(f, root, &mut ids, 256)?;
    let arg = f.node(ids[0]).arg;
    // the values where a node's outcome may change, per word
    let (mut high, mut low) = (vec![0u32], vec![0u32]);
    for &id in &ids {
        let n = f.node(id);
        if n.arg != arg || (n.hi && !bits64) {
            return None;
        }
        // a high word derived from the low one (`--arg-width kernel`) changes with the low
        // word's sign bit
        if n.hi && n.derived.is_some() {
            low.push(0x8000_0000);
            continue;
        }
        match n.mask {
            u32::MAX => {}
            // `(w & 0) == d` does not depend on the word
            0 => continue,
            _ => return None,
        }
        let cuts = if n.hi { &mut high } else { &mut low };
        cuts.push(n.datum);
        cuts.extend(n.datum.checked_add(1));
    }
    for cuts in [&mut high, &mut low] {
        cuts.sort_unstable();
        cuts.dedup();
    }
    if high.len() * low.len() > MAX_CELLS {
        return None;
    }
    let mut args = [0u64; 6];
    let mut eval = |v: u64| {
        args[usize::from(arg)] = v;
        f.eval(root, &args).unwrap_or(default)
    };
    let mut lows: Vec<Vec<(u32, WordLeaf)>> = Vec::new();
    let mut samples = Vec::with_capacity(high.len() * low.len());
    let highs = intervals(&high, |h| {
        let fun = intervals(&low, |l| {
            let v = (u64::from(h) << 32) | u64::from(l);
            samples.push(v);
            WordLeaf::Ret(eval(v))
        });
        match fun[..] {
            [(_, leaf)] => leaf,
            _ => WordLeaf::Low(lows.iter().position(|l| *l == fun).unwrap_or_else(|| {
                lows.push(fun);
                lows.len() - 1
            })),
        }
    });
    let tree = |ivs: &[(u32, WordLeaf)]| dispatch::build(ivs, &vec![false; ivs.len()], false);
    let (high, low) = if bits64 {
        (Some(tree(&highs)), lows.iter().map(|l| tree(l)).collect())
    } else {
        // one high cut only: its leaf is the low word's whole function
        let fun = match highs[..] {
            [(_, WordLeaf::Low(k))] => lows.swap_remove(k),
            [(_, leaf)] => vec![(0, leaf)],
            _ => return None,
        };
        (None, vec![tree(&fun)])
    };
    Some(Ranges {
        arg,
        high,
        low,
        samples,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::tree::Cond;
    use confine_profile::Operator;

    pub(crate) struct Rng(pub u64);
    impl Rng {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<T: Copy>(&mut self, from: &[T]) -> T {
            from[(self.next() % from.len() as u64) as usize]
        }
    }

    /// What the range layout returns for argument value `v`.
    fn run(r: &Ranges, v: u64) -> Ret {
        let leaf = match &r.high {
            Some(h) => h.decide((v >> 32) as u32).1,
            None => WordLeaf::Low(0),
        };
        match leaf {
            WordLeaf::Ret(a) => a,
            WordLeaf::Low(k) => match r.low[k].decide(v as u32).1 {
                WordLeaf::Ret(a) => a,
                WordLeaf::Low(_) => panic!("a low-word tree leads to another"),
            },
        }
    }

    /// A random merged tree, mostly on argument 0 (sometimes also argument 1, or under a mask
    /// the range layout must refuse): the forest, its root, the default action and whether
    /// the ABI compares both words.
    pub(crate) fn random_tree(rng: &mut Rng) -> Option<(Forest, NodeId, Ret, bool)> {
        let values = [
            0u64,
            1,
            2,
            38,
            39,
            40,
            0x7fff_ffff,
            0xffff_ffff,
            1 << 32,
            (1 << 32) + 5,
            0xffff_ffff_0000_0000,
            u64::MAX,
        ];
        let ops = [
            Operator::EqualTo,
            Operator::NotEqual,
            Operator::GreaterThan,
            Operator::GreaterEqual,
            Operator::LessThan,
            Operator::LessEqual,
            Operator::MaskedEqual,
        ];
        let actions = [Ret::Allow, Ret::Errno(1), Ret::Errno(38), Ret::KillThread];
        let bits64 = rng.next() % 3 != 0;
        let default = rng.pick(&actions);
        let mut f = Forest::default();
        let mut root = None;
        let masked_args = rng.next() % 4 == 0;
        for _ in 0..1 + rng.next() % 4 {
            let op = rng.pick(&ops);
            let mut v = rng.pick(&values);
            if rng.next() % 4 == 0 {
                v = rng.next();
            }
            // masked ==: a mask whose halves are each zero or full keeps the tree laid out (a
            // zero half is a node of known outcome); any other mask (only sometimes) must
            // make `ranges` refuse it
            let mask = match rng.next() % 5 {
                0 => 0,
                1 => u64::MAX,
                2 => 0xffff_ffff_0000_0000,
                3 => 0xffff_ffff,
                _ if masked_args => 0x7e02_0000,
                _ => u64::MAX,
            };
            let (value, value_two) = if op == Operator::MaskedEqual {
                (mask, v & mask)
            } else {
                (v, 0)
            };
            let arg = if rng.next() % 10 == 0 { 1 } else { 0 };
            let c = Cond {
                arg,
                op,
                value,
                value_two,
                narrow: None,
            };
            let action = rng.pick(&actions);
            if let Some(chain) = f.chain(&[c], action, bits64) {
                let mut r = root;
                if f.add(&mut r, chain).is_ok() {
                    root = r;
                }
            }
        }
        Some((f, root?, default, bits64))
    }

    /// Random merged trees on one argument: the range layout decides as the tree does on every
    /// cut, next to it, and on random values; trees it must not take are refused.
    #[test]
    fn ranges_decide_as_the_merged_tree() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut laid, mut refused) = (0, 0);
        for _ in 0..3_000 {
            let Some((f, t, default, bits64)) = random_tree(&mut rng) else {
                continue;
            };
            let Some(r) = ranges(&f, t, default, bits64) else {
                refused += 1;
                continue;
            };
            laid += 1;
            let mut check: Vec<u64> = r.samples.clone();
            for &s in &r.samples {
                check.extend([s.wrapping_sub(1), s.wrapping_add(1), s ^ (1 << 32)]);
            }
            check.extend((0..64).map(|_| rng.next()));
            for v in check {
                let mut args = [0u64; 6];
                args[usize::from(r.arg)] = v;
                let want = f.eval(t, &args).unwrap_or(default);
                assert_eq!(run(&r, v), want, "value {v:#x}, bits64 {bits64}\n{r:#?}");
            }
        }
        // both ways are exercised
        assert!(
            laid > 1_000 && refused > 50,
            "laid {laid}, refused {refused}"
        );
    }
}
