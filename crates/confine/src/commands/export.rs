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
//! * `spo`: a Security Profiles Operator `SeccompProfile` (v1, cluster-scoped: no namespace),
//!   YAML. Its spec has no `defaultErrnoRet` (SPO's default errno is EPERM), and a
//!   `listenerPath` must lie under `/var/run/security-profiles-operator/`; both are said.
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
        ExportFormat::Spo => spo(&a, &r, &mut losses)?.into_bytes(),
        ExportFormat::Systemd => {
            let d = confine_profile::systemd::drop_in(&r, &prepared.label);
            losses.extend(d.losses);
            d.text.into_bytes()
        }
        ExportFormat::Bwrap | ExportFormat::C => {
            if notifies && a.to == ExportFormat::Bwrap {
                bail!("{}: the profile notifies (SCMP_ACT_NOTIFY): bwrap loads the program without a listener, so those calls would fail with ENOSYS", prepared.label);
            }
            let compiled = compile_prepared(prepared, Options::default(), Generator::Optimized)?;
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

/// `--to spo`: the SeccompProfile, YAML.
fn spo(
    a: &ExportArgs,
    r: &confine_profile::Resolved,
    losses: &mut Vec<String>,
) -> anyhow::Result<String> {
    use serde_json::{json, Map, Value};
    let stem = a
        .profile
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| *s != "-")
        .unwrap_or("profile")
        .to_ascii_lowercase()
        .replace(
            |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '.',
            "-",
        );
    let name = a.name.clone().unwrap_or(stem);
    // a Kubernetes object name (RFC 1123 subdomain)
    let dns = |s: &str| {
        !s.is_empty()
            && s.len() <= 253
            && s.split('.').all(|l| {
                !l.is_empty()
                    && l.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            })
    };
    if !dns(&name) {
        bail!(
            "--name {name:?}: a Kubernetes object name (lower-case letters, digits, '-' and '.')"
        );
    }
    let v = serde_json::from_str::<Value>(&emit::to_json(r, emit::OutputFormat::Oci))?;
    let mut spec = Map::new();
    for key in [
        "defaultAction",
        "architectures",
        "flags",
        "listenerMetadata",
    ] {
        if let Some(x) = v.get(key) {
            spec.insert(key.into(), x.clone());
        }
    }
    if let Some(e) = r.default_errno_ret.filter(|e| *e != 1) {
        losses.push(format!(
            "defaultErrnoRet {e}: SPO's SeccompProfile has none; the default errno becomes EPERM"
        ));
    }
    if let Some(p) = &r.listener_path {
        let under = p
            .strip_prefix("/var/run/security-profiles-operator/")
            .is_some_and(|rest| {
                !rest.is_empty()
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            });
        if under {
            spec.insert("listenerPath".into(), json!(p));
        } else {
            losses.push(format!(
                "listenerPath {p}: SPO takes only sockets under /var/run/security-profiles-operator/; left out"
            ));
        }
    }
    let mut rules = Vec::new();
    for (i, rule) in v["syscalls"].as_array().into_iter().flatten().enumerate() {
        let mut o = Map::new();
        o.insert("action".into(), rule["action"].clone());
        o.insert("names".into(), rule["names"].clone());
        if let Some(e) = rule.get("errnoRet") {
            o.insert("errnoRet".into(), e.clone());
        }
        if let Some(args) = rule.get("args").and_then(Value::as_array) {
            for x in args {
                for k in ["value", "valueTwo"] {
                    if x.get(k)
                        .and_then(Value::as_u64)
                        .is_some_and(|n| n > i64::MAX as u64)
                    {
                        bail!("rule {i}: {k} {} is over SPO's int64", x[k]);
                    }
                }
            }
            o.insert("args".into(), Value::Array(args.clone()));
        }
        rules.push(Value::Object(o));
    }
    if let Some(base) = &a.base {
        let (base_name, removed) = with_base(base, &v, &mut rules)?;
        spec.insert("baseProfileName".into(), json!(base_name));
        if !removed.is_empty() {
            eprintln!(
                "confine: the base {base_name} gives {} call(s) the export leaves out: {}",
                removed.len(),
                removed.join(", ")
            );
        }
    }
    spec.insert("syscalls".into(), Value::Array(rules));
    let cr = json!({
        "apiVersion": "security-profiles-operator.x-k8s.io/v1",
        "kind": "SeccompProfile",
        "metadata": {"name": name},
        "spec": Value::Object(spec),
    });
    let mut out = String::new();
    let mut e = yaml_rust2::YamlEmitter::new(&mut out);
    e.dump(&to_yaml(&cr))
        .map_err(|e| anyhow::anyhow!("writing YAML: {e:?}"))?;
    out.push('\n');
    Ok(out)
}

