//! The exposure score: a published rubric ([`RUBRIC`], documented in `docs/score.md`) applied
//! to what confines a process, from 0.0 (nothing exposed) to 10.0 (everything exposed), as
//! `systemd-analyze security` scores units.
//!
//! Each item has a weight and, for a [`Subject`], an exposure from 0.0 to 1.0; the score is
//! `10 × Σ(weight × exposure) / Σ weight` over the items that apply, rounded to one decimal.
//! A [`Subject`] is plain data, so a profile (what `confine run` would apply) and a live
//! process (read from /proc and its filters) are scored alike.

use crate::surface::GROUPS;
use crate::{lint, Finding, Target};
use confine_abi::{CapSet, Capability, SyscallTable};
use confine_profile::KernelVersion;

/// The part of the confinement an item judges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// The seccomp filter: its presence and what it lets run.
    Seccomp,
    /// The capabilities the process can reach.
    Capabilities,
    /// no_new_privs, mandatory access control, user namespace, root.
    Process,
}

impl Section {
    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Section::Seccomp => "seccomp",
            Section::Capabilities => "capabilities",
            Section::Process => "process",
        }
    }
}

/// One item of the rubric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    /// The stable id (kebab-case; a dangerous group's item has the group's lint id).
    pub id: &'static str,
    /// What it judges, in a few words.
    pub title: &'static str,
    /// Its section.
    pub section: Section,
    /// Its weight.
    pub weight: u32,
}

const fn item(id: &'static str, title: &'static str, section: Section, weight: u32) -> Item {
    Item {
        id,
        title,
        section,
        weight,
    }
}

/// The rubric, in the order the table shows it. `docs/score.md` explains every weight.
pub const RUBRIC: &[Item] = &[
    item("seccomp", "seccomp filter", Section::Seccomp, 8),
    item("syscalls-allowed", "syscalls that run", Section::Seccomp, 5),
    item(
        "default-refuses",
        "default action refuses",
        Section::Seccomp,
        4,
    ),
    item("abi-bypass", "other ABIs checked", Section::Seccomp, 4),
    item(
        "user-namespaces",
        "new user namespaces",
        Section::Seccomp,
        6,
    ),
    item("namespaces", "other new namespaces", Section::Seccomp, 3),
    item("kernel-keyring", "kernel keyring", Section::Seccomp, 3),
    item("bpf", "eBPF", Section::Seccomp, 4),
    item("perf-events", "perf_event_open", Section::Seccomp, 2),
    item("userfaultfd", "userfaultfd", Section::Seccomp, 2),
    item("io-uring", "io_uring", Section::Seccomp, 3),
    item("kexec", "kexec", Section::Seccomp, 3),
    item("kernel-modules", "kernel modules", Section::Seccomp, 4),
    item("mount", "mounting", Section::Seccomp, 4),
    item("open-by-handle", "open_by_handle_at", Section::Seccomp, 4),
    item(
        "ptrace-before-4.8",
        "ptrace before 4.8",
        Section::Seccomp,
        4,
    ),
    item(
        "arg-width-bypass",
        "narrow argument bypass",
        Section::Seccomp,
        2,
    ),
    item("cap-sys-admin", "CAP_SYS_ADMIN", Section::Capabilities, 8),
    item("cap-sys-module", "CAP_SYS_MODULE", Section::Capabilities, 5),
    item("cap-sys-rawio", "CAP_SYS_RAWIO", Section::Capabilities, 4),
    item("cap-sys-ptrace", "CAP_SYS_PTRACE", Section::Capabilities, 4),
    item(
        "cap-dac-read-search",
        "CAP_DAC_READ_SEARCH",
        Section::Capabilities,
        4,
    ),
    item("cap-net-admin", "CAP_NET_ADMIN", Section::Capabilities, 3),
    item("cap-bpf", "CAP_BPF", Section::Capabilities, 3),
    item("cap-perfmon", "CAP_PERFMON", Section::Capabilities, 2),
    item("cap-net-raw", "CAP_NET_RAW", Section::Capabilities, 2),
    item(
        "cap-dac-override",
        "CAP_DAC_OVERRIDE",
        Section::Capabilities,
        2,
    ),
    item(
        "cap-setuid-setgid",
        "CAP_SETUID/SETGID",
        Section::Capabilities,
        2,
    ),
    item("cap-other", "other capabilities", Section::Capabilities, 3),
    item("no-new-privileges", "no_new_privs", Section::Process, 3),
    item("mac", "AppArmor/SELinux/Landlock", Section::Process, 5),
    item("user-namespace", "user namespace", Section::Process, 4),
    item("root", "not running as root", Section::Process, 5),
];

