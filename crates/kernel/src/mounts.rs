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

/// Whether the mount holding `path` is read-only (statvfs `ST_RDONLY`); None when the path
/// does not exist.
pub fn is_readonly(path: &CStr) -> io::Result<Option<bool>> {
    // SAFETY: statvfs writes a plain struct we own; the path is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
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
    // SAFETY: stat writes a plain struct we own; the path is NUL-terminated.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
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

/// The mount points, from `mountinfo` text, of the kernel filesystems ([`KERNEL_FS`]) other
/// than /proc, /sys, /dev/pts and what lies under /proc and /sys (which the new procfs and the
/// read-only /sys take care of).
pub fn kernel_mounts_in(mountinfo: &str) -> Vec<CString> {
    mountinfo
        .lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let fstype = right.split(' ').next()?;
            let point = unescape(left.split(' ').nth(4)?);
            let p = point.as_slice();
            let handled = [&b"/proc"[..], b"/sys", b"/dev/pts"].contains(&p)
                || p.starts_with(b"/proc/")
                || p.starts_with(b"/sys/");
            (KERNEL_FS.contains(&fstype) && !handled)
                .then(|| CString::new(point).ok())
                .flatten()
        })
        .collect()
}

/// [`kernel_mounts_in`] for the calling process's mount namespace.
pub fn kernel_mounts_elsewhere() -> io::Result<Vec<CString>> {
    Ok(kernel_mounts_in(&std::fs::read_to_string(
        "/proc/self/mountinfo",
    )?))
}

/// Hide what is mounted at `path` under an empty read-only tmpfs (a path already hidden by
/// an earlier cover is skipped).
pub fn cover(path: &CStr) -> io::Result<()> {
    skip_missing(mount(
        Some(c"tmpfs"),
        path,
        Some(c"tmpfs"),
        libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
    ))
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
        let got: Vec<String> = kernel_mounts_in(info)
            .into_iter()
            .map(|c| c.into_string().unwrap())
            .collect();
        assert_eq!(
            got,
            ["/srv/chroot/x/proc", "/srv/chroot/x/dev/pts", "/mnt/my dir"]
        );
    }
}
