//! A generator of valid seccomp programs from raw bytes, for the fuzzers and the property tests:
//! every opcode `seccomp_check_filter` admits (word loads of `seccomp_data`, `LEN`, immediates,
//! scratch memory, every ALU operation but `MOD` with a constant or X, division by an X that may
//! be 0, `NEG`, `JA` and the four conditional jumps with a constant or X, `RET` of a constant or
//! of A, `TAX`/`TXA`), forward jumps only, a `RET` last, and scratch words read only where every
//! path has written them. Whatever the bytes, the program passes [`validate`](crate::validate()).
//!
//! It takes plain bytes (a fuzzer's input, or a seeded generator's output) so that the library
//! needs no fuzzing dependency. When the bytes run out, every further choice is 0.

use crate::action;
use crate::insn::{class, op, Insn};
use crate::validate::MEM_WORDS;

/// Reads choices from bytes; 0 once they are exhausted.
#[derive(Clone, Debug)]
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    /// Read choices from `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data }
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.data
    }

    /// One byte.
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    /// A little-endian `u32`.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    /// A number in `0..n` (`n` > 0; nearly uniform for `n` up to 256).
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 256 {
            self.byte() as usize % n
        } else {
            self.u32() as usize % n
        }
    }

    /// One of `xs` (not empty).
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

/// Audit architectures, syscall numbers, action values and bit patterns a filter compares
/// with: constants a program is likely to meet in `seccomp_data`.
pub const CONSTANTS: &[u32] = &[
    0,
    1,
    2,
    0x1f,
    39,
    59,
    0x3f,
    0xff,
    0x4000_0000,
    0x4000_0003,
    0x7fff_ffff,
    0x8000_0000,
    0x8000_0016,
    0xc000_003e,
    0xc000_00b7,
    0xc000_00f3,
    0xffff_fffe,
    0xffff_ffff,
];

/// Return values: every action, some with data.
pub const RETURNS: &[u32] = &[
    action::KILL_PROCESS,
    action::KILL_THREAD,
    action::TRAP,
    action::ERRNO | 1,
    action::ERRNO | 38,
    action::USER_NOTIF,
    action::TRACE | 7,
    action::LOG,
    action::ALLOW,
    0x7fff_0001,
    0x0004_0000,
];

/// A constant: from [`CONSTANTS`] or any 32-bit value.
fn constant(b: &mut Bytes) -> u32 {
    match b.below(4) {
        0 => b.u32(),
        1 => b.byte() as u32,
        _ => b.pick(CONSTANTS),
    }
}

/// Generate a valid program of at most `max_len` instructions (`max_len` at least 1, at most
/// 4096) from `b`.
pub fn program(b: &mut Bytes, max_len: usize) -> Vec<Insn> {
    use class::*;
    use op::*;
    let max_len = max_len.clamp(1, crate::validate::MAX_INSNS);
    let n = 1 + b.below(max_len);
    let mut prog = Vec::with_capacity(n);
    // check_load_and_stores, run as the program is written: the words written on every path
    // reaching each instruction (all ones until a path reaches it)
    let mut masks = vec![u16::MAX; n];
    let mut valid: u16 = 0;
    for pc in 0..n {
        valid &= masks[pc];
        let left = n - pc - 1; // instructions after this one
        if left == 0 {
            prog.push(ret(b));
            break;
        }
        let mem_word = |b: &mut Bytes| -> Option<u32> {
            let words: Vec<u32> = (0..MEM_WORDS).filter(|w| valid & 1 << w != 0).collect();
            (!words.is_empty()).then(|| b.pick(&words))
        };
        let i = match b.below(16) {
            0..=3 => {
                // ld [k]: nr, arch, ip, the arguments; more often the first two
                let k = if b.below(2) == 0 {
                    4 * b.below(2) as u32
                } else {
                    4 * b.below(16) as u32
                };
                Insn::stmt(LD | W | ABS, k)
            }
            4 => match b.below(6) {
                0 => Insn::stmt(LD | IMM, constant(b)),
                1 => Insn::stmt(LDX | IMM, constant(b)),
                2 => Insn::stmt(LD | W | LEN, 0),
                3 => Insn::stmt(LDX | W | LEN, 0),
                4 => match mem_word(b) {
                    Some(k) => Insn::stmt(LD | MEM, k),
                    None => Insn::stmt(ST, b.below(16) as u32),
                },
                _ => match mem_word(b) {
                    Some(k) => Insn::stmt(LDX | MEM, k),
                    None => Insn::stmt(STX, b.below(16) as u32),
                },
            },
            5 => Insn::stmt(if b.below(2) == 0 { ST } else { STX }, b.below(16) as u32),
            6..=7 => alu(b),
            8 => Insn::stmt(MISC | if b.below(2) == 0 { TAX } else { TXA }, 0),
            9 => Insn::stmt(JMP | JA, b.below(left) as u32),
            10..=13 => {
                let o = b.pick(&[JEQ, JGT, JGE, JSET]);
                let src = if b.below(4) == 0 { X } else { K };
                let reach = left.min(256);
                Insn::jump(
                    JMP | o | src,
                    constant(b),
                    b.below(reach) as u8,
                    b.below(reach) as u8,
                )
            }
            _ => ret(b),
        };
        match i.class() {
            ST | STX => valid |= 1 << i.k,
            JMP => {
                let targets = if i.code == JMP | JA {
                    [i.k as usize, i.k as usize]
                } else {
                    [i.jt as usize, i.jf as usize]
                };
                for t in targets {
                    masks[pc + 1 + t] &= valid;
                }
                valid = u16::MAX;
            }
            _ => {}
        }
        prog.push(i);
    }
    prog
}

