//! Socket rules as a guard prefix: `socket(domain, type, protocol)` fails with `EACCES` when
//! `domain` and `type & SOCK_TYPE_MASK` match a listed pair, in front of any seccomp program.
//!
//! Landlock cannot refuse UDP or raw sockets, so a file-and-network policy that says
//! `allowUdp: false` / `allowRaw: false` needs seccomp. These rules must stack on whatever
//! program confine installs (Docker's default compiled by confine, a user's profile, or none),
//! so they are a short classic-BPF block placed *in front of* that program: it returns
//! `SECCOMP_RET_ERRNO | EACCES` for a denied call and otherwise jumps to its own end, which is
//! the first instruction of the original program. Classic BPF jumps are forward and relative,
//! and every jump of the guard lands inside it or exactly at its end, so the original
//! program's offsets are untouched. Without an original program the guard is followed by
//! `ret ALLOW`.
//!
//! # What the guard checks
//!
//! * `seccomp_data.arch` first (offset 4). For every ABI the native architecture can call the
//!   kernel with ([`Arch::abis`]: x86_64, i386 and x32 on x86_64), grouped by audit value (x32
//!   shares `AUDIT_ARCH_X86_64` with x86_64, its numbers carry [`confine_abi::X32_SYSCALL_BIT`]),
//!   the numbers of `socket` and `socketpair` come from the ABI's syscall table. An audit value
//!   the guard does not know falls through to the original program, which decides (Docker's
//!   default kills it).
//! * `domain` and `type` are C `int`s: the kernel reads only the low 32-bit word of
//!   `args[0]`/`args[1]` (`__sys_socket(int family, int type, int protocol)`, net/socket.c), so
//!   the guard loads only that word (offset `16 + 8 * i`, `+ 4` on big-endian ABIs), and a high
//!   word set to anything cannot move a call out of a rule. The type is masked with
//!   `SOCK_TYPE_MASK` (0xf, include/linux/net.h), as the kernel does, so `SOCK_NONBLOCK` and
//!   `SOCK_CLOEXEC` do not matter either.
//! * `socketpair(2)` takes the same `(domain, type, protocol)` and gets the same check. Only
//!   families whose `proto_ops.socketpair` is not `sock_no_socketpair` can make a pair at all
//!   (AF_UNIX, and a few others such as AF_TIPC); AF_INET, AF_INET6 and AF_PACKET always fail
//!   with `EOPNOTSUPP` (net/ipv4/af_inet.c, net/ipv6/af_inet6.c, net/packet/af_packet.c), for
//!   which the guard answers `EACCES` first.
//!
//! # socketcall(2)
//!
//! On an ABI whose table has `socketcall` (i386, s390, ppc, …) the socket calls can also go
//! through the multiplexer, whose arguments sit behind a pointer seccomp cannot read. The guard
//! fails closed: with any rule, `socketcall(SYS_SOCKET = 1, …)` fails with `EACCES` whatever it
//! would create. 32-bit programs must therefore call socket(2) directly, which glibc does on
//! Linux 4.3 and later (the direct calls exist on i386 since 4.3). `socketcall(SYS_SOCKETPAIR
//! = 8, …)` is refused the same way only when a rule names a family outside AF_INET, AF_INET6
//! and AF_PACKET ([`NO_SOCKETPAIR`]): those three cannot make a pair (see above), so for the
//! UDP and raw rules of a policy the pair call is left to the original program, and programs
//! that make AF_UNIX pairs through socketcall keep working. The call numbers are
//! include/uapi/linux/net.h's ([`confine_abi::mux::mux_call`]).
//!
//! # Values
//!
//! A rule holds the generic values: `AF_*` from include/linux/socket.h (the same on every
//! architecture) and `SOCK_*` from include/linux/net.h (`enum sock_type`). MIPS numbers the
//! first two types the other way round (`SOCK_DGRAM` 1, `SOCK_STREAM` 2,
//! arch/mips/include/asm/socket.h); the guard compares with MIPS's values on the MIPS ABIs
//! ([`native_sock_type`]), so the same rules mean the same sockets everywhere.
//!
//! # Size
//!
//! The guard is `O(ABIs × (numbers + domains + pairs))` instructions. Jumps farther than 255
//! instructions (classic BPF's 8-bit `jt`/`jf`) go through `ja` trampolines laid out by
//! [`confine_bpf::asm::Asm`]; the guard and the program together must stay within the kernel's
//! 4096 instructions ([`GuardError::TooLong`]).

use std::collections::{BTreeMap, BTreeSet};

