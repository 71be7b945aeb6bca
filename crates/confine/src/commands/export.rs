//! `confine seccomp export`: a profile in the form the place it is deployed takes, with every
//! part that place cannot express or ignores said (an error under `--strict`).
//!
//! * `oci`, `docker`: the profile resolved for the host (as `seccomp resolve`). Docker before
//!   23.0 drops `defaultErrnoRet`, `flags` and `listenerPath`/`listenerMetadata` from a
//!   `--security-opt seccomp=` profile (they are copied into the runtime's configuration
//!   since 23.0), which is said.
//! * `bwrap`: the program `confine run` installs (as `seccomp compile`), raw. bubblewrap loads
//!   it with `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)` just before `execve`: no filter
//!   flags, and no listener (a profile that notifies cannot be used).
//! * `c`: the same program as a C array.
//! * `k8s`: the pod `securityContext` for the profile as a `Localhost` profile (the kubelet
//!   reads those relative to its seccomp root, `/var/lib/kubelet/seccomp` by default), and
//!   the `appArmorProfile` beside it when one is named.
//! * `systemd`: a unit drop-in (`confine_profile::systemd`): an allow list compressed into
//!   systemd 252's groups; what `SystemCallFilter=` cannot say (argument conditions, per-rule
//!   errnos, names systemd does not know, `@default`, which systemd always permits) is said.

use super::compile::c_array;
use super::prepared_filter;
use crate::{host, output, Outcome};
use anyhow::bail;
use confine_bpf::encode;
use confine_cli::{ExportArgs, ExportFormat};
use confine_profile::{emit, Action, Resolution};
use confine_seccomp::{compile_prepared, Generator, Options};
use std::io::{IsTerminal, Write};

/// Export the profile.
pub fn run(a: ExportArgs) -> anyhow::Result<Outcome> {
    let host = host::from_args(&a.host)?;
    let Some(prepared) = prepared_filter(&a.profile, &host)? else {
        return Ok(Outcome::BadInput);
    };
    let Some(Resolution::Filter(r)) = prepared.resolution.clone() else {
        return Ok(Outcome::BadInput);
    };
    let mut losses: Vec<String> = Vec::new();
    let notifies = r.default_action == Action::Notify
        || r.rules.iter().any(|rule| rule.action == Action::Notify);
    let bytes: Vec<u8> = match a.to {
        ExportFormat::Oci => emit::to_json(&r, emit::OutputFormat::Oci).into_bytes(),
        ExportFormat::Docker => {
            let dropped = [
                (
                    r.default_errno_ret.is_some(),
                    "defaultErrnoRet (the default errno is then EPERM)",
                ),
                (r.flags.is_some(), "flags"),
                (r.listener_path.is_some(), "listenerPath"),
                (r.listener_metadata.is_some(), "listenerMetadata"),
            ];
            for (set, what) in dropped {
                if set {
                    losses.push(format!(
                        "{what}: Docker before 23.0 ignores it in `--security-opt seccomp=` profiles"
                    ));
                }
            }
            emit::to_json(&r, emit::OutputFormat::Docker).into_bytes()
        }
        ExportFormat::K8s => k8s(&a, &prepared.label)?.into_bytes(),
        ExportFormat::Systemd => {
            let d = confine_profile::systemd::drop_in(&r, &prepared.label);
            losses.extend(d.losses);
            d.text.into_bytes()
        }
        ExportFormat::Bwrap | ExportFormat::C => {
            if notifies && a.to == ExportFormat::Bwrap {
                bail!("{}: the profile notifies (SCMP_ACT_NOTIFY): bwrap loads the program without a listener, so those calls would fail with ENOSYS", prepared.label);
            }
            let compiled = compile_prepared(
                prepared,
                Options { enosys_stub: true },
                Generator::Optimized,
            )?;
            if !compiled.policy.flags.is_empty() {
                let flags: Vec<&str> = compiled.policy.flags.iter().map(|f| f.as_str()).collect();
                losses.push(format!(
                    "flags {}: bwrap loads the program with prctl(PR_SET_SECCOMP), without filter flags",
                    flags.join(", ")
                ));
            }
            match a.to {
                ExportFormat::C => c_array(&compiled.program, &a.profile).into_bytes(),
                _ => encode(&compiled.program),
            }
        }
    };
    for l in &losses {
        eprintln!("confine: warning: {l}");
    }
    if a.strict && !losses.is_empty() {
        eprintln!(
            "confine: --strict: {} part(s) would be lost; nothing written",
            losses.len()
        );
        return Ok(Outcome::Findings);
    }
    match &a.output {
        Some(p) => output::write_atomic_bytes(p, &bytes)?,
        None => {
            let mut out = std::io::stdout().lock();
            if a.to == ExportFormat::Bwrap && out.is_terminal() {
                bail!("refusing to write a binary program to a terminal: give -o FILE");
            }
            out.write_all(&bytes)?;
            out.flush()?;
        }
    }
    if a.to == ExportFormat::Bwrap {
        let file = a
            .output
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "FILE".into());
        eprintln!(
            "confine: use it as: bwrap --seccomp 9 … -- CMD 9<{file} (bwrap sets no_new_privs and loads it just before execve)"
        );
    }
    Ok(Outcome::Clean)
}

/// `--to k8s`: the `securityContext` snippet, YAML, with where the profile goes.
fn k8s(a: &ExportArgs, label: &str) -> anyhow::Result<String> {
    let stem = a
        .profile
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| *s != "-")
        .unwrap_or("profile");
    let name = a
        .name
        .clone()
        .unwrap_or_else(|| format!("profiles/{stem}.json"));
    let safe = |s: &str| {
        !s.is_empty()
            && !s.starts_with('/')
            && !s.split('/').any(|c| c == ".." || c.is_empty())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
    };
    if !safe(&name) {
        bail!("--name {name:?}: a relative path under the kubelet's seccomp directory (letters, digits, _-./, no ..)");
    }
    if let Some(aa) = &a.apparmor {
        if !aa
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
            || aa.is_empty()
        {
            bail!("--apparmor {aa:?}: an AppArmor profile name (letters, digits, _-./)");
        }
    }
    // on one line each: a path or label with a newline must not start a YAML line
    let one_line = |s: String| -> String {
        s.chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect()
    };
    let (label, path) = (
        one_line(label.to_string()),
        one_line(a.profile.display().to_string()),
    );
    let mut out = format!(
        "# confine seccomp export --to k8s: {label} as a Localhost seccomp profile\n\
         # the kubelet reads it from its seccomp directory (default /var/lib/kubelet/seccomp);\n\
         # on every node:  confine seccomp export {} --to oci -o /var/lib/kubelet/seccomp/{name}\n\
         securityContext:\n  seccompProfile:\n    type: Localhost\n    localhostProfile: {name}\n",
        path
    );
    if let Some(aa) = &a.apparmor {
        out.push_str(&format!(
            "  # Kubernetes 1.30 and later; the profile must be loaded on the node\n  appArmorProfile:\n    type: Localhost\n    localhostProfile: {aa}\n"
        ));
    }
    Ok(out)
}
