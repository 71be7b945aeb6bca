//! `confine inspect [PID…]`: how processes are confined, read from procfs.
//!
//! This first version reports, per process, what /proc/PID/status and the AppArmor label say
//! (the issue on inspect adds namespaces, containers, decoded seccomp filters and --all).

use crate::Outcome;
use confine_abi::CapSet;
use confine_apparmor::kernel::LabelState;
use confine_cli::InspectArgs;
use confine_inspect::Process;
use serde_json::{json, Value};
use std::path::Path;

fn caps_json(v: Option<u64>) -> Value {
    match v {
        None => Value::Null,
        Some(m) => json!({
            "hex": format!("{m:016x}"),
            "names": CapSet(m).iter().map(|c| c.name()).collect::<Vec<_>>(),
        }),
    }
}

fn apparmor_json(l: &LabelState) -> Value {
    match l {
        LabelState::Label(l) => json!({"state": "label", "label": l.name, "mode": l.mode}),
        LabelState::NoLsm => json!({"state": "no LSM"}),
        LabelState::PermissionDenied => json!({"state": "permission denied"}),
        LabelState::Gone => json!({"state": "gone"}),
        LabelState::Error(e) => json!({"state": "error", "error": e}),
    }
}

fn apparmor_text(l: &LabelState) -> String {
    match l {
        LabelState::Label(l) => l.to_string(),
        LabelState::NoLsm => "no LSM (AppArmor is not active in this kernel)".into(),
        LabelState::PermissionDenied => "permission denied".into(),
        LabelState::Gone => "process exited".into(),
        LabelState::Error(e) => format!("unreadable: {e}"),
    }
}

fn to_json(p: &Process) -> Value {
    let s = &p.status;
    json!({
        "schema": "confine.inspect/v0",
        "pid": p.pid,
        "ppid": s.ppid,
        "comm": s.name,
        "cmdline": p.cmdline,
        "uid": s.uid,
        "gid": s.gid,
        "groups": s.groups,
        "capabilities": {
            "inheritable": caps_json(s.cap_inh),
            "permitted": caps_json(s.cap_prm),
            "effective": caps_json(s.cap_eff),
            "bounding": caps_json(s.cap_bnd),
            "ambient": caps_json(s.cap_amb),
        },
        "no_new_privs": s.no_new_privs,
        "seccomp": {
            "mode": s.seccomp.map(|m| m.name()),
            "filters": s.seccomp_filters,
        },
        "apparmor": apparmor_json(&p.apparmor),
        "tracer_pid": s.tracer_pid,
    })
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|x| x.to_string())
        .unwrap_or_else(|| "not shown by this kernel".into())
}

fn caps_text(v: Option<u64>) -> String {
    match v {
        None => "not shown by this kernel".into(),
        Some(0) => "none".into(),
        Some(m) if CapSet(m) == CapSet::all_known() => format!("all ({m:016x})"),
        Some(m) if CapSet(m) == CapSet::docker_default() => {
            format!("Docker's default 14 ({m:016x})")
        }
        Some(m) => format!("{} ({m:016x})", CapSet(m)),
    }
}

fn to_text(p: &Process) -> String {
    let s = &p.status;
    let ids = |v: Option<[u32; 4]>| {
        v.map(|a| format!("{} (effective {}, saved {}, fs {})", a[0], a[1], a[2], a[3]))
            .unwrap_or_else(|| "unreadable".into())
    };
    let mut out = String::new();
    let mut line = |k: &str, v: String| out.push_str(&format!("  {k:<14}{v}\n"));
    line(
        "process",
        format!(
            "{} {} ({})",
            p.pid,
            s.name.as_deref().unwrap_or("?"),
            p.cmdline.as_deref().unwrap_or("command line unreadable")
        ),
    );
    line("apparmor", apparmor_text(&p.apparmor));
    line(
        "seccomp",
        match (s.seccomp, s.seccomp_filters) {
            (Some(m), Some(n)) => format!(
                "{}, {n} {}",
                m.name(),
                if n == 1 { "filter" } else { "filters" }
            ),
            (Some(m), None) => m.name(),
            (None, _) => "not shown by this kernel".into(),
        },
    );
    line("no_new_privs", opt(s.no_new_privs));
    line("uid", ids(s.uid));
    line("gid", ids(s.gid));
    line(
        "groups",
        s.groups
            .as_ref()
            .map(|g| {
                if g.is_empty() {
                    "none".to_string()
                } else {
                    g.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")
                }
            })
            .unwrap_or_else(|| "unreadable".into()),
    );
    line("cap bounding", caps_text(s.cap_bnd));
    line("cap permitted", caps_text(s.cap_prm));
    line("cap effective", caps_text(s.cap_eff));
    let inh = caps_text(s.cap_inh);
    line(
        "cap inherit.",
        if s.cap_inh.is_some_and(|m| m != 0) {
            format!("{inh}  [non-empty: a runtime from before the CVE-2022-24769 fix?]")
        } else {
            inh
        },
    );
    line("cap ambient", caps_text(s.cap_amb));
    line(
        "tracer",
        opt(s.tracer_pid.filter(|&t| t != 0)).replace("not shown by this kernel", "none"),
    );
    out
}

/// Run.
pub fn run(a: InspectArgs) -> anyhow::Result<Outcome> {
    let enabled = super::apparmor::detect().enabled();
    let pids = if a.pids.is_empty() {
        vec![std::process::id()]
    } else {
        a.pids.clone()
    };
    let mut failed = false;
    for (i, pid) in pids.iter().enumerate() {
        match confine_inspect::read(Path::new("/proc"), *pid, enabled) {
            Ok(p) => {
                if a.json {
                    println!("{}", serde_json::to_string(&to_json(&p))?);
                } else {
                    if i > 0 {
                        println!();
                    }
                    print!("{}", to_text(&p));
                }
            }
            Err(e) => {
                eprintln!("confine: {e}");
                failed = true;
            }
        }
    }
    Ok(if failed {
        Outcome::BadInput
    } else {
        Outcome::Clean
    })
}
