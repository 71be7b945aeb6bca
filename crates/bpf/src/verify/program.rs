//! A classic BPF program as one side of a proof: its partition of a cell into pieces that
//! each take one path, found by symbolic execution over the words of `struct seccomp_data`.
//!
//! A value is a constant, a word of the input under a mask (`ld [k]`, then `and #m`), or
//! opaque (any other arithmetic on input). A jump comparing a word with a constant splits the
//! cell exactly, following only the sides some input reaches. A jump on an opaque value
//! follows both sides with the cell unchanged and marks the pieces inexact: the real path of
//! each input is still among those followed, so agreement on every piece remains a proof, but
//! a disagreement must be confirmed by running the program before it is reported. Division
//! by an X that may be zero ends the program with 0 (`SECCOMP_RET_KILL_THREAD`), as the kernel
//! does, on the cell where X is zero.

use super::cell::{data_of, little_endian, Cell, WORDS};
use super::word::{Op, Test, Work};
use super::{Out, Over, Piece, Side};
use crate::emu::Emulator;
use crate::insn::{class, op, Insn};
use crate::step::{alu, loaded};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Val {
    Const(u32),
    /// Word `i` of the input, masked.
    Word(u8, u32),
    Opaque,
}

fn word(i: u8, m: u32) -> Val {
    if m == 0 {
        Val::Const(0)
    } else {
        Val::Word(i, m)
    }
}

#[derive(Clone)]
struct State {
    pc: usize,
    a: Val,
    x: Val,
    mem: [Val; 16],
    cell: Cell,
    exact: bool,
}

/// A validated program as a side of a proof.
#[derive(Clone, Debug)]
pub struct Program<'a> {
    prog: &'a [Insn],
}

impl<'a> Program<'a> {
    /// `prog`, which must pass the kernel's checks ([`crate::validate`]): the caller checks.
    pub fn new(prog: &'a [Insn]) -> Result<Program<'a>, crate::Invalid> {
        crate::validate(prog)?;
        Ok(Program { prog })
    }

    /// The instructions.
    pub fn insns(&self) -> &'a [Insn] {
        self.prog
    }
}

