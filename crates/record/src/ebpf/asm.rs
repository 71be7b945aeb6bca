//! A tiny eBPF assembler: the handful of instructions the recording program uses, encoded as
//! `struct bpf_insn` (8 bytes: opcode, dst and src registers in one byte, a 16-bit offset, a
//! 32-bit immediate, little-endian on x86_64), and jumps to labels resolved at the end.
//!
//! # References
//! * Documentation/bpf/standardization/instruction-set.rst; include/uapi/linux/bpf.h

/// A register, r0 (return value) to r10 (frame pointer, read-only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reg(pub u8);

/// r0: helper results and the program's return value.
pub const R0: Reg = Reg(0);
/// r1: the context, then a helper's first argument.
pub const R1: Reg = Reg(1);
/// r2: a helper's second argument.
pub const R2: Reg = Reg(2);
/// r3: a helper's third argument.
pub const R3: Reg = Reg(3);
/// r4: a helper's fourth argument.
pub const R4: Reg = Reg(4);
/// r6: callee-saved.
pub const R6: Reg = Reg(6);
/// r7: callee-saved.
pub const R7: Reg = Reg(7);
/// r8: callee-saved.
pub const R8: Reg = Reg(8);
/// r9: callee-saved.
pub const R9: Reg = Reg(9);
/// r10: the frame pointer (the stack grows down from it, 512 bytes).
pub const R10: Reg = Reg(10);

// instruction classes
const LD: u8 = 0x00;
const LDX: u8 = 0x01;
const ST: u8 = 0x02;
const STX: u8 = 0x03;
const JMP: u8 = 0x05;
const ALU64: u8 = 0x07;
// sizes
const W: u8 = 0x00;
const DW: u8 = 0x18;
// modes
const IMM: u8 = 0x00;
const MEM: u8 = 0x60;
const ATOMIC: u8 = 0xc0;
// source
const K: u8 = 0x00;
const X: u8 = 0x08;

/// `src_reg` of a 64-bit load that names a map by descriptor (`BPF_PSEUDO_MAP_FD`).
const PSEUDO_MAP_FD: u8 = 1;

/// An ALU operation (64-bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alu {
    /// `dst += src`
    Add = 0x00,
    /// `dst |= src`
    Or = 0x40,
    /// `dst &= src`
    And = 0x50,
    /// `dst <<= src`
    Lsh = 0x60,
    /// `dst >>= src`
    Rsh = 0x70,
    /// `dst = src`
    Mov = 0xb0,
}

/// A conditional jump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cond {
    /// `==`
    Eq = 0x10,
    /// `!=`
    Ne = 0x50,
    /// `<` (unsigned)
    Lt = 0xa0,
}

/// A label, to jump to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(usize);

/// A program being written.
#[derive(Debug, Default)]
pub struct Asm {
    insns: Vec<[u8; 8]>,
    labels: Vec<Option<usize>>,
    /// (instruction index, label) of each jump to fix.
    fixups: Vec<(usize, Label)>,
}

fn insn(code: u8, dst: Reg, src: Reg, off: i16, imm: i32) -> [u8; 8] {
    debug_assert!(dst.0 <= 10 && src.0 <= 10);
    let o = off.to_le_bytes();
    let i = imm.to_le_bytes();
    [
        code,
        dst.0 | (src.0 << 4),
        o[0],
        o[1],
        i[0],
        i[1],
        i[2],
        i[3],
    ]
}

/// Why a program could not be assembled.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AsmError {
    /// A jump to a label that was never placed.
    #[error("a jump to a label that was never placed")]
    Unplaced,
    /// A jump further than 16 bits reach.
    #[error("a jump out of range")]
    Range,
}

impl Asm {
    /// An empty program.
    pub fn new() -> Asm {
        Asm::default()
    }

