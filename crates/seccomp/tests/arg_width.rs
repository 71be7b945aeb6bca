//! `--arg-width kernel` (issue 19): on random profiles and random arguments, the kernel-mode
//! program decides every call as the faithful program decides the value the kernel reads
//! (the argument's low 32 bits, sign- or zero-extended as its type says); the faithful
//! program is the default and unchanged; values without a 32-bit meaning are refused. The
//! optimised and the reference generators agree in kernel mode too.

mod support;

use confine_abi::argtypes;
use confine_abi::{Arch, SyscallTable};
use confine_bpf::{Emulator, SeccompData};
use confine_seccomp::{build, optimize, ArgWidth, CompileError, Options};
use confine_test_support::rng::Rng;
use support::{random_profile, NAMES};

fn kernel() -> Options {
    Options {
        arg_width: ArgWidth::Kernel,
        ..Options::default()
    }
}

/// The register value a C caller passes for what the kernel reads of `v`: for an argument
/// the kernel reads narrower than 64 bits, its low 32 bits extended by the type's sign
/// (kernel mode compares the low word).
fn natural(arch: Arch, nr: u32, args: &[u64; 6]) -> [u64; 6] {
    let mut out = *args;
    if !arch.args64() {
        return out;
    }
    for (i, a) in out.iter_mut().enumerate() {
        if let Some(t) = argtypes::arg_type(arch, nr, i as u8).filter(|t| t.narrow()) {
            let low = *a & 0xffff_ffff;
            *a = if t.signed && low & 0x8000_0000 != 0 {
                low | 0xffff_ffff_0000_0000
            } else {
                low
            };
        }
    }
    out
}

