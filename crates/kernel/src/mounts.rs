//! The mount steps of a private mount namespace, as runc takes them for a container's /proc,
//! /sys and /dev/pts: nothing propagates back (`/` becomes recursively private first), a fresh
//! procfs for the new pid namespace, a new devpts instance, read-only bind mounts over `readonlyPaths`, `/dev/null` or an
//! empty read-only tmpfs over `maskedPaths`, and /sys read-only with everything under it.
//!
//! These run in the namespace's first process, after clone and before the command is started;
//! a path that does not exist is skipped, as runc skips it.
//!
//! # References
//! * mount(2) (`MS_REC | MS_PRIVATE`, `MS_BIND`, `MS_RDONLY`), mount_setattr(2)
//!   (`AT_RECURSIVE`, `MOUNT_ATTR_RDONLY`, Linux 5.12)
//! * runc libcontainer/rootfs_linux.go (`maskPath`, `readonlyPath`)

use std::ffi::{CStr, CString};
use std::io;

const AT_RECURSIVE: libc::c_uint = 0x8000;
const MOUNT_ATTR_RDONLY: u64 = 0x1;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

fn check(r: libc::c_int) -> io::Result<()> {
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// mount(2) with optional source, type and no data.
fn mount(
    src: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: libc::c_ulong,
) -> io::Result<()> {
    let p = |s: Option<&CStr>| s.map_or(std::ptr::null(), CStr::as_ptr);
    // SAFETY: NUL-terminated strings or NULL, no data argument; the kernel copies them.
    check(unsafe { libc::mount(p(src), target.as_ptr(), p(fstype), flags, std::ptr::null()) })
}

/// Mount a new devpts instance on /dev/pts and its `ptmx` over /dev/ptmx, as runc does for a
/// container: the host's terminals (the caller's among them) are no longer reachable by path,
/// and a pty opened afterwards belongs to the new instance. Skipped when /dev/pts is missing.
pub fn mount_devpts() -> io::Result<()> {
    let data = c"newinstance,ptmxmode=0666,mode=0620";
    // SAFETY: NUL-terminated strings and data; the kernel copies them.
    let r = check(unsafe {
        libc::mount(
            c"devpts".as_ptr(),
            c"/dev/pts".as_ptr(),
            c"devpts".as_ptr(),
            libc::MS_NOSUID | libc::MS_NOEXEC,
            data.as_ptr().cast(),
        )
    });
    match r {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        Err(e) => Err(e),
        Ok(()) => skip_missing(mount(
            Some(c"/dev/pts/ptmx"),
            c"/dev/ptmx",
            None,
            libc::MS_BIND,
        )),
    }
}

/// Make every mount of the calling process's (new) mount namespace recursively private, so
/// that nothing mounted afterwards reaches the namespace it was copied from.
pub fn make_private() -> io::Result<()> {
    mount(None, c"/", None, libc::MS_REC | libc::MS_PRIVATE)
}

/// Mount a fresh procfs on /proc: it shows the calling process's pid namespace.
pub fn mount_proc() -> io::Result<()> {
    mount(
        Some(c"proc"),
        c"/proc",
        Some(c"proc"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
    )
}

/// Make the mount at `path`, and every mount under it, read-only (in this namespace only).
pub fn set_readonly_recursive(path: &CStr) -> io::Result<()> {
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: a NUL-terminated path and a valid mount_attr of the size passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            path.as_ptr(),
            AT_RECURSIVE,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn skip_missing(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        r => r,
    }
}

/// runc's `readonlyPath`: bind `path` onto itself and make it read-only, recursively.
pub fn readonly_path(path: &CStr) -> io::Result<()> {
    skip_missing(
        mount(Some(path), path, None, libc::MS_BIND | libc::MS_REC)
            .and_then(|()| set_readonly_recursive(path)),
    )
}

/// runc's `maskPath`: `/dev/null` over a file, an empty read-only tmpfs over a directory.
pub fn mask_path(path: &CStr) -> io::Result<()> {
    match mount(Some(c"/dev/null"), path, None, libc::MS_BIND) {
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => skip_missing(mount(
            Some(c"tmpfs"),
            path,
            Some(c"tmpfs"),
            libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        )),
        r => skip_missing(r),
    }
}

/// [`mask_path`] for many paths: the directories share one empty read-only tmpfs (the first
/// one mounted, bound over the others), which spares a new superblock for each.
pub fn mask_paths(paths: &[CString]) -> io::Result<()> {
    let mut first_dir: Option<&CStr> = None;
    for p in paths {
        match mount(Some(c"/dev/null"), p, None, libc::MS_BIND) {
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => match first_dir {
                Some(d) => skip_missing(mount(Some(d), p, None, libc::MS_BIND))?,
                None => {
                    skip_missing(mask_path(p))?;
                    first_dir = Some(p);
                }
            },
            r => skip_missing(r)?,
        }
    }
    Ok(())
}

/// Whether the mount holding `path` is read-only (statvfs `ST_RDONLY`); None when the path
/// does not exist.
pub fn is_readonly(path: &CStr) -> io::Result<Option<bool>> {
    // SAFETY: statvfs is plain data, for which all-zero bytes are a valid value.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: statvfs writes a plain struct we own; the path is NUL-terminated.
    let r = unsafe { libc::statvfs(path.as_ptr(), &mut st) };
    if r != 0 {
        let e = io::Error::last_os_error();
        return if e.raw_os_error() == Some(libc::ENOENT) {
            Ok(None)
        } else {
            Err(e)
        };
    }
    Ok(Some(st.f_flag & libc::ST_RDONLY != 0))
}

/// Whether `path` is hidden as [`mask_path`] hides it: missing, the null device, or an empty
/// read-only directory.
pub fn is_masked(path: &CStr) -> io::Result<bool> {
    // SAFETY: stat is plain data, for which all-zero bytes are a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: stat writes a plain struct we own; the path is NUL-terminated.
    if unsafe { libc::stat(path.as_ptr(), &mut st) } != 0 {
        let e = io::Error::last_os_error();
        return if e.raw_os_error() == Some(libc::ENOENT) {
            Ok(true)
        } else {
            Err(e)
        };
    }
    match st.st_mode & libc::S_IFMT {
        libc::S_IFCHR => Ok(st.st_rdev == libc::makedev(1, 3)),
        libc::S_IFDIR => {
            use std::os::unix::ffi::OsStrExt;
            let empty = std::fs::read_dir(std::ffi::OsStr::from_bytes(path.to_bytes()))
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
            Ok(empty && is_readonly(path)? == Some(true))
        }
        _ => Ok(false),
    }
}

/// The filesystem types that expose the host's processes, kernel settings or terminals.
const KERNEL_FS: [&str; 13] = [
    "proc",
    "sysfs",
    "devpts",
    "cgroup",
    "cgroup2",
    "debugfs",
    "tracefs",
    "securityfs",
    "bpf",
    "configfs",
    "efivarfs",
    "binfmt_misc",
    "fusectl",
];

/// Undo mountinfo's octal escapes (`\040` for a space, …).
fn unescape(field: &str) -> Vec<u8> {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// One line of mountinfo: the mount's id, its parent's, and where it is mounted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountEntry {
    /// The mount id.
    pub id: u64,
    /// The parent mount's id.
    pub parent: u64,
    /// The mount point, unescaped.
    pub point: CString,
    /// The filesystem type.
    pub fstype: String,
}

/// Parse mountinfo text.
pub fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    text.lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let mut f = left.split(' ');
            let id = f.next()?.parse().ok()?;
            let parent = f.next()?.parse().ok()?;
            let point = CString::new(unescape(f.nth(2)?)).ok()?;
            let fstype = right.split(' ').next()?.to_string();
            Some(MountEntry {
                id,
                parent,
                point,
                fstype,
            })
        })
        .collect()
}

