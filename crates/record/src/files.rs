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
use std::collections::{BTreeMap, BTreeSet};
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
}

/// Gathers [`Activity`] from events.
#[derive(Default)]
pub struct Tracker {
    a: Activity,
}

const AT_FDCWD: i32 = -100;
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
        let Some(name) = call.name.as_deref() else {
            return;
        };
        let a = e.args;
        let path = |i: usize| caller.read_string(a[i], PATH_MAX);
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
            "execve" => self.exec(cwd(0)),
            "execveat" => self.exec(at(0, 1)),
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
    }

    fn add(&mut self, p: Option<PathBuf>, acc: Access) {
        if let Some(p) = p.and_then(|p| p.to_str().map(str::to_string)) {
            self.a.paths.entry(p).or_default().union(acc);
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

    fn exec(&mut self, p: Option<PathBuf>) {
        let Some(p) = p else { return };
        if let Some(i) = interpreter(&p) {
            self.add(
                Some(i),
                Access {
                    exec: true,
                    library: true,
                    ..Access::default()
                },
            );
        }
        self.add(
            Some(p),
            Access {
                exec: true,
                ..Access::default()
            },
        );
    }

    fn socket(&mut self, e: &Event, caller: &dyn Caller, bind: bool) {
        let len = (e.args[2] as usize).min(110);
        let Some(addr) = caller.read_bytes(e.args[1], len.max(2)) else {
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

/// The interpreter the kernel opens to execute `p`: an ELF's `PT_INTERP`, or a script's `#!`
/// line.
fn interpreter(p: &Path) -> Option<PathBuf> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    // the command names the path: never block on a FIFO or a device, never read past 4 KiB
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(p)
        .ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut head = vec![0u8; 4096];
    let n = f.read(&mut head).ok()?;
    head.truncate(n);
    if head.starts_with(b"#!") {
        let line = head[2..].split(|&b| b == b'\n').next()?;
        let word = std::str::from_utf8(line).ok()?.split_whitespace().next()?;
        return Some(PathBuf::from(word)).filter(|p| p.is_absolute());
    }
    elf_interp(&head, &mut f)
}

/// `PT_INTERP` of a little-endian 64-bit ELF whose program headers lie in `head`.
fn elf_interp(head: &[u8], f: &mut std::fs::File) -> Option<PathBuf> {
    use std::io::{Read, Seek, SeekFrom};
    if head.len() < 64 || &head[..4] != b"\x7fELF" || head[4] != 2 || head[5] != 1 {
        return None;
    }
    let u64_at = |o: usize| Some(u64::from_le_bytes(head.get(o..o + 8)?.try_into().ok()?));
    let u16_at = |o: usize| Some(u16::from_le_bytes(head.get(o..o + 2)?.try_into().ok()?));
    let phoff = u64_at(32)? as usize;
    let phentsize = usize::from(u16_at(54)?);
    let phnum = usize::from(u16_at(56)?);
    for i in 0..phnum.min(64) {
        let ph = phoff + i * phentsize;
        if u32::from_le_bytes(head.get(ph..ph + 4)?.try_into().ok()?) == 3 {
            let off = u64_at(ph + 8)?;
            let size = u64_at(ph + 32)?.min(PATH_MAX as u64) as usize;
            let mut buf = vec![0u8; size];
            f.seek(SeekFrom::Start(off)).ok()?;
            f.read_exact(&mut buf).ok()?;
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            return Some(PathBuf::from(String::from_utf8(buf[..end].to_vec()).ok()?));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

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
    fn interpreters_of_elf_and_scripts() {
        // this test binary is a dynamic ELF (or static: then no interpreter)
        let exe = std::env::current_exe().unwrap();
        if let Some(i) = interpreter(&exe) {
            assert!(i.to_string_lossy().contains("ld-linux"), "{i:?}");
        }
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("s");
        std::fs::write(&script, "#!/bin/sh -e\necho\n").unwrap();
        assert_eq!(interpreter(&script), Some(PathBuf::from("/bin/sh")));
        // a FIFO the command names is not waited on
        let fifo = dir.path().join("fifo");
        assert!(Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        assert_eq!(interpreter(&fifo), None);
        assert_eq!(interpreter(Path::new("/dev/zero")), None);
    }
}