    /// `dst op= imm` (64-bit).
    pub fn alu_imm(&mut self, op: Alu, dst: Reg, imm: i32) -> &mut Asm {
        self.insns
            .push(insn(ALU64 | op as u8 | K, dst, Reg(0), 0, imm));
        self
    }

    /// `dst op= src` (64-bit).
    pub fn alu_reg(&mut self, op: Alu, dst: Reg, src: Reg) -> &mut Asm {
        self.insns.push(insn(ALU64 | op as u8 | X, dst, src, 0, 0));
        self
    }

    /// `dst = imm` (sign-extended).
    pub fn mov_imm(&mut self, dst: Reg, imm: i32) -> &mut Asm {
        self.alu_imm(Alu::Mov, dst, imm)
    }

    /// `dst = src`.
    pub fn mov(&mut self, dst: Reg, src: Reg) -> &mut Asm {
        self.alu_reg(Alu::Mov, dst, src)
    }

    /// `dst = imm64` (two instructions).
    pub fn ld_imm64(&mut self, dst: Reg, imm: u64) -> &mut Asm {
        self.ld_imm64_src(dst, Reg(0), imm)
    }

    /// `dst = the map at descriptor fd` (two instructions; the kernel puts the map's address).
    pub fn ld_map_fd(&mut self, dst: Reg, fd: i32) -> &mut Asm {
        self.ld_imm64_src(dst, Reg(PSEUDO_MAP_FD), fd as u32 as u64)
    }

    fn ld_imm64_src(&mut self, dst: Reg, src: Reg, imm: u64) -> &mut Asm {
        self.insns
            .push(insn(LD | DW | IMM, dst, src, 0, imm as u32 as i32));
        self.insns
            .push(insn(0, Reg(0), Reg(0), 0, (imm >> 32) as u32 as i32));
        self
    }

    /// `dst = *(u64 *)(src + off)`.
    pub fn ldx_dw(&mut self, dst: Reg, src: Reg, off: i16) -> &mut Asm {
        self.insns.push(insn(LDX | MEM | DW, dst, src, off, 0));
        self
    }

    /// `dst = *(u32 *)(src + off)`.
    pub fn ldx_w(&mut self, dst: Reg, src: Reg, off: i16) -> &mut Asm {
        self.insns.push(insn(LDX | MEM | W, dst, src, off, 0));
        self
    }

    /// `*(u64 *)(dst + off) = src`.
    pub fn stx_dw(&mut self, dst: Reg, off: i16, src: Reg) -> &mut Asm {
        self.insns.push(insn(STX | MEM | DW, dst, src, off, 0));
        self
    }

    /// `*(u32 *)(dst + off) = src`.
    pub fn stx_w(&mut self, dst: Reg, off: i16, src: Reg) -> &mut Asm {
        self.insns.push(insn(STX | MEM | W, dst, src, off, 0));
        self
    }

    /// `*(u64 *)(dst + off) = imm` (sign-extended).
    pub fn st_dw(&mut self, dst: Reg, off: i16, imm: i32) -> &mut Asm {
        self.insns.push(insn(ST | MEM | DW, dst, Reg(0), off, imm));
        self
    }

    /// `*(u32 *)(dst + off) = imm`.
    pub fn st_w(&mut self, dst: Reg, off: i16, imm: i32) -> &mut Asm {
        self.insns.push(insn(ST | MEM | W, dst, Reg(0), off, imm));
        self
    }

    /// `lock *(u64 *)(dst + off) += src` (`BPF_ATOMIC` with `BPF_ADD`, formerly `BPF_XADD`).
    pub fn atomic_add_dw(&mut self, dst: Reg, off: i16, src: Reg) -> &mut Asm {
        self.insns.push(insn(STX | ATOMIC | DW, dst, src, off, 0));
        self
    }

    /// Call helper `id` (arguments in r1–r5, result in r0; r1–r5 are clobbered).
    pub fn call(&mut self, id: i32) -> &mut Asm {
        self.insns.push(insn(JMP | 0x80, Reg(0), Reg(0), 0, id));
        self
    }

