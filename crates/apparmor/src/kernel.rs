//! What the kernel says: loaded profiles (securityfs), a process's label (procfs), removal.

use std::io;
use std::path::{Path, PathBuf};

/// Where AppArmor's securityfs directory is.
pub const SECURITYFS: &str = "/sys/kernel/security/apparmor";

/// A label as `attr/current` shows it: `docker-default (enforce)`, `unconfined`, `a//&b (mixed)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// The label without the mode.
    pub name: String,
    /// The mode in parentheses, when present (`enforce`, `complain`, `kill`, …).
    pub mode: Option<String>,
}

/// Split a label as libapparmor's `splitcon` does: a trailing newline and NUL are dropped, and
/// when the text ends in `)`, the mode is what follows the last ` (`.
pub fn parse_label(text: &str) -> Label {
    let t = text.trim_end_matches(['\n', '\0']);
    if let Some(body) = t.strip_suffix(')') {
        if let Some((name, mode)) = body.rsplit_once(" (") {
            return Label {
                name: name.to_string(),
                mode: Some(mode.to_string()),
            };
        }
    }
    Label {
        name: t.to_string(),
        mode: None,
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.mode {
            Some(m) => write!(f, "{} ({m})", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// One loaded profile from securityfs `profiles`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// Profile name.
    pub name: String,
    /// Its mode.
    pub mode: String,
}

/// Parse the `profiles` file: one `name (mode)` per line.
pub fn parse_profiles(text: &str) -> Vec<Loaded> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let lab = parse_label(l);
            Loaded {
                name: lab.name,
                mode: lab.mode.unwrap_or_default(),
            }
        })
        .collect()
}

/// The loaded profiles (root only: the file is mode 0400 in most kernels).
pub fn loaded_profiles() -> io::Result<Vec<Loaded>> {
    std::fs::read_to_string(Path::new(SECURITYFS).join("profiles")).map(|t| parse_profiles(&t))
}

/// Whether `name` is loaded.
pub fn is_loaded(name: &str) -> io::Result<bool> {
    Ok(loaded_profiles()?.iter().any(|p| p.name == name))
}

/// Remove a loaded profile by writing its name to securityfs `.remove`, as
/// `apparmor_parser -R` ends up doing.
pub fn remove(name: &str) -> io::Result<()> {
    std::fs::write(Path::new(SECURITYFS).join(".remove"), name.as_bytes())
}

/// How reading a process's AppArmor label ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelState {
    /// The label.
    Label(Label),
    /// No LSM owns the attribute (AppArmor is not active): EINVAL, or no such file.
    NoLsm,
    /// Not allowed to read it.
    PermissionDenied,
    /// The process is gone.
    Gone,
    /// Another error.
    Error(String),
}

/// Read the AppArmor label of `pid` (`None`: the calling process): `attr/apparmor/current`
/// (Linux 5.8+), and `attr/current` only when AppArmor is enabled, as libapparmor does, since
/// that file may belong to another LSM.
pub fn label_of(proc_root: &Path, pid: Option<u32>, apparmor_enabled: bool) -> LabelState {
    let base: PathBuf = match pid {
        Some(p) => proc_root.join(p.to_string()),
        None => proc_root.join("self"),
    };
    let mut paths = vec![base.join("attr/apparmor/current")];
    if apparmor_enabled {
        paths.push(base.join("attr/current"));
    }
    let mut last = LabelState::NoLsm;
    for p in paths {
        // through confine-input: under a saved copy of a procfs, a FIFO or a device is refused
        // by type instead of blocking
        match confine_input::read(&p, confine_input::MAX_TEXT_BYTES) {
            Ok(b) => return LabelState::Label(parse_label(&String::from_utf8_lossy(&b))),
            Err(e) => {
                let Some(e) = e.io_error() else {
                    return LabelState::Error(e.to_string());
                };
                last = match (e.kind(), e.raw_os_error()) {
                    (_, Some(22)) => LabelState::NoLsm, // EINVAL
                    (io::ErrorKind::NotFound, _) => {
                        if base.exists() {
                            LabelState::NoLsm
                        } else {
                            return LabelState::Gone;
                        }
                    }
                    (io::ErrorKind::PermissionDenied, _) => LabelState::PermissionDenied,
                    (_, Some(3)) => return LabelState::Gone, // ESRCH
                    _ => LabelState::Error(e.to_string()),
                }
            }
        }
    }
    last
}

/// Processes per AppArmor label, from every `/proc/PID/attr/apparmor/current` readable.
pub fn processes_by_label(proc_root: &Path) -> Vec<(Label, Vec<u32>)> {
    let mut out: Vec<(Label, Vec<u32>)> = Vec::new();
    let Ok(dir) = std::fs::read_dir(proc_root) else {
        return out;
    };
    let mut pids: Vec<u32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    for pid in pids {
        if let LabelState::Label(l) = label_of(proc_root, Some(pid), true) {
            match out.iter_mut().find(|(k, _)| *k == l) {
                Some((_, v)) => v.push(pid),
                None => out.push((l, vec![pid])),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_split_like_libapparmor() {
        let l = parse_label("docker-default (enforce)\n");
        assert_eq!(l.name, "docker-default");
        assert_eq!(l.mode.as_deref(), Some("enforce"));
        assert_eq!(parse_label("unconfined\n").mode, None);
        let s = parse_label("a//&b (mixed)");
        assert_eq!(
            (s.name.as_str(), s.mode.as_deref()),
            ("a//&b", Some("mixed"))
        );
        // a name with spaces and parentheses: only the last " (" counts
        let n = parse_label("my (odd) name (complain)");
        assert_eq!(n.name, "my (odd) name");
        assert_eq!(n.to_string(), "my (odd) name (complain)");
    }

    #[test]
    fn profiles_file() {
        let p = parse_profiles("docker-default (enforce)\ntest (complain)\n");
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].name, "test");
        assert_eq!(p[1].mode, "complain");
    }

    #[test]
    fn without_apparmor_this_kernel_has_no_label() {
        // the development machines have no AppArmor: the attribute belongs to no LSM
        if Path::new(SECURITYFS).exists() {
            return;
        }
        assert_eq!(label_of(Path::new("/proc"), None, false), LabelState::NoLsm);
        assert_eq!(
            label_of(Path::new("/proc"), Some(u32::MAX - 1), false),
            LabelState::Gone
        );
    }
}