use confine_abi::{mux::mux_call, Arch, ArchError, SyscallTable};
use confine_bpf::asm::{Asm, AsmError, Label};
use confine_bpf::insn::{class, op, Insn};
use confine_bpf::validate::MAX_INSNS;
use confine_bpf::{action, validate, Invalid};

/// `SOCK_TYPE_MASK` (include/linux/net.h): the socket type without `SOCK_NONBLOCK` and
/// `SOCK_CLOEXEC`.
pub const SOCK_TYPE_MASK: u32 = 0xf;

/// `EACCES` (include/uapi/asm-generic/errno-base.h, the same on every architecture).
pub const EACCES: u32 = 13;

/// The verdict of a denied call: `SECCOMP_RET_ERRNO | EACCES`.
pub const DENY: u32 = action::ERRNO | EACCES;

/// `AF_INET`, `AF_INET6`, `AF_PACKET` (include/linux/socket.h): the families whose
/// `proto_ops.socketpair` is `sock_no_socketpair`, so that socketpair(2) cannot create them.
pub const NO_SOCKETPAIR: [u32; 3] = [2, 10, 17];

/// Offset of `seccomp_data.nr` (include/uapi/linux/seccomp.h).
const NR: u32 = 0;
/// Offset of `seccomp_data.arch`.
const ARCH: u32 = 4;

/// One denied kind of socket: `socket(domain, type, protocol)` with `type & SOCK_TYPE_MASK ==
/// sock_type` (and, when the rule names one, that `protocol`) fails with `EACCES`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SocketRule {
    /// `AF_*` (include/linux/socket.h).
    pub domain: u32,
    /// `SOCK_*` without flags (below 16), generic numbering (include/linux/net.h).
    pub sock_type: u32,
    /// `IPPROTO_*` (the low word of the third argument, an `int`); None: any protocol.
    pub protocol: Option<u32>,
}

impl SocketRule {
    /// The rule for `(domain, sock_type)`, any protocol.
    pub const fn new(domain: u32, sock_type: u32) -> SocketRule {
        SocketRule {
            domain,
            sock_type,
            protocol: None,
        }
    }

    /// The rule for `(domain, sock_type, protocol)` only.
    pub const fn with_protocol(domain: u32, sock_type: u32, protocol: u32) -> SocketRule {
        SocketRule {
            domain,
            sock_type,
            protocol: Some(protocol),
        }
    }
}

/// The protocols a (domain, type) is denied for: None, any.
type Protocols = Option<BTreeSet<u32>>;

/// Why a guard cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GuardError {
    /// An ABI of the architecture has no syscall table, so its socket numbers are unknown.
    #[error("no socket guard for {arch}: {source}")]
    Arch {
        /// The ABI.
        arch: Arch,
        /// Why its table is missing.
        source: ArchError,
    },
    /// A rule's type has bits outside `SOCK_TYPE_MASK`: it could never match.
    #[error("socket rule (domain {domain}, type {sock_type:#x}): the type must be a SOCK_* value below 16 (flags such as SOCK_NONBLOCK are ignored by the rule)")]
    BadType {
        /// The rule's domain.
        domain: u32,
        /// The rule's type.
        sock_type: u32,
    },
    /// The guard plus the program would exceed the kernel's 4096 instructions.
    #[error("the socket guard ({guard} instructions) and the program ({program}) exceed the kernel's limit of 4096 instructions")]
    TooLong {
        /// The guard's length.
        guard: usize,
        /// The program's length.
        program: usize,
    },
    /// The assembler failed (a generator bug).
    #[error("the socket guard does not assemble: {0:?}")]
    Assemble(AsmError),
    /// The result does not pass the kernel's checks.
    #[error("the guarded program would be refused by the kernel: {0}")]
    Invalid(Invalid),
}

/// This module's result: an error is a [`GuardError`].
pub type Result<T, E = GuardError> = std::result::Result<T, E>;

/// The numbers one audit value answers to.
struct Group {
    /// Little-endian `seccomp_data`.
    little_endian: bool,
    /// An ABI of the group, for its socket type numbering.
    abi: Arch,
    /// `socket` and `socketpair` numbers.
    direct: BTreeSet<u32>,
    /// `socketcall` numbers.
    socketcall: BTreeSet<u32>,
    /// Calls refused outright ([`OUTRIGHT`]).
    outright: BTreeSet<u32>,
}

