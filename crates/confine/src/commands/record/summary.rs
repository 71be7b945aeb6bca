//! The closing summary of `confine record`, and `--verify`.

use confine_cli::RecordArgs;
use confine_profile::{builtin, Action, Host};
use confine_record::profile::Built;
use confine_record::recording::{Mode, Recorded};
use confine_runtime::{Ended, Note};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// How the second run under the profile ended, against the recorded one.
pub struct Verified {
    /// The second run's end.
    pub ended: Ended,
    /// It ended as the recorded run did.
    pub same: bool,
}

/// Run the command again under the recorded profile (and policy) with `confine run`.
pub fn verify(a: &RecordArgs, profile: &Value, first: &Ended) -> anyhow::Result<Verified> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("recorded.json");
    std::fs::write(&path, confine_record::profile::render(profile))?;
    let mut req = super::request(a, None);
    req.seccomp = Some(path.into_os_string());
    req.policy = a.policy_out.clone();
    let quiet = a.quiet;
    let print = &mut |n: Note| {
        if !quiet || n.is_diagnostic() {
            eprintln!("{n}");
        }
    };
    eprintln!("confine record: --verify: running the command again under the recorded profile");
    let ended = confine_runtime::plan(&req, print).and_then(|p| p.execute(print))?;
    Ok(Verified {
        same: &ended == first,
        ended,
    })
}

fn describe(e: &Ended) -> String {
    match e {
        Ended::Exited(c) => format!("exited {c}"),
        Ended::Signaled(s) => format!("was killed by signal {s}"),
        Ended::NotExecuted { why, .. } => format!("could not be executed: {why}"),
    }
}

/// What the closing summary says.
pub struct Summary {
    json: Value,
    text: String,
}

impl Summary {
    /// The summary of a recording and the profile built from it.
    pub fn new(
        rec: &Recorded,
        built: &Built,
        ended: &Ended,
        verified: Option<&Verified>,
    ) -> Summary {
        let mut per_abi: BTreeMap<String, usize> = BTreeMap::new();
        for s in &rec.calls {
            *per_abi.entry(s.call.abi.clone()).or_default() += 1;
        }
        let unnamed: Vec<String> = rec
            .calls
            .iter()
            .filter(|s| s.call.name.is_none())
            .map(|s| format!("{} #{}", s.call.abi, s.call.nr))
            .collect();
        let docker = builtin::resolved_for(&Host::detect());
        let docker_allows = docker.names_with_action(Action::Allow);
        let unused = docker_allows
            .iter()
            .filter(|n| !built.allowed.contains(**n))
            .count();
        let runtime: Vec<String> = rec.runtime.iter().map(|s| s.call.label()).collect();
        let json = json!({
            "mode": rec.mode.name(),
            "arguments_recorded": rec.mode == Mode::Notify,
            "complete": rec.incomplete.is_none(),
            "incomplete": rec.incomplete,
            "ebpf_losses": rec.ebpf_losses,
            "command": describe(ended),
            "events": rec.events,
            "syscalls": rec.calls.len(),
            "per_abi": per_abi,
            "calls": rec.calls.iter().map(|s| json!({
                "abi": s.call.abi,
                "nr": s.call.nr,
                "name": s.call.name,
                "count": s.count,
            })).collect::<Vec<_>>(),
            "profile_allows": built.allowed.len(),
            "docker_default_allows": docker_allows.len(),
            "docker_default_unused": unused,
            "widenings": built.widenings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
            "unnamed": unnamed,
            "runtime_calls": runtime,
            "notes": rec.notes,
            "recorder_peak_kib": rec.recorder_peak_kib,
            "sync_wake_up": rec.sync_wake_up,
            "duration_ms": rec.duration_ms,
            "verify": verified.map(|v| json!({
                "same": v.same,
                "verified": v.same && rec.incomplete.is_none(),
                "command": describe(&v.ended),
            })),
        });
        let mut t = String::new();
        let abis: Vec<String> = per_abi.iter().map(|(a, n)| format!("{a} {n}")).collect();
        t.push_str(&format!(
            "confine record: {} events, {} syscalls ({}); the command {}\n",
            rec.events,
            rec.calls.len(),
            abis.join(", "),
            describe(ended)
        ));
        if rec.mode == Mode::Ebpf {
            t.push_str("  mode ebpf: calls counted by an eBPF program; arguments, paths and ports are not recorded\n");
        }
        if let Some(why) = &rec.incomplete {
            t.push_str(&format!("  INCOMPLETE: {why}\n"));
        }
        for n in &rec.notes {
            t.push_str(&format!("  note: {n}\n"));
        }
        t.push_str(&format!(
            "  the profile allows {} syscalls; Docker's default allows {}, {} of which this program did not use\n",
            built.allowed.len(),
            docker_allows.len(),
            unused
        ));
        for w in &built.widenings {
            t.push_str(&format!("  widened: {w}\n"));
        }
        if !runtime.is_empty() {
            t.push_str(&format!(
                "  confine's own calls after the filter: {}\n",
                runtime.join(", ")
            ));
        }
        if let Some(v) = verified {
            t.push_str(&if v.same && rec.incomplete.is_some() {
                format!(
                    "  NOT verified: under the profile the command {}, as recorded, but the recording is incomplete (what it missed was not checked)\n",
                    describe(&v.ended)
                )
            } else if v.same {
                format!(
                    "  verified: under the profile the command {}, as recorded\n",
                    describe(&v.ended)
                )
            } else {
                format!(
                    "  NOT verified: under the profile the command {}, recorded it {}\n",
                    describe(&v.ended),
                    describe(ended)
                )
            });
        }
        Summary { json, text: t }
    }

    /// As JSON.
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// As text, one line per fact.
    pub fn text(&self) -> &str {
        &self.text
    }
}
