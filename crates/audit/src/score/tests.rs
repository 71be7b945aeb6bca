//! Unit tests of the rubric on real programs: confine's docker-default compilation, and
//! one-instruction programs that allow or refuse everything.

use super::*;
use confine_abi::Arch;
use confine_bpf::stack::Stack;
use confine_bpf::Insn;
use confine_profile::{Host, Source};
use confine_seccomp::{compile_prepared, prepare, Generator, Options};

const K: KernelVersion = KernelVersion {
    kernel: 6,
    major: 8,
};

fn filter_of(programs: &[Vec<Insn>]) -> Filter {
    let t = Target::new(Stack::new(programs).unwrap(), Arch::X86_64, K, None);
    Filter::judge(&t)
}

fn docker(caps: CapSet) -> Filter {
    let host = Host {
        arch: Arch::X86_64,
        caps,
        kernel: K,
    };
    let p = prepare(&Source::Builtin, &host).unwrap();
    let c = compile_prepared(p, Options::default(), Generator::Optimized).unwrap();
    filter_of(&[c.program])
}

fn ret(k: u32) -> Vec<Insn> {
    vec![Insn {
        code: 0x06,
        jt: 0,
        jf: 0,
        k,
    }]
}

fn subject(seccomp: Seccomp, caps: CapSet) -> Subject {
    Subject {
        seccomp,
        caps: Caps {
            bounding: caps.0,
            permitted: caps.0,
            ambient: 0,
        },
        no_new_privs: false,
        mac: Mac::default(),
        userns: UserNs::Initial,
        uid: 0,
        kernel: K,
    }
}

#[test]
fn rubric_covers_every_group_and_capability_names_parse() {
    for g in GROUPS {
        assert!(rubric_item(g.id).is_some(), "{} has no item", g.id);
    }
    for (id, names) in NAMED_CAPS {
        assert!(rubric_item(id).is_some(), "{id}");
        for n in *names {
            assert!(Capability::parse(n).is_ok(), "{n}");
        }
    }
    let mut ids: Vec<&str> = RUBRIC.iter().map(|i| i.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), RUBRIC.len(), "ids are unique");
    assert!(RUBRIC.iter().all(|i| i.weight > 0));
}

#[test]
fn everything_exposed_is_ten_and_nothing_is_zero() {
    let mut worst = subject(Seccomp::Disabled, CapSet::all_known());
    worst.kernel = KernelVersion {
        kernel: 4,
        major: 4,
    };
    let s = score(&worst);
    assert_eq!(s.total(), 10.0);
    assert!(s.line("ptrace-before-4.8").unwrap().exposure == Some(1.0));
    let contributions: f64 = s.lines.iter().map(|l| s.contribution(l)).sum();
    assert!((contributions - s.exact()).abs() < 1e-9);

    let best = Subject {
        seccomp: Seccomp::Strict,
        caps: Caps::default(),
        no_new_privs: true,
        mac: Mac {
            apparmor: Some(AppArmor {
                label: "docker-default".into(),
                enforce: true,
            }),
            selinux: None,
            landlock: None,
        },
        userns: UserNs::Nested {
            root_on_host: Some(100_000),
        },
        uid: 100_000,
        kernel: K,
    };
    let s = score(&best);
    assert_eq!(s.total(), 0.0);
    // on 6.8 the ptrace item does not apply: left out of the weights
    assert_eq!(s.line("ptrace-before-4.8").unwrap().exposure, None);
    let all: u32 = RUBRIC.iter().map(|i| i.weight).sum();
    assert_eq!(s.weights, all - 4);
}

#[test]
fn docker_default_filter_refuses_the_groups_and_all_caps_opens_them() {
    let d = docker(CapSet::docker_default());
    let s = score(&subject(
        Seccomp::Filter(d.clone()),
        CapSet::docker_default(),
    ));
    for id in [
        "seccomp",
        "default-refuses",
        "user-namespaces",
        "mount",
        "bpf",
    ] {
        assert_eq!(s.line(id).unwrap().exposure, Some(0.0), "{id}");
    }
    // Docker's socket rule compares 64 bits of an int (libseccomp #383)
    assert_eq!(s.line("arg-width-bypass").unwrap().exposure, Some(1.0));
    let allowed = s.line("syscalls-allowed").unwrap().exposure.unwrap();
    assert!(allowed > 0.4 && allowed < 0.9, "{allowed}");
    let all = docker(CapSet::all_known());
    let a = score(&subject(Seccomp::Filter(all), CapSet::all_known()));
    for id in ["mount", "bpf", "kernel-modules", "cap-sys-admin"] {
        assert_eq!(a.line(id).unwrap().exposure, Some(1.0), "{id}");
    }
    let none = score(&subject(Seccomp::Disabled, CapSet::docker_default()));
    assert!(
        none.total() > s.total() + 3.0,
        "{} {}",
        none.total(),
        s.total()
    );
    assert!(a.total() > s.total());
}

