//! Which filesystem a path is on: `statfs(2)`'s `f_type`, to tell a mounted procfs from a
//! directory that only looks like one.
//!
//! # References
//! * statfs(2), include/uapi/linux/magic.h (`PROC_SUPER_MAGIC`)

use std::ffi::CString;
use std::io;
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
}
