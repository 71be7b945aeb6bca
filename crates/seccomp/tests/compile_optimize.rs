//! The optimised program decides exactly what the policy (and so the reference program)
//! decides: Docker's default on several hosts, and seeded random profiles, on every sampled
//! (arch, nr, arguments). Also: every argument-free ALLOW is cacheable by the kernel.

mod support;

use confine_abi::{Arch, CapSet, SyscallTable};
use confine_bpf::action::Ret;
use confine_bpf::{cache, Emulator, SeccompData};
use confine_seccomp::{build, optimize, policy::Leaf, reference, Options};
use confine_test_support::host::docker;
use confine_test_support::probe::neighbours;
use support::{random_profile, Rng, NAMES};

fn args_for(r: &confine_profile::Resolved) -> Vec<[u64; 6]> {
    let mut consts = vec![0u64, 1, 0xffff_ffff, 0x1_0000_0000, u64::MAX];
    for rule in &r.rules {
        for a in &rule.args {
            for v in [a.value, a.value_two] {
                consts.extend(neighbours(v));
            }
        }
    }
    consts.sort();
    consts.dedup();
    let mut out = vec![[0u64; 6]];
    for &c in &consts {
        for i in 0..4 {
            let mut v = [0u64; 6];
            v[i] = c;
            out.push(v);
        }
    }
    out
}

#[test]
fn docker_default_optimised_equals_policy_and_is_cacheable() {
    for (native, caps) in [
        (Arch::X86_64, CapSet::docker_default()),
        (Arch::X86_64, CapSet::all_known()),
        (Arch::Aarch64, CapSet::docker_default()),
        (Arch::S390x, CapSet::docker_default()),
        (Arch::Riscv64, CapSet::docker_default()),
    ] {
        let r = docker(native, caps);
        for stub in [true, false] {
            let p = build(
                &r,
                Options {
                    enosys_stub: stub,
                    ..Options::default()
                },
            )
            .unwrap();
            let prog = optimize::generate(&p).unwrap();
            let emu = Emulator::new(&prog).unwrap();
            let vecs = args_for(&r);
            let mut arches: Vec<Arch> = p.arches.iter().map(|a| a.arch).collect();
            arches.push(Arch::Mips);
            let mut max_exec = 0;
            // executed instructions of argument-free decisions, per architecture test position
            let mut audits: Vec<u32> = Vec::new();
            for a in &p.arches {
                if !audits.contains(&a.arch.audit_arch()) {
                    audits.push(a.arch.audit_arch());
                }
            }
            let mut arg_free_max = vec![0usize; audits.len()];
            for arch in arches {
                let base = if arch == Arch::X32 { 0x4000_0000 } else { 0 };
                let mut nrs: Vec<u32> = (base..base + 600).collect();
                nrs.extend([
                    u32::MAX,
                    0x4000_0000,
                    0x3fff_ffff,
                    0x8000_0000,
                    0x9fff_ffff,
                    0xbfff_ffff,
                    0xc000_0000,
                    0xffff_fffe,
                    0x0f_0005,
                ]);
                for nr in nrs {
                    for args in &vecs {
                        let d = SeccompData {
                            nr,
                            arch: arch.audit_arch(),
                            args: *args,
                            ..Default::default()
                        };
                        let run = emu.run(&d, arch.is_little_endian());
                        assert_eq!(
                            run.ret,
                            u32::from(p.eval(arch.audit_arch(), nr, args)),
                            "{native} {arch} nr {nr} {args:x?}"
                        );
                        max_exec = max_exec.max(run.executed);
                        if let (Leaf::Ret(_), Some(pos)) = (
                            p.leaf(arch.audit_arch(), nr),
                            audits.iter().position(|&a| a == arch.audit_arch()),
                        ) {
                            arg_free_max[pos] = arg_free_max[pos].max(run.executed);
                        }
                    }
                    // the kernel caches every argument-free ALLOW of the native and compat ABI
                    if p.leaf(arch.audit_arch(), nr) == Leaf::Ret(Ret::Allow) && nr < 0x4000_0000 {
                        assert!(
                            cache::is_const_allow(&prog, arch.audit_arch(), nr),
                            "{arch} {nr} not cacheable"
                        );
                    }
                }
            }
            // never deeper than a balanced tree over the intervals: `ld [4]`, one test per
            // architecture before this one and its own, `ld [0]`, the tree, `ret`
            for (pos, &audit) in audits.iter().enumerate() {
                let n = p.intervals(audit).len();
                let depth = (usize::BITS - (n - 1).leading_zeros()) as usize;
                assert!(
                    arg_free_max[pos] <= 3 + pos + depth + 1,
                    "{native} audit {audit:#x}: {} executed, {n} intervals",
                    arg_free_max[pos]
                );
            }
            // the goal for Docker's default on amd64: at most 12 on x86_64, x32 and i386
            if native == Arch::X86_64 {
                assert!(arg_free_max.iter().all(|&m| m <= 12), "{arg_free_max:?}");
            }
            let reference = reference::generate(&p).unwrap();
            eprintln!(
                "{native} caps {} stub {stub}: optimised {} instructions (reference {}), max executed {max_exec}, argument-free {arg_free_max:?}",
                caps.len(),
                prog.len(),
                reference.len()
            );
        }
    }
}

