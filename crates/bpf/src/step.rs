//! The parts of one classic BPF step that do not depend on what a value is: the arithmetic on
//! two known 32-bit values ([`alu`]) and where a load takes its value from ([`load`]). The
//! emulator ([`crate::emu`], values known), the explorer ([`crate::explore`]) and the prover
//! ([`crate::verify`]) (values symbolic) share them, so that the three read an instruction alike.
//!
//! All three run only programs [`crate::validate`] accepts, as seccomp does: no `mod`, no
//! indirect or byte loads, no constant zero divisor, no constant shift of 32 or more.

use crate::insn::{op, Insn};

/// One ALU operation of classic BPF on 32-bit values (`op_bits`: the operation bits of the
/// opcode, `code & 0xf0`), `a` being A and `b` the operand (K or X); `None` where the kernel
/// ends the program with 0 (KILL_THREAD): a zero divisor (`div`, and `mod`, which seccomp
/// refuses but classic BPF has), or bits that are no ALU operation. The kernel runs classic
/// BPF as eBPF's 32-bit ALU (`bpf_convert_filter`, net/core/filter.c), whose shifts by a
/// register take the count's low five bits (`DST << (SRC & 31)`): counts are taken mod 32.
pub(crate) fn alu(a: u32, b: u32, op_bits: u16) -> Option<u32> {
    Some(match op_bits {
        op::ADD => a.wrapping_add(b),
        op::SUB => a.wrapping_sub(b),
        op::MUL => a.wrapping_mul(b),
        op::DIV => a.checked_div(b)?,
        op::MOD => a.checked_rem(b)?,
        op::OR => a | b,
        op::AND => a & b,
        op::XOR => a ^ b,
        op::LSH => a.wrapping_shl(b & 31),
        op::RSH => a.wrapping_shr(b & 31),
        op::NEG => a.wrapping_neg(),
        _ => return None,
    })
}

/// Where a load (`ld` into A, `ldx` into X) takes its value from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Load {
    /// `ld [k]`: the 32-bit word of `struct seccomp_data` at byte offset k.
    Abs(u32),
    /// `ld #len`: the size of `struct seccomp_data`.
    Len,
    /// `ld M[k]`: scratch memory.
    Mem(usize),
    /// `ld #k`: the constant.
    Imm(u32),
}

/// The source of a load instruction, from its mode bits (`code & 0xe0`).
pub(crate) fn load(i: Insn) -> Load {
    match i.code & 0xe0 {
        op::ABS => Load::Abs(i.k),
        op::LEN => Load::Len,
        op::MEM => Load::Mem(i.k as usize),
        _ => Load::Imm(i.k),
    }
}

/// The value load instruction `i` puts in A or X: `abs(k)` for the word of `struct
/// seccomp_data` at byte offset k, `konst(n)` for a constant (`#len`, `#k`), or the scratch
/// word `mem[k]` — for the emulator (plain words) and the symbolic walks alike.
pub(crate) fn loaded<V: Copy>(
    i: Insn,
    mem: &[V; 16],
    abs: impl FnOnce(u32) -> V,
    konst: impl FnOnce(u32) -> V,
) -> V {
    match load(i) {
        Load::Abs(k) => abs(k),
        Load::Len => konst(crate::validate::SECCOMP_DATA_LEN),
        Load::Mem(m) => mem[m],
        Load::Imm(k) => konst(k),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::class::{LD, LDX};

    #[test]
    fn every_alu_operation() {
        let (a, b) = (0x8000_0007u32, 3u32);
        assert_eq!(alu(a, b, op::ADD), Some(0x8000_000a));
        assert_eq!(alu(u32::MAX, 2, op::ADD), Some(1), "wraps");
        assert_eq!(alu(1, 2, op::SUB), Some(u32::MAX), "wraps");
        assert_eq!(alu(a, b, op::MUL), Some(0x8000_0015), "low 32 bits");
        assert_eq!(alu(a, b, op::DIV), Some(0x2aaa_aaad), "unsigned");
        assert_eq!(alu(a, b, op::MOD), Some(0));
        assert_eq!(alu(10, 4, op::MOD), Some(2));
        assert_eq!(alu(0b1100, 0b1010, op::OR), Some(0b1110));
        assert_eq!(alu(0b1100, 0b1010, op::AND), Some(0b1000));
        assert_eq!(alu(0b1100, 0b1010, op::XOR), Some(0b0110));
        assert_eq!(alu(1, 31, op::LSH), Some(0x8000_0000));
        assert_eq!(
            alu(0x8000_0000, 31, op::RSH),
            Some(1),
            "logical, not arithmetic"
        );
        assert_eq!(
            alu(5, 1234, op::NEG),
            Some(5u32.wrapping_neg()),
            "the operand is unused"
        );
        assert_eq!(alu(0, 0, op::NEG), Some(0));
    }

    #[test]
    fn a_zero_divisor_ends_the_program() {
        assert_eq!(alu(7, 0, op::DIV), None);
        assert_eq!(alu(7, 0, op::MOD), None);
        assert_eq!(alu(0, 0, op::DIV), None);
        assert_eq!(alu(7, 1, op::DIV), Some(7));
    }

    #[test]
    fn shift_counts_are_taken_mod_32() {
        for (count, same) in [(32, 0), (33, 1), (63, 31), (u32::MAX, 31)] {
            assert_eq!(
                alu(0x1234_5678, count, op::LSH),
                alu(0x1234_5678, same, op::LSH)
            );
            assert_eq!(
                alu(0x1234_5678, count, op::RSH),
                alu(0x1234_5678, same, op::RSH)
            );
        }
        assert_eq!(alu(1, 32, op::LSH), Some(1));
        assert_eq!(alu(0x8000_0000, 33, op::RSH), Some(0x4000_0000));
    }

    #[test]
    fn bits_that_are_no_operation_end_the_program() {
        for bits in [0xb0, 0xc0, 0xd0, 0xe0, 0xf0] {
            assert_eq!(alu(1, 1, bits), None, "{bits:#x}");
        }
    }

    #[test]
    fn load_sources() {
        let i = |code, k| Insn {
            code,
            jt: 0,
            jf: 0,
            k,
        };
        assert_eq!(load(i(LD | op::W | op::ABS, 16)), Load::Abs(16));
        assert_eq!(load(i(LD | op::W | op::LEN, 9)), Load::Len);
        assert_eq!(load(i(LD | op::MEM, 3)), Load::Mem(3));
        assert_eq!(load(i(LD | op::IMM, 42)), Load::Imm(42));
        assert_eq!(load(i(LDX | op::MEM, 15)), Load::Mem(15));
        assert_eq!(load(i(LDX | op::IMM, 7)), Load::Imm(7));
        assert_eq!(load(i(LDX | op::W | op::LEN, 0)), Load::Len);
    }
}
