//! A stack of installed seccomp filters decoded into verdicts per (ABI, syscall number),
//! without calling any syscall: each filter is explored with the argument words unknown
//! ([`explore`](crate::explore)), and stacked filters are combined with the kernel's
//! precedence (the strongest action wins; on a tie the newest filter's). [`compare`] is the
//! one diff engine over two stacks.
//!
//! # Example
//!
//! Decode a stack of two filters for an x86_64 process. The first, assembled with
//! [`Asm`](crate::asm::Asm), kills calls from any other architecture, allows `getpid`, allows
//! `personality` only when its argument is 0, and answers everything else `ERRNO(EPERM)`; the
//! second, newer one kills `getpid`.
//!
//! ```
//! use confine_abi::{Arch, SyscallTable};
//! use confine_bpf::action::{describe, ALLOW, ERRNO, KILL_PROCESS};
//! use confine_bpf::asm::Asm;
//! use confine_bpf::insn::{class::*, op::*};
//! use confine_bpf::stack::{decode, Stack, Verdict};
//! use confine_bpf::Insn;
//!
//! let table = SyscallTable::for_arch(Arch::X86_64).unwrap();
//! let getpid = table.number("getpid").unwrap();
//! let personality = table.number("personality").unwrap();
//! const EPERM: u32 = 1;
//!
//! // seccomp_data: nr at offset 0, arch at 4, args[0] at 16 (low word, little-endian) and 20
//! let mut asm = Asm::default();
//! let [native, not_getpid, arg_high, arg_low, allow, deny, kill] = [(); 7].map(|_| asm.label());
//! asm.ld(4);
//! asm.jump(JEQ, Arch::X86_64.audit_arch(), native, kill);
//! asm.bind(native);
//! asm.ld(0);
//! asm.jump(JEQ, getpid, allow, not_getpid);
//! asm.bind(not_getpid);
//! asm.jump(JEQ, personality, arg_high, deny);
//! asm.bind(arg_high);
//! asm.ld(20);
//! asm.jump(JEQ, 0, arg_low, deny);
//! asm.bind(arg_low);
//! asm.ld(16);
//! asm.jump(JEQ, 0, allow, deny);
//! asm.bind(allow);
//! asm.ret(ALLOW);
//! asm.bind(deny);
//! asm.ret(ERRNO | EPERM);
//! asm.bind(kill);
//! asm.ret(KILL_PROCESS);
//! let first = asm.finish().unwrap();
//!
//! let second = vec![
//!     Insn::stmt(LD | W | ABS, 0),
//!     Insn::jump(JMP | JEQ | K, getpid, 0, 1),
//!     Insn::stmt(RET | K, KILL_PROCESS),
//!     Insn::stmt(RET | K, ALLOW),
//! ];
//!
//! // the first filter alone: one view per ABI of an x86_64 process (x86_64, x86, x32)
//! let views = decode(&[first.clone()], Arch::X86_64).unwrap();
//! let x86_64 = views.iter().find(|v| v.arch == Arch::X86_64).unwrap();
//! let verdict = |name: &str| {
//!     let s = x86_64.syscalls.iter().find(|s| s.name == Some(name)).unwrap();
//!     s.verdict.clone()
//! };
//! assert_eq!(verdict("getpid"), Verdict::Fixed(ALLOW));
//! assert_eq!(verdict("read").describe(), "ERRNO(EPERM)");
//! assert!(matches!(verdict("personality"), Verdict::Depends(_)));
//! assert_eq!(verdict("personality").bucket(), "conditional");
//! // i386 calls are killed: the filter does not accept that ABI
//! let x86 = views.iter().find(|v| v.arch == Arch::X86).unwrap();
//! assert!(x86_64.accepted && !x86.accepted);
//!
//! // both, oldest first: the strongest action wins, so getpid is now killed
//! let filters = [first, second];
//! let views = decode(&filters, Arch::X86_64).unwrap();
//! let getpid_now = views[0].syscalls.iter().find(|s| s.nr == getpid).unwrap();
//! assert_eq!(getpid_now.verdict, Verdict::Fixed(KILL_PROCESS));
//!
//! // run concretely: personality(0) is allowed, personality(8) is not
//! let stack = Stack::new(&filters).unwrap();
//! assert_eq!(stack.eval_args(Arch::X86_64, personality, &[0; 6]), ALLOW);
//! let eight = stack.eval_args(Arch::X86_64, personality, &[8, 0, 0, 0, 0, 0]);
//! assert_eq!(describe(eight), "ERRNO(EPERM)");
//! ```

