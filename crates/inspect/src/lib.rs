//! How a process is confined, read from procfs without side effects: `/proc/PID/status`
//! (ids, capability sets, NoNewPrivs, Seccomp, Seccomp_filters, TracerPid) and the AppArmor
//! label. Fields a kernel does not show, or that cannot be read, are `None`: never invented.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod container;
mod error;
pub mod ids;
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
