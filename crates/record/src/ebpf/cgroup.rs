//! The recording's cgroup (v2): the processes whose calls the eBPF program counts. Made with
//! an unpredictable name under the cgroup2 mount, joined by the command's process as its last
//! step before execve (through a descriptor of its `cgroup.procs` opened here), emptied and
//! removed at the end, sub-cgroups the command made first (depth first). Stale ones (left by
//! a confine that was killed) are removed when the next recording starts: the name carries the
//! owner's pid and its start time (field 22 of /proc/PID/stat), and an entry is stale only
//! when no process has both; a populated one is never removed (rmdir says EBUSY) nor killed.
//!
//! # References
//! * Documentation/admin-guide/cgroup-v2.rst (`cgroup.procs`, `cgroup.events`,
//!   `cgroup.kill`, delegation containment); proc(5) (`mountinfo`)

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PREFIX: &str = "confine-record-";

/// Where the cgroup2 hierarchy is mounted, from /proc/self/mountinfo (the first cgroup2
/// mount: /sys/fs/cgroup on a unified system, /sys/fs/cgroup/unified on a hybrid one).
pub fn cgroup2_mount() -> io::Result<Option<PathBuf>> {
    let text = std::fs::read_to_string("/proc/self/mountinfo")?;
    Ok(mount_of(&text).map(|(p, _)| p))
}

/// The first cgroup2 mount point in mountinfo `text`, and the depth of the cgroup at its root
/// (mountinfo's fourth field: `/` for the hierarchy's root, depth 0, as seen from this
/// process's cgroup namespace).
fn mount_of(text: &str) -> Option<(PathBuf, u32)> {
    text.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        if right.split(' ').next()? != "cgroup2" {
            return None;
        }
        let mut f = left.split(' ');
        let root = f.nth(3)?;
        let point = f.next()?;
        let depth = unescape(root).split('/').filter(|c| !c.is_empty()).count();
        Some((PathBuf::from(unescape(point)), depth as u32))
    })
}

/// The level (depth below the hierarchy's root, as `struct cgroup`'s `level`) of the cgroup
/// at directory `dir` under the cgroup2 mount `root`, from mountinfo. In a cgroup namespace
/// the mount's root may be deeper than it says: the recording then sees no join and says so.
fn level_of(root: &Path, dir: &Path) -> io::Result<u32> {
    let text = std::fs::read_to_string("/proc/self/mountinfo")?;
    let (point, base) = mount_of(&text)
        .filter(|(p, _)| root.starts_with(p))
        .ok_or_else(|| io::Error::other("the cgroup2 mount is not in mountinfo"))?;
    let rel = dir
        .strip_prefix(&point)
        .map_err(|_| io::Error::other("the cgroup is outside the cgroup2 mount"))?;
    Ok(base + rel.components().count() as u32)
}

/// mountinfo's octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 4 <= b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A cgroup made for one recording.
#[derive(Debug)]
pub struct Cgroup {
    dir: PathBuf,
    procs: File,
    id: u64,
    level: u32,
}

fn random() -> io::Result<u64> {
    let mut b = [0u8; 8];
    File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(u64::from_ne_bytes(b))
}

/// The start time of process `pid` (field 22 of /proc/PID/stat, clock ticks since boot),
/// None when there is no such process.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_start_time(&stat)
}

