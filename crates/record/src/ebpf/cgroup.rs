//! The recording's cgroup (v2): the processes whose calls the eBPF program counts. Made with
//! an unpredictable name under the cgroup2 mount, joined by the command's process as its last
//! step before execve (through a descriptor of its `cgroup.procs` opened here), emptied and
//! removed at the end. Stale ones (an empty `confine-record-PID-*` whose PID is gone, left by
//! a confine that was killed) are removed when the next recording starts.
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
    Ok(mount_of(&text))
}

/// The first cgroup2 mount point in mountinfo `text`.
fn mount_of(text: &str) -> Option<PathBuf> {
    text.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        if right.split(' ').next()? != "cgroup2" {
            return None;
        }
        left.split(' ').nth(4).map(|p| PathBuf::from(unescape(p)))
    })
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
}

fn random() -> io::Result<u64> {
    let mut b = [0u8; 8];
    File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(u64::from_ne_bytes(b))
}

/// Remove the empty recording cgroups under `root` whose confine is gone.
fn sweep(root: &Path) {
    let Ok(dir) = std::fs::read_dir(root) else {
        return;
    };
    for e in dir.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            // a populated one stays (rmdir says EBUSY): its processes still run
            let _ = std::fs::remove_dir(e.path());
        }
    }
}

impl Cgroup {
    /// A new cgroup under the cgroup2 mount `root`, after removing stale ones there.
    pub fn create(root: &Path) -> io::Result<Cgroup> {
        sweep(root);
        let dir = root.join(format!("{PREFIX}{}-{:016x}", std::process::id(), random()?));
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
            Ok(Cgroup {
                dir: dir.clone(),
                procs,
                id,
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

    /// Kill what is left in it (`cgroup.kill`, Linux 5.14), wait up to `wait` for it to be
    /// empty, and remove it.
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
            match std::fs::remove_dir(&self.dir) {
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
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cgroup2_mount_is_found_in_mountinfo() {
        let hybrid = "25 24 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n\
                      26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw\n";
        assert_eq!(mount_of(hybrid), Some("/sys/fs/cgroup/unified".into()));
        let odd = "30 1 0:30 / /mnt/my\\040cg rw - cgroup2 none rw\n";
        assert_eq!(mount_of(odd), Some("/mnt/my cg".into()));
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
        // a stale one of a pid that cannot be alive (above pid_max's ceiling)
        let stale = root.join(format!("{PREFIX}4194305-0"));
        std::fs::create_dir(&stale).unwrap();
        let cg = Cgroup::create(&root).unwrap();
        assert!(!stale.exists());
        let name = cg.dir().file_name().unwrap().to_str().unwrap().to_string();
        assert!(name.starts_with(&format!("{PREFIX}{}-", std::process::id())));
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
        let dir = cg.dir().to_path_buf();
        cg.remove(Duration::from_secs(5)).unwrap();
        assert!(!dir.exists());
        let st = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(st.signal(), Some(libc::SIGKILL));
    }

    fn is_root() -> bool {
        std::fs::metadata("/proc/self")
            .map(|m| m.uid())
            .unwrap_or(1)
            == 0
    }
}