/// Calls that make sockets where the guard cannot see them, refused outright (`EACCES`) with
/// any rule: `io_uring_setup(2)`, since an io_uring's `IORING_OP_SOCKET` (Linux 5.19) creates a
/// socket in the kernel without a socket(2) call (Docker's default refuses io_uring anyway; a
/// run without a filter, or a profile that allows it, would otherwise get around the rules).
pub const OUTRIGHT: [&str; 1] = ["io_uring_setup"];

/// Whether `abi` numbers socket types as MIPS does.
fn mips_types(abi: Arch) -> bool {
    matches!(
        abi,
        Arch::Mips
            | Arch::Mips64
            | Arch::Mips64N32
            | Arch::Mipsel
            | Arch::Mipsel64
            | Arch::Mipsel64N32
    )
}

/// The value of generic socket type `t` (include/linux/net.h) on `abi`: on MIPS,
/// `SOCK_STREAM` (1) is 2 and `SOCK_DGRAM` (2) is 1 (arch/mips/include/asm/socket.h); every
/// other type, and every type elsewhere, keeps its number.
pub fn native_sock_type(abi: Arch, t: u32) -> u32 {
    match t {
        1 | 2 if mips_types(abi) => 3 - t,
        _ => t,
    }
}

/// The offset of the low 32-bit word of argument `arg` (the word the kernel reads for an
/// `int`).
fn low_word(little_endian: bool, arg: u32) -> u32 {
    16 + 8 * arg + if little_endian { 0 } else { 4 }
}

/// The guard for `rules` on a process of architecture `arch` (all of [`Arch::abis`]). Its
/// jumps land inside it or exactly at its end, so it is a prefix: it is not a program on its
/// own (see [`with_guard`]). Empty for no rules.
pub fn guard(arch: Arch, rules: &[SocketRule]) -> Result<Vec<Insn>> {
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let mut by_domain: BTreeMap<u32, BTreeMap<u32, Protocols>> = BTreeMap::new();
    for r in rules {
        if r.sock_type & !SOCK_TYPE_MASK != 0 {
            return Err(GuardError::BadType {
                domain: r.domain,
                sock_type: r.sock_type,
            });
        }
        let types = by_domain.entry(r.domain).or_default();
        match (types.get_mut(&r.sock_type), r.protocol) {
            (Some(Some(set)), Some(p)) => {
                set.insert(p);
            }
            (Some(_), None) => {
                types.insert(r.sock_type, None);
            }
            (Some(None), Some(_)) => {}
            (None, p) => {
                types.insert(r.sock_type, p.map(|p| BTreeSet::from([p])));
            }
        }
    }
    let pairs_too = by_domain.keys().any(|d| !NO_SOCKETPAIR.contains(d));
    let (sys_socket, sys_socketpair) = (call_number("socket"), call_number("socketpair"));

    // audit value → numbers, in the order of `abis` (native first)
    let mut groups: Vec<(u32, Group)> = Vec::new();
    for &abi in arch.abis() {
        let table =
            SyscallTable::for_arch(abi).map_err(|source| GuardError::Arch { arch: abi, source })?;
        let audit = abi.audit_arch();
        let at = match groups.iter().position(|g| g.0 == audit) {
            Some(i) => i,
            None => {
                groups.push((
                    audit,
                    Group {
                        little_endian: abi.is_little_endian(),
                        abi,
                        direct: BTreeSet::new(),
                        socketcall: BTreeSet::new(),
                        outright: BTreeSet::new(),
                    },
                ));
                groups.len() - 1
            }
        };
        let g = &mut groups[at].1;
        g.direct.extend(
            ["socket", "socketpair"]
                .iter()
                .filter_map(|n| table.number(n)),
        );
        g.socketcall.extend(table.number("socketcall"));
        g.outright
            .extend(OUTRIGHT.iter().filter_map(|n| table.number(n)));
    }

    let mut a = Asm::default();
    let end = a.label();
    let deny = a.label();
    a.ld(ARCH);
    let mut group_at: Vec<Label> = Vec::new();
    for _ in &groups {
        group_at.push(a.label());
    }
    // the arch dispatch: A keeps the arch until a group's code reloads it
    for (i, (audit, _)) in groups.iter().enumerate() {
        let next = a.label();
        let miss = if i + 1 == groups.len() { end } else { next };
        a.jump(op::JEQ, *audit, group_at[i], miss);
        a.bind(next);
    }
    for (i, (_, g)) in groups.iter().enumerate() {
        a.bind(group_at[i]);
        let check = a.label();
        let mux = a.label();
        a.ld(NR);
        let numbers: Vec<(u32, Label)> = g
            .direct
            .iter()
            .map(|&n| (n, check))
            .chain(g.socketcall.iter().map(|&n| (n, mux)))
            .chain(g.outright.iter().map(|&n| (n, deny)))
            .collect();
        for (j, &(n, to)) in numbers.iter().enumerate() {
            let next = a.label();
            let miss = if j + 1 == numbers.len() { end } else { next };
            a.jump(op::JEQ, n, to, miss);
            a.bind(next);
        }
        a.bind(mux);
        if !g.socketcall.is_empty() {
            // socketcall(call, args): fail closed on the calls that create sockets
            a.ld(low_word(g.little_endian, 0));
            if pairs_too {
                let next = a.label();
                a.jump(op::JEQ, sys_socket, deny, next);
                a.bind(next);
                a.jump(op::JEQ, sys_socketpair, deny, end);
            } else {
                a.jump(op::JEQ, sys_socket, deny, end);
            }
        }
        a.bind(check);
        a.ld(low_word(g.little_endian, 0));
        let domains: Vec<_> = by_domain.iter().collect();
        let mut type_at = Vec::new();
        for (j, (&domain, _)) in domains.iter().enumerate() {
            let next = a.label();
            let here = a.label();
            type_at.push(here);
            let miss = if j + 1 == domains.len() { end } else { next };
            a.jump(op::JEQ, domain, here, miss);
            a.bind(next);
        }
        for (j, (_, types)) in domains.iter().enumerate() {
            a.bind(type_at[j]);
            a.ld(low_word(g.little_endian, 1));
            a.insn(Insn::stmt(class::ALU | op::AND | op::K, SOCK_TYPE_MASK));
            let types: BTreeMap<u32, &Protocols> = types
                .iter()
                .map(|(&t, p)| (native_sock_type(g.abi, t), p))
                .collect();
            // a type denied for some protocols only: its protocol is checked after the chain
            let mut by_protocol: Vec<(Label, &BTreeSet<u32>)> = Vec::new();
            for (k, (&t, protocols)) in types.iter().enumerate() {
                let next = a.label();
                let miss = if k + 1 == types.len() { end } else { next };
                match protocols {
                    None => a.jump(op::JEQ, t, deny, miss),
                    Some(set) => {
                        let check = a.label();
                        by_protocol.push((check, set));
                        a.jump(op::JEQ, t, check, miss);
                    }
                }
                a.bind(next);
            }
            for (check, set) in by_protocol {
                a.bind(check);
                a.ld(low_word(g.little_endian, 2));
                for (k, &p) in set.iter().enumerate() {
                    let next = a.label();
                    let miss = if k + 1 == set.len() { end } else { next };
                    a.jump(op::JEQ, p, deny, miss);
                    a.bind(next);
                }
            }
        }
    }
    a.bind(deny);
    a.ret(DENY);
    a.bind(end);
    a.finish().map_err(|e| match e {
        AsmError::TooLong(n) => GuardError::TooLong {
            guard: n,
            program: 0,
        },
        e => GuardError::Assemble(e),
    })
}

