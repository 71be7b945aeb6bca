//! The socket guard ([`confine_seccomp::sockets`]) in the emulator, in front of Docker's
//! default (compiled by confine), of seeded random profiles and of no program at all:
//!
//! * every listed pair fails with `EACCES` on every ABI of x86_64 (x86_64, x32, i386), whatever
//!   the flags in `type`, the protocol, and the high words of the arguments;
//! * socketcall(SYS_SOCKET) fails with `EACCES` on i386; socketcall(SYS_SOCKETPAIR) only when a
//!   rule names a family that can make pairs;
//! * everything else — other pairs, other syscalls, other ABIs — gets exactly the original
//!   program's verdict, over a sweep and a property test against an independent model;
//! * big-endian ABIs (s390x) read the right word; many rules still assemble (trampolines);
//!   too many are refused clearly.

mod support;

use confine_abi::{Arch, CapSet, SyscallTable, X32_SYSCALL_BIT};
use confine_bpf::insn::{class, op};
use confine_bpf::{action, cache, Emulator, Insn, SeccompData};
use confine_seccomp::sockets::{DENY, SOCK_TYPE_MASK};
use confine_seccomp::{build, guard, optimize, with_guard, GuardError, Options, SocketRule};
use confine_test_support::host::docker;
use proptest::prelude::*;
use std::sync::OnceLock;
use support::{random_profile, Rng};

// include/linux/socket.h, include/linux/net.h
const AF_UNIX: u32 = 1;
const AF_INET: u32 = 2;
const AF_INET6: u32 = 10;
const AF_PACKET: u32 = 17;
const SOCK_STREAM: u32 = 1;
const SOCK_DGRAM: u32 = 2;
const SOCK_RAW: u32 = 3;
const SOCK_NONBLOCK: u32 = 0x800;
const SOCK_CLOEXEC: u32 = 0x80000;

// The model's own numbers, written from the kernel's tables (not from confine's):
// arch/x86/entry/syscalls/syscall_64.tbl (socket 41, socketpair 53, x32 the same plus
// __X32_SYSCALL_BIT), syscall_32.tbl (socketcall 102, socket 359, socketpair 360),
// include/uapi/linux/audit.h (AUDIT_ARCH_X86_64, AUDIT_ARCH_I386), net.h (SYS_SOCKET 1,
// SYS_SOCKETPAIR 8).
const AUDIT_X86_64: u32 = 0xc000_003e;
const AUDIT_I386: u32 = 0x4000_0003;
const X86_64_SOCKET: [u32; 4] = [41, 53, 41 | 0x4000_0000, 53 | 0x4000_0000];
const I386_SOCKET: [u32; 2] = [359, 360];
const I386_SOCKETCALL: u32 = 102;
// io_uring_setup: 425 in both tables (x32 with the bit), refused outright with any rule
const X86_64_IO_URING: [u32; 2] = [425, 425 | 0x4000_0000];
const I386_IO_URING: u32 = 425;

/// What `allowUdp: false` and `allowRaw: false` ask for (crates/policy, `SocketDeny`).
fn policy_rules() -> Vec<SocketRule> {
    [
        (AF_INET, SOCK_DGRAM),
        (AF_INET6, SOCK_DGRAM),
        (AF_INET, SOCK_RAW),
        (AF_INET6, SOCK_RAW),
        (AF_PACKET, SOCK_RAW),
        (AF_PACKET, SOCK_DGRAM),
    ]
    .map(|(d, t)| SocketRule::new(d, t))
    .to_vec()
}

fn docker_program(arch: Arch) -> Vec<Insn> {
    let r = docker(arch, CapSet::docker_default());
    optimize::generate(&build(&r, Options::default()).unwrap()).unwrap()
}

fn allow() -> Vec<Insn> {
    vec![Insn::stmt(class::RET | op::K, action::ALLOW)]
}

fn run(prog: &[Insn], arch: u32, nr: u32, args: [u64; 6], le: bool) -> u32 {
    Emulator::new(prog)
        .expect("valid program")
        .run(
            &SeccompData {
                nr,
                arch,
                instruction_pointer: 0x7fff_0000_1234,
                args,
            },
            le,
        )
        .ret
}

