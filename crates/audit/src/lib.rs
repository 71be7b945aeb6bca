//! Judging seccomp filters by what they decide, not by the names they list.
//!
//! Every question is put to the program itself: the stack of classic-BPF filters a process
//! carries, or the program confine compiles for a profile (the one `confine run` installs).
//! [`Target::runs`] asks the emulator what a concrete call gets; [`Target::witness`] asks the
//! path explorer for an argument vector that reaches a running path. So `clone` allowed only
//! without namespace flags (Docker's rule) is not a namespace finding, and a raw program
//! dumped from a container or handed to `bwrap --seccomp` is judged like a profile.
//!
//! * [`lint`]: findings, each with a stable id, a severity, the rule that causes it (when a
//!   profile is known), a concrete example call and a reference.
//! * [`surface`]: the dangerous syscall groups, shared by `lint` and the exposure score.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod arg32;
mod checks;

pub mod score;
pub mod surface;

use confine_abi::{Arch, SyscallTable};
use confine_bpf::action::{self, describe};
use confine_bpf::explore::{CmpOp, Cond, Field};
use confine_bpf::stack::{Stack, Verdict};
use confine_profile::{KernelVersion, Resolved};
use confine_seccomp::Policy;
use std::fmt;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; no exposure by itself.
    Info,
    /// A small exposure or a likely mistake.
    Low,
    /// A way to more kernel than a container needs, or a program that breaks.
    Medium,
    /// A known way out of the confinement, or kernel code that escapes have used.
    High,
}

impl Severity {
    /// The lower-case name (`info`, `low`, `medium`, `high`).
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    /// Every severity, mildest first.
    pub const ALL: [Severity; 4] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
    ];
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A concrete call that shows a finding: what the filter decides for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    /// The ABI of the call.
    pub abi: Arch,
    /// The syscall's name on that ABI.
    pub syscall: String,
    /// Its number as `seccomp_data.nr`.
    pub nr: u32,
    /// The six arguments.
    pub args: [u64; 6],
    /// What the filter returns for it.
    pub ret: u32,
}

impl fmt::Display for Example {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let used = self.args.iter().rposition(|&a| a != 0).map_or(0, |i| i + 1);
        let args: Vec<String> = self.args[..used].iter().map(|&a| word(a)).collect();
        write!(
            f,
            "{}({}) on {} → {}",
            self.syscall,
            args.join(", "),
            self.abi.native_name(),
            describe(self.ret)
        )
    }
}

/// A value as `seccomp eval` reads it: decimal below 10, otherwise hex with `0x`.
pub fn word(v: u64) -> String {
    if v < 10 {
        v.to_string()
    } else {
        format!("{v:#x}")
    }
}

/// One finding of [`lint`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The stable id (kebab-case, never reused for another meaning).
    pub id: &'static str,
    /// How serious it is.
    pub severity: Severity,
    /// The syscalls concerned, on the first ABI where the finding holds.
    pub syscalls: Vec<String>,
    /// The ABIs where it holds.
    pub abis: Vec<Arch>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The profile's rule that causes it (`defaultAction` for the default), when a profile
    /// was given.
    pub rule: Option<String>,
    /// Calls that show it.
    pub examples: Vec<Example>,
    /// Where to read more.
    pub reference: &'static str,
}

/// A profile with the policy it compiled to: lets findings name their rule.
#[derive(Clone, Copy)]
pub struct Profiled<'a> {
    /// The resolved profile.
    pub resolved: &'a Resolved,
    /// Its decisions.
    pub policy: &'a Policy,
}

/// What is judged: a stack of filters for a native architecture and kernel.
pub struct Target<'a> {
    /// The filters (a process's, oldest first, or one compiled program).
    pub stack: Stack<'a>,
    /// The native architecture: its ABIs are the ones judged.
    pub native: Arch,
    /// The kernel the filters run on (some findings depend on it).
    pub kernel: KernelVersion,
    /// The profile the program was compiled from, when there is one.
    pub profile: Option<Profiled<'a>>,
}

/// Whether a return value lets the call run, or hands it to someone who may let it run
/// (a tracer, a user-notification supervisor).
pub fn runs(ret: u32) -> bool {
    matches!(
        ret & action::ACTION_FULL,
        action::ALLOW | action::LOG | action::TRACE | action::USER_NOTIF
    )
}

