//! systemd's syscall groups (`@system-service`, `@mount`, …) as systemd 252 defines them,
//! captured with `systemd-analyze syscall-filter` by `tools/capture-systemd-groups` into
//! `data/systemd-syscall-filter.txt`, and what `SystemCallFilter=` can and cannot say.
//!
//! # References
//! * systemd.exec(5), `SystemCallFilter=`: an allow list always permits `@default`; the
//!   syscalls systemd does not know are answered with ENOSYS under an allow list.

use std::collections::{BTreeMap, BTreeSet};

/// The captured output.
pub const DATA: &str = include_str!("../data/systemd-syscall-filter.txt");

/// The groups, each with its members as listed (names, and `@group` references).
pub fn groups() -> BTreeMap<&'static str, Vec<&'static str>> {
    let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut current: Option<&str> = None;
    for line in DATA.lines() {
        if let Some(name) = line.strip_prefix('@') {
            let name = name.trim();
            out.entry(name).or_default();
            current = Some(name);
        } else if let Some(member) = line.strip_prefix("    ") {
            let member = member.trim();
            if member.is_empty() || member.starts_with('#') {
                continue;
            }
            if let Some(g) = current {
                out.entry(g).or_default().push(member);
            }
        } else {
            // a comment or blank line at the left margin ends the group
            current = None;
        }
    }
    out
}

/// The names in group `name` (without `@`), other groups expanded; None for no such group.
pub fn expand(name: &str) -> Option<BTreeSet<&'static str>> {
    let all = groups();
    all.get(name)?;
    let mut out = BTreeSet::new();
    let mut todo = vec![name.to_string()];
    let mut seen = BTreeSet::new();
    while let Some(g) = todo.pop() {
        if !seen.insert(g.clone()) {
            continue;
        }
        for m in all.get(g.as_str()).into_iter().flatten() {
            match m.strip_prefix('@') {
                Some(inner) => todo.push(inner.to_string()),
                None => {
                    out.insert(*m);
                }
            }
        }
    }
    Some(out)
}

/// Every syscall name systemd 252 knows: `@known`, and every group's members (a group may
/// name a call newer than the kernel headers `@known` came from).
pub fn known() -> BTreeSet<&'static str> {
    let mut k = expand("known").unwrap_or_default();
    for members in groups().values() {
        k.extend(members.iter().filter(|m| !m.starts_with('@')));
    }
    k
}

/// The systemd version the groups come from (the header's second line).
pub fn version() -> &'static str {
    DATA.lines()
        .nth(1)
        .and_then(|l| l.strip_prefix("## "))
        .unwrap_or("systemd")
}

/// `SystemCallArchitectures=`'s name of an architecture (systemd's `seccomp_arch_to_string`),
/// None where systemd has none.
pub fn arch_name(arch: confine_abi::Arch) -> Option<&'static str> {
    Some(match arch.kernel_name() {
        "x86_64" => "x86-64",
        "x86" => "x86",
        "x32" => "x32",
        "arm" => "arm",
        "aarch64" => "arm64",
        "loongarch64" => "loongarch64",
        "mips" => "mips",
        "mipsel" => "mips-le",
        "mips64" => "mips64",
        "mipsel64" => "mips64-le",
        "mips64n32" => "mips64-n32",
        "mipsel64n32" => "mips64-le-n32",
        "ppc" => "ppc",
        "ppc64" => "ppc64",
        "ppc64le" => "ppc64-le",
        "riscv64" => "riscv64",
        "s390" => "s390",
        "s390x" => "s390x",
        _ => return None,
    })
}

/// A unit drop-in for a resolved profile, and what it could not say (each naming the rule).
pub struct DropIn {
    /// The drop-in's text (`[Service]` and its lines).
    pub text: String,
    /// What systemd cannot express or decides otherwise, one line each.
    pub losses: Vec<String>,
}

