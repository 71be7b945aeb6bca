//! What a built [`Policy`] decides, without BPF: the verdict for one call, the decision for
//! one (arch, nr) up to the argument checks, and the maximal intervals of equal decision the
//! optimiser lays its dispatch over. runc's `-ENOSYS` stub is part of the decision here, as it
//! is part of what runc installs (what it answers is [`super::stub`]'s).

use crate::policy::{ArchPolicy, Decision, Policy};
use crate::stub::Stub;
use crate::tree::NodeId;
use crate::x32::X32Split;
use confine_abi::Arch;
use confine_bpf::action::Ret;

/// What decides one (arch, nr) before arguments are looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Leaf {
    /// A fixed return value.
    Ret(Ret),
    /// An argument tree of the given ABI (its unmatched outcome is the default action).
    Tree(Arch, NodeId),
}

impl Policy {
    /// The verdict for one call, computed from the policy itself (no BPF): what the installed
    /// program must return. `args` are the six 64-bit arguments.
    pub fn eval(&self, audit_arch: u32, nr: u32, args: &[u64; 6]) -> Ret {
        match self.leaf(audit_arch, nr) {
            Leaf::Ret(v) => v,
            Leaf::Tree(_, t) => self.forest.eval(t, args).unwrap_or(self.default_action),
        }
    }

    /// The decision for (arch, nr) up to the argument checks.
    pub fn leaf(&self, audit_arch: u32, nr: u32) -> Leaf {
        if let Some(v) = self.eval_stub(audit_arch, nr) {
            return Leaf::Ret(v);
        }
        // no allocation: this runs for every breakpoint of every architecture at compile time
        let dbs = || {
            self.arches
                .iter()
                .filter(move |a| a.arch.audit_arch() == audit_arch)
        };
        if dbs().next().is_none() {
            return Leaf::Ret(self.bad_arch_action);
        }
        if X32Split::of(audit_arch, dbs().map(|a| a.arch)).rejects(nr) {
            return Leaf::Ret(self.bad_arch_action);
        }
        for a in dbs() {
            if let Some(d) = a.decision(nr) {
                return match d {
                    Decision::Always(v) => Leaf::Ret(v),
                    Decision::Tree(t) => Leaf::Tree(a.arch, t),
                };
            }
        }
        Leaf::Ret(self.default_action)
    }

    /// Maximal intervals of constant decision over all 2^32 numbers of `audit_arch`:
    /// `(first number, leaf)`, sorted. Equivalent to [`Policy::leaf`] at every number (the
    /// optimiser's tests check the program against `leaf`), computed without a lookup per
    /// number: the explicit entries are merged once and walked in order.
    pub fn intervals(&self, audit_arch: u32) -> Vec<(u32, Leaf)> {
        let dbs: Vec<&ArchPolicy> = self
            .arches
            .iter()
            .filter(|a| a.arch.audit_arch() == audit_arch)
            .collect();
        if dbs.is_empty() {
            return vec![(0, Leaf::Ret(self.bad_arch_action))];
        }
        let mut entries: Vec<(u32, Leaf)> =
            Vec::with_capacity(dbs.iter().map(|a| a.syscalls.len()).sum());
        for a in &dbs {
            for &(nr, d) in &a.syscalls {
                entries.push((
                    nr,
                    match d {
                        Decision::Always(v) => Leaf::Ret(v),
                        Decision::Tree(t) => Leaf::Tree(a.arch, t),
                    },
                ));
            }
        }
        // x86_64's and x32's numbers do not overlap: usually sorted already. Stable, so the
        // first architecture listing a number decides it, as in `leaf`.
        if !entries.is_sorted_by_key(|e| e.0) {
            entries.sort_by_key(|e| e.0);
        }
        entries.dedup_by_key(|e| e.0);
        // zones where the stub and the x32 split answer alike: from 0 and from wherever
        // either answer may change
        let stub = Stub::of(&self.stub, audit_arch);
        let split = X32Split::of(audit_arch, dbs.iter().map(|a| a.arch));
        let mut bounds: Vec<u32> = vec![0];
        bounds.extend(split.bounds());
        bounds.extend(stub.bounds());
        bounds.sort_unstable();
        bounds.dedup();
        let default = Leaf::Ret(self.default_action);
        let mut out: Vec<(u32, Leaf)> = Vec::with_capacity(2 * entries.len() + bounds.len());
        let mut push = |start: u32, leaf: Leaf| {
            if out.last().is_none_or(|(_, l)| *l != leaf) {
                out.push((start, leaf));
            }
        };
        let mut next = 0;
        for (z, &lo) in bounds.iter().enumerate() {
            // the zone is [lo, hi]
            let hi = bounds.get(z + 1).map_or(u32::MAX, |b| b - 1);
            let fixed = if let Some(v) = stub.at(lo) {
                Some(v)
            } else if split.rejects(lo) {
                Some(self.bad_arch_action)
            } else {
                None
            };
            while next < entries.len() && entries[next].0 < lo {
                next += 1;
            }
            if let Some(v) = fixed {
                push(lo, Leaf::Ret(v));
                continue;
            }
            if entries.get(next).is_none_or(|e| e.0 != lo) {
                push(lo, default);
            }
            // each entry, and the default after it unless the next number is listed too
            while let Some(&(nr, leaf)) = entries.get(next).filter(|e| e.0 <= hi) {
                push(nr, leaf);
                next += 1;
                if nr < hi && entries.get(next).is_none_or(|e| e.0 != nr + 1) {
                    push(nr + 1, default);
                }
            }
        }
        out
    }

    /// Whether libseccomp 2.5.4's program for (arch, nr) may compare a stale accumulator (see
    /// [`Forest::libseccomp_stale_hazard`](super::tree::Forest::libseccomp_stale_hazard)).
    pub fn libseccomp_hazard(&self, audit_arch: u32, nr: u32) -> bool {
        self.arches
            .iter()
            .filter(|a| a.arch.audit_arch() == audit_arch)
            .filter_map(|a| a.decision(nr))
            .any(|d| matches!(d, Decision::Tree(t) if self.forest.libseccomp_stale_hazard(t)))
    }
}
