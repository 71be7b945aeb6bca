//! The checks of `lint`, each judging the program by what it decides for concrete calls.

use crate::surface::{DOCKER_SECCOMP, GROUPS};
use crate::{runs, Example, Finding, Severity, Target};
use confine_abi::{Arch, SyscallTable};
use confine_bpf::action;
use confine_bpf::explore::{CmpOp, Cond, Field};
use confine_bpf::stack::Verdict;
use confine_bpf::SeccompData;
use confine_profile::Action;

/// `CLONE_NEW*` flags (include/uapi/linux/sched.h), user namespaces first.
const CLONE_NEWUSER: u64 = 0x1000_0000;
const NAMESPACE_FLAGS: &[(u64, &str)] = &[
    (CLONE_NEWUSER, "CLONE_NEWUSER"),
    (0x0002_0000, "CLONE_NEWNS"),
    (0x0200_0000, "CLONE_NEWCGROUP"),
    (0x0400_0000, "CLONE_NEWUTS"),
    (0x0800_0000, "CLONE_NEWIPC"),
    (0x2000_0000, "CLONE_NEWPID"),
    (0x4000_0000, "CLONE_NEWNET"),
    (0x0000_0080, "CLONE_NEWTIME"),
];
/// SIGCHLD, the exit signal `fork`-like clones carry in their flags.
const SIGCHLD: u64 = 17;

const USERNS_REF: &str = "https://man7.org/linux/man-pages/man7/user_namespaces.7.html";
const NAMESPACES_REF: &str = "https://man7.org/linux/man-pages/man7/namespaces.7.html";

/// Add `example` to the finding with `id` about `syscall`, or start that finding.
#[allow(clippy::too_many_arguments)]
fn add(
    out: &mut Vec<Finding>,
    t: &Target,
    id: &'static str,
    severity: Severity,
    syscalls: Vec<String>,
    message: impl FnOnce() -> String,
    example: Option<Example>,
    reference: &'static str,
) {
    let abi = example.as_ref().map(|e| e.abi);
    if let Some(f) = out
        .iter_mut()
        .find(|f| f.id == id && f.syscalls == syscalls)
    {
        if let Some(abi) = abi {
            if !f.abis.contains(&abi) {
                f.abis.push(abi);
            }
        }
        return;
    }
    let rule = example
        .as_ref()
        .and_then(|e| t.rule(e.abi, e.nr, &e.args))
        .or_else(|| t.profile.is_some().then(|| "defaultAction".to_string()));
    out.push(Finding {
        id,
        severity,
        syscalls,
        abis: abi.into_iter().collect(),
        message: message(),
        rule,
        examples: example.into_iter().collect(),
        reference,
    });
}

/// The argument that carries `clone`'s flags (s390 swaps the first two).
fn clone_flags_arg(abi: Arch) -> usize {
    if matches!(abi, Arch::S390 | Arch::S390x) {
        1
    } else {
        0
    }
}

/// A condition on the low word of argument `arg`: `bits` all set.
fn bits_set(arg: u8, bits: u64) -> Cond {
    Cond {
        field: Some(Field::Arg { n: arg, hi: false }),
        mask: bits as u32,
        op: CmpOp::Eq,
        k: bits as u32,
        holds: true,
    }
}

/// A condition on the high word of argument `arg`: zero (the kernel's own check of unshare's
/// and setns' flags refuses anything there, so an example must not need it).
fn high_zero(arg: u8) -> Cond {
    Cond {
        field: Some(Field::Arg { n: arg, hi: true }),
        mask: u32::MAX,
        op: CmpOp::Eq,
        k: 0,
        holds: true,
    }
}

