//! `struct sock_filter` and the classic BPF opcode fields (include/uapi/linux/filter.h,
//! include/uapi/linux/bpf_common.h).

/// Instruction classes.
pub mod class {
    /// Load into A.
    pub const LD: u16 = 0x00;
    /// Load into X.
    pub const LDX: u16 = 0x01;
    /// Store A into `M[k]`.
    pub const ST: u16 = 0x02;
    /// Store X into `M[k]`.
    pub const STX: u16 = 0x03;
    /// Arithmetic on A.
    pub const ALU: u16 = 0x04;
    /// Jumps.
    pub const JMP: u16 = 0x05;
    /// Return.
    pub const RET: u16 = 0x06;
    /// TAX / TXA.
    pub const MISC: u16 = 0x07;
}

/// Load sizes, modes, ALU and jump operations, sources.
pub mod op {
    /// 32-bit word.
    pub const W: u16 = 0x00;
    /// 16-bit half word.
    pub const H: u16 = 0x08;
    /// Byte.
    pub const B: u16 = 0x10;
    /// Immediate.
    pub const IMM: u16 = 0x00;
    /// Absolute offset into the packet (seccomp_data).
    pub const ABS: u16 = 0x20;
    /// Indirect (X + k).
    pub const IND: u16 = 0x40;
    /// Scratch memory `M[k]`.
    pub const MEM: u16 = 0x60;
    /// Packet length.
    pub const LEN: u16 = 0x80;
    /// IP header length trick.
    pub const MSH: u16 = 0xa0;
    /// A + src
    pub const ADD: u16 = 0x00;
    /// A - src
    pub const SUB: u16 = 0x10;
    /// A * src
    pub const MUL: u16 = 0x20;
    /// A / src
    pub const DIV: u16 = 0x30;
    /// A | src
    pub const OR: u16 = 0x40;
    /// A & src
    pub const AND: u16 = 0x50;
    /// A << src
    pub const LSH: u16 = 0x60;
    /// A >> src
    pub const RSH: u16 = 0x70;
    /// -A
    pub const NEG: u16 = 0x80;
    /// A % src
    pub const MOD: u16 = 0x90;
    /// A ^ src
    pub const XOR: u16 = 0xa0;
    /// Unconditional jump by k.
    pub const JA: u16 = 0x00;
    /// Jump if A == src.
    pub const JEQ: u16 = 0x10;
    /// Jump if A > src.
    pub const JGT: u16 = 0x20;
    /// Jump if A >= src.
    pub const JGE: u16 = 0x30;
    /// Jump if A & src.
    pub const JSET: u16 = 0x40;
    /// Source: the constant k.
    pub const K: u16 = 0x00;
    /// Source: X.
    pub const X: u16 = 0x08;
    /// RET A.
    pub const RET_A: u16 = 0x10;
    /// MISC: X = A.
    pub const TAX: u16 = 0x00;
    /// MISC: A = X.
    pub const TXA: u16 = 0x80;
}

/// One classic BPF instruction, laid out as `struct sock_filter` (8 bytes, host byte order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Insn {
    /// Opcode.
    pub code: u16,
    /// Jump offset if true.
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// Constant.
    pub k: u32,
}

/// An error turning bytes into instructions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The byte count is not a multiple of `sizeof(struct sock_filter)`.
    #[error("{0} bytes is not a whole number of 8-byte BPF instructions")]
    Ragged(usize),
}

impl Insn {
    /// A statement (no jump offsets).
    pub const fn stmt(code: u16, k: u32) -> Insn {
        Insn {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    /// A conditional jump.
    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Insn {
        Insn { code, jt, jf, k }
    }

    /// The class bits.
    pub fn class(self) -> u16 {
        self.code & 0x07
    }

    /// The 8 bytes of `struct sock_filter` in host order.
    pub fn to_bytes(self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[0..2].copy_from_slice(&self.code.to_ne_bytes());
        b[2] = self.jt;
        b[3] = self.jf;
        b[4..8].copy_from_slice(&self.k.to_ne_bytes());
        b
    }
}

/// Decode raw `struct sock_filter` bytes (what `bwrap --seccomp FD` takes and
/// `PTRACE_SECCOMP_GET_FILTER` returns), host byte order.
pub fn decode(bytes: &[u8]) -> Result<Vec<Insn>, DecodeError> {
    if bytes.len() % 8 != 0 {
        return Err(DecodeError::Ragged(bytes.len()));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| Insn {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

/// Decode `struct sock_filter` bytes written in a given byte order (libseccomp exports a
/// big-endian ABI's filter in that ABI's byte order).
pub fn decode_with_order(bytes: &[u8], little_endian: bool) -> Result<Vec<Insn>, DecodeError> {
    if bytes.len() % 8 != 0 {
        return Err(DecodeError::Ragged(bytes.len()));
    }
    let u16_of = |b: [u8; 2]| {
        if little_endian {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }
    };
    let u32_of = |b: [u8; 4]| {
        if little_endian {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    Ok(bytes
        .chunks_exact(8)
        .map(|c| Insn {
            code: u16_of([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32_of([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

/// Encode instructions as raw bytes.
pub fn encode(prog: &[Insn]) -> Vec<u8> {
    prog.iter().flat_map(|i| i.to_bytes()).collect()
}