/// The independent model: does the guard for `rules` on x86_64 deny this call?
fn model_denies(rules: &[SocketRule], arch: u32, nr: u32, args: [u64; 6]) -> bool {
    let (a0, a1) = (args[0] as u32, args[1] as u32);
    let listed = rules
        .iter()
        .any(|r| r.domain == a0 && r.sock_type == a1 & 0xf);
    let pairs = rules
        .iter()
        .any(|r| ![AF_INET, AF_INET6, AF_PACKET].contains(&r.domain));
    if rules.is_empty() {
        return false;
    }
    match arch {
        AUDIT_X86_64 if X86_64_IO_URING.contains(&nr) => true,
        AUDIT_I386 if nr == I386_IO_URING => true,
        AUDIT_X86_64 => X86_64_SOCKET.contains(&nr) && listed,
        AUDIT_I386 if I386_SOCKET.contains(&nr) => listed,
        AUDIT_I386 if nr == I386_SOCKETCALL => a0 == 1 || (a0 == 8 && pairs),
        _ => false,
    }
}

/// The socket and socketpair numbers of x86_64's ABIs by audit value, from confine's tables.
fn socket_numbers() -> Vec<(u32, u32)> {
    let mut v = Vec::new();
    for abi in Arch::X86_64.abis() {
        let t = SyscallTable::for_arch(*abi).unwrap();
        for n in ["socket", "socketpair"] {
            v.push((abi.audit_arch(), t.number(n).unwrap()));
        }
    }
    v
}

#[test]
fn the_tables_agree_with_the_model() {
    let mut want: Vec<(u32, u32)> = X86_64_SOCKET
        .iter()
        .map(|&n| (AUDIT_X86_64, n))
        .chain(I386_SOCKET.iter().map(|&n| (AUDIT_I386, n)))
        .collect();
    let mut got = socket_numbers();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    assert!(got.iter().any(|&(_, n)| n & X32_SYSCALL_BIT != 0));
}

