//! The socket guard ([`confine_seccomp::sockets`]) against the live kernel: a child (this
//! binary re-executed) installs the guard for `allowUdp: false` + `allowRaw: false` in front of
//! Docker's default compiled by confine, makes real socket calls — x86_64, x32 and i386
//! through `int 0x80`, socketcall included — and reports each raw return value; the parent
//! checks them. A control child installs Docker's default alone and makes the same calls, so
//! every `EACCES` is shown to come from the guard and not from the kernel or the profile.
//!
//! A custom harness (`harness = false`).

use confine_abi::{Arch, CapSet, SyscallTable, X32_SYSCALL_BIT};
use confine_kernel::raw;
use confine_seccomp::{build, optimize, with_guard, Options, SocketRule};
use confine_test_support::host::host;
use std::collections::BTreeMap;
use std::process::Command;

// include/linux/socket.h, include/linux/net.h (SYS_SOCKET), include/uapi/asm-generic/errno-base.h
const AF_UNIX: u64 = 1;
const AF_INET: u64 = 2;
const AF_INET6: u64 = 10;
const AF_PACKET: u64 = 17;
const SOCK_STREAM: u64 = 1;
const SOCK_DGRAM: u64 = 2;
const SOCK_RAW: u64 = 3;
const SOCK_NONBLOCK: u64 = 0x800;
const SOCK_CLOEXEC: u64 = 0x80000;
const SYS_SOCKET: u32 = 1;
const EACCES: i64 = 13;
const EPERM: i64 = 1;

/// How a probe reaches the kernel.
#[derive(Clone, Copy)]
enum Abi {
    X86_64,
    X32,
    I386,
}

/// One probe: a name for the report, the ABI, the syscall name and its arguments.
struct Probe {
    name: &'static str,
    abi: Abi,
    call: &'static str,
    args: [u64; 3],
}

const fn p(name: &'static str, abi: Abi, call: &'static str, args: [u64; 3]) -> Probe {
    Probe {
        name,
        abi,
        call,
        args,
    }
}

const GARBAGE: u64 = 0xdead_beef_0000_0000;

const PROBES: &[Probe] = &[
    p(
        "inet-dgram",
        Abi::X86_64,
        "socket",
        [AF_INET, SOCK_DGRAM, 0],
    ),
    p(
        "inet-dgram-cloexec",
        Abi::X86_64,
        "socket",
        [AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0],
    ),
    p(
        "inet-dgram-flags",
        Abi::X86_64,
        "socket",
        [AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0],
    ),
    p(
        "inet-dgram-highword",
        Abi::X86_64,
        "socket",
        [GARBAGE | AF_INET, GARBAGE | SOCK_DGRAM, 0],
    ),
    p(
        "inet6-dgram",
        Abi::X86_64,
        "socket",
        [AF_INET6, SOCK_DGRAM, 0],
    ),
    p("inet-raw", Abi::X86_64, "socket", [AF_INET, SOCK_RAW, 1]),
    p("inet6-raw", Abi::X86_64, "socket", [AF_INET6, SOCK_RAW, 58]),
    p(
        "packet-raw",
        Abi::X86_64,
        "socket",
        [AF_PACKET, SOCK_RAW, 0],
    ),
    p(
        "packet-dgram",
        Abi::X86_64,
        "socket",
        [AF_PACKET, SOCK_DGRAM, 0],
    ),
    p(
        "inet-stream",
        Abi::X86_64,
        "socket",
        [AF_INET, SOCK_STREAM, 0],
    ),
    p(
        "inet6-stream",
        Abi::X86_64,
        "socket",
        [AF_INET6, SOCK_STREAM, 0],
    ),
    p(
        "unix-dgram",
        Abi::X86_64,
        "socket",
        [AF_UNIX, SOCK_DGRAM, 0],
    ),
    p(
        "x32-inet-dgram",
        Abi::X32,
        "socket",
        [AF_INET, SOCK_DGRAM, 0],
    ),
    p(
        "i386-inet-dgram",
        Abi::I386,
        "socket",
        [AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0],
    ),
    p(
        "i386-packet-raw",
        Abi::I386,
        "socket",
        [AF_PACKET, SOCK_RAW, 0],
    ),
    p(
        "i386-inet-stream",
        Abi::I386,
        "socket",
        [AF_INET, SOCK_STREAM, 0],
    ),
    // socketcall(SYS_SOCKET, NULL): without the guard the kernel reads the null pointer (EFAULT)
    p(
        "i386-socketcall-socket",
        Abi::I386,
        "socketcall",
        [SYS_SOCKET as u64, 0, 0],
    ),
];

/// What the guarded child must see: `Err(errno)`, or `Ok(())` for a descriptor. The x32 probe
/// is refused even on kernels built without x32: seccomp runs before the syscall dispatch.
fn want_guarded(name: &str) -> Result<(), i64> {
    match name {
        "inet-stream" | "inet6-stream" | "unix-dgram" | "i386-inet-stream" => Ok(()),
        _ => Err(EACCES),
    }
}

