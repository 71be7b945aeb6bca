//! The reader of Landlock records: a process's ancestors, and in each one's descriptor table
//! the sealed memfd named after it (see the parent module for the format and the trust rules).
//!
//! What a reader touches is chosen so that no process can stall or flood it: a record is copied
//! with `pidfd_getfd(2)` (no open, so no filesystem of anybody's choosing — a FUSE file named
//! like a record — is ever asked anything) and its seals are checked before anything else is
//! asked of it; only a user reading the records of their own processes, when
//! `pidfd_getfd` is refused (Yama's ptrace scope), opens them through `/proc` instead. The work
//! is bounded per lookup ([`MAX_FDS_PER_LOOKUP`] descriptors looked at, [`MAX_BYTES_PER_LOOKUP`]
//! bytes read), and a [`Finder`] looks at each ancestor once however many processes share it.
//!
//! # References
//! * pidfd_open(2), pidfd_getfd(2) (`PTRACE_MODE_ATTACH_REALCREDS`), proc_pid_fd(5)

use super::{memfd_link, stat_starttime, Record, FORMAT_VERSION, MAX_ANCESTORS, MAX_RECORD_BYTES};
use crate::Status;
use confine_kernel::{memfd, notify};
use std::collections::HashMap;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The most descriptors looked at in one lookup (all ancestors together).
pub const MAX_FDS_PER_LOOKUP: usize = 1 << 16;
/// The most record bytes read in one lookup.
pub const MAX_BYTES_PER_LOOKUP: u64 = 4 << 20;
/// The most descriptors one [`Finder`] looks at over all its lookups (`inspect --all`): each
/// ancestor's table is read once and remembered, but one too large to finish within a lookup's
/// budget would be read again by every lookup that reaches it.
pub const MAX_FDS_PER_FINDER: usize = 1 << 18;
/// The most record bytes one [`Finder`] reads over all its lookups.
pub const MAX_BYTES_PER_FINDER: u64 = 64 << 20;

/// A record that applies to a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The ancestor that holds it (a confine run).
    pub writer: u32,
    /// Where it was found: `/proc/WRITER/fd/N`.
    pub path: PathBuf,
    /// What it says.
    pub record: Record,
    /// The process is in the domain: false only for confine's init (the writer's direct
    /// child when [`Record::init_not_in_domain`]).
    pub in_domain: bool,
    /// The holder runs the same executable as the reader (the same file: device and inode)
    /// and the record is root's, so it is confine that wrote it and nobody else could have
    /// changed it. Otherwise what it says is only as good as its owner's word: another program
    /// made a record in confine's format, or a user's own confine run, which that user can
    /// change (ptrace, LD_PRELOAD). See [`Found::holder_exe`].
    pub verified: bool,
    /// The holder's executable, as procfs names it.
    pub holder_exe: Option<PathBuf>,
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
    /// or not dumpable): a record one of them keeps is missed. A confine init found between a
    /// record's writer and the process is left out (it never holds a record).
    pub unreadable: Vec<u32>,
    /// Why the lookup is not complete, when it is not (the walk stopped before pid 1, or an
    /// ancestor was passed over): then a record may be missed.
    pub incomplete: Option<String>,
}

impl Lookup {
    /// Whether any record puts the process in a domain.
    pub fn in_domain(&self) -> bool {
        self.found.iter().any(|f| f.in_domain)
    }