/// The capabilities with an item of their own (`CAP_SETUID` and `CAP_SETGID` share one);
/// every other known capability counts towards `cap-other`.
pub const NAMED_CAPS: &[(&str, &[&str])] = &[
    ("cap-sys-admin", &["SYS_ADMIN"]),
    ("cap-sys-module", &["SYS_MODULE"]),
    ("cap-sys-rawio", &["SYS_RAWIO"]),
    ("cap-sys-ptrace", &["SYS_PTRACE"]),
    ("cap-dac-read-search", &["DAC_READ_SEARCH"]),
    ("cap-net-admin", &["NET_ADMIN"]),
    ("cap-bpf", &["BPF"]),
    ("cap-perfmon", &["PERFMON"]),
    ("cap-net-raw", &["NET_RAW"]),
    ("cap-dac-override", &["DAC_OVERRIDE"]),
    ("cap-setuid-setgid", &["SETUID", "SETGID"]),
];

/// The item of `id`.
pub fn rubric_item(id: &str) -> Option<&'static Item> {
    RUBRIC.iter().find(|i| i.id == id)
}

/// What a filter stack was found to let run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// The lint findings of the stack.
    pub findings: Vec<Finding>,
    /// The native ABI's syscalls that run for some arguments.
    pub allowed: usize,
    /// The native ABI's syscalls.
    pub total: usize,
}

impl Filter {
    /// Judge a target: lint it and count the native syscalls that run.
    pub fn judge(t: &Target) -> Filter {
        let (allowed, total) = SyscallTable::for_arch(t.native).map_or((0, 0), |table| {
            let allowed = table
                .entries()
                .filter(|&(nr, _)| t.witness(t.native, nr).is_some())
                .count();
            (allowed, table.len())
        });
        Filter {
            findings: lint(t),
            allowed,
            total,
        }
    }

    /// The syscalls of the findings with `id` (empty when there is none).
    fn found(&self, id: &str) -> Option<Vec<String>> {
        let mut v: Vec<String> = Vec::new();
        let mut any = false;
        for f in self.findings.iter().filter(|f| f.id == id) {
            any = true;
            for s in &f.syscalls {
                if !v.contains(s) {
                    v.push(s.clone());
                }
            }
        }
        any.then_some(v)
    }
}

/// The seccomp state of a subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seccomp {
    /// No filter: every call runs.
    Disabled,
    /// Strict mode: read, write, _exit and sigreturn only.
    Strict,
    /// A filter stack, judged.
    Filter(Filter),
}

/// The capability sets that decide what a process can reach.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caps {
    /// The bounding set.
    pub bounding: u64,
    /// The permitted set.
    pub permitted: u64,
    /// The ambient set.
    pub ambient: u64,
}

impl Caps {
    /// The set judged: with no_new_privs, permitted ∪ ambient (an `execve` cannot add to the
    /// permitted set); without, the bounding set (a set-user-ID-root or file-capability
    /// program, or root's own `execve`, gains up to it).
    pub fn reachable(self, no_new_privs: bool) -> CapSet {
        if no_new_privs {
            CapSet(self.permitted | self.ambient)
        } else {
            CapSet(self.bounding)
        }
    }
}

/// An AppArmor label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppArmor {
    /// The profile's name (`unconfined` for none).
    pub label: String,
    /// Enforced (not complain or kill-less modes).
    pub enforce: bool,
}

/// A Landlock domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Landlock {
    /// The domain handles file-system rights (not only scopes).
    pub fs: bool,
}

/// Mandatory access control around the process.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mac {
    /// Its AppArmor label, when AppArmor is enabled.
    pub apparmor: Option<AppArmor>,
    /// Its SELinux context, when SELinux is active.
    pub selinux: Option<String>,
    /// A Landlock domain it is in.
    pub landlock: Option<Landlock>,
}

/// The user namespace of a subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserNs {
    /// The initial one: its capabilities are the host's.
    Initial,
    /// Another one; the host uid that its uid 0 maps to (`None`: 0 is not mapped).
    Nested {
        /// The host uid of root inside.
        root_on_host: Option<u32>,
    },
}

/// What is scored: plain facts, from a profile or from a live process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    /// The seccomp state.
    pub seccomp: Seccomp,
    /// The capability sets.
    pub caps: Caps,
    /// no_new_privs is set.
    pub no_new_privs: bool,
    /// Mandatory access control.
    pub mac: Mac,
    /// The user namespace.
    pub userns: UserNs,
    /// The effective uid on the host.
    pub uid: u32,
    /// The kernel (some items apply only to older ones).
    pub kernel: KernelVersion,
}

