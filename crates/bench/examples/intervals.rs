use confine_abi::{Arch, CapSet};
use confine_bpf::compile::policy::Leaf;
use confine_bpf::compile::{build, Options};
use confine_profile::{load, resolve, Host, KernelVersion, Resolution, Source};
fn main() {
    let profile = load(&Source::Builtin).unwrap().profile.unwrap();
    for arch in [Arch::X86_64, Arch::Aarch64, Arch::S390x, Arch::Riscv64] {
        let host = Host {
            arch,
            caps: CapSet::docker_default(),
            kernel: KernelVersion {
                kernel: 6,
                major: 8,
            },
        };
        let Resolution::Filter(r) = resolve(&profile, &host) else {
            unreachable!()
        };
        let p = build(&r, Options::default()).unwrap();
        let mut audits: Vec<u32> = p.arches.iter().map(|a| a.arch.audit_arch()).collect();
        audits.dedup();
        for au in audits {
            let iv = p.intervals(au);
            let end = |i: usize| iv.get(i + 1).map_or(1u64 << 32, |n| n.0 as u64);
            let iso = (0..iv.len())
                .filter(|&i| end(i) == iv[i].0 as u64 + 1)
                .count();
            let trees = iv.iter().filter(|x| matches!(x.1, Leaf::Tree(..))).count();
            let iso_mid = (1..iv.len().saturating_sub(1))
                .filter(|&i| end(i) == iv[i].0 as u64 + 1 && iv[i - 1].1 == iv[i + 1].1)
                .count();
            println!("{arch:?} audit {au:#x}: {} intervals, {iso} single numbers ({iso_mid} between equal neighbours), {trees} arg trees", iv.len());
        }
    }
}
