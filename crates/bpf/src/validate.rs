//! The kernel's checks on a seccomp program, with the reason for each rejection:
//! `seccomp_prepare_filter` (length), `bpf_check_classic` and `check_load_and_stores`
//! (net/core/filter.c), then `seccomp_check_filter`'s whitelist (kernel/seccomp.c).
//! Every rejection is `EINVAL` from the kernel; confine says which rule failed.

use crate::insn::{class, op, Insn};

/// `BPF_MAXINSNS`
pub const MAX_INSNS: usize = 4096;
/// `BPF_MEMWORDS`
pub const MEM_WORDS: u32 = 16;
/// `sizeof(struct seccomp_data)`
pub const SECCOMP_DATA_LEN: u32 = 64;

/// Why the kernel would refuse a program.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Invalid {
    /// Zero instructions.
    #[error("empty program (the kernel needs 1 to 4096 instructions)")]
    Empty,
    /// More than 4096 instructions.
    #[error("{0} instructions: the kernel accepts at most 4096 per filter")]
    TooLong(usize),
    /// Not a classic BPF opcode at all.
    #[error("instruction {pc}: 0x{code:04x} is not a classic BPF opcode")]
    UnknownOpcode {
        /// Where.
        pc: usize,
        /// The opcode.
        code: u16,
    },
    /// A classic opcode seccomp does not allow (MOD, byte/half loads, IND, MSH, …).
    #[error("instruction {pc}: opcode 0x{code:04x} ({what}) is not allowed in seccomp filters")]
    NotInSeccomp {
        /// Where.
        pc: usize,
        /// The opcode.
        code: u16,
        /// Its name.
        what: &'static str,
    },
    /// DIV by the constant 0.
    #[error("instruction {pc}: division by the constant 0")]
    DivByZero {
        /// Where.
        pc: usize,
    },
    /// A constant shift of 32 or more.
    #[error("instruction {pc}: shift by {k} (must be below 32)")]
    BadShift {
        /// Where.
        pc: usize,
        /// The shift.
        k: u32,
    },
    /// Scratch memory index out of range.
    #[error("instruction {pc}: scratch memory M[{k}] does not exist (16 words)")]
    BadMem {
        /// Where.
        pc: usize,
        /// The index.
        k: u32,
    },
    /// A jump leaves the program.
    #[error("instruction {pc}: jump target beyond the end of the program")]
    JumpOut {
        /// Where.
        pc: usize,
    },
    /// The last instruction is not a return.
    #[error("the last instruction is not a RET")]
    NoFinalRet,
    /// Scratch memory read before any write on some path.
    #[error("instruction {pc}: M[{k}] may be read before it is written")]
    UninitMem {
        /// Where.
        pc: usize,
        /// The index.
        k: u32,
    },
    /// A load outside `struct seccomp_data` or not 4-byte aligned.
    #[error("instruction {pc}: load at offset {k} is outside seccomp_data (0..64, 4-aligned)")]
    BadLoad {
        /// Where.
        pc: usize,
        /// The offset.
        k: u32,
    },
}

/// The name of a classic opcode, or `None` if it is not one (the kernel's `codes[]` table).
pub fn opcode_name(code: u16) -> Option<&'static str> {
    use class::*;
    use op::*;
    Some(match code {
        c if c == ALU | ADD | K => "add k",
        c if c == ALU | ADD | X => "add x",
        c if c == ALU | SUB | K => "sub k",
        c if c == ALU | SUB | X => "sub x",
        c if c == ALU | MUL | K => "mul k",
        c if c == ALU | MUL | X => "mul x",
        c if c == ALU | DIV | K => "div k",
        c if c == ALU | DIV | X => "div x",
        c if c == ALU | MOD | K => "mod k",
        c if c == ALU | MOD | X => "mod x",
        c if c == ALU | AND | K => "and k",
        c if c == ALU | AND | X => "and x",
        c if c == ALU | OR | K => "or k",
        c if c == ALU | OR | X => "or x",
        c if c == ALU | XOR | K => "xor k",
        c if c == ALU | XOR | X => "xor x",
        c if c == ALU | LSH | K => "lsh k",
        c if c == ALU | LSH | X => "lsh x",
        c if c == ALU | RSH | K => "rsh k",
        c if c == ALU | RSH | X => "rsh x",
        c if c == ALU | NEG => "neg",
        c if c == LD | W | ABS => "ld w abs",
        c if c == LD | H | ABS => "ld h abs",
        c if c == LD | B | ABS => "ld b abs",
        c if c == LD | W | LEN => "ld w len",
        c if c == LD | W | IND => "ld w ind",
        c if c == LD | H | IND => "ld h ind",
        c if c == LD | B | IND => "ld b ind",
        c if c == LD | IMM => "ld imm",
        c if c == LD | MEM => "ld mem",
        c if c == LDX | W | LEN => "ldx w len",
        c if c == LDX | B | MSH => "ldx b msh",
        c if c == LDX | IMM => "ldx imm",
        c if c == LDX | MEM => "ldx mem",
        c if c == ST => "st",
        c if c == STX => "stx",
        c if c == MISC | TAX => "tax",
        c if c == MISC | TXA => "txa",
        c if c == RET | K => "ret k",
        c if c == RET | RET_A => "ret a",
        c if c == JMP | JA => "ja",
        c if c == JMP | JEQ | K => "jeq k",
        c if c == JMP | JEQ | X => "jeq x",
        c if c == JMP | JGE | K => "jge k",
        c if c == JMP | JGE | X => "jge x",
        c if c == JMP | JGT | K => "jgt k",
        c if c == JMP | JGT | X => "jgt x",
        c if c == JMP | JSET | K => "jset k",
        c if c == JMP | JSET | X => "jset x",
        _ => return None,
    })
}

