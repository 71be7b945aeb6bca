//! The optimising code generator.
//!
//! Layout, one block per architecture the filter accepts (native first, so its test falls
//! through):
//!
//! ```text
//!         ld [4]
//!         jeq NATIVE, +0, CHECK2
//!         ld [0]; dispatch tree; the native argument trees; the returns they use
//! CHECK2: jeq COMPAT, +1, +0
//!         ret BAD_ARCH
//!         ld [0]; dispatch tree; argument trees; returns
//! ```
//!
//! The dispatch tree (`dispatch.rs`) is a `jge` tree over the intervals of equal decision
//! (runc's ENOSYS stub, the x32 split and unknown numbers are just more intervals), as shallow
//! as possible, single numbers peeled with one `jeq`, and the calls that always run the filter
//! (argument checks, single numbers with an action of their own) lifted towards the root.
//! Each block keeps its own returns right after its code, so jumps stay within the 8-bit
//! offsets and the next architecture's test is reached without a trampoline.
//!
//! Every path that ends in an argument-free ALLOW uses only `ld [0]`/`ld [4]`, `jeq`/`jge`
//! with constants and `ret 0x7fff0000`, so the kernel's constant-action cache can take it.
//! Argument trees keep track of what the accumulator holds and skip reloads only where every
//! way into a node leaves the right word in it.

use crate::argranges::{self, Ranges, WordLeaf};
use crate::dispatch::{self, Node, Piece};
use crate::policy::{Leaf, Policy};
use crate::tree::{Cmp, NodeId};
use crate::{arg_offset, jump_op, CompileError};
use confine_abi::Arch;
use confine_bpf::action::Ret;
use confine_bpf::asm::{Asm, AsmError, Label};
use confine_bpf::insn::{class, op, Insn};
use std::collections::BTreeMap;

/// What the accumulator is known to hold: `(word offset, mask applied)`.
type Acc = Option<(u32, u32)>;

/// Layout knobs (the defaults are what `generate` uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuning {
    /// Lift the calls that always run the filter towards the root of the dispatch tree (never
    /// deeper than the shallowest tree); off: the shallowest tree alone.
    pub lift_hot: bool,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning { lift_hot: true }
    }
}

struct Gen<'p> {
    p: &'p Policy,
    tuning: Tuning,
    asm: Asm,
    /// The returns used so far, by the kernel's value (the order they are emitted in).
    rets: BTreeMap<u32, Label>,
    /// Argument trees to emit after the dispatch: (label, arch, tree).
    pending: Vec<(Label, Arch, NodeId)>,
    trees: BTreeMap<(Arch, NodeId), Label>,
}

