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
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The format version this module writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// What every record's memfd name starts with; then `<pid>-<starttime>`.
pub const MEMFD_PREFIX: &str = "confine-landlock:";
/// The largest record read.
pub const MAX_RECORD_BYTES: u64 = 1 << 20;
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
    /// The effective uid that wrote it.
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
        let uid = Status::parse(&status).uid.ok_or(RecordError::SelfUnknown)?[1];
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
    fd: OwnedFd,
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
/// memfd for as long as the returned guard lives (see the module's documentation).
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
    let fd = memfd::sealed(&cname, &text).map_err(|source| RecordError::Memfd {
        name: name.clone(),
        source,
    })?;
    Ok(RecordGuard { fd, name })
}

/// A record that applies to a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The ancestor that wrote it (a confine run).
    pub writer: u32,
    /// Where it was read: `/proc/WRITER/fd/N`.
    pub path: PathBuf,
    /// What it says.
    pub record: Record,
    /// The process is in the domain: false only for confine's init (the writer's direct
    /// child when [`Record::init_not_in_domain`]).
    pub in_domain: bool,
}

/// A record passed over, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ignored {
    /// Where it was found: `/proc/WRITER/fd/N`.
    pub path: PathBuf,
    /// Why it was not believed.
    pub why: String,
}

/// What [`find`] learnt about one process.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lookup {
    /// The records of its ancestors, nearest first. Landlock domains stack, so each one that is
    /// `in_domain` restricts the process (a confine run inside another).
    pub found: Vec<Found>,
    /// Records passed over.
    pub ignored: Vec<Ignored>,
    /// Ancestors whose descriptor tables could not be read (no ptrace access: another user's,
    /// or not dumpable): a record one of them keeps is missed.
    pub unreadable: Vec<u32>,
    /// Why the walk stopped before pid 1, when it did: then an ancestor's record may be missed.
    pub incomplete: Option<String>,
}

impl Lookup {
    /// Whether any record puts the process in a domain.
    pub fn in_domain(&self) -> bool {
        self.found.iter().any(|f| f.in_domain)
    }
}

/// An ancestor's identity, from procfs.
struct Proc {
    pid: u32,
    ppid: u32,
    starttime: u64,
    /// The effective uid (`Uid:` in status: unlike the owner of `/proc/PID`, not root for a
    /// process that is not dumpable).
    uid: u32,
}

fn proc_of(proc_root: &Path, pid: u32) -> Option<Proc> {
    let d = proc_root.join(pid.to_string());
    let status = Status::parse(&crate::read_text(&d.join("status"))?);
    Some(Proc {
        pid,
        ppid: status.ppid?,
        starttime: stat_starttime(&crate::read_text(&d.join("stat"))?)?,
        uid: status.uid?[1],
    })
}

/// What one ancestor's descriptor table held.
enum Table {
    /// Its record, or the reason the one named after it was not believed.
    Record(PathBuf, Box<Result<Record, String>>),
    /// No memfd named after it.
    None,
    /// The table could not be listed (no ptrace access).
    Unreadable,
    /// It has more than [`MAX_FDS`] descriptors.
    TooMany,
}

/// Look in `a`'s descriptor table for the memfd named after it, and check it.
fn read_table(proc_root: &Path, a: &Proc) -> Table {
    let fds = proc_root.join(a.pid.to_string()).join("fd");
    let entries = match std::fs::read_dir(&fds) {
        Ok(e) => e,
        Err(e) if matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM)) => {
            return Table::Unreadable
        }
        // it ended meanwhile, and its record with it
        Err(_) => return Table::None,
    };
    let want = memfd_link(a.pid, a.starttime);
    for (i, entry) in entries.enumerate() {
        if i >= MAX_FDS {
            return Table::TooMany;
        }
        let Ok(entry) = entry else { continue };
        let path = entry.path();
        if std::fs::read_link(&path)
            .ok()
            .and_then(|l| l.to_str().map(str::to_owned))
            != Some(want.clone())
        {
            continue;
        }
        let r = open_record(proc_root, &path, &want).and_then(|f| check_record(f, a));
        return Table::Record(path, Box::new(r));
    }
    Table::None
}

