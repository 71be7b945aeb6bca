//! The Landlock part of a report: the kernel shows no process's domain, so what is shown is
//! what `confine run` recorded (confine-inspect's `landlock` module), with the records passed
//! over and why.

use confine_abi::landlock as abi;
use confine_inspect::landlock::{Found, Lookup};
use serde_json::{json, Value};

/// The summary of one record: `ABI 7, require, recorded by confine 1234 (policy /p.yaml): fs
/// read_file,read_dir; 12 path rules; tcp bind [8080]; scopes signal`.
pub fn summary(f: &Found) -> String {
    let r = &f.record;
    let mut parts = Vec::new();
    if !r.handled_fs_names.is_empty() {
        parts.push(format!("fs {}", r.handled_fs_names.join(",")));
        parts.push(match r.paths.len() {
            1 => "1 path rule".to_string(),
            n => format!("{n} path rules"),
        });
    }
    for (bit, what) in [
        (abi::NET_BIND_TCP, "bind"),
        (abi::NET_CONNECT_TCP, "connect"),
    ] {
        if r.handled_net & bit == 0 {
            continue;
        }
        let name = abi::names(bit, &abi::NET_NAMES).remove(0);
        let ports: Vec<String> = r
            .ports
            .iter()
            .filter(|p| p.rights.contains(&name))
            .map(|p| p.port.to_string())
            .collect();
        parts.push(if ports.is_empty() {
            format!("tcp {what} [none]")
        } else {
            format!("tcp {what} [{}]", ports.join(","))
        });
    }
    if !r.scoped_names.is_empty() {
        parts.push(format!("scopes {}", r.scoped_names.join(",")));
    }
    if parts.is_empty() {
        parts.push("nothing handled".into());
    }
    let exe = f
        .holder_exe
        .as_deref()
        .map_or("executable unknown".into(), |e| e.display().to_string());
    let by = if f.verified {
        format!("recorded by confine {}", f.writer)
    } else if r.uid != 0 {
        format!(
            "UNVERIFIED: recorded by process {} ({exe}) of uid {}, who can change it (ptrace, LD_PRELOAD): as good as their word",
            f.writer, r.uid
        )
    } else {
        format!(
            "UNVERIFIED: claimed by process {} ({exe}, not this confine binary: another program, or confine replaced since it started)",
            f.writer
        )
    };
    let head = format!(
        "ABI {}, {}, {by} ({}): {}",
        r.abi,
        r.compat.name(),
        if r.policy == "command line" {
            "policy from the command line".to_string()
        } else {
            format!("policy {}", r.policy)
        },
        parts.join("; ")
    );
    if f.in_domain {
        head
    } else {
        format!(
            "not in the domain of confine {}: this is its init in a pid namespace (the command is its child); the domain: {head}",
            f.writer
        )
    }
}

/// The lines under the `landlock` key: a summary per record, then what was dropped, what
/// seccomp denies instead, and what was passed over.
pub fn lines(lookup: Option<&Lookup>, available: &Result<u32, String>) -> Vec<String> {
    let mut out = Vec::new();
    let kernel = match available {
        Ok(abi) => format!("ABI {abi} available"),
        Err(e) => format!("Landlock not available: {e}"),
    };
    let Some(l) = lookup else {
        out.push(format!(
            "not looked up (records are of live processes, not of a saved procfs); {kernel}"
        ));
        return out;
    };
    if l.found.is_empty() {
        out.push(format!(
            "none recorded ({kernel}; the kernel does not show a process's domain, and only confine run records the ones it makes)"
        ));
    }
    for f in &l.found {
        out.push(summary(f));
        for d in &f.record.dropped {
            out.push(format!("dropped: {d}"));
        }
        if !f.record.seccomp_sockets.is_empty() {
            out.push(format!(
                "seccomp denies instead: {}",
                f.record.seccomp_sockets.join(", ")
            ));
        }
    }
    for i in &l.ignored {
        out.push(format!("ignored: {}", i.why));
    }
    if !l.unreadable.is_empty() {
        let pids: Vec<String> = l.unreadable.iter().map(u32::to_string).collect();
        out.push(format!(
            "not readable here: the descriptors of ancestor(s) {} (another user's, or not dumpable): a record one keeps is missed",
            pids.join(", ")
        ));
    }
    if let Some(why) = &l.incomplete {
        out.push(format!(
            "ancestry incomplete ({why}): a record may be missed"
        ));
    }
    // what a record says is its writer's text: never raw on a terminal
    out.into_iter()
        .map(|l| crate::output::visible(&l).into_owned())
        .collect()
}