/// Field 22 of a /proc/PID/stat line (the command name, field 2, is in parentheses and may
/// hold spaces and parentheses: the fields after it start after the last `)`).
fn stat_start_time(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // field 3 is the first after the name: field 22 is the 20th
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// The owner of a recording cgroup named `name`: (pid, start time), or (pid, None) for the
/// older `confine-record-PID-RANDOM` form.
fn owner_of(name: &str) -> Option<(u32, Option<u64>)> {
    let rest = name.strip_prefix(PREFIX)?;
    let parts: Vec<&str> = rest.split('-').collect();
    match parts[..] {
        [pid, start, _random] => Some((pid.parse().ok()?, Some(start.parse().ok()?))),
        [pid, _random] => Some((pid.parse().ok()?, None)),
        _ => None,
    }
}

/// Whether the recording cgroup `name` is stale: its owner (the pid with that start time) is
/// gone. `alive` gives a pid's start time.
fn is_stale(name: &str, alive: impl Fn(u32) -> Option<u64>) -> bool {
    match owner_of(name) {
        Some((pid, Some(start))) => alive(pid) != Some(start),
        Some((pid, None)) => alive(pid).is_none(),
        None => false,
    }
}

/// Remove the empty recording cgroups under `root` whose confine is gone (their empty
/// sub-cgroups first; a populated one stays: rmdir says EBUSY, its processes still run).
fn sweep(root: &Path) {
    let Ok(dir) = std::fs::read_dir(root) else {
        return;
    };
    for e in dir.flatten() {
        let name = e.file_name();
        if name.to_str().is_some_and(|n| is_stale(n, start_time)) {
            let _ = remove_tree(&e.path(), 0);
        }
    }
}

/// How deep a recording's sub-cgroups are followed when removing them.
const MAX_DEPTH: u32 = 64;

/// rmdir `dir` and the cgroups under it, deepest first (rmdir refuses a cgroup with children).
fn remove_tree(dir: &Path, depth: u32) -> io::Result<()> {
    if depth > MAX_DEPTH {
        return Err(io::Error::other(format!(
            "sub-cgroups deeper than {MAX_DEPTH} levels under {}",
            dir.display()
        )));
    }
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        // a cgroup's entries are its files and its child cgroups (directories)
        if e.file_type()?.is_dir() {
            remove_tree(&e.path(), depth + 1)?;
        }
    }
    std::fs::remove_dir(dir)
}

impl Cgroup {
    /// A new cgroup under the cgroup2 mount `root`, after removing stale ones there.
    pub fn create(root: &Path) -> io::Result<Cgroup> {
        sweep(root);
        let pid = std::process::id();
        let start = start_time(pid)
            .ok_or_else(|| io::Error::other("cannot read this process's start time"))?;
        let dir = root.join(format!("{PREFIX}{pid}-{start}-{:016x}", random()?));
        std::fs::create_dir(&dir)?;
        let made = (|| -> io::Result<Cgroup> {
            // std opens with O_CLOEXEC: the command's process writes to it before its execve,
            // and the command does not keep it
            let procs = OpenOptions::new()
                .write(true)
                .open(dir.join("cgroup.procs"))?;
            // the cgroup's id (bpf_get_current_cgroup_id) is its kernfs node id, which is the
            // directory's inode number on 64-bit kernels (kernfs_id_ino)
            let id = std::fs::metadata(&dir)?.ino();
            let level = level_of(root, &dir)?;
            Ok(Cgroup {
                dir: dir.clone(),
                procs,
                id,
                level,
            })
        })();
        if made.is_err() {
            let _ = std::fs::remove_dir(&dir);
        }
        made
    }

