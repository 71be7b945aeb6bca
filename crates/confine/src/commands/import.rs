//! `confine seccomp import`: a profile from where it was deployed, as Docker's format.
//!
//! * SPO `SeccompProfile` (`security-profiles-operator.x-k8s.io/v1` or `v1beta1`, YAML or
//!   JSON): its `spec` is the profile; a `baseProfileName` found in `--base-dir` is unioned in
//!   (`confine seccomp merge`'s union), as SPO does.
//! * systemd: `confine_profile::systemd::read_filter`'s reading of the `SystemCall*=` lines;
//!   an allow list also allows `@default`, which systemd always permits, and refuses the rest
//!   with `SystemCallErrorNumber=` (EPERM when unset: systemd kills then, which is said).
//! * OCI, Docker: checked and written back as read.

use super::print_diagnostics;
use crate::{output, Outcome};
use anyhow::{bail, Context};
use confine_cli::{ImportArgs, ImportFormat};
use confine_profile::{emit, systemd};
use serde_json::{json, Map, Value};
use std::path::Path;

/// A YAML document as JSON.
fn yaml_to_json(y: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Real(s) => s.parse::<f64>().map(Value::from).unwrap_or(Value::Null),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::from(s.clone()),
        Yaml::Boolean(b) => Value::from(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(yaml_to_json).collect()),
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), yaml_to_json(v)))
                .collect(),
        ),
        _ => Value::Null,
    }
}

pub(crate) fn format_of(text: &str) -> ImportFormat {
    let t = text.trim_start();
    if t.contains("kind: SeccompProfile")
        || t.contains("\"kind\": \"SeccompProfile\"")
        || t.contains("\"kind\":\"SeccompProfile\"")
    {
        ImportFormat::Spo
    } else if t.starts_with('{') {
        ImportFormat::Docker
    } else {
        ImportFormat::Systemd
    }
}

/// The profile of an SPO SeccompProfile (YAML or JSON text).
pub(crate) fn from_spo(text: &str, label: &str, base_dir: Option<&Path>) -> anyhow::Result<Value> {
    from_spo_at(text, label, base_dir, 0)
}

/// The bases a profile may stand on, one on another: past it, a loop (a names b, b names a)
/// or a chain no cluster would hold.
const MAX_BASES: usize = 8;

fn from_spo_at(
    text: &str,
    label: &str,
    base_dir: Option<&Path>,
    depth: usize,
) -> anyhow::Result<Value> {
    if depth > MAX_BASES {
        bail!("{label}: more than {MAX_BASES} bases one on another (a loop of baseProfileName?)");
    }
    let doc = match serde_json::from_str::<Value>(text) {
        Ok(v) => v,
        Err(_) => {
            let docs = yaml_rust2::YamlLoader::load_from_str(text)
                .map_err(|e| anyhow::anyhow!("{label}: not YAML: {e}"))?;
            let Some(first) = docs.first() else {
                bail!("{label}: an empty YAML document");
            };
            yaml_to_json(first)
        }
    };
    let api = doc["apiVersion"].as_str().unwrap_or_default();
    if !matches!(
        api,
        "security-profiles-operator.x-k8s.io/v1" | "security-profiles-operator.x-k8s.io/v1beta1"
    ) || doc["kind"] != "SeccompProfile"
    {
        bail!("{label}: not a SeccompProfile of security-profiles-operator.x-k8s.io/v1 or v1beta1 (apiVersion {api:?}, kind {})", doc["kind"]);
    }
    let Some(spec) = doc["spec"].as_object() else {
        bail!("{label}: no spec");
    };
    let mut p = Map::new();
    for (k, v) in spec {
        if !matches!(k.as_str(), "baseProfileName" | "state" | "disabled") {
            p.insert(k.clone(), v.clone());
        }
    }
    let mut profile = Value::Object(p);
    if let Some(base) = spec.get("baseProfileName").and_then(Value::as_str) {
        if base.starts_with("oci://") {
            bail!("{label}: baseProfileName {base:?}: an OCI artifact, which confine does not fetch: pull it and give it as a file in --base-dir");
        }
        // a Kubernetes object name: nothing that could leave --base-dir
        let name_ok = !base.is_empty()
            && base.len() <= 253
            && base.split('.').all(|l| {
                !l.is_empty()
                    && l.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            });
        if !name_ok {
            bail!("{label}: baseProfileName {base:?}: not a Kubernetes object name");
        }
        let Some(dir) = base_dir else {
            bail!("{label}: its baseProfileName {base:?} is unioned in by SPO: give --base-dir DIR holding {base}.yaml");
        };
        let found = ["yaml", "yml", "json"]
            .iter()
            .map(|e| dir.join(format!("{base}.{e}")))
            .find(|p| p.is_file());
        let Some(path) = found else {
            bail!(
                "{label}: baseProfileName {base:?}: no {base}.yaml, .yml or .json in {}",
                dir.display()
            );
        };
        let text = confine_input::read_text(path.as_os_str(), confine_input::MAX_TEXT_BYTES)?;
        let base_profile = if format_of(&text) == ImportFormat::Spo {
            from_spo_at(&text, &path.display().to_string(), base_dir, depth + 1)?
        } else {
            serde_json::from_str(&text).with_context(|| path.display().to_string())?
        };
        profile = union(&[
            (label, &profile),
            (&path.display().to_string(), &base_profile),
        ])?;
    }
    Ok(profile)
}