mod compare;
mod describe;

pub use compare::{compare, compare_with, Comparison, Difference, Numbers};
pub use describe::simplify;

use crate::action;
use crate::emu::{Emulator, SeccompData};
use crate::explore::{Budget, Cond, Explorer, Field, Limit, Outcome};
use crate::validate::Invalid;
use crate::Insn;
use confine_abi::{Arch, SyscallTable};

/// Why a stack of filters cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StackError {
    /// A filter the kernel would refuse.
    #[error("filter {index} is not valid: {reason}")]
    Invalid {
        /// Its position in the stack, oldest first, from 0.
        index: usize,
        /// Why (in the message, so not also a `source` that a chain would repeat).
        reason: Invalid,
    },
}

/// The module's result.
pub type Result<T, E = StackError> = std::result::Result<T, E>;

/// What a stack of filters decides for one syscall.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Always this return value.
    Fixed(u32),
    /// It depends on the arguments: each possible value with the conditions of one filter
    /// that lead to it.
    Depends(Vec<(Option<u32>, Vec<Cond>)>),
    /// The explorer stopped at a limit before it had followed every path, and what it
    /// followed does not decide: shown as undecided, never guessed.
    Undecided(Limit),
}

impl Verdict {
    /// A one-line description: `ALLOW`, `ERRNO(EPERM)`, `depends on arg0: …`.
    pub fn describe(&self) -> String {
        self.describe_abi(true)
    }

    /// As `describe`, for an ABI whose arguments are 32 bits wide when `args64` is false (the
    /// low word is then the whole argument).
    pub fn describe_abi(&self, args64: bool) -> String {
        match self {
            Verdict::Fixed(r) => action::describe(*r),
            Verdict::Depends(paths) => describe::depends(paths, args64),
            Verdict::Undecided(l) => format!("undecided: {l}"),
        }
    }

    /// The summary bucket: the action's name, or `conditional`.
    pub fn bucket(&self) -> String {
        match self {
            Verdict::Fixed(r) => action::describe(*r),
            Verdict::Depends(_) => "conditional".into(),
            Verdict::Undecided(_) => "undecided".into(),
        }
    }
}

/// One syscall's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Syscall {
    /// The number as the ABI reports it (x32 numbers carry the x32 bit).
    pub nr: u32,
    /// Its name on this ABI.
    pub name: Option<&'static str>,
    /// The verdict.
    pub verdict: Verdict,
}

/// One architecture's view.
#[derive(Clone, Debug)]
pub struct ArchView {
    /// The ABI.
    pub arch: Arch,
    /// Whether the filters accept calls from it (rather than answering every number with the
    /// bad-architecture action). True when that cannot be told: when the bad-architecture
    /// answer is itself undecided, every number keeps its own (undecided) verdict rather than
    /// a guessed refusal.
    pub accepted: bool,
    /// Whether its syscall arguments are 64 bits wide.
    pub args64: bool,
    /// Every number from 0 to one past the table's highest.
    pub syscalls: Vec<Syscall>,
}

impl ArchView {
    /// Counts by bucket, in first-seen order.
    pub fn summary(&self) -> Vec<(String, usize)> {
        let mut v: Vec<(String, usize)> = Vec::new();
        for s in &self.syscalls {
            let b = s.verdict.bucket();
            match v.iter_mut().find(|(k, _)| *k == b) {
                Some((_, n)) => *n += 1,
                None => v.push((b, 1)),
            }
        }
        v.sort_by_key(|b| std::cmp::Reverse(b.1));
        v
    }
}

