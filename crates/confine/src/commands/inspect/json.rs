//! The JSON object for one process (schema: docs/inspect-schema.md, `confine.inspect/v1`).

use super::render::{cap_names, full_mask};
use super::{HostFacts, Report};
use confine_abi::CapSet;
use confine_apparmor::kernel::LabelState;
use confine_bpf::stack::Verdict;
use serde_json::{json, Value};

fn caps(v: Option<u64>, last_cap: Option<u8>) -> Value {
    match v {
        None => Value::Null,
        Some(m) => json!({
            "hex": format!("{m:016x}"),
            "names": cap_names(m),
            "all": Some(m) == full_mask(last_cap),
            "docker_default": CapSet(m) == CapSet::docker_default(),
        }),
    }
}

fn err_or<T: serde::Serialize, E: std::fmt::Display>(r: &Result<T, E>) -> Value {
    match r {
        Ok(v) => json!(v),
        Err(e) => json!({ "unknown": e.to_string() }),
    }
}

/// One process.
pub fn report(r: &Report, facts: &HostFacts, syscalls: bool) -> Value {
    let p = &r.process;
    let s = &p.status;
    let d = CapSet::docker_default().0;
    let apparmor = match &p.apparmor {
        LabelState::Label(l) => json!({"state": "label", "label": l.name, "mode": l.mode}),
        LabelState::NoLsm => json!({"state": "no LSM"}),
        LabelState::PermissionDenied => json!({"state": "permission denied"}),
        LabelState::Gone => json!({"state": "process exited"}),
        LabelState::Error(e) => json!({"state": "error", "error": e}),
    };
    let map = |m: &Option<Vec<confine_inspect::ids::MapRange>>| match m {
        None => Value::Null,
        Some(v) => json!(v
            .iter()
            .map(|r| json!({"inside": r.inside, "outside": r.outside, "count": r.count}))
            .collect::<Vec<_>>()),
    };
    let mut o = json!({
        "schema": "confine.inspect/v1",
        "pid": p.pid,
        "ppid": s.ppid,
        "comm": s.name,
        "state": s.state_words(),
        "kernel_thread": r.kernel_thread,
        "cmdline": p.cmdline,
        "exe": err_or(&p.exe),
        "uid": s.uid,
        "gid": s.gid,
        "groups": s.groups,
        "uid_map": map(&p.uid_map),
        "gid_map": map(&p.gid_map),
        "capabilities": {
            "bounding": caps(s.cap_bnd, facts.last_cap),
            "permitted": caps(s.cap_prm, facts.last_cap),
            "effective": caps(s.cap_eff, facts.last_cap),
            "inheritable": caps(s.cap_inh, facts.last_cap),
            "ambient": caps(s.cap_amb, facts.last_cap),
            "bounding_vs_docker": s.cap_bnd.map(|b| json!({
                "added": cap_names(b & !d),
                "missing": cap_names(d & !b),
            })),
            "inheritable_nonempty": s.cap_inh.map(|m| m != 0),
        },
        "no_new_privs": s.no_new_privs,
        "seccomp": {
            "mode": s.seccomp.map(|m| m.name()),
            "filters": s.seccomp_filters,
        },
        "apparmor": apparmor,
        "selinux": match &p.selinux {
            None => json!({"state": "not active"}),
            Some(Ok(c)) => json!({"state": "label", "context": c}),
            Some(Err(e)) => json!({"state": "unknown", "error": e.to_string()}),
        },
        "landlock": super::landlock::json(r.landlock.as_ref(), &facts.landlock),
        "namespaces": p.namespaces.iter().map(|n| json!({
            "kind": n.kind,
            "inode": err_or(&n.inode),
            "verdict": n.verdict.short(),
            "basis": n.verdict.basis(),
        })).collect::<Vec<_>>(),
        "container": p.container.as_ref().map(|c| json!({
            "runtime": c.runtime, "id": c.id, "source": c.source,
        })),
        "tracer_pid": s.tracer_pid,
    });
    if p.pid == std::process::id() {
        o["self_container_markers"] = json!(facts.self_markers);
    }
    if let Some(score) = &r.score {
        o["score"] = match score {
            Ok(v) => json!(v),
            Err(e) => json!({ "unknown": e }),
        };
    }
    if !r.threads.is_empty() {
        o["threads"] = json!(r
            .threads
            .iter()
            .map(|(t, d)| json!({"tid": t, "differences": d}))
            .collect::<Vec<_>>());
    }
    if syscalls {
        o["seccomp"]["decoded"] = match &r.seccomp {
            None => Value::Null,
            Some(Err(e)) => json!({"error": e}),
            Some(Ok(v)) => json!({
                "filters": v.filters.iter().map(|f| json!({
                    "instructions": f.prog.len(), "flags": f.flags,
                })).collect::<Vec<_>>(),
                "identified": v.identified,
                "arches": v.decoded.iter().map(|a| json!({
                    "arch": a.arch.kernel_name(),
                    "accepted": a.accepted,
                    "summary": a.summary().into_iter().map(|(k, n)| json!({"verdict": k, "count": n})).collect::<Vec<_>>(),
                    "syscalls": a.syscalls.iter().map(|s| with_widths(s, &v.widths, a.arch, json!({
                        "nr": s.nr,
                        "name": s.name,
                        "verdict": match &s.verdict {
                            Verdict::Fixed(r) => json!({"action": confine_bpf::action::describe(*r), "ret": r}),
                            Verdict::Depends(paths) => json!({"depends": paths.iter().map(|(r, c)| json!({
                                "action": r.map(confine_bpf::action::describe),
                                "when": c.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                            })).collect::<Vec<_>>()}),
                            Verdict::Undecided(l) => json!({"undecided": l.to_string()}),
                        },
                    }))).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "compared": v.compared.as_ref().map(|c| match c {
                    Ok(c) => json!({
                        "profile": c.profile,
                        "equivalent": c.equivalent,
                        "note": c.note,
                        "differences": c.differences.iter().map(|d| json!({
                            "arch": d.arch.kernel_name(), "nr": d.nr, "name": d.name,
                            "running": d.left.describe(), "profile": d.right.describe(),
                        })).collect::<Vec<_>>(),
                    }),
                    Err(e) => json!({"error": e}),
                }),
            }),
        };
    }
    o
}

/// A decoded syscall's object with `arg_width`, the findings on arguments the kernel reads
/// narrower than the filter compares them, when there are any.
fn with_widths(
    s: &confine_bpf::stack::Syscall,
    widths: &[confine_audit::Finding],
    abi: confine_abi::Arch,
    mut o: Value,
) -> Value {
    if let Some(name) = s.name {
        let found = confine_audit::about(widths, abi, name);
        if !found.is_empty() {
            o["arg_width"] = found
                .into_iter()
                .map(crate::commands::lint::finding_json)
                .collect();
        }
    }
    o
}
