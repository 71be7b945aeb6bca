//! Landlock records: what `confine run` applied, written where `confine inspect` can read it,
//! since the kernel shows no process's Landlock domain in procfs.
//!
//! The `confine run` process (the *writer*, itself outside the domain) writes one small JSON
//! [`Record`] named `<pid>-<starttime>.json` after its own pid and start time (field 22 of
//! `/proc/PID/stat`) before it starts the command, and removes it when the command has ended
//! ([`RecordGuard`]). Every descendant of the writer is in the domain, except the writer's
//! direct child when that child is confine's own init in a pid namespace
//! ([`Record::init_not_in_domain`]). A reader walks a process's ancestors (`PPid:`) and looks
//! for each one's record ([`find`]) in root's directory, the reader's own, and a user
//! ancestor's own (its `XDG_RUNTIME_DIR`, from `/proc/PID/environ`). A SIGKILLed writer leaves its file behind; the start time
//! in the name keeps it from ever matching another process.
//!
//! Where: `/run/confine/landlock` for root; otherwise `$XDG_RUNTIME_DIR/confine/landlock` when
//! that directory is absolute, the user's and mode 0700; otherwise no record
//! ([`default_dir`]).
//!
//! Trust: every directory is opened one component at a time without following a symlink
//! (confine-kernel's `*at` calls); a directory must belong to root or the writer, and one that
//! others may write must be sticky (`/tmp`). A record is believed only when its file belongs to
//! root or to the owner of the process it names, it says so itself (`uid`), and, when written
//! by a user, only for that user's processes: a record never says more than its owner could.
//!
//! Limits: pids and start times are those of the writer's pid and time namespaces, so a reader
//! in another pid namespace (another procfs) finds nothing; a record is visible, empty, for the
//! moment between its creation and its write (before the command starts).
//!
//! # References
//! * proc_pid_stat(5) (`starttime`), proc_pid_status(5) (`PPid:`), landlock(7)

use crate::Status;
use confine_abi::landlock as abi;
use confine_kernel::fs::{create_new_at, mkdir_at, open_dir_at, open_read_at, unlink_at};
use serde::{Deserialize, Serialize};
use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// The format version this module writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Where root's records go.
pub const ROOT_DIR: &str = "/run/confine/landlock";
/// The largest record read.
pub const MAX_RECORD_BYTES: u64 = 1 << 20;
/// The most ancestors walked from one process.
pub const MAX_ANCESTORS: usize = 4096;

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

    /// The file name: `<pid>-<starttime>.json`.
    pub fn file_name(&self) -> String {
        file_name(self.pid, self.starttime)
    }
}

fn file_name(pid: u32, starttime: u64) -> String {
    format!("{pid}-{starttime}.json")
}

