//! The profile a recording gives: Docker's format, refusing with EPERM what was not seen,
//! allowing what was, with argument conditions where values were recorded, ENOSYS for the
//! calls libc probes and falls back from, and stable output (two recordings diff cleanly).

use crate::recording::{Recorded, Seen, Values};
use confine_abi::{Arch, SyscallTable};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Calls that C libraries and runtimes try first and fall back from when the kernel answers
/// ENOSYS (and not, or not always, on EPERM). Unseen, they get ENOSYS, so that the same program
/// works on a host whose libc tries them first — as Docker learnt with `clone3` (moby PR
/// #42681) and `faccessat2` (moby #42871).
/// * clone3: glibc 2.34 `posix_spawn`, `pthread_create`; faccessat2: glibc 2.33 `faccessat`;
///   fchmodat2: glibc 2.39 `fchmodat` with flags; openat2: systemd, Go; statx: glibc `fstatat`
///   on 32-bit time ABIs and Go's `os.Stat`; close_range: glibc `closefrom`, Python's
///   `subprocess`; epoll_pwait2: libuv; pidfd_open, pidfd_send_signal, pidfd_getfd: Go 1.23
///   `os` (StartProcess, Signal); copy_file_range: coreutils `cp`, Go `io.Copy`; futex_waitv:
///   Wine; rseq: glibc 2.35 thread start; landlock_create_ruleset: sandboxing libraries'
///   probes; io_uring_setup: libuv, liburing users.
pub const PROBED: [&str; 15] = [
    "clone3",
    "close_range",
    "copy_file_range",
    "epoll_pwait2",
    "faccessat2",
    "fchmodat2",
    "futex_waitv",
    "io_uring_setup",
    "landlock_create_ruleset",
    "openat2",
    "pidfd_getfd",
    "pidfd_open",
    "pidfd_send_signal",
    "rseq",
    "statx",
];

/// ENOSYS.
const ENOSYS: u32 = 38;

/// Calls a program can need at any moment whether or not the recording saw them: the return
/// from a signal handler (a redis stopped by SIGTERM under a profile recorded without one
/// crashes), the kernel's restart of an interrupted sleep, a thread's end. systemd allows the
/// same ones implicitly with any `SystemCallFilter=` (systemd.exec(5)).
pub const ALWAYS: [&str; 5] = [
    "exit",
    "exit_group",
    "restart_syscall",
    "rt_sigreturn",
    "sigreturn",
];

/// How the profile had to be wider (or narrower) than the recording.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Widening {
    /// More distinct argument values than the limit: the rule is unconditional.
    OverLimit {
        /// The syscall.
        name: String,
        /// The limit.
        limit: usize,
    },
    /// Names seen on other ABIs only are allowed on this one too (Docker's format names
    /// syscalls for all its architectures at once).
    SharedNames {
        /// The ABI they are allowed on without having been seen there.
        abi: String,
        /// The names, sorted.
        names: Vec<String>,
    },
    /// A number without a name on its ABI: Docker's format cannot allow it.
    Unnamed {
        /// The ABI.
        abi: String,
        /// The number.
        nr: u32,
    },
    /// Allowed though not seen: they can come at any moment ([`ALWAYS`]).
    Always {
        /// The names.
        names: Vec<String>,
    },
    /// A runtime call that the recording watched arguments of, allowed whole because the
    /// runtime's list has names only.
    RuntimeWhole {
        /// The syscall.
        name: String,
    },
}

impl std::fmt::Display for Widening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Widening::OverLimit { name, limit } => write!(
                f,
                "{name}: more than {limit} distinct argument values; allowed with any"
            ),
            Widening::SharedNames { abi, names } => {
                let shown: Vec<&str> = names.iter().take(6).map(String::as_str).collect();
                write!(
                    f,
                    "{abi}: {} syscalls seen only on other ABIs are allowed on it too ({}{}): Docker's format names syscalls for all its architectures at once",
                    names.len(),
                    shown.join(", "),
                    if names.len() > shown.len() { ", …" } else { "" }
                )
            }
            Widening::Unnamed { abi, nr } => write!(
                f,
                "{abi} #{nr}: no name on this ABI; Docker's format cannot allow it, so it stays refused"
            ),
            Widening::Always { names } => write!(
                f,
                "{}: allowed though not seen (a signal handler's return, a restarted sleep, a thread's end can come at any moment)",
                names.join(", ")
            ),
            Widening::RuntimeWhole { name } => write!(
                f,
                "{name}: the runtime's list names it without arguments; allowed with any"
            ),
        }
    }
}

/// The profile and how it differs from the recording.
#[derive(Clone, Debug)]
pub struct Built {
    /// The Docker-format profile.
    pub profile: Value,
    /// Where it had to widen.
    pub widenings: Vec<Widening>,
    /// The names it allows (unconditionally or with conditions).
    pub allowed: BTreeSet<String>,
}

/// The runtime whose calls between the filter and the command's execve the profile allows.
#[derive(Clone, Copy, Debug)]
pub enum Runtime<'a> {
    /// confine: its calls as recorded, and these (the calls its steps can make, with their
    /// arguments), whichever steps this recording took.
    Confine(&'a [(&'a str, [u64; 6])]),
    /// A runtime's measured list of names (runc's, crun's), or none.
    Listed(&'a [String]),
}

