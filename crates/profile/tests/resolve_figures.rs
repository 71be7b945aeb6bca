//! The resolution figures of Docker's default profile (the project's notes on seccomp profiles,
//! §8), on both fixtures, and the builtin against the fixture.

use confine_abi::{Arch, CapSet, Capability};
use confine_profile::{load, resolve, Action, Host, Resolution, Resolved, Source};
use confine_test_support::fixtures::seccomp as fixture;
use confine_test_support::host::with_kernel as host;

fn profile(name: &str) -> confine_profile::Profile {
    let parsed = load(&Source::Path(fixture(name))).expect("fixture readable");
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    parsed.profile.unwrap()
}

fn resolved(p: &confine_profile::Profile, h: Host) -> Resolved {
    match resolve(p, &h) {
        Resolution::Filter(r) => r,
        Resolution::Unconfined => panic!("unconfined"),
    }
}

fn figures(p: &confine_profile::Profile, h: Host) -> (usize, usize) {
    let r = resolved(p, h);
    (r.rules.len(), r.names_with_action(Action::Allow).len())
}

fn with(caps: &[&str]) -> CapSet {
    let mut c = CapSet::docker_default();
    for n in caps {
        c.insert(Capability::parse(n).unwrap());
    }
    c
}

#[test]
fn docker_default_figures() {
    let p = profile("docker-default.json");
    let d = CapSet::docker_default();
    assert_eq!(figures(&p, host(Arch::X86_64, d, (6, 8))), (15, 370));
    assert_eq!(figures(&p, host(Arch::Aarch64, d, (6, 8))), (14, 374));
    assert_eq!(figures(&p, host(Arch::S390x, d, (6, 8))), (14, 371));
    assert_eq!(figures(&p, host(Arch::Riscv64, d, (6, 8))), (14, 369));
    assert_eq!(
        figures(&p, host(Arch::X86_64, with(&["SYS_ADMIN"]), (6, 8))),
        (14, 395)
    );
    assert_eq!(figures(&p, host(Arch::X86_64, d, (4, 4))), (14, 367));
    let referenced = with(&[
        "DAC_READ_SEARCH",
        "SYS_ADMIN",
        "SYS_BOOT",
        "SYS_CHROOT",
        "SYS_MODULE",
        "SYS_PACCT",
        "SYS_PTRACE",
        "SYS_RAWIO",
        "SYS_TIME",
        "SYS_TTY_CONFIG",
        "SYS_NICE",
        "SYSLOG",
        "BPF",
        "PERFMON",
    ]);
    assert_eq!(referenced.len(), 27);
    assert_eq!(
        figures(&p, host(Arch::X86_64, referenced, (6, 8))),
        (26, 415)
    );
}

#[test]
fn clone3_is_enosys_without_sys_admin() {
    let p = profile("docker-default.json");
    let r = resolved(&p, host(Arch::X86_64, CapSet::docker_default(), (6, 8)));
    let clone3: Vec<_> = r
        .rules
        .iter()
        .filter(|r| r.names.iter().any(|n| n == "clone3"))
        .collect();
    assert_eq!(clone3.len(), 1);
    assert_eq!(
        (clone3[0].action, clone3[0].errno_ret),
        (Action::Errno, Some(38))
    );
    assert_eq!(r.architectures, vec![Arch::X86_64, Arch::X86, Arch::X32]);
}

#[test]
fn older_fixture_resolves_with_two_fewer_rules() {
    let old = profile("docker-default-2025-05.json");
    let new = profile("docker-default.json");
    let d = CapSet::docker_default();
    for (arch, caps) in [
        (Arch::X86_64, d),
        (Arch::Aarch64, d),
        (Arch::X86_64, with(&["SYS_ADMIN"])),
    ] {
        let (ro, no) = figures(&old, host(arch, caps, (6, 8)));
        let (rn, nn) = figures(&new, host(arch, caps, (6, 8)));
        assert_eq!((ro + 2, no), (rn, nn), "{arch}");
    }
    assert_eq!(figures(&old, host(Arch::X86_64, d, (6, 8))), (13, 370));
}

#[test]
fn builtin_resolves_exactly_like_the_fixture() {
    let fixture = profile("docker-default.json");
    let builtin = load(&Source::Builtin).unwrap().profile.unwrap();
    let cap_sets = [
        CapSet::docker_default(),
        CapSet::EMPTY,
        CapSet::all_known(),
        with(&["SYS_ADMIN"]),
        with(&["SYS_PTRACE", "BPF"]),
    ];
    let mut compared = 0;
    for arch in Arch::ALL {
        for caps in cap_sets {
            for k in [(3, 10), (4, 8), (6, 8), (6, 18)] {
                let h = host(arch, caps, k);
                let a = confine_profile::emit::to_json(
                    &resolved(&fixture, h),
                    confine_profile::emit::OutputFormat::Docker,
                );
                let b = confine_profile::emit::to_json(
                    &resolved(&builtin, h),
                    confine_profile::emit::OutputFormat::Docker,
                );
                assert_eq!(a, b, "{arch} {caps} {k:?}");
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 23 * 5 * 4);
}

#[test]
fn unknown_names_on_amd64_are_the_foreign_ones() {
    let p = profile("docker-default.json");
    let r = resolved(&p, host(Arch::X86_64, CapSet::docker_default(), (6, 8)));
    let unknown = r.unknown_names().unwrap();
    // Docker's default names a few syscalls that exist only on other architectures
    assert!(
        unknown.contains(&"riscv_hwprobe".to_string()),
        "{unknown:?}"
    );
    // `recv` and `send` exist on no covered table, but libseccomp routes them through x86's
    // socketcall (call numbers 10 and 9), so they are not skipped
    assert!(!unknown.contains(&"recv".to_string()), "{unknown:?}");
    assert!(!unknown.contains(&"send".to_string()), "{unknown:?}");
    // riscv64 has neither the call nor a multiplexer
    let r64 = resolved(&p, host(Arch::Riscv64, CapSet::docker_default(), (6, 8)));
    assert!(r64.unknown_names().unwrap().contains(&"recv".to_string()));
    assert!(!unknown.contains(&"read".to_string()));
    // an architecture without a table is an error, not a silent skip
    let r = resolved(&p, host(Arch::Parisc, CapSet::docker_default(), (6, 8)));
    let e = r.unknown_names().unwrap_err();
    assert!(e.to_string().contains("not supported"), "{e}");
}
