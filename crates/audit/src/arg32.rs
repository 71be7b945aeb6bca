//! Conditions on an argument the kernel reads narrower than the register. seccomp compares
//! all 64 bits; the kernel's handler takes an `int`, an `unsigned int` or a `umode_t` and
//! drops the rest (the widths come from the running kernel: `confine_abi::argtypes`). On a
//! 64-bit ABI, a value with garbage above the bits the kernel reads then passes a rule meant
//! to refuse it (libseccomp issue #383: `socket((1 << 32) | AF_VSOCK, …)` passes Docker's
//! AF_VSOCK rule), or fails a rule meant to allow it (snapd's case).

use crate::{runs, Example, Finding, Severity, Target};
use confine_abi::argtypes::{self, ArgType, Origin};
use confine_abi::{Arch, SyscallTable};

/// At most this many examples per finding.
const EXAMPLES: usize = 4;

/// Flag every condition on a narrow argument whose verdict changes with the bits above the
/// ones the kernel reads.
///
/// The calls tried: one per path of the filter for the syscall (so a rule over several
/// arguments, as Podman's `socket(AF_NETLINK, …, NETLINK_AUDIT)`, is met whole), plus each
/// constant the filter compares the argument with, ±1, alone. For each, the argument gets
/// its natural 64-bit value (zero- or sign-extended from what the kernel reads) and then
/// other bits above.
pub(crate) fn check(t: &Target, out: &mut Vec<Finding>) {
    for &abi in t.abis() {
        if !abi.args64() || !argtypes::applies(abi) {
            continue;
        }
        let Ok(table) = SyscallTable::for_arch(abi) else {
            continue;
        };
        for (nr, syscall) in table.entries() {
            for (arg, ty) in argtypes::narrow_args(abi, nr) {
                let consts = t.constants(abi, nr, arg);
                if !consts.is_empty() {
                    one(
                        t,
                        out,
                        Call {
                            abi,
                            nr,
                            syscall,
                            arg,
                            ty,
                        },
                        &consts,
                    );
                }
            }
        }
    }
}

/// One narrow argument of one call.
struct Call<'a> {
    abi: Arch,
    nr: u32,
    syscall: &'a str,
    arg: u8,
    ty: ArgType,
}

/// The findings of one narrow argument the filter compares with `consts`.
fn one(t: &Target, out: &mut Vec<Finding>, c: Call, consts: &[u32]) {
    let (abi, nr, ty) = (c.abi, c.nr, c.ty);
    let i = c.arg as usize;
    let bits = u32::from(ty.bits);
    // above the bits read: one stray bit, all ones, the top bit alone
    let high = [1u64, u64::MAX >> bits, 1u64 << (63 - bits)];
    let mut bases: Vec<[u64; 6]> = t.points(abi, nr);
    for &k in consts {
        for low in [k, k.wrapping_sub(1), k.wrapping_add(1)] {
            let mut a = [0u64; 6];
            a[i] = u64::from(low);
            bases.push(a);
        }
    }
    let (mut bypass, mut refusal): (Vec<Example>, Vec<Example>) = (Vec::new(), Vec::new());
    let mut seen: Vec<u64> = Vec::new();
    for mut base in bases {
        let low = base[i] & ty.mask();
        let natural = ty.natural(low);
        base[i] = natural;
        let before = runs(t.eval(abi, nr, &base));
        for h in high {
            let v = (h << bits) | low;
            if v == natural {
                continue;
            }
            let mut a = base;
            a[i] = v;
            let list = match (before, runs(t.eval(abi, nr, &a))) {
                (false, true) => &mut bypass,
                (true, false) => &mut refusal,
                _ => continue,
            };
            if list.len() < EXAMPLES && !seen.contains(&low) {
                seen.push(low);
                list.push(t.example(abi, c.syscall, nr, a));
            }
        }
    }
    let read = |v: u64| {
        if ty.signed {
            (ty.natural(v) as i64).to_string()
        } else {
            (v & ty.mask()).to_string()
        }
    };
    for (examples, id, severity, what) in [
        (
            bypass,
            "arg-width-bypass",
            Severity::High,
            "refused values pass with bits set above the ones the kernel reads",
        ),
        (
            refusal,
            "arg-width-refusal",
            Severity::Low,
            "allowed values are refused when the bits above the ones the kernel reads are not what the rule expects",
        ),
    ] {
        let Some(first) = examples.first() else {
            continue;
        };
        if let Some(f) = out
            .iter_mut()
            .find(|f| f.id == id && f.syscalls[0] == c.syscall && f.message.contains(&format!("arg{} ", c.arg)))
        {
            if !f.abis.contains(&abi) {
                f.abis.push(abi);
            }
            continue;
        }
        // the rule that lets the call through: the passing value's for a bypass, the
        // natural value's for a false refusal
        let mut base = first.args;
        if id == "arg-width-refusal" {
            base[i] = ty.natural(base[i]);
        }
        let shown: Vec<String> = examples
            .iter()
            .map(|e| {
                let v = e.args[i];
                format!("{} (the kernel reads {})", crate::word(v), read(v))
            })
            .collect();
        out.push(Finding {
            id,
            severity,
            syscalls: vec![c.syscall.to_string()],
            abis: vec![abi],
            message: format!(
                "{}'s arg{} is {} `{}` ({} bits read, {}) but the filter compares 64 bits: {what}, e.g. {}",
                c.syscall,
                c.arg,
                if ty.c_type.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" },
                ty.c_type,
                ty.bits,
                match ty.origin {
                    Origin::Declared => "its declared type".to_string(),
                    Origin::Override(why) => why.to_string(),
                },
                shown.join(", ")
            ),
            rule: t.rule(abi, nr, &base),
            examples,
            reference: "https://github.com/seccomp/libseccomp/issues/383",
        });
    }
}
