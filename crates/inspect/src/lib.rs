//! How a process is confined, read from procfs without side effects: `/proc/PID/status`
//! (ids, capability sets, NoNewPrivs, Seccomp, Seccomp_filters, TracerPid) and the AppArmor
//! label. Fields a kernel does not show, or that cannot be read, are `None`: never invented.
//! The kernel does not show a process's Landlock domain: [`landlock`] writes and reads the
//! records `confine run` keeps of the domains it made.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod container;
mod error;
pub mod ids;
pub mod landlock;
pub mod ns;
pub mod status;

use confine_apparmor::kernel::{label_of, LabelState};
use std::path::Path;
use std::sync::Arc;

pub use error::{ExeError, FileError, InspectError, Result};
pub use status::{SeccompMode, Status};

/// What was read about one process.
#[derive(Clone, Debug)]
pub struct Process {
    /// Its id.
    pub pid: u32,
    /// `/proc/PID/status`, parsed.
    pub status: Status,
    /// The command line, arguments joined by spaces (lossy UTF-8), when readable.
    pub cmdline: Option<String>,
    /// The executable, or why it cannot be read.
    pub exe: Result<String, ExeError>,
    /// The AppArmor label, or why there is none.
    pub apparmor: LabelState,
    /// The SELinux context when SELinux is active (`attr/current` then belongs to it).
    pub selinux: Option<Result<String, FileError>>,
    /// The namespaces (empty when not asked for).
    pub namespaces: Vec<ns::Namespace>,
    /// `uid_map` and `gid_map`, when readable.
    pub uid_map: Option<Vec<ids::MapRange>>,
    /// See `uid_map`.
    pub gid_map: Option<Vec<ids::MapRange>>,
    /// The container, from the cgroup paths.
    pub container: Option<container::Container>,
}

/// What to read besides `status`.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// AppArmor is enabled (then `attr/current` may be read as AppArmor's).
    pub apparmor_enabled: bool,
    /// SELinux is among the active LSMs.
    pub selinux_active: bool,
    /// PID 1's namespaces, to judge namespaces against; `None`: skip namespaces.
    pub namespaces: Option<ns::Reference>,
    /// Read the command line and exe (the `--all` table does not need them).
    pub details: bool,
    /// Read the user-namespace id maps.
    pub id_maps: bool,
}

/// The largest file read under the procfs root. A real procfs never comes near it; a saved
/// copy (`confine inspect --proc-copy`) is read through confine-input, so a FIFO or a device
/// planted there is refused by type rather than read.
pub const MAX_FILE_BYTES: u64 = confine_input::MAX_TEXT_BYTES;

/// Read a file under the procfs root: regular files only, at most [`MAX_FILE_BYTES`].
pub fn read_file(path: &Path) -> Result<Vec<u8>, confine_input::InputError> {
    confine_input::read(path, MAX_FILE_BYTES)
}