/// The `[Service]` lines that filter as `r` does, as far as `SystemCallFilter=` can.
pub fn drop_in(r: &crate::Resolved, label: &str) -> DropIn {
    use crate::model::Action;
    use confine_abi::SyscallTable;
    let mut losses = Vec::new();
    let tables: Vec<&SyscallTable> = r
        .architectures
        .iter()
        .filter_map(|a| SyscallTable::for_arch(*a).ok())
        .collect();
    let exists = |n: &str| tables.iter().any(|t| t.number(n).is_some());
    let known = known();
    let errno_name = |e: u32| {
        u16::try_from(e)
            .ok()
            .and_then(confine_abi::errno::name)
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string())
    };
    let rule_label = |i: usize, names: &[String]| {
        let shown: Vec<&str> = names.iter().take(4).map(String::as_str).collect();
        format!(
            "rule {i} ({}{})",
            shown.join(", "),
            if names.len() > 4 { ", …" } else { "" }
        )
    };
    let mut arches = Vec::new();
    for a in &r.architectures {
        match arch_name(*a) {
            Some(n) => arches.push(n),
            None => losses.push(format!(
                "architecture {}: systemd has no name for it; left out",
                a.kernel_name()
            )),
        }
    }
    let mut lines = vec![format!(
        "# exported by confine from {label} ({})",
        version()
    )];
    let deny_list = matches!(r.default_action, Action::Allow | Action::Log);
    if deny_list {
        // default allow: a deny list of what the rules refuse
        if r.default_action == Action::Log {
            losses.push(
                "defaultAction SCMP_ACT_LOG: systemd does not log; the calls are allowed".into(),
            );
        }
        let mut entries: BTreeSet<String> = BTreeSet::new();
        for (i, rule) in r.rules.iter().enumerate() {
            let names: Vec<String> = rule.names.iter().cloned().collect();
            if matches!(rule.action, Action::Allow | Action::Log) {
                continue;
            }
            if !rule.args.is_empty() {
                losses.push(format!(
                    "{}: refused only under argument conditions, which systemd cannot compare; left allowed",
                    rule_label(i, &names)
                ));
                continue;
            }
            for n in names.iter().filter(|n| exists(n)) {
                if !known.contains(n.as_str()) {
                    losses.push(format!("{n}: unknown to {}; left allowed", version()));
                    continue;
                }
                entries.insert(match rule.action {
                    Action::Errno => format!("{n}:{}", errno_name(rule.errno_ret.unwrap_or(1))),
                    _ => n.clone(),
                });
            }
            if !matches!(
                rule.action,
                Action::Errno | Action::KillProcess | Action::KillThread
            ) {
                losses.push(format!(
                    "{}: {} becomes a kill",
                    rule_label(i, &names),
                    rule.action.as_str()
                ));
            }
        }
        lines.push("[Service]".into());
        if !arches.is_empty() {
            lines.push(format!("SystemCallArchitectures={}", arches.join(" ")));
        }
        push_wrapped(&mut lines, "~", entries.into_iter().collect());
        return DropIn {
            text: lines.join("\n") + "\n",
            losses,
        };
    }
    // an allow list
    let default_errno = match r.default_action {
        Action::Errno => Some(r.default_errno_ret.unwrap_or(1)),
        Action::KillProcess | Action::KillThread => None,
        other => {
            losses.push(format!(
                "defaultAction {}: systemd kills instead",
                other.as_str()
            ));
            None
        }
    };
    let mut allowed: BTreeSet<String> = BTreeSet::new();
    let whole: BTreeSet<&str> = r
        .rules
        .iter()
        .filter(|x| matches!(x.action, Action::Allow | Action::Log) && x.args.is_empty())
        .flat_map(|x| x.names.iter().map(String::as_str))
        .collect();
    for (i, rule) in r.rules.iter().enumerate() {
        let names: Vec<String> = rule.names.iter().cloned().collect();
        match rule.action {
            Action::Allow | Action::Log => {
                if rule.action == Action::Log {
                    losses.push(format!(
                        "{}: logged calls are allowed unlogged",
                        rule_label(i, &names)
                    ));
                }
                if !rule.args.is_empty() && names.iter().any(|n| !whole.contains(n.as_str())) {
                    losses.push(format!(
                        "{}: allowed only under argument conditions, which systemd cannot compare; allowed whole",
                        rule_label(i, &names)
                    ));
                }
                allowed.extend(names.into_iter().filter(|n| exists(n)));
            }
            Action::Errno if rule.errno_ret.unwrap_or(1) != default_errno.unwrap_or(u32::MAX) => {
                let live: Vec<String> = names
                    .iter()
                    .filter(|n| exists(n) && !whole.contains(n.as_str()))
                    .cloned()
                    .collect();
                if !live.is_empty() {
                    losses.push(format!(
                        "{}: errno {} becomes the default's ({}; ENOSYS for the calls systemd does not know)",
                        rule_label(i, &live),
                        errno_name(rule.errno_ret.unwrap_or(1)),
                        default_errno.map(errno_name).unwrap_or_else(|| "a kill".into())
                    ));
                }
            }
            Action::Errno => {}
            other => {
                let live: Vec<String> = names.iter().filter(|n| exists(n)).cloned().collect();
                if !live.is_empty() && default_errno.is_some() {
                    losses.push(format!(
                        "{}: {} becomes the default errno",
                        rule_label(i, &live),
                        other.as_str()
                    ));
                }
            }
        }
    }
    let unknown: Vec<String> = allowed
        .iter()
        .filter(|n| !known.contains(n.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        losses.push(format!(
            "{}: unknown to {}; systemd answers them with ENOSYS",
            unknown.join(", "),
            version()
        ));
    }
    allowed.retain(|n| known.contains(n.as_str()));
    let implicit: BTreeSet<&str> = expand("default")
        .unwrap_or_default()
        .into_iter()
        .filter(|n| exists(n))
        .collect();
    let widened: Vec<&str> = implicit
        .iter()
        .copied()
        .filter(|n| !allowed.contains(*n))
        .collect();
    if !widened.is_empty() {
        let shown: Vec<&str> = widened.iter().take(6).copied().collect();
        losses.push(format!(
            "{} call(s) of @default ({}{}) allowed anyway: systemd always permits @default under an allow list",
            widened.len(),
            shown.join(", "),
            if widened.len() > shown.len() { ", …" } else { "" }
        ));
    }
    // whole groups, largest first, whose members (on these ABIs) are all allowed
    let mut covered: BTreeSet<String> = implicit.iter().map(|s| s.to_string()).collect();
    let mut chosen = Vec::new();
    let mut candidates: Vec<(&str, BTreeSet<&str>)> = groups()
        .keys()
        .filter(|g| !matches!(**g, "default" | "known"))
        .filter_map(|g| {
            let live: BTreeSet<&str> = expand(g)?.into_iter().filter(|n| exists(n)).collect();
            Some((*g, live))
        })
        .filter(|(_, live)| !live.is_empty())
        .collect();
    candidates.sort_by_key(|(g, live)| (std::cmp::Reverse(live.len()), *g));
    for (g, live) in candidates {
        let all_allowed = live
            .iter()
            .all(|n| allowed.contains(*n) || implicit.contains(n));
        let adds = live.iter().any(|n| !covered.contains(*n));
        if all_allowed && adds {
            chosen.push(format!("@{g}"));
            covered.extend(live.iter().map(|s| s.to_string()));
        }
    }
    let mut entries = chosen;
    entries.extend(allowed.iter().filter(|n| !covered.contains(*n)).cloned());
    lines.push("[Service]".into());
    if !arches.is_empty() {
        lines.push(format!("SystemCallArchitectures={}", arches.join(" ")));
    }
    push_wrapped(&mut lines, "", entries);
    if let Some(e) = default_errno {
        lines.push(format!("SystemCallErrorNumber={}", errno_name(e)));
    }
    DropIn {
        text: lines.join("\n") + "\n",
        losses,
    }
}

