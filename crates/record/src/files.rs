//! Paths and ports a recorded command used, for a file-and-network policy.
//!
//! Path arguments are read from the caller's memory while its call waits, and kept only when
//! the call was still waiting after the read (`SECCOMP_IOCTL_NOTIF_ID_VALID`). Relative paths
//! are joined to the caller's working directory or to the directory its descriptor names.
//! Intent comes from the flags: `O_ACCMODE`, `O_CREAT`/`O_TRUNC`, `O_DIRECTORY`; creating,
//! removing and renaming need rights on the parent directory (as Landlock and AppArmor check
//! them), so they are recorded there. A program's ELF interpreter and a script's `#!`
//! interpreter, which the kernel opens itself during execve, are added as executables.

use crate::event::{Call, Event};
use crate::source::Caller;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};

/// What was done to one path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// Opened for reading, or listed.
    pub read: bool,
    /// Opened for writing; for a directory: entries created, removed or renamed in it.
    pub write: bool,
    /// Executed.
    pub exec: bool,
    /// Mapped executable (a library).
    pub library: bool,
}

impl Access {
    fn union(&mut self, o: Access) {
        self.read |= o.read;
        self.write |= o.write;
        self.exec |= o.exec;
        self.library |= o.library;
    }
}

/// Paths and ports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// Absolute path (as the command named it) → what was done.
    pub paths: BTreeMap<String, Access>,
    /// TCP ports bound.
    pub bind_tcp: BTreeSet<u16>,
    /// TCP ports connected to.
    pub connect_tcp: BTreeSet<u16>,
    /// A UDP socket was made, bound or connected.
    pub udp: bool,
    /// A raw or packet socket was made.
    pub raw: bool,
    /// Unix socket paths bound or connected to (`@name` for abstract ones).
    pub unix: BTreeSet<String>,
    /// Calls whose path or address could not be read while they waited (memory the recorder
    /// cannot read, such as `memfd_secret`), or named a path that is not UTF-8: the first
    /// [`MAX_UNREADABLE`], as `NAME (thread TID)`.
    pub unreadable: Vec<String>,
    /// How many such calls in all.
    pub unreadable_count: u64,
    /// More than [`MAX_PATHS`] distinct paths: the rest were not kept.
    pub overflow: bool,
}

/// Distinct paths kept, and their bytes in all; past either the policy is incomplete (and
/// the recorder's memory stays bounded whatever the command names).
pub const MAX_PATHS: usize = 100_000;
/// See [`MAX_PATHS`].
pub const MAX_PATH_BYTES: usize = 16 << 20;
/// Unreadable calls named one by one.
pub const MAX_UNREADABLE: usize = 20;

/// An execve waiting to be known as done or failed.
struct Pending {
    /// The calling thread (its next call means the execve failed).
    tid: u32,
    /// The path it named (None: a descriptor, `AT_EMPTY_PATH`).
    path: Option<PathBuf>,
    /// The group's auxiliary vector before: kernel memory, which only a successful execve
    /// changes (the command cannot forge it, unlike its command line).
    auxv: Vec<u8>,
}

/// execve calls pending at once, at most (one per thread group; past it, those whose thread
/// is gone are dropped, then the new one is not kept).
const MAX_PENDING: usize = 1024;

/// Gathers [`Activity`] from events.
#[derive(Default)]
pub struct Tracker {
    a: Activity,
    /// execve calls not yet known to have succeeded, by thread group (after an execve by any
    /// thread, the program runs as the group's leader).
    pending: HashMap<u32, Pending>,
    /// Bytes of the paths kept.
    bytes: usize,
}

const AT_FDCWD: i32 = -100;
const AT_EMPTY_PATH: u64 = 0x1000;
const PATH_MAX: usize = 4096;
const O_ACCMODE: u64 = 3;
const O_CREAT: u64 = 0o100;
const O_TRUNC: u64 = 0o1000;
const O_PATH: u64 = 0o1000_0000;
const PROT_EXEC: u64 = 4;
/// The obsolete `SOCK_PACKET` type (include/linux/net.h), still accepted with AF_INET.
const SOCK_PACKET: i32 = 10;

fn read() -> Access {
    Access {
        read: true,
        ..Access::default()
    }
}

fn write() -> Access {
    Access {
        write: true,
        ..Access::default()
    }
}