/// An argument vector that runs `nr` on `abi` with the namespace flag `flag` in argument
/// `idx`: the plain values first (what a program passes), then one solved on each running
/// path of the filter with the flag's bit set.
fn with_flag(
    t: &Target,
    abi: Arch,
    nr: u32,
    idx: usize,
    flag: u64,
    clone: bool,
) -> Option<[u64; 6]> {
    let plain = |extra: u64| {
        let mut a = [0u64; 6];
        a[idx] = flag | extra;
        a
    };
    let mut tries = vec![plain(0)];
    if clone {
        tries.insert(0, plain(SIGCHLD));
    }
    // with every other namespace flag too (a rule refusing CLONE_NEWUSER alone)
    let all: u64 = NAMESPACE_FLAGS
        .iter()
        .filter(|f| !(clone && f.0 == 0x80))
        .fold(0, |a, f| a | f.0);
    tries.push(plain(all & !flag));
    if let Some(a) = tries.into_iter().find(|a| runs(t.eval(abi, nr, a))) {
        return Some(a);
    }
    let mut extra = vec![bits_set(idx as u8, flag)];
    if abi.args64() {
        extra.push(high_zero(idx as u8));
    }
    t.witness_with(abi, nr, &extra)
}

/// New namespaces: `clone` and `unshare` with a `CLONE_NEW*` flag that runs, `clone3` (its
/// flags are in memory, out of seccomp's sight) and `setns`.
pub(crate) fn namespaces(t: &Target, out: &mut Vec<Finding>) {
    for &abi in t.abis() {
        for (name, idx) in [("clone", clone_flags_arg(abi)), ("unshare", 0)] {
            let Some(nr) = Target::number(abi, name) else {
                continue;
            };
            let mut user = None;
            let mut other: Vec<(&str, Example)> = Vec::new();
            for &(flag, fname) in NAMESPACE_FLAGS {
                // clone's low byte is the exit signal: CLONE_NEWTIME is only for unshare
                if name == "clone" && flag == 0x80 {
                    continue;
                }
                let Some(a) = with_flag(t, abi, nr, idx, flag, name == "clone") else {
                    continue;
                };
                let ex = t.example(abi, name, nr, a);
                if flag == CLONE_NEWUSER {
                    user = Some(ex);
                } else {
                    other.push((fname, ex));
                }
            }
            if let Some(ex) = user {
                add(
                    out,
                    t,
                    "user-namespaces",
                    Severity::High,
                    vec![name.into()],
                    || {
                        format!("{name} runs with CLONE_NEWUSER: the process can make a user namespace, where it holds every capability over new namespaces and reaches kernel code meant for root")
                    },
                    Some(ex),
                    USERNS_REF,
                );
            }
            if let Some((_, ex)) = other.first() {
                let flags: Vec<&str> = other.iter().map(|o| o.0).collect();
                add(
                    out,
                    t,
                    "namespaces",
                    Severity::Medium,
                    vec![name.into()],
                    || {
                        format!("{name} runs with {}: new namespaces (with CAP_SYS_ADMIN, or inside a new user namespace)", flags.join(", "))
                    },
                    Some(ex.clone()),
                    NAMESPACES_REF,
                );
            }
        }
        if let Some(nr) = Target::number(abi, "clone3") {
            if let Some(a) = t.witness(abi, nr) {
                add(
                    out,
                    t,
                    "user-namespaces",
                    Severity::High,
                    vec!["clone3".into()],
                    || {
                        "clone3 runs: its flags are in memory, where no seccomp filter can see them, so CLONE_NEWUSER and every other namespace flag pass (Docker answers clone3 with ENOSYS)".into()
                    },
                    Some(t.example(abi, "clone3", nr, a)),
                    USERNS_REF,
                );
            }
        }
        if let Some(nr) = Target::number(abi, "setns") {
            if let Some(a) = t.witness(abi, nr) {
                add(
                    out,
                    t,
                    "namespaces",
                    Severity::Medium,
                    vec!["setns".into()],
                    || {
                        "setns runs: the process can join another namespace it holds a descriptor of (with CAP_SYS_ADMIN there)".into()
                    },
                    Some(t.example(abi, "setns", nr, a)),
                    NAMESPACES_REF,
                );
            }
        }
    }
}

