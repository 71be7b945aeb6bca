//! The optimising code generator.
//!
//! Layout, for each architecture the filter accepts (native first, so the common case falls
//! through):
//!
//! ```text
//!   ld [4]; jeq NATIVE …; jeq COMPAT …; ret BAD_ARCH
//!   NATIVE: ld [0]; balanced jge-tree over the maximal intervals of equal decision
//!           (runc's ENOSYS stub, the x32 split and unknown numbers are just more intervals)
//!   leaves: a jump straight to a shared `ret`, or the syscall's argument tree, out of line
//! ```
//!
//! Every path that ends in an argument-free ALLOW uses only `ld [0]`/`ld [4]`, `jeq`/`jge`
//! with constants and `ret 0x7fff0000`, so the kernel's constant-action cache can take it.
//! Argument trees keep track of what the accumulator holds and skip reloads only where every
//! way into a node leaves the right word in it.

use super::asm::{Asm, AsmError, Label};
use super::policy::{Leaf, Policy};
use super::tree::NodeId;
use super::{arg_offset, jump_op, CompileError};
use crate::insn::{class, op, Insn};
use confine_abi::Arch;
use std::collections::BTreeMap;

/// What the accumulator is known to hold: `(word offset, mask applied)`.
type Acc = Option<(u32, u32)>;

/// Layout knobs (the defaults are what `generate` uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuning {
    /// Test up to this many argument-dependent syscalls per architecture with `jeq` before the
    /// range tree (0: pure range tree).
    pub hot_max: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning { hot_max: HOT_MAX }
    }
}

struct Gen<'p> {
    p: &'p Policy,
    tuning: Tuning,
    asm: Asm,
    rets: BTreeMap<u32, Label>,
    /// Argument trees to emit after the dispatch: (label, arch, tree).
    pending: Vec<(Label, Arch, NodeId)>,
    trees: BTreeMap<(Arch, NodeId), Label>,
}

