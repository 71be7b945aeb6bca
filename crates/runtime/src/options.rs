//! `--security-opt` and its shorthands, read as `docker run` reads them.

use crate::note::{Note, Notes};
use crate::{Error, Result};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// The seccomp profile asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeccompChoice {
    /// Docker's default (none with --privileged).
    Default,
    /// No filter.
    Unconfined,
    /// A path (any bytes), `builtin` or `-`.
    Profile(OsString),
}

/// The security options of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityOptions {
    /// The seccomp profile.
    pub seccomp: SeccompChoice,
    /// The AppArmor profile named (`unconfined` included); None: Docker's choice.
    pub apparmor: Option<String>,
    /// `no-new-privileges`.
    pub no_new_privs: bool,
    /// `systempaths=unconfined`: /proc and /sys as they are.
    pub system_paths_unconfined: bool,
    /// `landlock=FILE`: the file-and-network policy, enforced by Landlock.
    pub landlock_policy: Option<std::path::PathBuf>,
    /// `arg-width=kernel` (confine only): seccomp compares only the bits of an argument the
    /// kernel reads; `arg-width=faithful` (the default) all 64, as runc.
    pub arg_width: confine_seccomp::ArgWidth,
    /// `seccomp-verify` (confine only): prove the program decides exactly as the profile's
    /// policy for every input before installing it, and refuse to run when it is not proved.
    pub seccomp_verify: bool,
}

fn bad(message: impl Into<String>) -> Error {
    Error::option("--security-opt", message)
}

fn seccomp_value(v: &OsStr) -> Result<SeccompChoice> {
    Ok(match v.as_bytes() {
        b"" => return Err(bad("--security-opt seccomp: the profile is empty (give seccomp=PATH, seccomp=builtin or seccomp=unconfined)")),
        b"unconfined" => SeccompChoice::Unconfined,
        _ => SeccompChoice::Profile(v.to_os_string()),
    })
}

fn apparmor_value(v: &str) -> Result<String> {
    if v.is_empty() {
        return Err(bad("--security-opt apparmor: the profile name is empty (give apparmor=NAME or apparmor=unconfined)"));
    }
    Ok(v.to_string())
}

/// Parse the options; SELinux `label` options are accepted with a note, as Docker accepts them
/// on a kernel without SELinux. `seccomp` and `apparmor` are the shorthands `--seccomp` and
/// `--apparmor`, which override the `--security-opt` values.
pub fn parse(
    security_opt: &[OsString],
    seccomp: Option<&OsStr>,
    apparmor: Option<&str>,
    notes: Notes,
) -> Result<SecurityOptions> {
    let mut o = SecurityOptions {
        seccomp: SeccompChoice::Default,
        apparmor: None,
        no_new_privs: false,
        system_paths_unconfined: false,
        landlock_policy: None,
        arg_width: confine_seccomp::ArgWidth::Faithful,
        seccomp_verify: false,
    };
    for raw in security_opt {
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
        if k == b"landlock" {
            let v = v.unwrap_or_default();
            if v.is_empty() {
                return Err(bad(
                    "--security-opt landlock: the policy file is empty (give landlock=FILE)",
                ));
            }
            o.landlock_policy = Some(v.into());
            continue;
        }
        let opt = raw.to_str().ok_or_else(|| {
            bad(format!(
                "--security-opt `{}`: not UTF-8",
                raw.to_string_lossy()
            ))
        })?;
        let k = std::str::from_utf8(k).unwrap_or_default();
        let v = v.map(|v| v.to_str().unwrap_or_default());
        match (k, v) {
            ("apparmor", v) => o.apparmor = Some(apparmor_value(v.unwrap_or(""))?),
            ("no-new-privileges", None | Some("true")) => o.no_new_privs = true,
            ("no-new-privileges", Some("false")) => o.no_new_privs = false,
            ("no-new-privileges", Some(v)) => {
                return Err(bad(format!(
                    "--security-opt no-new-privileges: `{v}` is not true or false"
                )))
            }
            ("systempaths", Some("unconfined")) => o.system_paths_unconfined = true,
            ("seccomp-verify", None | Some("true")) => o.seccomp_verify = true,
            ("seccomp-verify", Some("false")) => o.seccomp_verify = false,
            ("seccomp-verify", Some(v)) => {
                return Err(bad(format!(
                    "--security-opt seccomp-verify: `{v}` is not true or false"
                )))
            }
            ("arg-width", Some("kernel")) => o.arg_width = confine_seccomp::ArgWidth::Kernel,
            ("arg-width", Some("faithful")) => o.arg_width = confine_seccomp::ArgWidth::Faithful,
            ("arg-width", v) => {
                return Err(bad(format!(
                    "--security-opt arg-width: `{}` is not kernel or faithful",
                    v.unwrap_or("")
                )))
            }
            ("systempaths", v) => {
                return Err(bad(format!(
                "--security-opt systempaths: `{}` is not `unconfined`, the only value Docker takes",
                v.unwrap_or("")
            )))
            }
            ("label", Some(v)) if !v.is_empty() => {
                let known = v == "disable"
                    || ["user:", "role:", "type:", "level:", "filetype:"]
                        .iter()
                        .any(|p| v.starts_with(p))
                    || v == "nested";
                if !known {
                    return Err(bad(format!("--security-opt label: `{v}` is not a label option (disable, user:, role:, type:, level:)")));
                }
                notes(Note::LabelIgnored {
                    option: opt.to_string(),
                });
            }
            ("label", _) => {
                return Err(bad(
                    "--security-opt label: the value is empty (e.g. label=disable)",
                ))
            }
            _ => return Err(bad(format!(
                "unknown --security-opt `{opt}` (expected seccomp=, apparmor=, landlock=, no-new-privileges, systempaths=unconfined, label= or confine's arg-width= and seccomp-verify)"
            ))),
        }
    }
    if let Some(s) = seccomp {
        o.seccomp = seccomp_value(s)?;
    }
    if let Some(n) = apparmor {
        o.apparmor = Some(apparmor_value(n)?);
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(opts: &[&str]) -> (Result<SecurityOptions>, Vec<Note>) {
        let opts: Vec<OsString> = opts.iter().map(OsString::from).collect();
        let mut notes = Vec::new();
        let r = parse(&opts, None, None, &mut |n| notes.push(n));
        (r, notes)
    }

    #[test]
    fn docker_forms() {
        let (o, _) = parse_all(&["seccomp:unconfined", "no-new-privileges", "apparmor=x"]);
        let o = o.unwrap();
        assert_eq!(o.seccomp, SeccompChoice::Unconfined);
        assert!(o.no_new_privs);
        assert_eq!(o.apparmor.as_deref(), Some("x"));
        let (o, notes) = parse_all(&["label=disable"]);
        assert!(o.is_ok());
        assert_eq!(
            notes,
            [Note::LabelIgnored {
                option: "label=disable".into()
            }]
        );
        for bad in [
            "seccomp=",
            "apparmor=",
            "no-new-privileges=maybe",
            "systempaths=x",
            "label=",
            "x=y",
        ] {
            let (o, _) = parse_all(&[bad]);
            assert!(
                matches!(
                    o,
                    Err(Error::Option {
                        option: "--security-opt",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }
}