/// The kernel attack-surface groups of [`GROUPS`] whose calls run.
pub(crate) fn surface(t: &Target, out: &mut Vec<Finding>) {
    for g in GROUPS {
        if let Some((major, minor)) = g.before {
            let k = t.kernel;
            if (k.kernel, k.major) >= (major, minor) {
                continue;
            }
        }
        let mut running: Vec<String> = Vec::new();
        let mut first: Option<Example> = None;
        let mut abis: Vec<Arch> = Vec::new();
        // the rule that lets each call run (several rules may, one per call)
        let mut rules: Vec<String> = Vec::new();
        for &abi in t.abis() {
            for name in g.syscalls {
                let Some(nr) = Target::number(abi, name) else {
                    continue;
                };
                let Some(a) = t.witness(abi, nr) else {
                    continue;
                };
                if !running.iter().any(|r| r == name) {
                    running.push(name.to_string());
                    if let Some(r) = t.rule(abi, nr, &a) {
                        let r = format!("{name}: {r}");
                        if !rules.contains(&r) {
                            rules.push(r);
                        }
                    }
                }
                if !abis.contains(&abi) {
                    abis.push(abi);
                }
                first.get_or_insert_with(|| t.example(abi, name, nr, a));
            }
        }
        let Some(ex) = first else { continue };
        let rule = (!rules.is_empty()).then(|| rules.join("; "));
        out.push(Finding {
            id: g.id,
            severity: g.severity,
            message: format!(
                "{} run{} ({}): {}",
                running.join(", "),
                if running.len() == 1 { "s" } else { "" },
                g.title,
                g.why
            ),
            syscalls: running,
            abis,
            rule,
            examples: vec![ex],
            reference: g.reference,
        });
    }
}

/// The names a call has on 32-bit ABIs where the 64-bit one has a different name.
const COMPAT_NAMES: &[(&str, &[&str])] = &[
    ("setuid", &["setuid32"]),
    ("setgid", &["setgid32"]),
    ("setreuid", &["setreuid32"]),
    ("setregid", &["setregid32"]),
    ("setresuid", &["setresuid32"]),
    ("setresgid", &["setresgid32"]),
    ("setgroups", &["setgroups32"]),
    ("setfsuid", &["setfsuid32"]),
    ("setfsgid", &["setfsgid32"]),
    ("chown", &["chown32"]),
    ("fchown", &["fchown32"]),
    ("lchown", &["lchown32"]),
    ("mmap", &["mmap2"]),
    ("newfstatat", &["fstatat64"]),
    ("fstat", &["fstat64"]),
    ("stat", &["stat64"]),
    ("lstat", &["lstat64"]),
    ("truncate", &["truncate64"]),
    ("ftruncate", &["ftruncate64"]),
    ("fcntl", &["fcntl64"]),
    ("statfs", &["statfs64"]),
    ("fstatfs", &["fstatfs64"]),
    ("sendfile", &["sendfile64"]),
    ("umount2", &["umount"]),
    ("wait4", &["waitpid"]),
    ("getrlimit", &["ugetrlimit"]),
    ("select", &["_newselect"]),
    ("getdents64", &["getdents"]),
    ("lseek", &["_llseek"]),
    ("rt_sigaction", &["sigaction"]),
    ("rt_sigprocmask", &["sigprocmask"]),
    ("rt_sigreturn", &["sigreturn"]),
    ("rt_sigsuspend", &["sigsuspend"]),
    ("rt_sigpending", &["sigpending"]),
];

/// Other ABIs as a way around the native one: the bad-architecture action lets calls run,
/// or a call refused on the native ABI runs on another under its name there.
pub(crate) fn abi_bypass(t: &Target, out: &mut Vec<Finding>) {
    let le = t.native.is_little_endian();
    let other = SeccompData {
        nr: 0,
        arch: 0,
        instruction_pointer: 0,
        args: [0; 6],
    };
    let r = t.stack.eval(&other, le);
    if runs(r) {
        // the kernel runs only its own ABIs: which of them get through is the checks below
        out.push(Finding {
            id: "unknown-arch",
            severity: Severity::Info,
            syscalls: Vec::new(),
            abis: Vec::new(),
            message: format!(
                "a call of an architecture the filter does not know gets {}: harmless by itself (the kernel runs only its own ABIs), but the filter checks architectures by allowing",
                action::describe(r)
            ),
            rule: None,
            examples: Vec::new(),
            reference: "https://www.kernel.org/doc/html/latest/userspace-api/seccomp_filter.html#pitfalls",
        });
    }
    let Ok(native) = SyscallTable::for_arch(t.native) else {
        return;
    };
    for &abi in t.abis().iter().skip(1) {
        let mut found: Vec<String> = Vec::new();
        let mut first = None;
        for (nr, name) in native.entries() {
            if t.witness(t.native, nr).is_some() {
                continue;
            }
            let aliases = COMPAT_NAMES
                .iter()
                .find(|c| c.0 == name)
                .map_or(&[][..], |c| c.1);
            for other in std::iter::once(&name).chain(aliases) {
                let Some(onr) = Target::number(abi, other) else {
                    continue;
                };
                if let Some(a) = t.witness(abi, onr) {
                    found.push(if other == &name {
                        name.to_string()
                    } else {
                        format!("{name} (as {other})")
                    });
                    first.get_or_insert_with(|| t.example(abi, other, onr, a));
                }
            }
        }
        let Some(ex) = first else { continue };
        let rule = t.rule(ex.abi, ex.nr, &ex.args);
        out.push(Finding {
            id: "abi-bypass",
            severity: Severity::High,
            message: format!(
                "refused on {} but running on {}: {}",
                t.native.native_name(),
                abi.native_name(),
                found.join(", ")
            ),
            syscalls: found,
            abis: vec![abi],
            rule,
            examples: vec![ex],
            reference:
                "https://www.kernel.org/doc/html/latest/userspace-api/seccomp_filter.html#pitfalls",
        });
    }
}