impl Tracker {
    /// Record what `e` (the call `call`) does to paths and ports.
    pub fn observe(&mut self, call: &Call, e: &Event, caller: &dyn Caller) {
        if !self.pending.is_empty() {
            self.settle(e.tid);
        }
        let Some(name) = call.name.as_deref() else {
            return;
        };
        let a = e.args;
        let missed = std::cell::Cell::new(false);
        let path = |i: usize| {
            let p = caller.read_string(a[i], PATH_MAX);
            if p.is_none() && a[i] != 0 && caller.waiting() {
                missed.set(true);
            }
            p
        };
        let at = |dir: usize, p: usize| -> Option<PathBuf> {
            let rel = path(p)?;
            absolute(e.tid, Some(a[dir] as i32), &rel)
        };
        let cwd = |p: usize| -> Option<PathBuf> { absolute(e.tid, None, &path(p)?) };
        match name {
            "open" => self.open(cwd(0), a[1]),
            "openat" => self.open(at(0, 1), a[2]),
            "openat2" => {
                let flags = caller
                    .read_bytes(a[2], 8)
                    .map(|b| u64::from_ne_bytes(b.try_into().unwrap_or([0; 8])));
                if let Some(flags) = flags {
                    self.open(at(0, 1), flags);
                }
            }
            "creat" => self.parent(cwd(0), write()),
            "execve" => self.exec(e.tid, cwd(0)),
            // AT_EMPTY_PATH with "": the descriptor itself
            "execveat"
                if a[4] & AT_EMPTY_PATH != 0 && caller.read_bytes(a[1], 1) == Some(vec![0]) =>
            {
                self.exec(e.tid, fd_path(e.tid, a[0] as i32))
            }
            "execveat" => self.exec(e.tid, at(0, 1)),
            "mkdir" | "rmdir" | "unlink" | "mknod" => self.parent(cwd(0), write()),
            "mkdirat" | "unlinkat" | "mknodat" => self.parent(at(0, 1), write()),
            "rename" | "link" => {
                self.parent(cwd(0), write());
                self.parent(cwd(1), write());
            }
            "renameat" | "renameat2" | "linkat" => {
                self.parent(at(0, 1), write());
                self.parent(at(2, 3), write());
            }
            "symlink" => self.parent(cwd(1), write()),
            "symlinkat" => self.parent(at(1, 2), write()),
            "truncate" => self.add(cwd(0), write()),
            "mmap" | "mmap2" if a[2] & PROT_EXEC != 0 && (a[4] as i32) >= 0 => {
                let lib = fd_path(e.tid, a[4] as i32);
                self.add(
                    lib,
                    Access {
                        library: true,
                        ..Access::default()
                    },
                );
            }
            "bind" | "connect" => self.socket(e, caller, name == "bind"),
            "socket" => {
                let (domain, kind) = (a[0] as i32, a[1] as i32 & 0xf);
                if matches!(domain, libc::AF_INET | libc::AF_INET6) && kind == libc::SOCK_DGRAM {
                    self.a.udp = true;
                }
                if domain == libc::AF_PACKET || kind == libc::SOCK_RAW || kind == SOCK_PACKET {
                    self.a.raw = true;
                }
            }
            _ => {}
        }
        if missed.get() {
            self.unreadable(format!("{name} (thread {})", e.tid));
        }
    }

    fn unreadable(&mut self, what: String) {
        self.a.unreadable_count += 1;
        if self.a.unreadable.len() < MAX_UNREADABLE {
            self.a.unreadable.push(what);
        }
    }

    fn add(&mut self, p: Option<PathBuf>, acc: Access) {
        let Some(p) = p else { return };
        let Some(s) = p.to_str() else {
            self.unreadable(format!("a path that is not UTF-8: {}", p.display()));
            return;
        };
        if let Some(a) = self.a.paths.get_mut(s) {
            a.union(acc);
        } else if self.a.paths.len() < MAX_PATHS && self.bytes + s.len() <= MAX_PATH_BYTES {
            self.bytes += s.len();
            self.a.paths.insert(s.to_string(), acc);
        } else {
            self.a.overflow = true;
        }
    }

    fn parent(&mut self, p: Option<PathBuf>, acc: Access) {
        self.add(p.and_then(|p| p.parent().map(Path::to_path_buf)), acc);
    }