/// Build the profile for `rec`, adding the runtime's calls.
pub fn build(rec: &Recorded, runtime: Runtime<'_>, limit: usize) -> Built {
    let mut widenings = Vec::new();
    let mut arches: BTreeSet<Arch> = BTreeSet::new();
    // name → (ABIs seen on, merged values or None for unconditional)
    let mut names: BTreeMap<String, (BTreeSet<String>, Option<Values>)> = BTreeMap::new();
    let mut add = |s: &Seen, widenings: &mut Vec<Widening>| {
        let Some(arch) = s.call.arch() else {
            widenings.push(Widening::Unnamed {
                abi: s.call.abi.clone(),
                nr: s.call.nr,
            });
            return;
        };
        let Some(name) = &s.call.name else {
            widenings.push(Widening::Unnamed {
                abi: s.call.abi.clone(),
                nr: s.call.nr,
            });
            return;
        };
        arches.insert(arch);
        let e = names.entry(name.clone()).or_insert_with(|| {
            (
                BTreeSet::new(),
                s.values.as_ref().map(|v| Values {
                    tuples: BTreeSet::new(),
                    ..v.clone()
                }),
            )
        });
        e.0.insert(s.call.abi.clone());
        match (&mut e.1, &s.values) {
            (Some(merged), Some(v)) => {
                merged.tuples.extend(v.tuples.iter().cloned());
                merged.over_limit |= v.over_limit || merged.tuples.len() > limit;
            }
            (slot, _) => *slot = None,
        }
    };
    for s in &rec.calls {
        add(s, &mut widenings);
    }
    match runtime {
        Runtime::Confine(known) => {
            for s in &rec.runtime {
                add(s, &mut widenings);
            }
            for (name, args) in known {
                match names.get_mut(*name) {
                    Some((_, Some(v))) => {
                        let t = v
                            .indexes
                            .iter()
                            .enumerate()
                            .map(|(k, &i)| match (k, v.mask) {
                                (0, Some(m)) => args[usize::from(i)] & m,
                                _ => args[usize::from(i)],
                            })
                            .collect();
                        v.tuples.insert(t);
                        v.over_limit |= v.tuples.len() > limit;
                    }
                    Some(_) => {}
                    None => {
                        names.insert(name.to_string(), (BTreeSet::new(), None));
                    }
                }
            }
        }
        Runtime::Listed(list) => {
            for n in list {
                if let Some((_, v)) = names.get_mut(n) {
                    if v.take().is_some() {
                        widenings.push(Widening::RuntimeWhole { name: n.clone() });
                    }
                } else {
                    names.insert(n.clone(), (BTreeSet::new(), None));
                }
            }
        }
    }
    if arches.is_empty() {
        arches.insert(Arch::native());
    }
    let added: Vec<String> = ALWAYS
        .iter()
        .filter(|n| !names.contains_key(**n))
        .filter(|n| {
            arches
                .iter()
                .any(|a| SyscallTable::for_arch(*a).is_ok_and(|t| t.number(n).is_some()))
        })
        .map(|n| n.to_string())
        .collect();
    for n in &added {
        names.insert(n.clone(), (BTreeSet::new(), None));
    }
    if !added.is_empty() {
        widenings.push(Widening::Always { names: added });
    }
    let mut unconditional = Vec::new();
    let mut conditional = Vec::new();
    for (name, (_, values)) in &names {
        match values {
            Some(v) if v.over_limit => {
                widenings.push(Widening::OverLimit {
                    name: name.clone(),
                    limit,
                });
                unconditional.push(name.clone());
            }
            Some(v) if !v.tuples.is_empty() => conditional.push((name.clone(), v.clone())),
            _ => unconditional.push(name.clone()),
        }
    }
    for a in &arches {
        let Ok(t) = SyscallTable::for_arch(*a) else {
            continue;
        };
        let shared: Vec<String> = names
            .iter()
            .filter(|(n, (seen_on, _))| {
                !seen_on.is_empty() && !seen_on.contains(a.kernel_name()) && t.number(n).is_some()
            })
            .map(|(n, _)| n.clone())
            .collect();
        if !shared.is_empty() {
            widenings.push(Widening::SharedNames {
                abi: a.kernel_name().to_string(),
                names: shared,
            });
        }
    }
    let mut rules = vec![json!({"names": unconditional, "action": "SCMP_ACT_ALLOW"})];
    for (name, v) in &conditional {
        for t in &v.tuples {
            let args: Vec<Value> = v
                .indexes
                .iter()
                .zip(t)
                .enumerate()
                .map(|(k, (&i, &val))| match (k, v.mask) {
                    (0, Some(m)) => {
                        json!({"index": i, "value": m, "valueTwo": val, "op": "SCMP_CMP_MASKED_EQ"})
                    }
                    _ => json!({"index": i, "value": val, "op": "SCMP_CMP_EQ"}),
                })
                .collect();
            rules.push(json!({"names": [name], "action": "SCMP_ACT_ALLOW", "args": args}));
        }
    }
    let probed: BTreeSet<&str> = PROBED
        .iter()
        .copied()
        .filter(|n| !names.contains_key(*n))
        .filter(|n| {
            arches
                .iter()
                .any(|a| SyscallTable::for_arch(*a).is_ok_and(|t| t.number(n).is_some()))
        })
        .collect();
    if !probed.is_empty() {
        rules.push(json!({"names": probed, "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS}));
    }
    let mut p = Map::new();
    p.insert("defaultAction".into(), json!("SCMP_ACT_ERRNO"));
    p.insert("defaultErrnoRet".into(), json!(1));
    p.insert(
        "architectures".into(),
        json!(arches.iter().map(|a| a.scmp_name()).collect::<Vec<_>>()),
    );
    p.insert("syscalls".into(), Value::Array(rules));
    widenings.sort_by_key(|w| w.to_string());
    widenings.dedup();
    Built {
        profile: Value::Object(p),
        widenings,
        allowed: names.into_keys().collect(),
    }
}

/// The profile as written: two-space JSON with a final newline.
pub fn render(profile: &Value) -> String {
    let mut s = serde_json::to_string_pretty(profile).unwrap_or_default();
    s.push('\n');
    s
}