    /// Return r0.
    pub fn exit(&mut self) -> &mut Asm {
        self.insns.push(insn(JMP | 0x90, Reg(0), Reg(0), 0, 0));
        self
    }

    /// A new label, placed later with [`Asm::place`].
    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Place `l` at the next instruction.
    pub fn place(&mut self, l: Label) -> &mut Asm {
        self.labels[l.0] = Some(self.insns.len());
        self
    }

    /// `if dst cond imm goto l`.
    pub fn jmp_imm(&mut self, cond: Cond, dst: Reg, imm: i32, l: Label) -> &mut Asm {
        self.fixups.push((self.insns.len(), l));
        self.insns
            .push(insn(JMP | cond as u8 | K, dst, Reg(0), 0, imm));
        self
    }

    /// `if dst cond src goto l`.
    pub fn jmp_reg(&mut self, cond: Cond, dst: Reg, src: Reg, l: Label) -> &mut Asm {
        self.fixups.push((self.insns.len(), l));
        self.insns.push(insn(JMP | cond as u8 | X, dst, src, 0, 0));
        self
    }

    /// `goto l`.
    pub fn ja(&mut self, l: Label) -> &mut Asm {
        self.fixups.push((self.insns.len(), l));
        self.insns.push(insn(JMP, Reg(0), Reg(0), 0, 0));
        self
    }