    fn open(&mut self, p: Option<PathBuf>, flags: u64) {
        if flags & O_PATH != 0 {
            return;
        }
        let mode = flags & O_ACCMODE;
        let acc = Access {
            read: mode != 1,
            write: mode != 0 || flags & O_TRUNC != 0,
            ..Access::default()
        };
        if flags & O_CREAT != 0 {
            // creating needs the parent; an existing file is opened as asked
            if let Some(p) = &p {
                if !p.exists() {
                    self.parent(Some(p.clone()), write());
                    return;
                }
            }
        }
        self.add(p, acc);
    }

    /// An execve: known to have succeeded only when its thread group next makes a call with
    /// a new auxiliary vector; what ran is then /proc/PID/exe. The path is never opened by the
    /// recorder: the command names it, and the recorder may be root.
    fn exec(&mut self, tid: u32, path: Option<PathBuf>) {
        let Some(group) = tgid(tid).map(|g| g as u32) else {
            return;
        };
        if self.pending.len() >= MAX_PENDING && !self.pending.contains_key(&group) {
            self.pending
                .retain(|_, p| Path::new(&format!("/proc/{}", p.tid)).exists());
            if self.pending.len() >= MAX_PENDING {
                self.unreadable(format!("execve (thread {tid}): too many at once"));
                return;
            }
        }
        let auxv = std::fs::read(format!("/proc/{group}/auxv")).unwrap_or_default();
        self.pending.insert(group, Pending { tid, path, auxv });
    }

    /// Thread `tid` made a call: an execve of its group done (or of its own, failed)?
    fn settle(&mut self, tid: u32) {
        // the group's leader (where an execve's program runs), or the calling thread of a
        // pending execve that is not its group's leader
        let group = if self.pending.contains_key(&tid) {
            tid
        } else {
            match self.pending.iter().find(|(_, p)| p.tid == tid) {
                Some((g, _)) => *g,
                None => return,
            }
        };
        let p = &self.pending[&group];
        let now = std::fs::read(format!("/proc/{group}/auxv")).unwrap_or_default();
        if now != p.auxv && !now.is_empty() {
            if let Some(p) = self.pending.remove(&group) {
                self.executed(group, p.path);
            }
        } else if p.tid == tid {
            // the caller goes on after its execve: it failed, and needs no right
            self.pending.remove(&group);
        }
    }

    /// Process `pid` executed: its program (and `path`, a script run through it).
    fn executed(&mut self, pid: u32, path: Option<PathBuf>) {
        let exec = Access {
            exec: true,
            ..Access::default()
        };
        let Ok(exe) = std::fs::read_link(format!("/proc/{pid}/exe")) else {
            return;
        };
        if let Some(path) = path {
            if std::fs::canonicalize(&path).is_ok_and(|r| r != exe) {
                // a script: the kernel ran its `#!` interpreter, which is `exe`
                self.add(Some(path), exec);
            }
        }
        self.add(Some(exe), exec);
        if let Some(i) = interpreter_of(pid) {
            self.add(
                Some(i),
                Access {
                    exec: true,
                    library: true,
                    ..Access::default()
                },
            );
        }
    }

    fn socket(&mut self, e: &Event, caller: &dyn Caller, bind: bool) {
        let len = (e.args[2] as usize).min(110);
        let Some(addr) = caller.read_bytes(e.args[1], len.max(2)) else {
            if caller.waiting() {
                let name = if bind { "bind" } else { "connect" };
                self.unreadable(format!("{name} (thread {})", e.tid));
            }
            return;
        };
        let family = i32::from(u16::from_ne_bytes([addr[0], addr[1]]));
        match family {
            libc::AF_INET | libc::AF_INET6 if addr.len() >= 4 => {
                let port = u16::from_be_bytes([addr[2], addr[3]]);
                let kind = tgid(e.tid).and_then(|pid| {
                    confine_kernel::notify::socket_kind(pid, e.args[0] as i32).ok()
                });
                match kind {
                    Some((_, t, _)) if t & 0xf == libc::SOCK_DGRAM => self.a.udp = true,
                    Some((_, t, p)) if t & 0xf == libc::SOCK_STREAM && p == libc::IPPROTO_TCP => {
                        // port 0: an ephemeral one, which Landlock checks as port 0
                        if bind {
                            self.a.bind_tcp.insert(port);
                        } else if port != 0 {
                            self.a.connect_tcp.insert(port);
                        }
                    }
                    _ => {}
                }
            }
            libc::AF_UNIX if addr.len() > 2 => {
                let raw = &addr[2..];
                let name = if raw[0] == 0 {
                    format!("@{}", String::from_utf8_lossy(&raw[1..]))
                } else {
                    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
                    let rel = &raw[..end];
                    match absolute(e.tid, None, rel) {
                        Some(p) => p.to_string_lossy().into_owned(),
                        None => return,
                    }
                };
                if !name.starts_with('@') {
                    let acc = if bind { write() } else { read() };
                    if bind {
                        self.parent(Some(PathBuf::from(&name)), acc);
                    } else {
                        self.add(Some(PathBuf::from(&name)), write());
                    }
                }
                self.a.unix.insert(name);
            }
            _ => {}
        }
    }

