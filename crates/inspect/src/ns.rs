//! Namespaces: a process's `/proc/PID/ns/*` links, judged against PID 1's, or against the
//! kernel's fixed inode numbers of the initial namespaces when PID 1's links cannot be read
//! (they need ptrace access: on these machines even root cannot read them).

use crate::FileError;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The namespace kinds reported, in order.
pub const KINDS: [&str; 8] = ["mnt", "pid", "net", "user", "uts", "ipc", "cgroup", "time"];

/// The inode of each initial namespace (`enum init_ns_ino`, include/uapi/linux/nsfs.h; mnt and
/// net got theirs in Linux 6.17: older kernels number them like any other namespace).
pub fn initial_inode(kind: &str) -> Option<u64> {
    Some(match kind {
        "ipc" => 0xEFFF_FFFF,
        "uts" => 0xEFFF_FFFE,
        "user" => 0xEFFF_FFFD,
        "pid" => 0xEFFF_FFFC,
        "cgroup" => 0xEFFF_FFFB,
        "time" => 0xEFFF_FFFA,
        "net" => 0xEFFF_FFF9,
        "mnt" => 0xEFFF_FFF8,
        _ => return None,
    })
}

/// What a namespace is, compared with the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The same as PID 1's.
    SameAsPid1,
    /// Different from PID 1's.
    DiffersFromPid1,
    /// The initial (host) namespace, by its fixed inode number.
    Initial,
    /// Not the initial namespace (on kernels that number this kind's initial namespace).
    NotInitial,
    /// Nothing to compare with.
    Unknown,
}

impl Verdict {
    /// host / private / unknown.
    pub fn short(self) -> &'static str {
        match self {
            Verdict::SameAsPid1 | Verdict::Initial => "host",
            Verdict::DiffersFromPid1 | Verdict::NotInitial => "private",
            Verdict::Unknown => "unknown",
        }
    }

    /// What it was judged against.
    pub fn basis(self) -> &'static str {
        match self {
            Verdict::SameAsPid1 | Verdict::DiffersFromPid1 => "PID 1",
            Verdict::Initial | Verdict::NotInitial => "initial namespace inode",
            Verdict::Unknown => "none",
        }
    }
}

/// Why a namespace's inode is not known.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum NsError {
    /// The kernel has no `ns/KIND` link (ENOENT): it does not have that namespace type.
    #[error("not exposed by this kernel")]
    NotExposed {
        /// The process.
        pid: u32,
        /// `mnt`, `pid`, …
        kind: &'static str,
    },
    /// The link does not read `KIND:[INODE]`.
    #[error("unexpected link {target:?}")]
    UnexpectedLink {
        /// The process.
        pid: u32,
        /// `mnt`, `pid`, …
        kind: &'static str,
        /// What it points to.
        target: PathBuf,
    },
    /// A zombie: the kernel dropped its namespaces at exit (only pid and user stay).
    #[error("none (zombie: released at exit)")]
    Zombie {
        /// The process.
        pid: u32,
        /// `mnt`, `pid`, …
        kind: &'static str,
    },
    /// The link could not be read.
    #[error(transparent)]
    Read(FileError),
}

impl NsError {
    /// The process has no such namespace any more (rather than one that could not be read).
    pub fn is_none(&self) -> bool {
        matches!(self, NsError::Zombie { .. })
    }
}

/// The module's result.
pub type Result<T, E = NsError> = std::result::Result<T, E>;

/// One namespace of a process.
#[derive(Clone, Debug)]
pub struct Namespace {
    /// `mnt`, `pid`, …
    pub kind: &'static str,
    /// The inode, or why it could not be read.
    pub inode: Result<u64>,
    /// The verdict.
    pub verdict: Verdict,
}

/// PID 1's inodes, read once.
#[derive(Clone, Debug, Default)]
pub struct Reference {
    pid1: Vec<(&'static str, Option<u64>)>,
}

fn parse_link(s: &str) -> Option<u64> {
    s.rsplit_once(":[")?.1.strip_suffix(']')?.parse().ok()
}

fn read_inode(proc_root: &Path, pid: u32, kind: &'static str) -> Result<u64> {
    let path = proc_root.join(pid.to_string()).join("ns").join(kind);
    match std::fs::read_link(&path) {
        Ok(target) => parse_link(&target.to_string_lossy()).ok_or(NsError::UnexpectedLink {
            pid,
            kind,
            target,
        }),
        Err(e) => Err(match e.raw_os_error() {
            Some(13) => NsError::Read(FileError::PermissionDenied {
                pid,
                path,
                source: Arc::new(e),
            }),
            Some(2) => NsError::NotExposed { pid, kind },
            _ => NsError::Read(FileError::Io {
                pid,
                path,
                reason: Arc::new(e),
            }),
        }),
    }
}

impl Reference {
    /// Read PID 1's links under `proc_root`.
    pub fn load(proc_root: &Path) -> Reference {
        Reference {
            pid1: KINDS
                .iter()
                .map(|k| (*k, read_inode(proc_root, 1, k).ok()))
                .collect(),
        }
    }

    fn pid1(&self, kind: &str) -> Option<u64> {
        self.pid1.iter().find(|(k, _)| *k == kind).and_then(|x| x.1)
    }

    /// Judge `inode` of `kind`.
    pub fn judge(&self, kind: &str, inode: u64) -> Verdict {
        match (self.pid1(kind), initial_inode(kind)) {
            (Some(p), _) if p == inode => Verdict::SameAsPid1,
            (Some(_), _) => Verdict::DiffersFromPid1,
            (None, Some(i)) if i == inode => Verdict::Initial,
            (None, Some(_)) => Verdict::NotInitial,
            (None, None) => Verdict::Unknown,
        }
    }
}

/// The namespaces of `pid`.
pub fn read(proc_root: &Path, pid: u32, r: &Reference) -> Vec<Namespace> {
    KINDS
        .iter()
        .map(|k| {
            let inode = read_inode(proc_root, pid, k);
            let verdict = match &inode {
                Ok(i) => r.judge(k, *i),
                Err(_) => Verdict::Unknown,
            };
            Namespace {
                kind: k,
                inode,
                verdict,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_verdicts() {
        assert_eq!(parse_link("pid:[4026531836]"), Some(4026531836));
        assert_eq!(parse_link("garbage"), None);
        let none = Reference::default();
        assert_eq!(none.judge("pid", 4026531836), Verdict::Initial);
        assert_eq!(none.judge("pid", 4026532000), Verdict::NotInitial);
        let pid1 = Reference {
            pid1: vec![("pid", Some(4026532000))],
        };
        assert_eq!(pid1.judge("pid", 4026532000), Verdict::SameAsPid1);
        assert_eq!(pid1.judge("pid", 4026531836), Verdict::DiffersFromPid1);
    }

    #[test]
    fn this_process_is_in_the_host_pid_namespace() {
        let r = Reference::load(Path::new("/proc"));
        let ns = read(Path::new("/proc"), std::process::id(), &r);
        let pid = ns.iter().find(|n| n.kind == "pid").unwrap();
        assert!(pid.inode.is_ok());
        assert_eq!(pid.verdict.short(), "host");
    }

    #[test]
    fn a_missing_link_is_not_exposed() {
        let dir = std::env::temp_dir().join(format!("confine-ns-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("7/ns")).unwrap();
        let e = read_inode(&dir, 7, "time").unwrap_err();
        assert!(matches!(
            e,
            NsError::NotExposed {
                pid: 7,
                kind: "time"
            }
        ));
        assert_eq!(e.to_string(), "not exposed by this kernel");
        assert!(!e.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
