//! `confine inspect --all`: one line per process, grouped by container.

use super::render::full_mask;
use super::{HostFacts, Report, Style};
use confine_abi::CapSet;
use confine_apparmor::kernel::LabelState;
use std::fmt::Write as _;

fn caps_short(v: Option<u64>, last: Option<u8>) -> String {
    match v {
        None => "?".into(),
        Some(0) => "none".into(),
        Some(m) if Some(m) == full_mask(last) => "all".into(),
        Some(m) if CapSet(m) == CapSet::docker_default() => "docker".into(),
        Some(m) => format!("{} caps", m.count_ones()),
    }
}

/// Render the table.
pub fn render(reports: &[Report], facts: &HostFacts, style: &Style) -> String {
    let mut groups: Vec<(String, Vec<&Report>)> = Vec::new();
    for r in reports {
        let key = match &r.process.container {
            Some(c) => format!("{} {}", c.runtime, &c.id[..c.id.len().min(12)]),
            None => "host".into(),
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(r),
            None => groups.push((key, vec![r])),
        }
    }
    // the host first, then containers by name
    groups.sort_by(|a, b| (a.0 != "host", &a.0).cmp(&(b.0 != "host", &b.0)));
    // distinct filter stacks, numbered in order of appearance (decoded once each)
    let mut stacks: Vec<(*const Vec<confine_bpf::stack::ArchView>, String)> = Vec::new();
    for r in reports {
        if let Some(Ok(v)) = r
            .seccomp
            .as_ref()
            .filter(|v| v.as_ref().is_ok_and(|v| !v.filters.is_empty()))
        {
            let key = std::rc::Rc::as_ptr(&v.decoded);
            if !stacks.iter().any(|(k, _)| *k == key) {
                let what = v.identified.clone().unwrap_or_else(|| {
                    v.decoded
                        .first()
                        .map(|a| {
                            a.summary()
                                .into_iter()
                                .map(|(k, n)| format!("{n} {k}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default()
                });
                stacks.push((key, what));
            }
        }
    }
    let filter_of = |r: &Report| -> String {
        match &r.seccomp {
            Some(Ok(v)) if v.filters.is_empty() => String::new(),
            Some(Ok(v)) => {
                let key = std::rc::Rc::as_ptr(&v.decoded);
                let i = stacks.iter().position(|(k, _)| *k == key).unwrap_or(0);
                format!(" F{}", i + 1)
            }
            Some(Err(_)) => " ?".into(),
            None => String::new(),
        }
    };
    let mut out = String::new();
    let header = format!(
        "{:>7} {:>7} {:>6} {:<16} {:<10} {:<4} {:<8} {:<8} {:>5} {}",
        "PID", "PPID", "UID", "COMM", "SECCOMP", "NNP", "BOUNDING", "EFFECT.", "SCORE", "APPARMOR"
    );
    for (name, rs) in groups {
        let _ = writeln!(
            out,
            "{}",
            style.head(&format!("{name} ({} processes)", rs.len()))
        );
        let _ = writeln!(out, "{header}");
        for r in rs {
            let s = &r.process.status;
            let sec = match (s.seccomp, s.seccomp_filters) {
                (Some(confine_inspect::SeccompMode::Filter), Some(n)) => format!("filter:{n}"),
                (Some(m), _) => m.name(),
                (None, _) => "?".into(),
            };
            let aa = match &r.process.apparmor {
                LabelState::Label(l) => l.to_string(),
                LabelState::NoLsm => "-".into(),
                LabelState::PermissionDenied => "denied".into(),
                LabelState::Gone => "exited".into(),
                LabelState::Error(_) => "?".into(),
            };
            let mut comm: String = crate::output::visible(s.name.as_deref().unwrap_or("?"))
                .chars()
                .take(16)
                .collect();
            if s.is_zombie() {
                comm.push_str(" <zombie>");
            }
            // `?`: the score needs the filters, and they could not be read
            let score = match &r.score {
                Some(Ok(x)) => format!("{x:.1}"),
                Some(Err(_)) | None => "?".into(),
            };
            let _ = writeln!(
                out,
                "{:>7} {:>7} {:>6} {:<16} {:<10} {:<4} {:<8} {:<8} {:>5} {}",
                r.process.pid,
                s.ppid.map(|p| p.to_string()).unwrap_or_else(|| "?".into()),
                s.uid
                    .map(|u| u[1].to_string())
                    .unwrap_or_else(|| "?".into()),
                comm,
                sec,
                match s.no_new_privs {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "?",
                },
                caps_short(s.cap_bnd, facts.last_cap),
                caps_short(s.cap_eff, facts.last_cap),
                score,
                aa + &filter_of(r)
            );
        }
    }
    if !stacks.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            style.head("seccomp filter stacks (decoded once each)")
        );
        for (i, (_, what)) in stacks.iter().enumerate() {
            let _ = writeln!(out, "  F{}: {what}", i + 1);
        }
    }
    out.push_str(&comparisons(reports, style));
    out
}

/// With `--compare`: the processes that decide as the profile, counted, and every other one
/// with the reason.
fn comparisons(reports: &[Report], style: &Style) -> String {
    let mut out = String::new();
    let mut equivalent = 0;
    let mut lines = Vec::new();
    let mut profile = None;
    for r in reports {
        let c = match &r.seccomp {
            Some(Ok(v)) => match &v.compared {
                Some(c) => c,
                None => continue,
            },
            Some(Err(e)) => {
                lines.push(format!("  {}: not compared: {e}", r.process.pid));
                continue;
            }
            None => continue,
        };
        match c {
            Ok(c) if c.equivalent => {
                profile.get_or_insert(c.profile.clone());
                equivalent += 1;
            }
            Ok(c) => {
                profile.get_or_insert(c.profile.clone());
                let mut l = format!("  {}: differs", r.process.pid);
                if !c.differences.is_empty() {
                    l.push_str(&format!(" on {} syscalls", c.differences.len()));
                }
                if let Some(n) = &c.note {
                    l.push_str(&format!(": {n}"));
                }
                lines.push(l);
            }
            Err(e) => lines.push(format!("  {}: not compared: {e}", r.process.pid)),
        }
    }
    if equivalent == 0 && lines.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "{}",
        style.head(&format!(
            "compared with {}",
            profile.as_deref().unwrap_or("the profile")
        ))
    );
    let _ = writeln!(out, "  equivalent: {equivalent} processes");
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
    out
}