/// Combine one (arch, nr) across stacked filters (oldest first), as the kernel does
/// (`seccomp_run_filters`): starting from `ALLOW`, the newest filter first, a result replaces
/// the one kept only when it is strictly stronger, so on a tie the newest filter's data wins
/// and an `ALLOW` with data is a plain `ALLOW`.
pub fn combine(outcomes: &[Outcome]) -> Verdict {
    let fixed: Vec<Option<u32>> = outcomes.iter().map(Outcome::fixed).collect();
    if fixed.iter().all(Option::is_some) {
        let mut best = action::ALLOW;
        for r in fixed.iter().rev().flatten() {
            if action::precedence(*r) < action::precedence(best) {
                best = *r;
            }
        }
        return Verdict::Fixed(best);
    }
    // the strongest fixed result, of the newest filter among equals (it wins their tie),
    // decides alone when no conditional filter can replace it: each of that filter's
    // returns is the same value, or weaker, or as strong from an older filter (which loses
    // the tie); an unknown return (`RET A`, or the paths beyond a limit) only from an older
    // filter, when the fixed result is KILL_PROCESS, which nothing is stronger than
    let strongest = fixed
        .iter()
        .enumerate()
        .rev()
        .filter_map(|(i, r)| r.map(|r| (i, r)))
        .min_by_key(|(_, r)| action::precedence(*r));
    if let Some((at, f)) = strongest {
        let kill = f & action::ACTION_FULL == action::KILL_PROCESS;
        let dominated = outcomes
            .iter()
            .enumerate()
            .filter(|(_, o)| o.fixed().is_none())
            .all(|(j, o)| {
                let older = j < at;
                let loses = |r: Option<u32>| match r {
                    Some(r) => {
                        r == f
                            || action::precedence(f) < action::precedence(r)
                            || older && action::precedence(f) == action::precedence(r)
                    }
                    None => kill && older,
                };
                (o.limit.is_none() || kill && older) && o.paths.iter().all(|p| loses(p.ret))
            });
        if dominated {
            let allow = action::precedence(f) == action::precedence(action::ALLOW);
            return Verdict::Fixed(if allow { action::ALLOW } else { f });
        }
    }
    if let Some(l) = outcomes.iter().find_map(|o| o.limit) {
        return Verdict::Undecided(l);
    }
    let mut paths = Vec::new();
    for o in outcomes.iter().filter(|o| o.fixed().is_none()) {
        for p in &o.paths {
            paths.push((p.ret, p.conds.clone()));
        }
    }
    Verdict::Depends(paths)
}

/// A validated stack of filters (oldest first), ready to explore and to run.
pub struct Stack<'a> {
    explorers: Vec<Explorer<'a>>,
    emulators: Vec<Emulator<'a>>,
    /// What all the explorations of this stack may spend together.
    budget: Budget,
}

impl<'a> Stack<'a> {
    /// Validate every filter of `filters` (oldest first) as the kernel would.
    pub fn new(filters: &'a [Vec<Insn>]) -> Result<Self> {
        let invalid = |index| move |reason| StackError::Invalid { index, reason };
        let mut explorers = Vec::with_capacity(filters.len());
        let mut emulators = Vec::with_capacity(filters.len());
        for (i, f) in filters.iter().enumerate() {
            explorers.push(Explorer::new(f).map_err(invalid(i))?);
            emulators.push(Emulator::new(f).map_err(invalid(i))?);
        }
        Ok(Stack {
            explorers,
            emulators,
            budget: Budget::default(),
        })
    }

    /// What the stack decides for syscall `nr` of `arch`, arguments unknown.
    pub fn verdict(&self, arch: Arch, nr: u32) -> Verdict {
        self.verdict_raw(arch.audit_arch(), nr, arch.is_little_endian())
    }

    fn verdict_raw(&self, audit_arch: u32, nr: u32, little_endian: bool) -> Verdict {
        let outs: Vec<Outcome> = self
            .explorers
            .iter()
            .map(|e| e.explore_within(audit_arch, nr, little_endian, &self.budget))
            .collect();
        combine(&outs)
    }

