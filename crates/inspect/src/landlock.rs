//! Landlock records: what `confine run` applied, kept where `confine inspect` can read it,
//! since the kernel shows no process's Landlock domain in procfs.
//!
//! The `confine run` process (the *writer*, itself outside the domain) puts one small JSON
//! [`Record`] in a sealed memfd named `confine-landlock:<pid>-<starttime>` after its own pid and
//! start time (field 22 of `/proc/PID/stat`) before it starts the command, and holds the only
//! descriptor to it (close-on-exec) until the command has ended ([`RecordGuard`]). The record
//! lives exactly as long as that descriptor: when confine ends, however it ends (SIGKILL
//! included), the kernel frees it, so nothing is ever left behind, and no file, directory or
//! environment variable is involved. Every descendant of the writer is in the domain, except
//! the writer's direct child when that child is confine's own init in a pid namespace
//! ([`Record::init_not_in_domain`]). A reader walks a process's ancestors (`PPid:`) and looks
//! in each one's descriptor table (`/proc/PID/fd`) for the memfd named after it ([`find`]).
//!
//! Trust: the memfd must carry all the seals ([`confine_kernel::memfd::SEALS`]: nobody can
//! change it, its writer included), be found again under the same name through the reader's
//! own descriptor (it was not swapped while being opened), belong to root or to the owner of
//! the process holding it, and say so itself (`uid`) with that process's pid and start time.
//! A record written by a user is believed only for that user's processes: a record never says
//! more than its owner could.
//!
//! Limits: a descriptor table is readable only with ptrace access to its process (root, or the
//! same user while the process is dumpable), so a user does not see a record root's `confine
//! run` keeps (such ancestors are listed in [`Lookup::unreadable`]); pids and start times are
//! those of the writer's pid and time namespaces, so a reader in another pid namespace finds
//! nothing.
//!
//! # References
//! * proc_pid_stat(5) (`starttime`), proc_pid_status(5) (`PPid:`), proc_pid_fd(5) (the links
//!   and ptrace access mode), memfd_create(2), fcntl(2) (file seals), landlock(7)

use crate::Status;
use confine_abi::landlock as abi;
use confine_kernel::memfd;
use serde::{Deserialize, Serialize};
use std::ffi::CString;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// The format version this module writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// What every record's memfd name starts with; then `<pid>-<starttime>`.
pub const MEMFD_PREFIX: &str = "confine-landlock:";
/// The largest record read.
pub const MAX_RECORD_BYTES: u64 = 256 << 10;
/// The most ancestors walked from one process.
pub const MAX_ANCESTORS: usize = 4096;
/// The most descriptors looked at in one ancestor's table.
pub const MAX_FDS: usize = 1 << 16;

/// `--landlock-compat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compat {
    /// A right the kernel lacks stopped the run: nothing was dropped.
    Require,
    /// Rights the kernel lacks were dropped (listed in [`Record::dropped`]).
    BestEffort,
}

impl Compat {
    /// `require` or `best-effort`.
    pub fn name(self) -> &'static str {
        match self {
            Compat::Require => "require",
            Compat::BestEffort => "best-effort",
        }
    }
}

/// A path rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathRule {
    /// The path as opened (the resolved target for a symlink).
    pub path: String,
    /// The rights allowed beneath it, by name (`read_file`, …).
    pub rights: Vec<String>,
}

/// A TCP port rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortRule {
    /// The port.
    pub port: u16,
    /// The rights allowed on it (`bind_tcp`, `connect_tcp`).
    pub rights: Vec<String>,
}