    /// The program as bytes, jumps resolved (offsets count from the next instruction).
    pub fn finish(mut self) -> Result<Vec<u8>, AsmError> {
        for &(at, l) in &self.fixups {
            let to = self.labels[l.0].ok_or(AsmError::Unplaced)?;
            let off = to as i64 - at as i64 - 1;
            let off = i16::try_from(off).map_err(|_| AsmError::Range)?;
            self.insns[at][2..4].copy_from_slice(&off.to_le_bytes());
        }
        Ok(self.insns.concat())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(f: impl FnOnce(&mut Asm)) -> Vec<u8> {
        let mut a = Asm::new();
        f(&mut a);
        a.finish().unwrap()
    }

    // Each encoding against the bytes the kernel's own macros (include/linux/filter.h) give.
    #[test]
    fn encodings() {
        // BPF_MOV64_IMM(R0, 0); BPF_EXIT_INSN()
        assert_eq!(
            one(|a| {
                a.mov_imm(R0, 0).exit();
            }),
            [0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]
        );
        // BPF_MOV64_REG(R6, R1)
        assert_eq!(
            one(|a| {
                a.mov(R6, R1);
            }),
            [0xbf, 0x16, 0, 0, 0, 0, 0, 0]
        );
        // BPF_LDX_MEM(BPF_DW, R7, R6, 8)
        assert_eq!(
            one(|a| {
                a.ldx_dw(R7, R6, 8);
            }),
            [0x79, 0x67, 8, 0, 0, 0, 0, 0]
        );
        // BPF_LDX_MEM(BPF_W, R1, R10, -8)
        assert_eq!(
            one(|a| {
                a.ldx_w(R1, R10, -8);
            }),
            [0x61, 0xa1, 0xf8, 0xff, 0, 0, 0, 0]
        );
        // BPF_STX_MEM(BPF_DW, R10, R7, -16)
        assert_eq!(
            one(|a| {
                a.stx_dw(R10, -16, R7);
            }),
            [0x7b, 0x7a, 0xf0, 0xff, 0, 0, 0, 0]
        );
        // BPF_STX_MEM(BPF_W, R10, R0, -16)
        assert_eq!(
            one(|a| {
                a.stx_w(R10, -16, R0);
            }),
            [0x63, 0x0a, 0xf0, 0xff, 0, 0, 0, 0]
        );
        // BPF_ST_MEM(BPF_DW, R10, -24, 1); BPF_ST_MEM(BPF_W, R10, -4, 7)
        assert_eq!(
            one(|a| {
                a.st_dw(R10, -24, 1);
            }),
            [0x7a, 0x0a, 0xe8, 0xff, 1, 0, 0, 0]
        );
        assert_eq!(
            one(|a| {
                a.st_w(R10, -4, 7);
            }),
            [0x62, 0x0a, 0xfc, 0xff, 7, 0, 0, 0]
        );
        // BPF_ATOMIC_OP(BPF_DW, BPF_ADD, R0, R1, 0)
        assert_eq!(
            one(|a| {
                a.atomic_add_dw(R0, 0, R1);
            }),
            [0xdb, 0x10, 0, 0, 0, 0, 0, 0]
        );
        // BPF_ALU64_IMM(BPF_AND, R1, 2), BPF_ALU64_IMM(BPF_LSH, R1, 31),
        // BPF_ALU64_REG(BPF_OR, R7, R1), BPF_ALU64_IMM(BPF_ADD, R2, -16)
        assert_eq!(
            one(|a| {
                a.alu_imm(Alu::And, R1, 2);
            }),
            [0x57, 1, 0, 0, 2, 0, 0, 0]
        );
        assert_eq!(
            one(|a| {
                a.alu_imm(Alu::Lsh, R1, 31);
            }),
            [0x67, 1, 0, 0, 31, 0, 0, 0]
        );
        assert_eq!(
            one(|a| {
                a.alu_reg(Alu::Or, R7, R1);
            }),
            [0x4f, 0x17, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            one(|a| {
                a.alu_imm(Alu::Add, R2, -16);
            }),
            [0x07, 2, 0, 0, 0xf0, 0xff, 0xff, 0xff]
        );
        // BPF_EMIT_CALL(80)
        assert_eq!(
            one(|a| {
                a.call(80);
            }),
            [0x85, 0, 0, 0, 80, 0, 0, 0]
        );
        // BPF_LD_IMM64(R1, 0x1122334455667788): low half first
        assert_eq!(
            one(|a| {
                a.ld_imm64(R1, 0x1122_3344_5566_7788);
            }),
            [0x18, 1, 0, 0, 0x88, 0x77, 0x66, 0x55, 0, 0, 0, 0, 0x44, 0x33, 0x22, 0x11]
        );
        // BPF_LD_MAP_FD(R1, 5)
        assert_eq!(
            one(|a| {
                a.ld_map_fd(R1, 5);
            }),
            [0x18, 0x11, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn jumps_count_from_the_next_instruction() {
        let mut a = Asm::new();
        let out = a.label();
        let back = a.label();
        a.place(back)
            .jmp_imm(Cond::Ne, R0, 0, out) // 0: forward over 2
            .jmp_reg(Cond::Eq, R0, R1, back) // 1: back to 0
            .ja(out) // 2: to 3, offset 0
            .place(out)
            .exit();
        let p = a.finish().unwrap();
        // BPF_JMP_IMM(BPF_JNE, R0, 0, 2)
        assert_eq!(p[0..8], [0x55, 0, 2, 0, 0, 0, 0, 0]);
        // BPF_JMP_REG(BPF_JEQ, R0, R1, -2)
        assert_eq!(p[8..16], [0x1d, 0x10, 0xfe, 0xff, 0, 0, 0, 0]);
        // BPF_JMP_A(0)
        let mut b = Asm::new();
        let l = b.label();
        b.jmp_imm(Cond::Lt, R0, 2, l).place(l);
        // BPF_JMP_IMM(BPF_JLT, R0, 2, 0)
        assert_eq!(b.finish().unwrap(), [0xa5, 0, 0, 0, 2, 0, 0, 0]);
        assert_eq!(p[16..24], [0x05, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn an_unplaced_label_is_an_error() {
        let mut a = Asm::new();
        let l = a.label();
        a.ja(l);
        assert_eq!(a.finish(), Err(AsmError::Unplaced));
    }
}