/// The union of profiles (as `confine seccomp merge`).
pub(crate) fn union(parts: &[(&str, &Value)]) -> anyhow::Result<Value> {
    let parsed: Vec<(String, confine_profile::Parsed)> = parts
        .iter()
        .map(|(l, v)| {
            (
                l.to_string(),
                confine_profile::parse_profile(v.to_string().as_bytes(), l),
            )
        })
        .collect();
    let mut inputs = Vec::new();
    for (label, p) in &parsed {
        print_diagnostics(&p.diagnostics);
        let Some(profile) = &p.profile else {
            bail!("{label}: not a usable profile");
        };
        inputs.push(confine_profile::merge::Input {
            label,
            profile,
            lines: &p.lines,
        });
    }
    let merged = confine_profile::merge(&inputs)?;
    Ok(serde_json::from_str(&emit::profile_to_json(
        &merged.profile,
    ))?)
}

/// The profile of a systemd unit, drop-in or `SystemCallFilter=` value.
fn from_systemd(text: &str, label: &str) -> anyhow::Result<Value> {
    let f = systemd::read_filter(text);
    for (line, entry) in &f.unknown {
        eprintln!(
            "confine: warning: {label}:{line}: {entry}: not a syscall or group {} knows",
            systemd::version()
        );
    }
    let Some(allow_list) = f.allow_list else {
        bail!("{label}: no SystemCallFilter= (or only reset)");
    };
    let native = confine_abi::Arch::native();
    let mut covered = Vec::new();
    for a in &f.architectures {
        match systemd::arch_of(a, native) {
            Some(x) => covered.push(x),
            None => {
                bail!("{label}: SystemCallArchitectures={a}: not an architecture confine knows")
            }
        }
    }
    if covered.is_empty() {
        // systemd filters every architecture it knows when none is named: the host's ABIs
        covered = native.abis().to_vec();
    }
    let arches: Vec<&str> = covered.iter().map(|a| a.scmp_name()).collect();
    // the group members of other architectures (cacheflush, set_tls …) do not matter here
    let tables: Vec<&confine_abi::SyscallTable> = covered
        .iter()
        .filter_map(|a| confine_abi::SyscallTable::for_arch(*a).ok())
        .collect();
    let on_these = |n: &str| tables.iter().any(|t| t.number(n).is_some());
    let errno = |e: &str| -> anyhow::Result<u32> {
        e.parse::<u32>().or_else(|_| {
            (1..=4095u16)
                .find(|n| confine_abi::errno::name(*n) == Some(e))
                .map(u32::from)
                .ok_or_else(|| anyhow::anyhow!("{label}: {e}: not an errno"))
        })
    };
    let mut p = Map::new();
    p.insert("architectures".into(), json!(arches));
    let mut rules = Vec::new();
    if allow_list {
        match &f.error_number {
            Some(e) => {
                p.insert("defaultAction".into(), json!("SCMP_ACT_ERRNO"));
                p.insert("defaultErrnoRet".into(), json!(errno(e)?));
            }
            None => {
                p.insert("defaultAction".into(), json!("SCMP_ACT_KILL_PROCESS"));
            }
        }
        let mut names: std::collections::BTreeSet<String> = f.names.keys().cloned().collect();
        names.extend(
            systemd::expand("default")
                .unwrap_or_default()
                .iter()
                .map(|s| s.to_string()),
        );
        names.retain(|n| on_these(n));
        rules.push(json!({"names": names, "action": "SCMP_ACT_ALLOW"}));
    } else {
        p.insert("defaultAction".into(), json!("SCMP_ACT_ALLOW"));
        let mut by_action: std::collections::BTreeMap<Option<u32>, Vec<String>> =
            Default::default();
        for (n, e) in f.names.iter().filter(|(n, _)| on_these(n)) {
            let e = match e.as_deref().or(f.error_number.as_deref()) {
                Some(e) => Some(errno(e)?),
                None => None,
            };
            by_action.entry(e).or_default().push(n.clone());
        }
        for (e, names) in by_action {
            rules.push(match e {
                Some(e) => json!({"names": names, "action": "SCMP_ACT_ERRNO", "errnoRet": e}),
                None => json!({"names": names, "action": "SCMP_ACT_KILL_PROCESS"}),
            });
        }
    }
    p.insert("syscalls".into(), Value::Array(rules));
    Ok(Value::Object(p))
}

/// Import the file.
pub fn run(a: ImportArgs) -> anyhow::Result<Outcome> {
    let label = if a.file == "-" {
        "standard input".to_string()
    } else {
        Path::new(&a.file).display().to_string()
    };
    let text = confine_input::read_text(&a.file, confine_input::MAX_TEXT_BYTES)?;
    let from = match a.from {
        ImportFormat::Auto => format_of(&text),
        f => f,
    };
    let profile = match from {
        ImportFormat::Spo => from_spo(&text, &label, a.base_dir.as_deref())?,
        ImportFormat::Systemd => from_systemd(&text, &label)?,
        _ => {
            let v = serde_json::from_str::<Value>(&text)
                .map_err(|e| anyhow::anyhow!("{label}: not JSON: {e}"))?;
            // a whole OCI config.json: its linux.seccomp
            match v.pointer("/linux/seccomp") {
                Some(s) => s.clone(),
                None => v,
            }
        }
    };
    // checked as any profile is: located errors and warnings, nothing written on an error
    let parsed = confine_profile::parse_profile(profile.to_string().as_bytes(), &label);
    print_diagnostics(&parsed.diagnostics);
    let Some(p) = &parsed.profile else {
        return Ok(Outcome::BadInput);
    };
    // Docker's and OCI profiles as they were (Docker-only keys, archMap and includes, kept);
    // the others as built
    let text = match from {
        ImportFormat::Spo | ImportFormat::Systemd => emit::profile_to_json(p),
        _ => format!("{}\n", serde_json::to_string_pretty(&profile)?),
    };
    match &a.output {
        Some(path) => output::write_atomic(path, &text)?,
        None => output::emit(&text, None)?,
    }
    Ok(Outcome::Clean)
}