/// Why a record could not be written, or its directory not found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Not root, and no usable `XDG_RUNTIME_DIR`.
    #[error("no Landlock record: {0}")]
    NoDirectory(String),
    /// The calling process's own pid, start time or uid could not be read from /proc/self.
    #[error("no Landlock record: cannot read this process's start time and uid from /proc/self")]
    SelfUnknown,
    /// A directory on the way, or the file's name, is not safe to use.
    #[error("no Landlock record: {}: {why}", path.display())]
    Unsafe {
        /// The path.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// A system call failed.
    #[error("no Landlock record: {op} {}: {source}", path.display())]
    Io {
        /// What was done: "open", "create", "write", "remove".
        op: &'static str,
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> RecordError {
    let path = path.to_path_buf();
    move |source| RecordError::Io { op, path, source }
}

/// The start time (field 22) of a `/proc/PID/stat` line. The comm in parentheses may contain
/// spaces and parentheses, so the fields are counted after its last `)`.
pub fn stat_starttime(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // fields 3 (state) to 21 come first
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Where the calling process writes its records: [`ROOT_DIR`] for effective uid 0, else
/// `$XDG_RUNTIME_DIR/confine/landlock` when `xdg_runtime_dir` is absolute, a directory (not a
/// symlink) of `euid` and mode 0700.
pub fn default_dir(euid: u32, xdg_runtime_dir: Option<&OsStr>) -> Result<PathBuf, RecordError> {
    if euid == 0 {
        return Ok(PathBuf::from(ROOT_DIR));
    }
    let no = |why: String| Err(RecordError::NoDirectory(why));
    let Some(x) = xdg_runtime_dir.filter(|x| !x.is_empty()) else {
        return no("not root, and XDG_RUNTIME_DIR is not set".into());
    };
    let x = Path::new(x);
    if !x.is_absolute() {
        return no(format!("XDG_RUNTIME_DIR {} is not absolute", x.display()));
    }
    match std::fs::symlink_metadata(x) {
        Err(e) => no(format!("XDG_RUNTIME_DIR {}: {e}", x.display())),
        Ok(m) if !m.is_dir() => no(format!(
            "XDG_RUNTIME_DIR {} is not a directory",
            x.display()
        )),
        Ok(m) if m.uid() != euid => no(format!(
            "XDG_RUNTIME_DIR {} belongs to uid {}, not {euid}",
            x.display(),
            m.uid()
        )),
        Ok(m) if m.permissions().mode() & 0o777 != 0o700 => no(format!(
            "XDG_RUNTIME_DIR {} has mode {:o}, not 700",
            x.display(),
            m.permissions().mode() & 0o777
        )),
        Ok(_) => Ok(x.join("confine/landlock")),
    }
}

/// Whether directory metadata `m` may hold records of `owner`: it belongs to root or `owner`,
/// and whoever else may write it cannot remove others' entries (sticky).
fn dir_ok(m: &std::fs::Metadata, owner: u32) -> Result<(), String> {
    if m.uid() != 0 && m.uid() != owner {
        return Err(format!("belongs to uid {}", m.uid()));
    }
    let mode = m.permissions().mode();
    if mode & 0o022 != 0 && mode & 0o1000 == 0 {
        return Err(format!("writable by others (mode {:o})", mode & 0o7777));
    }
    Ok(())
}

/// Open absolute directory `dir` one component at a time without following a symlink,
/// checking each with [`dir_ok`] for `owner` (none: any owner, for a reader, which checks the
/// owner of each file); with `create`, missing components are made (0755) and must then belong
/// to `owner`. Returns the directory and its owner.
fn open_dir_tree(
    dir: &Path,
    owner: Option<u32>,
    create: bool,
) -> Result<(OwnedFd, u32), RecordError> {
    if !dir.is_absolute() {
        return Err(RecordError::Unsafe {
            path: dir.into(),
            why: "not an absolute path".into(),
        });
    }
    let mut path = PathBuf::from("/");
    let mut fd = open_dir_at(None, c"/").map_err(io_err("open", &path))?;
    let mut uid = 0;
    for c in dir.components() {
        let name = match c {
            Component::RootDir => continue,
            Component::Normal(n) => n,
            _ => {
                return Err(RecordError::Unsafe {
                    path: dir.into(),
                    why: "`.` or `..` in the path".into(),
                })
            }
        };
        path.push(name);
        let cname = CString::new(name.as_bytes()).map_err(|_| RecordError::Unsafe {
            path: path.clone(),
            why: "NUL in the path".into(),
        })?;
        let mut made = false;
        let next = match open_dir_at(Some(fd.as_fd()), &cname) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) && create => {
                match mkdir_at(fd.as_fd(), &cname, 0o755) {
                    Err(e) if e.raw_os_error() != Some(libc::EEXIST) => {
                        return Err(io_err("create", &path)(e))
                    }
                    r => made = r.is_ok(),
                }
                open_dir_at(Some(fd.as_fd()), &cname)
            }
            r => r,
        };
        let next = next.map_err(|e| match e.raw_os_error() {
            Some(libc::ENOTDIR) => RecordError::Unsafe {
                path: path.clone(),
                why: "not a directory (a symlink is not followed)".into(),
            },
            _ => io_err("open", &path)(e),
        })?;
        let m = File::from(next.try_clone().map_err(io_err("open", &path))?)
            .metadata()
            .map_err(io_err("open", &path))?;
        dir_ok(&m, owner.unwrap_or(m.uid())).map_err(|why| RecordError::Unsafe {
            path: path.clone(),
            why,
        })?;
        if made && Some(m.uid()) != owner {
            return Err(RecordError::Unsafe {
                path: path.clone(),
                why: format!("made, but belongs to uid {}", m.uid()),
            });
        }
        fd = next;
        uid = m.uid();
    }
    Ok((fd, uid))
}

/// A written record: removed when dropped, or by [`RecordGuard::remove`]. Only the process that
/// wrote it removes it (a forked child dropping a copy leaves it alone).
#[derive(Debug)]
pub struct RecordGuard {
    dir: OwnedFd,
    name: CString,
    path: PathBuf,
    writer: u32,
    removed: bool,
}

impl RecordGuard {
    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Remove the file now.
    pub fn remove(mut self) -> Result<(), RecordError> {
        self.removed = true;
        unlink_at(self.dir.as_fd(), &self.name).map_err(io_err("remove", &self.path))
    }
}

impl Drop for RecordGuard {
    fn drop(&mut self) {
        if !self.removed && std::process::id() == self.writer {
            let _ = unlink_at(self.dir.as_fd(), &self.name);
        }
    }
}

/// Write `record` as `dir/<pid>-<starttime>.json` (mode 0644), `dir` being made as needed
/// (see [`default_dir`]). The record must be the calling process's own, written by its own
/// effective uid ([`Record::for_self`]). A stale regular file of the writer with the same name
/// (a previous writer with the same pid and start time was killed) is replaced; anything else
/// there (a symlink, a FIFO, another user's file) is refused.
pub fn write(record: &Record, dir: &Path) -> Result<RecordGuard, RecordError> {
    let (dfd, _) = open_dir_tree(dir, Some(record.uid), true)?;
    let name = record.file_name();
    let path = dir.join(&name);
    let cname = CString::new(name).expect("digits, a dash and .json");
    let fd = match create_new_at(dfd.as_fd(), &cname, 0o644) {
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
            let unsafe_ = |why: &str| RecordError::Unsafe {
                path: path.clone(),
                why: why.into(),
            };
            let old = open_read_at(dfd.as_fd(), &cname).map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => unsafe_("a symlink is in the way"),
                _ => io_err("open", &path)(e),
            })?;
            let m = File::from(old).metadata().map_err(io_err("open", &path))?;
            if !m.is_file() || m.uid() != record.uid {
                return Err(unsafe_("something other than a stale record is in the way"));
            }
            unlink_at(dfd.as_fd(), &cname).map_err(io_err("remove", &path))?;
            create_new_at(dfd.as_fd(), &cname, 0o644)
        }
        r => r,
    }
    .map_err(io_err("create", &path))?;
    let guard = RecordGuard {
        dir: dfd,
        name: cname,
        path: path.clone(),
        writer: std::process::id(),
        removed: false,
    };
    let mut text = serde_json::to_vec_pretty(record).expect("a record serializes");
    text.push(b'\n');
    File::from(fd)
        .write_all(&text)
        .map_err(io_err("write", &path))?;
    Ok(guard)
}