/// What one `confine run` applied with Landlock. The masks and their names are both kept: the
/// names for people, the masks for programs (a bit without a name is `bit_N`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// The writer's pid.
    pub pid: u32,
    /// The writer's start time (clock ticks since boot, field 22 of `/proc/PID/stat`).
    pub starttime: u64,
    /// The filesystem uid that wrote it (the memfd's owner).
    pub uid: u32,
    /// The policy file, or `command line`.
    pub policy: String,
    /// `require` or `best-effort`.
    pub compat: Compat,
    /// The running kernel's Landlock ABI.
    pub abi: u32,
    /// The handled filesystem rights.
    pub handled_fs: u64,
    /// Their names.
    pub handled_fs_names: Vec<String>,
    /// The handled network rights.
    pub handled_net: u64,
    /// Their names.
    pub handled_net_names: Vec<String>,
    /// The scopes.
    pub scoped: u64,
    /// Their names.
    pub scoped_names: Vec<String>,
    /// The path rules.
    pub paths: Vec<PathRule>,
    /// The port rules.
    pub ports: Vec<PortRule>,
    /// Each right or rule left out under `best-effort`, in words (e.g. "TCP bind restriction
    /// needs Landlock ABI 4 (Linux 6.7)").
    pub dropped: Vec<String>,
    /// The socket(2) families and types seccomp denies where Landlock cannot.
    pub seccomp_sockets: Vec<String>,
    /// The writer's direct child is its init in a pid namespace, outside the domain (the
    /// command is the init's child).
    pub init_not_in_domain: bool,
}

impl Record {
    /// An empty record (nothing handled) for the calling process, which is to be the writer.
    pub fn for_self(policy: &str, compat: Compat, abi: u32) -> Result<Record, RecordError> {
        let me = Path::new("/proc/self");
        let stat = crate::read_text(&me.join("stat")).ok_or(RecordError::SelfUnknown)?;
        let status = crate::read_text(&me.join("status")).ok_or(RecordError::SelfUnknown)?;
        let starttime = stat_starttime(&stat).ok_or(RecordError::SelfUnknown)?;
        // the filesystem uid: the memfd's owner, which a reader compares with
        let uid = Status::parse(&status).uid.ok_or(RecordError::SelfUnknown)?[3];
        Ok(Record::new(
            std::process::id(),
            starttime,
            uid,
            policy,
            compat,
            abi,
        ))
    }

    /// An empty record (nothing handled, nothing dropped) of writer `pid` (started at
    /// `starttime`, uid `uid`).
    pub fn new(
        pid: u32,
        starttime: u64,
        uid: u32,
        policy: &str,
        compat: Compat,
        abi: u32,
    ) -> Record {
        Record {
            version: FORMAT_VERSION,
            pid,
            starttime,
            uid,
            policy: policy.to_string(),
            compat,
            abi,
            handled_fs: 0,
            handled_fs_names: Vec::new(),
            handled_net: 0,
            handled_net_names: Vec::new(),
            scoped: 0,
            scoped_names: Vec::new(),
            paths: Vec::new(),
            ports: Vec::new(),
            dropped: Vec::new(),
            seccomp_sockets: Vec::new(),
            init_not_in_domain: false,
        }
    }

    /// Set the handled rights and scopes, with their names.
    pub fn set_handled(&mut self, fs: u64, net: u64, scoped: u64) {
        self.handled_fs = fs;
        self.handled_fs_names = abi::names(fs, &abi::FS_NAMES);
        self.handled_net = net;
        self.handled_net_names = abi::names(net, &abi::NET_NAMES);
        self.scoped = scoped;
        self.scoped_names = abi::names(scoped, &abi::SCOPE_NAMES);
    }

    /// Add a path rule with filesystem rights `rights`.
    pub fn add_path(&mut self, path: &str, rights: u64) {
        self.paths.push(PathRule {
            path: path.to_string(),
            rights: abi::names(rights, &abi::FS_NAMES),
        });
    }

    /// Add a port rule with network rights `rights`.
    pub fn add_port(&mut self, port: u16, rights: u64) {
        self.ports.push(PortRule {
            port,
            rights: abi::names(rights, &abi::NET_NAMES),
        });
    }