/// A number the native table leaves unassigned below its highest: what an unnamed call gets.
fn hole(abi: Arch) -> Option<u32> {
    let table = SyscallTable::for_arch(abi).ok()?;
    let (lo, hi) = table.number_range()?;
    (lo..hi).find(|&n| table.name_of(n).is_none())
}

/// A default action that lets calls run: a deny list.
pub(crate) fn default_allows(t: &Target, out: &mut Vec<Finding>) {
    let default = match t.profile {
        Some(p) => {
            let a = p.resolved.default_action;
            matches!(a, Action::Allow | Action::Log).then(|| a.to_string())
        }
        None => hole(t.native).and_then(|nr| {
            let r = t.eval(t.native, nr, &[0; 6]);
            runs(r).then(|| action::describe(r))
        }),
    };
    let Some(default) = default else { return };
    // a call the explorer could not decide is neither refused nor allowed: counted apart
    let (mut refused, mut undecided) = (0, 0);
    if let Ok(table) = SyscallTable::for_arch(t.native) {
        for (nr, _) in table.entries() {
            if t.undecided(t.native, nr).is_some() {
                undecided += 1;
            } else if t.witness(t.native, nr).is_none() {
                refused += 1;
            }
        }
    }
    let undecided = match undecided {
        0 => String::new(),
        n => format!(", {n} undecided"),
    };
    out.push(Finding {
        id: "default-allow",
        severity: Severity::Medium,
        syscalls: Vec::new(),
        abis: vec![t.native],
        message: format!(
            "the default action is {default}: a deny list ({refused} {} syscall(s) refused{undecided}), which lets every call it does not name run, those of newer kernels included",
            t.native.native_name()
        ),
        rule: t.profile.map(|_| "defaultAction".to_string()),
        examples: Vec::new(),
        reference: DOCKER_SECCOMP,
    });
}

/// Newer calls glibc falls back from only on ENOSYS, with the call it falls back to (glibc
/// 2.34+: clone3 for threads and posix_spawn, faccessat2 for faccessat with flags,
/// fchmodat2 for fchmodat with AT_SYMLINK_NOFOLLOW (2.39), statx for the 32-bit stat family,
/// the `_time64` calls on 32-bit ABIs).
const FALLBACKS: &[(&str, &[&str])] = &[
    ("clone3", &["clone"]),
    ("faccessat2", &["faccessat"]),
    ("fchmodat2", &["fchmodat"]),
    ("statx", &["newfstatat", "fstatat64"]),
    ("clock_gettime64", &["clock_gettime"]),
    ("clock_nanosleep_time64", &["clock_nanosleep"]),
    ("futex_time64", &["futex"]),
    ("ppoll_time64", &["ppoll"]),
    ("pselect6_time64", &["pselect6"]),
    ("utimensat_time64", &["utimensat"]),
];

const ENOSYS: u32 = 38;