/// [`read_file`] as lossy UTF-8 text.
pub fn read_text(path: &Path) -> Option<String> {
    read_file(path)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Why `path` of process `pid` could not be read, as [`read_file`] reports it.
fn file_error(pid: u32, path: std::path::PathBuf, e: confine_input::InputError) -> FileError {
    match e {
        confine_input::InputError::Read { reason, .. } if reason.raw_os_error().is_some() => {
            match reason.raw_os_error() {
                Some(13) | Some(1) => FileError::PermissionDenied {
                    pid,
                    path,
                    source: Arc::new(reason),
                },
                Some(2) | Some(3) => FileError::Exited {
                    pid,
                    path,
                    source: Arc::new(reason),
                },
                _ => FileError::Io {
                    pid,
                    path,
                    reason: Arc::new(reason),
                },
            }
        }
        e => FileError::Input {
            pid,
            reason: Arc::new(e),
        },
    }
}

/// Read process `pid` under `proc_root` (normally `/proc`). Only `status` is required; every
/// other field records why it could not be read.
///
/// # Example
///
/// The calling process, from the running kernel's procfs:
///
/// ```
/// use confine_inspect::{read, Options, SeccompMode};
/// use std::path::Path;
///
/// let pid = std::process::id();
/// let options = Options {
///     details: true,
///     ..Options::default()
/// };
/// let me = read(Path::new("/proc"), pid, &options)?;
/// assert_eq!(me.pid, pid);
/// assert!(me.status.name.is_some() && !me.status.is_zombie());
/// // a kernel built with seccomp shows the mode: one of the three it defines
/// if let Some(mode) = me.status.seccomp {
///     assert!(!matches!(mode, SeccompMode::Unknown(_)), "{}", mode.name());
/// }
/// // `details` reads the command line and the executable: this very program
/// assert!(me.cmdline.is_some());
/// let exe = std::env::current_exe().unwrap();
/// assert_eq!(me.exe.as_deref().ok(), exe.to_str());
/// // namespaces were not asked for
/// assert!(me.namespaces.is_empty());
/// # Ok::<(), confine_inspect::InspectError>(())
/// ```
pub fn read(proc_root: &Path, pid: u32, o: &Options) -> Result<Process> {
    let dir = proc_root.join(pid.to_string());
    let text = read_file(&dir.join("status")).map_err(|e| {
        match e.io_error().and_then(|e| e.raw_os_error()) {
            Some(2) | Some(3) => InspectError::Gone(pid),
            _ => InspectError::Read { pid, reason: e },
        }
    })?;
    let status = Status::parse(&String::from_utf8_lossy(&text));
    let zombie = status.is_zombie();
    let cmdline = if o.details {
        read_file(&dir.join("cmdline")).ok().map(|b| {
            let parts: Vec<String> = b
                .split(|&c| c == 0)
                .filter(|p| !p.is_empty())
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            parts.join(" ")
        })
    } else {
        None
    };
    let exe = if o.details {
        let path = dir.join("exe");
        std::fs::read_link(&path)
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(|e| match e.raw_os_error() {
                // a zombie has released its memory, executable included
                Some(2) if zombie => ExeError::Zombie { pid },
                // the process is still there: kernel threads have no executable
                Some(2) if dir.is_dir() => ExeError::KernelThread { pid },
                Some(13) | Some(1) => ExeError::Read(FileError::PermissionDenied {
                    pid,
                    path,
                    source: Arc::new(e),
                }),
                Some(3) => ExeError::Read(FileError::Exited {
                    pid,
                    path,
                    source: Arc::new(e),
                }),
                _ => ExeError::Read(FileError::Io {
                    pid,
                    path,
                    reason: Arc::new(e),
                }),
            })
    } else {
        Err(ExeError::NotRead { pid })
    };
    let selinux = o.selinux_active.then(|| {
        let path = dir.join("attr/current");
        read_file(&path)
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .trim_end_matches(['\0', '\n'])
                    .to_string()
            })
            .map_err(|e| file_error(pid, path, e))
    });
    let map = |f: &str| {
        o.details
            .then(|| read_text(&dir.join(f)).map(|t| ids::parse_map(&t)))
            .flatten()
    };
    Ok(Process {
        pid,
        status,
        cmdline,
        exe,
        apparmor: label_of(proc_root, Some(pid), o.apparmor_enabled),
        selinux,
        namespaces: match &o.namespaces {
            Some(r) => {
                let mut v = ns::read(proc_root, pid, r);
                if zombie {
                    // the kernel drops a zombie's namespaces at exit (only pid and user stay)
                    for n in v.iter_mut().filter(|n| n.inode.is_err()) {
                        n.inode = Err(ns::NsError::Zombie { pid, kind: n.kind });
                    }
                }
                v
            }
            None => Vec::new(),
        },
        uid_map: map("uid_map"),
        gid_map: map("gid_map"),
        container: read_text(&dir.join("cgroup")).and_then(|t| container::from_cgroup_file(&t)),
    })
}

/// `PF_KTHREAD` in the flags of `/proc/PID/stat` (include/linux/sched.h).
const PF_KTHREAD: u64 = 0x0020_0000;