/// A record that applies to a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The ancestor that wrote it (a confine run).
    pub writer: u32,
    /// The file.
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
    /// The file (or directory).
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
    /// Records (or record directories) passed over.
    pub ignored: Vec<Ignored>,
    /// Why the walk stopped before pid 1, when it did: then an ancestor's record may be missed.
    pub incomplete: Option<String>,
}

impl Lookup {
    /// Whether any record puts the process in a domain.
    pub fn in_domain(&self) -> bool {
        self.found.iter().any(|f| f.in_domain)
    }
}

/// The directories [`find`] reads by default: [`ROOT_DIR`], and the calling user's own
/// [`default_dir`] when that is another.
pub fn default_dirs() -> Vec<PathBuf> {
    let mut v = vec![PathBuf::from(ROOT_DIR)];
    let euid = crate::read_text(Path::new("/proc/self/status"))
        .and_then(|t| Status::parse(&t).uid)
        .map(|u| u[1]);
    if let Some(euid) = euid.filter(|u| *u != 0) {
        if let Ok(d) = default_dir(euid, std::env::var_os("XDG_RUNTIME_DIR").as_deref()) {
            v.push(d);
        }
    }
    v
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

/// Where a writer that is not root put its record: its own `XDG_RUNTIME_DIR` (from
/// `/proc/PID/environ`, readable by root and by the same user), checked as [`default_dir`]
/// checks it.
fn user_dir(proc_root: &Path, a: &Proc) -> Option<PathBuf> {
    let env = crate::read_file(&proc_root.join(a.pid.to_string()).join("environ")).ok()?;
    let x = env
        .split(|&c| c == 0)
        .find_map(|v| v.strip_prefix(b"XDG_RUNTIME_DIR="))?;
    default_dir(a.uid, Some(OsStr::from_bytes(x))).ok()
}

/// Read and check the record of writer `a` in `dir` (opened, and belonging to `dir_uid`).
fn read_record(
    (dir, dir_uid): &(OwnedFd, u32),
    path: &Path,
    a: &Proc,
) -> Option<Result<Record, String>> {
    let name = file_name(a.pid, a.starttime);
    let cname = CString::new(name).expect("digits, a dash and .json");
    let fd = match open_read_at(dir.as_fd(), &cname) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return None,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Some(Err("a symlink (not followed)".into()))
        }
        Err(e) => return Some(Err(e.to_string())),
        Ok(fd) => fd,
    };
    Some(
        check_record(File::from(fd), *dir_uid, a)
            .map_err(|why| format!("{}: {why}", path.display())),
    )
}