fn ret(b: &mut Bytes) -> Insn {
    if b.below(4) == 0 {
        Insn::stmt(class::RET | op::RET_A, 0)
    } else {
        Insn::stmt(
            class::RET | op::K,
            if b.below(8) == 0 {
                b.u32()
            } else {
                b.pick(RETURNS)
            },
        )
    }
}

fn alu(b: &mut Bytes) -> Insn {
    use class::ALU;
    use op::*;
    let o = b.pick(&[ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, NEG, XOR]);
    if o == NEG {
        return Insn::stmt(ALU | NEG, 0);
    }
    if b.below(3) == 0 {
        // X: division by an X that may be 0, shifts by any X
        return Insn::stmt(ALU | o | X, 0);
    }
    let k = match o {
        DIV => constant(b).max(1),
        LSH | RSH => b.below(32) as u32,
        _ => constant(b),
    };
    Insn::stmt(ALU | o | K, k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::validate;

    /// xorshift64*: bytes for the generator from a seed.
    fn bytes(seed: u64, n: usize) -> Vec<u8> {
        let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..n)
            .map(|_| {
                s ^= s >> 12;
                s ^= s << 25;
                s ^= s >> 27;
                (s.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
            })
            .collect()
    }

    #[test]
    fn generated_programs_pass_the_validator() {
        let mut codes = std::collections::BTreeSet::new();
        for seed in 0..3000u64 {
            let data = bytes(seed, 4096);
            for max in [1, 8, 64, 300] {
                let p = program(&mut Bytes::new(&data), max);
                assert!(p.len() <= max);
                if let Err(e) = validate(&p) {
                    panic!("seed {seed} max {max}: {e}\n{p:?}");
                }
                codes.extend(p.iter().map(|i| i.code));
            }
        }
        // every opcode seccomp admits appears: the 49 classic opcodes less MOD k and x, the
        // byte and half-word loads, the three IND loads and MSH (41)
        let seccomp: Vec<u16> = (0..=0xffffu16)
            .filter(|&c| {
                [0, 1].iter().any(|&k| {
                    validate(&[
                        Insn::stmt(class::ST, 0),
                        Insn::stmt(c, k),
                        Insn::stmt(class::RET | op::K, 0),
                        Insn::stmt(class::RET | op::K, 0),
                    ])
                    .is_ok()
                })
            })
            .collect();
        let missing: Vec<String> = seccomp
            .iter()
            .filter(|c| !codes.contains(c))
            .map(|c| format!("{c:#x}"))
            .collect();
        assert!(missing.is_empty(), "never generated: {missing:?}");
        assert_eq!(seccomp.len(), 41, "{seccomp:x?}");
    }

    #[test]
    fn no_bytes_make_the_smallest_program() {
        assert_eq!(
            program(&mut Bytes::new(&[]), 100),
            vec![Insn::stmt(class::RET | op::RET_A, 0)]
        );
    }
}