    fn incomplete(&mut self, why: String) {
        self.incomplete.get_or_insert(why);
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
#[derive(Clone)]
enum Table {
    /// The records named after it that were believed, and those that were not.
    Records(Vec<(PathBuf, Record)>, Vec<Ignored>),
    /// The table could not be listed (no ptrace access).
    Unreadable,
    /// Passed over: too many descriptors, or the lookup's budget spent.
    Skipped(String),
}

/// Reads records; remembers each ancestor's (by pid and start time), so that `inspect --all`
/// looks at a shared ancestor once.
pub struct Finder {
    proc_root: PathBuf,
    /// The reader's own executable (device, inode).
    me: Option<(u64, u64)>,
    euid: u32,
    seen: HashMap<(u32, u64), Held>,
    /// What is left of [`MAX_FDS_PER_FINDER`] and [`MAX_BYTES_PER_FINDER`].
    left: Budget,
    /// The mount id of the kernel's internal shmem mount, where memfds live (from a memfd
    /// this reader makes); None when it could not be learnt, and then no record is read.
    shm_mount: Option<u64>,
}

/// What an ancestor holds, and what it runs.
#[derive(Clone)]
struct Held {
    table: Table,
    /// Its executable, as procfs names it.
    exe: Option<PathBuf>,
    /// Its executable's device and inode.
    id: Option<(u64, u64)>,
}

/// The Landlock records that apply to process `pid`: those its ancestors (by `PPid:` under
/// `proc_root`, at most [`MAX_ANCESTORS`]) keep. Nothing found means none recorded — not that
/// the process has no Landlock domain: the kernel does not say, and a domain made by another
/// program leaves no record.
pub fn find(proc_root: &Path, pid: u32) -> Lookup {
    Finder::new(proc_root).find(pid)
}

/// The `mnt_id:` of an fdinfo file (proc_pid_fdinfo(5)): procfs answers it without asking
/// the file's filesystem anything.
fn mount_id(fdinfo: &Path) -> Option<u64> {
    crate::read_text(fdinfo)?
        .lines()
        .find_map(|l| l.strip_prefix("mnt_id:"))?
        .trim()
        .parse()
        .ok()
}

/// The device and inode of the file `path` leads to.
fn file_id(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

impl Finder {
    /// A reader of the processes under `proc_root` (a live procfs).
    pub fn new(proc_root: &Path) -> Finder {
        let status = crate::read_text(&proc_root.join("self/status"));
        let euid = status
            .and_then(|t| Status::parse(&t).uid)
            .map_or(u32::MAX, |u| u[1]);
        Finder {
            proc_root: proc_root.to_path_buf(),
            me: file_id(&proc_root.join("self/exe")),
            euid,
            seen: HashMap::new(),
            left: Budget {
                fds: MAX_FDS_PER_FINDER,
                bytes: MAX_BYTES_PER_FINDER,
            },
            shm_mount: memfd::sealed(c"confine-probe", b"").ok().and_then(|m| {
                mount_id(
                    &proc_root
                        .join("self/fdinfo")
                        .join(m.as_raw_fd().to_string()),
                )
            }),
        }
    }

    /// See [`find`].
    pub fn find(&mut self, pid: u32) -> Lookup {
        let mut out = Lookup::default();
        let Some(target) = proc_of(&self.proc_root, pid) else {
            out.incomplete = Some(format!("process {pid} could not be read"));
            return out;
        };
        let given = Budget {
            fds: MAX_FDS_PER_LOOKUP.min(self.left.fds),
            bytes: MAX_BYTES_PER_LOOKUP.min(self.left.bytes),
        };
        let mut budget = Budget { ..given };
        let mut seen = std::collections::HashSet::from([pid]);
        let mut child = target.pid;
        let mut next = target.ppid;
        let mut unreadable = Vec::new();
        while next > 0 {
            if seen.len() > MAX_ANCESTORS {
                out.incomplete(format!("more than {MAX_ANCESTORS} ancestors"));
                break;
            }
            if !seen.insert(next) {
                out.incomplete(format!("process {next} is its own ancestor"));
                break;
            }
            let Some(a) = proc_of(&self.proc_root, next) else {
                out.incomplete(format!("ancestor {next} could not be read"));
                break;
            };
            let key = (a.pid, a.starttime);
            let held = match self.seen.get(&key) {
                Some(h) => h.clone(),
                None => {
                    let exe = self.proc_root.join(a.pid.to_string()).join("exe");
                    let held = Held {
                        table: self.read_table(&a, &mut budget),
                        exe: std::fs::read_link(&exe).ok(),
                        id: file_id(&exe),
                    };
                    // a budget spent is this lookup's, not the ancestor's: not remembered
                    if !matches!(held.table, Table::Skipped(_)) {
                        self.seen.insert(key, held.clone());
                    }
                    held
                }
            };
            self.take(&mut out, &mut unreadable, (&target, child, &a), held);
            child = a.pid;
            next = a.ppid;
        }
        self.left.fds -= given.fds - budget.fds;
        self.left.bytes -= given.bytes - budget.bytes;
        // a confine init (the direct child of a writer that put one between) holds no record
        out.unreadable = unreadable
            .into_iter()
            .filter(|(pid, parent)| {
                !out.found.iter().any(|f| {
                    f.record.init_not_in_domain && f.writer == *parent && *pid != target.pid
                })
            })
            .map(|(pid, _)| pid)
            .collect();
        out
    }

    /// Add what ancestor `a` (whose child on the way up from `target` is `child`) holds to
    /// `out`.
    fn take(
        &self,
        out: &mut Lookup,
        unreadable: &mut Vec<(u32, u32)>,
        (target, child, a): (&Proc, u32, &Proc),
        Held { table, exe, id }: Held,
    ) {
        match &table {
            Table::Unreadable => unreadable.push((a.pid, a.ppid)),
            Table::Skipped(why) => out.incomplete(why.clone()),
            Table::Records(found, ignored) => {
                out.ignored.extend(ignored.iter().cloned());
                if found.len() > 1 {
                    for (path, _) in found {
                        out.ignored.push(Ignored {
                            why: format!(
                                "{}: process {} holds {} records named after it: none believed",
                                path.display(),
                                a.pid,
                                found.len()
                            ),
                            path: path.clone(),
                        });
                    }
                    return;
                }
                for (path, r) in found {
                    if r.uid != 0 && r.uid != target.uid {
                        out.ignored.push(Ignored {
                            why: format!(
                                "{}: written by uid {}, so it says nothing of process {} (uid {})",
                                path.display(),
                                r.uid,
                                target.pid,
                                target.uid
                            ),
                            path: path.clone(),
                        });
                        continue;
                    }
                    out.found.push(Found {
                        writer: a.pid,
                        path: path.clone(),
                        in_domain: !(r.init_not_in_domain && child == target.pid),
                        verified: id.is_some() && id == self.me && r.uid == 0,
                        holder_exe: exe.clone(),
                        record: r.clone(),
                    });
                }
            }
        }
    }

    /// Look in `a`'s descriptor table for memfds named after it, and check each.
    fn read_table(&self, a: &Proc, budget: &mut Budget) -> Table {
        let spent = || {
            Table::Skipped(format!(
                "more than {MAX_FDS_PER_LOOKUP} descriptors among the ancestors (or {MAX_FDS_PER_FINDER} in this run); ancestor {} and above not looked at",
                a.pid
            ))
        };
        // not even listed when nothing is left (a long listing costs as much as its links)
        if budget.fds == 0 {
            return spent();
        }
        let fds = self.proc_root.join(a.pid.to_string()).join("fd");
        let entries = match std::fs::read_dir(&fds) {
            Ok(e) => e,
            Err(e) if matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM)) => {
                return Table::Unreadable
            }
            // it ended meanwhile, and its records with it
            Err(_) => return Table::Records(Vec::new(), Vec::new()),
        };
        let want = memfd_link(a.pid, a.starttime);
        let mut pidfd = None;
        let (mut found, mut ignored) = (Vec::new(), Vec::new());
        for entry in entries {
            if budget.fds == 0 {
                return spent();
            }
            budget.fds -= 1;
            let Ok(entry) = entry else { continue };
            let path = entry.path();
            let Some(n) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            if std::fs::read_link(&path)
                .ok()
                .and_then(|l| l.to_str().map(str::to_owned))
                != Some(want.clone())
            {
                continue;
            }
            // a memfd lives on the kernel's internal shmem mount: anything named like one
            // elsewhere (a FUSE file on a detached mount) is never copied or opened
            let on = mount_id(
                &self
                    .proc_root
                    .join(a.pid.to_string())
                    .join("fdinfo")
                    .join(n.to_string()),
            );
            if self.shm_mount.is_none() || on != self.shm_mount {
                ignored.push(Ignored {
                    why: format!(
                        "{}: not a memfd (mount {}), so not a record; not opened",
                        path.display(),
                        on.map_or("unknown".into(), |m| m.to_string())
                    ),
                    path,
                });
                continue;
            }
            let r = self
                .copy_record(a, &mut pidfd, n, &path, &want)
                .and_then(|f| check_record(f, a, budget));
            match r {
                Ok(r) => found.push((path, r)),
                Err(why) => ignored.push(Ignored {
                    why: format!("{}: {why}", path.display()),
                    path,
                }),
            }
        }
        Table::Records(found, ignored)
    }

    /// A descriptor of `a`'s record at descriptor `n`, checked to be the sealed memfd named
    /// `want`: copied with pidfd_getfd; opened through `path` only for a reader looking at its
    /// own user's process when the copy is refused.
    fn copy_record(
        &self,
        a: &Proc,
        pidfd: &mut Option<Result<OwnedFd, String>>,
        n: i32,
        path: &Path,
        want: &str,
    ) -> Result<File, String> {
        let pidfd = pidfd.get_or_insert_with(|| {
            let fd = notify::pidfd_open(a.pid as i32).map_err(|e| format!("pidfd_open: {e}"))?;
            // the pid may have been reused between the listing and the pidfd: the start time
            // says whether it is still the same process
            let stat = crate::read_text(&self.proc_root.join(a.pid.to_string()).join("stat"));
            if stat.as_deref().and_then(stat_starttime) != Some(a.starttime) {
                return Err("the process ended while being read".into());
            }
            Ok(fd)
        });
        let copied = match pidfd {
            Ok(p) => notify::pidfd_getfd(p.as_fd(), n).map(File::from),
            Err(e) => return Err(e.clone()),
        };
        let f = match copied {
            Ok(f) => f,
            // Yama, or no pidfd_getfd: a user may still open their own processes' records
            Err(e)
                if matches!(e.raw_os_error(), Some(libc::EPERM | libc::ENOSYS))
                    && self.euid != 0
                    && a.uid == self.euid =>
            {
                std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
                    .open(path)
                    .map_err(|e| format!("cannot open: {e}"))?
            }
            Err(e) => return Err(format!("cannot copy the descriptor: pidfd_getfd: {e}")),
        };
        // The number may have been given to another file since the look at its fdinfo: one on
        // another filesystem is never closed here, since closing a FUSE file waits for its
        // daemon's answer to FLUSH, which a hostile one never gives (left open instead: the
        // lookup's budget bounds how many).
        let fdinfo = self
            .proc_root
            .join("self/fdinfo")
            .join(f.as_raw_fd().to_string());
        if self.shm_mount.is_none() || mount_id(&fdinfo) != self.shm_mount {
            std::mem::forget(f);
            return Err(
                "replaced by a file of another filesystem while being read (left open: closing it could wait on that filesystem)"
                    .into(),
            );
        }
        let mine = self
            .proc_root
            .join("self/fd")
            .join(f.as_raw_fd().to_string());
        let now = std::fs::read_link(mine).map_err(|e| format!("cannot check: {e}"))?;
        if now.to_str() != Some(want) {
            return Err(format!("replaced while being read (by {})", now.display()));
        }
        // before anything else is asked of it: only a memfd carries these seals
        if !memfd::is_sealed(&f) {
            return Err("not sealed, so not a record confine wrote (or one being written)".into());
        }
        Ok(f)
    }
}

/// What is left of one lookup's work.
struct Budget {
    fds: usize,
    bytes: u64,
}

fn check_record(f: File, a: &Proc, budget: &mut Budget) -> Result<Record, String> {
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
    if m.len() > MAX_RECORD_BYTES {
        return Err(format!(
            "larger than {}",
            confine_input::size_words(MAX_RECORD_BYTES)
        ));
    }
    if m.len() > budget.bytes {
        return Err(format!(
            "not read: more than {} of records in one lookup",
            confine_input::size_words(MAX_BYTES_PER_LOOKUP)
        ));
    }
    budget.bytes -= m.len();
    // from offset 0 with pread: a copied descriptor shares the holder's file offset, which
    // is at the end of what it wrote (and must not be moved); sealed, so the size is final
    let mut b = vec![0; m.len() as usize];
    f.read_exact_at(&mut b, 0).map_err(|e| e.to_string())?;
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