    /// The cgroup's id, as `bpf_get_current_cgroup_id` gives it.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Its level: its depth below the cgroup2 hierarchy's root (the ancestor level that
    /// `bpf_get_current_ancestor_cgroup_id` compares for a process in its subtree).
    pub fn level(&self) -> u32 {
        self.level
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its `cgroup.procs`, open for writing.
    pub fn procs(&self) -> &File {
        &self.procs
    }

    /// Whether a process is in it (`cgroup.events`: `populated 1`).
    pub fn populated(&self) -> io::Result<bool> {
        let text = std::fs::read_to_string(self.dir.join("cgroup.events"))?;
        Ok(text.lines().any(|l| l == "populated 1"))
    }

    /// Kill what is left in it and in its sub-cgroups (`cgroup.kill`, Linux 5.14, kills the
    /// whole subtree), wait up to `wait` for them to be empty, and remove them, deepest first.
    pub fn remove(self, wait: Duration) -> io::Result<()> {
        if self.populated()? {
            OpenOptions::new()
                .write(true)
                .open(self.dir.join("cgroup.kill"))
                .and_then(|mut f| f.write_all(b"1"))?;
        }
        let until = Instant::now() + wait;
        loop {
            // rmdir says EBUSY while a process (or a dying one) is in it
            match remove_tree(&self.dir, 0) {
                Ok(()) => return Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < until => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for Cgroup {
    /// An empty cgroup goes with its owner whatever the path out (an error, a panic); one
    /// still populated stays, for the next recording's sweep.
    fn drop(&mut self) {
        let _ = remove_tree(&self.dir, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cgroup2_mount_is_found_in_mountinfo() {
        let hybrid = "25 24 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n\
                      26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw\n";
        assert_eq!(mount_of(hybrid), Some(("/sys/fs/cgroup/unified".into(), 0)));
        let odd = "30 1 0:30 /a/b /mnt/my\\040cg rw - cgroup2 none rw\n";
        assert_eq!(mount_of(odd), Some(("/mnt/my cg".into(), 2)));
        assert_eq!(mount_of("20 1 0:20 / /proc rw - proc proc rw\n"), None);
    }

    #[test]
    fn a_cgroup_is_made_joined_and_removed() {
        let root = match cgroup2_mount() {
            Ok(Some(r)) if is_root() => r,
            _ => {
                eprintln!("skipped: needs root and a cgroup2 mount");
                return;
            }
        };
        // stale: a pid that cannot be alive (above pid_max's ceiling), with a sub-cgroup; this
        // process's pid with another start time; live: this process's pid and start time
        let me = std::process::id();
        let start = start_time(me).unwrap();
        let stale = root.join(format!("{PREFIX}4194305-0-0"));
        std::fs::create_dir_all(stale.join("sub")).unwrap();
        let reused = root.join(format!("{PREFIX}{me}-{}-0", start + 1));
        std::fs::create_dir(&reused).unwrap();
        let live = root.join(format!("{PREFIX}{me}-{start}-1"));
        std::fs::create_dir(&live).unwrap();
        let cg = Cgroup::create(&root).unwrap();
        assert!(!stale.exists());
        assert!(!reused.exists());
        assert!(live.exists());
        std::fs::remove_dir(&live).unwrap();
        let name = cg.dir().file_name().unwrap().to_str().unwrap().to_string();
        assert!(
            name.starts_with(&format!("{PREFIX}{me}-{start}-")),
            "{name}"
        );
        // directly under the mount: one below the mount's root
        let (_, base) =
            mount_of(&std::fs::read_to_string("/proc/self/mountinfo").unwrap()).unwrap();
        assert_eq!(cg.level(), base + 1);
        assert_eq!(cg.id(), std::fs::metadata(cg.dir()).unwrap().ino());
        assert!(!cg.populated().unwrap());
        // a process in it: populated, killed by remove, and the directory gone
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap();
        cg.procs()
            .write_all(child.id().to_string().as_bytes())
            .unwrap();
        assert!(cg.populated().unwrap());
        // and another in a sub-cgroup two levels down: killed too, both removed
        let sub = cg.dir().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        let mut grandchild = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap();
        std::fs::write(sub.join("cgroup.procs"), grandchild.id().to_string()).unwrap();
        let dir = cg.dir().to_path_buf();
        cg.remove(Duration::from_secs(5)).unwrap();
        assert!(!dir.exists());
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(grandchild.wait().unwrap().signal(), Some(libc::SIGKILL));
        let st = child.wait().unwrap();
        assert_eq!(st.signal(), Some(libc::SIGKILL));
    }

    #[test]
    fn the_owner_is_told_by_pid_and_start_time() {
        // a command name with spaces and parentheses; start time 4242 in field 22
        let mut stat = String::from("77 (a) b (c) S");
        for f in 4..=21 {
            stat.push_str(&format!(" {f}"));
        }
        stat.push_str(" 4242 0 0\n");
        assert_eq!(stat_start_time(&stat), Some(4242));
        assert_eq!(stat_start_time("77 (x) S 1 2"), None);
        assert_eq!(
            owner_of(&format!("{PREFIX}77-4242-00ff")),
            Some((77, Some(4242)))
        );
        assert_eq!(owner_of(&format!("{PREFIX}77-00ff")), Some((77, None)));
        assert_eq!(owner_of("something-else"), None);
        assert_eq!(owner_of(&format!("{PREFIX}x-1-2")), None);
        let alive = |pid: u32| (pid == 77).then_some(4242);
        // the owner itself: not stale
        assert!(!is_stale(&format!("{PREFIX}77-4242-00ff"), alive));
        // the pid reused by another process (another start time), or gone: stale
        assert!(is_stale(&format!("{PREFIX}77-4241-00ff"), alive));
        assert!(is_stale(&format!("{PREFIX}78-4242-00ff"), alive));
        // the older form: by pid only
        assert!(!is_stale(&format!("{PREFIX}77-00ff"), alive));
        assert!(is_stale(&format!("{PREFIX}78-00ff"), alive));
        // not ours: never
        assert!(!is_stale("user.slice", alive));
    }

    fn is_root() -> bool {
        std::fs::metadata("/proc/self")
            .map(|m| m.uid())
            .unwrap_or(1)
            == 0
    }
}
