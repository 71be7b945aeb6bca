//! Is AppArmor usable here? The same tests Docker and containerd make (securityfs entry,
//! `/sys/module/apparmor/parameters/enabled`, `apparmor_parser` present), each reported
//! separately so a message can say what is missing.

use std::path::{Path, PathBuf};

/// What was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detection {
    /// `/sys/module/apparmor/parameters/enabled` starts with `Y`.
    pub module_enabled: bool,
    /// `/sys/kernel/security/apparmor` exists (securityfs mounted and AppArmor registered).
    pub securityfs: bool,
    /// The active LSMs, from `/sys/kernel/security/lsm` or, without securityfs, as the caller
    /// supplies them (`lsm_list_modules(2)`); `None` when unknown.
    pub lsms: Option<Vec<String>>,
    /// `apparmor_parser`, found on PATH or in /sbin, /usr/sbin.
    pub parser: Option<PathBuf>,
}

impl Detection {
    /// AppArmor is enforcing in this kernel (what runc checks).
    pub fn enabled(&self) -> bool {
        self.module_enabled && self.securityfs
    }

    /// Profiles can also be loaded (what containerd's `HostSupports` adds).
    pub fn can_load(&self) -> bool {
        self.enabled() && self.parser.is_some()
    }

    fn lsm_list(&self) -> String {
        match &self.lsms {
            Some(l) => l.join(","),
            None => "unknown".into(),
        }
    }

    /// Why AppArmor cannot be used, or `None` when it is enabled.
    pub fn why_not_enabled(&self) -> Option<String> {
        if self.enabled() {
            return None;
        }
        let apparmor_active = self
            .lsms
            .as_ref()
            .is_some_and(|l| l.iter().any(|m| m == "apparmor"));
        Some(if !self.module_enabled && !apparmor_active {
            format!(
                "AppArmor is not enabled in the running kernel (active LSMs: {})",
                self.lsm_list()
            )
        } else if !self.module_enabled {
            "AppArmor is built in but disabled (/sys/module/apparmor/parameters/enabled is not Y; boot with apparmor=1)".to_string()
        } else {
            format!(
                "AppArmor is enabled but {} is missing (mount securityfs: mount -t securityfs securityfs /sys/kernel/security)",
                crate::kernel::SECURITYFS
            )
        })
    }

    /// Why profiles cannot be loaded, or `None`.
    pub fn why_cannot_load(&self) -> Option<String> {
        self.why_not_enabled().or_else(|| {
            self.parser.is_none().then(|| {
                "apparmor_parser was not found on PATH, in /sbin or in /usr/sbin (Debian: apt-get install apparmor)".to_string()
            })
        })
    }
}

/// Find `apparmor_parser` as Docker runs it: from PATH, else the sbin directories.
pub fn find_parser() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/sbin", "/usr/sbin"].map(PathBuf::from))
        .filter(|d| d.is_absolute())
        .map(|d| d.join("apparmor_parser"))
        .find(|p| p.is_file())
}

/// Look at this machine. `fallback_lsms` gives the active LSMs when securityfs does not
/// (confine-kernel reads them with `lsm_list_modules(2)`).
pub fn detect(fallback_lsms: impl FnOnce() -> Option<Vec<String>>) -> Detection {
    let module_enabled = std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .is_ok_and(|s| s.trim_start().starts_with('Y'));
    let lsms = match std::fs::read_to_string("/sys/kernel/security/lsm") {
        Ok(s) => Some(
            s.trim()
                .split(',')
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        Err(_) => fallback_lsms(),
    };
    Detection {
        module_enabled,
        securityfs: Path::new(crate::kernel::SECURITYFS).is_dir(),
        lsms,
        parser: find_parser(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(module: bool, sfs: bool, lsms: &[&str], parser: bool) -> Detection {
        Detection {
            module_enabled: module,
            securityfs: sfs,
            lsms: Some(lsms.iter().map(|s| s.to_string()).collect()),
            parser: parser.then(|| PathBuf::from("/sbin/apparmor_parser")),
        }
    }

    #[test]
    fn messages_say_what_is_missing() {
        let off = d(
            false,
            false,
            &["lockdown", "capability", "landlock", "bpf"],
            true,
        );
        assert_eq!(
            off.why_not_enabled().unwrap(),
            "AppArmor is not enabled in the running kernel (active LSMs: lockdown,capability,landlock,bpf)"
        );
        assert!(d(false, true, &["apparmor"], true)
            .why_not_enabled()
            .unwrap()
            .contains("apparmor=1"));
        assert!(d(true, false, &["apparmor"], true)
            .why_not_enabled()
            .unwrap()
            .contains("securityfs"));
        let no_parser = d(true, true, &["apparmor"], false);
        assert!(no_parser.enabled() && !no_parser.can_load());
        assert!(no_parser
            .why_cannot_load()
            .unwrap()
            .contains("apparmor_parser"));
        assert_eq!(d(true, true, &["apparmor"], true).why_cannot_load(), None);
    }

    #[test]
    fn this_machine() {
        // the development and CI machines run a kernel without AppArmor
        let here = detect(|| None);
        if !here.securityfs {
            assert!(!here.enabled());
            assert!(here.why_not_enabled().is_some());
        }
    }
}
