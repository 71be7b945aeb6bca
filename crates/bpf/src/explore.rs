//! Path exploration of a seccomp program for one (arch, nr) with unknown arguments: what a
//! filter decides for a syscall without calling it. `nr` and `arch` are concrete; the
//! argument words (and the instruction pointer) are symbolic. A jump that compares a symbolic
//! value follows both branches and records the condition, so the result is every reachable
//! action with the conditions leading to it (the decoding `confine inspect --syscalls` needs).

use crate::insn::{class, op, Insn};
use crate::step::{alu, loaded};
use crate::validate::{validate, Invalid};

/// A 32-bit word of `struct seccomp_data` the program read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// Argument `n`, its low (`hi == false`) or high 32 bits.
    Arg {
        /// 0..=5
        n: u8,
        /// The high half.
        hi: bool,
    },
    /// The instruction pointer, low or high half.
    Ip {
        /// The high half.
        hi: bool,
    },
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Field::Arg { n, hi: false } => write!(f, "arg{n}"),
            Field::Arg { n, hi: true } => write!(f, "arg{n}>>32"),
            Field::Ip { hi: false } => f.write_str("ip"),
            Field::Ip { hi: true } => f.write_str("ip>>32"),
        }
    }
}

/// A symbolic value: a known constant, a field (optionally masked), or anything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Val {
    Const(u32),
    Field(Field, u32),
    Opaque,
}

/// One condition on a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cond {
    /// The word compared (`None`: a value computed in a way the explorer does not follow).
    pub field: Option<Field>,
    /// The mask applied to the word before the comparison (`u32::MAX` when none).
    pub mask: u32,
    /// `==`, `>`, `>=` or `&` (JSET).
    pub op: CmpOp,
    /// The constant compared with.
    pub k: u32,
    /// Whether the comparison held on this path.
    pub holds: bool,
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// JEQ
    Eq,
    /// JGT
    Gt,
    /// JGE
    Ge,
    /// JSET
    Set,
}

impl std::fmt::Display for Cond {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lhs = match (self.field, self.mask) {
            (Some(x), u32::MAX) => x.to_string(),
            (Some(x), m) => format!("({x} & {m:#x})"),
            (None, _) => "(computed value)".to_string(),
        };
        let (op, neg) = match self.op {
            CmpOp::Eq => ("==", "!="),
            CmpOp::Gt => (">", "<="),
            CmpOp::Ge => (">=", "<"),
            CmpOp::Set => ("&", "&!"),
        };
        match (self.op, self.holds) {
            (CmpOp::Set, true) => write!(f, "{lhs} & {:#x} != 0", self.k),
            (CmpOp::Set, false) => write!(f, "{lhs} & {:#x} == 0", self.k),
            (_, true) => write!(f, "{lhs} {op} {:#x}", self.k),
            (_, false) => write!(f, "{lhs} {neg} {:#x}", self.k),
        }
    }
}

/// A path through the program: its conditions and the value it returns (`None`: `RET A` with
/// a symbolic A).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    /// The conditions, in the order they were met.
    pub conds: Vec<Cond>,
    /// The returned value.
    pub ret: Option<u32>,
}

/// Why an exploration stopped before it had followed every path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Limit {
    /// More than [`MAX_PATHS`] paths for one syscall.
    Paths,
    /// More than [`MAX_STEPS`] instructions for one syscall, or the whole decoding's budget
    /// of [`MAX_TOTAL_STEPS`] spent.
    Work,
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::Paths => write!(f, "more than {MAX_PATHS} paths"),
            Limit::Work => f.write_str("too complex to decode within the work bound"),
        }
    }
}

/// The explorer's answer for one (arch, nr).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Every path followed, in depth-first order (false branch first).
    pub paths: Vec<Path>,
    /// Set when the exploration stopped at a limit: `paths` is then incomplete, and says
    /// nothing about what the paths not followed return.
    pub limit: Option<Limit>,
}

impl Outcome {
    /// The single return value when every path returns the same one.
    pub fn fixed(&self) -> Option<u32> {
        let first = self.paths.first()?.ret?;
        (self.limit.is_none() && self.paths.iter().all(|p| p.ret == Some(first))).then_some(first)
    }

    /// The distinct return values, in first-seen order.
    pub fn returns(&self) -> Vec<Option<u32>> {
        let mut v: Vec<Option<u32>> = Vec::new();
        for p in &self.paths {
            if !v.contains(&p.ret) {
                v.push(p.ret);
            }
        }
        v
    }
}

