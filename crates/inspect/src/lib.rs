//! How a process is confined, read from procfs without side effects: `/proc/PID/status`
//! (ids, capability sets, NoNewPrivs, Seccomp, Seccomp_filters, TracerPid) and the AppArmor
//! label. Fields a kernel does not show, or that cannot be read, are `None`: never invented.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod status;

use confine_apparmor::kernel::{label_of, LabelState};
use std::path::Path;

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
    /// The AppArmor label, or why there is none.
    pub apparmor: LabelState,
}

/// A failure to read a process at all.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// No such process (or it exited while being read).
    #[error("no process {0}")]
    Gone(u32),
    /// status unreadable.
    #[error("cannot read /proc/{pid}/status: {source}")]
    Read {
        /// The process.
        pid: u32,
        /// Why.
        source: std::io::Error,
    },
}

/// Read process `pid` under `proc_root` (normally `/proc`).
pub fn read(proc_root: &Path, pid: u32, apparmor_enabled: bool) -> Result<Process, InspectError> {
    let dir = proc_root.join(pid.to_string());
    let text = std::fs::read(dir.join("status")).map_err(|e| match e.raw_os_error() {
        Some(2) | Some(3) => InspectError::Gone(pid),
        _ => InspectError::Read { pid, source: e },
    })?;
    let status = Status::parse(&String::from_utf8_lossy(&text));
    let cmdline = std::fs::read(dir.join("cmdline")).ok().map(|b| {
        let parts: Vec<String> = b
            .split(|&c| c == 0)
            .filter(|p| !p.is_empty())
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        parts.join(" ")
    });
    Ok(Process {
        pid,
        status,
        cmdline,
        apparmor: label_of(proc_root, Some(pid), apparmor_enabled),
    })
}