    /// The memfd's name: `confine-landlock:<pid>-<starttime>`.
    pub fn memfd_name(&self) -> String {
        memfd_name(self.pid, self.starttime)
    }
}

fn memfd_name(pid: u32, starttime: u64) -> String {
    format!("{MEMFD_PREFIX}{pid}-{starttime}")
}

/// What `/proc/PID/fd/N` shows for the record memfd of writer `pid` started at `starttime`.
fn memfd_link(pid: u32, starttime: u64) -> String {
    format!("/memfd:{} (deleted)", memfd_name(pid, starttime))
}

/// Why a record could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The calling process's own pid, start time or uid could not be read from /proc/self.
    #[error("no Landlock record: cannot read this process's start time and uid from /proc/self")]
    SelfUnknown,
    /// The record names another process than the calling one.
    #[error("no Landlock record: it names process {pid} started at {starttime}, not this one")]
    NotSelf {
        /// The pid it names.
        pid: u32,
        /// The start time it names.
        starttime: u64,
    },
    /// The record is larger than a reader takes ([`MAX_RECORD_BYTES`]).
    #[error("no Landlock record: {0} bytes, more than a reader takes (256 KiB)")]
    TooLarge(usize),
    /// memfd_create, the write or the seals failed.
    #[error("no Landlock record: memfd {name}: {source}")]
    Memfd {
        /// The memfd's name.
        name: String,
        /// The error.
        #[source]
        source: io::Error,
    },
}

/// The start time (field 22) of a `/proc/PID/stat` line. The comm in parentheses may contain
/// spaces and parentheses, so the fields are counted after its last `)`.
pub fn stat_starttime(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // fields 3 (state) to 21 come first
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// A record being kept: the only descriptor to its sealed memfd. Dropping it (or the process
/// ending in any way) frees the record.
#[derive(Debug)]
pub struct RecordGuard {
    fd: memfd::Sealed,
    name: String,
}

impl RecordGuard {
    /// The memfd's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where procfs shows it: `/proc/PID/fd/N`, as [`Found::path`] names it.
    pub fn proc_path(&self) -> PathBuf {
        PathBuf::from(format!(
            "/proc/{}/fd/{}",
            std::process::id(),
            self.fd.as_raw_fd()
        ))
    }

    /// Free the record now (the same as dropping the guard).
    pub fn remove(self) {}
}

/// Keep `record`, which must be the calling process's own ([`Record::for_self`]), in a sealed
/// memfd for as long as the returned guard lives (see the module's documentation). A record
/// memfd this process inherited (not made by confine-kernel's `memfd::sealed`) is closed
/// first: whoever started the process could have planted one to pass for its record.
pub fn write(record: &Record) -> Result<RecordGuard, RecordError> {
    let me = Path::new("/proc/self");
    let starttime = crate::read_text(&me.join("stat"))
        .as_deref()
        .and_then(stat_starttime)
        .ok_or(RecordError::SelfUnknown)?;
    if (record.pid, record.starttime) != (std::process::id(), starttime) {
        return Err(RecordError::NotSelf {
            pid: record.pid,
            starttime: record.starttime,
        });
    }
    let name = record.memfd_name();
    let cname = CString::new(name.clone()).expect("a prefix, digits and a dash");
    let mut text = serde_json::to_vec_pretty(record).expect("a record serializes");
    text.push(b'\n');
    if text.len() as u64 > MAX_RECORD_BYTES {
        return Err(RecordError::TooLarge(text.len()));
    }
    // one inherited from whoever started this process would pass for this process's own
    memfd::close_foreign(MEMFD_PREFIX).map_err(|source| RecordError::Memfd {
        name: name.clone(),
        source,
    })?;
    let fd = memfd::sealed(&cname, &text).map_err(|source| RecordError::Memfd {
        name: name.clone(),
        source,
    })?;
    Ok(RecordGuard { fd, name })
}

mod read;
pub use read::{find, Finder, Found, Ignored, Lookup};

#[cfg(test)]
mod tests;