/// At most this many paths per (arch, nr).
pub const MAX_PATHS: usize = 4096;

/// At most this many instructions followed per (arch, nr), over all its paths.
pub const MAX_STEPS: u64 = 1 << 20;

/// At most this many instructions followed by one [`Budget`]: what a whole decoding of every
/// ABI's table may spend (about 1,500 (ABI, number) pairs on x86_64).
pub const MAX_TOTAL_STEPS: u64 = 1 << 26;

/// The instructions a decoding may still follow, shared by the explorations of one stack.
#[derive(Debug)]
pub struct Budget {
    left: std::sync::atomic::AtomicU64,
}

impl Budget {
    /// A budget of `steps` instructions.
    pub fn new(steps: u64) -> Self {
        Budget {
            left: std::sync::atomic::AtomicU64::new(steps),
        }
    }

    /// Take up to `want` steps; returns how many were granted.
    fn take(&self, want: u64) -> u64 {
        use std::sync::atomic::Ordering::Relaxed;
        let mut got = 0;
        let _ = self.left.fetch_update(Relaxed, Relaxed, |left| {
            got = left.min(want);
            Some(left - got)
        });
        got
    }

    /// Give back `steps` not spent.
    fn give(&self, steps: u64) {
        self.left
            .fetch_add(steps, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(MAX_TOTAL_STEPS)
    }
}

#[derive(Clone)]
struct State {
    pc: usize,
    a: Val,
    x: Val,
    mem: [Val; 16],
    conds: Vec<Cond>,
}

/// A validated program ready to explore.
pub struct Explorer<'a> {
    prog: &'a [Insn],
}

impl<'a> Explorer<'a> {
    /// Validate `prog` as the kernel would.
    pub fn new(prog: &'a [Insn]) -> Result<Self, Invalid> {
        validate(prog)?;
        Ok(Explorer { prog })
    }

    /// Explore for syscall `nr` of `audit_arch`, arguments unknown; `little_endian` says which
    /// half of each 64-bit argument sits at the lower offset. At most [`MAX_PATHS`] paths and
    /// [`MAX_STEPS`] instructions.
    pub fn explore(&self, audit_arch: u32, nr: u32, little_endian: bool) -> Outcome {
        self.explore_within(audit_arch, nr, little_endian, &Budget::new(MAX_STEPS))
    }

    /// As [`explore`](Self::explore), spending at most [`MAX_STEPS`] of `budget`, which the
    /// explorations of a whole decoding share: once it is spent, every further exploration
    /// stops at once with [`Limit::Work`].
    pub fn explore_within(
        &self,
        audit_arch: u32,
        nr: u32,
        little_endian: bool,
        budget: &Budget,
    ) -> Outcome {
        let granted = budget.take(MAX_STEPS);
        let mut steps = granted;
        let out = self.walk(audit_arch, nr, little_endian, &mut steps);
        budget.give(steps);
        out
    }

