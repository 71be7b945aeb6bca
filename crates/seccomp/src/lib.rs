//! The seccomp compiler: a resolved profile → the decisions runc + libseccomp would install
//! ([`policy`], [`tree`]; what they decide per call and per number range: [`verdict`]; runc's
//! `-ENOSYS` stub, from its thresholds to its instructions: [`stub`]; libseccomp's x32 split:
//! `x32`) → a classic BPF program ([`optimize`], and [`reference`](mod@reference), the simple
//! generator that the optimised one is checked against). Socket rules that Landlock cannot
//! express become a guard prefix in front of any program ([`sockets`]).
//!
//! It must not depend on the kernel crate (nothing here touches the running kernel) nor on the
//! command line; the machine it targets (instructions, assembler, emulator) is `confine-bpf`'s.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod argranges;
mod dispatch;
pub mod explain;
pub mod optimize;
pub mod pipeline;
pub mod policy;
pub mod reference;
pub mod sockets;
pub mod stub;
pub mod tree;
pub mod verdict;
pub mod verify;
mod x32;

use confine_abi::{Arch, ArchError};

/// The offset in `seccomp_data` of one 32-bit word of argument `arg` on `arch`.
pub(crate) fn arg_offset(arch: Arch, arg: u8, hi: bool) -> u32 {
    let base = 16 + 8 * u32::from(arg);
    if hi == arch.is_little_endian() {
        base + 4
    } else {
        base
    }
}

/// The jump opcode that performs a tree node's comparison.
pub(crate) fn jump_op(cmp: tree::Cmp) -> u16 {
    match cmp {
        tree::Cmp::Eq | tree::Cmp::MaskedEq => confine_bpf::insn::op::JEQ,
        tree::Cmp::Gt => confine_bpf::insn::op::JGT,
        tree::Cmp::Ge => confine_bpf::insn::op::JGE,
    }
}

pub use pipeline::{
    compile, compile_prepared, prepare, prepare_parsed, Compiled, Generator, PipelineError,
    Prepared,
};
pub use policy::{build, ArgWidth, Decision, Options, Policy};
pub use sockets::{guard, with_guard, GuardError, SocketRule};

/// The most argument conditions merged into one syscall's tree on one ABI (the conditions of
/// all its conditional rules, after libseccomp's pruning). Each takes at least one
/// instruction, so a syscall with more could never fit the kernel's 4096 per filter; the
/// bound also keeps the merge (quadratic in the rules of a syscall) well under a second.
pub const MAX_CONDITIONS_PER_SYSCALL: usize = 4096;

/// Why a profile cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompileError {
    /// An architecture without a syscall table.
    #[error(transparent)]
    Arch(ArchError),
    /// libseccomp refuses to merge the rule (EEXIST), so runc would refuse the profile.
    #[error("rule {rule} ({name}) conflicts on {arch} with an earlier rule for the same syscall and arguments but another action; libseccomp refuses it (EEXIST) and runc would not start the container")]
    Conflict {
        /// Rule index in the resolved profile.
        rule: usize,
        /// The syscall name.
        name: String,
        /// The ABI.
        arch: Arch,
    },
    /// Merging the rule would make the argument tree loop; libseccomp 2.5.4 hangs on it.
    #[error("rule {rule} ({name}) cannot be merged on {arch} with an earlier rule for the same syscall: its 64-bit argument conditions share a sub-tree between the high and low words, and merging it makes libseccomp 2.5.4 loop forever (runc would hang creating the container)")]
    SharedNode {
        /// Rule index in the resolved profile.
        rule: usize,
        /// The syscall name.
        name: String,
        /// The ABI.
        arch: Arch,
    },
    /// `--arg-width kernel`: a condition's value means nothing as the 32 bits the kernel
    /// reads.
    #[error("rule {rule} ({name}): on {arch}, the kernel reads 32 bits of argument {arg}, and {value:#x} has no 32-bit meaning (its high half is neither 0 nor the sign extension of its low half); --arg-width kernel cannot compare it")]
    ArgWidth {
        /// Rule index in the resolved profile.
        rule: usize,
        /// The syscall name.
        name: String,
        /// The ABI.
        arch: Arch,
        /// The argument index.
        arg: u8,
        /// The value.
        value: u64,
    },
    /// More than [`MAX_CONDITIONS_PER_SYSCALL`] conditions on one syscall.
    #[error("rule {rule} ({name}): on {arch}, more than 4096 argument conditions would be merged for this syscall (confine's bound; each needs an instruction and the kernel accepts at most 4096 per filter)")]
    TooManyConditions {
        /// Rule index in the resolved profile.
        rule: usize,
        /// The syscall name.
        name: String,
        /// The ABI.
        arch: Arch,
    },
    /// SCMP_ACT_NOTIFY as the default action.
    #[error("SCMP_ACT_NOTIFY cannot be the default action")]
    NotifyDefault,
    /// A code generator broke one of its own invariants (a bug in confine).
    #[error("internal compiler error: {0}")]
    Internal(String),
    /// The program does not fit in one filter.
    #[error(
        "the compiled program has {0} instructions; the kernel accepts at most 4096 per filter"
    )]
    TooLong(usize),
}
