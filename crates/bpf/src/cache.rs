//! A replica of the kernel's constant-action cache check, `seccomp_is_const_allow()`
//! (kernel/seccomp.c, Linux 5.11): which (arch, nr) pairs the kernel answers with ALLOW without
//! running any filter.

use crate::insn::{class, op, Insn};

/// `SECCOMP_RET_ALLOW`
pub const RET_ALLOW: u32 = 0x7fff_0000;

/// Whether the kernel would cache `nr` on `arch` as always allowed by this filter. Only the
/// instructions on the path taken count; any load other than `nr`/`arch`, any X or memory
/// operation, or a return other than exactly ALLOW makes the pair uncacheable.
pub fn is_const_allow(prog: &[Insn], arch: u32, nr: u32) -> bool {
    let mut a = 0u32;
    let mut pc = 0usize;
    while pc < prog.len() {
        let i = prog[pc];
        match i.code {
            c if c == class::LD | op::W | op::ABS => match i.k {
                0 => a = nr,
                4 => a = arch,
                _ => return false,
            },
            c if c == class::RET | op::K => return i.k == RET_ALLOW,
            c if c == class::JMP | op::JA => pc += i.k as usize,
            c if c == class::JMP | op::JEQ | op::K => {
                pc += if a == i.k { i.jt } else { i.jf } as usize
            }
            c if c == class::JMP | op::JGE | op::K => {
                pc += if a >= i.k { i.jt } else { i.jf } as usize
            }
            c if c == class::JMP | op::JGT | op::K => {
                pc += if a > i.k { i.jt } else { i.jf } as usize
            }
            c if c == class::JMP | op::JSET | op::K => {
                pc += if a & i.k != 0 { i.jt } else { i.jf } as usize
            }
            c if c == class::ALU | op::AND | op::K => a &= i.k,
            _ => return false,
        }
        pc += 1;
    }
    false
}