    fn walk(&self, audit_arch: u32, nr: u32, little_endian: bool, steps: &mut u64) -> Outcome {
        let field_at = |k: u32| -> Val {
            match k {
                0 => Val::Const(nr),
                4 => Val::Const(audit_arch),
                8..=15 => {
                    let upper = (k >= 12) == little_endian;
                    Val::Field(Field::Ip { hi: upper }, u32::MAX)
                }
                _ => {
                    let n = ((k - 16) / 8) as u8;
                    let second = (k - 16) % 8 >= 4;
                    Val::Field(
                        Field::Arg {
                            n,
                            hi: second == little_endian,
                        },
                        u32::MAX,
                    )
                }
            }
        };
        let mut out = Outcome {
            paths: Vec::new(),
            limit: None,
        };
        let mut stack = vec![State {
            pc: 0,
            a: Val::Const(0),
            x: Val::Const(0),
            mem: [Val::Const(0); 16],
            conds: Vec::new(),
        }];
        while let Some(mut s) = stack.pop() {
            if out.paths.len() >= MAX_PATHS {
                out.limit = Some(Limit::Paths);
                break;
            }
            loop {
                if *steps == 0 {
                    out.limit = Some(Limit::Work);
                    return out;
                }
                *steps -= 1;
                let i = self.prog[s.pc];
                s.pc += 1;
                let src = if i.code & op::X != 0 {
                    s.x
                } else {
                    Val::Const(i.k)
                };
                match i.class() {
                    class::LD | class::LDX => {
                        let v = loaded(i, &s.mem, field_at, Val::Const);
                        *if i.class() == class::LD {
                            &mut s.a
                        } else {
                            &mut s.x
                        } = v;
                    }
                    class::ST => s.mem[i.k as usize] = s.a,
                    class::STX => s.mem[i.k as usize] = s.x,
                    class::ALU => {
                        let o = i.code & 0xf0;
                        if o == op::DIV || o == op::MOD {
                            // the kernel ends the program with 0 (KILL_THREAD) on a zero
                            // divisor: a symbolic one splits into zero and not zero
                            match src {
                                Val::Const(0) => {
                                    out.paths.push(Path {
                                        conds: std::mem::take(&mut s.conds),
                                        ret: Some(0),
                                    });
                                    break;
                                }
                                Val::Const(_) => {}
                                Val::Field(_, 0) => {
                                    // masked to nothing: always zero
                                    out.paths.push(Path {
                                        conds: std::mem::take(&mut s.conds),
                                        ret: Some(0),
                                    });
                                    break;
                                }
                                Val::Field(..) | Val::Opaque => {
                                    let (field, mask) = match src {
                                        Val::Field(f, m) => (Some(f), m),
                                        _ => (None, u32::MAX),
                                    };
                                    let zero = |holds| Cond {
                                        field,
                                        mask,
                                        op: CmpOp::Eq,
                                        k: 0,
                                        holds,
                                    };
                                    let mut conds = s.conds.clone();
                                    conds.push(zero(true));
                                    out.paths.push(Path {
                                        conds,
                                        ret: Some(0),
                                    });
                                    if out.paths.len() >= MAX_PATHS {
                                        out.limit = Some(Limit::Paths);
                                        return out;
                                    }
                                    s.conds.push(zero(false));
                                    // 0 / x and 0 % x are 0 for any x that is not
                                    s.a = match s.a {
                                        Val::Const(0) => Val::Const(0),
                                        _ => Val::Opaque,
                                    };
                                    continue;
                                }
                            }
                        }
                        s.a = match (s.a, src, o) {
                            (Val::Const(a), Val::Const(b), o) => match alu(a, b, o) {
                                Some(v) => Val::Const(v),
                                None => {
                                    // unreachable: a zero divisor is handled above
                                    out.paths.push(Path {
                                        conds: std::mem::take(&mut s.conds),
                                        ret: Some(0),
                                    });
                                    break;
                                }
                            },
                            (Val::Field(f, m), Val::Const(b), op::AND) => Val::Field(f, m & b),
                            (_, _, op::NEG) => match s.a {
                                Val::Const(a) => Val::Const(a.wrapping_neg()),
                                _ => Val::Opaque,
                            },
                            _ => Val::Opaque,
                        }
                    }
                    class::JMP => {
                        let o = i.code & 0xf0;
                        if o == op::JA {
                            s.pc += i.k as usize;
                            continue;
                        }
                        let cmp = match o {
                            op::JEQ => CmpOp::Eq,
                            op::JGT => CmpOp::Gt,
                            op::JGE => CmpOp::Ge,
                            _ => CmpOp::Set,
                        };
                        match (s.a, src) {
                            (Val::Const(a), Val::Const(b)) => {
                                let holds = compare(cmp, a, b);
                                s.pc += if holds { i.jt } else { i.jf } as usize;
                            }
                            (a, b) => {
                                let (field, mask) = match a {
                                    Val::Field(f, m) => (Some(f), m),
                                    _ => (None, u32::MAX),
                                };
                                let k = match b {
                                    Val::Const(k) => k,
                                    _ => 0,
                                };
                                let cond = |holds| Cond {
                                    field: if matches!(b, Val::Const(_)) {
                                        field
                                    } else {
                                        None
                                    },
                                    mask,
                                    op: cmp,
                                    k,
                                    holds,
                                };
                                if i.jt == i.jf {
                                    s.pc += i.jt as usize;
                                    continue;
                                }
                                let mut t = s.clone();
                                t.conds.push(cond(true));
                                t.pc += i.jt as usize;
                                s.conds.push(cond(false));
                                s.pc += i.jf as usize;
                                stack.push(t);
                            }
                        }
                    }
                    class::RET => {
                        let ret = if i.code & op::RET_A != 0 {
                            match s.a {
                                Val::Const(v) => Some(v),
                                _ => None,
                            }
                        } else {
                            Some(i.k)
                        };
                        out.paths.push(Path {
                            conds: std::mem::take(&mut s.conds),
                            ret,
                        });
                        break;
                    }
                    _ => {
                        if i.code & op::TXA != 0 {
                            s.a = s.x;
                        } else {
                            s.x = s.a;
                        }
                    }
                }
            }
        }
        out
    }
}