/// Whether `p` is a kernel thread: `Kthread:` in its status where the kernel prints it
/// (recent kernels), otherwise `PF_KTHREAD` in the flags of `/proc/PID/stat` (the ninth field).
/// Unknown (neither readable, as in a saved procfs without `stat`) is `false`: a process is
/// never hidden on a guess.
pub fn is_kernel_thread(proc_root: &Path, p: &Process) -> bool {
    if let Some(k) = p.status.kthread {
        return k;
    }
    read_text(&proc_root.join(p.pid.to_string()).join("stat"))
        .and_then(|t| stat_flags(&t))
        .is_some_and(|f| f & PF_KTHREAD != 0)
}

/// The flags field of a `/proc/PID/stat` line. The comm in parentheses may itself contain
/// spaces and parentheses, so the fields are counted after its last `)`.
fn stat_flags(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // after the comm: state, ppid, pgrp, session, tty_nr, tpgid, flags
    rest.split_whitespace().nth(6)?.parse().ok()
}

/// The process ids under `proc_root`, ascending.
pub fn pids(proc_root: &Path) -> std::io::Result<Vec<u32>> {
    let mut v: Vec<u32> = std::fs::read_dir(proc_root)?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    v.sort_unstable();
    Ok(v)
}

/// The thread ids of `pid`, ascending.
pub fn threads(proc_root: &Path, pid: u32) -> std::io::Result<Vec<u32>> {
    pids(&proc_root.join(pid.to_string()).join("task"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_flags_are_counted_after_the_last_parenthesis() {
        // kthreadd on a 6.18 kernel, and a process whose comm plays tricks
        assert_eq!(
            stat_flags("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0"),
            Some(2129984)
        );
        assert_eq!(
            stat_flags("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0").unwrap() & PF_KTHREAD,
            PF_KTHREAD
        );
        assert_eq!(
            stat_flags("77 (a) S 1 2 3 4 5 6 (x) R 1 77 77 0 -1 4194560 12"),
            Some(4194560)
        );
        assert_eq!(stat_flags("77 (a"), None);
        assert_eq!(stat_flags("77 (a) S 1"), None);
    }

    #[test]
    fn a_kernel_thread_is_known_by_its_status_or_its_stat_flags() {
        let dir = tempfile::tempdir().unwrap();
        let status = |kthread: &str| Status::parse(&format!("Name:\tx\n{kthread}Seccomp:\t0\n"));
        let p = |pid, status| Process {
            pid,
            status,
            cmdline: None,
            exe: Err(ExeError::NotRead { pid }),
            apparmor: LabelState::NoLsm,
            selinux: None,
            namespaces: Vec::new(),
            uid_map: None,
            gid_map: None,
            container: None,
        };
        assert!(is_kernel_thread(dir.path(), &p(2, status("Kthread:\t1\n"))));
        assert!(!is_kernel_thread(
            dir.path(),
            &p(1, status("Kthread:\t0\n"))
        ));
        // an older kernel: no Kthread line, the flags of stat decide
        std::fs::create_dir(dir.path().join("3")).unwrap();
        std::fs::write(
            dir.path().join("3/stat"),
            "3 (pool_workqueue_release) S 2 0 0 0 -1 2129984 0",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("4")).unwrap();
        std::fs::write(dir.path().join("4/stat"), "4 (sh) S 1 4 4 0 -1 4194560 0").unwrap();
        assert!(is_kernel_thread(dir.path(), &p(3, status(""))));
        assert!(!is_kernel_thread(dir.path(), &p(4, status(""))));
        // neither: never hidden on a guess
        assert!(!is_kernel_thread(dir.path(), &p(5, status(""))));
    }

    #[test]
    fn live_kthreadd_is_a_kernel_thread_and_this_process_is_not() {
        let o = Options::default();
        let me = read(Path::new("/proc"), std::process::id(), &o).unwrap();
        assert!(!is_kernel_thread(Path::new("/proc"), &me));
        // pid 2 is kthreadd in the initial pid namespace
        if let Ok(k) = read(Path::new("/proc"), 2, &o) {
            if k.status.name.as_deref() == Some("kthreadd") {
                assert!(is_kernel_thread(Path::new("/proc"), &k));
            }
        }
    }
}
