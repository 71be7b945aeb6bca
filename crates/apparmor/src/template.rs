//! Docker's docker-default AppArmor profile, rendered from the same parameters as moby's
//! template (`Name`, `DaemonProfile`, `Abi`, `Imports`, `InnerImports`). The rules are Docker's
//! (moby/profiles `apparmor/template.go`, Apache-2.0); the comments and layout are confine's.
//! What must match Docker is the compiled policy, which a test checks against the golden file.

use std::path::Path;

/// The ABI Docker pins when `/etc/apparmor.d/abi/3.0` exists.
pub const ABI_3_0: &str = "abi/3.0";

/// What the template depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    /// The profile's name (`docker-default`).
    pub name: String,
    /// The daemon's own label, allowed to signal the profile's processes (`unconfined`).
    pub daemon_profile: String,
    /// `abi <…>,` line, when the host has the ABI file.
    pub abi: Option<String>,
    /// `#include <tunables/global>` (else `@{PROC}=/proc/` is defined inline).
    pub tunables_global: bool,
    /// `#include <abstractions/base>` inside the profile.
    pub abstractions_base: bool,
}

/// How to choose the `abi` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbiChoice {
    /// `abi/3.0` when `<dir>/abi/3.0` exists, as Docker.
    Auto,
    /// Always `abi <abi/3.0>,`.
    V3,
    /// No abi line.
    None,
}

/// A name that cannot go into the profile text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Empty.
    #[error("the {0} is empty")]
    Empty(&'static str),
    /// Holds a quote, a backslash, whitespace other than spaces, or a control character.
    #[error("the {what} `{value}` contains {why}, which cannot go into a quoted AppArmor name")]
    Invalid {
        /// Which name.
        what: &'static str,
        /// The value.
        value: String,
        /// The offending character class.
        why: &'static str,
    },
}

/// This module's result: an error is a [`NameError`].
pub type Result<T, E = NameError> = std::result::Result<T, E>;

pub(crate) fn check_name(what: &'static str, v: &str) -> Result<(), NameError> {
    if v.is_empty() {
        return Err(NameError::Empty(what));
    }
    let why = if v.contains('"') {
        Some("a double quote")
    } else if v.contains('\\') {
        Some("a backslash")
    } else if v.chars().any(char::is_control) {
        Some("a control character")
    } else {
        None
    };
    match why {
        Some(why) => Err(NameError::Invalid {
            what,
            value: v.to_string(),
            why,
        }),
        None => Ok(()),
    }
}

impl Params {
    /// Docker's choices for this host: the files it looks for under `dir` (normally
    /// `/etc/apparmor.d`), or none of them with `no_includes`.
    pub fn for_host(
        name: &str,
        daemon_profile: &str,
        dir: &Path,
        abi: AbiChoice,
        no_includes: bool,
    ) -> Result<Params, NameError> {
        check_name("profile name", name)?;
        check_name("daemon profile", daemon_profile)?;
        let has = |rel: &str| !no_includes && dir.join(rel).is_file();
        let abi = match abi {
            AbiChoice::Auto => has(ABI_3_0).then(|| ABI_3_0.to_string()),
            AbiChoice::V3 => Some(ABI_3_0.to_string()),
            AbiChoice::None => None,
        };
        Ok(Params {
            name: name.to_string(),
            daemon_profile: daemon_profile.to_string(),
            abi,
            tunables_global: has("tunables/global"),
            abstractions_base: has("abstractions/base"),
        })
    }

    /// The parameters moby's golden test file was rendered with: name `default`, daemon
    /// `unconfined`, none of the /etc/apparmor.d files.
    pub fn golden() -> Params {
        Params {
            name: "default".into(),
            daemon_profile: "unconfined".into(),
            abi: None,
            tunables_global: false,
            abstractions_base: false,
        }
    }
}

/// The daemon label as Docker derives it from `attr/current` text: without the trailing
/// newline and ` (mode)`, `unconfined` when empty.
pub fn daemon_label(current: &str) -> String {
    let l = crate::kernel::parse_label(current);
    if l.name.is_empty() {
        "unconfined".into()
    } else {
        l.name
    }
}

