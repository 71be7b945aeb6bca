//! The human report for one process: aligned sections, names instead of hex.

use super::{HostFacts, Report, Style};
use confine_abi::CapSet;
use confine_apparmor::kernel::LabelState;
use confine_bpf::stack::Verdict;
use confine_inspect::ids::{is_identity, Names};
use std::fmt::Write as _;

/// The full mask of this kernel's capabilities.
pub fn full_mask(last_cap: Option<u8>) -> Option<u64> {
    last_cap.map(|l| {
        if l >= 63 {
            u64::MAX
        } else {
            (1u64 << (l + 1)) - 1
        }
    })
}

/// Capability names, lower case without the prefix; bits this kernel does not know (above
/// /proc/sys/kernel/cap_last_cap) or confine does not know as cap_N.
pub fn cap_names(m: u64) -> Vec<String> {
    static LAST: std::sync::OnceLock<Option<u8>> = std::sync::OnceLock::new();
    cap_names_upto(
        m,
        *LAST.get_or_init(|| confine_kernel::process::last_cap().ok()),
    )
}

fn cap_names_upto(m: u64, last_cap: Option<u8>) -> Vec<String> {
    CapSet(m)
        .iter()
        .map(|c| {
            if last_cap.is_some_and(|l| c.0 > l) {
                return format!("cap_{}", c.0);
            }
            let n = c.name();
            n.strip_prefix("CAP_")
                .map(str::to_ascii_lowercase)
                .unwrap_or(n)
        })
        .collect()
}

/// A capability set in words: none, all, Docker's default, or the names.
pub fn caps_words(v: Option<u64>, last_cap: Option<u8>) -> String {
    match v {
        None => "not shown by this kernel".into(),
        Some(0) => "none".into(),
        Some(m) if Some(m) == full_mask(last_cap) => "all".into(),
        Some(m) if CapSet(m) == CapSet::docker_default() => {
            format!("Docker's default 14: {}", cap_names(m).join(" "))
        }
        Some(m) => cap_names(m).join(" "),
    }
}

/// `+added -missing` against Docker's default set.
pub fn vs_docker(m: u64) -> String {
    let d = CapSet::docker_default().0;
    let mut parts: Vec<String> = cap_names(m & !d)
        .into_iter()
        .map(|n| format!("+{n}"))
        .collect();
    parts.extend(cap_names(d & !m).into_iter().map(|n| format!("-{n}")));
    if parts.is_empty() {
        "same as Docker's default".into()
    } else {
        parts.join(" ")
    }
}

/// The AppArmor state in words.
pub fn apparmor_words(l: &LabelState) -> String {
    match l {
        LabelState::Label(l) => l.to_string(),
        LabelState::NoLsm => "no LSM (AppArmor is not active in this kernel)".into(),
        LabelState::PermissionDenied => "unknown (permission denied)".into(),
        LabelState::Gone => "unknown (process exited)".into(),
        LabelState::Error(e) => format!("unknown ({e})"),
    }
}

fn id_words(ids: Option<[u32; 4]>, name: impl Fn(u32) -> Option<String>) -> String {
    match ids {
        None => "unreadable".into(),
        Some([r, e, s, f]) => {
            let n = |i: u32| match name(i) {
                Some(n) => format!("{i} ({n})"),
                None => i.to_string(),
            };
            if r == e && e == s && s == f {
                n(r)
            } else {
                format!("{} [effective {}, saved {}, fs {}]", n(r), n(e), n(s), n(f))
            }
        }
    }
}