impl Target<'_> {
    /// The number of `name` on `abi`, when the ABI has the call.
    pub fn number(abi: Arch, name: &str) -> Option<u32> {
        SyscallTable::for_arch(abi).ok()?.number(name)
    }

    /// What the filters return for one concrete call.
    pub fn eval(&self, abi: Arch, nr: u32, args: &[u64; 6]) -> u32 {
        self.stack.eval_args(abi, nr, args)
    }

    /// An example of one concrete call.
    pub fn example(&self, abi: Arch, name: &str, nr: u32, args: [u64; 6]) -> Example {
        Example {
            abi,
            syscall: name.to_string(),
            nr,
            args,
            ret: self.eval(abi, nr, &args),
        }
    }

    /// Argument vectors that reach each running path of `nr` on `abi`, checked on the whole
    /// stack; empty when no argument vector runs it (as far as the explorer's paths show).
    pub fn witnesses(&self, abi: Arch, nr: u32) -> Vec<[u64; 6]> {
        self.points(abi, nr)
            .into_iter()
            .filter(|a| runs(self.eval(abi, nr, a)))
            .collect()
    }

    /// One argument vector per path of `nr` on `abi` that a witness could be built for,
    /// whatever the path returns (all zero when the verdict does not depend on arguments).
    pub fn points(&self, abi: Arch, nr: u32) -> Vec<[u64; 6]> {
        match self.stack.verdict(abi, nr) {
            Verdict::Fixed(_) => vec![[0; 6]],
            Verdict::Depends(paths) => {
                let mut out: Vec<[u64; 6]> = Vec::new();
                for (_, conds) in &paths {
                    if let Some(args) = satisfy(conds, abi.args64()) {
                        if !out.contains(&args) {
                            out.push(args);
                        }
                    }
                }
                out
            }
        }
    }

    /// One argument vector that makes `nr` on `abi` run, if any.
    pub fn witness(&self, abi: Arch, nr: u32) -> Option<[u64; 6]> {
        self.witnesses(abi, nr).into_iter().next()
    }

    /// The constants the filters compare argument `arg`'s low word with for `nr` on `abi`.
    pub fn constants(&self, abi: Arch, nr: u32, arg: u8) -> Vec<u32> {
        let mut out = Vec::new();
        if let Verdict::Depends(paths) = self.stack.verdict(abi, nr) {
            for c in paths.iter().flat_map(|p| &p.1) {
                if c.field == Some(Field::Arg { n: arg, hi: false }) && !out.contains(&c.k) {
                    out.push(c.k);
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// The profile's rule that decides `nr` on `abi` with `args`, as `seccomp eval` explains
    /// it; `None` without a profile.
    pub fn rule(&self, abi: Arch, nr: u32, args: &[u64; 6]) -> Option<String> {
        let p = self.profile?;
        let name = SyscallTable::for_arch(abi).ok()?.name_of(nr);
        let why = confine_seccomp::explain::explain(p.policy, p.resolved, abi, nr, name, args);
        Some(why.to_string())
    }

    /// The ABIs judged: the native one first, then the others its kernel runs.
    pub fn abis(&self) -> &'static [Arch] {
        self.native.abis()
    }
}

/// An argument vector meeting every condition of one path, found by trying, for each word,
/// values built from the constants it is compared with; `None` when no candidate meets them
/// (the caller then has no witness for that path).
fn satisfy(conds: &[Cond], args64: bool) -> Option<[u64; 6]> {
    let mut args = [0u64; 6];
    let mut fields: Vec<Field> = Vec::new();
    for c in conds {
        match c.field {
            Some(f) if !fields.contains(&f) => fields.push(f),
            Some(_) => {}
            None => return None,
        }
    }
    for f in fields {
        let mine: Vec<&Cond> = conds.iter().filter(|c| c.field == Some(f)).collect();
        let mut cands: Vec<u32> = vec![0, u32::MAX, 1];
        for c in &mine {
            let k = c.k;
            cands.extend([
                k,
                k.wrapping_add(1),
                k.wrapping_sub(1),
                k & c.mask,
                !k & c.mask,
                k | !c.mask,
            ]);
        }
        // masks set or cleared together: try their union and its complement too
        let set: u32 = mine
            .iter()
            .filter(|c| c.holds && c.op == CmpOp::Set)
            .fold(0, |a, c| a | (c.k & c.mask));
        cands.extend([set, !set]);
        let v = cands
            .into_iter()
            .find(|&v| mine.iter().all(|c| holds(c, v)))?;
        match f {
            Field::Arg { n, hi } => {
                let a = &mut args[n as usize];
                if hi {
                    if !args64 && v != 0 {
                        return None;
                    }
                    *a = (*a & 0xffff_ffff) | (u64::from(v) << 32);
                } else {
                    *a = (*a & !0xffff_ffff) | u64::from(v);
                }
            }
            Field::Ip { .. } => {
                // the instruction pointer is 0 in every evaluation
                if v != 0 {
                    return None;
                }
            }
        }
    }
    Some(args)
}

/// Whether `v` meets `c`.
fn holds(c: &Cond, v: u32) -> bool {
    let x = v & c.mask;
    let r = match c.op {
        CmpOp::Eq => x == c.k,
        CmpOp::Gt => x > c.k,
        CmpOp::Ge => x >= c.k,
        CmpOp::Set => x & c.k != 0,
    };
    r == c.holds
}

/// Only the findings on arguments the kernel reads narrower than the filter compares them
/// (`arg-width-bypass`, `arg-width-refusal`): what `inspect --syscalls` and `seccomp eval`
/// mark.
pub fn arg_width(t: &Target) -> Vec<Finding> {
    let mut out = Vec::new();
    arg32::check(t, &mut out);
    out
}

/// The finding of `findings` about `syscall` on `abi`, if any (the first, the bypass before
/// the refusal).
pub fn about<'f>(findings: &'f [Finding], abi: Arch, syscall: &str) -> Vec<&'f Finding> {
    let mut v: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.abis.contains(&abi) && f.syscalls.first().is_some_and(|s| s == syscall))
        .collect();
    v.sort_by_key(|f| std::cmp::Reverse(f.severity));
    v
}

