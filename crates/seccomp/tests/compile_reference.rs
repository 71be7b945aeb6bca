//! The reference program decides exactly what the policy says, for every syscall number of
//! every ABI of Docker's default, on boundary arguments.

use confine_abi::{Arch, CapSet};
use confine_bpf::{Emulator, SeccompData};
use confine_seccomp::{build, reference, Options};
use confine_test_support::host::docker;
use confine_test_support::probe::DOCKER_ARG_VALUES;

fn vectors() -> Vec<[u64; 6]> {
    let mut v = vec![[0u64; 6]];
    for x in [1u64, 37, 0x1_0000_0000, 0x1_ffff_ffff, u64::MAX]
        .into_iter()
        .chain(DOCKER_ARG_VALUES)
    {
        v.push([x, x, 0, 0, 0, 0]);
        v.push([x, 0, 0, 0, 0, 0]);
        v.push([0, x, 0, 0, 0, 0]);
    }
    v
}

#[test]
fn reference_program_matches_the_policy() {
    for (native, caps) in [
        (Arch::X86_64, CapSet::docker_default()),
        (Arch::X86_64, CapSet::all_known()),
        (Arch::Aarch64, CapSet::docker_default()),
        (Arch::S390x, CapSet::docker_default()),
        (Arch::Riscv64, CapSet::docker_default()),
    ] {
        let r = docker(native, caps);
        let policy = build(&r, Options::default()).unwrap();
        let prog = reference::generate(&policy).unwrap();
        let emu = Emulator::new(&prog).unwrap();
        let mut checked = 0;
        let arches: Vec<Arch> = policy
            .arches
            .iter()
            .map(|a| a.arch)
            .chain([Arch::Mips])
            .collect();
        for arch in arches {
            let base = if arch == Arch::X32 { 0x4000_0000 } else { 0 };
            let mut nrs: Vec<u32> = (0..600).map(|n| base + n).collect();
            nrs.extend([
                u32::MAX,
                0x4000_0000,
                0x4000_0000 + 512,
                0x3fff_ffff,
                0x8000_0000,
                0xbfff_ffff,
                0xc000_0000,
                0x0f_0005,
            ]);
            for nr in nrs {
                for args in vectors() {
                    let want = u32::from(policy.eval(arch.audit_arch(), nr, &args));
                    let d = SeccompData {
                        nr,
                        arch: arch.audit_arch(),
                        args,
                        ..Default::default()
                    };
                    let got = emu.run(&d, arch.is_little_endian()).ret;
                    assert_eq!(got, want, "{native} {arch} nr {nr} args {args:x?}");
                    checked += 1;
                }
            }
        }
        eprintln!("{native}: {} instructions, {checked} verdicts", prog.len());
    }
}

#[test]
fn programs_over_4096_instructions_are_a_clear_error() {
    use confine_profile::{Action, Arg, Operator, ResolvedRule};
    let mut r = docker(Arch::X86_64, CapSet::docker_default());
    // 2,000 conditions on distinct values: far more code than one filter may hold
    r.rules.push(ResolvedRule {
        names: ["keyctl".to_string()].into(),
        action: Action::Allow,
        errno_ret: None,
        args: (0..2000)
            .map(|v| Arg {
                index: 1,
                value: 0x5400 + v,
                value_two: 0,
                op: Operator::EqualTo,
            })
            .collect(),
        comment: None,
        source_index: 99,
    });
    let p = build(&r, Options::default()).unwrap();
    match reference::generate(&p) {
        Err(e) => assert!(e.to_string().contains("at most 4096"), "{e}"),
        Ok(prog) => panic!("{} instructions accepted", prog.len()),
    }
    match confine_seccomp::optimize::generate(&p) {
        Err(confine_seccomp::CompileError::TooLong(n)) => assert!(n > 4096),
        other => panic!("expected TooLong, got {:?}", other.map(|p| p.len())),
    }
}