/// Render one report.
pub fn report(r: &Report, facts: &HostFacts, style: &Style, hex: bool, host_names: bool) -> String {
    let p = &r.process;
    let s = &p.status;
    // this host's /etc/passwd names only mean something for the host's own processes
    let names = if host_names && p.container.is_none() {
        Names::load(std::path::Path::new("/"))
    } else {
        Names::default()
    };
    let mut out = String::new();
    let line = |out: &mut String, k: &str, v: String| {
        let _ = writeln!(out, "  {k:<13} {v}");
    };
    let _ = writeln!(
        out,
        "{}",
        style.head(&format!(
            "process {}  {}{}",
            p.pid,
            crate::output::visible(s.name.as_deref().unwrap_or("?")),
            if s.is_zombie() { " (zombie)" } else { "" }
        ))
    );
    if s.is_zombie() {
        line(
            &mut out,
            "state",
            format!(
                "zombie: exited, not yet reaped by its parent{}; what follows is what the kernel kept",
                s.ppid.map(|p| format!(" {p}")).unwrap_or_default()
            ),
        );
    }
    let mut cmd = match &p.cmdline {
        Some(c) if c.is_empty() && s.is_zombie() => "none (zombie)".into(),
        Some(c) => crate::output::visible(c).into_owned(),
        None => "unreadable".into(),
    };
    if cmd.chars().count() > 100 {
        cmd = cmd.chars().take(99).collect::<String>() + "…";
    }
    line(&mut out, "command", cmd);
    line(
        &mut out,
        "executable",
        p.exe
            .as_deref()
            .map(|e| crate::output::visible(e).into_owned())
            .unwrap_or_else(|e| {
                if e.is_none() {
                    e.to_string()
                } else {
                    format!("unknown ({e})")
                }
            }),
    );
    line(
        &mut out,
        "parent",
        s.ppid
            .map(|x| x.to_string())
            .unwrap_or_else(|| "unknown".into()),
    );
    let container = match &p.container {
        Some(c) => format!(
            "{} {} (from {})",
            c.runtime,
            &c.id[..c.id.len().min(12)],
            c.source
        ),
        None if p.pid == std::process::id() && !facts.self_markers.is_empty() => {
            format!("yes: {}", facts.self_markers.join(", "))
        }
        None => "none found (host)".into(),
    };
    line(&mut out, "container", container);

    let _ = writeln!(out, "{}", style.head("confinement"));
    line(&mut out, "apparmor", apparmor_words(&p.apparmor));
    line(
        &mut out,
        "selinux",
        match &p.selinux {
            None => "not active".into(),
            Some(Ok(c)) => c.clone(),
            Some(Err(e)) => format!("unknown ({e})"),
        },
    );
    for (i, l) in super::landlock::lines(r.landlock.as_ref(), &facts.landlock)
        .into_iter()
        .enumerate()
    {
        let k = if i == 0 { "landlock" } else { "" };
        line(&mut out, k, l);
    }
    let mut sec = match (s.seccomp, s.seccomp_filters) {
        (Some(m), Some(n)) => format!(
            "{}, {n} {}",
            m.name(),
            if n == 1 { "filter" } else { "filters" }
        ),
        (Some(m), None) => m.name(),
        (None, _) => "not shown by this kernel".into(),
    };
    if let Some(Ok(v)) = &r.seccomp {
        if let Some(i) = &v.identified {
            let _ = write!(sec, "; {i}");
        }
    }
    line(&mut out, "seccomp", sec);
    line(
        &mut out,
        "no_new_privs",
        match s.no_new_privs {
            Some(true) => "yes".into(),
            Some(false) => "no".into(),
            None => "not shown by this kernel".into(),
        },
    );

    line(
        &mut out,
        "tracer",
        match s.tracer_pid {
            Some(0) => "none".into(),
            Some(t) => t.to_string(),
            None => "unknown".into(),
        },
    );
    let _ = writeln!(out, "{}", style.head("identity"));
    line(
        &mut out,
        "uid",
        id_words(s.uid, |i| names.user(i).map(str::to_string)),
    );
    line(
        &mut out,
        "gid",
        id_words(s.gid, |i| names.group(i).map(str::to_string)),
    );
    line(
        &mut out,
        "groups",
        match &s.groups {
            None => "unreadable".into(),
            Some(g) if g.is_empty() => "none".into(),
            Some(g) => g
                .iter()
                .map(|i| match names.group(*i) {
                    Some(n) => format!("{i} ({n})"),
                    None => i.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" "),
        },
    );
    line(
        &mut out,
        "user ns map",
        match (&p.uid_map, &p.gid_map) {
            (Some(u), Some(g)) if is_identity(u) && is_identity(g) => {
                "identity (the initial user namespace's)".into()
            }
            (Some(u), _) => u
                .iter()
                .map(|m| {
                    format!(
                        "uid {}-{} → {}",
                        m.inside,
                        m.inside as u64 + m.count as u64 - 1,
                        m.outside
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            _ => "unreadable".into(),
        },
    );

    let _ = writeln!(out, "{}", style.head("capabilities"));
    for (k, v) in [
        ("bounding", s.cap_bnd),
        ("permitted", s.cap_prm),
        ("effective", s.cap_eff),
        ("inheritable", s.cap_inh),
        ("ambient", s.cap_amb),
    ] {
        let mut w = caps_words(v, facts.last_cap);
        if hex {
            if let Some(m) = v {
                let _ = write!(w, " [{m:016x}]");
            }
        }
        if k == "inheritable" && v.is_some_and(|m| m != 0) {
            w = format!(
                "{w}  {}",
                style.warn(
                    "(non-empty: a runtime from before the CVE-2022-24769 fix, or set on purpose)"
                )
            );
        }
        line(&mut out, k, w);
    }
    if let Some(b) = s.cap_bnd {
        line(&mut out, "vs docker", format!("bounding {}", vs_docker(b)));
    }

    if !p.namespaces.is_empty() {
        let _ = writeln!(out, "{}", style.head("namespaces"));
        for n in &p.namespaces {
            let v = match &n.inode {
                Ok(i) if hex => format!(
                    "{:<8} {i} [{i:#x}] (by {})",
                    n.verdict.short(),
                    n.verdict.basis()
                ),
                Ok(i) => format!("{:<8} {i} (by {})", n.verdict.short(), n.verdict.basis()),
                Err(e) if e.is_none() => e.to_string(),
                Err(e) => format!("unknown ({e})"),
            };
            line(&mut out, n.kind, v);
        }
    }
    for (tid, diffs) in &r.threads {
        line(&mut out, &format!("thread {tid}"), diffs.join("; "));
    }
    if let Some(sc) = &r.seccomp {
        out.push_str(&syscalls(sc, style));
    }
    out
}

fn syscalls(sc: &Result<super::SeccompView, String>, style: &Style) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", style.head("seccomp filters"));
    let v = match sc {
        Err(e) => {
            let _ = writeln!(out, "  unreadable: {e}");
            return out;
        }
        Ok(v) => v,
    };
    if v.filters.is_empty() {
        let _ = writeln!(
            out,
            "  none: {}",
            if v.strict {
                "seccomp strict mode (only read, write, _exit and sigreturn are allowed)"
            } else {
                "seccomp is disabled (every syscall is allowed)"
            }
        );
    }
    for (i, f) in v.filters.iter().enumerate() {
        let flags = match f.flags {
            Some(0) => "no flags".to_string(),
            Some(2) => "flag LOG".to_string(),
            Some(x) => format!("flags {x:#x}"),
            None => "flags unknown".to_string(),
        };
        let _ = writeln!(out, "  filter {i}: {} instructions, {flags}", f.prog.len());
    }
    for a in v.decoded.iter() {
        if !a.accepted {
            let bad = a
                .syscalls
                .first()
                .map(|s| s.verdict.describe())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}: not accepted (every call: {bad})",
                a.arch.kernel_name()
            );
            continue;
        }
        let summary: Vec<String> = a
            .summary()
            .into_iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        let _ = writeln!(
            out,
            "  {}: {} numbers: {}",
            a.arch.kernel_name(),
            a.syscalls.len(),
            summary.join(", ")
        );
        // every syscall's verdict, grouped; the most common verdict (usually ALLOW) first
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for s in &a.syscalls {
            if let Verdict::Depends(_) = s.verdict {
                continue;
            }
            let k = s.verdict.describe();
            let name = s
                .name
                .map(str::to_string)
                .unwrap_or_else(|| format!("#{:#x}", s.nr));
            match groups.iter_mut().find(|(g, _)| *g == k) {
                Some((_, v)) => v.push(name),
                None => groups.push((k, vec![name])),
            }
        }
        groups.sort_by_key(|g| std::cmp::Reverse(g.1.len()));
        for (k, names) in groups {
            let _ = writeln!(out, "    {k} ({}): {}", names.len(), names.join(" "));
        }
        for s in &a.syscalls {
            if let Verdict::Depends(_) = s.verdict {
                let name = s
                    .name
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("#{}", s.nr));
                let _ = writeln!(out, "    {name}: {}", s.verdict.describe_abi(a.args64));
                for f in confine_audit::about(&v.widths, a.arch, &name) {
                    let _ = writeln!(out, "      ! {}: {}", f.id, f.message);
                }
            }
        }
    }
    if let Some(c) = &v.compared {
        out.push_str(&compared(c));
    }
    out
}

