//! The one diff engine: two filter stacks compared on every (ABI, syscall number) asked for.
//! Fixed verdicts are compared directly; when either side depends on the arguments, both
//! stacks are run on the caller's probe vectors, then on argument values around every
//! constant either side compares with, and the first vector on which they return different
//! values is the example.

use super::{Result, Stack, Verdict};
use crate::explore::Field;
use crate::Insn;
use confine_abi::{Arch, SyscallTable};

/// Which syscall numbers of each ABI to compare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Numbers {
    /// From the ABI's base to one past its table's highest number (what
    /// [`decode`](super::decode) shows).
    #[default]
    Table,
    /// [`Arch::probe_range`]: from the base to 64 past the table's highest.
    ProbeRange,
}

/// What to compare two stacks on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// The ABIs, in the order of the result (those without a syscall table are skipped).
    pub arches: Vec<Arch>,
    /// The numbers of each.
    pub numbers: Numbers,
    /// Argument vectors to try first, in order, on numbers where either side depends on the
    /// arguments (the engine's own vectors follow); the first also serves as the example when
    /// two fixed verdicts differ (all zero when empty).
    pub probes: Vec<[u64; 6]>,
}

impl Comparison {
    /// Every ABI a process of `native` can call the kernel with, over [`Numbers::Table`],
    /// without extra probes.
    pub fn abis_of(native: Arch) -> Comparison {
        Comparison {
            arches: native.abis().to_vec(),
            ..Comparison::default()
        }
    }
}

/// A syscall on which two filter stacks decide differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The ABI.
    pub arch: Arch,
    /// The number (with the x32 bit on x32).
    pub nr: u32,
    /// Its name on the ABI, if it has one.
    pub name: Option<&'static str>,
    /// What the first stack decides.
    pub left: Verdict,
    /// What the second decides.
    pub right: Verdict,
    /// An argument vector on which they return different values (when `undecided`, the
    /// first vector tried, on which they agree).
    pub example: [u64; 6],
    /// The first stack's return value for the example.
    pub left_ret: u32,
    /// The second's.
    pub right_ret: u32,
    /// No vector tried shows a difference, but a side is [`Verdict::Undecided`]: the two may
    /// still differ, so the number is reported rather than taken as equal.
    pub undecided: bool,
}

/// Compare two filter stacks (each oldest first) on every syscall number of the ABIs of
/// `native` ([`Comparison::abis_of`]).
///
/// ```
/// use confine_abi::{Arch, SyscallTable};
/// use confine_bpf::action::{describe, ALLOW, ERRNO};
/// use confine_bpf::insn::{class::*, op::*};
/// use confine_bpf::stack::{compare, Verdict};
/// use confine_bpf::Insn;
///
/// // ERRNO(EPERM) for syscall `nr`, ALLOW for every other call of every ABI
/// let deny = |nr| {
///     vec![
///         Insn::stmt(LD | W | ABS, 0),
///         Insn::jump(JMP | JEQ | K, nr, 0, 1),
///         Insn::stmt(RET | K, ERRNO | 1),
///         Insn::stmt(RET | K, ALLOW),
///     ]
/// };
/// let table = SyscallTable::for_arch(Arch::X86_64).unwrap();
/// let mount = table.number("mount").unwrap();
/// assert_eq!(mount, 165);
/// let a = [deny(mount)];
/// let b = [deny(mount), Vec::from([Insn::stmt(RET | K, ALLOW)])];
/// // a stacked filter that allows everything changes nothing
/// assert!(compare(&a, &b, Arch::X86_64).unwrap().is_empty());
///
/// // no filter at all against `a`: the filter checks no architecture, so number 165 is
/// // denied on x86 too (where it is not mount); x32 numbers carry the x32 bit, none is 165
/// let differences = compare(&[], &a, Arch::X86_64).unwrap();
/// let found: Vec<(Arch, u32)> = differences.iter().map(|d| (d.arch, d.nr)).collect();
/// assert_eq!(found, [(Arch::X86_64, mount), (Arch::X86, mount)]);
/// assert_eq!(differences[0].name, Some("mount"));
/// assert_eq!(differences[0].left, Verdict::Fixed(ALLOW));
/// assert_eq!(describe(differences[0].right_ret), "ERRNO(EPERM)");
/// ```
pub fn compare(a: &[Vec<Insn>], b: &[Vec<Insn>], native: Arch) -> Result<Vec<Difference>> {
    compare_with(a, b, &Comparison::abis_of(native))
}