impl Side for Program<'_> {
    fn partition(&self, cell: Cell, work: &mut Work) -> Result<Vec<Piece>, Over> {
        let mut out = Vec::new();
        let mut stack = vec![State {
            pc: 0,
            a: Val::Const(0),
            x: Val::Const(0),
            mem: [Val::Const(0); 16],
            cell,
            exact: true,
        }];
        while let Some(mut s) = stack.pop() {
            if out.len() > super::MAX_PIECES {
                return Err(Over::Pieces);
            }
            loop {
                work.spend(1)?;
                let i = self.prog[s.pc];
                s.pc += 1;
                let src = if i.code & op::X != 0 {
                    s.x
                } else {
                    Val::Const(i.k)
                };
                match i.class() {
                    class::LD | class::LDX => {
                        let v = loaded(i, &s.mem, |k| word((k / 4) as u8, u32::MAX), Val::Const);
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
                            match src {
                                Val::Const(0) => {
                                    out.push(piece(s.cell, Out::Ret(0), s.exact));
                                    break;
                                }
                                Val::Const(_) => {}
                                Val::Word(w, m) => {
                                    let zero = Test {
                                        mask: m,
                                        op: Op::Eq,
                                        k: 0,
                                    };
                                    let (z, nz) = s.cell.split(usize::from(w), zero, work)?;
                                    if let Some(z) = z {
                                        out.push(piece(z, Out::Ret(0), s.exact));
                                    }
                                    let Some(nz) = nz else { break };
                                    s.cell = nz;
                                }
                                Val::Opaque => {
                                    // may be zero, may not: both, inexact
                                    out.push(piece(s.cell.clone(), Out::Ret(0), false));
                                    s.exact = false;
                                }
                            }
                        }
                        s.a = match (s.a, src, o) {
                            (Val::Const(a), Val::Const(b), o) => match alu(a, b, o) {
                                Some(v) => Val::Const(v),
                                None => Val::Opaque, // a zero divisor ended the path above
                            },
                            (Val::Word(w, m), Val::Const(b), op::AND)
                            | (Val::Const(b), Val::Word(w, m), op::AND) => word(w, m & b),
                            (Val::Const(0), _, op::AND | op::MUL | op::DIV) => Val::Const(0),
                            (_, Val::Const(0), op::AND | op::MUL) => Val::Const(0),
                            (a, Val::Const(0), op::ADD | op::SUB | op::OR | op::XOR) => a,
                            (a, Val::Const(1), op::MUL | op::DIV) => a,
                            (a, Val::Const(u32::MAX), op::AND) => a,
                            _ => Val::Opaque,
                        };
                    }
                    class::JMP => {
                        let o = i.code & 0xf0;
                        if o == op::JA {
                            s.pc += i.k as usize;
                            continue;
                        }
                        if i.jt == i.jf {
                            s.pc += i.jt as usize;
                            continue;
                        }
                        let cmp = match o {
                            op::JEQ => Op::Eq,
                            op::JGT => Op::Gt,
                            op::JGE => Op::Ge,
                            _ => Op::Set,
                        };
                        // the test on one word, and whether the jump is taken when it holds
                        let test = match (s.a, src) {
                            (Val::Const(a), Val::Const(b)) => {
                                let t = Test {
                                    mask: u32::MAX,
                                    op: cmp,
                                    k: b,
                                };
                                s.pc += if t.holds(a) { i.jt } else { i.jf } as usize;
                                continue;
                            }
                            (Val::Word(w, m), Val::Const(k)) => Some((w, m, cmp, k, true)),
                            // k op (w & m): the same comparison seen from the word
                            (Val::Const(k), Val::Word(w, m)) => Some(match cmp {
                                Op::Eq | Op::Set => (w, m, cmp, k, true),
                                // k > v  ⇔  !(v >= k);  k >= v  ⇔  !(v > k)
                                Op::Gt => (w, m, Op::Ge, k, false),
                                Op::Ge => (w, m, Op::Gt, k, false),
                            }),
                            _ => None,
                        };
                        match test {
                            Some((w, mask, op, k, pos)) => {
                                let t = Test { mask, op, k };
                                let (yes, no) = s.cell.split(usize::from(w), t, work)?;
                                let (taken, not) = if pos { (yes, no) } else { (no, yes) };
                                match (taken, not) {
                                    (Some(t), Some(n)) => {
                                        let mut other = s.clone();
                                        other.cell = t;
                                        other.pc += i.jt as usize;
                                        stack.push(other);
                                        s.cell = n;
                                        s.pc += i.jf as usize;
                                    }
                                    (Some(t), None) => {
                                        s.cell = t;
                                        s.pc += i.jt as usize;
                                    }
                                    (None, Some(n)) => {
                                        s.cell = n;
                                        s.pc += i.jf as usize;
                                    }
                                    (None, None) => break,
                                }
                            }
                            None => {
                                let mut other = s.clone();
                                other.exact = false;
                                other.pc += i.jt as usize;
                                stack.push(other);
                                s.exact = false;
                                s.pc += i.jf as usize;
                            }
                        }
                    }
                    class::RET => {
                        let ret = if i.code & op::RET_A != 0 {
                            match s.a {
                                Val::Const(v) => Out::Ret(v),
                                Val::Word(w, m) => {
                                    match s.cell.single(usize::from(w)).map(|v| v & m) {
                                        Some(v) => Out::Ret(v),
                                        None => Out::Unknown,
                                    }
                                }
                                Val::Opaque => Out::Unknown,
                            }
                        } else {
                            Out::Ret(i.k)
                        };
                        out.push(piece(s.cell, ret, s.exact));
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
        Ok(out)
    }

    fn eval(&self, words: &[u32; WORDS]) -> u32 {
        let le = little_endian(words[1]);
        // validated in `new`
        Emulator::new(self.prog)
            .map(|e| e.run(&data_of(words, le), le).ret)
            .unwrap_or(0)
    }
}

fn piece(cell: Cell, out: Out, exact: bool) -> Piece {
    Piece { cell, out, exact }
}
