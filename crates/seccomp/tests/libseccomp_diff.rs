//! Differential test against the real libseccomp (Debian 12's 2.5.4 through python3-seccomp,
//! the library Debian's runc links): for Docker's default (both fixtures) and Podman's profile,
//! on several hosts and capability sets, every syscall number from 0 to the highest + 64, x32
//! samples, 0xffffffff and a foreign architecture, on boundary argument vectors, the verdict of
//! the program runc would install (its stub + libseccomp's program) must equal confine's.
//!
//! libseccomp 2.5.4 does not know syscalls newer than Linux 6.5: runc skips them and its stub
//! sits lower. Those syscalls are compared with confine's tables removed from the profile (so
//! both sides see the same rules); the verdicts confine gives them with its own tables are
//! counted and reported separately, never as agreement.

mod support;

use confine_abi::{Arch, CapSet, Capability, SyscallTable};
use confine_bpf::{Emulator, SeccompData};
use confine_profile::{load, resolve, Resolution, Resolved, Source};
use confine_seccomp::{build, reference, Options};
use confine_test_support::fixtures::seccomp as fixture;
use confine_test_support::host::host;
use std::path::Path;
use support::{libseccomp, vectors, without};

struct Tally {
    agree: usize,
    newer: usize,
}

fn compare(name: &str, r: &Resolved, dir: &Path, tally: &mut Tally) {
    let opt = support::runc_optimize(r);
    let lib = libseccomp(r, dir, opt);
    assert_eq!(lib.conflict, None, "{name}: libseccomp refused a rule");
    let same_rules = without(r, &lib.unknown);
    for stub in [false, true] {
        let policy = build(
            &same_rules,
            Options {
                enosys_stub: stub,
                ..Options::default()
            },
        )
        .unwrap();
        let mut runc_prog = reference::stub_prefix(&policy).unwrap();
        runc_prog.extend(&lib.prog);
        let theirs = Emulator::new(&runc_prog).unwrap();
        let ours_prog = reference::generate(&policy).unwrap();
        let ours = Emulator::new(&ours_prog).unwrap();
        let full = build(
            r,
            Options {
                enosys_stub: stub,
                ..Options::default()
            },
        )
        .unwrap();
        let vecs = vectors(r);
        let mut arches: Vec<Arch> = policy.arches.iter().map(|a| a.arch).collect();
        arches.push(if r.host.arch == Arch::Aarch64 {
            Arch::Riscv64
        } else {
            Arch::Aarch64
        });
        for arch in arches {
            let le = arch.is_little_endian();
            let top = SyscallTable::for_arch(arch)
                .map(|t| {
                    t.entries()
                        .filter(|e| e.0 < 0x0f_0000)
                        .map(|e| e.0)
                        .max()
                        .unwrap_or(0)
                })
                .unwrap_or(500);
            let base = if arch == Arch::X32 {
                0x4000_0000
            } else {
                top / 1000 * 1000
            };
            let mut nrs: Vec<u32> = (base..=top + 64).collect();
            nrs.extend([
                u32::MAX,
                0x4000_0000,
                0x4000_0000 + 600,
                0x3fff_ffff,
                0x0f_0002,
                0x8000_0000,
                0xbfff_ffff,
                0xc000_0000,
            ]);
            for nr in nrs {
                for args in &vecs {
                    let d = SeccompData {
                        nr,
                        arch: arch.audit_arch(),
                        args: *args,
                        ..Default::default()
                    };
                    let want = theirs.run(&d, le).ret;
                    let got = u32::from(policy.eval(arch.audit_arch(), nr, args));
                    assert_eq!(got, want, "{name} stub={stub}: {arch} nr {nr} args {args:x?}: confine {got:#x}, runc+libseccomp {want:#x}");
                    assert_eq!(
                        ours.run(&d, le).ret,
                        got,
                        "{name}: reference program vs policy"
                    );
                    if u32::from(full.eval(arch.audit_arch(), nr, args)) != want {
                        tally.newer += 1;
                    } else {
                        tally.agree += 1;
                    }
                }
            }
        }
    }
    if !lib.unknown.is_empty() {
        eprintln!(
            "{name}: unknown to libseccomp 2.5.4 (confine compiles them as the profile says): {}",
            lib.unknown.join(" ")
        );
    }
}

fn resolved(file: &str, arch: Arch, caps: CapSet) -> Resolved {
    let p = load(&Source::Path(fixture(file))).unwrap().profile.unwrap();
    match resolve(&p, &host(arch, caps)) {
        Resolution::Filter(r) => r,
        Resolution::Unconfined => unreachable!(),
    }
}

#[test]
fn docker_and_podman_profiles_match_runc_and_libseccomp() {
    let dir = tempfile::tempdir().unwrap();
    let mut tally = Tally { agree: 0, newer: 0 };
    let mut admin = CapSet::docker_default();
    admin.insert(Capability::parse("SYS_ADMIN").unwrap());
    for file in [
        "docker-default.json",
        "docker-default-2025-05.json",
        "podman-default.json",
    ] {
        for (arch, caps) in [
            (Arch::X86_64, CapSet::docker_default()),
            (Arch::X86_64, admin),
            (Arch::X86_64, CapSet::all_known()),
            (Arch::Aarch64, CapSet::docker_default()),
            (Arch::S390x, CapSet::docker_default()),
            (Arch::Riscv64, CapSet::docker_default()),
        ] {
            let r = resolved(file, arch, caps);
            compare(
                &format!("{file} {arch} {}", caps.len()),
                &r,
                dir.path(),
                &mut tally,
            );
        }
    }
    eprintln!("verdicts equal to runc+libseccomp: {}; verdicts that differ only because confine knows newer syscalls: {}", tally.agree, tally.newer);
    assert!(tally.agree > 1_000_000);
}
