//! Which filesystem a path is on: `statfs(2)`'s `f_type`, to tell a mounted procfs from a
//! directory that only looks like one; and the `*at` calls that walk a directory tree one
//! component at a time without following symlinks (confine's Landlock records).
//!
//! # References
//! * statfs(2), include/uapi/linux/magic.h (`PROC_SUPER_MAGIC`)
//! * openat(2), mkdirat(2), unlinkat(2) (`O_NOFOLLOW`, `O_DIRECTORY`, `O_EXCL`)

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `PROC_SUPER_MAGIC`: the `f_type` of a procfs.
pub const PROC_SUPER_MAGIC: u64 = 0x9fa0;

/// The `f_type` (filesystem magic number) of the filesystem `path` is on.
pub fn filesystem_type(path: &Path) -> io::Result<u64> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: statfs is plain data, for which all-zero bytes are a valid value.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated string that outlives the call; `st` is plain data that
    // statfs fills in completely on success and that is read only then.
    let r = unsafe { libc::statfs(c.as_ptr(), &mut st) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // f_type is signed on some ABIs; the magic numbers are 32-bit
    Ok(st.f_type as u64 & 0xffff_ffff)
}

/// Where an `*at` call starts: a directory descriptor, or the current directory (for an
/// absolute name, neither matters).
fn at(dir: Option<BorrowedFd<'_>>) -> libc::c_int {
    dir.map_or(libc::AT_FDCWD, |d| d.as_raw_fd())
}

/// `openat(dir, name, flags | O_CLOEXEC, mode)`, the descriptor owned.
fn open_at(
    dir: Option<BorrowedFd<'_>>,
    name: &CStr,
    flags: libc::c_int,
    mode: libc::mode_t,
) -> io::Result<OwnedFd> {
    // SAFETY: `name` is NUL-terminated and outlives the call; `at(dir)` is a descriptor
    // borrowed for the call or AT_FDCWD; openat takes no other pointer.
    let fd = unsafe {
        libc::openat(
            at(dir),
            name.as_ptr(),
            flags | libc::O_CLOEXEC,
            libc::c_uint::from(mode),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: openat just returned this descriptor, which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Open the directory `name` in `dir` (`O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC`): a
/// symlink there fails with `ELOOP`, anything but a directory with `ENOTDIR`. `name` is one
/// component (or `/`): in a longer path, `O_NOFOLLOW` would guard the last one only.
///
/// # References
/// * openat(2)
pub fn open_dir_at(dir: Option<BorrowedFd<'_>>, name: &CStr) -> io::Result<OwnedFd> {
    open_at(
        dir,
        name,
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
        0,
    )
}

/// Create the directory `name` in `dir` with `mode` (less the umask).
///
/// # References
/// * mkdirat(2)
pub fn mkdir_at(dir: BorrowedFd<'_>, name: &CStr, mode: libc::mode_t) -> io::Result<()> {
    // SAFETY: `name` is NUL-terminated and outlives the call; `dir` is borrowed for it.
    let r = unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Create the regular file `name` in `dir` for writing, with `mode` (less the umask):
/// `O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC`, so an existing file or symlink of
/// that name fails with `EEXIST` and nothing is followed.
///
/// # References
/// * openat(2)
pub fn create_new_at(dir: BorrowedFd<'_>, name: &CStr, mode: libc::mode_t) -> io::Result<OwnedFd> {
    open_at(
        Some(dir),
        name,
        libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW,
        mode,
    )
}

/// Open `name` in `dir` for reading without following a symlink there and without blocking
/// or taking a terminal (`O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC`): the
/// caller checks the type of what it got with `fstat` (through `File::metadata`).
///
/// # References
/// * openat(2)
pub fn open_read_at(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<OwnedFd> {
    open_at(
        Some(dir),
        name,
        libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY,
        0,
    )
}

/// Remove the entry `name` (not a directory) from `dir`; a symlink is removed, not followed.
///
/// # References
/// * unlinkat(2)
pub fn unlink_at(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    // SAFETY: `name` is NUL-terminated and outlives the call; `dir` is borrowed for it.
    let r = unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_is_a_procfs_and_a_directory_is_not() {
        assert_eq!(
            filesystem_type(Path::new("/proc")).unwrap(),
            PROC_SUPER_MAGIC
        );
        assert_eq!(
            filesystem_type(Path::new("/proc/self")).unwrap(),
            PROC_SUPER_MAGIC
        );
        let dir = tempfile::tempdir().unwrap();
        assert_ne!(filesystem_type(dir.path()).unwrap(), PROC_SUPER_MAGIC);
        let e = filesystem_type(&dir.path().join("missing")).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
    }

    #[test]
    fn the_at_calls_create_read_and_remove_without_following_symlinks() {
        use std::io::{Read, Write};
        use std::os::fd::AsFd;
        let tmp = tempfile::tempdir().unwrap();
        let root = CString::new(tmp.path().as_os_str().as_bytes()).unwrap();
        let d = open_dir_at(None, &root).unwrap();
        mkdir_at(d.as_fd(), c"sub", 0o755).unwrap();
        let e = mkdir_at(d.as_fd(), c"sub", 0o755).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EEXIST));
        let sub = open_dir_at(Some(d.as_fd()), c"sub").unwrap();
        let mut f = std::fs::File::from(create_new_at(sub.as_fd(), c"f", 0o644).unwrap());
        f.write_all(b"hi").unwrap();
        let e = create_new_at(sub.as_fd(), c"f", 0o644).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EEXIST));
        let mut s = String::new();
        std::fs::File::from(open_read_at(sub.as_fd(), c"f").unwrap())
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "hi");
        // symlinks: to a directory, to a file, dangling; none is followed
        std::os::unix::fs::symlink(tmp.path().join("sub"), tmp.path().join("ld")).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("sub/f"), tmp.path().join("lf")).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("nothing"), tmp.path().join("ln")).unwrap();
        let eloop = |r: io::Result<OwnedFd>| r.unwrap_err().raw_os_error();
        assert_eq!(
            eloop(open_dir_at(Some(d.as_fd()), c"ld")),
            Some(libc::ENOTDIR)
        );
        assert_eq!(eloop(open_read_at(d.as_fd(), c"lf")), Some(libc::ELOOP));
        assert_eq!(
            eloop(create_new_at(d.as_fd(), c"ln", 0o644)),
            Some(libc::EEXIST)
        );
        assert!(!tmp.path().join("nothing").exists());
        assert_eq!(
            eloop(open_dir_at(Some(sub.as_fd()), c"f")),
            Some(libc::ENOTDIR)
        );
        unlink_at(d.as_fd(), c"lf").unwrap();
        assert!(tmp.path().join("sub/f").exists());
        unlink_at(sub.as_fd(), c"f").unwrap();
        assert!(!tmp.path().join("sub/f").exists());
    }
}