/// Every finding for `t`, most severe first, then by id.
pub fn lint(t: &Target) -> Vec<Finding> {
    let mut out = Vec::new();
    checks::namespaces(t, &mut out);
    checks::surface(t, &mut out);
    checks::abi_bypass(t, &mut out);
    checks::default_allows(t, &mut out);
    checks::enosys(t, &mut out);
    checks::log_trace(t, &mut out);
    checks::unknown_names(t, &mut out);
    arg32::check(t, &mut out);
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(b.id)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn satisfy_meets_masked_and_range_conditions() {
        let c = |field, mask, op, k, holds| Cond {
            field: Some(field),
            mask,
            op,
            k,
            holds,
        };
        let lo = Field::Arg { n: 0, hi: false };
        let hi = Field::Arg { n: 0, hi: true };
        // (arg0 & 0x7e020000) == 0 and arg0>>32 == 0
        let conds = [
            c(hi, u32::MAX, CmpOp::Eq, 0, true),
            c(lo, 0x7e02_0000, CmpOp::Eq, 0, true),
        ];
        let a = satisfy(&conds, true).unwrap();
        assert_eq!(a[0] & 0x7e02_0000, 0);
        // 38 <= arg1 < 40, arg1 != 38
        let f = Field::Arg { n: 1, hi: false };
        let conds = [
            c(f, u32::MAX, CmpOp::Ge, 38, true),
            c(f, u32::MAX, CmpOp::Ge, 40, false),
            c(f, u32::MAX, CmpOp::Eq, 38, false),
        ];
        assert_eq!(satisfy(&conds, true).unwrap()[1], 39);
        // contradictory: no witness
        let conds = [
            c(f, u32::MAX, CmpOp::Gt, 5, true),
            c(f, u32::MAX, CmpOp::Gt, 4, false),
        ];
        assert_eq!(satisfy(&conds, true), None);
        // a high word on a 32-bit ABI must be zero
        let conds = [c(hi, u32::MAX, CmpOp::Eq, 1, true)];
        assert_eq!(satisfy(&conds, false), None);
    }

    #[test]
    fn runs_counts_allow_log_and_supervisors() {
        assert!(runs(action::ALLOW));
        assert!(runs(action::LOG));
        assert!(runs(action::USER_NOTIF));
        assert!(runs(action::TRACE | 1));
        assert!(!runs(action::ERRNO | 1));
        assert!(!runs(action::KILL_PROCESS));
    }
}