#[test]
fn random_profiles_optimised_equals_policy() {
    let n: usize = std::env::var("CONFINE_OPT_PROFILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let mut rng = Rng(0x5eed);
    let mut verdicts = 0usize;
    for _ in 0..n {
        let r = random_profile(&mut rng);
        let Ok(p) = build(&r, Options::default()) else {
            continue;
        };
        let prog = optimize::generate(&p).unwrap();
        let emu = Emulator::new(&prog).unwrap();
        let vecs = args_for(&r);
        let mut arches: Vec<Arch> = p.arches.iter().map(|a| a.arch).collect();
        arches.push(Arch::Riscv64);
        for arch in arches {
            // above the x32 split, runc's stub tests the x32 bit: 0x8000_0000.. count as native
            let mut nrs = vec![0u32, 1, u32::MAX, 0x4000_0000, 0x3fff_ffff, 999];
            nrs.extend([0x8000_0000, 0xbfff_ffff, 0xc000_0000, 0xc000_0001]);
            if let Ok(t) = SyscallTable::for_arch(arch) {
                nrs.extend(NAMES.iter().filter_map(|n| t.number(n)));
                nrs.extend(NAMES.iter().filter_map(|n| t.number(n)).map(|x| x + 1));
                // a peeled single number's neighbours
                nrs.extend(NAMES.iter().filter_map(|n| t.number(n)?.checked_sub(1)));
            }
            for nr in nrs {
                for args in &vecs {
                    let d = SeccompData {
                        nr,
                        arch: arch.audit_arch(),
                        args: *args,
                        ..Default::default()
                    };
                    assert_eq!(
                        emu.run(&d, arch.is_little_endian()).ret,
                        u32::from(p.eval(arch.audit_arch(), nr, args)),
                        "{arch} nr {nr} {args:x?}\n{r:#?}"
                    );
                    verdicts += 1;
                }
            }
        }
    }
    eprintln!("{n} random profiles, {verdicts} verdicts: optimised == policy");
}

/// `Policy::intervals` against `Policy::leaf`: every interval's first and last number and
/// the numbers beside them decide as the interval says, neighbours differ, and the intervals
/// start at 0 — for Docker's default and for random profiles, with and without the stub.
#[test]
fn intervals_are_the_maximal_runs_of_leaf() {
    let check = |p: &confine_seccomp::Policy, what: &str| {
        let mut audits: Vec<u32> = p.arches.iter().map(|a| a.arch.audit_arch()).collect();
        audits.push(Arch::Riscv64.audit_arch());
        audits.dedup();
        for audit in audits {
            let ivs = p.intervals(audit);
            assert_eq!(ivs[0].0, 0, "{what} {audit:#x}");
            for (i, &(lo, leaf)) in ivs.iter().enumerate() {
                let hi = ivs.get(i + 1).map_or(u32::MAX, |n| n.0 - 1);
                assert!(lo <= hi, "{what} {audit:#x}: {ivs:?}");
                for nr in [lo, hi, lo + (hi - lo) / 2] {
                    assert_eq!(p.leaf(audit, nr), leaf, "{what} {audit:#x} nr {nr}");
                }
                if let Some(&(_, next)) = ivs.get(i + 1) {
                    assert_ne!(leaf, next, "{what} {audit:#x}: not maximal at {lo}");
                }
            }
        }
    };
    for native in [Arch::X86_64, Arch::Aarch64, Arch::S390x, Arch::Riscv64] {
        let r = docker(native, CapSet::docker_default());
        for stub in [true, false] {
            let p = build(
                &r,
                Options {
                    enosys_stub: stub,
                    ..Options::default()
                },
            )
            .unwrap();
            check(&p, &format!("docker {native} stub {stub}"));
        }
    }
    let mut rng = Rng(0x1a7e);
    for k in 0..2_000 {
        let r = random_profile(&mut rng);
        if let Ok(p) = build(&r, Options::default()) {
            check(&p, &format!("random profile {k}"));
        }
    }
}