/// Open the memfd at `path` (`/proc/A/fd/N`, a link the kernel keeps, not one anybody can point
/// elsewhere) and make sure what was opened is still the sealed memfd named `want`.
fn open_record(proc_root: &Path, path: &Path, want: &str) -> Result<File, String> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| format!("cannot open: {e}"))?;
    let mine = proc_root.join("self/fd").join(f.as_raw_fd().to_string());
    let now = std::fs::read_link(mine).map_err(|e| format!("cannot check: {e}"))?;
    if now.to_str() != Some(want) {
        return Err(format!(
            "replaced while being opened (by {})",
            now.display()
        ));
    }
    if !memfd::is_sealed(&f) {
        return Err("not sealed, so not a record confine wrote (or one being written)".into());
    }
    Ok(f)
}

fn check_record(f: File, a: &Proc) -> Result<Record, String> {
    let m = f.metadata().map_err(|e| e.to_string())?;
    if !m.is_file() {
        return Err("not a regular file".into());
    }
    if m.uid() != 0 && m.uid() != a.uid {
        return Err(format!(
            "belongs to uid {}, neither root nor the owner of process {} (uid {})",
            m.uid(),
            a.pid,
            a.uid
        ));
    }
    let mut b = Vec::new();
    f.take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut b)
        .map_err(|e| e.to_string())?;
    if b.len() as u64 > MAX_RECORD_BYTES {
        return Err(format!(
            "larger than {}",
            confine_input::size_words(MAX_RECORD_BYTES)
        ));
    }
    let r: Record = serde_json::from_slice(&b).map_err(|e| format!("not a record: {e}"))?;
    if r.version != FORMAT_VERSION {
        return Err(format!("format version {} is not understood", r.version));
    }
    if (r.pid, r.starttime) != (a.pid, a.starttime) {
        return Err(format!(
            "names process {} started at {}, not the one holding it",
            r.pid, r.starttime
        ));
    }
    if r.uid != m.uid() {
        return Err(format!(
            "claims uid {} but the memfd belongs to uid {}",
            r.uid,
            m.uid()
        ));
    }
    Ok(r)
}

/// The Landlock records that apply to process `pid`: those its ancestors (by `PPid:` under
/// `proc_root`, at most [`MAX_ANCESTORS`]) keep. Nothing found means none recorded — not that
/// the process has no Landlock domain: the kernel does not say, and a domain made by another
/// program leaves no record.
pub fn find(proc_root: &Path, pid: u32) -> Lookup {
    let mut out = Lookup::default();
    let Some(target) = proc_of(proc_root, pid) else {
        out.incomplete = Some(format!("process {pid} could not be read"));
        return out;
    };
    let mut seen = std::collections::HashSet::from([pid]);
    let mut child = target.pid;
    let mut next = target.ppid;
    while next > 0 {
        if seen.len() > MAX_ANCESTORS {
            out.incomplete = Some(format!("more than {MAX_ANCESTORS} ancestors"));
            break;
        }
        if !seen.insert(next) {
            out.incomplete = Some(format!("process {next} is its own ancestor"));
            break;
        }
        let Some(a) = proc_of(proc_root, next) else {
            out.incomplete = Some(format!("ancestor {next} could not be read"));
            break;
        };
        match read_table(proc_root, &a) {
            Table::None => {}
            Table::Unreadable => out.unreadable.push(a.pid),
            Table::TooMany => {
                out.incomplete = Some(format!(
                    "ancestor {} has more than {MAX_FDS} descriptors",
                    a.pid
                ));
                break;
            }
            Table::Record(path, r) => match *r {
                Err(why) => out.ignored.push(Ignored {
                    why: format!("{}: {why}", path.display()),
                    path,
                }),
                Ok(r) if r.uid != 0 && r.uid != target.uid => out.ignored.push(Ignored {
                    why: format!(
                        "{}: written by uid {}, so it says nothing of process {pid} (uid {})",
                        path.display(),
                        r.uid,
                        target.uid
                    ),
                    path,
                }),
                Ok(record) => out.found.push(Found {
                    writer: a.pid,
                    path,
                    in_domain: !(record.init_not_in_domain && child == target.pid),
                    record,
                }),
            },
        }
        child = a.pid;
        next = a.ppid;
    }
    out
}

#[cfg(test)]
mod tests;