/// Whether seccomp's whitelist (`seccomp_check_filter`) admits the opcode.
fn seccomp_allows(code: u16) -> bool {
    use class::*;
    use op::*;
    match code & 0x07 {
        LD => [W | ABS, W | LEN, IMM, MEM].contains(&(code & !0x07)),
        LDX => [W | LEN, IMM, MEM].contains(&(code & !0x07)),
        ST | STX => code & !0x07 == 0,
        ALU => (code & 0xf0) != MOD && opcode_name(code).is_some(),
        MISC | JMP => opcode_name(code).is_some(),
        RET => code == RET | K || code == RET | RET_A,
        _ => false,
    }
}

/// Check `prog` exactly as the kernel does when it is installed as a seccomp filter.
pub fn validate(prog: &[Insn]) -> Result<(), Invalid> {
    let n = prog.len();
    if n == 0 {
        return Err(Invalid::Empty);
    }
    if n > MAX_INSNS {
        return Err(Invalid::TooLong(n));
    }
    // bpf_check_classic: every instruction on its own
    for (pc, i) in prog.iter().enumerate() {
        if opcode_name(i.code).is_none() {
            return Err(Invalid::UnknownOpcode { pc, code: i.code });
        }
        let code = i.code;
        let alu_op = code & 0xf0;
        if i.class() == class::ALU && code & op::X == 0 {
            if (alu_op == op::DIV || alu_op == op::MOD) && i.k == 0 {
                return Err(Invalid::DivByZero { pc });
            }
            if (alu_op == op::LSH || alu_op == op::RSH) && i.k >= 32 {
                return Err(Invalid::BadShift { pc, k: i.k });
            }
        }
        let mem = matches!(i.class(), class::ST | class::STX)
            || ((i.class() == class::LD || i.class() == class::LDX) && code & 0xe0 == op::MEM);
        if mem && i.k >= MEM_WORDS {
            return Err(Invalid::BadMem { pc, k: i.k });
        }
        if i.class() == class::JMP {
            if code == class::JMP | op::JA {
                if i.k as u64 >= (n - pc - 1) as u64 {
                    return Err(Invalid::JumpOut { pc });
                }
            } else if pc + i.jt as usize + 1 >= n || pc + i.jf as usize + 1 >= n {
                return Err(Invalid::JumpOut { pc });
            }
        }
    }
    let last = prog[n - 1].code;
    if last != class::RET | op::K && last != class::RET | op::RET_A {
        return Err(Invalid::NoFinalRet);
    }
    check_load_and_stores(prog)?;
    // seccomp_check_filter: the whitelist and the load offsets
    for (pc, i) in prog.iter().enumerate() {
        if !seccomp_allows(i.code) {
            return Err(Invalid::NotInSeccomp {
                pc,
                code: i.code,
                what: opcode_name(i.code).unwrap_or("?"),
            });
        }
        if i.code == class::LD | op::W | op::ABS && (i.k >= SECCOMP_DATA_LEN || i.k & 3 != 0) {
            return Err(Invalid::BadLoad { pc, k: i.k });
        }
    }
    Ok(())
}

/// `check_load_and_stores`: a scratch word must be written on every path before it is read.
fn check_load_and_stores(prog: &[Insn]) -> Result<(), Invalid> {
    let n = prog.len();
    // masks[pc]: the words valid on every path reaching pc (all ones = not yet reached)
    let mut masks = vec![0xffffu16; n];
    let mut mem_valid: u16 = 0;
    for pc in 0..n {
        mem_valid &= masks[pc];
        let i = prog[pc];
        match i.class() {
            class::ST | class::STX => mem_valid |= 1 << i.k,
            class::LD | class::LDX if i.code & 0xe0 == op::MEM && mem_valid & (1 << i.k) == 0 => {
                return Err(Invalid::UninitMem { pc, k: i.k });
            }
            class::JMP => {
                if i.code == class::JMP | op::JA {
                    masks[pc + 1 + i.k as usize] &= mem_valid;
                    mem_valid = 0xffff;
                } else {
                    masks[pc + 1 + i.jt as usize] &= mem_valid;
                    masks[pc + 1 + i.jf as usize] &= mem_valid;
                    mem_valid = 0xffff;
                }
            }
            _ => {}
        }
    }
    Ok(())
}
