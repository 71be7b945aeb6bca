//! The reference program decides exactly what the policy says, for every syscall number of
//! every ABI of Docker's default, on boundary arguments.

use confine_abi::{Arch, CapSet};
use confine_bpf::compile::{build, reference, Options};
use confine_bpf::{Emulator, SeccompData};
use confine_profile::{load, resolve, Host, KernelVersion, Resolution, Source};

fn docker(arch: Arch, caps: CapSet) -> confine_profile::Resolved {
    let p = load(&Source::Builtin).unwrap().profile.unwrap();
    let host = Host {
        arch,
        caps,
        kernel: KernelVersion {
            kernel: 6,
            major: 8,
        },
    };
    match resolve(&p, &host) {
        Resolution::Filter(r) => r,
        Resolution::Unconfined => unreachable!(),
    }
}

fn vectors() -> Vec<[u64; 6]> {
    let mut v = vec![[0u64; 6]];
    for x in [
        1u64,
        8,
        37,
        38,
        39,
        40,
        41,
        0x20000,
        0x20008,
        0xffff_ffff,
        0x1_0000_0000,
        0x7E02_0000,
        0x1_ffff_ffff,
        u64::MAX,
    ] {
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
                0x0f_0005,
            ]);
            for nr in nrs {
                for args in vectors() {
                    let want = policy.eval(arch.audit_arch(), nr, &args);
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
