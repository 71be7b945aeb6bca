//! Decoding installed seccomp filters into verdicts per (architecture, syscall), without
//! calling any syscall: each filter is explored with the argument words unknown
//! (confine_bpf::explore), and stacked filters are combined with the kernel's precedence (the
//! strongest action wins; on a tie the newest filter's).

use confine_abi::{Arch, SyscallTable};
use confine_bpf::action;
use confine_bpf::emu::{Emulator, SeccompData};
use confine_bpf::explore::{Cond, Explorer, Field, Outcome};
use confine_bpf::Insn;

/// What a stack of filters decides for one syscall.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Always this return value.
    Fixed(u32),
    /// It depends on the arguments: each possible value with the conditions of one filter
    /// that lead to it.
    Depends(Vec<(Option<u32>, Vec<Cond>)>),
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
            Verdict::Depends(paths) => {
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
                let mut cases: Vec<String> = Vec::new();
                for (r, conds) in paths {
                    // paths whose conditions contradict each other are never taken
                    let Some(c) = simplify(conds, args64) else {
                        continue;
                    };
                    let what = r.map(action::describe).unwrap_or_else(|| "?".into());
                    let case = if c.is_empty() {
                        what
                    } else {
                        format!("{what} if {}", c.join(" && "))
                    };
                    if !cases.contains(&case) {
                        cases.push(case);
                    }
                }
                format!("depends on {}: {}", args.join(", "), cases.join("; "))
            }
        }
    }

    /// The summary bucket: the action's name, or `conditional`.
    pub fn bucket(&self) -> String {
        match self {
            Verdict::Fixed(r) => action::describe(*r),
            Verdict::Depends(_) => "conditional".into(),
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
    /// bad-architecture action).
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

/// Combine one (arch, nr) across stacked filters (oldest first).
fn combine(outcomes: &[Outcome]) -> Verdict {
    // the newest filter wins ties, so walk newest first and keep strictly stronger results
    let fixed: Vec<Option<u32>> = outcomes.iter().map(Outcome::fixed).collect();
    if fixed.iter().all(Option::is_some) {
        let mut best: Option<u32> = None;
        for r in fixed.iter().rev().flatten() {
            if best.is_none_or(|b| action::precedence(*r) < action::precedence(b)) {
                best = Some(*r);
            }
        }
        return Verdict::Fixed(best.expect("at least one filter"));
    }
    // a fixed result at least as strong as every possibility of the conditional filters
    // decides alone
    let strongest_fixed = fixed
        .iter()
        .flatten()
        .min_by_key(|r| action::precedence(**r))
        .copied();
    if let Some(f) = strongest_fixed {
        let dominated = outcomes.iter().filter(|o| o.fixed().is_none()).all(|o| {
            o.returns()
                .iter()
                .all(|r| r.is_some_and(|r| action::precedence(f) < action::precedence(r)))
        });
        if dominated {
            return Verdict::Fixed(f);
        }
    }
    let mut paths = Vec::new();
    for o in outcomes.iter().filter(|o| o.fixed().is_none()) {
        for p in &o.paths {
            paths.push((p.ret, p.conds.clone()));
        }
    }
    Verdict::Depends(paths)
}

/// Decode a stack of filters (oldest first) for the ABIs of `native`.
pub fn decode(filters: &[Vec<Insn>], native: Arch) -> Result<Vec<ArchView>, String> {
    let explorers = filters
        .iter()
        .enumerate()
        .map(|(i, f)| Explorer::new(f).map_err(|e| format!("filter {i} is not valid: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    for &arch in native.abis() {
        let Ok(table) = SyscallTable::for_arch(arch) else {
            continue;
        };
        let base = arch.syscall_base();
        let max = table.entries().map(|(n, _)| n).max().unwrap_or(base);
        let le = arch.is_little_endian();
        let at = |nr: u32| -> Verdict {
            let outs: Vec<Outcome> = explorers
                .iter()
                .map(|e| e.explore(arch.audit_arch(), nr, le))
                .collect();
            combine(&outs)
        };
        let syscalls: Vec<Syscall> = (base..=max + 1)
            .map(|nr| Syscall {
                nr,
                name: table.name_of(nr),
                verdict: at(nr),
            })
            .collect();
        // the bad-architecture answer: what a nonexistent architecture gets
        let bad = {
            let outs: Vec<Outcome> = explorers.iter().map(|e| e.explore(0, 0, le)).collect();
            combine(&outs)
        };
        let accepted = !syscalls.iter().all(|s| s.verdict == bad);
        out.push(ArchView {
            arch,
            accepted,
            args64: !matches!(
                arch,
                Arch::X86 | Arch::Arm | Arch::Mips | Arch::Mipsel | Arch::S390 | Arch::Ppc
            ),
            syscalls,
        });
    }
    Ok(out)
}

/// Run a stack of filters concretely, combining as the kernel does.
pub fn eval_stack(filters: &[Emulator], data: &SeccompData, le: bool) -> u32 {
    let mut best: Option<u32> = None;
    for e in filters.iter().rev() {
        let r = e.run(data, le).ret;
        if best.is_none_or(|b| action::precedence(r) < action::precedence(b)) {
            best = Some(r);
        }
    }
    best.unwrap_or(action::ALLOW)
}

/// A syscall on which two filter stacks decide differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The ABI.
    pub arch: Arch,
    /// The number.
    pub nr: u32,
    /// Its name.
    pub name: Option<&'static str>,
    /// What the first stack decides.
    pub left: String,
    /// What the second decides.
    pub right: String,
}

/// Compare two filter stacks by verdict on every syscall number of the ABIs of `native`:
/// fixed verdicts directly; argument-dependent ones by running both stacks on argument values
/// around every constant either compares with.
pub fn compare(a: &[Vec<Insn>], b: &[Vec<Insn>], native: Arch) -> Result<Vec<Difference>, String> {
    let da = decode(a, native)?;
    let db = decode(b, native)?;
    let ea: Vec<Emulator> = a
        .iter()
        .map(|f| Emulator::new(f).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let eb: Vec<Emulator> = b
        .iter()
        .map(|f| Emulator::new(f).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let mut diffs = Vec::new();
    for (va, vb) in da.iter().zip(&db) {
        let le = va.arch.is_little_endian();
        for (sa, sb) in va.syscalls.iter().zip(&vb.syscalls) {
            let same = match (&sa.verdict, &sb.verdict) {
                (Verdict::Fixed(x), Verdict::Fixed(y)) => x == y,
                (x, y) => {
                    let samples = samples(x, y);
                    samples.iter().all(|args| {
                        let d = SeccompData {
                            nr: sa.nr,
                            arch: va.arch.audit_arch(),
                            instruction_pointer: 0,
                            args: *args,
                        };
                        eval_stack(&ea, &d, le) == eval_stack(&eb, &d, le)
                    })
                }
            };
            if !same {
                diffs.push(Difference {
                    arch: va.arch,
                    nr: sa.nr,
                    name: sa.name,
                    left: sa.verdict.describe(),
                    right: sb.verdict.describe(),
                });
            }
        }
    }
    Ok(diffs)
}

/// Argument vectors that exercise every comparison in either verdict: per argument, every
/// combination of the candidate high and low words (each compared constant, its neighbours,
/// the constant under its mask, zero and all ones), the other arguments zero.
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

/// Whether `0 OP k` holds.
fn decided(op: confine_bpf::explore::CmpOp, k: u32) -> bool {
    use confine_bpf::explore::CmpOp;
    match op {
        CmpOp::Eq => k == 0,
        CmpOp::Gt => false,
        CmpOp::Ge => k == 0,
        CmpOp::Set => false,
    }
}

/// Reduce a path's conditions: per compared word an interval and excluded values (`None` when
/// they contradict each other, i.e. the path cannot be taken); masked and JSET tests are kept
/// as written. A high word that must be 0 is left out (the low word's conditions then read as
/// the whole argument's).
pub fn simplify(conds: &[Cond], args64: bool) -> Option<Vec<String>> {
    use confine_bpf::explore::CmpOp;
    struct Range {
        field: Field,
        lo: u32,
        hi: u32,
        not: Vec<u32>,
    }
    let mut ranges: Vec<Range> = Vec::new();
    let mut other: Vec<String> = Vec::new();
    for c in conds {
        // a word masked with 0 is 0: the comparison is decided
        if c.field.is_some() && c.mask == 0 {
            if decided(c.op, c.k) != c.holds {
                return None;
            }
            continue;
        }
        let Some(field) = c.field.filter(|_| c.mask == u32::MAX && c.op != CmpOp::Set) else {
            let t = c.to_string();
            if !other.contains(&t) {
                other.push(t);
            }
            continue;
        };
        let r = match ranges.iter_mut().position(|r| r.field == field) {
            Some(i) => &mut ranges[i],
            None => {
                ranges.push(Range {
                    field,
                    lo: 0,
                    hi: u32::MAX,
                    not: Vec::new(),
                });
                ranges.last_mut().unwrap()
            }
        };
        match (c.op, c.holds) {
            (CmpOp::Eq, true) => {
                r.lo = r.lo.max(c.k);
                r.hi = r.hi.min(c.k);
            }
            (CmpOp::Eq, false) => r.not.push(c.k),
            (CmpOp::Gt, true) => r.lo = r.lo.max(c.k.checked_add(1)?),
            (CmpOp::Gt, false) => r.hi = r.hi.min(c.k),
            (CmpOp::Ge, true) => r.lo = r.lo.max(c.k),
            (CmpOp::Ge, false) => r.hi = r.hi.min(c.k.checked_sub(1)?),
            (CmpOp::Set, _) => unreachable!("kept as written"),
        }
    }
    let mut out = Vec::new();
    for r in &ranges {
        if r.lo > r.hi {
            return None;
        }
        let mut not: Vec<u32> = r
            .not
            .iter()
            .copied()
            .filter(|v| (r.lo..=r.hi).contains(v))
            .collect();
        not.sort_unstable();
        not.dedup();
        if u64::from(r.hi - r.lo) < not.len() as u64 {
            return None;
        }
        let hi_word_zero = matches!(r.field, Field::Arg { hi: true, .. }) && r.lo == 0 && r.hi == 0;
        if hi_word_zero {
            continue;
        }
        let name = match r.field {
            Field::Arg { n, hi: false } => {
                // the whole argument when its high word is known to be 0
                let hi_zero = ranges
                    .iter()
                    .any(|h| h.field == Field::Arg { n, hi: true } && h.lo == 0 && h.hi == 0);
                if hi_zero || !args64 {
                    format!("arg{n}")
                } else {
                    format!("arg{n}&0xffffffff")
                }
            }
            f => f.to_string(),
        };
        if r.lo == r.hi {
            out.push(format!("{name} == {:#x}", r.lo));
            continue;
        }
        if r.lo > 0 {
            out.push(format!("{name} >= {:#x}", r.lo));
        }
        if r.hi < u32::MAX {
            out.push(format!("{name} <= {:#x}", r.hi));
        }
        for v in not {
            out.push(format!("{name} != {v:#x}"));
        }
    }
    out.extend(other);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use confine_bpf::explore::CmpOp;

    fn c(n: u8, hi: bool, op: CmpOp, k: u32, holds: bool) -> Cond {
        Cond {
            field: Some(Field::Arg { n, hi }),
            mask: u32::MAX,
            op,
            k,
            holds,
        }
    }

    #[test]
    fn conditions_reduce_to_ranges() {
        // hi == 0 && lo < 0x26: "arg0 <= 0x25"
        let s = simplify(
            &[
                c(0, true, CmpOp::Eq, 0, true),
                c(0, false, CmpOp::Ge, 0x26, false),
            ],
            true,
        )
        .unwrap();
        assert_eq!(s, ["arg0 <= 0x25"]);
        // contradictions: the path is never taken
        assert!(simplify(
            &[
                c(0, true, CmpOp::Gt, 0, false),
                c(0, true, CmpOp::Eq, 0, false)
            ],
            true
        )
        .is_none());
        assert!(simplify(
            &[
                c(1, false, CmpOp::Gt, 5, true),
                c(1, false, CmpOp::Ge, 5, false)
            ],
            true
        )
        .is_none());
        let w = [
            c(2, false, CmpOp::Eq, 7, false),
            c(2, false, CmpOp::Gt, 9, false),
        ];
        let s = simplify(&w, true).unwrap();
        assert_eq!(s, ["arg2&0xffffffff <= 0x9", "arg2&0xffffffff != 0x7"]);
        // on a 32-bit ABI the low word is the argument
        assert_eq!(simplify(&w, false).unwrap(), ["arg2 <= 0x9", "arg2 != 0x7"]);
        // a word masked with 0 is 0
        let mut m = c(0, true, CmpOp::Set, 0, true);
        m.mask = 0;
        assert!(simplify(&[m], true).is_none());
        m.holds = false;
        assert_eq!(simplify(&[m], true).unwrap(), Vec::<String>::new());
    }
}