/// A newer call refused with something other than ENOSYS while the call glibc would fall
/// back to runs: the program fails instead of falling back (the clone3 and faccessat2
/// incidents of Docker 20.10).
pub(crate) fn enosys(t: &Target, out: &mut Vec<Finding>) {
    for &abi in t.abis() {
        for &(new, olds) in FALLBACKS {
            let Some(nr) = Target::number(abi, new) else {
                continue;
            };
            let Verdict::Fixed(r) = *t.verdict(abi, nr) else {
                continue;
            };
            if runs(r) || r == action::ERRNO | ENOSYS {
                continue;
            }
            let Some(old) = olds
                .iter()
                .find(|o| Target::number(abi, o).is_some_and(|n| t.witness(abi, n).is_some()))
            else {
                continue;
            };
            let ex = t.example(abi, new, nr, [0; 6]);
            add(
                out,
                t,
                "errno-not-enosys",
                Severity::Medium,
                vec![new.into()],
                || {
                    format!(
                    "{new} gets {} while {old} runs: glibc falls back to {old} only on ENOSYS, so programs fail instead",
                    action::describe(r)
                )
                },
                Some(ex),
                "https://github.com/moby/moby/pull/42836",
            );
        }
    }
}

/// How many syscall names a finding's message lists before "and N more".
const LISTED: usize = 12;

fn listed(names: &[String]) -> String {
    if names.len() <= LISTED {
        names.join(", ")
    } else {
        format!(
            "{}, and {} more",
            names[..LISTED].join(", "),
            names.len() - LISTED
        )
    }
}

/// SCMP_ACT_LOG and SCMP_ACT_TRACE left in: LOG lets the call run (a recording's leftover),
/// TRACE fails with ENOSYS without a tracer and lets a tracer decide with one.
pub(crate) fn log_trace(t: &Target, out: &mut Vec<Finding>) {
    for (id, act, severity, what) in [
        ("log-action", action::LOG, Severity::Low, "runs and is only logged (SCMP_ACT_LOG, a recording's leftover?)"),
        ("trace-action", action::TRACE, Severity::Medium, "is handed to a ptrace tracer (SCMP_ACT_TRACE): ENOSYS without one, whatever the tracer says with one"),
    ] {
        let mut names: Vec<String> = Vec::new();
        let mut abis = Vec::new();
        let mut first = None;
        for &abi in t.abis() {
            let Ok(table) = SyscallTable::for_arch(abi) else {
                continue;
            };
            for (nr, name) in table.entries() {
                let hit = match &*t.verdict(abi, nr) {
                    Verdict::Fixed(r) => *r & action::ACTION_FULL == act,
                    Verdict::Depends(paths) => paths
                        .iter()
                        .any(|p| p.0.is_some_and(|r| r & action::ACTION_FULL == act)),
                    // reported by the undecided check
                    Verdict::Undecided(_) => false,
                };
                if !hit {
                    continue;
                }
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_string());
                }
                if !abis.contains(&abi) {
                    abis.push(abi);
                }
                first.get_or_insert_with(|| t.example(abi, name, nr, [0; 6]));
            }
        }
        let Some(ex) = first else { continue };
        out.push(Finding {
            id,
            severity,
            message: format!("{} {what}", listed(&names)),
            syscalls: names,
            abis,
            rule: t.rule(ex.abi, ex.nr, &ex.args),
            examples: vec![ex],
            reference: "https://man7.org/linux/man-pages/man2/seccomp.2.html",
        });
    }
}

/// Names of the profile that exist on no ABI the filter covers: runc skips them, and they
/// are often a typo or a call of another architecture.
pub(crate) fn unknown_names(t: &Target, out: &mut Vec<Finding>) {
    let Some(p) = t.profile else { return };
    let tables: Vec<&SyscallTable> = p
        .policy
        .arches
        .iter()
        .filter_map(|a| SyscallTable::for_arch(a.arch).ok())
        .collect();
    for rule in &p.resolved.rules {
        let names: Vec<String> = rule
            .names
            .iter()
            .filter(|n| tables.iter().all(|t| t.number(n).is_none()))
            .cloned()
            .collect();
        if names.is_empty() {
            continue;
        }
        let covered: Vec<&str> = p
            .policy
            .arches
            .iter()
            .map(|a| a.arch.native_name())
            .collect();
        out.push(Finding {
            id: "unknown-name",
            severity: Severity::Low,
            message: format!(
                "{} exist(s) on none of the filter's architectures ({}): runc skips them",
                listed(&names),
                covered.join(", ")
            ),
            syscalls: names,
            abis: Vec::new(),
            rule: Some(format!("rule {} ({})", rule.source_index, rule.action)),
            examples: Vec::new(),
            reference:
                "https://github.com/opencontainers/runtime-spec/blob/main/config-linux.md#seccomp",
        });
    }
}