/// Render the profile.
pub fn render(p: &Params) -> String {
    let mut s = String::with_capacity(2048);
    s.push_str("# docker-default, rendered by confine from the rules of moby/profiles' template\n");
    if let Some(abi) = &p.abi {
        s.push_str(&format!("abi <{abi}>,\n"));
    }
    if p.tunables_global {
        s.push_str("#include <tunables/global>\n");
    } else {
        s.push_str("@{PROC}=/proc/\n");
    }
    s.push('\n');
    s.push_str(&format!(
        "profile \"{}\" flags=(attach_disconnected,mediate_deleted) {{\n",
        p.name
    ));
    if p.abstractions_base {
        s.push_str("  #include <abstractions/base>\n\n");
    }
    let name = &p.name;
    let daemon = &p.daemon_profile;
    s.push_str(&format!(
        "  # Broad grants: capabilities, seccomp and namespaces are the real barriers.
  network,
  capability,
  file,
  umount,
  # No kernel crypto sockets (AF_ALG), whatever the syscall path.
  deny network alg,

  # Who may signal the container: the host, the runtimes, the daemon; and its own processes.
  signal (receive) peer=unconfined,
  signal (receive) peer=runc,
  signal (receive) peer=crun,
  signal (receive) peer=\"{daemon}\",
  signal (send,receive) peer=\"{name}\",

  # /proc: no writes at its top level, nor below entries that do not look like a PID or sys;
  # under /proc/sys only kernel/shm* stays writable.
  deny @{{PROC}}/* w,
  deny @{{PROC}}/{{[^1-9/],[^1-9/][^0-9/],[^1-9s/][^0-9y/][^0-9s/],[^1-9/][^0-9/][^0-9/][^0-9/]*}}/** w,
  deny @{{PROC}}/sys/[^k]** w,
  deny @{{PROC}}/sys/kernel/{{?,??,[^s][^h][^m]**}} w,
  deny @{{PROC}}/sysrq-trigger rwklx,
  deny @{{PROC}}/kcore rwklx,

  # No mounts, even with CAP_SYS_ADMIN.
  deny mount,

  # /sys: nothing but the cgroup tree may be written; firmware, powercap and securityfs are
  # not even readable.
  deny /sys/[^f]*/** wklx,
  deny /sys/f[^s]*/** wklx,
  deny /sys/fs/[^c]*/** wklx,
  deny /sys/fs/c[^g]*/** wklx,
  deny /sys/fs/cg[^r]*/** wklx,
  deny /sys/firmware/** rwklx,
  deny /sys/devices/virtual/powercap/** rwklx,
  deny /sys/kernel/security/** rwklx,

  # The container's processes may trace each other (capabilities, seccomp and Yama permitting).
  ptrace (trace,tracedby,read,readby) peer=\"{name}\",
}}
"
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_choices_follow_the_files_present() {
        let d = tempfile::tempdir().unwrap();
        let p = Params::for_host(
            "docker-default",
            "unconfined",
            d.path(),
            AbiChoice::Auto,
            false,
        )
        .unwrap();
        assert_eq!(
            (p.abi, p.tunables_global, p.abstractions_base),
            (None, false, false)
        );
        for f in ["abi/3.0", "tunables/global", "abstractions/base"] {
            let path = d.path().join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let p = Params::for_host(
            "docker-default",
            "unconfined",
            d.path(),
            AbiChoice::Auto,
            false,
        )
        .unwrap();
        assert_eq!(p.abi.as_deref(), Some(ABI_3_0));
        assert!(p.tunables_global && p.abstractions_base);
        let text = render(&p);
        assert!(text.contains("abi <abi/3.0>,\n#include <tunables/global>\n"));
        assert!(text.contains("  #include <abstractions/base>\n"));
        let p = Params::for_host("x", "unconfined", d.path(), AbiChoice::Auto, true).unwrap();
        assert_eq!(
            (&p.abi, p.tunables_global, p.abstractions_base),
            (&None, false, false)
        );
        assert!(render(&p).contains("@{PROC}=/proc/\n"));
    }

    #[test]
    fn names_that_would_break_the_text_are_refused() {
        let d = Path::new("/nonexistent");
        for bad in ["", "a\"b", "a\\b", "a\nb"] {
            assert!(Params::for_host(bad, "unconfined", d, AbiChoice::None, true).is_err());
        }
        assert!(Params::for_host("my profile", "unconfined", d, AbiChoice::None, true).is_ok());
    }

    #[test]
    fn daemon_label_strips_the_mode() {
        assert_eq!(daemon_label("docker-daemon (enforce)\n"), "docker-daemon");
        assert_eq!(daemon_label("unconfined\n"), "unconfined");
        assert_eq!(daemon_label(""), "unconfined");
    }
}