/// One line of a score.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// The rubric item.
    pub item: &'static Item,
    /// Its exposure, `None` when the item does not apply (left out of both sums).
    pub exposure: Option<f64>,
    /// Why, in a few words.
    pub reason: String,
}

/// A subject's score.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    /// One line per rubric item, in the rubric's order.
    pub lines: Vec<Line>,
    /// Σ weight of the items that apply.
    pub weights: u32,
}

impl Score {
    /// The exact score, 0.0 to 10.0.
    pub fn exact(&self) -> f64 {
        if self.weights == 0 {
            return 0.0;
        }
        let sum: f64 = self
            .lines
            .iter()
            .map(|l| f64::from(l.item.weight) * l.exposure.unwrap_or(0.0))
            .sum();
        10.0 * sum / f64::from(self.weights)
    }

    /// The score rounded to one decimal, as shown.
    pub fn total(&self) -> f64 {
        (self.exact() * 10.0).round() / 10.0
    }

    /// What `line` adds to the score (score points; the lines add up to [`Score::exact`]).
    pub fn contribution(&self, line: &Line) -> f64 {
        if self.weights == 0 {
            return 0.0;
        }
        10.0 * f64::from(line.item.weight) * line.exposure.unwrap_or(0.0) / f64::from(self.weights)
    }

    /// The line of item `id`.
    pub fn line(&self, id: &str) -> Option<&Line> {
        self.lines.iter().find(|l| l.item.id == id)
    }
}

/// How exposed capabilities are in a user namespace whose root is not the host's: they act
/// only on what the namespace owns, but still reach kernel code (see docs/score.md).
const NESTED_CAPS: f64 = 0.5;

/// Score `s` by [`RUBRIC`].
pub fn score(s: &Subject) -> Score {
    let mut lines = Vec::with_capacity(RUBRIC.len());
    for it in RUBRIC {
        let (exposure, reason) = judge(it, s);
        lines.push(Line {
            item: it,
            exposure,
            reason,
        });
    }
    let weights = lines
        .iter()
        .filter(|l| l.exposure.is_some())
        .map(|l| l.item.weight)
        .sum();
    Score { lines, weights }
}

fn judge(it: &Item, s: &Subject) -> (Option<f64>, String) {
    match it.section {
        Section::Seccomp => seccomp_item(it, s),
        Section::Capabilities => cap_item(it, s),
        Section::Process => process_item(it, s),
    }
}

fn yes(e: f64, why: impl Into<String>) -> (Option<f64>, String) {
    (Some(e), why.into())
}

fn seccomp_item(it: &Item, s: &Subject) -> (Option<f64>, String) {
    if let Some(g) = GROUPS.iter().find(|g| g.id == it.id) {
        if let Some((maj, min)) = g.before {
            if (s.kernel.kernel, s.kernel.major) >= (maj, min) {
                return (
                    None,
                    format!(
                        "n/a: kernel {}.{} is {maj}.{min} or later",
                        s.kernel.kernel, s.kernel.major
                    ),
                );
            }
        }
    }
    let f = match &s.seccomp {
        Seccomp::Disabled => {
            return yes(
                1.0,
                if it.id == "seccomp" {
                    "none: every syscall runs"
                } else {
                    "no filter"
                },
            )
        }
        Seccomp::Strict => {
            return yes(
                0.0,
                if it.id == "seccomp" {
                    "strict mode"
                } else {
                    "strict mode: read, write, _exit, sigreturn only"
                },
            )
        }
        Seccomp::Filter(f) => f,
    };
    match it.id {
        "seccomp" => yes(0.0, "filter"),
        "syscalls-allowed" => {
            let e = if f.total == 0 {
                1.0
            } else {
                f.allowed as f64 / f.total as f64
            };
            yes(e, format!("{} of {}", f.allowed, f.total))
        }
        "default-refuses" => match f.found("default-allow") {
            Some(_) => yes(1.0, "no: a deny list"),
            None => yes(0.0, "yes: an allow list"),
        },
        "abi-bypass" => match f.found("abi-bypass") {
            Some(_) => yes(1.0, "another ABI runs what the native one refuses"),
            None => yes(0.0, "every ABI checked"),
        },
        "arg-width-bypass" => match f.found("arg-width-bypass") {
            Some(v) => yes(
                1.0,
                format!(
                    "{}: refused values pass with bits the kernel drops",
                    v.join(", ")
                ),
            ),
            None => yes(0.0, "none found"),
        },
        id => match f.found(id) {
            Some(v) if v.is_empty() => yes(1.0, "runs"),
            Some(v) => yes(1.0, format!("runs: {}", short_list(&v))),
            None => yes(0.0, "refused"),
        },
    }
}