#[test]
fn a_filter_allowing_everything_exposes_the_groups() {
    // ret ALLOW: every call of every architecture runs, like no filter for the groups
    let f = filter_of(&[ret(confine_bpf::action::ALLOW)]);
    let s = score(&subject(Seccomp::Filter(f.clone()), CapSet::EMPTY));
    assert_eq!(s.line("seccomp").unwrap().exposure, Some(0.0));
    // nothing is refused on x86_64, so no other ABI can run more than it
    assert_eq!(s.line("abi-bypass").unwrap().exposure, Some(0.0));
    for id in [
        "default-refuses",
        "user-namespaces",
        "namespaces",
        "kexec",
        "io-uring",
    ] {
        assert_eq!(s.line(id).unwrap().exposure, Some(1.0), "{id}");
    }
    assert_eq!(f.allowed, f.total);
    // ret ERRNO(EPERM): nothing runs
    let f = filter_of(&[ret(confine_bpf::action::ERRNO | 1)]);
    assert_eq!(f.allowed, 0);
    let s = score(&subject(Seccomp::Filter(f), CapSet::EMPTY));
    let exposed: Vec<&str> = s
        .lines
        .iter()
        .filter(|l| l.item.section == Section::Seccomp && l.exposure.unwrap_or(0.0) > 0.0)
        .map(|l| l.item.id)
        .collect();
    assert!(exposed.is_empty(), "{exposed:?}");
}

#[test]
fn a_native_refusal_without_an_architecture_check_is_bypassed() {
    // ld nr; jeq 41 (x86_64 socket) → EPERM; allow: i386's socket is 359 and runs
    let prog = vec![
        Insn {
            code: 0x20,
            jt: 0,
            jf: 0,
            k: 0,
        },
        Insn {
            code: 0x15,
            jt: 0,
            jf: 1,
            k: 41,
        },
        ret(confine_bpf::action::ERRNO | 1)[0],
        ret(confine_bpf::action::ALLOW)[0],
    ];
    let s = score(&subject(Seccomp::Filter(filter_of(&[prog])), CapSet::EMPTY));
    let l = s.line("abi-bypass").unwrap();
    assert_eq!(l.exposure, Some(1.0), "{}", l.reason);
}

#[test]
fn capabilities_are_judged_on_the_reachable_set() {
    let sys_admin = CapSet(1 << 21);
    let mut s = subject(Seccomp::Disabled, CapSet::EMPTY);
    // in the bounding set only: reachable without no_new_privs, not with it
    s.caps.bounding = sys_admin.0;
    assert_eq!(score(&s).line("cap-sys-admin").unwrap().exposure, Some(1.0));
    s.no_new_privs = true;
    assert_eq!(score(&s).line("cap-sys-admin").unwrap().exposure, Some(0.0));
    s.caps.ambient = sys_admin.0;
    assert_eq!(score(&s).line("cap-sys-admin").unwrap().exposure, Some(1.0));
    // in a user namespace whose root is not the host's: half
    s.userns = UserNs::Nested {
        root_on_host: Some(1000),
    };
    assert_eq!(score(&s).line("cap-sys-admin").unwrap().exposure, Some(0.5));
    // SETGID alone is half of the shared item, SETUID all of it
    let mut s = subject(Seccomp::Disabled, CapSet::EMPTY);
    s.caps.bounding = 1 << 6;
    assert_eq!(
        score(&s).line("cap-setuid-setgid").unwrap().exposure,
        Some(0.5)
    );
    s.caps.bounding = 1 << 7;
    assert_eq!(
        score(&s).line("cap-setuid-setgid").unwrap().exposure,
        Some(1.0)
    );
    // Docker's 14: 10 of them are "other"
    let d = score(&subject(Seccomp::Disabled, CapSet::docker_default()));
    assert_eq!(d.line("cap-other").unwrap().reason, "10 of 29 (bounding)");
}

#[test]
fn mac_userns_and_root() {
    let mut s = subject(Seccomp::Disabled, CapSet::EMPTY);
    let e = |s: &Subject, id: &str| score(s).line(id).unwrap().exposure.unwrap();
    assert_eq!(e(&s, "mac"), 1.0);
    s.mac.apparmor = Some(AppArmor {
        label: "unconfined".into(),
        enforce: true,
    });
    assert_eq!(e(&s, "mac"), 1.0);
    s.mac.landlock = Some(Landlock { fs: false });
    assert_eq!(e(&s, "mac"), 0.7);
    s.mac.selinux = Some("system_u:system_r:container_t:s0".into());
    assert_eq!(e(&s, "mac"), 0.0);
    s.mac.selinux = Some("unconfined_u:unconfined_r:unconfined_t:s0".into());
    assert_eq!(e(&s, "mac"), 0.7);
    assert_eq!(e(&s, "user-namespace"), 1.0);
    s.userns = UserNs::Nested {
        root_on_host: Some(0),
    };
    assert_eq!(e(&s, "user-namespace"), 0.5);
    s.userns = UserNs::Nested { root_on_host: None };
    assert_eq!(e(&s, "user-namespace"), 0.0);
    assert_eq!(e(&s, "root"), 1.0);
    s.uid = 1000;
    assert_eq!(e(&s, "root"), 0.0);
}