impl Gen<'_> {
    fn ret_label(&mut self, r: Ret) -> Label {
        let v = u32::from(r);
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

    /// Emit the range tree below `node` over the word A holds (the syscall number, or an
    /// argument word); `label` gives the target of each leaf.
    fn ranges<L: Copy + Eq>(
        &mut self,
        d: &dispatch::Dispatch<L>,
        node: usize,
        label: &mut dyn FnMut(&mut Self, L) -> Label,
    ) {
        match d.nodes[node] {
            Node::Piece(i) => match d.pieces[i].1 {
                Piece::Run(leaf) => {
                    let l = label(self, leaf);
                    self.asm.ja(l);
                }
                Piece::Peel { nr, inner, outer } => {
                    let t = label(self, inner);
                    let f = label(self, outer);
                    self.asm.jump(op::JEQ, nr, t, f);
                }
            },
            Node::Split { at, left, right } => {
                let mut target = |g: &mut Self, n: usize| match d.nodes[n] {
                    Node::Piece(i) => match d.pieces[i].1 {
                        Piece::Run(leaf) => (label(g, leaf), false),
                        Piece::Peel { .. } => (g.asm.label(), true),
                    },
                    Node::Split { .. } => (g.asm.label(), true),
                };
                let (l, emit_left) = target(self, left);
                let (r, emit_right) = target(self, right);
                self.asm.jump(op::JGE, at, r, l);
                if emit_left {
                    self.asm.bind(l);
                    self.ranges(d, left, label);
                }
                if emit_right {
                    self.asm.bind(r);
                    self.ranges(d, right, label);
                }
            }
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
            // a derived high word (`--arg-width kernel`) is tested on the low word's sign bit
            let derived = n.derived_outcomes();
            let (off, mask) = match derived {
                Some(_) => (arg_offset(arch, n.arg, false), u32::MAX),
                None => (arg_offset(arch, n.arg, n.hi), n.mask),
            };
            // a masked compare under a zero mask (the high word of `a0 & 0x7e020000 == 0`,
            // kept in the tree as libseccomp keeps it) has a known outcome: no load, no test;
            // so has a derived word whose test does not depend on the sign bit
            let known = match derived {
                Some((pos, neg)) => (pos == neg).then_some(pos),
                None => (n.cmp == Cmp::MaskedEq && n.mask == 0).then_some(n.datum == 0),
            };
            match acc {
                _ if known.is_some() => {}
                Some((o, m)) if o == off && m == mask => {}
                Some((o, m)) if o == off && m == u32::MAX => {
                    self.asm
                        .insn(Insn::stmt(class::ALU | op::AND | op::K, mask));
                }
                _ => {
                    self.asm.ld(off);
                    if mask != u32::MAX {
                        self.asm
                            .insn(Insn::stmt(class::ALU | op::AND | op::K, mask));
                    }
                }
            }
            let here: Acc = if known.is_some() {
                acc
            } else {
                Some((off, mask))
            };
            let jop = jump_op(n.cmp);
            let mut subs = Vec::new();
            let mut target = |nxt: Option<NodeId>, act: Option<Ret>, g: &mut Self| match (nxt, act)
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
            match (known, derived) {
                (Some(true), _) => self.asm.ja(t),
                (Some(false), _) => self.asm.ja(fl),
                // the sign bit set: the word is all ones
                (None, Some((_, neg))) => {
                    let (set, clear) = if neg { (t, fl) } else { (fl, t) };
                    self.asm.jump(op::JSET, 0x8000_0000, set, clear)
                }
                (None, None) => self.asm.jump(jop, n.datum, t, fl),
            }
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

    /// The range layout of argument tree `t` when it has the shorter longest path (ties: the
    /// smaller total over the grid's cells).
    fn relaid(&self, arch: Arch, t: NodeId) -> Option<Ranges> {
        let bits64 = self.p.arches.iter().find(|a| a.arch == arch)?.bits64;
        let r = argranges::ranges(&self.p.forest, t, self.p.default_action, bits64)?;
        r.beats_merged(&self.p.forest, t).then_some(r)
    }

    /// Emit an argument check laid out as range trees over its words.
    fn word_trees(&mut self, arch: Arch, r: &Ranges) {
        let lows: Vec<Label> = r.low.iter().map(|_| self.asm.label()).collect();
        let mut target = |g: &mut Self, leaf: WordLeaf| match leaf {
            WordLeaf::Ret(v) => g.ret_label(v),
            WordLeaf::Low(k) => lows[k],
        };
        let mut word = |g: &mut Self, hi: bool, d: &dispatch::Dispatch<WordLeaf>| {
            // a tree that is one run needs neither the load nor a test
            if let Node::Piece(i) = d.nodes[d.root] {
                if let Piece::Run(leaf) = d.pieces[i].1 {
                    let l = target(g, leaf);
                    g.asm.ja(l);
                    return;
                }
            }
            g.asm.ld(arg_offset(arch, r.arg, hi));
            g.ranges(d, d.root, &mut target);
        };
        if let Some(h) = &r.high {
            word(self, true, h);
        }
        for (k, d) in r.low.iter().enumerate() {
            self.asm.bind(lows[k]);
            word(self, false, d);
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
        let bad = self.asm.label();
        for (i, audit) in audits.iter().enumerate() {
            let body = self.asm.label();
            let last = i + 1 == audits.len();
            let next = if last { bad } else { self.asm.label() };
            self.asm.jump(op::JEQ, *audit, body, next);
            if last {
                self.asm.bind(bad);
                self.asm.ret(self.p.bad_arch_action.into());
            }
            self.asm.bind(body);
            self.asm.ld(0);
            let ivs = self.p.intervals(*audit);
            let hot = hot_intervals(self.p, &ivs);
            let d = dispatch::build(&ivs, &hot, self.tuning.lift_hot);
            self.ranges(&d, d.root, &mut |g, leaf| g.leaf_label(leaf));
            // argument trees right after their architecture's dispatch, to keep jumps short
            let default = self.ret_label(self.p.default_action);
            while let Some((l, arch, t)) = self.pending.pop() {
                self.asm.bind(l);
                match self.relaid(arch, t) {
                    Some(r) => self.word_trees(arch, &r),
                    // entered from the dispatch: A holds the syscall number
                    None => self.level(arch, t, default, Some((0, u32::MAX))),
                }
            }
            // this block's returns
            let rets = std::mem::take(&mut self.rets);
            for (v, l) in rets {
                self.asm.bind(l);
                self.asm.ret(v);
            }
            self.trees.clear();
            if !last {
                self.asm.bind(next);
            }
        }
        if audits.is_empty() {
            self.asm.bind(bad);
            self.asm.ret(self.p.bad_arch_action.into());
        }
    }
}

/// The intervals to lift in the dispatch tree: calls that always run the filter and are made
/// often. Argument checks (the kernel can never cache them) and single numbers the profile
/// answers with an action of their own (libc probes such as `clone3` → ENOSYS, made on every
/// thread creation before falling back). Not x32 numbers: that ABI is rare, and it shares the
/// tree with the native one.
fn hot_intervals(p: &Policy, ivs: &[(u32, Leaf)]) -> Vec<bool> {
    (0..ivs.len())
        .map(|i| {
            let (start, leaf) = ivs[i];
            let single = ivs
                .get(i + 1)
                .is_some_and(|n| u64::from(n.0) == u64::from(start) + 1);
            start < confine_abi::X32_SYSCALL_BIT
                && match leaf {
                    Leaf::Tree(arch, _) => arch != Arch::X32,
                    Leaf::Ret(v) => {
                        single && v != p.default_action && v != Ret::Allow && v != p.bad_arch_action
                    }
                }
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{build, Decision, Options};
    use confine_abi::CapSet;
    use confine_bpf::{Emulator, SeccompData};
    use confine_profile::{Host, KernelVersion};

    /// Emit one argument tree alone, as `emit` lays it out, with its returns.
    fn alone(p: &Policy, emit: impl FnOnce(&mut Gen)) -> Vec<Insn> {
        let mut g = Gen {
            p,
            tuning: Tuning::default(),
            asm: Asm::default(),
            rets: BTreeMap::new(),
            pending: Vec::new(),
            trees: BTreeMap::new(),
        };
        emit(&mut g);
        for (v, l) in std::mem::take(&mut g.rets) {
            g.asm.bind(l);
            g.asm.ret(v);
        }
        peephole(g.asm.finish().unwrap())
    }

    /// Check the cost model on tree `t` of `arch` in `p`: both layouts, emitted alone, decide
    /// as the tree and execute what the model counts, on every cell of the grid. Returns the
    /// number of values checked (0 when the tree cannot be laid out as ranges).
    fn check_cost_model(p: &Policy, arch: confine_abi::Arch, bits64: bool, t: NodeId) -> usize {
        let Some(ranges) = argranges::ranges(&p.forest, t, p.default_action, bits64) else {
            return 0;
        };
        let merged = alone(p, |g| {
            let default = g.ret_label(g.p.default_action);
            g.level(arch, t, default, None);
        });
        let laid = alone(p, |g| g.word_trees(arch, &ranges));
        let (merged, laid) = (
            Emulator::new(&merged).unwrap(),
            Emulator::new(&laid).unwrap(),
        );
        for &v in &ranges.samples {
            let mut args = [0u64; 6];
            args[usize::from(ranges.arg)] = v;
            let data = SeccompData {
                arch: arch.audit_arch(),
                args,
                ..Default::default()
            };
            let le = arch.is_little_endian();
            let (m, l) = (merged.run(&data, le), laid.run(&data, le));
            let want = u32::from(p.forest.eval(t, &args).unwrap_or(p.default_action));
            assert_eq!((m.ret, l.ret), (want, want), "{arch} {v:#x}");
            let model = argranges::merged_executed(&p.forest, t, &args, None).1 + 1;
            assert_eq!(model, m.executed, "merged, {arch} {v:#x}");
            assert_eq!(ranges.executed(v), l.executed, "ranges, {arch} {v:#x}");
        }
        ranges.samples.len()
    }

    /// The cost model that chooses between the merged tree and the range layout counts what
    /// the emitted code executes, for both layouts: every argument tree of Docker's default
    /// that can be laid out as ranges (socket, personality, the x86 multiplexers), and random
    /// one-argument trees.
    #[test]
    fn cost_model_counts_what_the_code_executes() {
        let mut checked = 0;
        for native in [confine_abi::Arch::X86_64, confine_abi::Arch::Aarch64] {
            let r = confine_profile::builtin::resolved_for(&Host {
                arch: native,
                caps: CapSet::docker_default(),
                kernel: KernelVersion {
                    kernel: 6,
                    major: 8,
                },
            });
            let p = build(&r, Options::default()).unwrap();
            for a in &p.arches {
                for &(_, d) in &a.syscalls {
                    if let Decision::Tree(t) = d {
                        checked += check_cost_model(&p, a.arch, a.bits64, t);
                    }
                }
            }
        }
        assert!(checked > 50, "{checked}");
        let mut rng = argranges::tests::Rng(0x5151_7e57);
        let mut random = 0;
        for _ in 0..2_000 {
            let Some((forest, t, default, bits64)) = argranges::tests::random_tree(&mut rng) else {
                continue;
            };
            let arch = if bits64 {
                confine_abi::Arch::X86_64
            } else {
                confine_abi::Arch::X32
            };
            let p = Policy {
                default_action: default,
                bad_arch_action: Ret::KillThread,
                arches: vec![crate::policy::ArchPolicy {
                    arch,
                    syscalls: vec![(0, Decision::Tree(t))],
                    bits64,
                    origins: Vec::new(),
                }],
                forest,
                stub: Vec::new(),
                flags: Vec::new(),
                unknown_names: Vec::new(),
            };
            random += check_cost_model(&p, arch, bits64, t);
        }
        assert!(random > 5_000, "{random}");
    }
}