/// The `landlock` object of the JSON report.
pub fn json(lookup: Option<&Lookup>, available: &Result<u32, String>) -> Value {
    let mut o = match available {
        Ok(abi) => json!({"available": true, "abi": abi, "process": "not exposed by the kernel"}),
        Err(e) => json!({"available": false, "why": e}),
    };
    o["recorded"] = match lookup {
        None => Value::Null,
        Some(l) => json!(l
            .found
            .iter()
            .map(|f| json!({
                "writer": f.writer,
                "verified": f.verified,
                "holder_exe": f.holder_exe,
                "file": f.path,
                "in_domain": f.in_domain,
                "record": f.record,
            }))
            .collect::<Vec<_>>()),
    };
    o["ignored"] = json!(lookup.map_or(Vec::new(), |l| l
        .ignored
        .iter()
        .map(|i| json!({"file": i.path, "why": i.why}))
        .collect::<Vec<_>>()));
    o["unreadable"] = json!(lookup.map_or(Vec::new(), |l| l.unreadable.clone()));
    o["incomplete"] = json!(lookup.and_then(|l| l.incomplete.clone()));
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use confine_inspect::landlock::{Compat, Ignored, Record};

    fn found(in_domain: bool) -> Found {
        let mut r = Record::new(1234, 5, 0, "/p.yaml", Compat::BestEffort, 3);
        r.dropped = vec!["TCP bind restriction needs Landlock ABI 4 (Linux 6.7)".into()];
        r.seccomp_sockets = vec!["AF_INET SOCK_DGRAM".into()];
        r.init_not_in_domain = !in_domain;
        r.set_handled(abi::FS_READ, abi::NET_BIND_TCP, abi::SCOPE_SIGNAL);
        r.add_path("/usr", abi::FS_READ);
        r.add_path("/etc", abi::FS_READ_FILE);
        r.add_port(8080, abi::NET_BIND_TCP);
        Found {
            writer: 1234,
            path: "/proc/1234/fd/3".into(),
            record: r,
            in_domain,
            verified: true,
            holder_exe: Some("/usr/bin/confine".into()),
        }
    }

    #[test]
    fn a_record_reads_as_one_line_then_what_was_dropped() {
        let l = Lookup {
            found: vec![found(true)],
            ignored: vec![Ignored {
                path: "/proc/1234/fd/4".into(),
                why: "/proc/1234/fd/4: not sealed, so not a record confine wrote".into(),
            }],
            unreadable: vec![1, 77],
            incomplete: None,
        };
        assert_eq!(
            lines(Some(&l), &Ok(3)),
            [
                "ABI 3, best-effort, recorded by confine 1234 (policy /p.yaml): fs read_file,read_dir; 2 path rules; tcp bind [8080]; scopes signal",
                "dropped: TCP bind restriction needs Landlock ABI 4 (Linux 6.7)",
                "seccomp denies instead: AF_INET SOCK_DGRAM",
                "ignored: /proc/1234/fd/4: not sealed, so not a record confine wrote",
                "not readable here: the descriptors of ancestor(s) 1, 77 (another user's, or not dumpable): a record one keeps is missed",
            ]
        );
        assert!(summary(&found(false)).starts_with("not in the domain of confine 1234"));
        let mut f = found(true);
        f.verified = false;
        f.holder_exe = Some("/usr/bin/python3.11".into());
        assert!(summary(&f).starts_with("ABI 3, best-effort, UNVERIFIED: claimed by process 1234 (/usr/bin/python3.11, not this confine binary"), "{}", summary(&f));
        f.record.uid = 4242;
        assert!(summary(&f).starts_with("ABI 3, best-effort, UNVERIFIED: recorded by process 1234 (/usr/bin/python3.11) of uid 4242, who can change it"), "{}", summary(&f));
        let v = json(Some(&l), &Ok(3));
        assert_eq!(v["recorded"][0]["record"]["compat"], "best-effort");
        assert_eq!(v["recorded"][0]["in_domain"], true);
        assert_eq!(v["ignored"][0]["file"], "/proc/1234/fd/4");
        assert_eq!(v["unreadable"], serde_json::json!([1, 77]));
        assert_eq!(v["incomplete"], Value::Null);
    }

    #[test]
    fn nothing_recorded_says_the_kernel_does_not_show_it() {
        let none = lines(Some(&Lookup::default()), &Ok(7));
        assert_eq!(none.len(), 1);
        assert!(none[0].starts_with("none recorded (ABI 7 available; the kernel does not show"));
        assert_eq!(json(None, &Ok(7))["recorded"], Value::Null);
        assert_eq!(json(None, &Err("no".into()))["available"], false);
    }
}
