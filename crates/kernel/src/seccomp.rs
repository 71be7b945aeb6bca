//! Installing a seccomp filter: `seccomp(2)` with flags, falling back to `prctl(2)`.
//!
//! # References
//! * seccomp(2), prctl(2) (`PR_SET_NO_NEW_PRIVS`, `PR_SET_SECCOMP`)
//! * kernel/seccomp.c: `seccomp_set_mode_filter`, `seccomp_prepare_filter`

use confine_bpf::Insn;
use std::os::fd::{FromRawFd, OwnedFd};

const SECCOMP_SET_MODE_FILTER: libc::c_uint = 1;
const SECCOMP_MODE_FILTER: libc::c_ulong = 2;

/// Filter flags for `seccomp(SECCOMP_SET_MODE_FILTER)` (include/uapi/linux/seccomp.h).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InstallFlags {
    /// `SECCOMP_FILTER_FLAG_TSYNC`: every thread of the process.
    pub tsync: bool,
    /// `SECCOMP_FILTER_FLAG_LOG`
    pub log: bool,
    /// `SECCOMP_FILTER_FLAG_SPEC_ALLOW`
    pub spec_allow: bool,
    /// `SECCOMP_FILTER_FLAG_NEW_LISTENER`: return a user-notification fd.
    pub new_listener: bool,
    /// `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`
    pub wait_killable_recv: bool,
}

impl InstallFlags {
    fn bits(self) -> libc::c_uint {
        let mut b = 0;
        if self.tsync {
            b |= 1;
        }
        if self.log {
            b |= 2;
        }
        if self.spec_allow {
            b |= 4;
        }
        if self.new_listener {
            b |= 8;
            if self.tsync {
                b |= 16; // TSYNC_ESRCH: required to combine TSYNC with NEW_LISTENER
            }
        }
        if self.wait_killable_recv {
            b |= 32;
        }
        b
    }
}

/// Why a filter could not be installed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    /// EACCES: neither no_new_privs nor CAP_SYS_ADMIN.
    #[error("the kernel refused the filter: no_new_privs is not set and the caller lacks CAP_SYS_ADMIN in its user namespace")]
    NeedNoNewPrivs,
    /// EINVAL: bad program, unknown flag, or no seccomp filter support.
    #[error("the kernel refused the filter (EINVAL): an invalid program, a flag this kernel does not know, or a kernel without CONFIG_SECCOMP_FILTER")]
    Invalid,
    /// ENOMEM: over the per-task budget of 32768 instructions across stacked filters.
    #[error("the kernel refused the filter (ENOMEM): the stacked filters of this task would exceed the kernel's instruction budget")]
    TooMuch,
    /// TSYNC failed: another thread could not be synchronised.
    #[error("thread {0} could not be synchronised to the new filter (TSYNC)")]
    ThreadSync(i64),
    /// The program is longer than the kernel's 4096 instructions.
    #[error("the program has {0} instructions; the kernel accepts at most 4096")]
    TooLong(usize),
    /// Any other error.
    #[error("installing the seccomp filter failed: {0}")]
    Os(std::io::Error),
}

/// This module's result: an error is a [`InstallError`].
pub type Result<T, E = InstallError> = std::result::Result<T, E>;

/// Set `no_new_privs` on the calling thread (inherited by children and kept over execve).
pub fn set_no_new_privs() -> std::io::Result<()> {
    // SAFETY: prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) takes only integers.
    let r = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A program in the kernel's `struct sock_filter` layout, converted ahead of time so that
/// installing it allocates nothing (it may run between fork and exec).
#[derive(Clone, Debug)]
pub struct Prepared {
    filter: Vec<libc::sock_filter>,
}

impl Prepared {
    /// Convert `prog`.
    pub fn new(prog: &[Insn]) -> Prepared {
        Prepared {
            filter: prog
                .iter()
                .map(|i| libc::sock_filter {
                    code: i.code,
                    jt: i.jt,
                    jf: i.jf,
                    k: i.k,
                })
                .collect(),
        }
    }

    /// The number of instructions.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.filter.len()
    }
}

/// Install `prog` as a seccomp filter on the calling thread (all threads with `tsync`).
/// Returns the listener fd when `new_listener` is set. Without flags, falls back to
/// `prctl(PR_SET_SECCOMP)` on kernels without the `seccomp()` syscall.
pub fn install(prog: &[Insn], flags: InstallFlags) -> Result<Option<OwnedFd>, InstallError> {
    install_prepared(&Prepared::new(prog), flags)
}

/// [`install`] for a program converted beforehand; makes no allocation.
pub fn install_prepared(
    p: &Prepared,
    flags: InstallFlags,
) -> Result<Option<OwnedFd>, InstallError> {
    let filter = &p.filter;
    if filter.len() > 4096 || filter.is_empty() {
        return Err(InstallError::TooLong(filter.len()));
    }
    let fprog = libc::sock_fprog {
        len: filter.len() as libc::c_ushort,
        filter: filter.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: `fprog` points at `filter`, which outlives the call; the kernel copies the
    // program during the call and keeps no pointer into our memory.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER as libc::c_long,
            flags.bits() as libc::c_long,
            &fprog as *const libc::sock_fprog,
        )
    };
    let err = std::io::Error::last_os_error();
    if r >= 0 {
        if flags.new_listener {
            // SAFETY: with NEW_LISTENER the kernel returns a fresh fd that we now own.
            return Ok(Some(unsafe { OwnedFd::from_raw_fd(r as i32) }));
        }
        if flags.tsync && r > 0 {
            return Err(InstallError::ThreadSync(r as i64));
        }
        return Ok(None);
    }
    if err.raw_os_error() == Some(libc::ENOSYS) && flags.bits() == 0 {
        // SAFETY: as above; prctl copies the program during the call.
        let r = unsafe {
            libc::prctl(
                libc::PR_SET_SECCOMP,
                SECCOMP_MODE_FILTER,
                &fprog as *const libc::sock_fprog,
            )
        };
        if r == 0 {
            return Ok(None);
        }
        return Err(classify(std::io::Error::last_os_error()));
    }
    Err(classify(err))
}

fn classify(e: std::io::Error) -> InstallError {
    match e.raw_os_error() {
        Some(libc::EACCES) => InstallError::NeedNoNewPrivs,
        Some(libc::EINVAL) => InstallError::Invalid,
        Some(libc::ENOMEM) => InstallError::TooMuch,
        _ => InstallError::Os(e),
    }
}