/// The multiplexers of 32-bit ABIs as a way around the native rules: a socket or SysV IPC
/// call refused (or allowed only for some arguments) on the native ABI, while `socketcall`
/// or `ipc` runs it on another. Through the multiplexer its arguments are in memory, where
/// seccomp cannot see them; and `ipc` reads only `call & 0xffff`, so a rule on `call` alone
/// misses the version bits above.
pub(crate) fn multiplexers(t: &Target, out: &mut Vec<Finding>) {
    let Ok(native) = SyscallTable::for_arch(t.native) else {
        return;
    };
    for &abi in t.abis().iter().filter(|a| a.multiplexed()) {
        let mut found: Vec<String> = Vec::new();
        let mut first = None;
        for (nr, name) in native.entries() {
            let Some((mux, call)) = confine_abi::mux::mux_call(name) else {
                continue;
            };
            let restricted = match &*t.verdict(t.native, nr) {
                Verdict::Fixed(r) => !runs(*r),
                Verdict::Depends(_) => true,
                // not known to be restricted: never reported as a way around a refusal
                Verdict::Undecided(_) => false,
            };
            let Some(mnr) = Target::number(abi, mux).filter(|_| restricted) else {
                continue;
            };
            let calls: &[u64] = if mux == "ipc" {
                &[call, call | 0x1_0000]
            } else {
                &[call]
            };
            for &c in calls {
                let a = [c, 0, 0, 0, 0, 0];
                if runs(t.eval(abi, mnr, &a)) {
                    found.push(if c == call {
                        format!("{name} ({mux}({c}))")
                    } else {
                        format!("{name} ({mux}({c:#x}), version bits set)")
                    });
                    first.get_or_insert_with(|| t.example(abi, mux, mnr, a));
                    break;
                }
            }
        }
        let Some(ex) = first else { continue };
        out.push(Finding {
            id: "abi-bypass",
            severity: Severity::High,
            message: format!(
                "refused or argument-filtered on {} but running on {} through the multiplexer, whose arguments seccomp cannot see: {}",
                t.native.native_name(),
                abi.native_name(),
                listed(&found)
            ),
            syscalls: found,
            abis: vec![abi],
            rule: t.rule(ex.abi, ex.nr, &ex.args),
            examples: vec![ex],
            reference: "https://man7.org/linux/man-pages/man2/socketcall.2.html",
        });
    }
}

/// Calls lint could not decide: a path that may run was not solved (a computed return value
/// or comparison, the instruction pointer, too many paths). Silence must not mean refused.
pub(crate) fn undecided(t: &Target, out: &mut Vec<Finding>) {
    let mut names: Vec<&str> = vec!["clone", "unshare", "clone3", "setns"];
    names.extend(GROUPS.iter().flat_map(|g| g.syscalls.iter().copied()));
    let mut found: Vec<String> = Vec::new();
    let mut abis: Vec<Arch> = Vec::new();
    for &abi in t.abis() {
        for name in &names {
            let Some(nr) = Target::number(abi, name) else {
                continue;
            };
            let Some(why) = t.undecided(abi, nr) else {
                continue;
            };
            let covered = out
                .iter()
                .any(|f| f.abis.contains(&abi) && f.syscalls.iter().any(|s| s == name));
            if !covered {
                found.push(format!("{name} on {} ({why})", abi.native_name()));
                if !abis.contains(&abi) {
                    abis.push(abi);
                }
            }
        }
    }
    if found.is_empty() {
        return;
    }
    out.push(Finding {
        id: "undecided",
        severity: Severity::Medium,
        message: format!(
            "lint could not decide whether these run for some arguments; treat them as running: {}",
            listed(&found)
        ),
        syscalls: found,
        abis,
        rule: None,
        examples: Vec::new(),
        reference: "https://man7.org/linux/man-pages/man2/seccomp.2.html",
    });
}
