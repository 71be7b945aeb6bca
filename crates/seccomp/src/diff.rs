//! The difference between two policies: every syscall number of every covered ABI that they
//! decide differently for some argument vector, with an example. `seccomp diff` renders it.
//!
//! Arguments are probed with every constant of both profiles, ±1, on each argument (plus 0,
//! 1, 2^32-1 and 2^64-1), which tells apart every decision that depends on them; numbers are
//! probed over each ABI's range (its table and 64 numbers beyond).

use crate::policy::{Leaf, Policy};
use confine_abi::{Arch, ArchError, SyscallTable};
use confine_bpf::action::describe;
use confine_profile::Resolved;
use std::collections::BTreeSet;

/// One syscall number decided differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The ABI.
    pub arch: Arch,
    /// The syscall number (with the x32 bit on x32).
    pub nr: u32,
    /// Its name on the ABI, if it has one.
    pub name: Option<&'static str>,
    /// What the first policy does with it as a whole (an action, or "depends on arguments").
    pub a: String,
    /// What the second policy does with it.
    pub b: String,
    /// An argument vector on which they differ.
    pub example: [u64; 6],
    /// The first policy's verdict for the example.
    pub a_verdict: u32,
    /// The second policy's verdict for the example.
    pub b_verdict: u32,
}

/// Argument vectors that tell argument-dependent decisions apart: every constant of both
/// profiles, ±1, on each argument.
fn vectors(a: &Resolved, b: &Resolved) -> Vec<[u64; 6]> {
    let mut consts: BTreeSet<u64> = [0u64, 1, 0xffff_ffff, u64::MAX].into();
    for r in a.rules.iter().chain(&b.rules) {
        for x in &r.args {
            for v in [x.value, x.value_two] {
                consts.extend([v.wrapping_sub(1), v, v.wrapping_add(1)]);
            }
        }
    }
    let mut out = vec![[0u64; 6]];
    for c in consts {
        for i in 0..6 {
            let mut v = [0u64; 6];
            v[i] = c;
            out.push(v);
        }
    }
    out
}

/// What a policy does with a number as a whole.
fn show(p: &Policy, audit: u32, nr: u32) -> String {
    match p.leaf(audit, nr) {
        Leaf::Ret(v) => describe(v.into()),
        Leaf::Tree(..) => "depends on arguments".into(),
    }
}

/// Every number of every ABI either policy covers that `pa` (compiled from `ra`) and `pb`
/// (from `rb`) decide differently, in ABI order (the first policy's, then the second's new
/// ones) and number order.
pub fn diff(
    pa: &Policy,
    ra: &Resolved,
    pb: &Policy,
    rb: &Resolved,
) -> Result<Vec<Difference>, ArchError> {
    let vecs = vectors(ra, rb);
    let mut arches: Vec<Arch> = pa.arches.iter().map(|x| x.arch).collect();
    for x in &pb.arches {
        if !arches.contains(&x.arch) {
            arches.push(x.arch);
        }
    }
    let mut out = Vec::new();
    for arch in arches {
        let audit = arch.audit_arch();
        let table = SyscallTable::for_arch(arch)?;
        for nr in arch.probe_range() {
            let Some(example) = vecs
                .iter()
                .find(|v| pa.eval(audit, nr, v) != pb.eval(audit, nr, v))
            else {
                continue;
            };
            out.push(Difference {
                arch,
                nr,
                name: table.name_of(nr),
                a: show(pa, audit, nr),
                b: show(pb, audit, nr),
                example: *example,
                a_verdict: pa.eval(audit, nr, example).into(),
                b_verdict: pb.eval(audit, nr, example).into(),
            });
        }
    }
    Ok(out)
}
