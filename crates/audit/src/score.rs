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
        "arg-32bit-bypass",
        "32-bit argument bypass",
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
        "arg-32bit-bypass" => match f.found("arg-32bit-bypass") {
            Some(v) => yes(1.0, format!("{} passes with a high half", v.join(", "))),
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
mod tests {
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
        let t = Target {
            stack: Stack::new(programs).unwrap(),
            native: Arch::X86_64,
            kernel: K,
            profile: None,
        };
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
        assert_eq!(s.line("arg-32bit-bypass").unwrap().exposure, Some(1.0));
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
    fn a_deny_list_and_an_unchecked_abi_are_exposed() {
        // ret ALLOW: every call of every architecture runs, like no filter for the groups
        let f = filter_of(&[ret(confine_bpf::action::ALLOW)]);
        let s = score(&subject(Seccomp::Filter(f.clone()), CapSet::EMPTY));
        assert_eq!(s.line("seccomp").unwrap().exposure, Some(0.0));
        for id in ["default-refuses", "abi-bypass", "kexec", "io-uring"] {
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
}
