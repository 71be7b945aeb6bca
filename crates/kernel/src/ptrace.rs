//! Reading another process's seccomp filters with `PTRACE_SECCOMP_GET_FILTER`.
//!
//! Needs CAP_SYS_ADMIN in the initial user namespace, a caller that is not itself under
//! seccomp, and a kernel with CONFIG_CHECKPOINT_RESTORE. The tracee is seized, stopped with
//! PTRACE_INTERRUPT, read, and detached; index 0 is the oldest filter.
//!
//! # References
//! * ptrace(2): PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_SECCOMP_GET_FILTER (0x420c),
//!   PTRACE_SECCOMP_GET_METADATA (0x420d), PTRACE_DETACH

use confine_bpf::Insn;
use std::io;

// The request type is `c_uint` in glibc and `c_int` in musl; call sites cast with `as _`.
const PTRACE_SECCOMP_GET_FILTER: u32 = 0x420c;
const PTRACE_SECCOMP_GET_METADATA: u32 = 0x420d;

/// `struct seccomp_metadata` (linux/ptrace.h).
#[repr(C)]
struct Metadata {
    filter_off: u64,
    flags: u64,
}

/// One installed filter: the program and the flags it was installed with
/// (`SECCOMP_FILTER_FLAG_LOG` = 2 is the one the kernel reports).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// The classic-BPF program.
    pub prog: Vec<Insn>,
    /// Flags from PTRACE_SECCOMP_GET_METADATA (`None` when the kernel refused the request).
    pub flags: Option<u64>,
}

fn last() -> io::Error {
    io::Error::last_os_error()
}

/// Every seccomp filter of `pid`, oldest first, as the original classic-BPF programs.
pub fn seccomp_filters(pid: i32) -> io::Result<Vec<Vec<Insn>>> {
    Ok(seccomp_filters_with_flags(pid)?
        .into_iter()
        .map(|f| f.prog)
        .collect())
}

/// Every seccomp filter of `pid`, oldest first, with the flags each was installed with.
pub fn seccomp_filters_with_flags(pid: i32) -> io::Result<Vec<Filter>> {
    // SAFETY: ptrace requests with integer arguments; the tracee is released on every path.
    if unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0usize, 0usize) } != 0 {
        return Err(last());
    }
    let result = (|| {
        // SAFETY: PTRACE_INTERRUPT takes integer arguments; the tracee is ours (seized above).
        if unsafe { libc::ptrace(libc::PTRACE_INTERRUPT, pid, 0usize, 0usize) } != 0 {
            return Err(last());
        }
        let mut status = 0;
        // SAFETY: waiting for the group-stop of the seized tracee.
        if unsafe { libc::waitpid(pid, &mut status, libc::__WALL) } != pid {
            return Err(last());
        }
        let mut out = Vec::new();
        for index in 0usize.. {
            // SAFETY: with a NULL buffer the kernel only returns the instruction count.
            let n = unsafe {
                libc::ptrace(
                    PTRACE_SECCOMP_GET_FILTER as _,
                    pid,
                    index,
                    std::ptr::null_mut::<libc::c_void>(),
                )
            };
            if n < 0 {
                let e = last();
                if e.raw_os_error() == Some(libc::ENOENT)
                    || (index > 0 && e.raw_os_error() == Some(libc::EINVAL))
                {
                    break;
                }
                return Err(e);
            }
            let mut buf = vec![
                libc::sock_filter {
                    code: 0,
                    jt: 0,
                    jf: 0,
                    k: 0
                };
                n as usize
            ];
            // SAFETY: the buffer holds exactly the `n` instructions the kernel reported.
            let m = unsafe {
                libc::ptrace(PTRACE_SECCOMP_GET_FILTER as _, pid, index, buf.as_mut_ptr())
            };
            if m < 0 {
                return Err(last());
            }
            let mut md = Metadata {
                filter_off: index as u64,
                flags: 0,
            };
            // SAFETY: the kernel reads filter_off and writes flags in a struct of the size given.
            let r = unsafe {
                libc::ptrace(
                    PTRACE_SECCOMP_GET_METADATA as _,
                    pid,
                    std::mem::size_of::<Metadata>(),
                    &mut md as *mut Metadata,
                )
            };
            out.push(Filter {
                prog: buf
                    .iter()
                    .map(|f| Insn {
                        code: f.code,
                        jt: f.jt,
                        jf: f.jf,
                        k: f.k,
                    })
                    .collect(),
                flags: (r >= 0).then_some(md.flags),
            });
        }
        Ok(out)
    })();
    // SAFETY: detaching restarts the tracee.
    unsafe { libc::ptrace(libc::PTRACE_DETACH, pid, 0usize, 0usize) };
    result
}