#[test]
fn every_listed_pair_is_denied_whatever_the_flags_protocol_and_high_words() {
    let rules = policy_rules();
    let highs = [0u64, 0xdead_beef_0000_0000, 0xffff_ffff_0000_0000, 1 << 32];
    for base in [None, Some(docker_program(Arch::X86_64))] {
        let prog = with_guard(Arch::X86_64, &rules, base.as_deref()).unwrap();
        for &(audit, nr) in &socket_numbers() {
            for r in &rules {
                for flags in [0, SOCK_NONBLOCK, SOCK_CLOEXEC, SOCK_NONBLOCK | SOCK_CLOEXEC] {
                    for &h0 in &highs {
                        for &h1 in &highs {
                            for proto in [0u64, 17, 0xffff_ffff] {
                                let args = [
                                    h0 | u64::from(r.domain),
                                    h1 | u64::from(r.sock_type | flags),
                                    proto,
                                    0,
                                    0,
                                    0,
                                ];
                                assert_eq!(
                                    run(&prog, audit, nr, args, true),
                                    DENY,
                                    "arch {audit:#x} nr {nr:#x} args {args:x?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn other_pairs_get_the_original_verdict() {
    let rules = policy_rules();
    let docker = docker_program(Arch::X86_64);
    for base in [allow(), docker] {
        let prog = with_guard(Arch::X86_64, &rules, Some(&base)).unwrap();
        let mut seen_allow = 0;
        for &(audit, nr) in &socket_numbers() {
            for domain in (0..=46).chain([0xffff_ffff, 0x8000_0002]) {
                for t in 0..=SOCK_TYPE_MASK {
                    for flags in [0, SOCK_NONBLOCK | SOCK_CLOEXEC, 0x4000_0000] {
                        let args = [u64::from(domain), u64::from(t | flags), 0, 0, 0, 0];
                        let want = if rules.contains(&SocketRule::new(domain, t)) {
                            DENY
                        } else {
                            run(&base, audit, nr, args, true)
                        };
                        seen_allow += usize::from(want == action::ALLOW);
                        assert_eq!(
                            run(&prog, audit, nr, args, true),
                            want,
                            "arch {audit:#x} nr {nr:#x} args {args:x?}"
                        );
                    }
                }
            }
        }
        assert!(seen_allow > 0);
    }
    // the two that must keep working under allowUdp/allowRaw false
    let prog = with_guard(Arch::X86_64, &rules, None).unwrap();
    for (d, t) in [
        (AF_INET, SOCK_STREAM),
        (AF_UNIX, SOCK_DGRAM),
        (AF_INET6, SOCK_STREAM),
    ] {
        let args = [u64::from(d), u64::from(t), 0, 0, 0, 0];
        assert_eq!(run(&prog, AUDIT_X86_64, 41, args, true), action::ALLOW);
    }
}

#[test]
fn every_other_syscall_gets_the_original_verdict_on_every_abi() {
    let rules = policy_rules();
    let docker = docker_program(Arch::X86_64);
    let prog = with_guard(Arch::X86_64, &rules, Some(&docker)).unwrap();
    let vectors: Vec<[u64; 6]> = [0u64, 1, 2, 3, 10, 17, 0xffff_ffff, 1 << 32, u64::MAX]
        .iter()
        .flat_map(|&v| [[v, 0, 0, 0, 0, 0], [v, v, 0, 0, 0, 0], [0, v, v, 0, 0, 0]])
        .collect();
    // every audit value confine knows, plus garbage: unknown ones go to the original program
    let mut audits: Vec<u32> = Arch::ALL.iter().map(|a| a.audit_arch()).collect();
    audits.extend([0, 0xffff_ffff]);
    audits.dedup();
    let mut compared = 0;
    for &audit in &audits {
        for nr in (0..=600).chain(X32_SYSCALL_BIT..=X32_SYSCALL_BIT + 600) {
            for &args in &vectors {
                let want = if model_denies(&rules, audit, nr, args) {
                    DENY
                } else {
                    run(&docker, audit, nr, args, true)
                };
                assert_eq!(
                    run(&prog, audit, nr, args, true),
                    want,
                    "arch {audit:#x} nr {nr:#x} args {args:x?}"
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 100_000);
}

#[test]
fn i386_socketcall_fails_closed() {
    let docker = docker_program(Arch::X86_64);
    let udp = [SocketRule::new(AF_INET, SOCK_DGRAM)];
    let prog = with_guard(Arch::X86_64, &udp, Some(&docker)).unwrap();
    // SYS_SOCKET: denied whatever the pointer, even for a pair no rule lists
    for ptr in [0u64, 0x1000, 0xffff_f000] {
        let args = [1, ptr, 0, 0, 0, 0];
        assert_eq!(run(&prog, AUDIT_I386, I386_SOCKETCALL, args, true), DENY);
    }
    // the other calls (SYS_SOCKETPAIR included: AF_INET cannot make pairs) are Docker's
    for call in 2..=20 {
        let args = [call, 0x1000, 0, 0, 0, 0];
        let want = run(&docker, AUDIT_I386, I386_SOCKETCALL, args, true);
        assert_ne!(want, DENY);
        assert_eq!(run(&prog, AUDIT_I386, I386_SOCKETCALL, args, true), want);
    }
    // a rule on a family that can make pairs refuses socketcall(SYS_SOCKETPAIR) too, and
    // direct socketpair(2) of that kind
    let unix = [SocketRule::new(AF_UNIX, SOCK_DGRAM)];
    let prog = with_guard(Arch::X86_64, &unix, Some(&docker)).unwrap();
    assert_eq!(
        run(
            &prog,
            AUDIT_I386,
            I386_SOCKETCALL,
            [8, 0x1000, 0, 0, 0, 0],
            true
        ),
        DENY
    );
    let pair = [
        u64::from(AF_UNIX),
        u64::from(SOCK_DGRAM | SOCK_CLOEXEC),
        0,
        0,
        0,
        0,
    ];
    assert_eq!(run(&prog, AUDIT_X86_64, 53, pair, true), DENY);
    assert_eq!(run(&prog, AUDIT_I386, 360, pair, true), DENY);
    let stream = [u64::from(AF_UNIX), u64::from(SOCK_STREAM), 0, 0, 0, 0];
    assert_eq!(run(&prog, AUDIT_X86_64, 53, stream, true), action::ALLOW);
    // the i386 direct call
    let args = [
        u64::from(AF_INET),
        u64::from(SOCK_DGRAM | SOCK_NONBLOCK),
        0,
        0,
        0,
        0,
    ];
    let prog = with_guard(Arch::X86_64, &udp, Some(&docker)).unwrap();
    assert_eq!(run(&prog, AUDIT_I386, 359, args, true), DENY);
}

#[test]
fn big_endian_abis_read_the_low_word() {
    // s390x: big-endian, with s390 as companion; both have socketcall
    let rules = policy_rules();
    let docker = docker_program(Arch::S390x);
    let prog = with_guard(Arch::S390x, &rules, Some(&docker)).unwrap();
    for abi in Arch::S390x.abis() {
        let t = SyscallTable::for_arch(*abi).unwrap();
        let (socket, socketcall) = (t.number("socket").unwrap(), t.number("socketcall").unwrap());
        let audit = abi.audit_arch();
        for high in [0u64, 0xdead_beef_0000_0000] {
            let udp = [high | 2, high | 2, 0, 0, 0, 0];
            assert_eq!(run(&prog, audit, socket, udp, false), DENY, "{abi}");
            // the same values in the high words only are other calls
            let swapped = [2 << 32, 2 << 32, 0, 0, 0, 0];
            assert_eq!(
                run(&prog, audit, socket, swapped, false),
                run(&docker, audit, socket, swapped, false),
                "{abi}"
            );
        }
        assert_eq!(
            run(&prog, audit, socketcall, [1, 0, 0, 0, 0, 0], false),
            DENY
        );
    }
}

#[test]
fn many_rules_assemble_with_trampolines_and_too_many_are_refused() {
    // 16 domains × 16 types: jumps to the guard's end are far beyond 255 instructions, so
    // the assembler routes them through `ja` trampolines
    let rules: Vec<SocketRule> = (0..16)
        .flat_map(|d| (0..16).map(move |t| SocketRule::new(d, t)))
        .collect();
    let g = guard(Arch::X86_64, &rules).unwrap();
    assert!(g.len() > 600, "{}", g.len());
    assert!(g.iter().any(|i| i.code == class::JMP | op::JA));
    let docker = docker_program(Arch::X86_64);
    let prog = with_guard(Arch::X86_64, &rules, Some(&docker)).unwrap();
    for d in 0..=17u64 {
        for t in 0..16 {
            let args = [d, t | u64::from(SOCK_CLOEXEC), 0, 0, 0, 0];
            for (audit, nr) in [(AUDIT_X86_64, 41), (AUDIT_I386, 359)] {
                let want = if d < 16 {
                    DENY
                } else {
                    run(&docker, audit, nr, args, true)
                };
                assert_eq!(run(&prog, audit, nr, args, true), want, "{d} {t}");
            }
        }
    }
    for nr in [0, 1, 59, 231, 41] {
        let args = [16, 1, 0, 0, 0, 0];
        assert_eq!(
            run(&prog, AUDIT_X86_64, nr, args, true),
            run(&docker, AUDIT_X86_64, nr, args, true)
        );
    }
    let rules: Vec<SocketRule> = (0..256)
        .flat_map(|d| (0..16).map(move |t| SocketRule::new(d, t)))
        .collect();
    let e = with_guard(Arch::X86_64, &rules, Some(&docker)).unwrap_err();
    assert!(matches!(e, GuardError::TooLong { .. }), "{e}");
}

#[test]
fn architectures_without_a_table_are_refused() {
    let e = guard(Arch::Sh, &policy_rules()).unwrap_err();
    assert!(matches!(e, GuardError::Arch { .. }), "{e}");
}

/// A sample of calls that hits the socket numbers often.
fn call() -> impl Strategy<Value = (u32, u32, [u64; 6])> {
    let arch = prop_oneof![
        Just(AUDIT_X86_64),
        Just(AUDIT_I386),
        Just(Arch::Aarch64.audit_arch()),
        any::<u32>(),
    ];
    let nr = prop_oneof![
        prop::sample::select(vec![41u32, 53, 41 | X32_SYSCALL_BIT, 53 | X32_SYSCALL_BIT]),
        prop::sample::select(vec![359u32, 360, 102]),
        0u32..600,
        any::<u32>(),
    ];
    let word = prop_oneof![
        prop::sample::select(vec![0u64, 1, 2, 3, 5, 8, 10, 17]),
        (
            0u64..32,
            prop::sample::select(vec![0u64, 0x800, 0x80000, 0x80800])
        )
            .prop_map(|(a, b)| a | b),
        any::<u64>(),
    ];
    let high = prop::sample::select(vec![0u64, 0xffff_ffff_0000_0000, 0x1234_5678_0000_0000]);
    let arg = (word, high).prop_map(|(w, h)| w | h);
    (
        arch,
        nr,
        [
            arg.clone(),
            arg.clone(),
            arg.clone(),
            arg.clone(),
            arg.clone(),
            arg,
        ],
    )
}

/// Docker's default and seven seeded random profiles (a user's), compiled once.
fn bases() -> &'static [Vec<Insn>] {
    static BASES: OnceLock<Vec<Vec<Insn>>> = OnceLock::new();
    BASES.get_or_init(|| {
        let mut v = vec![docker_program(Arch::X86_64)];
        let mut rng = Rng(0x50c7);
        while v.len() < 8 {
            if let Ok(p) = build(&random_profile(&mut rng), Options::default()) {
                v.push(optimize::generate(&p).unwrap());
            }
        }
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn guarded_equals_original_unless_a_denied_socket_call(
        (arch, nr, args) in call(),
        seed in 0u64..8,
        udp_only in any::<bool>(),
    ) {
        let rules = if udp_only {
            policy_rules()[..2].to_vec()
        } else {
            let mut r = policy_rules();
            r.push(SocketRule::new(AF_UNIX, SOCK_RAW));
            r
        };
        let base = &bases()[seed as usize];
        let prog = with_guard(Arch::X86_64, &rules, Some(base)).unwrap();
        let want = if model_denies(&rules, arch, nr, args) {
            DENY
        } else {
            run(base, arch, nr, args, true)
        };
        prop_assert_eq!(run(&prog, arch, nr, args, true), want);
    }
}

#[test]
fn mips_abis_compare_with_mips_socket_types() {
    // the rule says generic SOCK_DGRAM (2); MIPS calls it 1, and its 2 is SOCK_STREAM
    let udp = [SocketRule::new(AF_INET, SOCK_DGRAM)];
    for native in [Arch::Mips64, Arch::Mipsel64, Arch::Mips] {
        let prog = with_guard(native, &udp, None).unwrap();
        for abi in native.abis() {
            let le = abi.is_little_endian();
            let socket = SyscallTable::for_arch(*abi)
                .unwrap()
                .number("socket")
                .unwrap();
            let call = |t: u32| {
                let args = [u64::from(AF_INET), u64::from(t), 0, 0, 0, 0];
                run(&prog, abi.audit_arch(), socket, args, le)
            };
            assert_eq!(call(1), DENY, "{abi}");
            assert_eq!(call(1 | 0x80 | 0x80000), DENY, "{abi}"); // MIPS's SOCK_NONBLOCK is 0x80
            assert_eq!(call(2), action::ALLOW, "{abi}");
        }
    }
}

#[test]
fn the_kernel_action_cache_is_kept_for_every_other_syscall() {
    // the kernel caches "always ALLOW" per (arch, nr) when the filter's answer does not
    // depend on the arguments (kernel/seccomp.c, seccomp_cache_prepare); the guard reads
    // arguments only for the socket numbers, so everything else stays cacheable
    let docker = docker_program(Arch::X86_64);
    let prog = with_guard(Arch::X86_64, &policy_rules(), Some(&docker)).unwrap();
    let sockets: Vec<(u32, u32)> = socket_numbers()
        .into_iter()
        .chain([(AUDIT_I386, I386_SOCKETCALL)])
        .collect();
    let mut kept = 0;
    for audit in [AUDIT_X86_64, AUDIT_I386] {
        for nr in (0..=600).chain(X32_SYSCALL_BIT..=X32_SYSCALL_BIT + 600) {
            let before = cache::is_const_allow(&docker, audit, nr);
            let after = cache::is_const_allow(&prog, audit, nr);
            if sockets.contains(&(audit, nr)) {
                assert!(!after, "{audit:#x} {nr:#x}");
            } else {
                assert_eq!(after, before, "{audit:#x} {nr:#x}");
                kept += usize::from(after);
            }
        }
    }
    assert!(kept > 300, "{kept}");
}