fn compare(c: CmpOp, a: u32, b: u32) -> bool {
    match c {
        CmpOp::Eq => a == b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
        CmpOp::Set => a & b != 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{ALLOW, ERRNO};
    use crate::emu::{Emulator, SeccompData};

    // ld nr; jeq 1 → check arg0; else allow. arg0 low word == 5 → EPERM else allow
    fn prog() -> Vec<Insn> {
        vec![
            Insn::stmt(0x20, 0),         // ld [0]
            Insn::jump(0x15, 1, 0, 3),   // jeq #1, 0, 3
            Insn::stmt(0x20, 16),        // ld [16] (arg0 low, LE)
            Insn::jump(0x15, 5, 0, 1),   // jeq #5, 0, 1
            Insn::stmt(0x06, ERRNO | 1), // ret ERRNO(1)
            Insn::stmt(0x06, ALLOW),     // ret ALLOW
        ]
    }

    #[test]
    fn fixed_and_conditional_verdicts() {
        let p = prog();
        let e = Explorer::new(&p).unwrap();
        assert_eq!(e.explore(0xc000003e, 0, true).fixed(), Some(ALLOW));
        let o = e.explore(0xc000003e, 1, true);
        assert_eq!(o.fixed(), None);
        assert_eq!(o.paths.len(), 2);
        let eperm = o.paths.iter().find(|p| p.ret == Some(ERRNO | 1)).unwrap();
        assert_eq!(eperm.conds.len(), 1);
        assert_eq!(eperm.conds[0].to_string(), "arg0 == 0x5");
        // big-endian: offset 16 is the high half
        let be = e.explore(0x80000016, 1, false);
        assert_eq!(
            be.paths[0].conds[0].field,
            Some(Field::Arg { n: 0, hi: true })
        );
    }

    #[test]
    fn every_path_agrees_with_the_emulator() {
        // a libseccomp-style masked compare on both halves
        let p = vec![
            Insn::stmt(0x20, 20),         // ld arg0 hi
            Insn::jump(0x15, 0, 0, 4),    // jeq #0 → next, else ret allow
            Insn::stmt(0x20, 16),         // ld arg0 lo
            Insn::stmt(0x54, 0xff),       // and #0xff
            Insn::jump(0x15, 0x12, 0, 1), // jeq #0x12
            Insn::stmt(0x06, ERRNO | 13),
            Insn::stmt(0x06, ALLOW),
        ];
        let e = Explorer::new(&p).unwrap();
        let o = e.explore(0xc000003e, 9, true);
        assert_eq!(o.paths.len(), 3);
        let emu = Emulator::new(&p).unwrap();
        for (a0, want) in [
            (0x12u64, ERRNO | 13),
            (0x112, ERRNO | 13),
            (0x13, ALLOW),
            (1 << 33, ALLOW),
        ] {
            let d = SeccompData {
                nr: 9,
                arch: 0xc000003e,
                instruction_pointer: 0,
                args: [a0, 0, 0, 0, 0, 0],
            };
            assert_eq!(emu.run(&d, true).ret, want);
            // the path whose conditions a0 satisfies returns the same
            let path = o
                .paths
                .iter()
                .find(|p| {
                    p.conds.iter().all(|c| {
                        let w = match c.field {
                            Some(Field::Arg { n: 0, hi: false }) => a0 as u32,
                            Some(Field::Arg { n: 0, hi: true }) => (a0 >> 32) as u32,
                            _ => unreachable!(),
                        } & c.mask;
                        compare(c.op, w, c.k) == c.holds
                    })
                })
                .unwrap();
            assert_eq!(path.ret, Some(want), "a0 = {a0:#x}");
        }
        let masked = &o
            .paths
            .iter()
            .find(|p| p.ret == Some(ERRNO | 13))
            .unwrap()
            .conds[1];
        assert_eq!(masked.to_string(), "(arg0 & 0xff) == 0x12");
    }
}