    /// Run the stack concretely on `data`, combining as the kernel does.
    pub fn eval(&self, data: &SeccompData, little_endian: bool) -> u32 {
        eval_stack(&self.emulators, data, little_endian)
    }

    /// The return value for syscall `nr` of `arch` with arguments `args` (instruction
    /// pointer 0).
    pub fn eval_args(&self, arch: Arch, nr: u32, args: &[u64; 6]) -> u32 {
        let d = SeccompData {
            nr,
            arch: arch.audit_arch(),
            instruction_pointer: 0,
            args: *args,
        };
        self.eval(&d, arch.is_little_endian())
    }

    /// Decode every number of `arch` from its base to one past its table's highest; `None`
    /// when confine has no table for it.
    pub fn view(&self, arch: Arch) -> Option<ArchView> {
        let table = SyscallTable::for_arch(arch).ok()?;
        let base = arch.syscall_base();
        let max = table.entries().map(|(n, _)| n).max().unwrap_or(base);
        let le = arch.is_little_endian();
        let syscalls: Vec<Syscall> = (base..=max + 1)
            .map(|nr| Syscall {
                nr,
                name: table.name_of(nr),
                verdict: self.verdict_raw(arch.audit_arch(), nr, le),
            })
            .collect();
        // the bad-architecture answer: what a nonexistent architecture gets
        let bad = self.verdict_raw(0, 0, le);
        let accepted =
            matches!(bad, Verdict::Undecided(_)) || !syscalls.iter().all(|s| s.verdict == bad);
        Some(ArchView {
            arch,
            accepted,
            args64: arch.args64(),
            syscalls,
        })
    }
}

/// Decode a stack of filters (oldest first) for the ABIs of `native`.
pub fn decode(filters: &[Vec<Insn>], native: Arch) -> Result<Vec<ArchView>> {
    let stack = Stack::new(filters)?;
    Ok(native
        .abis()
        .iter()
        .filter_map(|&arch| stack.view(arch))
        .collect())
}

/// Run a stack of filters concretely, combining as the kernel does.
pub fn eval_stack(filters: &[Emulator], data: &SeccompData, le: bool) -> u32 {
    let mut best = action::ALLOW;
    for e in filters.iter().rev() {
        let r = e.run(data, le).ret;
        if action::precedence(r) < action::precedence(best) {
            best = r;
        }
    }
    best
}

/// The argument words a verdict's conditions compare, for [`Verdict::Depends`]: `arg0`, `ip`…
fn compared_fields(paths: &[(Option<u32>, Vec<Cond>)]) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    for (_, conds) in paths {
        for c in conds {
            let a = match c.field {
                Some(Field::Arg { n, .. }) => format!("arg{n}"),
                Some(Field::Ip { .. }) => "ip".into(),
                None => "a computed value".into(),
            };
            if !args.contains(&a) {
                args.push(a);
            }
        }
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{ALLOW, ERRNO, KILL_PROCESS};

    fn nr_is(nr: u32, ret: u32) -> Vec<Insn> {
        vec![
            Insn::stmt(0x20, 0),
            Insn::jump(0x15, nr, 0, 1),
            Insn::stmt(0x06, ret),
            Insn::stmt(0x06, ALLOW),
        ]
    }

    #[test]
    fn the_strongest_action_of_the_stack_wins() {
        let stack = [nr_is(1, ERRNO | 1), nr_is(1, KILL_PROCESS)];
        let views = decode(&stack, Arch::X86_64).unwrap();
        let x86_64 = &views[0];
        assert_eq!(x86_64.arch, Arch::X86_64);
        assert_eq!(x86_64.syscalls[1].verdict, Verdict::Fixed(KILL_PROCESS));
        assert_eq!(x86_64.syscalls[0].verdict, Verdict::Fixed(ALLOW));
    }

    #[test]
    fn an_invalid_filter_is_named_by_its_index() {
        let stack = [nr_is(1, ALLOW), Vec::new()];
        let e = decode(&stack, Arch::X86_64).err().unwrap();
        assert!(matches!(e, StackError::Invalid { index: 1, .. }));
        assert!(e.to_string().starts_with("filter 1 is not valid: "));
    }
}
