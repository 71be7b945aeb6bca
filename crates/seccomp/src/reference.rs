//! The reference code generator: plain, obviously correct code for a [`Policy`], laid out the
//! way libseccomp's linear mode does (a chain of `jeq nr` per architecture), every comparison
//! reloading its word. The optimised generator is checked against it.

use crate::policy::{Decision, Policy};
use crate::stub::{self, RET_ENOSYS};
use crate::tree::NodeId;
use crate::x32::X32Split;
use crate::{arg_offset, jump_op, CompileError};
use confine_abi::{Arch, X32_SYSCALL_BIT};
use confine_bpf::action::Ret;
use confine_bpf::asm::{Asm, AsmError, Label};
use confine_bpf::insn::{op, Insn};
use std::collections::BTreeMap;

struct Gen<'p> {
    p: &'p Policy,
    asm: Asm,
    /// The returns used so far, by the kernel's value (the order they are emitted in).
    rets: BTreeMap<u32, Label>,
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

    /// Emit one level of a tree; `cont` is where evaluation goes when the level matches nothing.
    fn level(&mut self, arch: Arch, first: NodeId, cont: Label) {
        let nodes: Vec<NodeId> = {
            let f = &self.p.forest;
            let mut v = vec![f.level_first(first)];
            while let Some(n) = f.next_sibling(*v.last().expect("non-empty")) {
                v.push(n);
            }
            v
        };
        let labels: Vec<Label> = nodes.iter().map(|_| self.asm.label()).collect();
        for (i, &id) in nodes.iter().enumerate() {
            let next = labels.get(i + 1).copied().unwrap_or(cont);
            let n = self.p.forest.node(id).clone();
            self.asm.bind(labels[i]);
            // a derived high word (`--arg-width kernel`) is tested on the low word's sign bit
            let derived = n.derived_outcomes();
            if derived.is_some() {
                self.asm.ld(arg_offset(arch, n.arg, false));
            } else {
                self.asm.ld(arg_offset(arch, n.arg, n.hi));
                if n.mask != u32::MAX {
                    self.asm.insn(Insn::stmt(
                        confine_bpf::insn::class::ALU | op::AND | op::K,
                        n.mask,
                    ));
                }
            }
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
            let f = target(n.nxt_f, n.act_f, self);
            match derived {
                Some((pos, neg)) => {
                    let pick = |b: bool| if b { t } else { f };
                    self.asm.jump(op::JSET, 0x8000_0000, pick(neg), pick(pos));
                }
                None => self.asm.jump(jop, n.datum, t, f),
            }
            // sub-levels come right after their node, before the next sibling, so that their
            // fall-through to the sibling is a forward jump
            for (l, sub) in subs {
                self.asm.bind(l);
                self.level(arch, sub, next);
            }
            // the last node's false branch may fall through to `next` without a jump
        }
    }

    fn program(&mut self) {
        let filter = self.asm.label();
        // the ENOSYS return is made even without a stub (unreachable then)
        let enosys = self.ret_label(RET_ENOSYS);
        stub::emit(&mut self.asm, &self.p.stub, enosys, filter);
        self.asm.bind(filter);
        self.asm.ld(4);
        let mut audits: Vec<u32> = Vec::new();
        for a in &self.p.arches {
            if !audits.contains(&a.arch.audit_arch()) {
                audits.push(a.arch.audit_arch());
            }
        }
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
            let members: Vec<_> = self
                .p
                .arches
                .iter()
                .filter(|a| a.arch.audit_arch() == *audit)
                .collect();
            // the half of x86_64's numbers whose ABI the filter lacks gets the bad-arch action
            let dispatch = self.asm.label();
            match X32Split::of(*audit, members.iter().map(|a| a.arch)) {
                X32Split::NativeOnly => {
                    let high = self.asm.label();
                    self.asm.jump(op::JGE, X32_SYSCALL_BIT, high, dispatch);
                    self.asm.bind(high);
                    // -1 goes through (see `X32Split::rejects`)
                    self.asm.jump(op::JEQ, u32::MAX, dispatch, bad);
                }
                X32Split::X32Only => self.asm.jump(op::JGE, X32_SYSCALL_BIT, dispatch, bad),
                X32Split::None => {}
            }
            self.asm.bind(dispatch);
            let mut sys: Vec<(u32, Arch, Decision)> = Vec::new();
            for m in &members {
                for &(nr, d) in &m.syscalls {
                    sys.push((nr, m.arch, d));
                }
            }
            // an unconditional decision jumps straight to its return
            let targets: Vec<Label> = sys
                .iter()
                .map(|(_, _, d)| match *d {
                    Decision::Always(v) => self.ret_label(v),
                    Decision::Tree(_) => self.asm.label(),
                })
                .collect();
            for (j, (nr, _, _)) in sys.iter().enumerate() {
                let next = self.asm.label();
                self.asm.jump(op::JEQ, *nr, targets[j], next);
                self.asm.bind(next);
            }
            self.asm.ja(default);
            for (j, (_, arch, d)) in sys.iter().enumerate() {
                if let Decision::Tree(t) = *d {
                    self.asm.bind(targets[j]);
                    self.level(*arch, t, default);
                }
            }
        }
        let rets: Vec<(u32, Label)> = self.rets.iter().map(|(&v, &l)| (v, l)).collect();
        for (v, l) in rets {
            self.asm.bind(l);
            self.asm.ret(v);
        }
    }
}

/// runc's `-ENOSYS` stub alone, ending where the filter proper starts: prepend it to another
/// compiler's program (libseccomp's, as runc does) to get what runc installs. See
/// [`stub::prefix`].
pub fn stub_prefix(p: &Policy) -> Result<Vec<Insn>, CompileError> {
    stub::prefix(p)
}

/// Generate the reference program for a policy.
pub fn generate(p: &Policy) -> Result<Vec<Insn>, CompileError> {
    let mut g = Gen {
        p,
        asm: Asm::default(),
        rets: BTreeMap::new(),
    };
    g.program();
    g.asm.finish().map_err(|e| match e {
        AsmError::TooLong(n) => CompileError::TooLong(n),
        other => CompileError::Internal(format!("{other:?}")),
    })
}