#[test]
fn kernel_mode_decides_as_faithful_on_what_the_kernel_reads() {
    let n: usize = std::env::var("CONFINE_ARGWIDTH_PROFILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    let mut rng = Rng(0xa51d_7e19);
    let (mut compiled, mut refused, mut calls) = (0usize, 0usize, 0usize);
    for _ in 0..n {
        let r = random_profile(&mut rng);
        let Ok(pf) = build(&r, Options::default()) else {
            continue;
        };
        let pk = match build(&r, kernel()) {
            Ok(p) => p,
            Err(CompileError::ArgWidth { .. }) => {
                refused += 1;
                continue;
            }
            // kernel mode may merge two rules that differ only in a high half the kernel
            // does not read into one node with two actions: libseccomp's conflict, and an
            // error as it is for runc
            Err(CompileError::Conflict { .. }) => continue,
            Err(e) => panic!("{e}"),
        };
        compiled += 1;
        let (fp, kp) = (
            optimize::generate(&pf).unwrap(),
            optimize::generate(&pk).unwrap(),
        );
        let kr = confine_seccomp::reference::generate(&pk).unwrap();
        let (fe, ke) = (Emulator::new(&fp).unwrap(), Emulator::new(&kp).unwrap());
        let re = Emulator::new(&kr).unwrap();
        for ap in &pk.arches {
            let arch = ap.arch;
            let le = arch.is_little_endian();
            let table = SyscallTable::for_arch(arch).unwrap();
            for name in NAMES {
                let Some(nr) = table.number(name) else {
                    continue;
                };
                for _ in 0..24 {
                    let mut args = [0u64; 6];
                    for a in args.iter_mut().take(4) {
                        let pick = support::VALUES[rng.below(support::VALUES.len())];
                        *a = match rng.below(3) {
                            0 => pick,
                            1 => (rng.next() << 32) | (pick & 0xffff_ffff),
                            _ => rng.next(),
                        };
                    }
                    let d = |args: [u64; 6]| SeccompData {
                        nr,
                        arch: arch.audit_arch(),
                        instruction_pointer: 0,
                        args,
                    };
                    let k = ke.run(&d(args), le).ret;
                    // the reference generator's program and the policy's own evaluation agree
                    assert_eq!(
                        re.run(&d(args), le).ret,
                        k,
                        "{arch} {name} {args:x?}: reference"
                    );
                    let f = fe.run(&d(natural(arch, nr, &args)), le).ret;
                    calls += 1;
                    if k != f {
                        panic!(
                            "{arch} {name} {args:x?}: kernel mode {k:#x}, faithful on the natural value {f:#x}\n{r:#?}"
                        );
                    }
                }
            }
        }
    }
    eprintln!(
        "{compiled} profiles compared in kernel mode ({refused} refused: a value without a 32-bit meaning), {calls} calls, all alike"
    );
    assert!(
        compiled > n / 10,
        "only {compiled} of {n} profiles compared"
    );
    assert!(
        refused > 0,
        "no value was ever refused: the check is not exercised"
    );
}

/// Without the option nothing changes: the default is the faithful program, instruction for
/// instruction, for Docker's default on every supported architecture.
#[test]
fn the_default_is_faithful() {
    for arch in [Arch::X86_64, Arch::Aarch64, Arch::S390x, Arch::Riscv64] {
        let r = confine_test_support::host::docker(arch, confine_abi::CapSet::docker_default());
        let a = optimize::generate(&build(&r, Options::default()).unwrap()).unwrap();
        let explicit = Options {
            arg_width: ArgWidth::Faithful,
            ..Options::default()
        };
        let b = optimize::generate(&build(&r, explicit).unwrap()).unwrap();
        assert_eq!(a, b, "{arch}");
        let k = optimize::generate(&build(&r, kernel()).unwrap()).unwrap();
        // kernel mode drops high-word tests: never longer, and within 10% anyway
        assert!(k.len() <= a.len(), "{arch}: {} > {}", k.len(), a.len());
    }
}

/// A value whose high half is neither 0 nor the sign extension of its low half is an error
/// naming the rule in kernel mode, and compiles as before in faithful mode.
#[test]
fn a_value_without_32_bit_meaning_is_refused() {
    let mut r =
        confine_test_support::host::docker(Arch::X86_64, confine_abi::CapSet::docker_default());
    let socket = r
        .rules
        .iter()
        .position(|x| x.names.iter().any(|n| n == "socket") && !x.args.is_empty())
        .unwrap();
    r.rules[socket].args[0].value = 0x1_0000_0028;
    assert!(build(&r, Options::default()).is_ok());
    let e = build(&r, kernel()).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            CompileError::ArgWidth {
                arg: 0,
                value: 0x1_0000_0028,
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains("socket") && msg.contains("0x100000028"),
        "{msg}"
    );
    // a sign-extended negative value has a 32-bit meaning
    r.rules[socket].args[0].value = 0xffff_ffff_ffff_ffd8;
    assert!(build(&r, kernel()).is_ok());
}

/// A value with a 32-bit meaning that is not its type's natural register value (`-1` for
/// personality's `unsigned int`, whose natural value for 0xffffffff is zero-extended) never
/// matches a call in kernel mode either: the mode decides as faithful mode decides the value
/// a C caller passes. The query glibc passes is refused by both; `seccomp lint` reports such
/// a rule in faithful mode (its allowed value is refused).
#[test]
fn kernel_mode_keeps_faithful_meaning_of_values() {
    let mut r =
        confine_test_support::host::docker(Arch::X86_64, confine_abi::CapSet::docker_default());
    for rule in &mut r.rules {
        if rule.names.iter().any(|n| n == "personality") && rule.args[0].value == 0xffff_ffff {
            rule.args[0].value = u64::MAX;
        }
    }
    let nr = SyscallTable::for_arch(Arch::X86_64)
        .unwrap()
        .number("personality")
        .unwrap();
    let run = |o: Options, a0: u64| {
        let prog = optimize::generate(&build(&r, o).unwrap()).unwrap();
        let d = SeccompData {
            nr,
            arch: Arch::X86_64.audit_arch(),
            instruction_pointer: 0,
            args: [a0, 0, 0, 0, 0, 0],
        };
        Emulator::new(&prog).unwrap().run(&d, true).ret
    };
    let eperm = confine_bpf::action::ERRNO | 1;
    assert_eq!(run(Options::default(), 0xffff_ffff), eperm);
    assert_eq!(run(kernel(), 0xffff_ffff), eperm);
    // 8 (PER_LINUX32) is allowed in both, and with a high half only in kernel mode
    assert_eq!(run(Options::default(), 8), confine_bpf::action::ALLOW);
    assert_eq!(run(kernel(), 0x1_0000_0008), confine_bpf::action::ALLOW);
    assert_eq!(run(Options::default(), 0x1_0000_0008), eperm);
}
