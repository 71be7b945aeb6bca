//! A kernel-faithful interpreter for seccomp programs: registers A and X, scratch M[0..15],
//! every opcode the seccomp checker accepts, `struct seccomp_data` in the target's byte order.

use crate::insn::{class, op, Insn};
use crate::step::{alu, loaded};
use crate::validate::{validate, Invalid};

/// `struct seccomp_data`, the program's input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeccompData {
    /// The syscall number as the ABI reports it.
    pub nr: u32,
    /// `AUDIT_ARCH_*`.
    pub arch: u32,
    /// The instruction pointer.
    pub instruction_pointer: u64,
    /// The six arguments.
    pub args: [u64; 6],
}

impl SeccompData {
    /// The 64 bytes the kernel hands the filter, in the target's byte order.
    pub fn to_bytes(&self, little_endian: bool) -> [u8; 64] {
        let mut b = [0u8; 64];
        let w32 = |v: u32| {
            if little_endian {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        let w64 = |v: u64| {
            if little_endian {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        b[0..4].copy_from_slice(&w32(self.nr));
        b[4..8].copy_from_slice(&w32(self.arch));
        b[8..16].copy_from_slice(&w64(self.instruction_pointer));
        for (i, a) in self.args.iter().enumerate() {
            b[16 + 8 * i..24 + 8 * i].copy_from_slice(&w64(*a));
        }
        b
    }
}

/// The outcome of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// The returned action value.
    pub ret: u32,
    /// Instructions executed, the RET included.
    pub executed: usize,
    /// Conditional and unconditional jumps taken (a conditional jump with offset 0 is not taken).
    pub taken_jumps: usize,
}

/// A validated program ready to run.
#[derive(Clone, Debug)]
pub struct Emulator<'a> {
    prog: &'a [Insn],
}

impl<'a> Emulator<'a> {
    /// Validate `prog` as the kernel would; only valid programs run.
    pub fn new(prog: &'a [Insn]) -> Result<Self, Invalid> {
        validate(prog)?;
        Ok(Emulator { prog })
    }

    /// Run the program on `data` laid out in the given byte order.
    pub fn run(&self, data: &SeccompData, little_endian: bool) -> Run {
        self.run_inner(data, little_endian, None)
    }

    /// Run, and also return the index of every instruction executed, in order.
    pub fn run_traced(&self, data: &SeccompData, little_endian: bool) -> (Run, Vec<usize>) {
        let mut trace = Vec::new();
        let r = self.run_inner(data, little_endian, Some(&mut trace));
        (r, trace)
    }

    fn run_inner(
        &self,
        data: &SeccompData,
        little_endian: bool,
        mut trace: Option<&mut Vec<usize>>,
    ) -> Run {
        let bytes = data.to_bytes(little_endian);
        let word = |k: u32| {
            let k = k as usize;
            let w = [bytes[k], bytes[k + 1], bytes[k + 2], bytes[k + 3]];
            if little_endian {
                u32::from_le_bytes(w)
            } else {
                u32::from_be_bytes(w)
            }
        };
        let (mut a, mut x) = (0u32, 0u32);
        let mut mem = [0u32; 16];
        let (mut pc, mut executed, mut taken) = (0usize, 0usize, 0usize);
        loop {
            let i = self.prog[pc];
            if let Some(t) = trace.as_deref_mut() {
                t.push(pc);
            }
            executed += 1;
            pc += 1;
            let src = if i.code & op::X != 0 { x } else { i.k };
            match i.class() {
                class::LD | class::LDX => {
                    let v = loaded(i, &mem, word, |k| k);
                    *if i.class() == class::LD {
                        &mut a
                    } else {
                        &mut x
                    } = v;
                }
                class::ST => mem[i.k as usize] = a,
                class::STX => mem[i.k as usize] = x,
                class::ALU => match alu(a, src, i.code & 0xf0) {
                    Some(v) => a = v,
                    // classic BPF: division by X == 0 ends the program with 0
                    None => {
                        return Run {
                            ret: 0,
                            executed,
                            taken_jumps: taken,
                        }
                    }
                },
                class::JMP => {
                    let off = match i.code & 0xf0 {
                        op::JA => i.k as usize,
                        op::JEQ => jump(a == src, i),
                        op::JGT => jump(a > src, i),
                        op::JGE => jump(a >= src, i),
                        _ => jump(a & src != 0, i), // JSET
                    };
                    if off != 0 {
                        taken += 1;
                    }
                    pc += off;
                }
                class::RET => {
                    let ret = if i.code & op::RET_A != 0 { a } else { i.k };
                    return Run {
                        ret,
                        executed,
                        taken_jumps: taken,
                    };
                }
                _ => {
                    if i.code & op::TXA != 0 {
                        a = x;
                    } else {
                        x = a;
                    }
                }
            }
        }
    }
}

fn jump(cond: bool, i: Insn) -> usize {
    if cond {
        i.jt as usize
    } else {
        i.jf as usize
    }
}