/// The mounts, from `mountinfo` text, of the kernel filesystems (procfs, sysfs, devpts,
/// cgroup and the other control filesystems) other than /proc, /sys, /dev/pts and what lies
/// under /proc and /sys (which the new procfs and the read-only /sys take care of).
pub fn kernel_mounts_in(mountinfo: &str) -> Vec<MountEntry> {
    parse_mountinfo(mountinfo)
        .into_iter()
        .filter(|m| {
            let p = m.point.to_bytes();
            let handled = [&b"/proc"[..], b"/sys", b"/dev/pts"].contains(&p)
                || p.starts_with(b"/proc/")
                || p.starts_with(b"/sys/");
            KERNEL_FS.contains(&m.fstype.as_str()) && !handled
        })
        .collect()
}

/// [`kernel_mounts_in`] for the calling process's mount namespace.
pub fn kernel_mounts_elsewhere() -> io::Result<Vec<MountEntry>> {
    Ok(kernel_mounts_in(&std::fs::read_to_string(
        "/proc/self/mountinfo",
    )?))
}

/// Hide what is mounted at `path`: an empty read-only tmpfs over a directory, /dev/null over a
/// file (a path already hidden by an earlier cover is skipped).
pub fn cover(path: &CStr) -> io::Result<()> {
    mask_path(path)
}

