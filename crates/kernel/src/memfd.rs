//! Sealed anonymous files: a few bytes that live exactly as long as a descriptor to them does.
//! confine keeps its Landlock records this way, so that a killed `confine run` leaves nothing
//! behind: the kernel frees the file when the last descriptor closes, SIGKILL included.
//!
//! # References
//! * memfd_create(2) (`MFD_CLOEXEC`, `MFD_ALLOW_SEALING`; the name shows as
//!   `/memfd:NAME (deleted)` in `/proc/PID/fd`)
//! * fcntl(2), "File seals" (`F_ADD_SEALS`, `F_GET_SEALS`, `F_SEAL_*`)

use std::ffi::CStr;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// The seals [`sealed`] adds: nothing can change the contents or the size, nor the seals.
pub const SEALS: u32 =
    (libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE) as u32;

/// The longest memfd name the kernel takes (249 bytes, without the NUL).
pub const MAX_NAME: usize = 249;

/// The memfds [`sealed`] made that are still open, by descriptor number: the only ones with a
/// record's name that anything in this process owns (see [`close_foreign`]).
static OURS: std::sync::Mutex<Vec<RawFd>> = std::sync::Mutex::new(Vec::new());

/// A sealed memfd made by [`sealed`]; closed when dropped.
#[derive(Debug)]
pub struct Sealed(OwnedFd);

impl Drop for Sealed {
    fn drop(&mut self) {
        let n = self.0.as_raw_fd();
        let mut ours = OURS.lock().unwrap_or_else(|p| p.into_inner());
        ours.retain(|&f| f != n);
        // the OwnedFd closes after the number has left the list: a memfd of the same name that
        // later gets this number is not taken for ours
    }
}

impl AsFd for Sealed {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl AsRawFd for Sealed {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

/// A new memfd named `name` (close-on-exec, sealable) holding `data`, then sealed with
/// [`SEALS`]: from then on nobody, its creator included, can change it. The descriptor
/// returned is the only one; the file is freed when it and any copies are closed.
pub fn sealed(name: &CStr, data: &[u8]) -> io::Result<Sealed> {
    if name.to_bytes().len() > MAX_NAME {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    // held across the creation, so that close_foreign never sees it unlisted
    let mut ours = OURS.lock().unwrap_or_else(|p| p.into_inner());
    // SAFETY: `name` is NUL-terminated and outlives the call; memfd_create takes no other
    // pointer.
    let fd =
        unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: memfd_create just returned this descriptor, which nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    ours.push(fd.as_raw_fd());
    drop(ours);
    let fd = Sealed(fd);
    File::from(fd.0.try_clone()?).write_all(data)?;
    // SAFETY: fcntl(F_ADD_SEALS) on a descriptor borrowed for the call takes an int argument
    // and no pointer.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, SEALS as libc::c_int) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// Close every descriptor of this process that is a memfd named `prefix…` and was not made by
/// [`sealed`]: one inherited from whoever started the process (which would otherwise pass for
/// a record this process made). Returns how many were closed.
pub fn close_foreign(prefix: &str) -> io::Result<usize> {
    let want = format!("/memfd:{prefix}");
    let ours = OURS.lock().unwrap_or_else(|p| p.into_inner());
    let mut closed = 0;
    let mut theirs = Vec::new();
    for e in std::fs::read_dir("/proc/self/fd")? {
        let e = e?;
        let Some(n) = e.file_name().to_str().and_then(|n| n.parse::<RawFd>().ok()) else {
            continue;
        };
        let link = std::fs::read_link(e.path()).unwrap_or_default();
        if link.to_string_lossy().starts_with(&want) && !ours.contains(&n) {
            theirs.push(n);
        }
    }
    for n in theirs {
        // SAFETY: `n` is a memfd named like the ones `sealed` makes, yet not one of them (the
        // list is locked, so none is being made); confine makes such memfds only through
        // `sealed`, so no owner in this process will use or close this descriptor again.
        if unsafe { libc::close(n) } == 0 {
            closed += 1;
        }
    }
    Ok(closed)
}

/// The seals of the file `fd` refers to (`F_GET_SEALS`): `EINVAL` when it is not a file that
/// can carry seals (not a memfd or shmem file).
pub fn seals(fd: BorrowedFd<'_>) -> io::Result<u32> {
    // SAFETY: fcntl(F_GET_SEALS) on a descriptor borrowed for the call takes no argument.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r as u32)
}

/// Whether `fd` is a sealed file that nobody can change (all of [`SEALS`]).
pub fn is_sealed(fd: impl AsFd) -> bool {
    seals(fd.as_fd()).is_ok_and(|s| s & SEALS == SEALS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek};

    #[test]
    fn a_sealed_memfd_holds_its_bytes_and_refuses_change() {
        let fd = sealed(c"confine-test", b"hello").unwrap();
        assert!(is_sealed(&fd));
        let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
        assert_eq!(link.to_str().unwrap(), "/memfd:confine-test (deleted)");
        let mut f = File::from(fd.0.try_clone().unwrap());
        let e = f.write_all(b"x").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}");
        assert_eq!(f.set_len(1).unwrap_err().raw_os_error(), Some(libc::EPERM));
        f.rewind().unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello");
        // close-on-exec: the file's flags as procfs shows them (octal)
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", f.as_raw_fd())).unwrap();
        let flags = info
            .lines()
            .find_map(|l| l.strip_prefix("flags:"))
            .unwrap()
            .trim();
        assert_ne!(
            u32::from_str_radix(flags, 8).unwrap() & libc::O_CLOEXEC as u32,
            0,
            "{info}"
        );
    }

    #[test]
    fn foreign_memfds_of_the_prefix_are_closed_and_ours_kept() {
        let ours = sealed(c"confine-test-foreign:1", b"ours").unwrap();
        // a stand-in for an inherited one: made without `sealed`, so not listed
        let theirs = {
            // SAFETY: a NUL-terminated name; the raw descriptor is owned by nothing (only
            // close_foreign closes it).
            let fd = unsafe { libc::memfd_create(c"confine-test-foreign:2".as_ptr(), 0) };
            assert!(fd >= 0);
            fd
        };
        let other = sealed(c"confine-other", b"x").unwrap();
        assert_eq!(close_foreign("confine-test-foreign:").unwrap(), 1);
        // SAFETY: fcntl(F_GETFD) on integers
        assert_eq!(unsafe { libc::fcntl(theirs, libc::F_GETFD) }, -1, "closed");
        assert!(is_sealed(&ours) && is_sealed(&other));
        assert_eq!(close_foreign("confine-test-foreign:").unwrap(), 0);
        drop(ours);
    }

    #[test]
    fn a_regular_file_has_no_seals_and_a_long_name_is_refused() {
        let f = File::open("/proc/self/status").unwrap();
        assert!(!is_sealed(&f));
        let long = std::ffi::CString::new(vec![b'x'; MAX_NAME + 1]).unwrap();
        assert!(sealed(&long, b"").is_err());
        let most = std::ffi::CString::new(vec![b'x'; MAX_NAME]).unwrap();
        assert!(sealed(&most, b"").is_ok());
    }
}