/// The `compared with PROFILE` lines.
pub fn compared(c: &Result<super::Compared, String>) -> String {
    let mut out = String::new();
    let c = match c {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(out, "  not compared: {e}");
            return out;
        }
    };
    let spec = &c.profile;
    let note = c
        .note
        .as_deref()
        .map(|n| format!(": {n}"))
        .unwrap_or_default();
    if c.equivalent {
        let _ = writeln!(
            out,
            "  compared with {spec}: equivalent (every syscall decided alike){note}"
        );
    } else if c.differences.is_empty() {
        let _ = writeln!(out, "  compared with {spec}: differs{note}");
    } else {
        let _ = writeln!(
            out,
            "  compared with {spec}: {} differences{note}",
            c.differences.len()
        );
        for d in &c.differences {
            let name = d
                .name
                .map(str::to_string)
                .unwrap_or_else(|| format!("#{}", d.nr));
            let _ = writeln!(
                out,
                "    {} {name}: running {} / profile {}",
                d.arch.kernel_name(),
                d.left.describe(),
                d.right.describe()
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_above_the_kernels_last_cap_are_numbered() {
        // a 5.4 kernel (cap_last_cap 37) seeing bpf (39) and a bit nobody names (50)
        let m = (1 << 0) | (1 << 39) | (1 << 50);
        assert_eq!(cap_names_upto(m, Some(37)), ["chown", "cap_39", "cap_50"]);
        assert_eq!(cap_names_upto(m, Some(40)), ["chown", "bpf", "cap_50"]);
        assert_eq!(full_mask(Some(40)), Some(0x1ff_ffff_ffff));
    }
}