/// A JSON value as YAML (keys in their order).
fn to_yaml(v: &serde_json::Value) -> yaml_rust2::Yaml {
    use serde_json::Value;
    use yaml_rust2::Yaml;
    match v {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Integer(i),
            None => Yaml::Real(n.to_string()),
        },
        Value::String(s) => Yaml::String(s.clone()),
        Value::Array(a) => Yaml::Array(a.iter().map(to_yaml).collect()),
        Value::Object(o) => Yaml::Hash(
            o.iter()
                .map(|(k, v)| (Yaml::String(k.clone()), to_yaml(v)))
                .collect(),
        ),
    }
}

/// `--base FILE` for `--to spo`: SPO unions the base into the profile, so the base must allow
/// nothing the profile does not (the union must decide as the profile does); then the rules
/// list only what the base does not already allow whole. The base's name, and the names left
/// out.
fn with_base(
    base: &std::path::Path,
    profile: &serde_json::Value,
    rules: &mut Vec<serde_json::Value>,
) -> anyhow::Result<(String, Vec<String>)> {
    use serde_json::Value;
    let label = base.display().to_string();
    let text = confine_input::read_text(base.as_os_str(), confine_input::MAX_TEXT_BYTES)?;
    let spo = super::import::format_of(&text) == confine_cli::ImportFormat::Spo;
    let base_profile = if spo {
        super::import::from_spo(&text, &label, base.parent())?
    } else {
        serde_json::from_str::<Value>(&text)
            .map_err(|e| anyhow::anyhow!("{label}: not JSON: {e}"))?
    };
    let name = if spo {
        let doc = yaml_rust2::YamlLoader::load_from_str(&text)
            .ok()
            .and_then(|d| {
                d.first()
                    .and_then(|d| d["metadata"]["name"].as_str().map(str::to_string))
            });
        doc.or_else(|| {
            serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["metadata"]["name"].as_str().map(str::to_string))
        })
    } else {
        None
    }
    .or_else(|| {
        base.file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
    })
    .unwrap_or_else(|| "base".into());
    // the union, as SPO makes it, must decide as the profile alone
    let union = super::import::union(&[("the profile", profile), (&label, &base_profile)])?;
    let host = confine_profile::Host::detect();
    let prep = |v: &Value, l: &str| {
        confine_seccomp::prepare_parsed(
            l.to_string(),
            confine_profile::parse_profile(v.to_string().as_bytes(), l),
            &host,
        )
    };
    let diffs = super::diff::differences(prep(&union, "union")?, prep(profile, "profile")?)?;
    if !diffs.is_empty() {
        let mut names: Vec<String> = diffs
            .iter()
            .map(|d| {
                d.name
                    .map(str::to_string)
                    .unwrap_or_else(|| d.nr.to_string())
            })
            .collect();
        names.dedup();
        let shown: Vec<&str> = names.iter().take(12).map(String::as_str).collect();
        bail!(
            "--base {label}: SPO unions the base into the profile, and the base would add {} call(s) it does not allow: {}{}",
            names.len(),
            shown.join(", "),
            if names.len() > shown.len() { ", …" } else { "" }
        );
    }
    // what the base allows whole need not be listed again
    let whole: std::collections::BTreeSet<String> = base_profile["syscalls"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["action"] == "SCMP_ACT_ALLOW" && r.get("args").is_none())
        .flat_map(|r| r["names"].as_array().into_iter().flatten())
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    let mut removed = Vec::new();
    for r in rules.iter_mut() {
        if r["action"] != "SCMP_ACT_ALLOW" || r.get("args").is_some() {
            continue;
        }
        if let Some(names) = r["names"].as_array_mut() {
            names.retain(|n| {
                let keep = !n.as_str().is_some_and(|n| whole.contains(n));
                if !keep {
                    removed.push(n.as_str().unwrap_or_default().to_string());
                }
                keep
            });
        }
    }
    rules.retain(|r| r["names"].as_array().is_some_and(|n| !n.is_empty()));
    Ok((name, removed))
}