    /// What was gathered.
    pub fn finish(self) -> Activity {
        self.a
    }
}

/// The thread group of thread `tid`.
fn tgid(tid: u32) -> Option<i32> {
    std::fs::read_to_string(format!("/proc/{tid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))?
        .trim()
        .parse()
        .ok()
}

/// What descriptor `fd` of thread `tid` names.
fn fd_path(tid: u32, fd: i32) -> Option<PathBuf> {
    let p = std::fs::read_link(format!("/proc/{tid}/fd/{fd}")).ok()?;
    p.is_absolute().then_some(p)
}

/// `rel` made absolute: joined to the directory `dirfd` names (the working directory for
/// AT_FDCWD or None), `.` and `..` taken lexically.
fn absolute(tid: u32, dirfd: Option<i32>, rel: &[u8]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let rel = Path::new(std::ffi::OsStr::from_bytes(rel));
    if rel.as_os_str().is_empty() {
        return None;
    }
    let joined = if rel.is_absolute() {
        rel.to_path_buf()
    } else {
        let base = match dirfd {
            None | Some(AT_FDCWD) => std::fs::read_link(format!("/proc/{tid}/cwd")).ok()?,
            Some(fd) => fd_path(tid, fd)?,
        };
        base.join(rel)
    };
    // /proc/self and /proc/thread-self are the caller's, not the recorder's
    let joined = match joined
        .strip_prefix("/proc/self")
        .or_else(|_| joined.strip_prefix("/proc/thread-self"))
    {
        Ok(rest) => Path::new(&format!("/proc/{tid}")).join(rest),
        Err(_) => joined,
    };
    let mut out = PathBuf::from("/");
    for c in joined.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    Some(out)
}

/// The ELF interpreter of thread `tid`'s program: the file mapped at `AT_BASE` (its auxiliary
/// vector), as the kernel loaded it; None for a static program.
fn interpreter_of(tid: u32) -> Option<PathBuf> {
    const AT_BASE: u64 = 7;
    let auxv = std::fs::read(format!("/proc/{tid}/auxv")).ok()?;
    let base = auxv
        .chunks_exact(16)
        .map(|c| {
            (
                u64::from_ne_bytes(c[..8].try_into().unwrap_or([0; 8])),
                u64::from_ne_bytes(c[8..].try_into().unwrap_or([0; 8])),
            )
        })
        .find(|(k, _)| *k == AT_BASE)?
        .1;
    if base == 0 {
        return None;
    }
    let maps = std::fs::read_to_string(format!("/proc/{tid}/maps")).ok()?;
    maps.lines().find_map(|l| {
        let start = u64::from_str_radix(l.split('-').next()?, 16).ok()?;
        let path = l.split_whitespace().nth(5)?;
        (start == base && path.starts_with('/')).then(|| PathBuf::from(path))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_joined_lexically() {
        let me = std::process::id();
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(absolute(me, None, b"a/../b").unwrap(), cwd.join("b"));
        assert_eq!(
            absolute(me, Some(AT_FDCWD), b"/etc/./x").unwrap(),
            PathBuf::from("/etc/x")
        );
        assert!(absolute(me, None, b"").is_none());
    }

    #[test]
    fn the_interpreter_is_read_from_the_process() {
        // this test binary: dynamic (its loader) or static (none)
        let me = std::process::id();
        let dynamic = std::fs::read_to_string("/proc/self/maps")
            .unwrap()
            .contains("ld-linux");
        match interpreter_of(me) {
            Some(i) => assert!(dynamic && i.to_string_lossy().contains("ld-linux"), "{i:?}"),
            None => assert!(!dynamic),
        }
    }
}