/// `SystemCallFilter=` lines of about 100 columns (assignments of one kind add up).
fn push_wrapped(lines: &mut Vec<String>, prefix: &str, entries: Vec<String>) {
    let mut line = String::new();
    for e in entries {
        if !line.is_empty() && line.len() + e.len() > 100 {
            lines.push(format!("SystemCallFilter={prefix}{line}"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&e);
    }
    if !line.is_empty() {
        lines.push(format!("SystemCallFilter={prefix}{line}"));
    }
}

/// A `SystemCallFilter=` set as systemd reads its assignments (systemd.exec(5)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// None until an assignment decides; Some(true) an allow list, Some(false) a deny list.
    pub allow_list: Option<bool>,
    /// The names, each with its `:errno` when it has one (groups expanded).
    pub names: BTreeMap<String, Option<String>>,
    /// `SystemCallErrorNumber=`, as written (a name or a number).
    pub error_number: Option<String>,
    /// `SystemCallArchitectures=` entries, as written.
    pub architectures: Vec<String>,
    /// Entries that are no name systemd knows and no group, with their line.
    pub unknown: Vec<(usize, String)>,
}

/// Read the `SystemCall*=` lines of a unit or drop-in (or a bare `SystemCallFilter=` value,
/// which is taken as one assignment), with systemd's semantics: the first assignment decides
/// allow list or deny list (`~`); a later one of the same kind adds, of the other kind
/// removes; an empty one resets.
pub fn read_filter(text: &str) -> Filter {
    let mut f = Filter::default();
    let known = known();
    let has_keys = text
        .lines()
        .any(|l| l.trim_start().starts_with("SystemCall"));
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let (key, value) = match line.split_once('=') {
            Some((k, v)) if has_keys => (k.trim(), v.trim()),
            _ if !has_keys && !line.is_empty() && !line.starts_with('#') => {
                ("SystemCallFilter", line)
            }
            _ => continue,
        };
        match key {
            "SystemCallErrorNumber" => {
                f.error_number = (!value.is_empty()).then(|| value.to_string())
            }
            "SystemCallArchitectures" => {
                if value.is_empty() {
                    f.architectures.clear();
                } else {
                    f.architectures
                        .extend(value.split_whitespace().map(str::to_string));
                }
            }
            "SystemCallFilter" => {
                if value.is_empty() {
                    f.allow_list = None;
                    f.names.clear();
                    continue;
                }
                let (deny, list) = match value.strip_prefix('~') {
                    Some(rest) => (true, rest),
                    None => (false, value),
                };
                let allow_list = *f.allow_list.get_or_insert(!deny);
                let adds = allow_list != deny;
                for entry in list.split_whitespace() {
                    let (name, errno) = match entry.split_once(':') {
                        Some((n, e)) => (n, Some(e.to_string())),
                        None => (entry, None),
                    };
                    let members: Vec<String> = match name.strip_prefix('@') {
                        Some(g) => match expand(g) {
                            Some(m) => m.into_iter().map(str::to_string).collect(),
                            None => {
                                f.unknown.push((i + 1, entry.to_string()));
                                continue;
                            }
                        },
                        None => {
                            if !known.contains(name) {
                                f.unknown.push((i + 1, entry.to_string()));
                            }
                            vec![name.to_string()]
                        }
                    };
                    for m in members {
                        if adds {
                            f.names.insert(m, errno.clone());
                        } else {
                            f.names.remove(&m);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    f
}

/// The architecture `SystemCallArchitectures=` names `s` ("native": `native`).
pub fn arch_of(s: &str, native: confine_abi::Arch) -> Option<confine_abi::Arch> {
    if s == "native" {
        return Some(native);
    }
    confine_abi::Arch::ALL
        .into_iter()
        .find(|a| arch_name(*a) == Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_read_and_expanded() {
        let g = groups();
        assert!(g.len() >= 29, "{}", g.len());
        let default = expand("default").unwrap();
        assert!(default.contains("exit_group") && default.contains("futex"));
        // @system-service lists other groups; expanded, it holds their members
        let service = expand("system-service").unwrap();
        assert!(g["system-service"].contains(&"@aio"));
        assert!(service.contains("io_submit"), "@aio's member");
        assert!(service.is_superset(&default));
        assert!(!service.contains("mount"));
        assert!(known().len() > 400);
        assert!(expand("no-such-group").is_none());
        assert!(version().starts_with("systemd 252"));
    }

    fn resolved(json: &str) -> crate::Resolved {
        let p = crate::parse_profile(json.as_bytes(), "t.json")
            .profile
            .unwrap();
        let host = crate::Host {
            arch: confine_abi::Arch::X86_64,
            caps: confine_abi::CapSet::docker_default(),
            kernel: crate::KernelVersion {
                kernel: 6,
                major: 8,
            },
        };
        match crate::resolve(&p, &host) {
            crate::Resolution::Filter(r) => r,
            crate::Resolution::Unconfined => panic!("unconfined"),
        }
    }

    #[test]
    fn an_allow_list_is_compressed_into_whole_groups() {
        let sync = expand("sync").unwrap();
        let names: Vec<String> = sync.iter().map(|s| format!("\"{s}\"")).collect();
        let r = resolved(&format!(
            r#"{{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":13,"architectures":["SCMP_ARCH_X86_64"],
               "syscalls":[{{"names":[{},"mount"],"action":"SCMP_ACT_ALLOW"}}]}}"#,
            names.join(",")
        ));
        let d = drop_in(&r, "t.json");
        assert!(
            d.text.contains("SystemCallFilter=@sync mount\n"),
            "{}",
            d.text
        );
        assert!(
            d.text.contains("SystemCallErrorNumber=EACCES\n"),
            "{}",
            d.text
        );
        assert!(
            d.text.contains("SystemCallArchitectures=x86-64\n"),
            "{}",
            d.text
        );
    }

    #[test]
    fn a_default_allow_becomes_a_deny_list_with_errnos() {
        let r = resolved(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],
               "syscalls":[{"names":["ptrace","mount"],"action":"SCMP_ACT_ERRNO","errnoRet":1},
                           {"names":["reboot"],"action":"SCMP_ACT_KILL_PROCESS"},
                           {"names":["personality"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}]}"#,
        );
        let d = drop_in(&r, "t.json");
        assert!(
            d.text
                .contains("SystemCallFilter=~mount:EPERM ptrace:EPERM reboot\n"),
            "{}",
            d.text
        );
        assert!(!d.text.contains("SystemCallErrorNumber"), "{}", d.text);
        assert_eq!(d.losses.len(), 1, "{:?}", d.losses);
        assert!(d.losses[0].contains("personality"), "{:?}", d.losses);
    }

    #[test]
    fn assignments_are_read_as_systemd_reads_them() {
        let f = read_filter(
            "[Service]\nSystemCallFilter=@sync mount\nSystemCallFilter=~fsync\nSystemCallErrorNumber=EACCES\nSystemCallArchitectures=native x86\n",
        );
        assert_eq!(f.allow_list, Some(true));
        assert!(f.names.contains_key("mount") && f.names.contains_key("fdatasync"));
        assert!(!f.names.contains_key("fsync"), "removed by the ~ line");
        assert_eq!(f.error_number.as_deref(), Some("EACCES"));
        assert_eq!(f.architectures, vec!["native", "x86"]);
        let f = read_filter("SystemCallFilter=~ptrace:EPERM reboot\nSystemCallFilter=\nSystemCallFilter=~kexec_load\n");
        assert_eq!(f.allow_list, Some(false));
        assert_eq!(
            f.names.keys().collect::<Vec<_>>(),
            vec!["kexec_load"],
            "reset by the empty one"
        );
        let f = read_filter("@clock nosuchcall @nosuchgroup");
        assert_eq!(f.allow_list, Some(true));
        assert_eq!(f.unknown.len(), 2, "{:?}", f.unknown);
        assert_eq!(
            arch_of("x86-64", confine_abi::Arch::X86_64),
            Some(confine_abi::Arch::X86_64)
        );
    }
}
