//! Classic BPF for seccomp: the instruction format, the kernel's validator, a kernel-faithful
//! emulator, the kernel's constant-action cache check, a disassembler, the symbolic explorer,
//! and the decoder of a stack of filters with the one diff engine over two stacks ([`stack`]).
//!
//! This is the machine every other layer targets or reads. It must depend on nothing of confine's
//! but `confine-abi`: not on profiles (the compiler, `confine-seccomp`, builds on it), not on the
//! kernel crate (it never touches the running kernel).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod action;
pub mod asm;
pub mod cache;
pub mod disasm;
pub mod emu;
pub mod explore;
pub mod gen;
pub mod insn;
pub mod stack;
mod step;
pub mod validate;
pub mod verify;

pub use emu::{Emulator, Run, SeccompData};
pub use insn::{decode, encode, Insn};
pub use validate::{validate, Invalid};