/// At most three names, then a count.
fn short_list(v: &[String]) -> String {
    if v.len() <= 3 {
        v.join(", ")
    } else {
        format!("{}, … ({} in all)", v[..3].join(", "), v.len())
    }
}

fn cap(name: &str) -> Capability {
    // the names of NAMED_CAPS are confine-abi's (a unit test checks every one)
    Capability::parse(name).unwrap_or(Capability(u8::MAX))
}

fn cap_item(it: &Item, s: &Subject) -> (Option<f64>, String) {
    let set = s.caps.reachable(s.no_new_privs);
    let basis = if s.no_new_privs {
        "permitted"
    } else {
        "bounding"
    };
    let scale = match s.userns {
        UserNs::Nested { root_on_host } if root_on_host != Some(0) => NESTED_CAPS,
        _ => 1.0,
    };
    let nested = if scale < 1.0 {
        ", in a user namespace"
    } else {
        ""
    };
    if it.id == "cap-other" {
        let others: Vec<Capability> = Capability::known()
            .filter(|c| {
                !NAMED_CAPS
                    .iter()
                    .flat_map(|(_, n)| n.iter())
                    .any(|n| cap(n) == *c)
            })
            .collect();
        let held = others.iter().filter(|c| set.contains(**c)).count();
        let e = held as f64 / others.len() as f64 * scale;
        return yes(e, format!("{held} of {} ({basis}{nested})", others.len()));
    }
    let Some((_, names)) = NAMED_CAPS.iter().find(|(id, _)| *id == it.id) else {
        return yes(0.0, "");
    };
    let held: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| set.contains(cap(n)))
        .collect();
    // CAP_SETUID alone becomes any user; CAP_SETGID alone any group
    let e = match (held.contains(&"SETUID"), held.len()) {
        (true, _) => 1.0,
        (false, 0) => 0.0,
        _ if names.len() > 1 => 0.5,
        _ => 1.0,
    } * scale;
    if held.is_empty() {
        yes(0.0, format!("not in the {basis} set"))
    } else {
        yes(e, format!("in the {basis} set{nested}"))
    }
}

fn process_item(it: &Item, s: &Subject) -> (Option<f64>, String) {
    match it.id {
        "no-new-privileges" => {
            if s.no_new_privs {
                yes(0.0, "set")
            } else {
                yes(1.0, "not set: execve can gain privileges")
            }
        }
        "mac" => mac(&s.mac),
        "user-namespace" => match s.userns {
            UserNs::Initial => yes(1.0, "the host's"),
            UserNs::Nested {
                root_on_host: Some(0),
            } => yes(0.5, "its own, root is the host's root"),
            UserNs::Nested {
                root_on_host: Some(u),
            } => yes(0.0, format!("its own, root is host uid {u}")),
            UserNs::Nested { root_on_host: None } => yes(0.0, "its own, root not mapped"),
        },
        "root" => {
            if s.uid == 0 {
                yes(1.0, "uid 0 on the host")
            } else {
                yes(0.0, format!("uid {}", s.uid))
            }
        }
        _ => yes(0.0, ""),
    }
}

/// SELinux types that confine nothing.
const SELINUX_UNCONFINED: &[&str] = &["unconfined_t", "spc_t", "kernel_t", "initrc_t"];

fn mac(m: &Mac) -> (Option<f64>, String) {
    let mut best: (f64, String) = (1.0, "none".into());
    let mut take = |e: f64, why: String| {
        if e < best.0 {
            best = (e, why);
        }
    };
    if let Some(a) = &m.apparmor {
        if a.label != "unconfined" {
            if a.enforce {
                take(0.0, format!("AppArmor {}", a.label));
            } else {
                take(0.8, format!("AppArmor {} (complain)", a.label));
            }
        }
    }
    if let Some(c) = &m.selinux {
        if !SELINUX_UNCONFINED.iter().any(|t| c.contains(t)) {
            take(0.0, format!("SELinux {c}"));
        }
    }
    if let Some(l) = m.landlock {
        if l.fs {
            take(0.2, "Landlock with file rules".into());
        } else {
            take(0.7, "Landlock scopes only, no file rules".into());
        }
    }
    (Some(best.0), best.1)
}

#[cfg(test)]
mod tests;
