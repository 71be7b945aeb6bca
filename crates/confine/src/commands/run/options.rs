//! `--security-opt` and its shorthands, read as `docker run` reads them.

use anyhow::{anyhow, bail};
use confine_cli::RunArgs;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// The seccomp profile asked for.
pub enum SeccompChoice {
    /// Docker's default (none with --privileged).
    Default,
    /// No filter.
    Unconfined,
    /// A path (any bytes), `builtin` or `-`.
    Profile(OsString),
}

/// The security options of one run.
pub struct SecurityOptions {
    pub seccomp: SeccompChoice,
    pub apparmor: Option<String>,
    pub no_new_privs: bool,
    /// `systempaths=unconfined`: /proc and /sys as they are.
    pub system_paths_unconfined: bool,
}

fn seccomp_value(v: &OsStr) -> anyhow::Result<SeccompChoice> {
    Ok(match v.as_bytes() {
        b"" => bail!("--security-opt seccomp: the profile is empty (give seccomp=PATH, seccomp=builtin or seccomp=unconfined)"),
        b"unconfined" => SeccompChoice::Unconfined,
        _ => SeccompChoice::Profile(v.to_os_string()),
    })
}

fn apparmor_value(v: &str) -> anyhow::Result<String> {
    if v.is_empty() {
        bail!("--security-opt apparmor: the profile name is empty (give apparmor=NAME or apparmor=unconfined)");
    }
    Ok(v.to_string())
}

/// Parse the options; SELinux `label` options are accepted with a note, as Docker accepts them
/// on a kernel without SELinux.
pub fn parse(a: &RunArgs) -> anyhow::Result<SecurityOptions> {
    let mut o = SecurityOptions {
        seccomp: SeccompChoice::Default,
        apparmor: None,
        no_new_privs: false,
        system_paths_unconfined: false,
    };
    for raw in &a.security_opt {
        // Docker takes `key=value` and the older `key:value`; a seccomp path may be any bytes
        let b = raw.as_bytes();
        let (k, v) = match b.iter().position(|&c| c == b'=' || c == b':') {
            Some(i) => (&b[..i], Some(OsStr::from_bytes(&b[i + 1..]))),
            None => (b, None),
        };
        if k == b"seccomp" {
            o.seccomp = seccomp_value(v.unwrap_or_default())?;
            continue;
        }
        let opt = raw
            .to_str()
            .ok_or_else(|| anyhow!("--security-opt `{}`: not UTF-8", raw.to_string_lossy()))?;
        let k = std::str::from_utf8(k).unwrap_or_default();
        let v = v.map(|v| v.to_str().unwrap_or_default());
        match (k, v) {
            ("apparmor", v) => o.apparmor = Some(apparmor_value(v.unwrap_or(""))?),
            ("no-new-privileges", None | Some("true")) => o.no_new_privs = true,
            ("no-new-privileges", Some("false")) => o.no_new_privs = false,
            ("no-new-privileges", Some(v)) => {
                bail!("--security-opt no-new-privileges: `{v}` is not true or false")
            }
            ("systempaths", Some("unconfined")) => o.system_paths_unconfined = true,
            ("systempaths", v) => bail!(
                "--security-opt systempaths: `{}` is not `unconfined`, the only value Docker takes",
                v.unwrap_or("")
            ),
            ("label", Some(v)) if !v.is_empty() => {
                let known = v == "disable"
                    || ["user:", "role:", "type:", "level:", "filetype:"]
                        .iter()
                        .any(|p| v.starts_with(p))
                    || v == "nested";
                if !known {
                    bail!("--security-opt label: `{v}` is not a label option (disable, user:, role:, type:, level:)");
                }
                eprintln!("confine: note: --security-opt {opt}: SELinux labels do not apply (confine does not use SELinux); ignored");
            }
            ("label", _) => bail!("--security-opt label: the value is empty (e.g. label=disable)"),
            _ => bail!(
                "unknown --security-opt `{opt}` (expected seccomp=, apparmor=, no-new-privileges, systempaths=unconfined or label=)"
            ),
        }
    }
    if let Some(s) = &a.seccomp {
        o.seccomp = seccomp_value(s)?;
    }
    if let Some(n) = &a.apparmor {
        o.apparmor = Some(apparmor_value(n)?);
    }
    Ok(o)
}