fn main() {
    if let Ok(mode) = std::env::var("CONFINE_SOCKET_CHILD") {
        child(&mode);
    }
    let mut failed = Vec::new();
    // as root, then without capabilities in the initial namespaces (a fresh user namespace,
    // util-linux `unshare`): there packet and raw sockets fail with EPERM without the guard,
    // and with it still EACCES, since seccomp runs before the kernel's capability check
    for unprivileged in [false, true] {
        let guarded = run_child("guard", unprivileged);
        let control = run_child("control", unprivileged);
        println!(
            "{}",
            if unprivileged {
                "in a user namespace:"
            } else {
                "as root:"
            }
        );
        for pr in PROBES {
            let (g, c) = (guarded[pr.name], control[pr.name]);
            println!(
                "  {:24} guarded {g:>4}  docker-default alone {c:>4}",
                pr.name
            );
            let got = if g >= 0 { Ok(()) } else { Err(-g) };
            if got != want_guarded(pr.name) {
                failed.push(format!("{}: guarded {g}", pr.name));
            }
            // the control shows that every EACCES is the guard's: Docker's default alone
            // lets each call reach the kernel, which answers something else (a descriptor;
            // ENOSYS for x32 compiled out; EFAULT for socketcall's null pointer; EPERM for
            // raw and packet sockets without CAP_NET_RAW)
            if c == -EACCES {
                failed.push(format!("{}: control {c}", pr.name));
            }
            if unprivileged && pr.name == "packet-raw" && c != -EPERM {
                failed.push(format!("{}: control {c} in a user namespace", pr.name));
            }
        }
    }
    if failed.is_empty() {
        println!("1 passed, 0 failed");
    } else {
        println!("failed: {failed:#?}");
        std::process::exit(1);
    }
}

/// Run a child in `mode` (in a fresh user namespace if `unprivileged`) and collect its report: probe name → raw return value.
fn run_child(mode: &str, unprivileged: bool) -> BTreeMap<String, i64> {
    let me = std::env::current_exe().unwrap();
    let mut cmd = if unprivileged {
        let mut c = Command::new("unshare");
        c.args(["--user", "--"]).arg(me);
        c
    } else {
        Command::new(me)
    };
    let out = cmd
        .env("CONFINE_SOCKET_CHILD", mode)
        .output()
        .expect("re-execute the test binary (util-linux unshare for the user namespace)");
    assert!(out.status.success(), "{mode} child: {out:?}");
    let report: BTreeMap<String, i64> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (n, v) = l.split_once(' ').unwrap();
            (n.to_string(), v.parse().unwrap())
        })
        .collect();
    assert_eq!(report.len(), PROBES.len(), "{mode} report: {report:?}");
    report
}

/// The child: install, probe, print `name value` lines, exit.
fn child(mode: &str) -> ! {
    let h = host(Arch::X86_64, CapSet::docker_default());
    let r = confine_profile::builtin::resolved_for(&h);
    let docker = optimize::generate(&build(&r, Options::default()).unwrap()).unwrap();
    let prog = if mode == "guard" {
        // allowUdp: false and allowRaw: false (crates/policy, SocketDeny)
        let rules = [(2, 2), (10, 2), (2, 3), (10, 3), (17, 3), (17, 2)]
            .map(|(d, t)| SocketRule::new(d, t));
        with_guard(Arch::X86_64, &rules, Some(&docker)).unwrap()
    } else {
        docker
    };
    let x86_64 = SyscallTable::for_arch(Arch::X86_64).unwrap();
    let x32 = SyscallTable::for_arch(Arch::X32).unwrap();
    let i386 = SyscallTable::for_arch(Arch::X86).unwrap();
    let close = u64::from(x86_64.number("close").unwrap());
    confine_kernel::set_no_new_privs().expect("no_new_privs");
    confine_kernel::install(&prog, Default::default()).expect("install");
    let mut report = String::new();
    for pr in PROBES {
        let [a0, a1, a2] = pr.args;
        let r = match pr.abi {
            Abi::X86_64 => {
                let nr = x86_64.number(pr.call).unwrap();
                // SAFETY: socket(2) takes only integers and creates a descriptor that nothing
                // else owns (closed below).
                unsafe { raw::syscall6(u64::from(nr), [a0, a1, a2, 0, 0, 0]) }
            }
            Abi::X32 => {
                let nr = x32.number(pr.call).unwrap();
                assert_ne!(nr & X32_SYSCALL_BIT, 0);
                // SAFETY: as above, through the x32 entry (the number carries the x32 bit).
                unsafe { raw::syscall6(u64::from(nr), [a0, a1, a2, 0, 0, 0]) }
            }
            Abi::I386 => {
                let nr = i386.number(pr.call).unwrap();
                // SAFETY: socket(2) takes only integers; socketcall(SYS_SOCKET, NULL) makes the
                // kernel read its arguments from address 0, which fails with EFAULT (or the
                // guard refuses it first). Neither touches memory Rust owns.
                unsafe { raw::int80(nr, [a0 as u32, a1 as u32, a2 as u32, 0, 0, 0]) }
            }
        };
        if r >= 0 {
            // SAFETY: closes the descriptor the probe just created, owned by nothing else.
            unsafe { raw::syscall6(close, [r as u64, 0, 0, 0, 0, 0]) };
        }
        report.push_str(&format!("{} {r}\n", pr.name));
    }
    print!("{report}");
    std::process::exit(0);
}