impl Gen<'_> {
    fn ret_label(&mut self, v: u32) -> Label {
        if let Some(&l) = self.rets.get(&v) {
            return l;
        }
        let l = self.asm.label();
        self.rets.insert(v, l);
        l
    }

    fn leaf_label(&mut self, leaf: Leaf) -> Label {
        match leaf {
            Leaf::Ret(v) => self.ret_label(v),
            Leaf::Tree(arch, t) => {
                if let Some(&l) = self.trees.get(&(arch, t)) {
                    return l;
                }
                let l = self.asm.label();
                self.trees.insert((arch, t), l);
                self.pending.push((l, arch, t));
                l
            }
        }
    }

    /// A balanced `jge` tree over `ivs` (sorted interval starts with their leaves).
    fn range_tree(&mut self, ivs: &[(u32, Leaf)]) {
        if ivs.len() == 1 {
            let l = self.leaf_label(ivs[0].1);
            self.asm.ja(l);
            return;
        }
        let mid = split_point(ivs);
        let (left, right) = ivs.split_at(mid);
        let right_target = if right.len() == 1 {
            self.leaf_label(right[0].1)
        } else {
            self.asm.label()
        };
        if left.len() == 1 {
            let left_target = self.leaf_label(left[0].1);
            self.asm
                .jump(op::JGE, right[0].0, right_target, left_target);
        } else {
            let l = self.asm.label();
            self.asm.jump(op::JGE, right[0].0, right_target, l);
            self.asm.bind(l);
            self.range_tree(left);
        }
        if right.len() > 1 {
            self.asm.bind(right_target);
            self.range_tree(right);
        }
    }

    /// One level of an argument tree; `acc` is what A holds on entry to its first node.
    fn level(&mut self, arch: Arch, first: NodeId, cont: Label, mut acc: Acc) {
        let f = &self.p.forest;
        let mut nodes = vec![f.level_first(first)];
        while let Some(n) = f.next_sibling(*nodes.last().expect("non-empty")) {
            nodes.push(n);
        }
        let labels: Vec<Label> = nodes.iter().map(|_| self.asm.label()).collect();
        for (i, &id) in nodes.iter().enumerate() {
            let next = labels.get(i + 1).copied().unwrap_or(cont);
            let n = self.p.forest.node(id).clone();
            self.asm.bind(labels[i]);
            let off = arg_offset(arch, n.arg, n.hi);
            match acc {
                Some((o, m)) if o == off && m == n.mask => {}
                Some((o, m)) if o == off && m == u32::MAX => {
                    self.asm
                        .insn(Insn::stmt(class::ALU | op::AND | op::K, n.mask));
                }
                _ => {
                    self.asm.ld(off);
                    if n.mask != u32::MAX {
                        self.asm
                            .insn(Insn::stmt(class::ALU | op::AND | op::K, n.mask));
                    }
                }
            }
            let here: Acc = Some((off, n.mask));
            let jop = jump_op(n.cmp);
            let mut subs = Vec::new();
            let mut target = |nxt: Option<NodeId>, act: Option<u32>, g: &mut Self| match (nxt, act)
            {
                (Some(sub), _) => {
                    let l = g.asm.label();
                    subs.push((l, sub));
                    l
                }
                (None, Some(a)) => g.ret_label(a),
                (None, None) => next,
            };
            let t = target(n.nxt_t, n.act_t, self);
            let fl = target(n.nxt_f, n.act_f, self);
            self.asm.jump(jop, n.datum, t, fl);
            let had_subs = !subs.is_empty();
            for (l, sub) in subs {
                self.asm.bind(l);
                self.level(arch, sub, next, here);
            }
            // the next node is reached from this node's branches (A = this word) and, when this
            // node has sub-levels, from their fall-through (A unknown)
            acc = if had_subs { None } else { here };
        }
    }

    fn program(&mut self) {
        let mut audits: Vec<u32> = Vec::new();
        for a in &self.p.arches {
            if !audits.contains(&a.arch.audit_arch()) {
                audits.push(a.arch.audit_arch());
            }
        }
        // the stub may name an architecture the filter lacks only through `architectures`,
        // which always lands in the filter too
        self.asm.ld(4);
        let blocks: Vec<Label> = audits.iter().map(|_| self.asm.label()).collect();
        for (i, audit) in audits.iter().enumerate() {
            let next = self.asm.label();
            self.asm.jump(op::JEQ, *audit, blocks[i], next);
            self.asm.bind(next);
        }
        let bad = self.ret_label(self.p.bad_arch_action);
        self.asm.ja(bad);
        let default = self.ret_label(self.p.default_action);
        for (i, audit) in audits.iter().enumerate() {
            self.asm.bind(blocks[i]);
            self.asm.ld(0);
            let ivs = hot_first(self, self.p.intervals(*audit));
            self.range_tree(&ivs);
            // argument trees right after their architecture's dispatch, to keep jumps short
            while let Some((l, arch, t)) = self.pending.pop() {
                self.asm.bind(l);
                // entered from the dispatch: A holds the syscall number
                self.level(arch, t, default, Some((0, u32::MAX)));
            }
        }
        let rets: Vec<(u32, Label)> = self.rets.iter().map(|(&v, &l)| (v, l)).collect();
        for (v, l) in rets {
            self.asm.bind(l);
            self.asm.ret(v);
        }
    }
}

/// Calls that always run the filter and are made often go first, each with one `jeq`:
/// argument-dependent syscalls (the kernel can never cache them), then single syscalls the
/// profile answers with their own errno or action (libc probes such as `clone3` → ENOSYS,
/// made on every thread creation, falling back). Native numbers before x32 ones; at most
/// `hot_max` in all. Their numbers are folded into a neighbour's interval of the range tree,
/// which they never reach.
fn hot_first(g: &mut Gen<'_>, ivs: Vec<(u32, Leaf)>) -> Vec<(u32, Leaf)> {
    let end = |i: usize| {
        ivs.get(i + 1)
            .map_or(u64::from(u32::MAX) + 1, |n| u64::from(n.0))
    };
    let special = |leaf: &Leaf| match leaf {
        Leaf::Tree(..) => Some(0u8),
        Leaf::Ret(v)
            if *v != g.p.default_action
                && *v != crate::action::ALLOW
                && *v != g.p.bad_arch_action =>
        {
            Some(1)
        }
        Leaf::Ret(_) => None,
    };
    let mut hot: Vec<(bool, u8, usize)> = (0..ivs.len())
        .filter(|&i| end(i) == u64::from(ivs[i].0) + 1)
        .filter_map(|i| {
            special(&ivs[i].1).map(|rank| (ivs[i].0 >= super::policy::X32_BIT, rank, i))
        })
        .collect();
    hot.sort();
    hot.truncate(g.tuning.hot_max);
    let hot: Vec<usize> = hot.into_iter().map(|h| h.2).collect();
    for &i in &hot {
        let target = g.leaf_label(ivs[i].1);
        let next = g.asm.label();
        g.asm.jump(op::JEQ, ivs[i].0, target, next);
        g.asm.bind(next);
    }
    let mut out: Vec<(u32, Leaf)> = Vec::new();
    for (i, iv) in ivs.iter().enumerate() {
        let leaf = if hot.contains(&i) {
            // any leaf will do here: the number never reaches the tree
            out.last().map_or(iv.1, |l| l.1)
        } else {
            iv.1
        };
        match out.last() {
            Some(l) if l.1 == leaf => {}
            _ => out.push((iv.0, leaf)),
        }
    }
    out
}