fn check_record(f: File, dir_uid: u32, a: &Proc) -> Result<Record, String> {
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
    if dir_uid != 0 && dir_uid != m.uid() {
        return Err(format!(
            "in a directory of uid {dir_uid}, not of the file's owner (uid {})",
            m.uid()
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
            "names process {} started at {}, not its file name's",
            r.pid, r.starttime
        ));
    }
    if r.uid != m.uid() {
        return Err(format!(
            "claims uid {} but the file belongs to uid {}",
            r.uid,
            m.uid()
        ));
    }
    Ok(r)
}

/// Open record directory `d` unless already done (a missing one is no news, an unsafe one is
/// said once); its index in `opened`.
fn open_once(
    opened: &mut Vec<(PathBuf, Option<(OwnedFd, u32)>)>,
    d: &Path,
    ignored: &mut Vec<Ignored>,
) -> usize {
    if let Some(i) = opened.iter().position(|(p, _)| p == d) {
        return i;
    }
    let fd = match open_dir_tree(d, None, false) {
        Ok(fd) => Some(fd),
        Err(RecordError::Io { source, .. }) if source.raw_os_error() == Some(libc::ENOENT) => None,
        Err(RecordError::Unsafe { path, why }) => {
            ignored.push(Ignored { path, why });
            None
        }
        Err(e) => {
            ignored.push(Ignored {
                path: d.to_path_buf(),
                why: e.to_string(),
            });
            None
        }
    };
    opened.push((d.to_path_buf(), fd));
    opened.len() - 1
}

/// The Landlock records that apply to process `pid`: its ancestors' (by `PPid:` under
/// `proc_root`, at most [`MAX_ANCESTORS`]) looked up in each of `dirs` (see [`default_dirs`])
/// and, for an ancestor that is not root's, in its own `$XDG_RUNTIME_DIR/confine/landlock`
/// when its environment can be read. Nothing found means none recorded — not that the process
/// has no Landlock domain: the kernel does not say, and a domain made by another program
/// leaves no record.
pub fn find(proc_root: &Path, dirs: &[PathBuf], pid: u32) -> Lookup {
    let mut out = Lookup::default();
    let Some(target) = proc_of(proc_root, pid) else {
        out.incomplete = Some(format!("process {pid} could not be read"));
        return out;
    };
    let mut opened: Vec<(PathBuf, Option<(OwnedFd, u32)>)> = Vec::new();
    for d in dirs {
        open_once(&mut opened, d, &mut out.ignored);
    }
    let common = opened.len();
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
        let mut here: Vec<usize> = (0..common).collect();
        if a.uid != 0 {
            if let Some(d) = user_dir(proc_root, &a) {
                let i = open_once(&mut opened, &d, &mut out.ignored);
                if i >= common {
                    here.push(i);
                }
            }
        }
        for (d, fd) in here.into_iter().filter_map(|i| {
            let (d, fd) = &opened[i];
            fd.as_ref().map(|fd| (d, fd))
        }) {
            let path = d.join(file_name(a.pid, a.starttime));
            match read_record(fd, &path, &a) {
                None => {}
                Some(Err(why)) => out.ignored.push(Ignored { path, why }),
                Some(Ok(r)) if r.uid != 0 && r.uid != target.uid => out.ignored.push(Ignored {
                    why: format!(
                        "{}: written by uid {}, so it says nothing of process {pid} (uid {})",
                        path.display(),
                        r.uid,
                        target.uid
                    ),
                    path,
                }),
                Some(Ok(record)) => out.found.push(Found {
                    writer: a.pid,
                    path,
                    in_domain: !(record.init_not_in_domain && child == target.pid),
                    record,
                }),
            }
        }
        child = a.pid;
        next = a.ppid;
    }
    out
}

#[cfg(test)]
mod tests;
