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
mod solve;
mod target;

pub mod score;
pub mod surface;

use confine_abi::Arch;
use confine_bpf::action::{self, describe};
use confine_profile::Resolved;
use confine_seccomp::Policy;
use std::fmt;

pub use target::Target;

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

/// Whether a return value lets the call run, or hands it to someone who may let it run
/// (a tracer, a user-notification supervisor).
pub fn runs(ret: u32) -> bool {
    matches!(
        ret & action::ACTION_FULL,
        action::ALLOW | action::LOG | action::TRACE | action::USER_NOTIF
    )
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
    checks::multiplexers(t, &mut out);
    checks::default_allows(t, &mut out);
    checks::enosys(t, &mut out);
    checks::log_trace(t, &mut out);
    checks::unknown_names(t, &mut out);
    arg32::check(t, &mut out);
    // last: what the checks above could not decide
    checks::undecided(t, &mut out);
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(b.id)));
    out
}