/// Compare two filter stacks (each oldest first) as `how` says; the differences come in ABI
/// order, then number order.
pub fn compare_with(a: &[Vec<Insn>], b: &[Vec<Insn>], how: &Comparison) -> Result<Vec<Difference>> {
    let (sa, sb) = (Stack::new(a)?, Stack::new(b)?);
    let first = how.probes.first().copied().unwrap_or([0; 6]);
    let mut out = Vec::new();
    for &arch in &how.arches {
        let Ok(table) = SyscallTable::for_arch(arch) else {
            continue;
        };
        let numbers = match how.numbers {
            Numbers::Table => {
                let base = arch.syscall_base();
                let max = table.entries().map(|(n, _)| n).max().unwrap_or(base);
                base..=max + 1
            }
            Numbers::ProbeRange => arch.probe_range(),
        };
        for nr in numbers {
            let (left, right) = (sa.verdict(arch, nr), sb.verdict(arch, nr));
            let found = match (&left, &right) {
                (Verdict::Fixed(x), Verdict::Fixed(y)) => (x != y).then_some((first, *x, *y)),
                (x, y) => how
                    .probes
                    .iter()
                    .copied()
                    .chain(samples(x, y))
                    .find_map(|args| {
                        let (l, r) = (sa.eval_args(arch, nr, &args), sb.eval_args(arch, nr, &args));
                        (l != r).then_some((args, l, r))
                    }),
            };
            let undecided = found.is_none()
                && [&left, &right]
                    .iter()
                    .any(|v| matches!(v, Verdict::Undecided(_)));
            let found = found.or_else(|| {
                undecided.then(|| {
                    let (l, r) = (
                        sa.eval_args(arch, nr, &first),
                        sb.eval_args(arch, nr, &first),
                    );
                    (first, l, r)
                })
            });
            if let Some((example, left_ret, right_ret)) = found {
                out.push(Difference {
                    arch,
                    nr,
                    name: table.name_of(nr),
                    left,
                    right,
                    example,
                    left_ret,
                    right_ret,
                    undecided,
                });
            }
        }
    }
    Ok(out)
}

/// Argument vectors that exercise every comparison in either verdict: all zero, all ones,
/// then per argument every combination of the candidate high and low words (each compared
/// constant, its neighbours, the constant under its mask, its complement, zero and all ones),
/// the other arguments zero.
fn samples(a: &Verdict, b: &Verdict) -> Vec<[u64; 6]> {
    let mut words: [[Vec<u32>; 2]; 6] = Default::default();
    for v in [a, b] {
        let Verdict::Depends(paths) = v else { continue };
        for (_, conds) in paths {
            for c in conds {
                let Some(Field::Arg { n, hi }) = c.field else {
                    continue;
                };
                let set = &mut words[n as usize][usize::from(hi)];
                for w in [
                    c.k,
                    c.k.wrapping_sub(1),
                    c.k.wrapping_add(1),
                    c.k & c.mask,
                    !c.k,
                ] {
                    if !set.contains(&w) {
                        set.push(w);
                    }
                }
            }
        }
    }
    let mut out = vec![[0u64; 6], [u64::MAX; 6]];
    for (n, [lo, hi]) in words.iter().enumerate() {
        if lo.is_empty() && hi.is_empty() {
            continue;
        }
        let with = |v: &Vec<u32>| {
            let mut v = v.clone();
            for w in [0, u32::MAX] {
                if !v.contains(&w) {
                    v.push(w);
                }
            }
            v
        };
        for h in with(hi) {
            for l in with(lo) {
                let mut args = [0u64; 6];
                args[n] = (u64::from(h) << 32) | u64::from(l);
                out.push(args);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{ALLOW, ERRNO};

    /// nr 1 with arg0 == `k` → EPERM, everything else allowed.
    fn arg0_is(k: u32) -> Vec<Insn> {
        vec![
            Insn::stmt(0x20, 0),
            Insn::jump(0x15, 1, 0, 3),
            Insn::stmt(0x20, 16),
            Insn::jump(0x15, k, 0, 1),
            Insn::stmt(0x06, ERRNO | 1),
            Insn::stmt(0x06, ALLOW),
        ]
    }

    #[test]
    fn argument_dependent_differences_come_with_an_example() {
        let how = Comparison {
            arches: vec![Arch::X86_64],
            numbers: Numbers::ProbeRange,
            probes: Vec::new(),
        };
        let d = compare_with(&[arg0_is(5)], &[arg0_is(6)], &how).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].arch, d[0].nr, d[0].name),
            (Arch::X86_64, 1, Some("write"))
        );
        assert!(matches!(d[0].left, Verdict::Depends(_)));
        assert_eq!(d[0].example[0] & 0xffff_ffff, 5);
        assert_eq!((d[0].left_ret, d[0].right_ret), (ERRNO | 1, ALLOW));
        // the caller's probes come first
        let how = Comparison {
            probes: vec![[6, 0, 0, 0, 0, 0]],
            ..how
        };
        let d = compare_with(&[arg0_is(5)], &[arg0_is(6)], &how).unwrap();
        assert_eq!(d[0].example, [6, 0, 0, 0, 0, 0]);
        assert_eq!((d[0].left_ret, d[0].right_ret), (ALLOW, ERRNO | 1));
        assert!(compare(&[arg0_is(5)], &[arg0_is(5)], Arch::X86_64)
            .unwrap()
            .is_empty());
    }
}
