//! Conditions on an argument the kernel reads as 32 bits. seccomp compares all 64 bits of
//! the register; the kernel's handler takes an `int` or `unsigned int` and drops the high
//! half. On a 64-bit ABI, a value with garbage in the high half then passes a rule meant to
//! refuse its low half (libseccomp issue #383: `socket((1 << 32) | AF_VSOCK, …)` passes
//! Docker's AF_VSOCK rule), or fails a rule meant to allow it (snapd's case).
//!
//! The types are an interim table, taken from the kernels' `SYSCALL_DEFINEn` declarations of
//! the calls Docker's and Podman's defaults condition; a later step generates them for every
//! call from the running kernel's tracefs.

use crate::{runs, Example, Finding, Severity, Target};

/// The C type of one argument the kernel reads as 32 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgType {
    /// The syscall.
    pub syscall: &'static str,
    /// The argument's index (0..=5).
    pub arg: u8,
    /// Its C type, as the kernel declares it.
    pub c_type: &'static str,
    /// Whether it is signed (the natural 64-bit value of a negative one is sign-extended).
    pub signed: bool,
    /// Where the kernel declares it.
    pub source: &'static str,
}

/// The interim table (kernel 6.18 sources).
pub const ARG_TYPES: &[ArgType] = &[
    ArgType { syscall: "socket", arg: 0, c_type: "int", signed: true, source: "net/socket.c: SYSCALL_DEFINE3(socket, int, family, int, type, int, protocol)" },
    ArgType { syscall: "socket", arg: 1, c_type: "int", signed: true, source: "net/socket.c: SYSCALL_DEFINE3(socket, int, family, int, type, int, protocol)" },
    ArgType { syscall: "socket", arg: 2, c_type: "int", signed: true, source: "net/socket.c: SYSCALL_DEFINE3(socket, int, family, int, type, int, protocol)" },
    ArgType { syscall: "personality", arg: 0, c_type: "unsigned int", signed: false, source: "kernel/exec_domain.c: SYSCALL_DEFINE1(personality, unsigned int, personality)" },
    ArgType { syscall: "ioctl", arg: 1, c_type: "unsigned int", signed: false, source: "fs/ioctl.c: SYSCALL_DEFINE3(ioctl, unsigned int, fd, unsigned int, cmd, unsigned long, arg)" },
    ArgType { syscall: "fcntl", arg: 1, c_type: "unsigned int", signed: false, source: "fs/fcntl.c: SYSCALL_DEFINE3(fcntl, unsigned int, fd, unsigned int, cmd, unsigned long, arg)" },
    ArgType { syscall: "prctl", arg: 0, c_type: "int", signed: true, source: "kernel/sys.c: SYSCALL_DEFINE5(prctl, int, option, …)" },
    ArgType { syscall: "setns", arg: 1, c_type: "int", signed: true, source: "kernel/nsproxy.c: SYSCALL_DEFINE2(setns, int, fd, int, flags)" },
];

/// High halves tried on each value: a stray bit, all ones, the top bit alone.
const HIGH: [u64; 3] = [1, 0xffff_ffff, 0x8000_0000];

/// At most this many examples per finding.
const EXAMPLES: usize = 4;

/// Flag every condition on a 32-bit argument whose verdict changes with the high half.
///
/// The calls tried: one per path of the filter for the syscall (so a rule over several
/// arguments, as Podman's `socket(AF_NETLINK, …, NETLINK_AUDIT)`, is met whole), plus each
/// constant the filter compares the argument with, ±1, alone. For each, the argument gets
/// its natural 64-bit value (zero- or sign-extended) and then other high halves.
pub(crate) fn check(t: &Target, out: &mut Vec<Finding>) {
    for &abi in t.abis() {
        if !abi.args64() {
            continue;
        }
        for ty in ARG_TYPES {
            let Some(nr) = Target::number(abi, ty.syscall) else {
                continue;
            };
            let i = ty.arg as usize;
            let consts = t.constants(abi, nr, ty.arg);
            if consts.is_empty() {
                continue;
            }
            let mut bases: Vec<[u64; 6]> = t.points(abi, nr);
            for k in consts {
                for low in [k, k.wrapping_sub(1), k.wrapping_add(1)] {
                    let mut a = [0u64; 6];
                    a[i] = u64::from(low);
                    bases.push(a);
                }
            }
            let (mut bypass, mut refusal): (Vec<Example>, Vec<Example>) = (Vec::new(), Vec::new());
            let mut seen: Vec<u32> = Vec::new();
            for mut base in bases {
                let low = base[i] as u32;
                let natural = if ty.signed && low >= 0x8000_0000 {
                    0xffff_ffff_0000_0000 | u64::from(low)
                } else {
                    u64::from(low)
                };
                base[i] = natural;
                let before = runs(t.eval(abi, nr, &base));
                for h in HIGH {
                    let v = (h << 32) | u64::from(low);
                    if v == natural {
                        continue;
                    }
                    let mut a = base;
                    a[i] = v;
                    let after = runs(t.eval(abi, nr, &a));
                    let list = match (before, after) {
                        (false, true) => &mut bypass,
                        (true, false) => &mut refusal,
                        _ => continue,
                    };
                    if list.len() < EXAMPLES && !seen.contains(&low) {
                        seen.push(low);
                        list.push(t.example(abi, ty.syscall, nr, a));
                    }
                }
            }
            for (examples, id, severity, what) in [
                (bypass, "arg-32bit-bypass", Severity::High, "refused values pass with a high half the kernel drops"),
                (refusal, "arg-32bit-refusal", Severity::Low, "allowed values are refused when the high half is not what the rule expects (the kernel reads only the low 32 bits)"),
            ] {
                let Some(first) = examples.first() else { continue };
                // the rule that lets the call through: the bypassing value's for a bypass,
                // the plain value's for a false refusal
                let mut base = first.args;
                if id == "arg-32bit-refusal" {
                    base[ty.arg as usize] &= 0xffff_ffff;
                }
                let shown: Vec<String> = examples
                    .iter()
                    .map(|e| {
                        let v = e.args[ty.arg as usize];
                        format!("{} (the kernel reads {})", crate::word(v), v & 0xffff_ffff)
                    })
                    .collect();
                let rule = t.rule(abi, nr, &base);
                if let Some(f) = out.iter_mut().find(|f| f.id == id && f.syscalls[0] == ty.syscall && f.message.contains(&format!("arg{} ", ty.arg))) {
                    if !f.abis.contains(&abi) {
                        f.abis.push(abi);
                    }
                    continue;
                }
                out.push(Finding {
                    id,
                    severity,
                    syscalls: vec![ty.syscall.to_string()],
                    abis: vec![abi],
                    message: format!(
                        "{}'s arg{} is an `{}` but the filter compares 64 bits: {what}, e.g. {}",
                        ty.syscall,
                        ty.arg,
                        ty.c_type,
                        shown.join(", ")
                    ),
                    rule,
                    examples,
                    reference: "https://github.com/seccomp/libseccomp/issues/383",
                });
            }
        }
    }
}