/// At most this many calls are tested before the range tree.
const HOT_MAX: usize = 6;

/// How much a leaf's depth matters: argument-dependent syscalls always run the filter (the
/// kernel cannot cache them), so they weigh most; everything else weighs 1.
fn weight(leaf: &Leaf) -> u64 {
    match leaf {
        Leaf::Tree(..) => TREE_WEIGHT,
        Leaf::Ret(_) => 1,
    }
}

const TREE_WEIGHT: u64 = 6;

/// Split a run of intervals where the weights on both sides are closest to equal (a
/// weight-balanced alphabetic tree: heavy leaves end up near the root).
fn split_point(ivs: &[(u32, Leaf)]) -> usize {
    let total: u64 = ivs.iter().map(|(_, l)| weight(l)).sum();
    let mut best = (u64::MAX, ivs.len() / 2);
    let mut left = 0u64;
    for (i, (_, l)) in ivs.iter().enumerate().take(ivs.len() - 1) {
        left += weight(l);
        let right = total - left;
        let diff = left.abs_diff(right);
        if diff < best.0 {
            best = (diff, i + 1);
        }
    }
    best.1
}

/// Generate the optimised program for a policy.
pub fn generate(p: &Policy) -> Result<Vec<Insn>, CompileError> {
    generate_with(p, Tuning::default())
}

/// Generate with explicit layout knobs (for benchmarks and tests).
pub fn generate_with(p: &Policy, tuning: Tuning) -> Result<Vec<Insn>, CompileError> {
    let mut g = Gen {
        p,
        tuning,
        asm: Asm::default(),
        rets: BTreeMap::new(),
        pending: Vec::new(),
        trees: BTreeMap::new(),
    };
    g.program();
    let prog = g.asm.finish().map_err(|e| match e {
        AsmError::TooLong(n) => CompileError::TooLong(n),
        other => CompileError::Internal(format!("{other:?}")),
    })?;
    Ok(peephole(prog))
}

/// Jump threading to a fixpoint: a jump whose target is an unconditional `ja` goes straight to
/// that `ja`'s target when the offset still fits; a `ja` to a `ret` becomes the `ret`.
fn peephole(mut prog: Vec<Insn>) -> Vec<Insn> {
    let ja = class::JMP | op::JA;
    loop {
        let mut changed = false;
        for pc in 0..prog.len() {
            let i = prog[pc];
            if i.code == ja {
                let t = pc + 1 + i.k as usize;
                if prog[t].class() == class::RET && prog[t].code & op::RET_A == 0 {
                    prog[pc] = prog[t];
                    changed = true;
                } else if prog[t].code == ja {
                    prog[pc].k += 1 + prog[t].k;
                    changed = true;
                }
            } else if i.class() == class::JMP {
                for side in 0..2 {
                    let off = if side == 0 { i.jt } else { i.jf } as usize;
                    let t = pc + 1 + off;
                    if prog[t].code == ja {
                        let dest = t + 1 + prog[t].k as usize;
                        let new = dest - pc - 1;
                        if new <= 255 {
                            if side == 0 {
                                prog[pc].jt = new as u8;
                            } else {
                                prog[pc].jf = new as u8;
                            }
                            changed = true;
                        }
                    }
                }
            }
        }
        if !changed {
            return prog;
        }
    }
}
