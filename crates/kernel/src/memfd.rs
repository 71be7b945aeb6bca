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
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// The seals [`sealed`] adds: nothing can change the contents or the size, nor the seals.
pub const SEALS: u32 =
    (libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE) as u32;

/// The longest memfd name the kernel takes (249 bytes, without the NUL).
pub const MAX_NAME: usize = 249;

/// A new memfd named `name` (close-on-exec, sealable) holding `data`, then sealed with
/// [`SEALS`]: from then on nobody, its creator included, can change it. The descriptor
/// returned is the only one; the file is freed when it and any copies are closed.
pub fn sealed(name: &CStr, data: &[u8]) -> io::Result<OwnedFd> {
    if name.to_bytes().len() > MAX_NAME {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    // SAFETY: `name` is NUL-terminated and outlives the call; memfd_create takes no other
    // pointer.
    let fd =
        unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: memfd_create just returned this descriptor, which nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    File::from(fd.try_clone()?).write_all(data)?;
    // SAFETY: fcntl(F_ADD_SEALS) on a descriptor borrowed for the call takes an int argument
    // and no pointer.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, SEALS as libc::c_int) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
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
        let mut f = File::from(fd);
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
    fn a_regular_file_has_no_seals_and_a_long_name_is_refused() {
        let f = File::open("/proc/self/status").unwrap();
        assert!(!is_sealed(&f));
        let long = std::ffi::CString::new(vec![b'x'; MAX_NAME + 1]).unwrap();
        assert!(sealed(&long, b"").is_err());
        let most = std::ffi::CString::new(vec![b'x'; MAX_NAME]).unwrap();
        assert!(sealed(&most, b"").is_ok());
    }
}