/// Whether every mount of `kernel` is covered — something is mounted right on it at its mount
/// point — or lies under a covered one, by the table as it is now (`mountinfo` text).
pub fn all_covered(kernel: &[MountEntry], mountinfo: &str) -> bool {
    let now = parse_mountinfo(mountinfo);
    let covered = |m: &MountEntry| now.iter().any(|c| c.parent == m.id && c.point == m.point);
    let by_id = |id: u64| now.iter().find(|m| m.id == id);
    kernel.iter().all(|m| {
        let mut cur = Some(m.clone());
        for _ in 0..4096 {
            match cur {
                Some(ref x) if covered(x) => return true,
                Some(ref x) if x.parent != x.id => cur = by_id(x.parent).cloned(),
                _ => return false,
            }
        }
        false
    })
}

/// [`all_covered`] for the calling process's mount namespace, as an error when one is open.
pub fn check_covered(kernel: &[MountEntry]) -> io::Result<()> {
    if all_covered(kernel, &std::fs::read_to_string("/proc/self/mountinfo")?) {
        Ok(())
    } else {
        Err(io::Error::other(
            "a mount of procfs, sysfs or devpts outside /proc and /sys could not be covered",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_mounts_outside_proc_and_sys_are_found() {
        let info = "\
22 1 0:21 / /proc rw,nosuid - proc proc rw
23 1 0:22 / /sys rw - sysfs sysfs rw
24 23 0:23 / /sys/fs/cgroup rw - tmpfs tmpfs rw
25 1 0:24 / /dev/pts rw - devpts devpts rw
26 1 0:21 / /srv/chroot/x/proc rw - proc proc rw
27 1 0:24 / /srv/chroot/x/dev/pts rw - devpts devpts rw
28 1 0:25 / /mnt/my\\040dir rw - sysfs sysfs rw
29 22 0:26 / /proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw
30 1 8:1 / /home rw - ext4 /dev/sda1 rw
";
        let found = kernel_mounts_in(info);
        let got: Vec<String> = found
            .iter()
            .map(|m| m.point.to_str().unwrap().to_string())
            .collect();
        assert_eq!(
            got,
            ["/srv/chroot/x/proc", "/srv/chroot/x/dev/pts", "/mnt/my dir"]
        );
        // nothing covered yet
        assert!(!all_covered(&found, info));
        // covered right on each mount point (the third, under the first, by its parent)
        let after = format!(
            "{info}40 26 0:30 / /srv/chroot/x/proc ro - tmpfs tmpfs ro\n\
             41 27 0:31 / /srv/chroot/x/dev/pts ro - tmpfs tmpfs ro\n"
        );
        assert!(!all_covered(&found, &after), "/mnt/my dir is still open");
        let after = format!("{after}42 28 0:32 / /mnt/my\\040dir ro - tmpfs tmpfs ro\n");
        assert!(all_covered(&found, &after));
        // a cover that landed elsewhere (a symlink swapped in) does not count
        let swapped = format!(
            "{info}40 1 0:30 / /home/alice/elsewhere ro - tmpfs tmpfs ro\n\
             41 27 0:31 / /srv/chroot/x/dev/pts ro - tmpfs tmpfs ro\n\
             42 28 0:32 / /mnt/my\\040dir ro - tmpfs tmpfs ro\n"
        );
        assert!(!all_covered(&found, &swapped));
        // a kernel mount under a covered one counts as covered
        let nested = "\
26 1 0:21 / /srv/c/proc rw - proc proc rw
27 26 0:26 / /srv/c/proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw
";
        let found = kernel_mounts_in(nested);
        assert_eq!(found.len(), 2);
        let after = format!("{nested}40 26 0:30 / /srv/c/proc ro - tmpfs tmpfs ro\n");
        assert!(all_covered(&found, &after));
    }
}