/// The socketcall(2) call number of `name` (include/uapi/linux/net.h).
fn call_number(name: &str) -> u32 {
    match mux_call(name) {
        Some(("socketcall", n)) => n as u32,
        _ => unreachable!("{name} is a socketcall(2) call"),
    }
}

/// The guard for `rules` in front of `program` (or of `ret ALLOW` without one), checked with
/// the kernel's rules ([`confine_bpf::validate()`]). With no rules, the program unchanged.
pub fn with_guard(arch: Arch, rules: &[SocketRule], program: Option<&[Insn]>) -> Result<Vec<Insn>> {
    let allow = [Insn::stmt(class::RET | op::K, action::ALLOW)];
    let program = program.unwrap_or(&allow);
    let mut out = guard(arch, rules)?;
    if out.len() + program.len() > MAX_INSNS {
        return Err(GuardError::TooLong {
            guard: out.len(),
            program: program.len(),
        });
    }
    out.extend_from_slice(program);
    validate(&out).map_err(GuardError::Invalid)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use confine_bpf::disasm;

    #[test]
    fn no_rules_no_guard() {
        assert!(guard(Arch::X86_64, &[]).unwrap().is_empty());
        let p = with_guard(Arch::X86_64, &[], None).unwrap();
        assert_eq!(p, vec![Insn::stmt(class::RET | op::K, action::ALLOW)]);
    }

    #[test]
    fn flags_in_a_rule_type_are_refused() {
        let e = guard(Arch::X86_64, &[SocketRule::new(2, 2 | 0x800)]).unwrap_err();
        assert!(matches!(e, GuardError::BadType { .. }), "{e}");
    }

    /// A rule on one protocol (Multipath TCP): only that protocol is refused, read as the
    /// kernel reads an `int` (the low word), and a rule on any protocol of the same type wins.
    #[test]
    fn protocol_rules() {
        use confine_bpf::{Emulator, SeccompData};
        let verdict = |rules: &[SocketRule], args: [u64; 6]| {
            let prog = with_guard(Arch::X86_64, rules, None).unwrap();
            let data = SeccompData {
                nr: 41, // x86_64 socket
                arch: Arch::X86_64.audit_arch(),
                instruction_pointer: 0,
                args,
            };
            Emulator::new(&prog).unwrap().run(&data, true).ret
        };
        let mptcp = [
            SocketRule::with_protocol(2, 1, 262),
            SocketRule::with_protocol(10, 1, 262),
        ];
        assert_eq!(verdict(&mptcp, [2, 1, 262, 0, 0, 0]), DENY);
        assert_eq!(
            verdict(&mptcp, [10, 1 | 0x80000, 262 | 7 << 32, 0, 0, 0]),
            DENY
        );
        assert_eq!(verdict(&mptcp, [2, 1, 6, 0, 0, 0]), action::ALLOW);
        assert_eq!(verdict(&mptcp, [2, 1, 0, 0, 0, 0]), action::ALLOW);
        assert_eq!(verdict(&mptcp, [2, 2, 262, 0, 0, 0]), action::ALLOW);
        let both = [SocketRule::with_protocol(2, 1, 262), SocketRule::new(2, 1)];
        assert_eq!(verdict(&both, [2, 1, 6, 0, 0, 0]), DENY);
    }

    #[test]
    fn udp_guard_on_x86_64_is_pinned() {
        let g = guard(Arch::X86_64, &[SocketRule::new(2, 2)]).unwrap();
        // "out of range 28" is the guard's end: the original program's first instruction
        let want = "
      ld [4]                                 ; arch
      jeq #0xc000003e, L003, L002            ; x86_64/x32
L002: jeq #0x40000003, L015, <out of range 28> ; x86
L003: ld [0]                                 ; nr
      jeq #0x29, L010, L005                  ; x86_64:socket
L005: jeq #0x35, L010, L006                  ; x86_64:socketpair
L006: jeq #0x40000029, L010, L007            ; x32:socket
L007: jeq #0x40000035, L010, L008            ; x32:socketpair
L008: jeq #0x1a9, L027, L009                 ; x86_64:io_uring_setup
L009: jeq #0x400001a9, L027, <out of range 28> ; x32:io_uring_setup
L010: ld [16]                                ; args[0] (low)
      jeq #0x2, L012, <out of range 28>
L012: ld [24]                                ; args[1] (low)
      and #0xf
      jeq #0x2, L027, <out of range 28>
L015: ld [0]                                 ; nr
      jeq #0x167, L022, L017                 ; x86:socket
L017: jeq #0x168, L022, L018                 ; x86:socketpair
L018: jeq #0x66, L020, L019                  ; x86:socketcall
L019: jeq #0x1a9, L027, <out of range 28>    ; x86:io_uring_setup
L020: ld [16]                                ; args[0] (low)
      jeq #0x1, L027, <out of range 28>
L022: ld [16]                                ; args[0] (low)
      jeq #0x2, L024, <out of range 28>
L024: ld [24]                                ; args[1] (low)
      and #0xf
      jeq #0x2, L027, <out of range 28>
L027: ret #0x0005000d                        ; ERRNO(EACCES)
";
        assert_eq!(disasm::disassemble(&g).trim(), want.trim());
        assert_eq!(g.len(), 28);
    }

    #[test]
    fn policy_pairs_on_x86_64() {
        // allowUdp: false and allowRaw: false (crates/policy): 6 pairs over 3 families
        let rules = [(2, 2), (10, 2), (2, 3), (10, 3), (17, 3), (17, 2)]
            .map(|(d, t)| SocketRule::new(d, t));
        let g = guard(Arch::X86_64, &rules).unwrap();
        // 3 (ld arch, 2 audit values) + 23 (x86_64 and x32: ld nr, 4 numbers, 2 io_uring_setup,
        // ld domain, 3 domains, 3 × (ld type, and, 2 types)) + 23 (i386: the same with 3
        // numbers, 1 io_uring_setup, and ld call, jeq SYS_SOCKET for socketcall) + 1 (ret)
        assert_eq!(g.len(), 50, "{}", disasm::disassemble(&g));
    }
}
